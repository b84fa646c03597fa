/*
 * streams/topics.c: topic checks when a runtime starts (sources and sinks
 * exist, each sub-topology's topics are co-partitioned) and changelog topic
 * creation (kafka/admin.c), plus brook_admin_create_topic().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafka/admin.h"
#include "streams/streams.h"

brook_err_t brook_admin_create_topic(const brook_conf_t *conf,
                                     const char *topic, int partitions,
                                     int replication_factor,
                                     const char *const *configs,
                                     size_t config_cnt, int timeout_ms,
                                     char *errstr, size_t errstr_size)
{
        const struct rd_kafka_metadata *md;
        brook__settings_t st;
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
        brook__settings_load(&st, conf, BROOK__COMP_HELPER, NULL, 0);
        if (!(rk = brook__admin_new(&st, NULL, errstr, errstr_size)))
                return BROOK_ERR_KAFKA;
        if (!(err = brook__admin_metadata(rk, timeout_ms, &md, errstr,
                                          errstr_size))) {
                have = brook__admin_partitions(md, topic);
                rd_kafka_metadata_destroy(md);
                if (have > 0 && have != partitions) {
                        brook__errstr(errstr, errstr_size,
                                      "topic %s exists with %d partitions, "
                                      "not %d",
                                      topic, have, partitions);
                        err = BROOK_ERR_TOPOLOGY;
                } else if (!have) {
                        err = brook__admin_create_topic(
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
                                int p =
                                    brook__admin_partitions(md, n->topics[k]);

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
                if (!(s->sink_parts[j] = brook__admin_partitions(md, n->topic)))
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
        int rf = (int)s->st.store_changelog_replication_factor;
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
                have = brook__admin_partitions(md, topic);
                if (have && have != want)
                        return brook__error_new(
                            BROOK_ERR_TOPOLOGY, 1, 0,
                            "changelog topic \"%s\" of store \"%s\" has %d "
                            "partitions; its sub-topology's topics have %d",
                            topic, d->name, have, want);
                if (have)
                        continue;
                err = brook__admin_create_topic(rk, topic, want, rf, cfg, 1,
                                                s->topic_timeout_ms, es,
                                                sizeof(es));
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
        s->admin_kc.log = &s->log;
        s->admin_kc.name = "admin";
        s->admin_kc.owner = s;
        if (!(rk = brook__admin_new(&s->st, &s->admin_kc, es, sizeof(es))))
                return brook__error_new(BROOK_ERR_KAFKA, 1, 0, "%s", es);
        if ((err = brook__admin_metadata(rk, s->topic_timeout_ms, &md, es,
                                         sizeof(es)))) {
                rd_kafka_destroy(rk);
                return brook__error_new(err, 1, 1, "%s", es);
        }
        if (!(e = check_topics(s, md)))
                e = changelogs(s, rk, md);
        rd_kafka_metadata_destroy(md);
        rd_kafka_destroy(rk);
        return e;
}
