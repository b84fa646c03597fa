/*
 * 3107: trace context continues through the streams runtime: records with
 * a W3C traceparent (and tracestate) header, passed through a map
 * processor, are produced by the sink with those headers, read back by a
 * separate librdkafka client.
 */
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "streams_test.h"

#define CNT 200
#define TP  "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

static brook_err_t same(brook_ctx_t *ctx, brook_record_t *rec,
                        brook_record_t **outp, void *opaque)
{
        (void)ctx;
        (void)opaque;
        *outp = rec; /* forwarded as it is: its headers go with it */
        return BROOK_OK;
}

int main(void)
{
        char es[512], in[64], out[80], app[80], state[256];
        brook_mock_cluster_t *mc = brook_mock_cluster_new(1, es, sizeof(es));
        brook_topology_t *t = brook_topology_new();
        brook_processor_t *m = brook_proc_map_new(same, NULL);
        brook_conf_t *conf = brook_conf_new();
        const char *inp = in, *bs;
        rd_kafka_conf_t *rkc;
        rd_kafka_t *rk;
        brook_streams_t *s;
        test_rec_t *recs;
        size_t n, i;
        int j;

        TEST_ASSERT(mc, "%s", es);
        bs = brook_mock_cluster_bootstraps(mc);
        snprintf(in, sizeof(in), "%s", test_name("t3107"));
        snprintf(out, sizeof(out), "%s-out", in);
        snprintf(app, sizeof(app), "%s-app", in);
        snprintf(state, sizeof(state), "/tmp/brook-3107-%d", (int)getpid());
        brook_mock_cluster_create_topic(mc, in, 1, 1);
        brook_mock_cluster_create_topic(mc, out, 1, 1);
        /* Input with trace context headers, produced by plain librdkafka. */
        rkc = rd_kafka_conf_new();
        rd_kafka_conf_set(rkc, "bootstrap.servers", bs, es, sizeof(es));
        rk = rd_kafka_new(RD_KAFKA_PRODUCER, rkc, es, sizeof(es));
        TEST_ASSERT(rk, "%s", es);
        for (j = 0; j < CNT; j++) {
                char key[16], val[16];

                snprintf(key, sizeof(key), "k%d", j);
                snprintf(val, sizeof(val), "v%d", j);
                TEST_ASSERT(!rd_kafka_producev(
                                rk, RD_KAFKA_V_TOPIC(in),
                                RD_KAFKA_V_KEY(key, strlen(key)),
                                RD_KAFKA_V_VALUE(val, strlen(val)),
                                RD_KAFKA_V_HEADER("traceparent", TP, -1),
                                RD_KAFKA_V_HEADER("tracestate", "vendor=x", -1),
                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                RD_KAFKA_V_END),
                            "produce");
        }
        rd_kafka_flush(rk, 10000);
        rd_kafka_destroy(rk);

        TEST_ASSERT(
            !brook_topology_add_source(t, "src", &inp, 1, brook_serde_string(),
                                       brook_serde_string(), es, sizeof(es)),
            "%s", es);
        TEST_ASSERT(!brook_topology_add_processor(t, "map", m,
                                                  (const char *[]){"src"}, 1,
                                                  es, sizeof(es)),
                    "%s", es);
        TEST_ASSERT(!brook_topology_add_sink(
                        t, "sink", out, brook_serde_string(),
                        brook_serde_string(), NULL, NULL,
                        (const char *[]){"map"}, 1, es, sizeof(es)),
                    "%s", es);
        brook_processor_destroy(m);
        TEST_ASSERT(!brook_mock_cluster_conf_apply(mc, conf), "conf");
        test_conf_set(conf, "application.id", app);
        test_conf_set(conf, "state.dir", state);
        test_conf_set(conf, "commit.interval.ms", "200");
        test_conf_set(conf, "log.level", "warn");
        s = brook_streams_new(t, conf, es, sizeof(es));
        TEST_ASSERT(s, "%s", es);
        TEST_ASSERT(!brook_streams_start(s), "start");
        TEST_ASSERT(st_wait_metric(s, "records.processed", CNT, 30000) == CNT,
                    "processed");
        brook_error_destroy(brook_streams_close(s));
        brook_streams_destroy(s);
        n = test_read_topic(bs, out, &recs);
        TEST_ASSERT(n == CNT, "%zu output records", n);
        for (i = 0; i < n; i++) {
                const char *tp = test_rec_header(&recs[i], "traceparent");
                const char *ts = test_rec_header(&recs[i], "tracestate");

                TEST_ASSERT(tp && !strcmp(tp, TP), "record %zu: traceparent %s",
                            i, tp ? tp : "missing");
                TEST_ASSERT(ts && !strcmp(ts, "vendor=x"),
                            "record %zu: tracestate %s", i,
                            ts ? ts : "missing");
        }
        TEST_SAY("%zu sink records carry the input's traceparent/tracestate",
                 n);
        test_recs_free(recs, n);
        brook_topology_destroy(t);
        brook_conf_destroy(conf);
        brook_mock_cluster_destroy(mc);
        snprintf(es, sizeof(es), "rm -rf %s", state);
        TEST_ASSERT(system(es) == 0, "rm");
        return 0;
}
