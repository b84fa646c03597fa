/*
 * 4102: the record cache inside the runtime (store.cache.max.bytes), with
 * the batch count aggregator on a RocksDB store, on the embedded cluster.
 *
 *  A. emit on flush: 4000 records (100 keys, 2 partitions) are processed
 *     with no commit due; the changelog, the output topic and the committed
 *     offsets are all still empty (everything is in the cache). Close
 *     flushes: the changelog gets exactly one record per key (the latest
 *     count), the output one per key, the offsets are committed.
 *  B. the commit cycle flushes before it commits: 2000 more records with
 *     commit.interval.ms=300; as soon as the committed offsets reach the end
 *     of the input, and before the runtime is closed, the output and the
 *     changelog hold the final counts. (Were the caches not flushed before
 *     the commit, the offsets would be committed with the counts missing.)
 *  C. eviction: a new application with a 2 KB cache and no commit due
 *     writes changelog and output records while it processes (the cache is
 *     full), and ends with the exact counts.
 *  D. caching off (store.cache.max.bytes=0): one output and one changelog
 *     record per key per batch, as without a cache; exact counts.
 */
#include <string.h>
#include <unistd.h>

#include "streams_test.h"

#define PARTS 2
#define KEYS  100

static brook_mock_cluster_t *mc;
static const char *bs;
static char in[64], state[256];
static int64_t expect_all[KEYS];

static brook_topology_t *topology(const char *output)
{
        brook_topology_t *t = brook_topology_new();
        brook_processor_t *c = brook_proc_batch_count_new("counts", 0);
        const char *inp = in;
        char es[512];

        TEST_ASSERT(
            !brook_topology_add_source(t, "src", &inp, 1, brook_serde_string(),
                                       brook_serde_string(), es, sizeof(es)),
            "%s", es);
        TEST_ASSERT(!brook_topology_add_processor(t, "count", c,
                                                  (const char *[]){"src"}, 1,
                                                  es, sizeof(es)),
                    "%s", es);
        TEST_ASSERT(!brook_topology_add_store(t, "counts", BROOK_STORE_ROCKSDB,
                                              0, (const char *[]){"count"}, 1,
                                              es, sizeof(es)),
                    "%s", es);
        TEST_ASSERT(!brook_topology_add_sink(
                        t, "sink", output, brook_serde_string(),
                        brook_serde_int64(), NULL, NULL,
                        (const char *[]){"count"}, 1, es, sizeof(es)),
                    "%s", es);
        brook_processor_destroy(c);
        return t;
}

typedef struct app_s {
        char id[64], changelog[128], output[64];
        brook_topology_t *t;
        brook_conf_t *conf;
        brook_streams_t *s;
} app_t;

static void app_start(app_t *a, const char *id, const char *commit_ms,
                      const char *cache_bytes)
{
        char es[512];
        brook_error_t *err;

        memset(a, 0, sizeof(*a));
        snprintf(a->id, sizeof(a->id), "%s", id);
        snprintf(a->changelog, sizeof(a->changelog), "%s-counts-changelog", id);
        snprintf(a->output, sizeof(a->output), "%s-out", id);
        /* no admin API on the embedded cluster: create them for brook */
        brook_mock_cluster_create_topic(mc, a->changelog, PARTS, 1);
        brook_mock_cluster_create_topic(mc, a->output, PARTS, 1);
        a->t = topology(a->output);
        a->conf = brook_conf_new();
        TEST_ASSERT(!brook_mock_cluster_conf_apply(mc, a->conf), "conf");
        test_conf_set(a->conf, "application.id", id);
        test_conf_set(a->conf, "state.dir", state);
        test_conf_set(a->conf, "commit.interval.ms", commit_ms);
        test_conf_set(a->conf, "streams.batch.max.records", "250");
        if (cache_bytes)
                test_conf_set(a->conf, "store.cache.max.bytes", cache_bytes);
        a->s = brook_streams_new(a->t, a->conf, es, sizeof(es));
        TEST_ASSERT(a->s, "%s", es);
        TEST_ASSERT(!(err = brook_streams_start(a->s)), "start: %s",
                    brook_error_string(err));
        TEST_ASSERT(st_wait_metric(a->s, "tasks.running", PARTS, 30000) ==
                        PARTS,
                    "tasks");
}

static void app_close(app_t *a)
{
        brook_error_t *err = brook_streams_close(a->s);

        TEST_ASSERT(!err, "close: %s", brook_error_string(err));
        brook_streams_destroy(a->s);
        brook_topology_destroy(a->t);
        brook_conf_destroy(a->conf);
}

static void wait_processed(app_t *a, int64_t n)
{
        TEST_ASSERT(st_wait_metric(a->s, "records.processed", n, 30000) == n,
                    "processed %lld of %lld",
                    (long long)brook_streams_metric(a->s, "records.processed"),
                    (long long)n);
}

/* Records of @p topic; with @p last, the last count per key k<j>. */
static size_t read_counts(const char *topic, int64_t *last)
{
        size_t n, i;
        st_rec_t *recs = st_read_topic(bs, topic, &n);

        if (last)
                memset(last, 0, KEYS * sizeof(*last));
        for (i = 0; i < n; i++) {
                int k = atoi(recs[i].key + 1);

                TEST_ASSERT(k >= 0 && k < KEYS && recs[i].value_len == 8,
                            "%s: bad record", topic);
                if (last)
                        last[k] = brook_int64_from_be(recs[i].value);
        }
        st_recs_free(recs, n);
        return n;
}

/* Records in @p topic once at least @p min are there (the producer sends
 * after its linger), or after 10 s. */
static size_t wait_records(const char *topic, size_t min)
{
        int64_t deadline = test_now_ms() + test_timeout_ms(10000);
        size_t n;

        while ((n = read_counts(topic, NULL)) < min && test_now_ms() < deadline)
                test_sleep_ms(100);
        return n;
}

static void check_counts(const char *what, const char *topic,
                         const int64_t *want)
{
        int64_t last[KEYS];
        int k;

        read_counts(topic, last);
        for (k = 0; k < KEYS; k++)
                TEST_ASSERT(last[k] == want[k], "%s: %s: k%d = %lld, want %lld",
                            what, topic, k, (long long)last[k],
                            (long long)want[k]);
}

static void produce(int64_t start, int64_t cnt)
{
        int64_t i;

        st_produce(bs, in, PARTS, start, cnt, KEYS, 0);
        for (i = start; i < start + cnt; i++)
                expect_all[i % KEYS]++;
}

static int64_t committed_total(const char *group)
{
        int64_t n = 0, c;
        int p;

        for (p = 0; p < PARTS; p++)
                if ((c = test_committed(bs, group, in, p)) > 0)
                        n += c;
        return n;
}

int main(void)
{
        char es[512], id[64];
        int64_t want[KEYS];
        size_t n, m;
        app_t a;
        int p;

        mc = brook_mock_cluster_new(1, es, sizeof(es));
        TEST_ASSERT(mc, "%s", es);
        bs = brook_mock_cluster_bootstraps(mc);
        snprintf(in, sizeof(in), "%s", test_name("i4102"));
        snprintf(state, sizeof(state), "%s", st_tmpdir("brook-4102"));
        TEST_ASSERT(!brook_mock_cluster_create_topic(mc, in, PARTS, 1),
                    "topic");

        /* A. everything waits in the cache until the close flushes it */
        produce(0, 4000);
        snprintf(id, sizeof(id), "%s", test_name("a4102"));
        app_start(&a, id, "600000", NULL);
        wait_processed(&a, 4000);
        /* A window on purpose: a write that bypassed the cache would reach
         * the changelog or the output in it (nothing to wait for: it must
         * not happen). */
        test_sleep_ms(300);
        TEST_ASSERT(read_counts(a.changelog, NULL) == 0 &&
                        read_counts(a.output, NULL) == 0 &&
                        committed_total(id) == 0,
                    "A: written before any flush: changelog %zu, output %zu, "
                    "committed %lld",
                    read_counts(a.changelog, NULL), read_counts(a.output, NULL),
                    (long long)committed_total(id));
        app_close(&a);
        n = read_counts(a.changelog, NULL);
        m = read_counts(a.output, NULL);
        TEST_ASSERT(n == KEYS && m == KEYS,
                    "A: the flush wrote %zu changelog and %zu output records, "
                    "want one per key (%d)",
                    n, m, KEYS);
        check_counts("A", a.changelog, expect_all);
        check_counts("A", a.output, expect_all);
        TEST_ASSERT(committed_total(id) == 4000, "A: committed %lld",
                    (long long)committed_total(id));
        TEST_SAY("A: 4000 records, 100 keys: nothing written until the "
                 "close; then %zu changelog and %zu output records (latest "
                 "count per key)",
                 n, m);

        /* B. the commit cycle flushes before it commits */
        produce(4000, 2000);
        app_start(&a, id, "300", NULL);
        wait_processed(&a, 2000);
        for (p = 0; p < PARTS; p++)
                TEST_ASSERT(test_wait_committed(bs, id, in, p, 3000, 30000) ==
                                3000,
                            "B: partition %d not committed", p);
        /* the runtime still runs: what the commit covers must be out */
        check_counts("B (committed, not closed)", a.output, expect_all);
        check_counts("B (committed, not closed)", a.changelog, expect_all);
        app_close(&a);
        TEST_SAY("B: offsets committed to the end while running: output and "
                 "changelog already held the final counts");

        /* C. eviction: a 2 KB cache flushes while processing */
        snprintf(id, sizeof(id), "%s", test_name("c4102"));
        app_start(&a, id, "600000", "2048");
        wait_processed(&a, 6000);
        n = wait_records(a.changelog, 1);
        m = wait_records(a.output, 1);
        TEST_ASSERT(n > 0 && m > 0 && committed_total(id) == 0,
                    "C: a full cache wrote nothing before the commit: "
                    "changelog %zu, output %zu",
                    n, m);
        app_close(&a);
        check_counts("C", a.changelog, expect_all);
        check_counts("C", a.output, expect_all);
        TEST_SAY("C: 2 KB cache: %zu changelog and %zu output records written "
                 "by evictions before any commit; exact counts after close",
                 n, m);

        /* D. caching off: every batch writes and forwards */
        snprintf(id, sizeof(id), "%s", test_name("d4102"));
        app_start(&a, id, "600000", "0");
        wait_processed(&a, 6000);
        n = wait_records(a.changelog, KEYS + 1);
        m = wait_records(a.output, KEYS + 1);
        TEST_ASSERT(n > KEYS && m > KEYS,
                    "D: caching off wrote %zu changelog / %zu output records "
                    "before the commit, want one per key per batch",
                    n, m);
        app_close(&a);
        memcpy(want, expect_all, sizeof(want));
        check_counts("D", a.changelog, want);
        check_counts("D", a.output, want);
        TEST_SAY("D: caching off: %zu changelog and %zu output records as the "
                 "batches ran",
                 n, m);
        st_rmrf(state);
        brook_mock_cluster_destroy(mc);
        return 0;
}
