/*
 * consumer/consumer.h: the batch consumer's internal structures, shared by
 * consumer/consumer.c (poll loop, rebalance, commit, back-pressure),
 * consumer/ack.c (acknowledgment strategies), consumer/dlq.c (dead letters) and
 * consumer/dispatch.c (sync and async execution of handlers). Not API.
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
#include "core/log.h"
#include "kafka/msg.h"
#include "telemetry/telemetry.h"

typedef struct brook__part_s brook__part_t;
typedef struct brook__unit_s brook__unit_t;
typedef struct brook__dlq_s brook__dlq_t;
typedef struct brook__pool_s brook__pool_t;

/* ack.strategy, in table order. */
enum {
        BROOK__ACK_ALL_OR_NOTHING = 0,
        BROOK__ACK_BEST_EFFORT = 1,
        BROOK__ACK_LAST_SUCCESSFUL = 2
};

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
        brook__unit_t *next;  /* ready / completion queue link */
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
        brook_conf_t *conf;
        brook_handlers_t h;
        void *opaque;
        brook__logger_t log;
        char *group;

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
        int ack;
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
        brook__unit_t *ready_head, *ready_tail;
        int inflight;      /* units RUNNING */
        size_t held_bytes; /* bytes in accumulators and units */
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
        brook__unit_t *orphans; /* units of revoked partitions still in use
                                   (running or dead letters in flight) */

        brook__dlq_t *dlq;   /* dead letters (NULL: none configured) */
        brook__pool_t *pool; /* async execution (NULL: sync) */
        brook__tel_t *tel;   /* events, metrics, exporters (thread-safe) */

        /* counters (run() thread) */
        uint64_t n_msgs, n_batches, n_failed, n_dead;
};

/* consumer/units.c */
brook__part_t *brook__part_get(brook_consumer_t *c, const char *topic,
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
brook__part_t *brook__part_find(brook_consumer_t *c, const char *topic,
                                int32_t partition);
void brook__unit_retire(brook_consumer_t *c, brook__unit_t *u);
/* Queue a READY unit for its next attempt. */
void brook__enqueue(brook_consumer_t *c, brook__unit_t *u);
/* Free orphaned units nothing refers to any more. */
void brook__unit_release_orphans(brook_consumer_t *c);
void brook__consumer_set_fatal(brook_consumer_t *c, brook_error_t *err);

/* consumer/ack.c: apply the strategy after an attempt; may queue, back off,
 * dead-letter or complete the unit. */
void brook__ack_decide(brook_consumer_t *c, brook__unit_t *u);
/* Re-evaluate a unit after dead-letter reports; completes it when done. */
void brook__ack_progress(brook_consumer_t *c, brook__unit_t *u);
/* Backoff before retry number @p attempt (1 = first retry): exponential
 * from retry.backoff.ms, capped at retry.backoff.max.ms. */
int64_t brook__backoff_us(const brook_consumer_t *c, int attempt);
/* First offset of the unit not yet processed or dead (last+1 when none). */
int64_t brook__ack_committable(const brook__unit_t *u);

/* consumer/dispatch.c */
void brook__prepare_attempt(brook_consumer_t *c, brook__unit_t *u);
void brook__run_attempt(brook_consumer_t *c, brook__unit_t *u);
brook__pool_t *brook__pool_new(brook_consumer_t *c, char *errstr,
                               size_t errstr_size);
void brook__pool_submit(brook__pool_t *pool, brook__unit_t *u);
/* Move completed units to the caller; returns the list (linked by next). */
brook__unit_t *brook__pool_completions(brook__pool_t *pool);
/* Wait up to @p timeout_us for a completion. */
void brook__pool_wait(brook__pool_t *pool, int64_t timeout_us);
void brook__pool_destroy(brook__pool_t *pool);

/* consumer/dlq.c */
brook__dlq_t *brook__dlq_new(brook_consumer_t *c, const char *topic_template,
                             char *errstr, size_t errstr_size);
/* Produce @p m to the dead-letter topic; DLQ_SENT or DLQ_RETRY after. */
void brook__dlq_send(brook_consumer_t *c, brook__unit_t *u, brook_msg_t *m);
/* Serve delivery reports; returns the number served. */
int brook__dlq_poll(brook__dlq_t *d, int timeout_ms);
int brook__dlq_outstanding(const brook__dlq_t *d);
void brook__dlq_destroy(brook__dlq_t *d);

#endif /* BROOK__CONSUMER_CONSUMER_H */
