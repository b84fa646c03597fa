/*
 * kafka/deadletter.h: dead-letter records, for the batch consumer and the
 * streams runtime alike. Not API.
 *
 * A dead letter is the source record (key, value, timestamp, headers) sent
 * to the topic named by the `dead.letter.topic` template (`{topic}` stands
 * for the source topic), with headers naming where it came from and why it
 * failed: brook.dlq.topic, .partition, .offset, .timestamp, .group, then
 * .retries (consumer), .task and .node (streams), .failed_at and .reason.
 */
#ifndef BROOK__KAFKA_DEADLETTER_H
#define BROOK__KAFKA_DEADLETTER_H

#include "kafka/producer.h"

/* Where a dead letter comes from and why. */
typedef struct brook__dl_info_s {
        const rd_kafka_message_t *src; /* the source record */
        const char *group;             /* brook.dlq.group */
        int retries;                   /* brook.dlq.retries, -1: none */
        const char *task;              /* brook.dlq.task, NULL: none */
        const char *node;              /* brook.dlq.node, NULL: none */
        const char *reason;            /* brook.dlq.reason */
} brook__dl_info_t;

/* The topic for a record of @p src_topic: @p tmpl with {topic} expanded,
 * truncated to @p size. */
void brook__dl_topic(const char *tmpl, const char *src_topic, char *out,
                     size_t size);

/* The dead letter's headers: a copy of the source's plus brook.dlq.*. */
rd_kafka_headers_t *brook__dl_headers(const brook__dl_info_t *info);

/*
 * Produce the dead letter of @p info to the topic @p tmpl names, through
 * @p p (asynchronously; @p tracker, may be NULL, gets the delivery
 * report). @p topic receives the topic name. BROOK_OK, or BROOK_ERR_KAFKA
 * with @p errstr when it could not be queued.
 */
brook_err_t brook__dl_send(brook__producer_t *p, const char *tmpl,
                           const brook__dl_info_t *info,
                           brook__dr_tracker_t *tracker, char *topic,
                           size_t topic_size, char *errstr, size_t errstr_size);

#endif /* BROOK__KAFKA_DEADLETTER_H */
