/*
 * brook - batch-first Kafka stream processing in C.
 *
 * testing.h: an embedded Kafka cluster for demos and fast tests, built on
 * librdkafka's in-process mock cluster (the real Kafka protocol on loopback
 * ports). It is not a real broker: it keeps about 5 MiB per partition and
 * drops older data, has no admin API and no transactions. Prove behaviour on
 * Apache Kafka; use this to run without one.
 */
#ifndef BROOK_TESTING_H
#define BROOK_TESTING_H

#include "brook/common.h"
#include "brook/conf.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @brief Embedded cluster (opaque). */
typedef struct brook_mock_cluster_s brook_mock_cluster_t;

/**
 * @brief Start an embedded cluster of @p broker_cnt brokers on loopback.
 * @returns the cluster, or NULL with @p errstr set.
 */
BROOK_EXPORT brook_mock_cluster_t *
brook_mock_cluster_new(int broker_cnt, char *errstr, size_t errstr_size);

/**
 * @brief The cluster's bootstrap servers ("127.0.0.1:port,...").
 * @returns a string valid until brook_mock_cluster_destroy().
 */
BROOK_EXPORT const char *
brook_mock_cluster_bootstraps(const brook_mock_cluster_t *mc);

/**
 * @brief Create a topic with @p partitions partitions.
 * @returns BROOK_OK or BROOK_ERR_KAFKA.
 */
BROOK_EXPORT brook_err_t
brook_mock_cluster_create_topic(brook_mock_cluster_t *mc, const char *topic,
                                int partitions, int replication_factor);

/**
 * @brief Point @p conf at the cluster and apply the client settings it needs
 *        to perform well (`kafka.fetch.wait.max.ms=5`,
 *        `kafka.queued.min.messages=1000000`, and a 6 s session timeout unless
 *        one is set already).
 * @returns BROOK_OK or the error of brook_conf_set().
 */
BROOK_EXPORT brook_err_t brook_mock_cluster_conf_apply(
    const brook_mock_cluster_t *mc, brook_conf_t *conf);

/**
 * @brief Make the next @p cnt requests of Kafka protocol type @p api_key
 *        (e.g. 0 = Produce, 8 = OffsetCommit) fail with librdkafka error
 *        code @p kafka_err.
 */
BROOK_EXPORT void brook_mock_cluster_push_request_errors(
    brook_mock_cluster_t *mc, int16_t api_key, size_t cnt, int kafka_err);

/**
 * @brief Take broker @p broker_id (or -1 for all) down (1) or up (0).
 */
BROOK_EXPORT brook_err_t brook_mock_cluster_broker_down(
    brook_mock_cluster_t *mc, int32_t broker_id, int down);

/** @brief Stop and free the cluster. Accepts NULL. */
BROOK_EXPORT void brook_mock_cluster_destroy(brook_mock_cluster_t *mc);

#ifdef __cplusplus
}
#endif
#endif /* BROOK_TESTING_H */
