/*
 * kafka/admin.c: admin requests brook needs: topic metadata (read with an
 * all-topics request, which never creates a topic as a side effect: a
 * per-topic request from a producer may, on brokers with
 * auto.create.topics.enable) and topic creation.
 */
#include <stdio.h>
#include <string.h>

#include "kafka/admin.h"

rd_kafka_t *brook__admin_new(const brook__settings_t *st, brook__kclient_t *kc,
                             char *errstr, size_t errstr_size)
{
        char cid[300];
        brook__kopts_t o = {cid, NULL, NULL, 0};
        rd_kafka_conf_t *rkc;

        snprintf(cid, sizeof(cid), "%s-admin", st->client_id);
        if (!(rkc = brook__kafka_conf(BROOK__KROLE_ADMIN, st, &o, kc, errstr,
                                      errstr_size)))
                return NULL;
        return brook__kafka_new(BROOK__KROLE_ADMIN, rkc, errstr, errstr_size);
}

/* Partition count of @p topic in @p md, 0 when absent. */
int brook__admin_partitions(const struct rd_kafka_metadata *md,
                            const char *topic)
{
        int i;

        for (i = 0; i < md->topic_cnt; i++)
                if (!strcmp(md->topics[i].topic, topic))
                        return md->topics[i].err ? 0
                                                 : md->topics[i].partition_cnt;
        return 0;
}

brook_err_t brook__admin_metadata(rd_kafka_t *rk, int timeout_ms,
                                  const struct rd_kafka_metadata **mdp,
                                  char *errstr, size_t errstr_size)
{
        rd_kafka_resp_err_t err =
            rd_kafka_metadata(rk, 1, NULL, mdp, timeout_ms);

        if (err) {
                *mdp = NULL;
                brook__errstr(errstr, errstr_size,
                              "cannot read topic metadata from %s within "
                              "%d ms: %s",
                              "the cluster", timeout_ms, rd_kafka_err2str(err));
                return err == RD_KAFKA_RESP_ERR__TIMED_OUT ||
                               err == RD_KAFKA_RESP_ERR__TRANSPORT
                           ? BROOK_ERR_TRANSPORT
                           : BROOK_ERR_KAFKA;
        }
        return BROOK_OK;
}

/* CreateTopics, then wait until the metadata shows the topic. */
brook_err_t brook__admin_create_topic(rd_kafka_t *rk, const char *topic,
                                      int partitions, int rf,
                                      const char *const *configs,
                                      size_t config_cnt, int timeout_ms,
                                      char *errstr, size_t errstr_size)
{
        char es[512];
        rd_kafka_NewTopic_t *nt =
            rd_kafka_NewTopic_new(topic, partitions, rf, es, sizeof(es));
        rd_kafka_queue_t *q;
        rd_kafka_AdminOptions_t *opts;
        rd_kafka_event_t *ev;
        const rd_kafka_CreateTopics_result_t *res;
        const rd_kafka_topic_result_t **tr;
        size_t i, cnt = 0;
        int64_t deadline = brook__now_us() + (int64_t)timeout_ms * 1000;
        brook_err_t err = BROOK_OK;

        if (!nt) {
                brook__errstr(errstr, errstr_size, "topic %s: %s", topic, es);
                return BROOK_ERR_INVALID_ARG;
        }
        for (i = 0; i + 1 < config_cnt * 2; i += 2)
                rd_kafka_NewTopic_set_config(nt, configs[i], configs[i + 1]);
        q = rd_kafka_queue_new(rk);
        opts = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
        rd_kafka_AdminOptions_set_request_timeout(opts, timeout_ms, es,
                                                  sizeof(es));
        rd_kafka_AdminOptions_set_operation_timeout(opts, timeout_ms, es,
                                                    sizeof(es));
        rd_kafka_CreateTopics(rk, &nt, 1, opts, q);
        ev = rd_kafka_queue_poll(q, timeout_ms + 2000);
        if (!ev) {
                brook__errstr(errstr, errstr_size,
                              "creating topic %s: no answer within %d ms "
                              "(does the cluster support the admin API?)",
                              topic, timeout_ms);
                err = BROOK_ERR_TIMED_OUT;
        } else if (rd_kafka_event_error(ev)) {
                brook__errstr(errstr, errstr_size, "creating topic %s: %s",
                              topic, rd_kafka_event_error_string(ev));
                err = rd_kafka_event_error(ev) == RD_KAFKA_RESP_ERR__TIMED_OUT
                          ? BROOK_ERR_TIMED_OUT
                          : BROOK_ERR_KAFKA;
        } else if ((res = rd_kafka_event_CreateTopics_result(ev)) &&
                   (tr = rd_kafka_CreateTopics_result_topics(res, &cnt)) &&
                   cnt == 1 && rd_kafka_topic_result_error(tr[0]) &&
                   rd_kafka_topic_result_error(tr[0]) !=
                       RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
                brook__errstr(errstr, errstr_size, "creating topic %s: %s",
                              topic, rd_kafka_topic_result_error_string(tr[0]));
                err = BROOK_ERR_KAFKA;
        }
        if (ev)
                rd_kafka_event_destroy(ev);
        rd_kafka_AdminOptions_destroy(opts);
        rd_kafka_queue_destroy(q);
        rd_kafka_NewTopic_destroy(nt);
        /* Created: wait until it is visible. */
        while (!err) {
                const struct rd_kafka_metadata *md;

                if (!brook__admin_metadata(rk, 5000, &md, NULL, 0)) {
                        int n = brook__admin_partitions(md, topic);

                        rd_kafka_metadata_destroy(md);
                        if (n > 0)
                                break;
                }
                if (brook__now_us() > deadline) {
                        brook__errstr(errstr, errstr_size,
                                      "topic %s was created but is not "
                                      "visible within %d ms",
                                      topic, timeout_ms);
                        err = BROOK_ERR_TIMED_OUT;
                        break;
                }
                rd_kafka_poll(rk, 100);
        }
        return err;
}
