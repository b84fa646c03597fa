/*
 * consumer/batcher.h: per-partition accumulation of messages into batches,
 * closed by count (batch.size), bytes (batch.max.bytes) or age
 * (batch.timeout.ms). Pure bookkeeping over librdkafka messages; it never
 * destroys them. Not API.
 *
 * @locality the consumer's run() thread.
 */
#ifndef BROOK__CONSUMER_BATCHER_H
#define BROOK__CONSUMER_BATCHER_H

#include <librdkafka/rdkafka.h>

#include "core/core.h"

typedef struct brook__limits_s {
        size_t size;        /* batch.size */
        size_t max_bytes;   /* batch.max.bytes */
        int64_t timeout_us; /* batch.timeout.ms */
} brook__limits_t;

typedef struct brook__acc_s {
        rd_kafka_message_t **msgs;
        size_t head, cnt, cap; /* live messages are msgs[head .. head+cnt) */
        size_t bytes;          /* key + value bytes of the live messages */
        int64_t first_us;      /* arrival of the oldest live message */
} brook__acc_t;

/* Append a message; returns -1 when out of memory. */
int brook__acc_push(brook__acc_t *acc, rd_kafka_message_t *rkm, int64_t now);

/* Should a batch close now? */
int brook__acc_ready(const brook__acc_t *acc, const brook__limits_t *lim,
                     int64_t now);

/* When the timer closes the current partial batch (INT64_MAX: empty). */
int64_t brook__acc_deadline(const brook__acc_t *acc,
                            const brook__limits_t *lim);

/*
 * Take the next batch: the longest prefix within batch.size and
 * batch.max.bytes (at least one message). Writes at most @p max pointers to
 * @p out and returns how many; *bytesp receives their bytes.
 */
size_t brook__acc_take(brook__acc_t *acc, const brook__limits_t *lim,
                       rd_kafka_message_t **out, size_t max, size_t *bytesp);

/* Remove every message without destroying it; returns how many and points
 * *msgsp at them (valid until the next push). */
size_t brook__acc_drain(brook__acc_t *acc, rd_kafka_message_t ***msgsp);

/* Free the accumulator's own memory (messages must be drained). */
void brook__acc_free(brook__acc_t *acc);

#endif /* BROOK__CONSUMER_BATCHER_H */
