/*
 * kafka/client.h: the one place that configures and creates librdkafka
 * clients. Not API.
 *
 * Every client brook creates has a role. The role decides brook's defaults
 * (which "kafka.*" settings may override), which "kafka.*" settings reach
 * it at all (by librdkafka's own scope of each property: consumer-only
 * ones never reach a producer and the reverse; an admin client gets the
 * general ones), and what brook forces because its guarantees depend on it
 * (manual commits, idempotence and acks=all, the range assignor for
 * streams, read_committed). Every client logs through one bridge into the
 * owner's logger, reports errors and statistics through the owner's
 * brook__kclient_t, and a "kafka.*" value librdkafka refuses is reported
 * with librdkafka's own text.
 */
#ifndef BROOK__KAFKA_CLIENT_H
#define BROOK__KAFKA_CLIENT_H

#include <librdkafka/rdkafka.h>

#include "core/conf.h"
#include "core/log.h"

typedef enum {
        BROOK__KROLE_CONSUMER,        /* the batch consumer's group member */
        BROOK__KROLE_STREAM_CONSUMER, /* a stream thread's group member */
        BROOK__KROLE_RESTORE,         /* assigned by hand, never commits */
        BROOK__KROLE_PRODUCER,        /* streams sinks, changelogs, DLQ */
        BROOK__KROLE_DLQ_PRODUCER,    /* the batch consumer's dead letters */
        BROOK__KROLE_ADMIN            /* metadata and admin requests */
} brook__krole_t;

/*
 * What a client tells its owner. The owner keeps it alive as long as the
 * client; it is the client's librdkafka opaque, so role callbacks the
 * owner sets (rebalance, delivery reports) receive it and reach the owner
 * with brook__kclient_owner().
 */
typedef struct brook__kclient_s {
        const brook__logger_t *log; /* librdkafka's log lines go here */
        const char *name;           /* client=<name> in those lines */
        void *owner;
        /* librdkafka's error_cb (NULL: logged as kafka.error, WARN) */
        void (*on_error)(void *owner, rd_kafka_t *rk, int err,
                         const char *reason);
        /* statistics JSON, served by the client's poll (NULL: none) */
        void (*on_stats)(void *owner, const char *json, size_t len);
} brook__kclient_t;

/* Per-client details beyond the role. */
typedef struct brook__kopts_s {
        const char *client_id; /* NULL: client.id */
        const char *group_id;  /* group and restore consumers */
        /* extra defaults ("kafka.*" overrides them), {name, value} pairs */
        const char *const (*defaults)[2];
        size_t ndefaults;
} brook__kopts_t;

/*
 * A librdkafka configuration for @p role: bootstrap.servers, client id,
 * the role's defaults, @p o's defaults, the "kafka.*" settings in scope
 * for the role, then what brook forces. The log, error and statistics
 * callbacks go to @p kc (statistics at metrics.lag.interval.ms when
 * kc->on_stats is set). NULL with @p errstr on failure.
 */
rd_kafka_conf_t *brook__kafka_conf(brook__krole_t role,
                                   const brook__settings_t *st,
                                   const brook__kopts_t *o,
                                   brook__kclient_t *kc, char *errstr,
                                   size_t errstr_size);

/*
 * Create the client; @p rkc is consumed (also on failure). Consumers get
 * their poll redirected to the consumer queue. NULL with @p errstr.
 */
rd_kafka_t *brook__kafka_new(brook__krole_t role, rd_kafka_conf_t *rkc,
                             char *errstr, size_t errstr_size);

/* The owner behind a client's opaque (a brook__kclient_t). */
static inline void *brook__kclient_owner(void *opaque)
{
        return ((brook__kclient_t *)opaque)->owner;
}

/* The client's fatal error (after RD_KAFKA_RESP_ERR__FATAL) as a fatal
 * brook error. */
brook_error_t *brook__kafka_fatal_error(rd_kafka_t *rk);

/*
 * Carry out the assignment change a rebalance callback was told about,
 * with the protocol in use (incremental for COOPERATIVE): assign @p l for
 * RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS, else revoke it. Returns the error
 * or RD_KAFKA_RESP_ERR_NO_ERROR.
 */
rd_kafka_resp_err_t brook__kafka_rebalance(rd_kafka_t *rk,
                                           rd_kafka_resp_err_t err,
                                           rd_kafka_topic_partition_list_t *l);

/*
 * librdkafka's scope of property @p name: 'C' consumer, 'P' producer, '*'
 * both (also for names librdkafka does not list).
 */
char brook__kafka_scope(const char *name);

#endif /* BROOK__KAFKA_CLIENT_H */
