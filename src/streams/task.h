/*
 * streams/task.h: a task is one partition (group) of one sub-topology: per-node
 * processor state and inboxes, its stores, the offsets it has finished,
 * its punctuators. Not API.
 *
 * A source batch runs like this (streams/task.c): the source deserializes the
 * batch into records (zero copy where the serde allows) that go to its
 * children's inboxes; then every node of the sub-topology, in topological
 * order, takes its inbox: process_batch() once when it has one, else
 * process() per record. Forwarded records land in the children's inboxes,
 * so a batch-capable node always receives what its parents produced in
 * this batch as one batch. Sinks serialize and produce (asynchronously).
 * When the last node ran, the partition's next offset moves past the batch;
 * the commit cycle (streams/streams.c) commits it once the producer is flushed.
 *
 * @locality one stream thread (the owner of the task); no locking.
 */
#ifndef BROOK__STREAMS_TASK_H
#define BROOK__STREAMS_TASK_H

#include <stdatomic.h>

#include <librdkafka/rdkafka.h>

#include "core/log.h"
#include "kafka/producer.h"
#include "store/store.h"
#include "core/util.h"
#include "streams/topology.h"

typedef struct brook__task_s brook__task_t;

/* Counters shared by the threads of a runtime (relaxed atomics: they
 * are statistics, nothing is ordered by them). */
typedef struct brook__counters_s {
        _Atomic int64_t processed;
        _Atomic int64_t batches;
        _Atomic int64_t produced;
        _Atomic int64_t skipped;
        _Atomic int64_t dead_lettered;
        _Atomic int64_t restored;
        _Atomic int64_t commits;
        _Atomic int64_t running;
} brook__counters_t;

/* Add @p n to counter @p c. */
#define BROOK__COUNT(c, n)                                                     \
        atomic_fetch_add_explicit(&(c), (int64_t)(n), memory_order_relaxed)

/* What a task needs from its stream thread. */
typedef struct brook__env_s {
        const brook_topology_t *topo;
        const brook_conf_t *conf;
        const brook__logger_t *log;
        brook__producer_t *prod;
        brook__dr_tracker_t *sink_tracker; /* counts delivered sink records */
        brook__counters_t *counters;
        const int32_t *sink_parts; /* per node: sink topic partitions */
        const char *app_id;
        const char *state_dir; /* <state.dir>/<application.id> */
        const char *dlq_tmpl;  /* dead.letter.topic */
        int handler;           /* BROOK__EH_* */
        int changelog;         /* store.changelog.enable */
        /* the thread's record cache budget, NULL: caching off */
        brook__cache_budget_t *cache_budget;
} brook__env_t;

/* Task states. */
enum {
        BROOK__TASK_CREATED = 0, /* waiting for its lock / stores */
        BROOK__TASK_RESTORING,   /* stores being restored */
        BROOK__TASK_RUNNING,
        BROOK__TASK_CLOSED
};

typedef struct brook__tpart_s {
        char *topic;
        int32_t partition;
        int src_node;
        int64_t next;      /* next offset to commit, -1: nothing done */
        int64_t committed; /* last committed, -1 */
        int64_t seek_to;   /* first offset dropped before running, -1 */
        int assigned;
} brook__tpart_t;

typedef struct brook__tstore_s {
        const brook__store_def_t *def;
        brook_store_t *store;
        char *path;      /* <task dir>/<store> */
        char *changelog; /* topic, NULL: not logged */
        /* emit on flush: the processor's listener (brook_ctx_...) */
        brook_store_flush_fn *flush_fn;
        brook_ctx_t *flush_ctx;
        void *flush_opaque;
        /* restoration */
        int restoring;
        int64_t start, end, position, restored;
} brook__tstore_t;

typedef struct brook__node_rt_s brook__node_rt_t;
typedef struct brook__punct_s brook__punct_t;

struct brook__task_s {
        char id[32];
        int sub;
        int32_t partition;
        int state;
        brook__env_t *env;
        const brook__subtopo_t *st;
        brook__node_rt_t *nodes; /* [topo->node_cnt], this sub's used */
        brook__tstore_t *stores;
        size_t store_cnt;
        brook__tpart_t *parts;
        size_t part_cnt;
        char *dir;
        brook_state_lock_t *lock;
        int64_t lock_retry_us, lock_warn_us;
        brook__arena_t arena;
        /* the source batch being processed */
        rd_kafka_message_t **msgs;
        uint8_t *failed; /* per message: the error handler has run */
        size_t msg_cnt, msg_cap;
        brook__ptrvec_t batch; /* the source's records */
        int64_t stream_time;
        brook__punct_t *puncts;
        brook_error_t *fatal; /* set by the fail handler and hard errors */
        int inited;           /* processors initialized */
};

/* Create a task for @p sub / @p partition (state CREATED). */
brook__task_t *brook__task_new(brook__env_t *env, int sub, int32_t partition,
                               char *errstr, size_t errstr_size);

/*
 * Take the state directory lock and open the stores. BROOK_ERR_LOCKED
 * while another owner holds it (retry later).
 */
brook_err_t brook__task_open(brook__task_t *t, char *errstr,
                             size_t errstr_size);

/* Start processing: init processors. State becomes RUNNING. */
brook_err_t brook__task_start(brook__task_t *t, char *errstr,
                              size_t errstr_size);

/*
 * Process @p cnt messages of one partition of the task (offset order).
 * The messages stay owned by the caller. Returns BROOK_OK, or the task's
 * fatal error code (t->fatal holds the detail; offsets did not advance).
 */
brook_err_t brook__task_process(brook__task_t *t, brook__tpart_t *part,
                                rd_kafka_message_t **msgs, size_t cnt);

/* Run due punctuators (stream time after batches, wall clock by @p now). */
void brook__task_punctuate_wall(brook__task_t *t, int64_t now_ms);

/*
 * Flush the record caches (commit cycle, first step): every dirty entry
 * is written to its store and changelog, flush listeners forward, and
 * what they forwarded runs downstream (sinks produce) before this
 * returns. BROOK_OK, or the task's fatal error code (t->fatal) or a store
 * error with @p errstr.
 */
brook_err_t brook__task_flush_caches(brook__task_t *t, char *errstr,
                                     size_t errstr_size);

/* Flush the stores (commit cycle). */
brook_err_t brook__task_flush_stores(brook__task_t *t, char *errstr,
                                     size_t errstr_size);

/* Write the checkpoint file (commit cycle, after the offsets). */
brook_err_t brook__task_checkpoint(brook__task_t *t, char *errstr,
                                   size_t errstr_size);

/* Delete the checkpoint (lost tasks: the local state may be ahead). */
void brook__task_drop_checkpoint(brook__task_t *t);

/* Changelog writes that failed or are outstanding. */
int64_t brook__task_changelog_failed(const brook__task_t *t);

/* The task's partition entry for topic/partition, or NULL. */
brook__tpart_t *brook__task_part(brook__task_t *t, const char *topic,
                                 int32_t partition);

/* Close processors and stores, release the lock, free. Accepts NULL. */
void brook__task_destroy(brook__task_t *t);

#endif /* BROOK__STREAMS_TASK_H */
