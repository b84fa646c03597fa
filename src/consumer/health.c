/*
 * consumer/health.c: what librdkafka reports about the brokers, and what the
 * consumer makes of it: fatal errors stop it; a broker outage is ridden out
 * and logged, and ends run() with BROOK_ERR_TRANSPORT after
 * broker.unavailable.timeout.ms; shutdown and revocation wait for the
 * brokers only as long as they may be reachable.
 *
 * @locality the consumer's run() thread.
 */
#include <string.h>

#include "consumer/consumer.h"

void brook__health_error(void *owner, rd_kafka_t *rk, int err,
                         const char *reason)
{
        brook_consumer_t *c = owner;
        char rq[600];

        brook__logq(rq, sizeof(rq), reason);
        if (err == RD_KAFKA_RESP_ERR__FATAL) {
                brook__consumer_set_fatal(c, brook__kafka_fatal_error(rk));
                return;
        }
        if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
                if (!c->down_since_us)
                        c->down_since_us = brook__now_us();
                brook__log(&c->log, BROOK_LOG_ERROR, "brokers.down",
                           "error=%s reason=%s", rd_kafka_err2name(err), rq);
                return;
        }
        /* librdkafka reports ALL_BROKERS_DOWN on some transitions only
         * (not when the coordinator's logical broker lost its address
         * before the last connection failed, e.g. a broker's clean
         * shutdown): after a connection error check_brokers() probes
         * whether any broker still answers. */
        if ((err == RD_KAFKA_RESP_ERR__TRANSPORT ||
             err == RD_KAFKA_RESP_ERR__RESOLVE) &&
            !c->down_since_us && !c->suspect_since_us)
                c->suspect_since_us = brook__now_us();
        brook__log(&c->log, BROOK_LOG_WARN, "kafka.error", "error=%s reason=%s",
                   rd_kafka_err2name((rd_kafka_resp_err_t)err), rq);
}

void brook__health_msg_error(brook_consumer_t *c, rd_kafka_message_t *rkm)
{
        const char *topic = rkm->rkt ? rd_kafka_topic_name(rkm->rkt) : "";
        char rq[600];

        switch (rkm->err) {
        case RD_KAFKA_RESP_ERR__PARTITION_EOF:
                return;
        case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
        case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
        case RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED:
        case RD_KAFKA_RESP_ERR_INVALID_GROUP_ID:
                brook__consumer_set_fatal(
                    c,
                    brook__error_new(
                        rkm->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART
                            ? BROOK_ERR_UNKNOWN_TOPIC
                            : BROOK_ERR_KAFKA,
                        1, 0, "%s%s%s: %s (%s)", *topic ? "topic " : "", topic,
                        *topic ? "" : "consumer", rd_kafka_message_errstr(rkm),
                        rd_kafka_err2name(rkm->err)));
                return;
        default:
                brook__log(
                    &c->log, BROOK_LOG_WARN, "consume.error",
                    "topic=%s partition=%d error=%s reason=%s", topic,
                    (int)rkm->partition, rd_kafka_err2name(rkm->err),
                    brook__logq(rq, sizeof(rq), rd_kafka_message_errstr(rkm)));
        }
}

void brook__health_check(brook_consumer_t *c, int64_t now)
{
        const struct rd_kafka_metadata *md;
        rd_kafka_resp_err_t err;

        if ((!c->down_since_us && !c->suspect_since_us) ||
            now - c->last_probe_us < 1000000)
                return;
        c->last_probe_us = now;
        err = rd_kafka_metadata(c->rk, 0, NULL, &md, 200);
        if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
                rd_kafka_metadata_destroy(md);
                if (c->down_since_us)
                        brook__log(
                            &c->log, BROOK_LOG_INFO, "brokers.up",
                            "down_ms=%lld",
                            (long long)((now - c->down_since_us) / 1000));
                c->down_since_us = 0;
                c->suspect_since_us = 0;
                return;
        }
        if (!c->down_since_us) {
                /* A connection failed; down only if no broker is up at
                 * all (_TIMED_OUT: one took the request, just slowly). */
                if (err != RD_KAFKA_RESP_ERR__TRANSPORT)
                        return;
                c->down_since_us = c->suspect_since_us;
                c->suspect_since_us = 0;
                brook__log(&c->log, BROOK_LOG_ERROR, "brokers.down",
                           "error=%s reason=\"no broker answers a metadata "
                           "request since a connection failed %lld ms ago\"",
                           rd_kafka_err2name(RD_KAFKA_RESP_ERR__TRANSPORT),
                           (long long)((now - c->down_since_us) / 1000));
        }
        if (c->unavailable_timeout_us &&
            now - c->down_since_us >= c->unavailable_timeout_us)
                brook__consumer_set_fatal(
                    c, brook__error_new(
                           BROOK_ERR_TRANSPORT, 1, 1,
                           "no broker of bootstrap.servers=%s reachable for "
                           "%lld ms (broker.unavailable.timeout.ms)",
                           c->st.bootstrap_servers,
                           (long long)((now - c->down_since_us) / 1000)));
}

int64_t brook__broker_deadline(const brook_consumer_t *c)
{
        /* With every broker down nothing can be committed: do not wait. */
        if (c->down_since_us)
                return brook__now_us() +
                       BROOK__MIN(c->shutdown_timeout_us, 1000000);
        return brook__now_us() + c->shutdown_timeout_us;
}
