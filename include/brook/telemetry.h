/*
 * brook - batch-first Kafka stream processing in C.
 *
 * telemetry.h: the signals operators plug their tools into.
 *
 *  - Events: attach a callback for an exact event name or a prefix and
 *    receive measurements (integers) and metadata (group, topic,
 *    partition, offsets, ...). Nothing is computed while nothing is
 *    attached.
 *  - Metrics: a built-in registry (counters, histograms, gauges, consumer
 *    lag) exported as Prometheus text over HTTP (`metrics.listen`) and as
 *    DogStatsD over UDP (`metrics.statsd.address`), or read with
 *    brook_telemetry_metrics_text().
 *  - Trace context: W3C `traceparent` / `tracestate` of consumed records,
 *    and span hooks around every batch with links to the messages'
 *    contexts, for a tracer such as OpenTelemetry (docs/TELEMETRY.md).
 *
 * Every consumer (and streams instance) owns one telemetry handle,
 * brook_consumer_telemetry() (declared in brook/consumer.h) and
 * brook_streams_telemetry(); it lives as long as its owner.
 */
#ifndef BROOK_TELEMETRY_H
#define BROOK_TELEMETRY_H

#include "brook/common.h"
#include "brook/msg.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @brief Telemetry of one consumer or streams instance (opaque). */
typedef struct brook_telemetry_s brook_telemetry_t;

/**
 * @brief One event: a name, integer measurements and metadata (opaque).
 * @remark Valid only during the callback it is passed to.
 */
typedef struct brook_event_s brook_event_t;

/**
 * @brief Event callback.
 *
 * @param ev     the event; valid only during the call.
 * @param opaque the pointer given at attach time.
 * @remark Called on the thread where the event happens (see docs of each
 *         event in docs/TELEMETRY.md): for the consumer, batch.start,
 *         batch.stop, messages.processed and batch.exception (handler
 *         errors) come from the thread that runs the batch handler (the
 *         run() thread in sync mode, a batch thread when
 *         `batch.async=true`, so calls for different partitions may be
 *         concurrent); batch.exception for a handler timeout and the
 *         dead_letter events come from the run() thread. Keep it short:
 *         it delays the batch.
 *         It must not attach or detach callbacks (those calls return
 *         BROOK_ERR_STATE from inside a callback).
 */
typedef void(brook_event_cb_t)(const brook_event_t *ev, void *opaque);

/**
 * @brief Span start hook: called right before a batch handler runs.
 *
 * @param ev        the batch.start event (name, count, bytes, group,
 *                  topic, partition, first/last offset; brook_event_batch()
 *                  gives the batch, brook_event_links() the messages'
 *                  trace contexts to link the span to).
 * @param opaque    the pointer given to brook_telemetry_set_span_hooks().
 * @returns the application's span object, handed back to the end hook.
 * @remark Called on the thread that runs the batch handler, right before
 *         it, so a tracer may make the span current (thread-local) for the
 *         handler and restore the previous context in the end hook.
 */
typedef void *(brook_span_start_cb_t)(const brook_event_t *ev, void *opaque);

/**
 * @brief Span end hook: called right after the batch handler returned.
 *
 * @param span   what the start hook returned.
 * @param ev     the batch.stop event: duration_ns, count, failed_count;
 *               metadata status (`ok`, `partial`, `failed`) and, for a
 *               whole-batch failure, error.
 * @param opaque the pointer given to brook_telemetry_set_span_hooks().
 * @remark Same thread as the start hook; called once per start.
 */
typedef void(brook_span_end_cb_t)(void *span, const brook_event_t *ev,
                                  void *opaque);

/** @brief Streams instance (declared in brook/streams.h). */
typedef struct brook_streams_s brook_streams_t;

/**
 * @brief The telemetry handle of a streams instance: events
 *        `brook.streams.task.created` {partition},
 * `brook.streams.task.restored` {records} (metadata task, store, changelog),
 *        `brook.streams.task.committed` {duration_ns} (metadata task),
 *        `brook.streams.batch.processed` {count, duration_ns} (metadata
 *        task, topic, partition, first_offset, last_offset), and the
 *        `brook_streams_*` metrics (batches, records, durations, sizes).
 * @returns the handle (owned by the instance, valid until
 *          brook_streams_destroy()), or NULL for a NULL instance.
 * @remark Events are emitted on the stream threads.
 */
BROOK_EXPORT brook_telemetry_t *brook_streams_telemetry(brook_streams_t *s);

/**
 * @brief Attach an event callback.
 *
 * @param tel    telemetry handle.
 * @param name   an exact event name ("brook.consumer.batch.stop"), or a
 *               prefix ending in '.' ("brook.consumer.batch." matches
 *               batch.start, batch.stop and batch.exception;
 *               "brook." matches everything); copied.
 * @param cb     the callback.
 * @param opaque passed to @p cb.
 * @returns the subscription id (> 0) for brook_telemetry_event_detach(),
 *          or a negated error: -BROOK_ERR_INVALID_ARG (NULL argument),
 *          -BROOK_ERR_NO_MEM, -BROOK_ERR_STATE (called from inside an
 *          event callback).
 * @remark Thread-safe; may be called while the consumer runs. Events that
 *         started before the call may not reach the new callback.
 */
BROOK_EXPORT int64_t brook_telemetry_event_attach(brook_telemetry_t *tel,
                                                  const char *name,
                                                  brook_event_cb_t *cb,
                                                  void *opaque);

/**
 * @brief Detach an event callback.
 * @returns BROOK_OK, BROOK_ERR_NOT_FOUND for an unknown id,
 *          BROOK_ERR_INVALID_ARG for a NULL handle, BROOK_ERR_STATE when
 *          called from inside an event callback.
 * @remark Thread-safe. When it returns, the callback is not running and
 *         will not be called again: its opaque may be freed.
 */
BROOK_EXPORT brook_err_t brook_telemetry_event_detach(brook_telemetry_t *tel,
                                                      int64_t id);

/**
 * @brief Set (or with NULL, NULL clear) the span hooks.
 *
 * Every batch attempt then calls @p start before the handler and @p end
 * after it. Both or neither must be set.
 * @returns BROOK_OK, BROOK_ERR_INVALID_ARG (NULL handle, or only one hook),
 *          BROOK_ERR_STATE when called from inside an event callback.
 * @remark Thread-safe; a batch that started with the previous hooks ends
 *         with them.
 */
BROOK_EXPORT brook_err_t brook_telemetry_set_span_hooks(
    brook_telemetry_t *tel, brook_span_start_cb_t *start,
    brook_span_end_cb_t *end, void *opaque);

/**
 * @brief The Prometheus text exposition (format 0.0.4) of the metrics,
 *        as served on `metrics.listen`'s GET /metrics.
 *
 * @param lenp receives the length (may be NULL).
 * @returns a NUL-terminated string to free with brook_telemetry_free(),
 *          or NULL (NULL handle, out of memory).
 * @remark Thread-safe; works whether or not an exporter is configured.
 */
BROOK_EXPORT char *brook_telemetry_metrics_text(brook_telemetry_t *tel,
                                                size_t *lenp);

/** @brief Free memory returned by brook_telemetry_*(). Accepts NULL. */
BROOK_EXPORT void brook_telemetry_free(void *ptr);

/**
 * @brief The address the metrics HTTP listener is bound to, e.g.
 *        "127.0.0.1:9464" (useful with `metrics.listen=127.0.0.1:0`).
 * @returns BROOK_OK, BROOK_ERR_NOT_FOUND when `metrics.listen` is empty,
 *          BROOK_ERR_INVALID_ARG for NULL arguments or a too small buffer.
 */
BROOK_EXPORT brook_err_t brook_telemetry_metrics_address(
    const brook_telemetry_t *tel, char *buf, size_t size);

/** @brief The event's name, e.g. "brook.consumer.batch.stop". */
BROOK_EXPORT const char *brook_event_name(const brook_event_t *ev);

/**
 * @brief A measurement by key (e.g. "count", "duration_ns").
 * @param valuep receives the value (may be NULL).
 * @returns BROOK_OK or BROOK_ERR_NOT_FOUND.
 */
BROOK_EXPORT brook_err_t brook_event_measurement(const brook_event_t *ev,
                                                 const char *key,
                                                 int64_t *valuep);

/** @brief Number of measurements. */
BROOK_EXPORT size_t brook_event_measurement_count(const brook_event_t *ev);

/**
 * @brief The measurement at @p idx (0 .. count-1).
 * @param valuep receives the value (may be NULL).
 * @returns its key, or NULL when @p idx is out of range.
 */
BROOK_EXPORT const char *brook_event_measurement_at(const brook_event_t *ev,
                                                    size_t idx,
                                                    int64_t *valuep);

/**
 * @brief A metadata value as text by key ("group", "topic", "partition",
 *        "first_offset", "last_offset", ...).
 * @returns the value, valid during the callback, or NULL when absent.
 */
BROOK_EXPORT const char *brook_event_metadata(const brook_event_t *ev,
                                              const char *key);

/**
 * @brief A numeric metadata value ("partition", "first_offset", ...).
 * @returns BROOK_OK, or BROOK_ERR_NOT_FOUND when absent or not a number.
 */
BROOK_EXPORT brook_err_t brook_event_metadata_int(const brook_event_t *ev,
                                                  const char *key,
                                                  int64_t *valuep);

/** @brief Number of metadata entries. */
BROOK_EXPORT size_t brook_event_metadata_count(const brook_event_t *ev);

/**
 * @brief The metadata entry at @p idx (0 .. count-1).
 * @param valuep receives its text value (may be NULL).
 * @returns its key, or NULL when @p idx is out of range.
 */
BROOK_EXPORT const char *brook_event_metadata_at(const brook_event_t *ev,
                                                 size_t idx,
                                                 const char **valuep);

/**
 * @brief The batch the event is about (batch.start, batch.stop,
 *        batch.exception for a handler error, messages.processed), or
 *        NULL.
 * @remark Valid during the callback; read it, do not fail messages.
 */
BROOK_EXPORT const brook_batch_t *brook_event_batch(const brook_event_t *ev);

/**
 * @brief The message the event is about (dead_letter.sent,
 *        dead_letter.failed), or NULL. Valid during the callback.
 */
BROOK_EXPORT const brook_msg_t *brook_event_msg(const brook_event_t *ev);

/**
 * @brief The span links of a batch event: the valid W3C `traceparent`
 *        values of the batch's messages, in offset order (messages without
 *        one are left out).
 *
 * @param cntp receives the number of links (0 when there are none or the
 *             event has no batch).
 * @returns the array, or NULL when there are none; valid during the
 *          callback (and the span start hook).
 * @remark Computed on the first call for an event, by reading every
 *         message's headers (librdkafka parses them then): call it only
 *         when the links are used.
 */
BROOK_EXPORT const char *const *brook_event_links(const brook_event_t *ev,
                                                  size_t *cntp);

/**
 * @brief The W3C `tracestate` header of a record whose `traceparent` is
 *        valid (brook_msg_traceparent()).
 *
 * @param lenp receives the length (may be NULL).
 * @returns the value (not NUL-terminated; valid as long as the message),
 *          or NULL when absent, empty, or when the record has no valid
 *          traceparent (the W3C rule: tracestate without a valid
 *          traceparent is ignored).
 */
BROOK_EXPORT const char *brook_msg_tracestate(const brook_msg_t *msg,
                                              size_t *lenp);

#ifdef __cplusplus
}
#endif
#endif /* BROOK_TELEMETRY_H */
