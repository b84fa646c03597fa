/*
 * telemetry/metrics.h: the metrics registry's structures, shared by
 * telemetry/metrics.c (updates, Prometheus text, lag) and telemetry/statsd.c
 * (DogStatsD). Not API.
 *
 * One registry per owner (consumer). Per-topic series live on an
 * append-only list that is published with a release store and never
 * freed before the registry: readers (scrapes, StatsD flushes, updates)
 * walk it without a lock. Values are relaxed atomics. The lag table
 * holds one slice per statistics source (each librdkafka consumer of the
 * owner: a streams instance has one per stream thread); a source's slice
 * is replaced as a whole under `lock` (once per statistics interval).
 */
#ifndef BROOK__TELEMETRY_METRICS_H
#define BROOK__TELEMETRY_METRICS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "telemetry/telemetry.h"

#define BROOK__HIST_MAX 16 /* finite buckets per histogram */

typedef atomic_uint_least64_t brook__ctr_t;

/* Bucket layout of a histogram family (static). */
typedef struct brook__hdef_s {
        const int64_t *bounds; /* upper bounds, increasing, in units */
        size_t nb;
        double scale; /* units per exported unit (1e6: us -> s) */
} brook__hdef_t;

/* Per bucket (last: +Inf) the count and the sum of the observations, so
 * that StatsD can send each bucket's exact mean; the Prometheus _sum is
 * the sum of the bucket sums. */
typedef struct brook__hist_s {
        brook__ctr_t b[BROOK__HIST_MAX + 1];
        brook__ctr_t bsum[BROOK__HIST_MAX + 1]; /* in units */
} brook__hist_t;

/* Batch outcomes (status label), message outcomes. */
enum { BROOK__ST_OK, BROOK__ST_PARTIAL, BROOK__ST_FAILED, BROOK__ST__CNT };
enum { BROOK__MS_OK, BROOK__MS_FAILED, BROOK__MS__CNT };

/* StatsD's view of the last flush (owned by the flusher). */
typedef struct brook__sdprev_s {
        uint64_t batches[BROOK__ST__CNT];
        uint64_t msgs[BROOK__MS__CNT];
        uint64_t dl_sent, dl_failed;
        uint64_t dur[BROOK__HIST_MAX + 1], dur_sum[BROOK__HIST_MAX + 1];
        uint64_t size[BROOK__HIST_MAX + 1], size_sum[BROOK__HIST_MAX + 1];
} brook__sdprev_t;

typedef struct brook__mtopic_s {
        struct brook__mtopic_s *next; /* immutable once published */
        char *topic;
        brook__ctr_t batches[BROOK__ST__CNT];
        brook__ctr_t msgs[BROOK__MS__CNT];
        brook__ctr_t dl_sent, dl_failed;
        brook__hist_t dur;  /* microseconds */
        brook__hist_t size; /* messages */
        brook__sdprev_t sd; /* @locality the StatsD flusher */
} brook__mtopic_t;

typedef struct brook__lag_s {
        char *topic;
        int32_t partition;
        int64_t lag;
        int src; /* the statistics source (consumer) it came from */
} brook__lag_t;

struct brook__metrics_s {
        char kind[16];
        char *group;
        int single_writer; /* updates from one thread only: see ctr_add */
        _Atomic(brook__mtopic_t *) topics;
        atomic_int inflight;
        pthread_mutex_t lock; /* topic insertion; the lag table */
        brook__lag_t *lags;   /* @locks lock */
        size_t nlags;
};

extern const brook__hdef_t brook__hdef_duration, brook__hdef_size;

/* The series of @p topic, created on first use (NULL: out of memory). */
brook__mtopic_t *brook__metrics_topic(brook__metrics_t *m, const char *topic);

/* Copy of the lag table (free with brook__lags_free). */
brook__lag_t *brook__metrics_lags(brook__metrics_t *m, size_t *cntp);
void brook__lags_free(brook__lag_t *l, size_t cnt);

static inline uint64_t brook__ctr_get(const brook__ctr_t *c)
{
        return atomic_load_explicit((brook__ctr_t *)c, memory_order_relaxed);
}

/* Sum of a histogram's observations, in units. */
static inline uint64_t brook__hist_sum(const brook__hist_t *h)
{
        uint64_t s = 0;
        size_t i;

        for (i = 0; i <= BROOK__HIST_MAX; i++)
                s += brook__ctr_get(&h->bsum[i]);
        return s;
}

#endif /* BROOK__TELEMETRY_METRICS_H */
