/*
 * 3103: start-time topic checks and co-partitioned sources.
 *  - a source reading two topics with different partition counts is
 *    rejected at start with BROOK_ERR_TOPOLOGY naming both topics;
 *  - a missing source topic, a missing sink topic: BROOK_ERR_UNKNOWN_TOPIC
 *    naming the node and topic;
 *  - with equal partition counts, partition p of both topics goes to the
 *    same task (one task per partition group, id "0_<p>"), each topic's
 *    records arriving as batches of that topic, in offset order.
 */
#include <string.h>

#include "streams_test.h"

#define PARTS 3
#define CNT   3000

static int64_t next_off[2][PARTS];
static int task_ok = 1;
static const char *topic_a, *topic_b;

static brook_err_t batch_fn(brook_ctx_t *ctx, brook_record_t *const *recs,
                            size_t cnt, void *st)
{
        const char *topic = brook_record_topic(recs[0]);
        int which = !strcmp(topic, topic_b);
        int32_t p = brook_ctx_partition(ctx);
        char want[16];
        size_t i;

        (void)st;
        snprintf(want, sizeof(want), "0_%d", (int)p);
        if (strcmp(brook_ctx_task_id(ctx), want))
                task_ok = 0;
        for (i = 0; i < cnt; i++) {
                TEST_ASSERT(!strcmp(brook_record_topic(recs[i]), topic),
                            "a batch mixes topics");
                TEST_ASSERT(brook_record_partition(recs[i]) == p,
                            "task %s got partition %d", brook_ctx_task_id(ctx),
                            brook_record_partition(recs[i]));
                TEST_ASSERT(brook_record_offset(recs[i]) ==
                                next_off[which][p]++,
                            "offset order");
        }
        return BROOK_OK;
}

static brook_topology_t *topo2(const char *a, const char *b, const char *sink)
{
        brook_topology_t *t = brook_topology_new();
        brook_processor_t *p = brook_processor_new();
        const char *topics[2] = {a, b};
        char es[512];

        brook_processor_set_process_batch(p, batch_fn);
        TEST_ASSERT(!brook_topology_add_source(t, "both", topics, b ? 2 : 1,
                                               NULL, NULL, es, sizeof(es)),
                    "%s", es);
        TEST_ASSERT(!brook_topology_add_processor(t, "proc", p,
                                                  (const char *[]){"both"}, 1,
                                                  es, sizeof(es)),
                    "%s", es);
        if (sink)
                TEST_ASSERT(!brook_topology_add_sink(
                                t, "out", sink, NULL, NULL, NULL, NULL,
                                (const char *[]){"proc"}, 1, es, sizeof(es)),
                            "%s", es);
        brook_processor_destroy(p);
        return t;
}

static brook_error_t *try_start(brook_mock_cluster_t *mc, brook_topology_t *t,
                                brook_streams_t **sp)
{
        brook_conf_t *conf = brook_conf_new();
        char es[512];
        brook_error_t *err;

        TEST_ASSERT(!brook_mock_cluster_conf_apply(mc, conf), "conf");
        test_conf_set(conf, "application.id", test_name("a3103"));
        test_conf_set(conf, "state.dir", st_tmpdir("brook-3103"));
        test_conf_set(conf, "streams.topic.timeout.ms", "5000");
        *sp = brook_streams_new(t, conf, es, sizeof(es));
        TEST_ASSERT(*sp, "%s", es);
        brook_conf_destroy(conf);
        err = brook_streams_start(*sp);
        return err;
}

int main(void)
{
        char es[512], a[64], b[64], c[64];
        brook_mock_cluster_t *mc = brook_mock_cluster_new(1, es, sizeof(es));
        const char *bs;
        brook_topology_t *t;
        brook_streams_t *s;
        brook_error_t *err;
        int p;

        TEST_ASSERT(mc, "%s", es);
        bs = brook_mock_cluster_bootstraps(mc);
        snprintf(a, sizeof(a), "%s", test_name("ta"));
        snprintf(b, sizeof(b), "%s", test_name("tb"));
        snprintf(c, sizeof(c), "%s", test_name("tc"));
        topic_a = a;
        topic_b = b;
        TEST_ASSERT(!brook_mock_cluster_create_topic(mc, a, PARTS, 1), "topic");
        TEST_ASSERT(!brook_mock_cluster_create_topic(mc, b, PARTS, 1), "topic");
        TEST_ASSERT(!brook_mock_cluster_create_topic(mc, c, PARTS + 1, 1),
                    "topic");

        /* not co-partitioned */
        t = topo2(a, c, NULL);
        err = try_start(mc, t, &s);
        TEST_ASSERT(err && brook_error_code(err) == BROOK_ERR_TOPOLOGY &&
                        strstr(brook_error_string(err), a) &&
                        strstr(brook_error_string(err), c) &&
                        strstr(brook_error_string(err), "co-partitioned"),
                    "co-partitioning: %s", brook_error_string(err));
        TEST_SAY("%s", brook_error_string(err));
        brook_error_destroy(err);
        brook_streams_destroy(s);
        brook_topology_destroy(t);

        /* missing source topic */
        t = topo2(a, "no-such-topic-3103", NULL);
        err = try_start(mc, t, &s);
        TEST_ASSERT(err && brook_error_code(err) == BROOK_ERR_UNKNOWN_TOPIC &&
                        strstr(brook_error_string(err), "no-such-topic-3103"),
                    "missing source: %s", brook_error_string(err));
        TEST_SAY("%s", brook_error_string(err));
        brook_error_destroy(err);
        brook_streams_destroy(s);
        brook_topology_destroy(t);

        /* missing sink topic */
        t = topo2(a, NULL, "no-such-sink-3103");
        err = try_start(mc, t, &s);
        TEST_ASSERT(err && brook_error_code(err) == BROOK_ERR_UNKNOWN_TOPIC &&
                        strstr(brook_error_string(err), "no-such-sink-3103") &&
                        strstr(brook_error_string(err), "out"),
                    "missing sink: %s", brook_error_string(err));
        TEST_SAY("%s", brook_error_string(err));
        brook_error_destroy(err);
        brook_streams_destroy(s);
        brook_topology_destroy(t);

        /* co-partitioned: one task per partition */
        st_produce(bs, a, PARTS, 0, CNT, 0, 0);
        st_produce(bs, b, PARTS, 0, CNT, 0, 0);
        t = topo2(a, b, NULL);
        TEST_ASSERT(!(err = try_start(mc, t, &s)), "start: %s",
                    brook_error_string(err));
        TEST_ASSERT(st_wait_metric(s, "records.processed", 2 * CNT, 30000) ==
                        2 * CNT,
                    "processed %lld",
                    (long long)brook_streams_metric(s, "records.processed"));
        TEST_ASSERT(brook_streams_metric(s, "tasks.running") == PARTS,
                    "tasks %lld (one per partition group expected)",
                    (long long)brook_streams_metric(s, "tasks.running"));
        TEST_ASSERT(!(err = brook_streams_close(s)), "%s",
                    brook_error_string(err));
        TEST_ASSERT(task_ok, "a record reached the wrong task");
        for (p = 0; p < PARTS; p++)
                TEST_ASSERT(next_off[0][p] == CNT / PARTS &&
                                next_off[1][p] == CNT / PARTS,
                            "partition %d: %lld / %lld", p,
                            (long long)next_off[0][p],
                            (long long)next_off[1][p]);
        TEST_SAY("co-partitioned: %d tasks, both topics' partition p in task "
                 "0_p",
                 PARTS);
        brook_streams_destroy(s);
        brook_topology_destroy(t);
        brook_mock_cluster_destroy(mc);
        return 0;
}
