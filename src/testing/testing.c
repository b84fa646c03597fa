/*
 * testing/testing.c: the embedded cluster (librdkafka's mock cluster) behind
 * brook/testing.h.
 */
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "brook/testing.h"
#include "core/core.h"

struct brook_mock_cluster_s {
        rd_kafka_t *rk; /* owns the mock cluster */
        rd_kafka_mock_cluster_t *mc;
        char *bootstraps;
};

brook_mock_cluster_t *brook_mock_cluster_new(int broker_cnt, char *errstr,
                                             size_t errstr_size)
{
        brook_mock_cluster_t *m;
        rd_kafka_conf_t *rkc;
        char es[256];

        if (broker_cnt < 1 || broker_cnt > 16) {
                brook__errstr(errstr, errstr_size,
                              "broker_cnt: %d is out of range (allowed: "
                              "1..16)",
                              broker_cnt);
                return NULL;
        }
        if (!(m = calloc(1, sizeof(*m)))) {
                brook__errstr(errstr, errstr_size, "out of memory");
                return NULL;
        }
        rkc = rd_kafka_conf_new();
        rd_kafka_conf_set(rkc, "log_level", "3", es, sizeof(es));
        m->rk = rd_kafka_new(RD_KAFKA_PRODUCER, rkc, es, sizeof(es));
        if (!m->rk) {
                rd_kafka_conf_destroy(rkc);
                brook__errstr(errstr, errstr_size, "librdkafka: %s", es);
                free(m);
                return NULL;
        }
        m->mc = rd_kafka_mock_cluster_new(m->rk, broker_cnt);
        if (!m->mc) {
                brook__errstr(errstr, errstr_size,
                              "cannot start the embedded cluster");
                rd_kafka_destroy(m->rk);
                free(m);
                return NULL;
        }
        m->bootstraps = strdup(rd_kafka_mock_cluster_bootstraps(m->mc));
        return m;
}

const char *brook_mock_cluster_bootstraps(const brook_mock_cluster_t *mc)
{
        return mc ? mc->bootstraps : NULL;
}

brook_err_t brook_mock_cluster_create_topic(brook_mock_cluster_t *mc,
                                            const char *topic, int partitions,
                                            int replication_factor)
{
        if (!mc || !topic || partitions < 1 || replication_factor < 1)
                return BROOK_ERR_INVALID_ARG;
        return rd_kafka_mock_topic_create(mc->mc, topic, partitions,
                                          replication_factor)
                   ? BROOK_ERR_KAFKA
                   : BROOK_OK;
}

brook_err_t brook_mock_cluster_conf_apply(const brook_mock_cluster_t *mc,
                                          brook_conf_t *conf)
{
        static const char *kv[][2] = {
            {"kafka.fetch.wait.max.ms", "5"},
            {"kafka.queued.min.messages", "1000000"},
        };
        brook_err_t err;
        size_t i, sz = 0;

        if (!mc || !conf)
                return BROOK_ERR_INVALID_ARG;
        if ((err = brook_conf_set(conf, "bootstrap.servers", mc->bootstraps,
                                  NULL, 0)))
                return err;
        for (i = 0; i < sizeof(kv) / sizeof(kv[0]); i++)
                if ((err = brook_conf_set(conf, kv[i][0], kv[i][1], NULL, 0)))
                        return err;
        if (brook_conf_get(conf, "kafka.session.timeout.ms", NULL, &sz) ==
            BROOK_ERR_CONF_UNKNOWN)
                return brook_conf_set(conf, "kafka.session.timeout.ms", "6000",
                                      NULL, 0);
        return BROOK_OK;
}

void brook_mock_cluster_push_request_errors(brook_mock_cluster_t *mc,
                                            int16_t api_key, size_t cnt,
                                            int kafka_err)
{
        rd_kafka_resp_err_t *errs;
        size_t i;

        if (!mc || !cnt || !(errs = calloc(cnt, sizeof(*errs))))
                return;
        for (i = 0; i < cnt; i++)
                errs[i] = (rd_kafka_resp_err_t)kafka_err;
        rd_kafka_mock_push_request_errors_array(mc->mc, api_key, cnt, errs);
        free(errs);
}

brook_err_t brook_mock_cluster_broker_down(brook_mock_cluster_t *mc,
                                           int32_t broker_id, int down)
{
        if (!mc)
                return BROOK_ERR_INVALID_ARG;
        return (down ? rd_kafka_mock_broker_set_down(mc->mc, broker_id)
                     : rd_kafka_mock_broker_set_up(mc->mc, broker_id))
                   ? BROOK_ERR_KAFKA
                   : BROOK_OK;
}

void brook_mock_cluster_destroy(brook_mock_cluster_t *mc)
{
        if (!mc)
                return;
        rd_kafka_mock_cluster_destroy(mc->mc);
        rd_kafka_destroy(mc->rk);
        free(mc->bootstraps);
        free(mc);
}
