/*
 * consumer/consumer.h: the batch consumer's internal structures and the
 * calls between its files. Not API. From the bottom up:
 *
 *   units.c     partitions, units (closed batches), the ready queue,
 *               retry memory, fatal errors
 *   dispatch.c  running handlers: inline, or on the worker pool
 *   ack.c       acknowledgment strategies, retries, dead letters
 *   commit.c    committing what is done, asynchronously and bounded-sync
 *   health.c    librdkafka errors, broker reachability, deadlines
 *   work.c      completions, dispatching, timers, back-pressure (pause)
 *   rebalance.c assignment, revocation: drain, commit, release
 *   consumer.c  the public API, construction and the run loop
 *
 * A file calls only files listed above it.
 *
 * Threads:
 *  - the run() thread owns everything here except where a field says
 *    otherwise: partitions, units, accumulators, offsets, the DLQ producer.
 *  - batch threads (async) run a unit's handler; while a unit is RUNNING
 *    its messages belong to that thread and the run() thread does not touch
 *    the unit except through the completion queue.
 *  - message threads (async) run the message handler for single messages.
 */
#ifndef BROOK__CONSUMER_CONSUMER_H
#define BROOK__CONSUMER_CONSUMER_H

#define BROOK__GRAVE_MAX 1024 /* messages set aside for destruction */

#include <pthread.h>
#include <stdatomic.h>

#include <librdkafka/rdkafka.h>

#include "brook/consumer.h"
#include "consumer/batcher.h"
#include "core/conf.h"
#include "core/list.h"
#include "core/log.h"
#include "kafka/client.h"
#include "kafka/msg.h"
#include "kafka/producer.h"
#include "telemetry/telemetry.h"

typedef struct brook__part_s brook__part_t;
typedef struct brook__unit_s brook__unit_t;
typedef struct brook__pool_s brook__pool_t;

/* Unit (a closed batch being worked) states. */
enum {
        BROOK__U_READY = 0, /* queued for an attempt */
        BROOK__U_RUNNING,   /* handler running (async: on a batch thread) */
        BROOK__U_BACKOFF,   /* waiting for retry_at_us */
        BROOK__U_DLQ_WAIT,  /* waiting for dead-letter delivery reports */
        BROOK__U_DONE       /* every message OK or dead */
};

struct brook_handlers_s {
        brook_message_handler_t *message;
        brook_batch_handler_t *batch;
        brook_dead_letter_cb_t *dead_letter;
        brook_result_cb_t *result;
        brook_decoder_t *decode;
        brook_decoded_free_t *decoded_free;
        brook_partitions_cb_t *partitions;
};

struct brook__unit_s {
        brook_consumer_t *c;
        brook__part_t *part;
        brook_msg_t *msgs; /* the batch's messages, offset order */
        size_t cnt, cap;
        brook_msg_t **view; /* messages of the current attempt */
        size_t bytes;
        brook_batch_t batch; /* handler's view (points into view) */
        int state;
        int attempt;          /* 0: first delivery */
        int64_t retry_at_us;  /* BACKOFF: when to retry */
        int64_t start_us;     /* start of the current attempt */
        int64_t end_us;       /* end of the current attempt */
        brook_err_t result;   /* handler's return value */
        int dlq_pending;      /* dead letters awaiting a delivery report */
        int dlq_retries;      /* failed dead-letter writes so far */
        int orphan;           /* partition revoked while running */
        int timeout_reported; /* batch.handler.timeout.ms reported */
        brook__link_t qlink;  /* in c->ready, or the pool's work / done */
        brook__link_t olink;  /* in c->orphans */
};

/* Failure counts of messages given up on at a revocation, so that a
 * message that keeps failing reaches the dead-letter topic even when its
 * partition comes back to us (and is not retried from zero each time). */
#define BROOK__RETRY_MEM 4096

/* Partition hash table size. */
#define BROOK__NBUCKETS 1024
typedef struct brook__retry_mem_s {
        brook__part_t *part; /* NULL: free slot */
        int64_t offset;
        int32_t fails;
} brook__retry_mem_t;

struct brook__part_s {
        char *topic;
        int32_t partition;
        int owned;  /* in our assignment */
        int paused; /* fetching paused by us */
        brook__acc_t acc;
        brook__unit_t *unit;  /* the unit in progress, or NULL */
        brook__unit_t *spare; /* a finished unit kept for reuse */
        int64_t done_next;    /* everything before is processed/dead; -1 */
        int64_t committed;    /* last offset committed or in flight; -1 */
        int64_t confirmed;    /* last offset the broker confirmed; -1 */
        brook__part_t *hnext; /* hash chain */
};

struct brook_consumer_s {
        brook_conf_t *conf;   /* our copy: st's strings point into it */
        brook__settings_t st; /* conf, parsed at _new */
        brook__kclient_t kc;  /* the group consumer's link to us */
        brook_handlers_t h;
        void *opaque;
        brook__logger_t log;
        const char *group; /* group.id (in st) */

        rd_kafka_t *rk;
        rd_kafka_queue_t *rkqu;     /* consumer queue */
        rd_kafka_queue_t *commit_q; /* results of asynchronous commits */

        /* settings (run() thread; batch ones change at batch boundaries) */
        brook__limits_t lim;
        int single; /* single-message mode */
        int async;
        int ordered;
        int max_conc;
        int max_inflight;
        int64_t handler_timeout_us;
        int ack; /* BROOK__ACK_* */
        int64_t backoff_us, backoff_max_us;
        int max_retries;
        int dlq_skip; /* dead.letter.policy=skip */
        int64_t commit_interval_us;
        int64_t shutdown_timeout_us;
        int64_t unavailable_timeout_us;
        size_t budget; /* batch.max.bytes x max.in.flight.batches */

        /* runtime batch-config updates, applied by run() */
        pthread_mutex_t upd_lock;
        brook__limits_t upd_lim; /* @locks upd_lock */
        atomic_int upd_dirty;

        /* partitions */
        brook__part_t **buckets;
        size_t nbuckets;
        brook__part_t **parts; /* every partition ever assigned */
        size_t nparts, parts_cap;
        brook__part_t *last; /* lookup cache */

        /* units */
        brook__link_t ready; /* units READY for an attempt, in order */
        int inflight;        /* units RUNNING */
        size_t held_bytes;   /* bytes in accumulators and units */
        /* Messages done with, destroyed together once per dispatch: freeing
         * them one by one between handler calls contends with librdkafka's
         * fetch threads for their malloc arena (single-message mode). */
        rd_kafka_message_t *grave[BROOK__GRAVE_MAX];
        size_t ngrave;
        int global_paused;

        /* run state */
        atomic_int stop_req; /* set by brook_consumer_stop(), any thread */
        int running;
        int stopping;
        int unclean_close; /* close timed out: destroy without it */
        brook_error_t *fatal;
        int64_t down_since_us; /* all brokers down since, 0 if up */
        int64_t last_probe_us;
        int64_t suspect_since_us; /* a connection failed: probe, 0 if not */

        /* commits */
        int commit_inflight;
        int commit_dirty;
        int64_t last_commit_us;
        int64_t commit_retry_at_us; /* after a failed commit */
        int commit_fail_err;        /* last logged commit error */
        int64_t commit_fail_logged_us;

        brook__retry_mem_t retry_mem[BROOK__RETRY_MEM]; /* ring */
        size_t retry_mem_next, retry_mem_cnt;
        brook__link_t orphans; /* units of revoked partitions still in use
                                  (running or dead letters in flight) */

        /* dead letters (NULL: none configured) */
        brook__producer_t *dlq;
        const char *dlq_tmpl; /* dead.letter.topic */
        int dlq_outstanding;  /* awaiting a delivery report */
        int dlq_closing;      /* destroying: reports refer to freed units */
        brook__pool_t *pool;  /* async execution (NULL: sync) */
        brook__tel_t *tel;    /* events, metrics, exporters (thread-safe) */

        /* counters (run() thread) */
        uint64_t n_msgs, n_batches, n_failed, n_dead;
};

/* ---- consumer/units.c ---- */
brook__part_t *brook__part_get(brook_consumer_t *c, const char *topic,
                               int32_t partition);
brook__part_t *brook__part_find(brook_consumer_t *c, const char *topic,
                                int32_t partition);
void brook__unit_free(brook__unit_t *u);
/* Destroy the unit's messages (and what the decoder made of them). */
void brook__unit_drop_msgs(brook_consumer_t *c, brook__unit_t *u);
/* Destroy the messages that brook__unit_drop_msgs() set aside. */
void brook__grave_flush(brook_consumer_t *c);
/* Detach a unit that is still in use from its (revoked) partition. */
void brook__unit_orphan(brook_consumer_t *c, brook__unit_t *u);
/* Remember the failure counts of @p u's unfinished messages. */
void brook__retry_mem_save(brook_consumer_t *c, const brook__unit_t *u);
/* Close the partition's next batch into a unit, if it has none and its
 * accumulator is ready (or @p force). */
void brook__maybe_close(brook_consumer_t *c, brook__part_t *p, int64_t now,
                        int force);
void brook__unit_retire(brook_consumer_t *c, brook__unit_t *u);
/* The unit of a qlink / olink. */
#define BROOK__UNIT_Q(l) BROOK__CONTAINER(l, brook__unit_t, qlink)
#define BROOK__UNIT_O(l) BROOK__CONTAINER(l, brook__unit_t, olink)
/* Queue a READY unit for its next attempt / take it off the queue. */
void brook__enqueue(brook_consumer_t *c, brook__unit_t *u);
void brook__unqueue(brook_consumer_t *c, brook__unit_t *u);
/* Free orphaned units nothing refers to any more. */
void brook__unit_release_orphans(brook_consumer_t *c);
/* The first fatal error stops the run loop; later ones are dropped. */
void brook__consumer_set_fatal(brook_consumer_t *c, brook_error_t *err);

/* ---- consumer/dispatch.c ---- */
void brook__prepare_attempt(brook_consumer_t *c, brook__unit_t *u);
void brook__run_attempt(brook_consumer_t *c, brook__unit_t *u);
brook__pool_t *brook__pool_new(brook_consumer_t *c, char *errstr,
                               size_t errstr_size);
void brook__pool_submit(brook__pool_t *pool, brook__unit_t *u);
/* Move the completed units (their qlinks) to the tail of @p out. */
void brook__pool_completions(brook__pool_t *pool, brook__link_t *out);
/* Wait up to @p timeout_us for a completion. */
void brook__pool_wait(brook__pool_t *pool, int64_t timeout_us);
void brook__pool_destroy(brook__pool_t *pool);

/* ---- consumer/ack.c ---- */
/* Apply the strategy after an attempt; may queue, back off, dead-letter
 * or complete the unit. */
void brook__ack_decide(brook_consumer_t *c, brook__unit_t *u);
/* Re-evaluate a unit after dead-letter reports; completes it when done. */
void brook__ack_progress(brook_consumer_t *c, brook__unit_t *u);
/* Backoff before retry number @p attempt (1 = first retry): exponential
 * from retry.backoff.ms, capped at retry.backoff.max.ms. */
int64_t brook__backoff_us(const brook_consumer_t *c, int attempt);
/* First offset of the unit not yet processed or dead (last+1 when none). */
int64_t brook__ack_committable(const brook__unit_t *u);
/* The dead-letter producer, when dead.letter.topic is set. */
brook_err_t brook__dlq_open(brook_consumer_t *c, char *errstr,
                            size_t errstr_size);
/* Produce @p m to the dead-letter topic; DLQ_SENT or DLQ_RETRY after. */
void brook__dlq_send(brook_consumer_t *c, brook__unit_t *u, brook_msg_t *m);
/* Serve delivery reports, waiting up to @p timeout_ms. */
void brook__dlq_poll(brook_consumer_t *c, int timeout_ms);
/* Give up on outstanding dead letters and close the producer. */
void brook__dlq_close(brook_consumer_t *c);

/* ---- consumer/commit.c ---- */
/* Commit what is done, when the commit policy says so (asynchronously,
 * at most one in flight with commit.interval.ms=0). */
void brook__commit_maybe(brook_consumer_t *c, int64_t now);
/* Commit synchronously the partitions of @p only (NULL: all), until
 * @p deadline_us. */
void brook__commit_sync(brook_consumer_t *c,
                        rd_kafka_topic_partition_list_t *only,
                        int64_t deadline_us);
/* Wait (until @p deadline_us) for the asynchronous commit in flight. */
void brook__commit_wait(brook_consumer_t *c, int64_t deadline_us);

/* ---- consumer/health.c ---- */
/* librdkafka's error callback of the group consumer (kc.on_error). */
void brook__health_error(void *owner, rd_kafka_t *rk, int err,
                         const char *reason);
/* A consumed error instead of a message. */
void brook__health_msg_error(brook_consumer_t *c, rd_kafka_message_t *rkm);
/* After a connection error and while all brokers are down: probe, and
 * give up after broker.unavailable.timeout.ms. */
void brook__health_check(brook_consumer_t *c, int64_t now);
/* How long shutdown and revocation may wait for the brokers. */
int64_t brook__broker_deadline(const brook_consumer_t *c);

/* ---- consumer/work.c ---- */
/* Acknowledge the units the worker pool finished. */
void brook__work_collect(brook_consumer_t *c);
/* Start ready units: inline (sync), or on the pool within the in-flight
 * limit. */
void brook__work_dispatch(brook_consumer_t *c);
/* Batch timers, retry backoffs, dead-letter re-sends, handler timeouts. */
void brook__work_timers(brook_consumer_t *c, int64_t now);
/* Earliest timer, for the fetch wait; INT64_MAX when none. */
int64_t brook__work_next_deadline(brook_consumer_t *c);
/* Back-pressure: pause and resume fetching per partition. */
void brook__work_update_pause(brook_consumer_t *c);
/* Pause or resume the partitions of @p l. */
void brook__set_paused(brook_consumer_t *c, rd_kafka_topic_partition_list_t *l,
                       int pause);

/* ---- consumer/rebalance.c ---- */
/* The group consumer's rebalance callback. */
void brook__rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *l, void *opaque);
/* Finish what is in flight for @p l (NULL: all) within
 * shutdown.timeout.ms. */
void brook__drain(brook_consumer_t *c, rd_kafka_topic_partition_list_t *l);
/* Let go of a partition: its units are orphaned or dropped. */
void brook__part_release(brook_consumer_t *c, brook__part_t *p);
/* Forget a partition's accumulated messages and offsets. */
void brook__part_reset(brook_consumer_t *c, brook__part_t *p);

#endif /* BROOK__CONSUMER_CONSUMER_H */
