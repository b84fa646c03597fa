/*
 * 3101: the batch path on the embedded cluster.
 *
 * Topology: source -> B1 (batch) -> R (record only) -> B2 (batch) -> sink.
 * With 20000 records already waiting (load), B1 receives batches larger
 * than one record, each of one partition, in offset order without gaps;
 * R gets the records one by one, with their source metadata (topic,
 * partition, offset, timestamp, header) intact; B2 still receives batches
 * larger than one. The output topic, read back with a plain librdkafka
 * consumer, holds exactly the transformed records (values, keys,
 * timestamps and headers), and the committed offsets reach the end.
 */
#include <string.h>

#include "streams_test.h"

#define PARTS   2
#define CNT     20000
#define TS_BASE 1700000000000LL

static const char *in_topic;
static int64_t b1_next[PARTS], r_next[PARTS], b2_next[PARTS];
static int b1_max, b2_max, b1_calls, b2_calls, r_calls;

static int64_t idx_of(const brook_record_t *r, const char *prefix)
{
        size_t n, pl = strlen(prefix);
        const char *v = brook_record_value(r, &n);
        char buf[32];

        TEST_ASSERT(v && n > pl && n - pl < sizeof(buf) &&
                        !memcmp(v, prefix, pl),
                    "value %.*s lacks %s", (int)n, v ? v : "", prefix);
        memcpy(buf, v + pl, n - pl);
        buf[n - pl] = '\0';
        return atoll(buf);
}

static void check_meta(const brook_record_t *r, int32_t part, int64_t off)
{
        const void *hv;
        size_t hs;
        char want[32];
        int64_t i = idx_of(
            r, strncmp(brook_record_value(r, NULL), "R:", 2) ? "v" : "R:v");

        TEST_ASSERT(!strcmp(brook_record_topic(r), in_topic), "topic %s",
                    brook_record_topic(r));
        TEST_ASSERT(brook_record_partition(r) == part, "partition %d != %d",
                    brook_record_partition(r), part);
        TEST_ASSERT(brook_record_offset(r) == off,
                    "partition %d: offset %lld, expected %lld", part,
                    (long long)brook_record_offset(r), (long long)off);
        /* record i went to partition i % PARTS at offset i / PARTS */
        TEST_ASSERT(i == off * PARTS + part, "record %lld at offset %lld",
                    (long long)i, (long long)off);
        TEST_ASSERT(brook_record_timestamp(r) == TS_BASE + i, "timestamp");
        snprintf(want, sizeof(want), "%lld", (long long)i);
        TEST_ASSERT(!brook_record_header_find(r, "i", &hv, &hs) &&
                        hs == strlen(want) && !memcmp(hv, want, hs),
                    "header i");
}

static brook_err_t b1_batch(brook_ctx_t *ctx, brook_record_t *const *recs,
                            size_t cnt, void *st)
{
        int32_t p = brook_ctx_partition(ctx);
        size_t i;

        (void)st;
        b1_calls++;
        if ((int)cnt > b1_max)
                b1_max = (int)cnt;
        for (i = 0; i < cnt; i++)
                check_meta(recs[i], p, b1_next[p]++);
        return brook_ctx_forward_batch(ctx, recs, cnt);
}

static brook_err_t r_process(brook_ctx_t *ctx, brook_record_t *rec, void *st)
{
        int32_t p = brook_ctx_partition(ctx);
        size_t vl;
        const char *v = brook_record_value(rec, &vl);
        char buf[64];
        brook_record_t *out;

        (void)st;
        r_calls++;
        check_meta(rec, p, r_next[p]++);
        snprintf(buf, sizeof(buf), "R:%.*s", (int)vl, v);
        {
                size_t kl;
                const void *k = brook_record_key(rec, &kl);

                out =
                    brook_ctx_record_new(ctx, rec, k, kl, buf, strlen(buf), 0);
        }
        TEST_ASSERT(out, "record_new");
        TEST_ASSERT(!brook_record_header_add(out, "r", "1", 1), "header_add");
        TEST_ASSERT(brook_record_header_add(rec, "x", "1", 1) ==
                        BROOK_ERR_STATE,
                    "header_add on a source record must be refused");
        return brook_ctx_forward(ctx, out);
}

static brook_err_t b2_batch(brook_ctx_t *ctx, brook_record_t *const *recs,
                            size_t cnt, void *st)
{
        int32_t p = brook_ctx_partition(ctx);
        size_t i;

        (void)st;
        b2_calls++;
        if ((int)cnt > b2_max)
                b2_max = (int)cnt;
        for (i = 0; i < cnt; i++) {
                TEST_ASSERT(brook_record_header_count(recs[i]) == 2,
                            "headers: %zu", brook_record_header_count(recs[i]));
                check_meta(recs[i], p, b2_next[p]++);
        }
        return brook_ctx_forward_batch(ctx, recs, cnt);
}

int main(void)
{
        char es[512];
        brook_mock_cluster_t *mc = brook_mock_cluster_new(1, es, sizeof(es));
        const char *out_topic = test_name("o3101");
        const char *app = test_name("a3101");
        const char *bs;
        brook_topology_t *t = brook_topology_new();
        brook_processor_t *b1 = brook_processor_new(),
                          *r = brook_processor_new(),
                          *b2 = brook_processor_new();
        brook_conf_t *conf = brook_conf_new();
        brook_streams_t *s;
        brook_error_t *err;
        st_rec_t *recs;
        size_t n, i;
        char *seen;
        int p;

        in_topic = test_name("i3101");
        TEST_ASSERT(mc, "%s", es);
        bs = brook_mock_cluster_bootstraps(mc);
        TEST_ASSERT(!brook_mock_cluster_create_topic(mc, in_topic, PARTS, 1),
                    "topic");
        TEST_ASSERT(!brook_mock_cluster_create_topic(mc, out_topic, PARTS, 1),
                    "topic");
        st_produce(bs, in_topic, PARTS, 0, CNT, 0, TS_BASE);

        brook_processor_set_process_batch(b1, b1_batch);
        brook_processor_set_process(r, r_process);
        brook_processor_set_process_batch(b2, b2_batch);
        TEST_ASSERT(!brook_topology_add_source(
                        t, "src", &in_topic, 1, brook_serde_string(),
                        brook_serde_string(), es, sizeof(es)),
                    "%s", es);
        TEST_ASSERT(!brook_topology_add_processor(t, "B1", b1,
                                                  (const char *[]){"src"}, 1,
                                                  es, sizeof(es)),
                    "%s", es);
        TEST_ASSERT(!brook_topology_add_processor(
                        t, "R", r, (const char *[]){"B1"}, 1, es, sizeof(es)),
                    "%s", es);
        TEST_ASSERT(!brook_topology_add_processor(
                        t, "B2", b2, (const char *[]){"R"}, 1, es, sizeof(es)),
                    "%s", es);
        TEST_ASSERT(
            !brook_topology_add_sink(t, "sink", out_topic, brook_serde_string(),
                                     brook_serde_string(), NULL, NULL,
                                     (const char *[]){"B2"}, 1, es, sizeof(es)),
            "%s", es);
        brook_processor_destroy(b1);
        brook_processor_destroy(r);
        brook_processor_destroy(b2);

        TEST_ASSERT(!brook_mock_cluster_conf_apply(mc, conf), "conf");
        test_conf_set(conf, "application.id", app);
        test_conf_set(conf, "state.dir", st_tmpdir("brook-3101"));
        test_conf_set(conf, "commit.interval.ms", "500");
        test_conf_set(conf, "streams.batch.max.records", "500");
        s = brook_streams_new(t, conf, es, sizeof(es));
        TEST_ASSERT(s, "streams: %s", es);
        TEST_ASSERT(!(err = brook_streams_start(s)), "start: %s",
                    brook_error_string(err));
        TEST_ASSERT(st_wait_metric(s, "records.produced", CNT, 60000) == CNT,
                    "produced %lld of %d",
                    (long long)brook_streams_metric(s, "records.produced"),
                    CNT);
        for (p = 0; p < PARTS; p++) {
                int64_t off = test_wait_committed(bs, app, in_topic, p,
                                                  CNT / PARTS, 15000);

                TEST_ASSERT(off == CNT / PARTS, "partition %d committed %lld",
                            p, (long long)off);
        }
        TEST_ASSERT(!(err = brook_streams_close(s)), "close: %s",
                    brook_error_string(err));
        TEST_ASSERT(!brook_streams_close(s), "second close");
        TEST_SAY("B1: %d calls, max batch %d; R: %d calls; B2: %d calls, "
                 "max batch %d",
                 b1_calls, b1_max, r_calls, b2_calls, b2_max);
        TEST_ASSERT(b1_max > 1 && b2_max > 1,
                    "batches of more than one record expected (B1 %d, B2 %d)",
                    b1_max, b2_max);
        TEST_ASSERT(r_calls == CNT, "R called %d times", r_calls);
        TEST_ASSERT(b1_calls < CNT / 4 && b2_calls < CNT / 4,
                    "too many batch calls: B1 %d B2 %d", b1_calls, b2_calls);

        /* The output, read with a plain client: exactly the transform. */
        recs = st_read_topic(bs, out_topic, &n);
        TEST_ASSERT(n == CNT, "output has %zu records, expected %d", n, CNT);
        seen = calloc(CNT, 1);
        for (i = 0; i < n; i++) {
                int64_t k;
                char want[32];

                TEST_ASSERT(recs[i].value && !strncmp(recs[i].value, "R:v", 3),
                            "output value %s", recs[i].value);
                k = atoll(recs[i].value + 3);
                TEST_ASSERT(k >= 0 && k < CNT && !seen[k], "record %lld twice",
                            (long long)k);
                seen[k] = 1;
                snprintf(want, sizeof(want), "k%lld", (long long)k);
                TEST_ASSERT(recs[i].key && !strcmp(recs[i].key, want),
                            "key %s for %lld", recs[i].key, (long long)k);
                TEST_ASSERT(recs[i].timestamp == TS_BASE + k, "timestamp");
                TEST_ASSERT(recs[i].hdr_i && atoll(recs[i].hdr_i) == k &&
                                recs[i].hdr_cnt == 2,
                            "headers of %lld", (long long)k);
        }
        free(seen);
        st_recs_free(recs, n);
        TEST_SAY("output verified: %d records exactly once", CNT);
        brook_streams_destroy(s);
        brook_topology_destroy(t);
        brook_conf_destroy(conf);
        brook_mock_cluster_destroy(mc);
        return 0;
}
