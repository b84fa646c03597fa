/*
 * kafka/msg.h: the structures behind brook_msg_t and brook_batch_t. Not API.
 *
 * A brook_msg_t wraps one librdkafka message (zero copy) and carries the
 * per-message bookkeeping of the acknowledgment strategies. A brook_batch_t
 * is the view handed to a batch handler: pointers to the messages of one
 * attempt, all of one partition, in offset order.
 */
#ifndef BROOK__KAFKA_MSG_H
#define BROOK__KAFKA_MSG_H

#include <librdkafka/rdkafka.h>

#include "brook/msg.h"
#include "core/core.h"
#include "kafka/producer.h"

/* Message states (brook_msg_t.state). */
enum {
        BROOK__MSG_PENDING = 0, /* to be processed (again) */
        BROOK__MSG_OK,          /* processed successfully */
        BROOK__MSG_DLQ_SENT,    /* produced to the DLQ, awaiting report */
        BROOK__MSG_DLQ_RETRY,   /* DLQ produce failed, to be re-sent */
        BROOK__MSG_DEAD         /* durably dead-lettered or skipped */
};

struct brook_msg_s {
        rd_kafka_message_t *rkm;
        void *decoded;     /* decoder output, freed by the decoded_free */
        char *reason;      /* failure reason of the last attempt (owned) */
        char *traceparent; /* cached traceparent header, NUL-terminated */
        void *owner;       /* the consumer unit holding the message */
        brook__dr_tracker_t dlq_tr; /* its dead letter's delivery report */
        int32_t fails;              /* failed attempts so far */
        uint8_t state;
        uint8_t failed;    /* failed in the current attempt */
        uint8_t permanent; /* cannot succeed (decode failure) */
        uint8_t tp_parsed; /* traceparent looked up */
};

struct brook_batch_s {
        brook_msg_t **msgs; /* the messages of this attempt */
        size_t cnt;
        size_t bytes;
        const char *topic;
        int32_t partition;
        int attempt;
};

/* Key + value bytes of a librdkafka message. */
static inline size_t brook__rkm_bytes(const rd_kafka_message_t *rkm)
{
        return rkm->len + rkm->key_len;
}

/* Reset the per-attempt failure of @p m. */
void brook__msg_clear_failure(brook_msg_t *m);

/* Record a failure of @p m with @p reason (copied; NULL: default). */
void brook__msg_set_failure(brook_msg_t *m, const char *reason);

/* Free what the message owns (not the rkm). */
void brook__msg_release(brook_msg_t *m);

#endif /* BROOK__KAFKA_MSG_H */
