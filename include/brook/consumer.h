/*
 * brook - batch-first Kafka stream processing in C.
 *
 * consumer.h: the batch consumer. Subscribes to topics in a consumer group,
 * closes per-partition batches by size, bytes and time, hands them to the
 * application's handlers (inline or on a worker pool), applies the
 * acknowledgment strategy, dead-letters what keeps failing, and commits an
 * offset only once everything before it is processed or dead-lettered.
 */
#ifndef BROOK_CONSUMER_H
#define BROOK_CONSUMER_H

#include "brook/common.h"
#include "brook/conf.h"
#include "brook/msg.h"
#include "brook/telemetry.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @brief Batch consumer (opaque). */
typedef struct brook_consumer_s brook_consumer_t;

/** @brief Set of application callbacks for a consumer (opaque). */
typedef struct brook_handlers_s brook_handlers_t;

/**
 * @brief Per-message handler.
 * @returns BROOK_OK on success; anything else is a failure of the message
 *          (use `return brook_msg_fail(msg, "reason");` to give a reason).
 * @remark Called on the thread that runs brook_consumer_run() in sync mode,
 *         on a worker thread when `batch.async=true`; concurrent calls get
 *         different messages.
 */
typedef brook_err_t(brook_message_handler_t)(brook_msg_t *msg, void *opaque);

/**
 * @brief Batch handler.
 * @returns BROOK_OK when every message succeeded except those reported with
 *          brook_batch_fail(); anything else fails the whole batch (use
 *          `return brook_batch_fail_all(batch, "reason");`).
 * @remark Called on the run() thread in sync mode, on one of
 *         `max.in.flight.batches` batch threads when `batch.async=true`.
 *         Batches of one partition never overlap.
 */
typedef brook_err_t(brook_batch_handler_t)(brook_batch_t *batch, void *opaque);

/**
 * @brief Called after a message was durably written to the dead-letter
 *        topic (or skipped by `dead.letter.policy=skip`).
 * @remark Called on the run() thread. Default: an ERROR log line.
 */
typedef void(brook_dead_letter_cb_t)(const brook_msg_t *msg, const char *reason,
                                     void *opaque);

/**
 * @brief Per-message result of the default batch handler in async mode:
 *        in offset order when `batch.ordered=true`, else as they finish.
 * @param err BROOK_OK or the handler's failure.
 * @remark Called on a batch thread; calls for one batch never overlap.
 */
typedef void(brook_result_cb_t)(const brook_msg_t *msg, brook_err_t err,
                                void *opaque);

/**
 * @brief Value decoder: turns a record's value into an application object
 *        before any handler sees it (brook_msg_decoded()).
 * @param value    value bytes (NULL for a null value).
 * @param decodedp receives the decoded object (may stay NULL).
 * @param errstr   receives the reason when decoding fails.
 * @returns BROOK_OK, or any error: the message then fails permanently with
 *          the decoder's reason and goes to the dead-letter path without
 *          retries.
 * @remark Called on the run() thread.
 */
typedef brook_err_t(brook_decoder_t)(const void *value, size_t len,
                                     void **decodedp, char *errstr,
                                     size_t errstr_size, void *opaque);

/** @brief Frees an object made by the decoder. */
typedef void(brook_decoded_free_t)(void *decoded, void *opaque);

/**
 * @brief Partition ownership notification.
 * @param assigned 1 when the partition was assigned, 0 when revoked (after
 *                 its last offset was committed) or lost.
 * @remark Called on the run() thread.
 */
typedef void(brook_partitions_cb_t)(const char *topic, int32_t partition,
                                    int assigned, void *opaque);

/** @brief New, empty handler set. @returns NULL when out of memory. */
BROOK_EXPORT brook_handlers_t *brook_handlers_new(void);

/** @brief Free a handler set. Accepts NULL. */
BROOK_EXPORT void brook_handlers_destroy(brook_handlers_t *h);

/**
 * @brief Set the per-message handler.
 *
 * A consumer with only a message handler runs one message at a time (the
 * single-message mode) unless `batch.size` or `batch.async` is set
 * explicitly; then batches are formed and the default batch handler calls
 * the message handler for each message (concurrently when async).
 */
BROOK_EXPORT void brook_handlers_set_message(brook_handlers_t *h,
                                             brook_message_handler_t *fn);

/** @brief Set the batch handler. */
BROOK_EXPORT void brook_handlers_set_batch(brook_handlers_t *h,
                                           brook_batch_handler_t *fn);

/** @brief Set the dead-letter callback. */
BROOK_EXPORT void brook_handlers_set_dead_letter(brook_handlers_t *h,
                                                 brook_dead_letter_cb_t *fn);

/** @brief Set the async per-message result callback. */
BROOK_EXPORT void brook_handlers_set_result(brook_handlers_t *h,
                                            brook_result_cb_t *fn);

/** @brief Set the value decoder and the function that frees its objects. */
BROOK_EXPORT void brook_handlers_set_decoder(brook_handlers_t *h,
                                             brook_decoder_t *decode,
                                             brook_decoded_free_t *free_fn);

/** @brief Set the partition assignment notification. */
BROOK_EXPORT void brook_handlers_set_partitions(brook_handlers_t *h,
                                                brook_partitions_cb_t *fn);

/**
 * @brief Create a batch consumer.
 *
 * @param conf     configuration; copied, the caller keeps ownership.
 *                 `bootstrap.servers` and `group.id` are required.
 * @param handlers handler set; copied. A message or a batch handler is
 *                 required.
 * @param opaque   passed to every handler.
 * @param errstr   receives the reason on failure.
 * @returns the consumer, or NULL on failure with @p errstr set.
 */
BROOK_EXPORT brook_consumer_t *
brook_consumer_new(const brook_conf_t *conf, const brook_handlers_t *handlers,
                   void *opaque, char *errstr, size_t errstr_size);

/**
 * @brief Subscribe to @p topic_cnt topics (replaces a previous
 *        subscription). Call before brook_consumer_run().
 * @returns BROOK_OK, BROOK_ERR_INVALID_ARG, or BROOK_ERR_KAFKA with detail.
 */
BROOK_EXPORT brook_err_t brook_consumer_subscribe(brook_consumer_t *c,
                                                  const char *const *topics,
                                                  size_t topic_cnt,
                                                  char *errstr,
                                                  size_t errstr_size);

/**
 * @brief Consume until brook_consumer_stop() or a fatal error.
 *
 * On stop, batches being processed finish (bounded by
 * `shutdown.timeout.ms`), completed work is committed, batches not yet
 * started are left uncommitted for the next owner, and the consumer leaves
 * its group.
 * @returns NULL after a clean stop, else an error object to free with
 *          brook_error_destroy() (e.g. `dead.letter.policy=fail`, unknown
 *          topic, authentication failure).
 * @remark Blocks the calling thread. Call at most once per consumer.
 */
BROOK_EXPORT brook_error_t *brook_consumer_run(brook_consumer_t *c);

/**
 * @brief Ask brook_consumer_run() to return.
 * @remark Safe from any thread and from a signal handler (it only sets a
 *         flag that the run loop checks at least every 100 ms).
 */
BROOK_EXPORT void brook_consumer_stop(brook_consumer_t *c);

/**
 * @brief Change a batch setting while the consumer runs, applied at the
 *        next batch boundary.
 * @param name `batch.size`, `batch.timeout.ms` or `batch.max.bytes`.
 * @returns BROOK_OK, or the same errors and messages as brook_conf_set();
 *          BROOK_ERR_CONF_INVALID for a property that cannot change at run
 *          time.
 * @remark Thread-safe.
 */
BROOK_EXPORT brook_err_t brook_consumer_update_batch_config(brook_consumer_t *c,
                                                            const char *name,
                                                            const char *value,
                                                            char *errstr,
                                                            size_t errstr_size);

/**
 * @brief Free the consumer. Accepts NULL. Call after brook_consumer_run()
 *        returned (or instead of running it).
 */
BROOK_EXPORT void brook_consumer_destroy(brook_consumer_t *c);

/* ------------------------------------------------------------------ */
/* telemetry (brook/telemetry.h) of a consumer                        */

/**
 * @brief The telemetry handle of a consumer.
 * @returns the handle (owned by the consumer, valid until
 *          brook_consumer_destroy()), or NULL for a NULL consumer.
 * @remark Thread-safe.
 */
BROOK_EXPORT brook_telemetry_t *brook_consumer_telemetry(brook_consumer_t *c);

/** @brief brook_telemetry_event_attach() on the consumer's telemetry. */
BROOK_EXPORT int64_t brook_consumer_event_attach(brook_consumer_t *c,
                                                 const char *name,
                                                 brook_event_cb_t *cb,
                                                 void *opaque);

/** @brief brook_telemetry_event_detach() on the consumer's telemetry. */
BROOK_EXPORT brook_err_t brook_consumer_event_detach(brook_consumer_t *c,
                                                     int64_t id);

/** @brief brook_telemetry_set_span_hooks() on the consumer's telemetry. */
BROOK_EXPORT brook_err_t
brook_consumer_set_span_hooks(brook_consumer_t *c, brook_span_start_cb_t *start,
                              brook_span_end_cb_t *end, void *opaque);

/**
 * @brief brook_telemetry_metrics_text() of the consumer; free the result
 *        with brook_telemetry_free().
 */
BROOK_EXPORT char *brook_consumer_metrics_text(brook_consumer_t *c,
                                               size_t *lenp);

#ifdef __cplusplus
}
#endif
#endif /* BROOK_CONSUMER_H */
