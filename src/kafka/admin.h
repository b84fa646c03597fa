/*
 * kafka/admin.h: topic metadata and creation through an admin client.
 * Not API.
 */
#ifndef BROOK__KAFKA_ADMIN_H
#define BROOK__KAFKA_ADMIN_H

#include "kafka/client.h"

/* An admin client (role BROOK__KROLE_ADMIN); @p kc may be NULL (then
 * librdkafka logs its errors itself). NULL with @p errstr. */
rd_kafka_t *brook__admin_new(const brook__settings_t *st, brook__kclient_t *kc,
                             char *errstr, size_t errstr_size);

/* Partition count of @p topic in @p md, 0 when absent or in error. */
int brook__admin_partitions(const struct rd_kafka_metadata *md,
                            const char *topic);

/* Metadata of every topic within @p timeout_ms: BROOK_OK, or
 * BROOK_ERR_TRANSPORT (unreachable) / BROOK_ERR_KAFKA with @p errstr
 * (may be NULL). */
brook_err_t brook__admin_metadata(rd_kafka_t *rk, int timeout_ms,
                                  const struct rd_kafka_metadata **mdp,
                                  char *errstr, size_t errstr_size);

/* CreateTopics (an existing topic is fine), then wait until the metadata
 * shows it; @p configs holds @p config_cnt name/value pairs; @p rf -1
 * takes the broker's default. */
brook_err_t brook__admin_create_topic(rd_kafka_t *rk, const char *topic,
                                      int partitions, int rf,
                                      const char *const *configs,
                                      size_t config_cnt, int timeout_ms,
                                      char *errstr, size_t errstr_size);

#endif /* BROOK__KAFKA_ADMIN_H */
