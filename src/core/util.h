/*
 * core/util.h: small helpers of the streams runtime and the stores: a
 * bump arena (records and serde output of one batch live in it and are
 * released together when the batch is done) and a growable pointer
 * vector. Not API.
 *
 * @locality the owner's thread; no locking.
 */
#ifndef BROOK__CORE_UTIL_H
#define BROOK__CORE_UTIL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

typedef struct brook__chunk_s brook__chunk_t;

typedef struct brook__arena_s {
        brook__chunk_t *head; /* current chunk, older ones behind it */
        size_t chunk_size;    /* default chunk payload size */
        size_t used_total;    /* bytes handed out since the last reset */
} brook__arena_t;

void brook__arena_init(brook__arena_t *a, size_t chunk_size);
/* Aligned to 16 bytes. NULL when out of memory. */
void *brook__arena_alloc(brook__arena_t *a, size_t size);
/* Copy @p size bytes of @p src; NULL when out of memory. */
void *brook__arena_dup(brook__arena_t *a, const void *src, size_t size);
/* Release everything but the first chunk. */
void brook__arena_reset(brook__arena_t *a);
void brook__arena_free(brook__arena_t *a);

/* A growable array of pointers. */
typedef struct brook__ptrvec_s {
        void **v;
        size_t cnt, cap;
} brook__ptrvec_t;

/* 0 on success, -1 when out of memory. */
int brook__ptrvec_push(brook__ptrvec_t *pv, void *p);
int brook__ptrvec_reserve(brook__ptrvec_t *pv, size_t cap);
void brook__ptrvec_free(brook__ptrvec_t *pv);

/* 8 bytes big-endian (Kafka's long) to and from int64. */
static inline void brook__be64_put(int64_t v, void *buf)
{
        uint64_t u = (uint64_t)v;
        unsigned char *b = buf;
        int i;

        for (i = 7; i >= 0; i--) {
                b[i] = (unsigned char)(u & 0xff);
                u >>= 8;
        }
}

static inline int64_t brook__be64_get(const void *buf)
{
        const unsigned char *b = buf;
        uint64_t u = 0;
        int i;

        for (i = 0; i < 8; i++)
                u = (u << 8) | b[i];
        return (int64_t)u;
}

/* FNV-1a hash of bytes. */
static inline uint64_t brook__hash(const void *data, size_t len)
{
        const unsigned char *p = data;
        uint64_t h = 1469598103934665603ull;
        size_t i;

        for (i = 0; i < len; i++)
                h = (h ^ p[i]) * 1099511628211ull;
        return h;
}

/* Bytewise key order: memcmp, shorter first on a common prefix. */
static inline int brook__keycmp(const void *a, size_t alen, const void *b,
                                size_t blen)
{
        size_t n = alen < blen ? alen : blen;
        int c = n ? __builtin_memcmp(a, b, n) : 0;

        if (c)
                return c;
        return alen < blen ? -1 : alen > blen ? 1 : 0;
}

/* A condition variable whose timed waits run on CLOCK_MONOTONIC (a wall
 * clock step must not stretch or cut a timeout). 0 or an errno. */
int brook__cond_init(pthread_cond_t *cv);

/* Wait on @p cv (initialised by brook__cond_init(), @p m locked) until
 * signalled or brook__now_us() reaches @p deadline_us. 0, or ETIMEDOUT. */
int brook__cond_wait_until(pthread_cond_t *cv, pthread_mutex_t *m,
                           int64_t deadline_us);

/* Split "host:port", "[v6]:port" or ":port" (empty host); 0 or -1. */
int brook__split_hostport(const char *s, char *host, size_t hsize, char *port,
                          size_t psize);

struct addrinfo;

/*
 * Resolve the "host:port" value of property @p name (socket type
 * @p socktype; @p passive: an address to listen on, where an empty host
 * means every interface). 0 with *@p aip to free with freeaddrinfo(), or
 * -1 with @p errstr naming the property (@p example: a valid value).
 */
int brook__resolve(const char *name, const char *value, int socktype,
                   int passive, const char *example, struct addrinfo **aip,
                   char *errstr, size_t errstr_size);

/* mkdir -p. 0 on success, -1 with errno. */
int brook__mkdirs(const char *path);

#endif /* BROOK__CORE_UTIL_H */
