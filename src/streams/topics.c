/*
 * streams/topics.c: topic checks when a runtime starts (sources and sinks
 * exist, each sub-topology's topics are co-partitioned) and changelog topic
 * creation through the admin API, plus brook_admin_create_topic().
 *
 * Topic metadata is read with an all-topics request, which never creates
 * a topic as a side effect (a per-topic request from a producer may, on
 * brokers with auto.create.topics.enable).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/conf.h"
#include "streams/streams.h"

static brook_err_t pass_kafka(const char *name, const char *value, void *arg)
{
        char es[512];

        /* Only what a plain client needs (security, addresses, timeouts):
         * consumer and producer tuning does not matter here. */
        if (!strncmp(name, "security.", 9) || !strncmp(name, "sasl.", 5) ||
            !strncmp(name, "ssl.", 4) || !strncmp(name, "socket.", 7) ||
            !strncmp(name, "broker.", 7) || !strncmp(name, "client.", 7) ||
            !strncmp(name, "debug", 5) || !strncmp(name, "api.", 4) ||
            !strncmp(name, "metadata.", 9) || !strncmp(name, "reconnect.", 10))
                return rd_kafka_conf_set(arg, name, value, es, sizeof(es)) ==
                               RD_KAFKA_CONF_OK
                           ? BROOK_OK
                           : BROOK_ERR_CONF_INVALID;
        return BROOK_OK;
}

static rd_kafka_t *admin_client(const brook_conf_t *conf, char *errstr,
                                size_t errstr_size)
{
        rd_kafka_conf_t *rkc = rd_kafka_conf_new();
        char es[512];
        rd_kafka_t *rk;

        if (rd_kafka_conf_set(rkc, "bootstrap.servers",
                              brook__conf_str(conf, "bootstrap.servers",
                                              BROOK__SCOPE_STREAMS),
                              es, sizeof(es)) ||
            rd_kafka_conf_set(rkc, "client.id", "brook-admin", es,
                              sizeof(es)) ||
            rd_kafka_conf_set(rkc, "log_level", "3", es, sizeof(es)) ||
            brook__conf_foreach(conf, "kafka.", pass_kafka, rkc)) {
                rd_kafka_conf_destroy(rkc);
                brook__errstr(errstr, errstr_size, "admin client: %s", es);
                return NULL;
        }
        if (!(rk = rd_kafka_new(RD_KAFKA_PRODUCER, rkc, es, sizeof(es)))) {
                rd_kafka_conf_destroy(rkc);
                brook__errstr(errstr, errstr_size, "admin client: %s", es);
        }
        return rk;
}

/* Partition count of @p topic in @p md, 0 when absent. */
static int md_partitions(const struct rd_kafka_metadata *md, const char *topic)
{
        int i;

        for (i = 0; i < md->topic_cnt; i++)
                if (!strcmp(md->topics[i].topic, topic))
                        return md->topics[i].err ? 0
                                                 : md->topics[i].partition_cnt;
        return 0;
}

static brook_err_t metadata(rd_kafka_t *rk, int timeout_ms,
                            const struct rd_kafka_metadata **mdp, char *errstr,
                            size_t errstr_size)
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
static brook_err_t create_topic(rd_kafka_t *rk, const char *topic,
                                int partitions, int rf,
                                const char *const *configs, size_t config_cnt,
                                int timeout_ms, char *errstr,
                                size_t errstr_size)
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

                if (!metadata(rk, 5000, &md, NULL, 0)) {
                        int n = md_partitions(md, topic);

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

brook_err_t brook_admin_create_topic(const brook_conf_t *conf,
                                     const char *topic, int partitions,
                                     int replication_factor,
                                     const char *const *configs,
                                     size_t config_cnt, int timeout_ms,
                                     char *errstr, size_t errstr_size)
{
        const struct rd_kafka_metadata *md;
        rd_kafka_t *rk;
        brook_err_t err;
        int have;

        if (!conf || !topic || !*topic || partitions < 1 ||
            (config_cnt && !configs) || timeout_ms < 1) {
                brook__errstr(errstr, errstr_size,
                              "brook_admin_create_topic: conf, topic, "
                              "partitions >= 1 and timeout_ms >= 1 are "
                              "required");
                return BROOK_ERR_INVALID_ARG;
        }
        if (!(rk = admin_client(conf, errstr, errstr_size)))
                return BROOK_ERR_KAFKA;
        if (!(err = metadata(rk, timeout_ms, &md, errstr, errstr_size))) {
                have = md_partitions(md, topic);
                rd_kafka_metadata_destroy(md);
                if (have > 0 && have != partitions) {
                        brook__errstr(errstr, errstr_size,
                                      "topic %s exists with %d partitions, "
                                      "not %d",
                                      topic, have, partitions);
                        err = BROOK_ERR_TOPOLOGY;
                } else if (!have) {
                        err = create_topic(
                            rk, topic, partitions, replication_factor, configs,
                            config_cnt, timeout_ms, errstr, errstr_size);
                }
        }
        rd_kafka_destroy(rk);
        return err;
}

/* Check the source topics of each sub-topology and the sink topics. */
static brook_error_t *check_topics(brook_streams_t *s,
                                   const struct rd_kafka_metadata *md)
{
        const brook_topology_t *t = s->topo;
        size_t i, j;

        for (i = 0; i < t->sub_cnt; i++) {
                const char *first = NULL, *first_src = NULL;

                s->sub_parts[i] = 0;
                for (j = 0; j < t->node_cnt; j++) {
                        const brook__node_t *n = t->nodes[j];
                        size_t k;

                        if (n->type != BROOK__NODE_SOURCE ||
                            n->subtopo != (int)i)
                                continue;
                        for (k = 0; k < n->topic_cnt; k++) {
                                int p = md_partitions(md, n->topics[k]);

                                if (!p)
                                        return brook__error_new(
                                            BROOK_ERR_UNKNOWN_TOPIC, 1, 0,
                                            "source \"%s\": topic \"%s\" "
                                            "does not exist",
                                            n->name, n->topics[k]);
                                if (!first) {
                                        first = n->topics[k];
                                        first_src = n->name;
                                        s->sub_parts[i] = p;
                                } else if (p != s->sub_parts[i]) {
                                        return brook__error_new(
                                            BROOK_ERR_TOPOLOGY, 1, 0,
                                            "sub-topology %zu is not "
                                            "co-partitioned: topic \"%s\" "
                                            "(source \"%s\") has %d "
                                            "partitions, topic \"%s\" "
                                            "(source \"%s\") has %d",
                                            i, first, first_src,
                                            (int)s->sub_parts[i], n->topics[k],
                                            n->name, p);
                                }
                        }
                }
        }
        for (j = 0; j < t->node_cnt; j++) {
                const brook__node_t *n = t->nodes[j];

                if (n->type != BROOK__NODE_SINK)
                        continue;
                if (!(s->sink_parts[j] = md_partitions(md, n->topic)))
                        return brook__error_new(BROOK_ERR_UNKNOWN_TOPIC, 1, 0,
                                                "sink \"%s\": topic \"%s\" "
                                                "does not exist",
                                                n->name, n->topic);
        }
        return NULL;
}

/* Create the missing changelog topics; check the existing ones. */
static brook_error_t *changelogs(brook_streams_t *s, rd_kafka_t *rk,
                                 const struct rd_kafka_metadata *md)
{
        static const char *cfg[] = {"cleanup.policy", "compact"};
        const brook_topology_t *t = s->topo;
        char topic[600], es[600];
        int rf =
            (int)brook__conf_int(s->conf, "store.changelog.replication.factor",
                                 BROOK__SCOPE_STREAMS);
        size_t i;

        if (!s->changelog)
                return NULL;
        for (i = 0; i < t->store_cnt; i++) {
                const brook__store_def_t *d = t->stores[i];
                int want, have;
                brook_err_t err;

                if (d->subtopo < 0 || (d->flags & BROOK_STORE_F_NO_CHANGELOG))
                        continue;
                want = s->sub_parts[d->subtopo];
                snprintf(topic, sizeof(topic), "%s-%s-changelog", s->app_id,
                         d->name);
                have = md_partitions(md, topic);
                if (have && have != want)
                        return brook__error_new(
                            BROOK_ERR_TOPOLOGY, 1, 0,
                            "changelog topic \"%s\" of store \"%s\" has %d "
                            "partitions; its sub-topology's topics have %d",
                            topic, d->name, have, want);
                if (have)
                        continue;
                err = create_topic(rk, topic, want, rf, cfg, 1,
                                   s->topic_timeout_ms, es, sizeof(es));
                if (err)
                        return brook__error_new(
                            err, 1, 0,
                            "changelog topic \"%s\" of store \"%s\" does "
                            "not exist and could not be created (create it "
                            "with %d partitions and cleanup.policy=compact, "
                            "or set store.changelog.enable=false): %s",
                            topic, d->name, want, es);
                brook__log(&s->log, BROOK_LOG_INFO, "changelog.created",
                           "topic=%s partitions=%d", topic, want);
        }
        return NULL;
}

brook_error_t *brook__streams_prepare_topics(brook_streams_t *s)
{
        const struct rd_kafka_metadata *md;
        brook_error_t *e;
        rd_kafka_t *rk;
        char es[600];
        brook_err_t err;

        free(s->sink_parts);
        free(s->sub_parts);
        s->sink_parts = calloc(s->topo->node_cnt, sizeof(*s->sink_parts));
        s->sub_parts = calloc(s->topo->sub_cnt + 1, sizeof(*s->sub_parts));
        if (!s->sink_parts || !s->sub_parts)
                return brook__error_new(BROOK_ERR_NO_MEM, 1, 0,
                                        "out of memory");
        if (!(rk = admin_client(s->conf, es, sizeof(es))))
                return brook__error_new(BROOK_ERR_KAFKA, 1, 0, "%s", es);
        if ((err = metadata(rk, s->topic_timeout_ms, &md, es, sizeof(es)))) {
                rd_kafka_destroy(rk);
                return brook__error_new(err, 1, 1, "%s", es);
        }
        if (!(e = check_topics(s, md)))
                e = changelogs(s, rk, md);
        rd_kafka_metadata_destroy(md);
        rd_kafka_destroy(rk);
        return e;
}
