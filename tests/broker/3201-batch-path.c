/*
 * 3201: the batch path on Apache Kafka, checked with an independent client.
 *
 * kafka-python (tests/py/kafkatool.py) produces 40000 keyed records with
 * headers and timestamps to 4 partitions. Topology: source -> B1 (batch)
 * -> R (record only) -> B2 (batch) -> sink. B1 and B2 receive batches
 * larger than one record, each of one partition in offset order without
 * gaps; R receives the records one by one with their metadata. The output
 * topic, dumped by kafka-python, equals the expected transformation
 * exactly (key, value, timestamp, headers, each record once), and the
 * group's committed offsets, read by kafka-python, equal the end offsets.
 */
#include <jansson.h>
#include <string.h>

#include "streams_test.h"

#define PARTS   4
#define CNT     40000
#define TS_BASE 1700000000000LL

static int64_t b1_next[PARTS], r_next[PARTS], b2_next[PARTS];
static int b1_max, b2_max, b1_calls, b2_calls, r_calls;
static char in_topic[128];

/* kafkatool values are "v<i>;" */
static int64_t idx_of(const brook_record_t *r)
{
        size_t n;
        const char *v = brook_record_value(r, &n);
        const char *p = memchr(v, 'v', n);

        TEST_ASSERT(p, "value %.*s", (int)n, v);
        return atoll(p + 1);
}

static void check_meta(const brook_record_t *r, int32_t part, int64_t off)
{
        int64_t i = idx_of(r);
        const void *hv;
        size_t hs;
        char want[32];

        TEST_ASSERT(!strcmp(brook_record_topic(r), in_topic), "topic");
        TEST_ASSERT(brook_record_partition(r) == part, "partition");
        TEST_ASSERT(brook_record_offset(r) == off, "p%d offset %lld != %lld",
                    part, (long long)brook_record_offset(r), (long long)off);
        TEST_ASSERT(i == off * PARTS + part, "record %lld at %d@%lld",
                    (long long)i, part, (long long)off);
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
        b1_max = (int)cnt > b1_max ? (int)cnt : b1_max;
        for (i = 0; i < cnt; i++)
                check_meta(recs[i], p, b1_next[p]++);
        return brook_ctx_forward_batch(ctx, recs, cnt);
}

static brook_err_t r_process(brook_ctx_t *ctx, brook_record_t *rec, void *st)
{
        int32_t p = brook_ctx_partition(ctx);
        size_t vl, kl;
        const char *v = brook_record_value(rec, &vl);
        const void *k = brook_record_key(rec, &kl);
        char buf[64];
        brook_record_t *out;

        (void)st;
        r_calls++;
        check_meta(rec, p, r_next[p]++);
        snprintf(buf, sizeof(buf), "R:%.*s", (int)vl, v);
        out = brook_ctx_record_new(ctx, rec, k, kl, buf, strlen(buf), 0);
        TEST_ASSERT(out && !brook_record_header_add(out, "r", "1", 1),
                    "record_new");
        return brook_ctx_forward(ctx, out);
}

static brook_err_t b2_batch(brook_ctx_t *ctx, brook_record_t *const *recs,
                            size_t cnt, void *st)
{
        int32_t p = brook_ctx_partition(ctx);
        size_t i;

        (void)st;
        b2_calls++;
        b2_max = (int)cnt > b2_max ? (int)cnt : b2_max;
        for (i = 0; i < cnt; i++)
                check_meta(recs[i], p, b2_next[p]++);
        return brook_ctx_forward_batch(ctx, recs, cnt);
}

int main(void)
{
        const char *bs = test_brokers();
        char out_topic[128], app[128], es[512];
        brook_topology_t *t;
        brook_processor_t *b1, *r, *b2;
        brook_conf_t *conf;
        brook_streams_t *s;
        brook_error_t *err;
        const char *inp = in_topic;
        char *dump, *line, *save = NULL;
        size_t n = 0;
        char *seen;

        if (!bs) {
                printf("SKIP: BROOK_BROKERS is not set (no real broker)\n");
                return 0;
        }
        snprintf(in_topic, sizeof(in_topic), "%s", test_name("i3201"));
        snprintf(out_topic, sizeof(out_topic), "%s", test_name("o3201"));
        snprintf(app, sizeof(app), "%s", test_name("a3201"));
        free(st_kafkatool("create-topic -t %s -p %d", in_topic, PARTS));
        free(st_kafkatool("create-topic -t %s -p %d", out_topic, PARTS));
        free(st_kafkatool("produce -t %s -n %d --keyed --partitions %d "
                          "--headers --timestamp-base %lld",
                          in_topic, CNT, PARTS, TS_BASE));
        TEST_SAY("input produced by kafka-python");

        t = brook_topology_new();
        b1 = brook_processor_new();
        r = brook_processor_new();
        b2 = brook_processor_new();
        brook_processor_set_process_batch(b1, b1_batch);
        brook_processor_set_process(r, r_process);
        brook_processor_set_process_batch(b2, b2_batch);
        TEST_ASSERT(
            !brook_topology_add_source(t, "src", &inp, 1, brook_serde_string(),
                                       brook_serde_string(), es, sizeof(es)) &&
                !brook_topology_add_processor(
                    t, "B1", b1, (const char *[]){"src"}, 1, es, sizeof(es)) &&
                !brook_topology_add_processor(t, "R", r, (const char *[]){"B1"},
                                              1, es, sizeof(es)) &&
                !brook_topology_add_processor(
                    t, "B2", b2, (const char *[]){"R"}, 1, es, sizeof(es)) &&
                !brook_topology_add_sink(
                    t, "sink", out_topic, brook_serde_string(),
                    brook_serde_string(), NULL, NULL, (const char *[]){"B2"}, 1,
                    es, sizeof(es)),
            "%s", es);
        brook_processor_destroy(b1);
        brook_processor_destroy(r);
        brook_processor_destroy(b2);
        conf = brook_conf_new();
        test_conf_set(conf, "bootstrap.servers", bs);
        test_conf_set(conf, "application.id", app);
        test_conf_set(conf, "state.dir", st_tmpdir("brook-3201"));
        test_conf_set(conf, "commit.interval.ms", "500");
        s = brook_streams_new(t, conf, es, sizeof(es));
        TEST_ASSERT(s, "%s", es);
        TEST_ASSERT(!(err = brook_streams_start(s)), "start: %s",
                    brook_error_string(err));
        TEST_ASSERT(st_wait_metric(s, "records.produced", CNT, 60000) == CNT,
                    "produced %lld",
                    (long long)brook_streams_metric(s, "records.produced"));
        /* A commit cycle (commit.interval.ms=500) commits the end of the
         * input before the close runs its own. */
        free(st_kafkatool("wait-committed -t %s -g %s --timeout-ms %lld",
                          in_topic, app, (long long)test_timeout_ms(30000)));
        TEST_ASSERT(!(err = brook_streams_close(s)), "close: %s",
                    brook_error_string(err));
        TEST_SAY("B1: %d calls, max batch %d; R: %d calls; B2: %d calls, max "
                 "batch %d",
                 b1_calls, b1_max, r_calls, b2_calls, b2_max);
        TEST_ASSERT(b1_max > 1 && b2_max > 1, "batches of one record only");
        TEST_ASSERT(r_calls == CNT, "R called %d times", r_calls);

        /* Independent checks with kafka-python. */
        st_assert_committed(in_topic, app, PARTS, CNT / PARTS);
        dump = st_kafkatool("dump -t %s", out_topic);
        seen = calloc(CNT, 1);
        for (line = strtok_r(dump, "\n", &save); line;
             line = strtok_r(NULL, "\n", &save)) {
                json_t *o = json_loads(line, 0, NULL), *h;
                const char *v, *k;
                char want[64];
                long long i;
                size_t j;
                int hi = 0, hr = 0;

                TEST_ASSERT(o, "dump line %s", line);
                v = json_string_value(json_object_get(o, "value"));
                k = json_string_value(json_object_get(o, "key"));
                TEST_ASSERT(v && !strncmp(v, "R:v", 3), "value %s", v);
                i = atoll(v + 3);
                TEST_ASSERT(i >= 0 && i < CNT && !seen[i], "record %lld twice",
                            i);
                seen[i] = 1;
                snprintf(want, sizeof(want), "R:v%lld;", i);
                TEST_ASSERT(!strcmp(v, want), "value %s != %s", v, want);
                snprintf(want, sizeof(want), "k%lld", i);
                TEST_ASSERT(k && !strcmp(k, want), "key %s", k);
                TEST_ASSERT(json_integer_value(
                                json_object_get(o, "timestamp")) == TS_BASE + i,
                            "timestamp of %lld", i);
                h = json_object_get(o, "headers");
                for (j = 0; j < json_array_size(h); j++) {
                        json_t *e = json_array_get(h, j);
                        const char *hn =
                            json_string_value(json_array_get(e, 0));
                        const char *hv =
                            json_string_value(json_array_get(e, 1));

                        snprintf(want, sizeof(want), "%lld", i);
                        hi += !strcmp(hn, "i") && !strcmp(hv, want);
                        hr += !strcmp(hn, "r") && !strcmp(hv, "1");
                }
                TEST_ASSERT(hi == 1 && hr == 1, "headers of %lld", i);
                json_decref(o);
                n++;
        }
        TEST_ASSERT(n == CNT, "output holds %zu records, expected %d", n, CNT);
        free(seen);
        free(dump);
        TEST_SAY("output read by kafka-python equals the transform: %zu "
                 "records",
                 n);
        brook_streams_destroy(s);
        brook_topology_destroy(t);
        brook_conf_destroy(conf);
        return 0;
}
