/*
 * 4003: checkpoint files: written atomically (a failed write leaves the
 * previous checkpoint intact; no temporary file is left behind; a stale
 * temporary file from a crash is ignored), read back exactly, a corrupt
 * file (flipped byte, truncation, garbage) is BROOK_ERR_CORRUPT, a missing
 * one BROOK_ERR_NOT_FOUND.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/checkpoint.h"
#include "test.h"

static void write_raw(const char *path, const char *data, size_t len)
{
        FILE *fp = fopen(path, "wb");

        TEST_ASSERT(fp && fwrite(data, 1, len, fp) == len, "write %s", path);
        fclose(fp);
}

static char *read_raw(const char *path, size_t *lenp)
{
        FILE *fp = fopen(path, "rb");
        char *b = malloc(65536);

        TEST_ASSERT(fp && b, "read %s", path);
        *lenp = fread(b, 1, 65535, fp);
        b[*lenp] = '\0';
        fclose(fp);
        return b;
}

int main(void)
{
        char dir[] = "/tmp/brook-4003-XXXXXX", path[600], tmp[700], es[512];
        brook__ckpt_entry_t in[2], *out;
        size_t cnt, len;
        brook_err_t err;
        char *raw;

        TEST_ASSERT(mkdtemp(dir), "mkdtemp");
        snprintf(path, sizeof(path), "%s/.checkpoint", dir);
        snprintf(tmp, sizeof(tmp), "%s.tmp", path);

        /* missing */
        err = brook__checkpoint_read(path, &out, &cnt, es, sizeof(es));
        TEST_ASSERT(err == BROOK_ERR_NOT_FOUND, "missing: %s",
                    brook_err2name(err));

        /* write + read back */
        memset(in, 0, sizeof(in));
        strcpy(in[0].store, "counts");
        strcpy(in[0].topic, "app-counts-changelog");
        in[0].partition = 3;
        in[0].offset = 123456789012LL;
        strcpy(in[1].store, "other");
        strcpy(in[1].topic, "app-other-changelog");
        in[1].partition = 3;
        in[1].offset = 0;
        TEST_ASSERT(!brook__checkpoint_write(path, in, 2, es, sizeof(es)), "%s",
                    es);
        TEST_ASSERT(access(tmp, F_OK) != 0, "temporary file left behind");
        TEST_ASSERT(!brook__checkpoint_read(path, &out, &cnt, es, sizeof(es)),
                    "%s", es);
        TEST_ASSERT(cnt == 2 && !memcmp(&out[0], &in[0], sizeof(in[0])) &&
                        !memcmp(&out[1], &in[1], sizeof(in[1])),
                    "round trip");
        TEST_ASSERT(brook__checkpoint_find(out, cnt, "other")->offset == 0,
                    "find");
        free(out);
        raw = read_raw(path, &len);
        TEST_SAY("checkpoint file:\n%s", raw);

        /* A crash while writing leaves a stale temporary file: ignored. */
        write_raw(tmp, "garbage", 7);
        TEST_ASSERT(!brook__checkpoint_read(path, &out, &cnt, es, sizeof(es)) &&
                        cnt == 2,
                    "stale tmp file disturbs the read");
        free(out);
        unlink(tmp);

        /* A write that fails leaves the previous checkpoint intact: make
         * the temporary path a directory so open() fails. */
        TEST_ASSERT(!mkdir(tmp, 0755), "mkdir tmp");
        in[0].offset = 999;
        err = brook__checkpoint_write(path, in, 2, es, sizeof(es));
        TEST_ASSERT(err == BROOK_ERR_IO, "failing write: %s",
                    brook_err2name(err));
        TEST_SAY("failed write: %s", es);
        rmdir(tmp);
        TEST_ASSERT(!brook__checkpoint_read(path, &out, &cnt, es, sizeof(es)),
                    "%s", es);
        TEST_ASSERT(out[0].offset == 123456789012LL,
                    "old checkpoint damaged by a failed write");
        free(out);

        /* corrupt: one flipped digit (the CRC catches it) */
        raw[strlen("brook-checkpoint 1\n2\ncounts app-counts-changelog 3 1")] ^=
            1;
        write_raw(path, raw, len);
        err = brook__checkpoint_read(path, &out, &cnt, es, sizeof(es));
        TEST_ASSERT(err == BROOK_ERR_CORRUPT, "flipped byte: %s",
                    brook_err2name(err));
        TEST_SAY("flipped byte: %s", es);
        /* truncated */
        raw[strlen("brook-checkpoint 1\n2\ncounts app-counts-changelog 3 1")] ^=
            1;
        write_raw(path, raw, len - 5);
        err = brook__checkpoint_read(path, &out, &cnt, es, sizeof(es));
        TEST_ASSERT(err == BROOK_ERR_CORRUPT, "truncated: %s",
                    brook_err2name(err));
        /* garbage, empty */
        write_raw(path, "\x01\x02 not a checkpoint", 20);
        TEST_ASSERT(brook__checkpoint_read(path, &out, &cnt, es, sizeof(es)) ==
                        BROOK_ERR_CORRUPT,
                    "garbage");
        write_raw(path, "", 0);
        TEST_ASSERT(brook__checkpoint_read(path, &out, &cnt, es, sizeof(es)) ==
                        BROOK_ERR_CORRUPT,
                    "empty");
        /* the intact bytes again parse */
        write_raw(path, raw, len);
        TEST_ASSERT(!brook__checkpoint_read(path, &out, &cnt, es, sizeof(es)),
                    "%s", es);
        free(out);
        free(raw);
        /* names that would not parse back are refused */
        strcpy(in[0].store, "has space");
        TEST_ASSERT(brook__checkpoint_write(path, in, 1, es, sizeof(es)) ==
                        BROOK_ERR_INVALID_ARG,
                    "bad name");
        TEST_ASSERT(!brook__checkpoint_delete(path) && access(path, F_OK),
                    "delete");
        snprintf(path, sizeof(path), "rm -rf %s", dir);
        TEST_ASSERT(system(path) == 0, "cleanup");
        return 0;
}
