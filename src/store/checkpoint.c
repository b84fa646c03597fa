/*
 * store/checkpoint.c: atomic checkpoint files. See store/checkpoint.h for the
 * format.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/checkpoint.h"

#define MAGIC       "brook-checkpoint 1\n"
#define MAX_FILE    (1 << 20)
#define MAX_ENTRIES 4096

static uint32_t crc_table[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void)
{
        uint32_t k, c;

        for (k = 0; k < 256; k++) {
                c = k;
                for (int j = 0; j < 8; j++)
                        c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
                crc_table[k] = c;
        }
}

uint32_t brook__crc32(uint32_t crc, const void *data, size_t len)
{
        const unsigned char *p = data;
        size_t i;

        pthread_once(&crc_once, crc_init);
        crc = ~crc;
        for (i = 0; i < len; i++)
                crc = crc_table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
        return ~crc;
}

/* Names are written space-separated: refuse what would not parse back. */
static int name_ok(const char *s)
{
        if (!*s)
                return 0;
        for (; *s; s++)
                if ((unsigned char)*s <= ' ')
                        return 0;
        return 1;
}

static int write_all(int fd, const char *buf, size_t len)
{
        while (len) {
                ssize_t n = write(fd, buf, len);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return -1;
                buf += n;
                len -= (size_t)n;
        }
        return 0;
}

brook_err_t brook__checkpoint_write(const char *path,
                                    const brook__ckpt_entry_t *entries,
                                    size_t cnt, char *errstr,
                                    size_t errstr_size)
{
        size_t cap = 64 + cnt * 600, len = 0, i;
        char *buf, tmp[4096], dir[4096];
        int fd, dfd;

        if (cnt > MAX_ENTRIES)
                return BROOK_ERR_INVALID_ARG;
        for (i = 0; i < cnt; i++)
                if (!name_ok(entries[i].store) || !name_ok(entries[i].topic))
                        return BROOK_ERR_INVALID_ARG;
        if (!(buf = malloc(cap)))
                return BROOK_ERR_NO_MEM;
        len += (size_t)snprintf(buf + len, cap - len, MAGIC "%zu\n", cnt);
        for (i = 0; i < cnt; i++)
                len += (size_t)snprintf(buf + len, cap - len, "%s %s %d %lld\n",
                                        entries[i].store, entries[i].topic,
                                        (int)entries[i].partition,
                                        (long long)entries[i].offset);
        len += (size_t)snprintf(buf + len, cap - len, "crc32 %08x\n",
                                brook__crc32(0, buf, len));
        snprintf(tmp, sizeof(tmp), "%s.tmp", path);
        if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) <
            0)
                goto fail;
        if (write_all(fd, buf, len) || fsync(fd)) {
                close(fd);
                unlink(tmp);
                goto fail;
        }
        if (close(fd) || rename(tmp, path)) {
                unlink(tmp);
                goto fail;
        }
        /* Make the rename itself durable. */
        snprintf(dir, sizeof(dir), "%s", path);
        if ((dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >=
            0) {
                fsync(dfd);
                close(dfd);
        }
        free(buf);
        return BROOK_OK;
fail:
        brook__errstr(errstr, errstr_size, "checkpoint %s: %s", path,
                      strerror(errno));
        free(buf);
        return BROOK_ERR_IO;
}

static brook_err_t corrupt(char *errstr, size_t errstr_size, const char *path,
                           const char *why)
{
        brook__errstr(errstr, errstr_size, "checkpoint %s is corrupt: %s", path,
                      why);
        return BROOK_ERR_CORRUPT;
}

/* Parse the body (after the magic line) of a CRC-checked file. */
static brook_err_t parse(char *p, const char *path, brook__ckpt_entry_t **ep,
                         size_t *cntp, char *errstr, size_t errstr_size)
{
        brook__ckpt_entry_t *e;
        unsigned long long cnt;
        char *end;
        size_t i;

        cnt = strtoull(p, &end, 10);
        if (end == p || *end != '\n' || cnt > MAX_ENTRIES)
                return corrupt(errstr, errstr_size, path, "bad entry count");
        p = end + 1;
        if (!(e = calloc(cnt ? cnt : 1, sizeof(*e))))
                return BROOK_ERR_NO_MEM;
        for (i = 0; i < cnt; i++) {
                int part, n = 0;
                long long off;
                char fmt[64];

                snprintf(fmt, sizeof(fmt), "%%%zus %%%zus %%d %%lld%%n",
                         sizeof(e[i].store) - 1, sizeof(e[i].topic) - 1);
                if (sscanf(p, fmt, e[i].store, e[i].topic, &part, &off, &n) !=
                        4 ||
                    p[n] != '\n' || part < 0 || off < 0) {
                        free(e);
                        return corrupt(errstr, errstr_size, path,
                                       "bad entry line");
                }
                e[i].partition = part;
                e[i].offset = off;
                p += n + 1;
        }
        if (strncmp(p, "crc32 ", 6)) {
                free(e);
                return corrupt(errstr, errstr_size, path,
                               "entry count "
                               "does not match");
        }
        *ep = e;
        *cntp = cnt;
        return BROOK_OK;
}

brook_err_t brook__checkpoint_read(const char *path,
                                   brook__ckpt_entry_t **entriesp, size_t *cntp,
                                   char *errstr, size_t errstr_size)
{
        struct stat st;
        char *buf, *crcl;
        unsigned int want;
        size_t len;
        brook_err_t err;
        FILE *fp;

        *entriesp = NULL;
        *cntp = 0;
        if (!(fp = fopen(path, "rb"))) {
                if (errno == ENOENT) {
                        brook__errstr(errstr, errstr_size,
                                      "checkpoint %s does not exist", path);
                        return BROOK_ERR_NOT_FOUND;
                }
                brook__errstr(errstr, errstr_size, "checkpoint %s: %s", path,
                              strerror(errno));
                return BROOK_ERR_IO;
        }
        if (fstat(fileno(fp), &st) || st.st_size > MAX_FILE) {
                fclose(fp);
                return corrupt(errstr, errstr_size, path, "too large");
        }
        if (!(buf = malloc((size_t)st.st_size + 1))) {
                fclose(fp);
                return BROOK_ERR_NO_MEM;
        }
        len = fread(buf, 1, (size_t)st.st_size, fp);
        fclose(fp);
        buf[len] = '\0';
        if (len != (size_t)st.st_size || memchr(buf, '\0', len)) {
                free(buf);
                return corrupt(errstr, errstr_size, path, "short read");
        }
        if (strncmp(buf, MAGIC, strlen(MAGIC))) {
                free(buf);
                return corrupt(errstr, errstr_size, path,
                               "missing \"brook-checkpoint 1\" header");
        }
        /* The CRC line is the last line and covers everything before. */
        crcl = len >= 16 ? buf + len - 15 : NULL;
        if (!crcl || strncmp(crcl, "crc32 ", 6) || buf[len - 1] != '\n' ||
            sscanf(crcl + 6, "%8x", &want) != 1 ||
            brook__crc32(0, buf, (size_t)(crcl - buf)) != want) {
                free(buf);
                return corrupt(errstr, errstr_size, path, "CRC mismatch");
        }
        err = parse(buf + strlen(MAGIC), path, entriesp, cntp, errstr,
                    errstr_size);
        free(buf);
        return err;
}

brook_err_t brook__checkpoint_delete(const char *path)
{
        char tmp[4096];

        snprintf(tmp, sizeof(tmp), "%s.tmp", path);
        unlink(tmp);
        if (unlink(path) && errno != ENOENT)
                return BROOK_ERR_IO;
        return BROOK_OK;
}

const brook__ckpt_entry_t *
brook__checkpoint_find(const brook__ckpt_entry_t *entries, size_t cnt,
                       const char *store)
{
        size_t i;

        for (i = 0; i < cnt; i++)
                if (!strcmp(entries[i].store, store))
                        return &entries[i];
        return NULL;
}
