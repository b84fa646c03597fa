/*
 * 3102: processing.error.handler on the embedded cluster.
 *
 * Input: 1000 records with 8-byte big-endian int64 values i, plus 5
 * records whose value is 3 bytes (the int64 deserializer rejects them).
 * Processor P (record only) fails i % 10 == 3 with brook_ctx_fail(); the
 * batch processor B fails i % 10 == 5 inside process_batch. Then:
 *  - dead_letter: the output holds exactly the other records; the
 *    dead-letter topic holds every failed source record (bad ones
 *    included) with its key, original value and the origin headers;
 *    offsets are committed to the end.
 *  - skip: same output, records.skipped counts them, nothing dead-lettered.
 *  - fail: the runtime stops by itself with BROOK_ERR_HANDLER naming the
 *    node and the offset, and nothing at or past the first failing record
 *    is committed.
 */
#include <string.h>

#include "streams_test.h"

#define CNT 1000
#define BAD 5

static brook_err_t p_process(brook_ctx_t *ctx, brook_record_t *rec, void *st)
{
        int64_t v;

        (void)st;
        memcpy(&v, brook_record_value(rec, NULL), 8);
        if (v % 10 == 3)
                return brook_ctx_fail(ctx, rec, "P rejects 3");
        return brook_ctx_forward(ctx, rec);
}

static brook_err_t b_batch(brook_ctx_t *ctx, brook_record_t *const *recs,
                           size_t cnt, void *st)
{
        size_t i;

        (void)st;
        for (i = 0; i < cnt; i++) {
                int64_t v;

                memcpy(&v, brook_record_value(recs[i], NULL), 8);
                if (v % 10 == 5)
                        brook_ctx_fail(ctx, recs[i], "B rejects 5");
                else
                        brook_ctx_forward(ctx, recs[i]);
        }
        return BROOK_OK;
}

static void produce_input(const char *bs, const char *topic)
{
        static char keys[CNT + BAD][16];
        static unsigned char vals[CNT + BAD][8];
        const char *kp[CNT + BAD];
        const void *vp[CNT + BAD];
        size_t vl[CNT + BAD], n = 0;
        int64_t i;

        for (i = 0; i < CNT; i++) {
                snprintf(keys[n], sizeof(keys[n]), "k%lld", (long long)i);
                brook_int64_to_be(i, vals[n]);
                kp[n] = keys[n];
                vp[n] = vals[n];
                vl[n++] = 8;
                if (i == 500 || i == 900 || i >= CNT - (BAD - 2)) {
                        /* bad records: 3-byte values */
                        kp[n] = "bad";
                        vp[n] = "xyz";
                        vl[n++] = 3;
                }
        }
        st_produce_kvs(bs, topic, 0, kp, vp, vl, n);
}

static brook_topology_t *topology(const char *in_, const char *out)
{
        const char *in = in_;
        brook_topology_t *t = brook_topology_new();
        brook_processor_t *p = brook_processor_new(),
                          *b = brook_processor_new();
        char es[512];

        brook_processor_set_process(p, p_process);
        brook_processor_set_process_batch(b, b_batch);
        TEST_ASSERT(
            !brook_topology_add_source(t, "src", &in, 1, brook_serde_string(),
                                       brook_serde_int64(), es, sizeof(es)),
            "%s", es);
        TEST_ASSERT(!brook_topology_add_processor(
                        t, "P", p, (const char *[]){"src"}, 1, es, sizeof(es)),
                    "%s", es);
        TEST_ASSERT(!brook_topology_add_processor(
                        t, "B", b, (const char *[]){"P"}, 1, es, sizeof(es)),
                    "%s", es);
        TEST_ASSERT(
            !brook_topology_add_sink(t, "sink", out, brook_serde_string(),
                                     brook_serde_int64(), NULL, NULL,
                                     (const char *[]){"B"}, 1, es, sizeof(es)),
            "%s", es);
        brook_processor_destroy(p);
        brook_processor_destroy(b);
        return t;
}

static brook_streams_t *start(brook_mock_cluster_t *mc, brook_topology_t *t,
                              const char *app, const char *handler,
                              const char *dlq)
{
        brook_conf_t *conf = brook_conf_new();
        brook_streams_t *s;
        brook_error_t *err;
        char es[512];

        TEST_ASSERT(!brook_mock_cluster_conf_apply(mc, conf), "conf");
        test_conf_set(conf, "application.id", app);
        test_conf_set(conf, "state.dir", st_tmpdir("brook-3102"));
        test_conf_set(conf, "commit.interval.ms", "100");
        test_conf_set(conf, "processing.error.handler", handler);
        if (dlq)
                test_conf_set(conf, "dead.letter.topic", dlq);
        s = brook_streams_new(t, conf, es, sizeof(es));
        TEST_ASSERT(s, "%s", es);
        brook_conf_destroy(conf);
        TEST_ASSERT(!(err = brook_streams_start(s)), "start: %s",
                    brook_error_string(err));
        return s;
}

static int failing(int64_t i)
{
        return i % 10 == 3 || i % 10 == 5;
}

/* The output holds exactly the records that did not fail. */
static void check_output(const char *bs, const char *out)
{
        size_t n, i, want = 0;
        st_rec_t *recs = st_read_topic(bs, out, &n);
        char *seen = calloc(CNT, 1);

        for (i = 0; i < CNT; i++)
                want += !failing((int64_t)i);
        TEST_ASSERT(n == want, "output %zu records, expected %zu", n, want);
        for (i = 0; i < n; i++) {
                int64_t v;

                TEST_ASSERT(recs[i].value_len == 8, "value length");
                v = brook_int64_from_be(recs[i].value);
                TEST_ASSERT(v >= 0 && v < CNT && !failing(v) && !seen[v],
                            "unexpected output %lld", (long long)v);
                seen[v] = 1;
        }
        free(seen);
        st_recs_free(recs, n);
}

int main(void)
{
        char es[512];
        brook_mock_cluster_t *mc = brook_mock_cluster_new(1, es, sizeof(es));
        char in[64];
        const char *bs;
        char dlq[256], out[3][200], last_app[128];
        brook_topology_t *t;
        brook_streams_t *s;
        brook_error_t *err;
        st_rec_t *recs;
        size_t n, i, nfail = 0;
        int run;
        int64_t off;

        TEST_ASSERT(mc, "%s", es);
        snprintf(in, sizeof(in), "%s", test_name("i3102"));
        bs = brook_mock_cluster_bootstraps(mc);
        TEST_ASSERT(!brook_mock_cluster_create_topic(mc, in, 1, 1), "topic");
        snprintf(dlq, sizeof(dlq), "%s.dlq", in);
        TEST_ASSERT(!brook_mock_cluster_create_topic(mc, dlq, 1, 1), "topic");
        for (run = 0; run < 3; run++) {
                snprintf(out[run], sizeof(out[run]), "%s-out%d", in, run);
                TEST_ASSERT(
                    !brook_mock_cluster_create_topic(mc, out[run], 1, 1),
                    "topic");
        }
        produce_input(bs, in);
        for (i = 0; i < CNT; i++)
                nfail += failing((int64_t)i);

        /* dead_letter */
        t = topology(in, out[0]);
        snprintf(last_app, sizeof(last_app), "%s", test_name("a3102dlq"));
        s = start(mc, t, last_app, "dead_letter", "{topic}.dlq");
        TEST_ASSERT(
            st_wait_metric(s, "records.dead_lettered", (int64_t)(nfail + BAD),
                           30000) == (int64_t)(nfail + BAD),
            "dead-lettered %lld",
            (long long)brook_streams_metric(s, "records.dead_lettered"));
        TEST_ASSERT(st_wait_metric(s, "records.processed", CNT + BAD, 30000) ==
                        CNT + BAD,
                    "processed");
        TEST_ASSERT(!(err = brook_streams_close(s)), "close: %s",
                    brook_error_string(err));
        brook_streams_destroy(s);
        brook_topology_destroy(t);
        check_output(bs, out[0]);
        recs = st_read_topic(bs, dlq, &n);
        TEST_ASSERT(n == nfail + BAD, "dead letters: %zu, expected %zu", n,
                    nfail + BAD);
        for (i = 0; i < n; i++) {
                char reason[512], node[64];

                snprintf(reason, sizeof(reason), "%s",
                         st_rec_header(&recs[i], "brook.dlq.reason"));
                snprintf(node, sizeof(node), "%s",
                         st_rec_header(&recs[i], "brook.dlq.node"));

                TEST_ASSERT(
                    !strcmp(st_rec_header(&recs[i], "brook.dlq.topic"), in),
                    "origin topic");
                TEST_ASSERT(
                    !strcmp(st_rec_header(&recs[i], "brook.dlq.partition"),
                            "0"),
                    "origin partition");
                TEST_ASSERT(
                    st_rec_header(&recs[i], "brook.dlq.offset") &&
                        st_rec_header(&recs[i], "brook.dlq.failed_at") &&
                        st_rec_header(&recs[i], "brook.dlq.task"),
                    "origin headers: %s", recs[i].hdrs);
                if (recs[i].value_len == 3) {
                        TEST_ASSERT(!strcmp(node, "src") &&
                                        strstr(reason, "deserialization"),
                                    "bad record: node %s reason %s", node,
                                    reason);
                } else {
                        int64_t v = brook_int64_from_be(recs[i].value);

                        TEST_ASSERT(failing(v), "dead letter %lld",
                                    (long long)v);
                        TEST_ASSERT(!strcmp(node, v % 10 == 3 ? "P" : "B"),
                                    "node %s for %lld", node, (long long)v);
                        TEST_ASSERT(strstr(reason, v % 10 == 3 ? "P rejects"
                                                               : "B rejects"),
                                    "reason %s", reason);
                }
        }
        TEST_SAY("dead_letter: %zu dead letters with origin headers, e.g.\n%s",
                 n, recs[0].hdrs);
        st_recs_free(recs, n);
        TEST_ASSERT(st_end_offset(bs, in, 0) ==
                        test_wait_committed(bs, last_app, in, 0,
                                            st_end_offset(bs, in, 0), 10000),
                    "dead_letter: offsets not committed to the end");

        /* skip */
        t = topology(in, out[1]);
        s = start(mc, t, test_name("a3102skip"), "skip", NULL);
        TEST_ASSERT(st_wait_metric(s, "records.processed", CNT + BAD, 30000) ==
                        CNT + BAD,
                    "processed");
        TEST_ASSERT(!(err = brook_streams_close(s)), "close: %s",
                    brook_error_string(err));
        TEST_ASSERT(brook_streams_metric(s, "records.skipped") ==
                            (int64_t)(nfail + BAD) &&
                        brook_streams_metric(s, "records.dead_lettered") == 0,
                    "skipped %lld",
                    (long long)brook_streams_metric(s, "records.skipped"));
        brook_streams_destroy(s);
        brook_topology_destroy(t);
        check_output(bs, out[1]);
        TEST_SAY("skip: %zu skipped", nfail + BAD);

        /* fail */
        {
                const char *app = test_name("a3102fail");

                t = topology(in, out[2]);
                s = start(mc, t, app, "fail", NULL);
                TEST_ASSERT(brook_streams_wait(s, (int)test_timeout_ms(30000)),
                            "the runtime did not stop on its own");
                err = brook_streams_close(s);
                TEST_ASSERT(err && brook_error_code(err) == BROOK_ERR_HANDLER,
                            "fail handler: %s", brook_error_string(err));
                /* Stages run over the whole batch in turn: the source's
                 * deserialization failure (offset 501) comes before P's
                 * (offset 3) in processing order. */
                TEST_ASSERT((strstr(brook_error_string(err), "node P") &&
                             strstr(brook_error_string(err), "offset 3")) ||
                                (strstr(brook_error_string(err), "node src") &&
                                 strstr(brook_error_string(err), "offset 501")),
                            "error names node and offset: %s",
                            brook_error_string(err));
                TEST_SAY("fail: %s", brook_error_string(err));
                brook_error_destroy(err);
                brook_streams_destroy(s);
                brook_topology_destroy(t);
                off = test_committed(bs, app, in, 0);
                TEST_ASSERT(off < 4, "committed %lld past the failed record",
                            (long long)off);
        }
        brook_mock_cluster_destroy(mc);
        return 0;
}
