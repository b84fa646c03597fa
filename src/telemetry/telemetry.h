/*
 * telemetry/telemetry.h: events, metrics, exporters and span hooks of one owner
 * (a consumer, or a streams instance). Not API.
 *
 * The owner creates one brook__tel_t with brook__tel_new() and reports what
 * happens through the brook__tel_*() calls below; the telemetry layer knows
 * nothing about the owner (it uses conf, the logger and the public batch
 * and message accessors only). Names derive from the owner's kind:
 * events "brook.<kind>.batch.start", metrics "brook_<kind>_batch_size".
 *
 * Threads:
 *  - brook__tel_active() is one atomic load: owners test it before
 *    building anything for events or spans.
 *  - batch_start / batch_stop / batch_exception may be called from any
 *    thread, concurrently (batch threads in async mode).
 *  - metric updates are lock-free (relaxed atomics on per-topic series
 *    that are never freed before brook__tel_destroy()).
 *  - brook__tel_tick() and brook__tel_flush() are called by the owner's
 *    loop thread(s); they serialise on an internal try-lock.
 *  - the HTTP listener (libmicrohttpd's thread) only reads.
 */
#ifndef BROOK__TELEMETRY_TELEMETRY_H
#define BROOK__TELEMETRY_TELEMETRY_H

#include <pthread.h>
#include <stdatomic.h>

#include "brook/telemetry.h"
#include "core/conf.h"
#include "core/log.h"

typedef struct brook_telemetry_s brook__tel_t;
typedef struct brook__metrics_s brook__metrics_t;
typedef struct brook__http_s brook__http_t;
typedef struct brook__statsd_s brook__statsd_t;

/* brook__tel_t.active bits */
#define BROOK__TEL_EVENTS 0x1 /* at least one event callback */
#define BROOK__TEL_SPANS  0x2 /* span hooks set */

/* The owner-independent events, named "brook.<kind>.<suffix>". */
enum {
        BROOK__EV_BATCH_START,
        BROOK__EV_BATCH_STOP,
        BROOK__EV_BATCH_EXCEPTION,
        BROOK__EV_MESSAGES_PROCESSED,
        BROOK__EV_DEAD_LETTER_SENT,
        BROOK__EV_DEAD_LETTER_FAILED,
        BROOK__EV__CNT
};

/* An event callback subscription. */
typedef struct brook__sub_s {
        int64_t id;
        char *name; /* exact name, or prefix ending in '.' */
        size_t len; /* strlen(name) */
        int prefix; /* name ends in '.' */
        brook_event_cb_t *cb;
        void *opaque;
} brook__sub_t;

struct brook_telemetry_s {
        atomic_int active; /* BROOK__TEL_* bits, read without a lock */
        char kind[16];     /* "consumer", "streams" */
        char *group;       /* group.id / application.id */
        char names[BROOK__EV__CNT][48]; /* full event names, made once */
        brook__logger_t log;

        /* events and span hooks; callbacks run under the read lock */
        pthread_rwlock_t ev_lock;
        brook__sub_t *subs; /* @locks ev_lock */
        size_t nsubs, subs_cap;
        int64_t next_id;
        brook_span_start_cb_t *span_start; /* @locks ev_lock */
        brook_span_end_cb_t *span_end;
        void *span_opaque;

        brook__metrics_t *metrics;
        brook__http_t *http;     /* NULL: metrics.listen empty */
        brook__statsd_t *statsd; /* NULL: metrics.statsd.address empty */

        /* periodic work, serialised by tick_lock (try-lock) */
        pthread_mutex_t tick_lock;
        int64_t summary_interval_us; /* 0: no summaries */
        int64_t next_summary_us;
        int64_t statsd_interval_us;
        int64_t next_statsd_us;
        _Atomic(int64_t) next_due_us; /* earliest of the two, read unlocked */
        uint64_t sum_prev[8];         /* totals at the last summary */
};

/* What brook__tel_batch_start() hands to brook__tel_batch_stop(). */
typedef struct brook__tel_span_s {
        void *span;
        brook_span_end_cb_t *end; /* NULL: no span started */
        void *opaque;
} brook__tel_span_t;

/* brook__tel_new() flags */
#define BROOK__TEL_F_SINGLE_WRITER                                             \
        0x1 /* every metric update (batch_done,                                \
               dead_letter, inflight) comes from                               \
               one thread: plain atomic stores                                 \
               instead of read-modify-writes */

/*
 * New telemetry for an owner of @p kind ("consumer") in group @p group:
 * reads the telemetry settings of @p st, starts the HTTP listener and
 * opens the StatsD socket when configured. @p log is copied. @p flags:
 * BROOK__TEL_F_*. Returns NULL with @p errstr set on failure.
 */
brook__tel_t *brook__tel_new(const brook__settings_t *st, const char *kind,
                             const char *group, const brook__logger_t *log,
                             int flags, char *errstr, size_t errstr_size);
/* Stops the listener, flushes StatsD, frees. Accepts NULL. */
void brook__tel_destroy(brook__tel_t *tel);

/* Anything attached (events or span hooks)? One atomic load. */
static inline int brook__tel_active(const brook__tel_t *tel)
{
        return atomic_load_explicit(&((brook__tel_t *)tel)->active,
                                    memory_order_acquire);
}

/* librdkafka's statistics JSON (stats_cb) of consumer @p src (0 for a
 * batch consumer, the stream thread's index for streams): updates the
 * lag gauges of that consumer's partitions. */
void brook__tel_stats(brook__tel_t *tel, int src, const char *json, size_t len);
/* Consumer @p src is gone: its partitions leave the lag gauge. */
void brook__tel_stats_drop(brook__tel_t *tel, int src);

/*
 * A batch attempt starts / stopped on this thread (call only when
 * brook__tel_active()): batch.start / batch.stop and messages.processed
 * events, the span hooks, and batch.exception when @p result is not
 * BROOK_OK. @p dur_us is the
 * attempt's duration as the owner measured it (no clock read here: on
 * some virtual machines a clock read costs more than an event).
 */
void brook__tel_batch_start(brook__tel_t *tel, const brook_batch_t *b,
                            brook__tel_span_t *sp);
void brook__tel_batch_stop(brook__tel_t *tel, const brook_batch_t *b,
                           brook_err_t result, int64_t dur_us,
                           brook__tel_span_t *sp);

/* batch.exception without a batch at hand (e.g. a handler timeout seen by
 * another thread): @p kind "timeout" or "error". */
void brook__tel_batch_exception(brook__tel_t *tel, const char *topic,
                                int32_t partition, int64_t first_offset,
                                int64_t last_offset, size_t count,
                                const char *kind, const char *reason);

/*
 * An attempt's outcome is known: @p failed of the batch's messages failed
 * (all of them when the handler failed the batch); @p dur_us the
 * attempt's duration. Updates the metrics (no event: lock-free).
 */
void brook__tel_batch_done(brook__tel_t *tel, const brook_batch_t *b,
                           size_t failed, int64_t dur_us);

/* The same for owners without a brook_batch_t (streams: a task's batch of
 * @p count records of @p topic). */
void brook__tel_batch_metrics(brook__tel_t *tel, const char *topic,
                              size_t count, size_t failed, int64_t dur_us);

/* Batches in processing now (the queue-depth gauge). */
void brook__tel_inflight(brook__tel_t *tel, int n);

/* A dead letter was durably written (@p ok) or its write failed. */
void brook__tel_dead_letter(brook__tel_t *tel, const brook_msg_t *m,
                            const char *reason, const char *dl_topic,
                            int32_t dl_partition, int64_t dl_offset, int ok);

/*
 * Generic event for owners with events of their own (streams: task
 * created / restored / committed). @p mkeys / @p mvals: @p mcnt
 * measurements; @p dkeys / @p dvals: @p dcnt text metadata ("group" is
 * added). Call only when brook__tel_active().
 */
void brook__tel_emit(brook__tel_t *tel, const char *name,
                     const char *const *mkeys, const int64_t *mvals,
                     size_t mcnt, const char *const *dkeys,
                     const char *const *dvals, size_t dcnt);

/* Periodic work from the owner's loop (at least every 100 ms): StatsD
 * flush, INFO batch summaries. Cheap when nothing is due. */
void brook__tel_tick(brook__tel_t *tel, int64_t now_us);
/* Final StatsD flush and summary (at shutdown). */
void brook__tel_flush(brook__tel_t *tel);

/* ---- telemetry/metrics.c ---- */
brook__metrics_t *brook__metrics_new(const char *kind, const char *group,
                                     int single_writer);
void brook__metrics_destroy(brook__metrics_t *m);
void brook__metrics_batch(brook__metrics_t *m, const char *topic, size_t count,
                          size_t failed, int64_t dur_us);
void brook__metrics_inflight(brook__metrics_t *m, int n);
void brook__metrics_dead_letter(brook__metrics_t *m, const char *topic, int ok);
/* Replace source @p src's slice of the lag table from librdkafka's
 * statistics JSON (one source per librdkafka consumer). */
int brook__metrics_stats(brook__metrics_t *m, int src, const char *json,
                         size_t len);
/* Drop source @p src's slice of the lag table (its consumer is gone). */
void brook__metrics_lags_drop(brook__metrics_t *m, int src);
/* Prometheus text; malloc'd, NULL when out of memory. */
char *brook__metrics_render(brook__metrics_t *m, size_t *lenp);
/* Totals over every topic, for the summaries: batches ok/partial/failed,
 * messages ok/failed, dead letters, duration sum (us), in-flight. */
enum {
        BROOK__SUM_B_OK,
        BROOK__SUM_B_PARTIAL,
        BROOK__SUM_B_FAILED,
        BROOK__SUM_M_OK,
        BROOK__SUM_M_FAILED,
        BROOK__SUM_DEAD,
        BROOK__SUM_DUR_US,
        BROOK__SUM__CNT
};
void brook__metrics_totals(brook__metrics_t *m, uint64_t *out);

/* ---- telemetry/metrics_http.c ---- */
brook__http_t *brook__http_new(brook__tel_t *tel, const char *listen,
                               char *errstr, size_t errstr_size);
void brook__http_destroy(brook__http_t *h);
const char *brook__http_address(const brook__http_t *h);

/* ---- telemetry/statsd.c ---- */
brook__statsd_t *brook__statsd_new(const char *address, const char *tags,
                                   char *errstr, size_t errstr_size);
void brook__statsd_destroy(brook__statsd_t *s);
/* Send what changed since the last flush (counters as deltas). */
void brook__statsd_flush(brook__statsd_t *s, brook__metrics_t *m);

/* ---- telemetry/trace.c ---- */
/* The valid traceparents of @p b's messages, malloc'd (NULL if none). */
const char **brook__trace_links(const brook_batch_t *b, size_t *cntp);

#endif /* BROOK__TELEMETRY_TELEMETRY_H */
