/*
 * streams/group.h: the records of one poll, grouped by partition. Not API.
 *
 * A stream thread's poll returns records of many partitions interleaved;
 * each partition's records, in offset order, become one batch for its
 * task.
 *
 * @locality the stream thread; no locking.
 */
#ifndef BROOK__STREAMS_GROUP_H
#define BROOK__STREAMS_GROUP_H

#include <librdkafka/rdkafka.h>

#include "core/util.h"

/* The polled messages of one partition, in offset order. */
typedef struct brook__group_s {
        rd_kafka_topic_t *rkt;
        int32_t partition;
        brook__ptrvec_t msgs;
} brook__group_t;

typedef struct brook__groups_s {
        brook__group_t *v;
        size_t cnt, cap; /* groups in use; allocated (their vectors kept) */
} brook__groups_t;

/*
 * Group @p n polled messages (their ownership passes to @p g). A message
 * that carries an error instead of a record goes to @p on_error, then is
 * destroyed. Returns 0, or -1 when out of memory: then every message of
 * the poll has been destroyed, grouped or not, and @p g is empty.
 */
int brook__group_msgs(brook__groups_t *g, rd_kafka_message_t **msgs, size_t n,
                      void (*on_error)(void *arg, rd_kafka_message_t *m),
                      void *arg);

/* Destroy the grouped messages and empty the groups (capacity kept). */
void brook__groups_clear(brook__groups_t *g);

/* Free everything. */
void brook__groups_free(brook__groups_t *g);

#endif /* BROOK__STREAMS_GROUP_H */
