/*
 * 4101: changelog, checkpoints and restoration on the embedded cluster,
 * with the batch count aggregator on a RocksDB store.
 *
 *  1. counts over 4000 records (100 keys, 2 partitions): output and
 *     changelog (read back independently) hold the counts; each task
 *     directory has a checkpoint at the changelog's end.
 *  2. restart on the same state: nothing to restore (checkpoint = end),
 *     counts continue.
 *  3. changelog ahead of the checkpoint: a record appended to the changelog
 *     behind brook's back is restored (1 record) and counted on.
 *  4. corrupt checkpoint (task 0_0) and missing checkpoint (task 0_1): the
 *     stores are wiped and restored from the beginning; counts continue.
 *  5. state directory deleted: full restore; counts continue.
 * Every phase checks the final counts in the output topic.
 */
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/checkpoint.h"
#include "streams_test.h"

#define PARTS 2
#define KEYS  100
#define CNT   4000

static int64_t restored[PARTS], restore_starts[PARTS], restore_start_off[PARTS],
    restore_batches;
static int64_t expect[KEYS + 1]; /* KEYS: the "extra" key */

static void on_start(const char *store, const char *topic, int32_t p,
                     int64_t start, int64_t end, void *op)
{
        (void)store;
        (void)topic;
        (void)end;
        (void)op;
        restore_starts[p]++;
        restore_start_off[p] = start;
}

static void on_batch(const char *store, const char *topic, int32_t p,
                     int64_t last, size_t cnt, void *op)
{
        (void)store;
        (void)topic;
        (void)p;
        (void)last;
        (void)cnt;
        (void)op;
        restore_batches++;
}

static void on_end(const char *store, const char *topic, int32_t p,
                   int64_t total, void *op)
{
        (void)store;
        (void)topic;
        (void)op;
        restored[p] += total;
}

static brook_mock_cluster_t *mc;
static const char *bs;
static char in[64], out[64], app[64], changelog[128], state[256];

static brook_topology_t *topology(void)
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
                        t, "sink", out, brook_serde_string(),
                        brook_serde_int64(), NULL, NULL,
                        (const char *[]){"count"}, 1, es, sizeof(es)),
                    "%s", es);
        brook_processor_destroy(c);
        return t;
}

/* Run until @p processed source records are done, then close. */
static void run_phase(const char *what, int64_t processed)
{
        brook_topology_t *t = topology();
        brook_conf_t *conf = brook_conf_new();
        brook_streams_t *s;
        brook_error_t *err;
        char es[512];

        memset(restored, 0, sizeof(restored));
        memset(restore_starts, 0, sizeof(restore_starts));
        restore_batches = 0;
        TEST_ASSERT(!brook_mock_cluster_conf_apply(mc, conf), "conf");
        test_conf_set(conf, "application.id", app);
        test_conf_set(conf, "state.dir", state);
        test_conf_set(conf, "commit.interval.ms", "200");
        test_conf_set(conf, "streams.batch.max.records", "250");
        test_conf_set(conf, "streams.restore.batch.max.records", "100");
        s = brook_streams_new(t, conf, es, sizeof(es));
        TEST_ASSERT(s, "%s", es);
        brook_streams_set_restore_listener(s, on_start, on_batch, on_end, NULL);
        TEST_ASSERT(!(err = brook_streams_start(s)), "%s: start: %s", what,
                    brook_error_string(err));
        TEST_ASSERT(st_wait_metric(s, "tasks.running", PARTS, 30000) == PARTS,
                    "%s: tasks", what);
        TEST_ASSERT(st_wait_metric(s, "records.processed", processed, 30000) ==
                        processed,
                    "%s: processed %lld of %lld", what,
                    (long long)brook_streams_metric(s, "records.processed"),
                    (long long)processed);
        TEST_ASSERT(!(err = brook_streams_close(s)), "%s: close: %s", what,
                    brook_error_string(err));
        TEST_SAY("%s: restored %lld + %lld records (%lld batches), processed "
                 "%lld",
                 what, (long long)restored[0], (long long)restored[1],
                 (long long)restore_batches,
                 (long long)brook_streams_metric(s, "records.processed"));
        brook_streams_destroy(s);
        brook_topology_destroy(t);
        brook_conf_destroy(conf);
}

/* The last output value per key equals the expected counts. */
static void check_counts(const char *what)
{
        size_t n, i;
        st_rec_t *recs = st_read_topic(bs, out, &n);
        int64_t *last = calloc(KEYS + 1, sizeof(*last));
        int k;

        for (i = 0; i < n; i++) {
                int idx = !strcmp(recs[i].key, "extra") ? KEYS
                                                        : atoi(recs[i].key + 1);

                TEST_ASSERT(recs[i].value_len == 8, "value length");
                last[idx] = brook_int64_from_be(recs[i].value);
        }
        for (k = 0; k <= KEYS; k++)
                TEST_ASSERT(last[k] == expect[k],
                            "%s: key %d counted %lld, expected %lld", what, k,
                            (long long)last[k], (long long)expect[k]);
        free(last);
        st_recs_free(recs, n);
}

static void produce(int64_t start, int64_t cnt)
{
        int64_t i;

        st_produce(bs, in, PARTS, start, cnt, KEYS, 0);
        for (i = start; i < start + cnt; i++)
                expect[i % KEYS]++;
}

static void checkpoint_path(char *buf, size_t size, int part)
{
        snprintf(buf, size, "%s/%s/0_%d/.checkpoint", state, app, part);
}

/* Changelog records of partition @p part, read independently. */
static size_t changelog_records(int part, int64_t *last_extra)
{
        size_t n, i, cnt = 0;
        st_rec_t *recs = st_read_topic(bs, changelog, &n);

        for (i = 0; i < n; i++) {
                if (recs[i].partition != part)
                        continue;
                cnt++;
                if (last_extra && !strcmp(recs[i].key, "extra"))
                        *last_extra = brook_int64_from_be(recs[i].value);
        }
        st_recs_free(recs, n);
        return cnt;
}

int main(void)
{
        char es[512], path[512];
        unsigned char be[8];
        const char *xk = "extra";
        const void *xv = be;
        size_t xl = 8, n, i;
        brook__ckpt_entry_t *e;
        st_rec_t *recs;
        int64_t extra = -1;
        FILE *fp;
        int p;

        mc = brook_mock_cluster_new(1, es, sizeof(es));
        TEST_ASSERT(mc, "%s", es);
        bs = brook_mock_cluster_bootstraps(mc);
        snprintf(in, sizeof(in), "%s", test_name("i4101"));
        snprintf(out, sizeof(out), "%s", test_name("o4101"));
        snprintf(app, sizeof(app), "%s", test_name("a4101"));
        snprintf(changelog, sizeof(changelog), "%s-counts-changelog", app);
        snprintf(state, sizeof(state), "%s", st_tmpdir("brook-4101"));
        TEST_ASSERT(!brook_mock_cluster_create_topic(mc, in, PARTS, 1),
                    "topic");
        TEST_ASSERT(!brook_mock_cluster_create_topic(mc, out, PARTS, 1),
                    "topic");
        /* no admin API on the embedded cluster: create it for brook */
        TEST_ASSERT(!brook_mock_cluster_create_topic(mc, changelog, PARTS, 1),
                    "topic");

        /* 1. first run: counts in the output and in the changelog */
        produce(0, CNT);
        run_phase("first run", CNT);
        check_counts("first run");
        recs = st_read_topic(bs, changelog, &n);
        {
                int64_t *last = calloc(KEYS, sizeof(*last));

                for (i = 0; i < n; i++)
                        last[atoi(recs[i].key + 1)] =
                            brook_int64_from_be(recs[i].value);
                for (i = 0; i < KEYS; i++)
                        TEST_ASSERT(last[i] == expect[i],
                                    "changelog: key %zu = %lld", i,
                                    (long long)last[i]);
                free(last);
        }
        TEST_SAY("changelog holds %zu records; last value per key = count", n);
        st_recs_free(recs, n);
        for (p = 0; p < PARTS; p++) {
                size_t cnt;

                checkpoint_path(path, sizeof(path), p);
                TEST_ASSERT(
                    !brook__checkpoint_read(path, &e, &cnt, es, sizeof(es)),
                    "checkpoint of task 0_%d: %s", p, es);
                TEST_ASSERT(cnt == 1 && !strcmp(e[0].store, "counts") &&
                                !strcmp(e[0].topic, changelog) &&
                                e[0].offset == st_end_offset(bs, changelog, p),
                            "checkpoint 0_%d: offset %lld, changelog end %lld",
                            p, (long long)e[0].offset,
                            (long long)st_end_offset(bs, changelog, p));
                free(e);
        }

        /* 2. restart: checkpoints at the end, nothing to restore */
        produce(CNT, CNT / 2);
        run_phase("restart", CNT / 2);
        TEST_ASSERT(!restore_starts[0] && !restore_starts[1] && !restored[0] &&
                        !restored[1],
                    "restart restored %lld + %lld", (long long)restored[0],
                    (long long)restored[1]);
        check_counts("restart");

        /* 3. changelog ahead of the checkpoint */
        brook_int64_to_be(1000, be);
        st_produce_kvs(bs, changelog, 0, &xk, &xv, &xl, 1);
        st_produce_kvs(bs, in, 0, &xk, (const void *[]){"x"}, (size_t[]){1}, 1);
        expect[KEYS] = 1001;
        run_phase("changelog ahead", 1);
        TEST_ASSERT(restore_starts[0] == 1 && restored[0] == 1 &&
                        !restore_starts[1] && !restored[1],
                    "changelog ahead: restored %lld + %lld",
                    (long long)restored[0], (long long)restored[1]);
        check_counts("changelog ahead");

        /* 4. corrupt checkpoint of 0_0, missing checkpoint of 0_1 */
        checkpoint_path(path, sizeof(path), 0);
        TEST_ASSERT((fp = fopen(path, "w")), "open checkpoint");
        fputs("brook-checkpoint 1\n1\ncounts garbage", fp);
        fclose(fp);
        checkpoint_path(path, sizeof(path), 1);
        TEST_ASSERT(!unlink(path), "unlink checkpoint");
        produce(2 * CNT, CNT / 4);
        run_phase("corrupt + missing checkpoint", CNT / 4);
        for (p = 0; p < PARTS; p++) {
                size_t want = changelog_records(p, NULL);

                TEST_ASSERT(restore_starts[p] == 1 && restore_start_off[p] == 0,
                            "partition %d: no full restore", p);
                /* the changelog grew by this run's updates after the
                 * restore: the restore read what was there before */
                TEST_ASSERT(restored[p] > 0 && (size_t)restored[p] < want,
                            "partition %d restored %lld (changelog now %zu)", p,
                            (long long)restored[p], want);
        }
        check_counts("corrupt + missing checkpoint");

        /* 5. state directory deleted */
        st_rmrf(state);
        produce(3 * CNT, CNT / 4);
        run_phase("state dir deleted", CNT / 4);
        for (p = 0; p < PARTS; p++)
                TEST_ASSERT(restore_starts[p] == 1 &&
                                restore_start_off[p] == 0 && restored[p] > 0,
                            "partition %d: no full restore", p);
        check_counts("state dir deleted");
        changelog_records(0, &extra);
        TEST_ASSERT(extra == 1001, "extra in changelog %lld", (long long)extra);
        st_rmrf(state);
        brook_mock_cluster_destroy(mc);
        return 0;
}
