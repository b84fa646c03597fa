/*
 * brook - batch-first Kafka stream processing in C.
 *
 * msg.h: zero-copy views over consumed Kafka records, and batches of them.
 * A batch holds messages of one partition, in offset order.
 */
#ifndef BROOK_MSG_H
#define BROOK_MSG_H

#include "brook/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief A consumed record (opaque view over librdkafka's buffer).
 *
 * @remark Valid until the handler it was given to returns; copy what must
 *         live longer.
 */
typedef struct brook_msg_s brook_msg_t;

/**
 * @brief A batch of records of one topic partition, in offset order.
 * @remark Valid until the handler it was given to returns.
 */
typedef struct brook_batch_s brook_batch_t;

/** @brief Record timestamp type (Kafka's). */
typedef enum brook_ts_type_e {
        BROOK_TS_NONE = 0,
        BROOK_TS_CREATE_TIME = 1,
        BROOK_TS_LOG_APPEND_TIME = 2
} brook_ts_type_t;

/** @brief Topic name. Valid as long as the message. */
BROOK_EXPORT const char *brook_msg_topic(const brook_msg_t *msg);

/** @brief Partition. */
BROOK_EXPORT int32_t brook_msg_partition(const brook_msg_t *msg);

/** @brief Offset. */
BROOK_EXPORT int64_t brook_msg_offset(const brook_msg_t *msg);

/**
 * @brief Key bytes (not NUL-terminated).
 * @param lenp receives the length (may be NULL).
 * @returns the key, or NULL for a null key (then *lenp is 0).
 */
BROOK_EXPORT const void *brook_msg_key(const brook_msg_t *msg, size_t *lenp);

/**
 * @brief Value bytes (not NUL-terminated).
 * @param lenp receives the length (may be NULL).
 * @returns the value, or NULL for a null value / tombstone (then *lenp is 0).
 *          An empty, non-null value returns a non-NULL pointer and length 0.
 */
BROOK_EXPORT const void *brook_msg_value(const brook_msg_t *msg, size_t *lenp);

/**
 * @brief Record timestamp in milliseconds since the epoch, or -1.
 * @param typep receives the timestamp type (may be NULL).
 */
BROOK_EXPORT int64_t brook_msg_timestamp(const brook_msg_t *msg,
                                         brook_ts_type_t *typep);

/** @brief Number of headers on the record. */
BROOK_EXPORT size_t brook_msg_header_count(const brook_msg_t *msg);

/**
 * @brief The header at position @p idx (in record order).
 * @param namep   receives the name (NUL-terminated).
 * @param valuep  receives the value, NULL for a null header value.
 * @param sizep   receives the value size.
 * @returns BROOK_OK or BROOK_ERR_NOT_FOUND when @p idx is out of range.
 * @remark Pointers are valid as long as the message.
 */
BROOK_EXPORT brook_err_t brook_msg_header_get(const brook_msg_t *msg,
                                              size_t idx, const char **namep,
                                              const void **valuep,
                                              size_t *sizep);

/**
 * @brief The last header named @p name.
 * @returns BROOK_OK or BROOK_ERR_NOT_FOUND.
 */
BROOK_EXPORT brook_err_t brook_msg_header_find(const brook_msg_t *msg,
                                               const char *name,
                                               const void **valuep,
                                               size_t *sizep);

/**
 * @brief How many times this record has failed before this delivery
 *        (0 on the first attempt).
 */
BROOK_EXPORT int brook_msg_retry_count(const brook_msg_t *msg);

/**
 * @brief The value produced by the consumer's decoder, or NULL when no
 *        decoder is configured. Owned by brook; valid as long as the message.
 */
BROOK_EXPORT void *brook_msg_decoded(const brook_msg_t *msg);

/**
 * @brief The W3C trace context of the record: the `traceparent` header
 *        value as a NUL-terminated string, or NULL when absent or invalid.
 * @remark Valid as long as the message.
 */
BROOK_EXPORT const char *brook_msg_traceparent(const brook_msg_t *msg);

/**
 * @brief Mark the message as failed with a reason.
 *
 * For a message handler: `return brook_msg_fail(msg, "reason");`.
 * @param reason short text, copied (NULL gives "handler failed").
 * @returns BROOK_ERR_HANDLER, for use as the handler's return value.
 */
BROOK_EXPORT brook_err_t brook_msg_fail(brook_msg_t *msg, const char *reason);

/**
 * @brief The failure reason recorded for the message, or NULL.
 */
BROOK_EXPORT const char *brook_msg_error(const brook_msg_t *msg);

/** @brief Number of messages in the batch. */
BROOK_EXPORT size_t brook_batch_count(const brook_batch_t *batch);

/** @brief Sum of key and value sizes of the batch's messages. */
BROOK_EXPORT size_t brook_batch_bytes(const brook_batch_t *batch);

/**
 * @brief The message at position @p idx (0 .. count-1, offset order).
 * @returns the message, or NULL when @p idx is out of range.
 */
BROOK_EXPORT brook_msg_t *brook_batch_msg(const brook_batch_t *batch,
                                          size_t idx);

/** @brief Topic of every message in the batch. */
BROOK_EXPORT const char *brook_batch_topic(const brook_batch_t *batch);

/** @brief Partition of every message in the batch. */
BROOK_EXPORT int32_t brook_batch_partition(const brook_batch_t *batch);

/** @brief Offset of the first message. */
BROOK_EXPORT int64_t brook_batch_first_offset(const brook_batch_t *batch);

/** @brief Offset of the last message. */
BROOK_EXPORT int64_t brook_batch_last_offset(const brook_batch_t *batch);

/**
 * @brief Which attempt this is: 0 for the first delivery, n for the n-th
 *        retry.
 */
BROOK_EXPORT int brook_batch_attempt(const brook_batch_t *batch);

/**
 * @brief Report that the message at @p idx failed (the others succeeded
 *        unless reported too).
 * @param reason short text, copied (NULL gives "handler failed").
 * @returns BROOK_OK, or BROOK_ERR_INVALID_ARG for an index out of range.
 * @remark Call from the batch handler, before it returns.
 */
BROOK_EXPORT brook_err_t brook_batch_fail(brook_batch_t *batch, size_t idx,
                                          const char *reason);

/**
 * @brief Report that the whole batch failed.
 * @returns BROOK_ERR_HANDLER, for use as the batch handler's return value.
 */
BROOK_EXPORT brook_err_t brook_batch_fail_all(brook_batch_t *batch,
                                              const char *reason);

#ifdef __cplusplus
}
#endif
#endif /* BROOK_MSG_H */
