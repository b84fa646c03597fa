/*
 * core/util.c: arena, pointer vector and directory helpers shared by the
 * streams runtime and the stores.
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/core.h"
#include "core/util.h"

struct brook__chunk_s {
        brook__chunk_t *next; /* older chunk */
        size_t size, used;
        /* payload follows, 16-byte aligned */
        _Alignas(16) unsigned char data[];
};

void brook__arena_init(brook__arena_t *a, size_t chunk_size)
{
        memset(a, 0, sizeof(*a));
        a->chunk_size = chunk_size ? chunk_size : 65536;
}

void *brook__arena_alloc(brook__arena_t *a, size_t size)
{
        brook__chunk_t *c = a->head;
        size_t need = (size + 15) & ~(size_t)15;
        void *p;

        if (!need)
                need = 16;
        if (!c || c->size - c->used < need) {
                size_t sz = need > a->chunk_size ? need : a->chunk_size;

                if (!(c = malloc(sizeof(*c) + sz)))
                        return NULL;
                c->size = sz;
                c->used = 0;
                c->next = a->head;
                a->head = c;
        }
        p = c->data + c->used;
        c->used += need;
        a->used_total += need;
        return p;
}

void *brook__arena_dup(brook__arena_t *a, const void *src, size_t size)
{
        void *p = brook__arena_alloc(a, size);

        if (p && size)
                memcpy(p, src, size);
        return p;
}

void brook__arena_reset(brook__arena_t *a)
{
        brook__chunk_t *c = a->head, *keep = NULL;

        /* Keep one chunk of the default size (the oldest is as good as
         * any); free the rest. */
        while (c) {
                brook__chunk_t *next = c->next;

                if (!keep && c->size == a->chunk_size) {
                        keep = c;
                        keep->used = 0;
                } else {
                        free(c);
                }
                c = next;
        }
        if (keep)
                keep->next = NULL;
        a->head = keep;
        a->used_total = 0;
}

void brook__arena_free(brook__arena_t *a)
{
        brook__chunk_t *c = a->head;

        while (c) {
                brook__chunk_t *next = c->next;

                free(c);
                c = next;
        }
        a->head = NULL;
        a->used_total = 0;
}

int brook__ptrvec_reserve(brook__ptrvec_t *pv, size_t cap)
{
        void **v;

        if (cap <= pv->cap)
                return 0;
        if (!(v = realloc(pv->v, cap * sizeof(*v))))
                return -1;
        pv->v = v;
        pv->cap = cap;
        return 0;
}

int brook__ptrvec_push(brook__ptrvec_t *pv, void *p)
{
        if (pv->cnt == pv->cap &&
            brook__ptrvec_reserve(pv, pv->cap ? pv->cap * 2 : 64))
                return -1;
        pv->v[pv->cnt++] = p;
        return 0;
}

void brook__ptrvec_free(brook__ptrvec_t *pv)
{
        free(pv->v);
        memset(pv, 0, sizeof(*pv));
}

int brook__mkdirs(const char *path)
{
        char buf[4096];
        size_t n = strlen(path), i;

        if (n == 0 || n >= sizeof(buf)) {
                errno = ENAMETOOLONG;
                return -1;
        }
        memcpy(buf, path, n + 1);
        for (i = 1; i <= n; i++) {
                if (buf[i] != '/' && buf[i] != '\0')
                        continue;
                buf[i] = '\0';
                if (mkdir(buf, 0755) && errno != EEXIST)
                        return -1;
                if (i < n)
                        buf[i] = '/';
        }
        return 0;
}

int brook__split_hostport(const char *s, char *host, size_t hsize, char *port,
                          size_t psize)
{
        const char *colon;

        if (*s == '[') {
                const char *end = strchr(s, ']');

                if (!end || end[1] != ':')
                        return -1;
                snprintf(host, hsize, "%.*s", (int)(end - s - 1), s + 1);
                colon = end + 1;
        } else {
                if (!(colon = strrchr(s, ':')))
                        return -1;
                snprintf(host, hsize, "%.*s", (int)(colon - s), s);
        }
        snprintf(port, psize, "%s", colon + 1);
        return *port ? 0 : -1;
}

int brook__cond_init(pthread_cond_t *cv)
{
        pthread_condattr_t a;
        int r;

        if ((r = pthread_condattr_init(&a)))
                return r;
        if (!(r = pthread_condattr_setclock(&a, CLOCK_MONOTONIC)))
                r = pthread_cond_init(cv, &a);
        pthread_condattr_destroy(&a);
        return r;
}

int brook__cond_wait_until(pthread_cond_t *cv, pthread_mutex_t *m,
                           int64_t deadline_us)
{
        struct timespec ts;

        ts.tv_sec = (time_t)(deadline_us / 1000000);
        ts.tv_nsec = (long)(deadline_us % 1000000) * 1000;
        return pthread_cond_timedwait(cv, m, &ts);
}

int brook__resolve(const char *name, const char *value, int socktype,
                   int passive, const char *example, struct addrinfo **aip,
                   char *errstr, size_t errstr_size)
{
        struct addrinfo hints;
        char host[256], port[32];
        int rc;

        *aip = NULL;
        if (brook__split_hostport(value, host, sizeof(host), port,
                                  sizeof(port)) ||
            (!passive && !*host)) {
                brook__errstr(errstr, errstr_size,
                              "%s: \"%s\" is not host:port (e.g. %s)", name,
                              value, example);
                return -1;
        }
        memset(&hints, 0, sizeof(hints));
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = socktype;
        hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
        if ((rc = getaddrinfo(*host ? host : NULL, port, &hints, aip))) {
                brook__errstr(errstr, errstr_size,
                              "%s: cannot resolve \"%s\": %s", name, value,
                              gai_strerror(rc));
                *aip = NULL;
                return -1;
        }
        return 0;
}
