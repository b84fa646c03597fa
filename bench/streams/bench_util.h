/*
 * bench_util.h: helpers shared by the streams benchmark programs
 * (bench-countbykey, bench-seed): clocks, resource usage, topic metadata,
 * a byte-counting deserializer and a one-line JSON writer.
 *
 * Header-only: every bench/<area>/<name>.c is its own program.
 */
#ifndef BROOK_BENCH_UTIL_H
#define BROOK_BENCH_UTIL_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

#include "brook/brook.h"

static inline double bu_now(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Process CPU time, user + system, all threads. */
static inline double bu_cpu(void)
{
        struct rusage ru;

        getrusage(RUSAGE_SELF, &ru);
        return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
               (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* A field of /proc/self/status in kB ("VmHWM:", "VmRSS:"), -1 if absent. */
static inline long bu_status_kb(const char *field)
{
        FILE *fp = fopen("/proc/self/status", "r");
        char line[256];
        long v = -1;

        if (!fp)
                return -1;
        while (fgets(line, sizeof(line), fp))
                if (!strncmp(line, field, strlen(field)))
                        v = atol(line + strlen(field));
        fclose(fp);
        return v;
}

/*
 * Partition count of @p topic (0: missing) and, with @p recordsp, the
 * records it holds (sum of high - low watermarks).
 */
static inline int bu_topic_info(const char *brokers, const char *topic,
                                long long *recordsp)
{
        rd_kafka_conf_t *rkc = rd_kafka_conf_new();
        const struct rd_kafka_metadata *md;
        char es[512];
        rd_kafka_t *rk;
        int i, p, n = 0;

        if (recordsp)
                *recordsp = 0;
        rd_kafka_conf_set(rkc, "bootstrap.servers", brokers, es, sizeof(es));
        if (!(rk = rd_kafka_new(RD_KAFKA_PRODUCER, rkc, es, sizeof(es))))
                return 0;
        if (!rd_kafka_metadata(rk, 1, NULL, &md, 10000)) {
                for (i = 0; i < md->topic_cnt; i++)
                        if (!strcmp(md->topics[i].topic, topic) &&
                            !md->topics[i].err)
                                n = md->topics[i].partition_cnt;
                rd_kafka_metadata_destroy(md);
        }
        for (p = 0; recordsp && p < n; p++) {
                int64_t lo = 0, hi = 0;

                if (!rd_kafka_query_watermark_offsets(rk, topic, p, &lo, &hi,
                                                      10000))
                        *recordsp += hi - lo;
        }
        rd_kafka_destroy(rk);
        return n;
}

/*
 * Bytes of deserialized keys and values, per stream thread: each thread
 * adds to its own padded slot (no atomic read-modify-write on the hot
 * path), the main thread sums them at the end.
 */
#define BU_SLOTS 64
typedef struct bu_slot_s {
        long long bytes;
        char pad[56];
} bu_slot_t;
static bu_slot_t bu_slots[BU_SLOTS];
static int bu_nslots;
static _Thread_local bu_slot_t *bu_mine;

static inline void bu_count_bytes(size_t len)
{
        if (!bu_mine) {
                int i = __atomic_fetch_add(&bu_nslots, 1, __ATOMIC_RELAXED);

                bu_mine = &bu_slots[i % BU_SLOTS];
        }
        __atomic_store_n(&bu_mine->bytes,
                         __atomic_load_n(&bu_mine->bytes, __ATOMIC_RELAXED) +
                             (long long)len,
                         __ATOMIC_RELAXED);
}

static inline long long bu_bytes(void)
{
        long long n = 0;
        int i;

        for (i = 0; i < BU_SLOTS; i++)
                n += __atomic_load_n(&bu_slots[i].bytes, __ATOMIC_RELAXED);
        return n;
}

/* Zero-copy bytes deserializer that counts what it sees. */
static inline brook_err_t bu_counting_deser(brook_serde_out_t *out,
                                            const void *data, size_t len,
                                            void *opaque)
{
        (void)opaque;
        bu_count_bytes(len);
        brook_serde_out_set(out, data, len);
        return BROOK_OK;
}

/* One JSON object on one line: bu_json_*() fields, then bu_json_end(). */
typedef struct bu_json_s {
        char buf[8192];
        size_t len;
} bu_json_t;

static inline void bu_json_raw(bu_json_t *j, const char *name, const char *fmt,
                               ...) __attribute__((format(printf, 3, 4)));

static inline void bu_json_raw(bu_json_t *j, const char *name, const char *fmt,
                               ...)
{
        va_list ap;

        if (j->len >= sizeof(j->buf) - 1)
                return;
        j->len += (size_t)snprintf(j->buf + j->len, sizeof(j->buf) - j->len,
                                   "%s\"%s\":", j->len > 1 ? "," : "", name);
        if (j->len >= sizeof(j->buf) - 1)
                return;
        va_start(ap, fmt);
        j->len += (size_t)vsnprintf(j->buf + j->len, sizeof(j->buf) - j->len,
                                    fmt, ap);
        va_end(ap);
}

static inline void bu_json_begin(bu_json_t *j)
{
        j->buf[0] = '{';
        j->buf[1] = '\0';
        j->len = 1;
}

static inline void bu_json_str(bu_json_t *j, const char *name, const char *v)
{
        char esc[1024];
        size_t o = 0;

        for (; v && *v && o + 2 < sizeof(esc); v++) {
                if (*v == '"' || *v == '\\')
                        esc[o++] = '\\';
                esc[o++] = (char)(*v == '\n' ? ' ' : *v);
        }
        esc[o] = '\0';
        bu_json_raw(j, name, "\"%s\"", esc);
}

static inline void bu_json_int(bu_json_t *j, const char *name, long long v)
{
        bu_json_raw(j, name, "%lld", v);
}

/* Rounded to 3 decimals; NaN/negative as null. */
static inline void bu_json_num(bu_json_t *j, const char *name, double v)
{
        if (v != v || v < 0)
                bu_json_raw(j, name, "null");
        else
                bu_json_raw(j, name, "%.3f", v);
}

static inline void bu_json_end(bu_json_t *j)
{
        printf("%s}\n", j->buf);
        fflush(stdout);
}

#endif /* BROOK_BENCH_UTIL_H */
