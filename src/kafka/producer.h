/*
 * kafka/producer.h: the batched producer behind the streams runtime's
 * sinks, changelogs and dead letters, and the batch consumer's dead
 * letters. Not API.
 *
 * Records are produced asynchronously (copied into librdkafka, idempotent,
 * acks=all) and confirmed by delivery reports; brook__producer_flush() waits
 * for all of them and reports whether any failed, which is what the commit
 * cycle needs before it may commit offsets.
 *
 * @locality one thread (a stream thread, or the consumer's run() thread):
 *           delivery reports are served by brook__producer_poll() /
 *           _flush() on that thread.
 */
#ifndef BROOK__KAFKA_PRODUCER_H
#define BROOK__KAFKA_PRODUCER_H

#include <librdkafka/rdkafka.h>

#include "core/core.h"
#include "core/log.h"
#include "kafka/client.h"

typedef struct brook__producer_s brook__producer_t;

/*
 * Delivery tracker: a message produced with a tracker as opaque gets its
 * delivery report handed to @p on_dr (on the producer's thread).
 */
typedef struct brook__dr_tracker_s brook__dr_tracker_t;
struct brook__dr_tracker_s {
        void (*on_dr)(brook__dr_tracker_t *t, const rd_kafka_message_t *rkm);
};

/* A producer of @p role (BROOK__KROLE_PRODUCER or _DLQ_PRODUCER) whose
 * librdkafka logs and errors go to @p log (kept, not copied). */
brook__producer_t *brook__producer_new(brook__krole_t role,
                                       const brook__settings_t *st,
                                       const brook__kopts_t *opts,
                                       const brook__logger_t *log, char *errstr,
                                       size_t errstr_size);
void brook__producer_destroy(brook__producer_t *p);

rd_kafka_t *brook__producer_rk(brook__producer_t *p);

/* Cached topic handle (owned by the producer). NULL when out of memory. */
rd_kafka_topic_t *brook__producer_topic(brook__producer_t *p,
                                        const char *topic);

/*
 * Produce one record (copied). @p hdrs is owned by the producer from this
 * call on (success or failure). Waits while the local queue is full (the
 * dead-letter producer fails instead).
 * Returns BROOK_OK or BROOK_ERR_KAFKA with @p errstr.
 */
brook_err_t brook__producer_send(brook__producer_t *p, rd_kafka_topic_t *rkt,
                                 int32_t partition, const void *key,
                                 size_t key_len, const void *value,
                                 size_t value_len, rd_kafka_headers_t *hdrs,
                                 int64_t timestamp,
                                 brook__dr_tracker_t *tracker, char *errstr,
                                 size_t errstr_size);

/*
 * Produce @p cnt records to one partition with one rd_kafka_produce_batch()
 * call (copied; no headers). values[i] NULL is a tombstone. Waits while
 * the local queue is full. *@p queuedp receives how many were queued (they
 * will get delivery reports), also on failure.
 */
brook_err_t brook__producer_send_batch(
    brook__producer_t *p, rd_kafka_topic_t *rkt, int32_t partition, size_t cnt,
    const void *const *keys, const size_t *key_lens, const void *const *values,
    const size_t *value_lens, brook__dr_tracker_t *tracker, size_t *queuedp,
    char *errstr, size_t errstr_size);

/* Serve delivery reports without blocking. */
void brook__producer_poll(brook__producer_t *p);

/*
 * Wait up to @p timeout_ms for every outstanding delivery report.
 * Returns BROOK_OK when all were delivered and none failed since the last
 * flush that returned an error, BROOK_ERR_TIMED_OUT when some are still
 * outstanding, BROOK_ERR_KAFKA (with the first failure in @p errstr) when a
 * delivery failed: then nothing produced since may be assumed written.
 */
brook_err_t brook__producer_flush(brook__producer_t *p, int timeout_ms,
                                  char *errstr, size_t errstr_size);

#endif /* BROOK__KAFKA_PRODUCER_H */
