/*
 * 4203: restoration on Apache Kafka when the changelog ends with
 * transaction markers, and when it is ahead of the checkpoint.
 *
 * A count store's changelog (created by brook with the admin API) gets,
 * behind brook's back, a record written by kafka-python in a committed
 * transaction (so a commit marker is the last entry of the log), then one
 * in an aborted transaction (abort marker last). Each restart restores from
 * the checkpoint to the end without hanging on the marker: the committed
 * record is restored (changelog ahead of the checkpoint), the aborted one
 * is not. A restart with the state directory deleted restores everything
 * from the beginning the same way. Counts are checked through the output.
 */
#include <string.h>

#include "streams_test.h"

#define KEYS 50
#define CNT  1000

static char in[128], out[128], app[128], state[256];
static int64_t restored, restore_runs;

static void on_end(const char *store, const char *topic, int32_t p,
                   int64_t total, void *op)
{
        (void)store;
        (void)topic;
        (void)p;
        (void)op;
        restored += total;
        restore_runs++;
}

/* Run until @p processed records, then close; returns the time the task
 * took to start running (restore included). */
static int64_t run(const char *bs, int64_t processed)
{
        brook_topology_t *t = brook_topology_new();
        brook_processor_t *c = brook_proc_batch_count_new("counts", 0);
        brook_conf_t *conf = brook_conf_new();
        const char *inp = in;
        brook_streams_t *s;
        brook_error_t *err;
        char es[512];
        int64_t t0, took;

        restored = restore_runs = 0;
        TEST_ASSERT(
            !brook_topology_add_source(t, "src", &inp, 1, brook_serde_string(),
                                       brook_serde_string(), es, sizeof(es)) &&
                !brook_topology_add_processor(t, "count", c,
                                              (const char *[]){"src"}, 1, es,
                                              sizeof(es)) &&
                !brook_topology_add_store(t, "counts", BROOK_STORE_ROCKSDB, 0,
                                          (const char *[]){"count"}, 1, es,
                                          sizeof(es)) &&
                !brook_topology_add_sink(
                    t, "sink", out, brook_serde_string(), brook_serde_int64(),
                    NULL, NULL, (const char *[]){"count"}, 1, es, sizeof(es)),
            "%s", es);
        brook_processor_destroy(c);
        test_conf_set(conf, "bootstrap.servers", bs);
        test_conf_set(conf, "application.id", app);
        test_conf_set(conf, "state.dir", state);
        test_conf_set(conf, "commit.interval.ms", "200");
        test_conf_set(conf, "kafka.session.timeout.ms", "6000");
        s = brook_streams_new(t, conf, es, sizeof(es));
        TEST_ASSERT(s, "%s", es);
        brook_streams_set_restore_listener(s, NULL, NULL, on_end, NULL);
        t0 = test_now_ms();
        TEST_ASSERT(!(err = brook_streams_start(s)), "start: %s",
                    brook_error_string(err));
        TEST_ASSERT(st_wait_metric(s, "tasks.running", 1, 30000) == 1,
                    "the task did not start (restore hanging?)");
        took = test_now_ms() - t0;
        TEST_ASSERT(st_wait_metric(s, "records.processed", processed, 30000) ==
                        processed,
                    "processed");
        TEST_ASSERT(!(err = brook_streams_close(s)), "close: %s",
                    brook_error_string(err));
        brook_streams_destroy(s);
        brook_topology_destroy(t);
        brook_conf_destroy(conf);
        return took;
}

/* Last output count of key @p key, read with kafka-python. */
static int64_t count_of(const char *key)
{
        char *dump = st_kafkatool("dump -t %s --base64", out), *line,
             *save = NULL, want[64];
        int64_t v = -1;

        snprintf(want, sizeof(want), "%s", key);
        for (line = strtok_r(dump, "\n", &save); line;
             line = strtok_r(NULL, "\n", &save)) {
                char *k = strstr(line, "\"key\": \""), *val;
                unsigned char kb[64], vb[16];
                int kl;

                if (!k || !(val = strstr(line, "\"value\": \"")))
                        continue;
                *strchr(k + 8, '"') = '\0';
                *strchr(val + 10, '"') = '\0';
                kl = st_b64_decode(k + 8, kb, sizeof(kb) - 1);
                if (kl < 0)
                        continue;
                kb[kl] = '\0';
                if (!strcmp((char *)kb, want) &&
                    st_b64_decode(val + 10, vb, sizeof(vb)) == 8)
                        v = brook_int64_from_be(vb);
        }
        free(dump);
        return v;
}

int main(void)
{
        const char *bs = test_brokers();
        char changelog[200], cmd[600];
        int64_t took;

        if (!bs) {
                printf("SKIP: BROOK_BROKERS is not set (no real broker)\n");
                return 0;
        }
        snprintf(in, sizeof(in), "%s", test_name("i4203"));
        snprintf(out, sizeof(out), "%s", test_name("o4203"));
        snprintf(app, sizeof(app), "%s", test_name("a4203"));
        snprintf(state, sizeof(state), "%s", st_tmpdir("brook-4203"));
        snprintf(changelog, sizeof(changelog), "%s-counts-changelog", app);
        free(st_kafkatool("create-topic -t %s -p 1", in));
        free(st_kafkatool("create-topic -t %s -p 1", out));
        free(st_kafkatool("produce -t %s -n %d --keyed --keys %d "
                          "--partition 0",
                          in, CNT, KEYS));
        took = run(bs, CNT);
        TEST_ASSERT(count_of("k7") == CNT / KEYS, "k7 = %lld",
                    (long long)count_of("k7"));
        TEST_SAY("first run: changelog %s created by brook, counts ok",
                 changelog);

        /* extra=500 in a committed transaction: commit marker last */
        snprintf(cmd, sizeof(cmd),
                 "produce-json -t %s --base64 --transactional-id tx-%s "
                 "<<'EOF'\n{\"key\": \"ZXh0cmE=\", \"value\": "
                 "\"AAAAAAAAAfQ=\", \"partition\": 0}\nEOF",
                 changelog, app);
        free(st_kafkatool("%s", cmd));
        free(st_kafkatool("produce -t %s -n 1 --partition 0 --keyed --keys 1 "
                          "--start 0",
                          in)); /* one more k0 */
        took = run(bs, 1);
        TEST_ASSERT(restore_runs == 1 && restored == 1,
                    "committed transaction: restored %lld in %lld runs",
                    (long long)restored, (long long)restore_runs);
        TEST_SAY("changelog ahead of the checkpoint, ending with a commit "
                 "marker: restored %lld record, task running after %lld ms",
                 (long long)restored, (long long)took);

        /* extra=9999 in an aborted transaction: abort marker last */
        snprintf(cmd, sizeof(cmd),
                 "produce-json -t %s --base64 --transactional-id tx2-%s "
                 "--abort <<'EOF'\n{\"key\": \"ZXh0cmE=\", \"value\": "
                 "\"AAAAAAAAJw8=\", \"partition\": 0}\nEOF",
                 changelog, app);
        free(st_kafkatool("%s", cmd));
        st_produce_str(bs, in, 0, "extra", "x");
        took = run(bs, 1);
        TEST_ASSERT(restored == 0, "aborted record restored (%lld)",
                    (long long)restored);
        TEST_ASSERT(count_of("extra") == 501, "extra = %lld (500 + 1)",
                    (long long)count_of("extra"));
        TEST_SAY("abort marker at the end: nothing restored, no hang (%lld "
                 "ms); extra = 501",
                 (long long)took);

        /* full restore from the beginning, markers included */
        st_rmrf(state);
        st_produce_str(bs, in, 0, "extra", "x");
        took = run(bs, 1);
        TEST_ASSERT(restored > KEYS, "full restore: %lld", (long long)restored);
        TEST_ASSERT(count_of("extra") == 502 &&
                        count_of("k0") == CNT / KEYS + 1,
                    "after full restore: extra %lld k0 %lld",
                    (long long)count_of("extra"), (long long)count_of("k0"));
        TEST_SAY("state deleted: full restore of %lld records in %lld ms; "
                 "counts continue",
                 (long long)restored, (long long)took);
        st_rmrf(state);
        return 0;
}
