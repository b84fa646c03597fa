/*
 * streams/streams.h: the streams runtime and its stream threads. Not API.
 *
 * Threads: brook_streams_start() spawns num.stream.threads stream threads.
 * Each owns a consumer in the group application.id (range assignor, so the
 * co-partitioned topics of a sub-topology are assigned together), a
 * producer for its sinks, changelogs and dead letters, a restore consumer
 * (created when first needed), and the tasks of its assignment. Nothing of
 * a thread is touched by another thread; the runtime object holds only the
 * shared, read-only topology and configuration plus the fields below that
 * say how they are guarded.
 */
#ifndef BROOK__STREAMS_STREAMS_H
#define BROOK__STREAMS_STREAMS_H

#include <pthread.h>

#include "streams/group.h"
#include "streams/task.h"
#include "telemetry/telemetry.h"

typedef struct brook__sthread_s brook__sthread_t;

typedef struct brook__counting_tracker_s {
        brook__dr_tracker_t t; /* first */
        _Atomic int64_t *counter;
} brook__counting_tracker_t;

struct brook__sthread_s {
        brook_streams_t *s;
        int idx;
        pthread_t thr;
        int started;
        brook__logger_t log;
        brook__kclient_t kc;  /* the group consumer's link to the thread */
        brook__kclient_t rkc; /* the restore consumer's */
        rd_kafka_t *rk;       /* group consumer */
        rd_kafka_queue_t *q;
        brook__producer_t *prod;
        rd_kafka_t *rrk; /* restore consumer, NULL until needed */
        rd_kafka_queue_t *rq;
        int restore_dirty;          /* the restore assignment must be redone */
        int restore_stale;          /* it holds finished (paused) partitions */
        rd_kafka_message_t **rmsgs; /* restore scratch */
        const void **rkeys, **rvals;
        size_t *rklens, *rvlens;
        int32_t *rslots; /* restore dedupe hash slots */
        size_t rslot_cap;
        brook__env_t env;
        brook__counting_tracker_t sink_tracker;
        brook__cache_budget_t cache_budget; /* shared by its stores' caches */
        brook__task_t **tasks;
        size_t ntasks, tasks_cap;
        int64_t last_commit_us;
        /* fetcher wake-up, see kick_fetcher() in streams/streams.c */
        int64_t q_mark_msgs, q_mark_bytes; /* 80% of the queue thresholds */
        int64_t msg_bytes_avg;             /* of the records consumed */
        int q_was_full;
        int dirty;     /* processed since the last commit */
        int no_commit; /* a delivery failed: never commit again */
        rd_kafka_message_t **msgs;
        brook__groups_t groups; /* the last poll's records by partition */
};

struct brook_streams_s {
        brook_conf_t *conf;   /* our copy: st's strings point into it */
        brook__settings_t st; /* conf, parsed at _new */
        brook_topology_t *topo;
        brook__logger_t log;
        brook__kclient_t admin_kc; /* the start-up admin client's link */
        const char *app_id;        /* application.id (in st) */
        char *state_dir;           /* <state.dir>/<application.id> */
        int nthreads;
        int64_t commit_interval_us;
        int poll_timeout_ms;
        int shutdown_timeout_ms;
        int topic_timeout_ms;
        size_t batch_max, restore_max;
        int64_t cache_max_bytes; /* store.cache.max.bytes, whole instance */
        int handler;
        int changelog;
        int32_t *sink_parts; /* per node */
        int32_t *sub_parts;  /* per sub-topology */
        brook__sthread_t *threads;
        int started, closed;
        atomic_int stop; /* set by stop(), fatal errors */
        /* lock guards fatal and threads_done */
        pthread_mutex_t lock;
        pthread_cond_t cond;
        brook_error_t *fatal;
        int threads_done;
        brook__counters_t counters; /* atomics */
        brook__tel_t *tel;          /* events and metrics (thread-safe) */
        /* listeners: set before start, read-only after */
        brook_restore_start_cb_t *restore_start;
        brook_restore_batch_cb_t *restore_batch;
        brook_restore_end_cb_t *restore_end;
        void *restore_opaque;
        brook_task_cb_t *task_cb;
        void *task_opaque;
};

/* ---- streams/streams.c ---- */
/* The first fatal error stops the runtime; later ones are dropped. */
void brook__streams_set_fatal(brook_streams_t *s, brook_error_t *err);
/* Has stop been asked for (by the user or a fatal error)? */
int brook__streams_stopping(const brook_streams_t *s);

/* ---- streams/commit.c ---- */
/* The thread's commit cycle (see the top of streams/commit.c). */
void brook__commit_cycle(brook__sthread_t *th);

/* ---- streams/tasks.c ---- */
/* The thread's task partition of @p topic / @p partition (its task in
 * *@p tp), or NULL. */
brook__tpart_t *brook__thread_part(brook__sthread_t *th, const char *topic,
                                   int32_t partition, brook__task_t **tp);
/* Close the thread's task @p i (the last takes its place); @p dirty: its
 * local state may be ahead of the commit (drop the checkpoint). */
void brook__thread_close_task(brook__sthread_t *th, size_t i, int dirty);
/* The thread's group consumer's rebalance callback. */
void brook__thread_rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                                rd_kafka_topic_partition_list_t *l,
                                void *opaque);
/* Move starting tasks on (lock, open, restore, start) and resume the
 * partitions of those that started. */
void brook__thread_progress_tasks(brook__sthread_t *th);

/* streams/restore.c: begin restoring @p t's stores (task CREATED, stores
 * open). Sets the task RESTORING; it is ready when brook__restore_done(). */
brook_err_t brook__restore_begin(brook__sthread_t *th, brook__task_t *t,
                                 char *errstr, size_t errstr_size);
/* One bounded restore step for every restoring task of the thread. */
brook_err_t brook__restore_step(brook__sthread_t *th, int timeout_ms,
                                char *errstr, size_t errstr_size);
/* Has @p t finished restoring every store? */
int brook__restore_done(const brook__task_t *t);
/* Anything restoring on the thread? */
int brook__restore_active(const brook__sthread_t *th);
/* Drop what nothing restores any more from the restore assignment. */
brook_err_t brook__restore_sync(brook__sthread_t *th, char *errstr,
                                size_t errstr_size);
/* Close the restore consumer. */
void brook__restore_close(brook__sthread_t *th);

/* streams/topics.c: topic checks and changelog creation at start. */
brook_error_t *brook__streams_prepare_topics(brook_streams_t *s);

#endif /* BROOK__STREAMS_STREAMS_H */
