/*
 * 3106: the streams runtime's telemetry. For a count aggregator on a
 * RocksDB store with a changelog (2 partitions, 3000 records):
 * brook.streams.task.created fires once per task, the batch.processed
 * counts add up to the input, task.committed fires at the commit, the
 * Prometheus text counts the records; a second instance with an empty state
 * directory restores, and its task.restored events add up to the changelog's
 * records. The lag gauge (brook_streams_lag) shows both input partitions
 * and reaches 0 once the input is processed and committed.
 */
#include <string.h>
#include <unistd.h>

#include "streams_test.h"

#define PARTS 2
#define CNT   3000

static int64_t created, processed, committed, restored, restored_events;

static void on_event(const brook_event_t *ev, void *opaque)
{
        const char *name = brook_event_name(ev);
        int64_t v = 0;

        (void)opaque;
        if (!strcmp(name, "brook.streams.task.created")) {
                __atomic_add_fetch(&created, 1, __ATOMIC_SEQ_CST);
        } else if (!strcmp(name, "brook.streams.batch.processed")) {
                TEST_ASSERT(!brook_event_measurement(ev, "count", &v), "count");
                TEST_ASSERT(brook_event_metadata(ev, "task"), "task metadata");
                __atomic_add_fetch(&processed, v, __ATOMIC_SEQ_CST);
        } else if (!strcmp(name, "brook.streams.task.committed")) {
                __atomic_add_fetch(&committed, 1, __ATOMIC_SEQ_CST);
        } else if (!strcmp(name, "brook.streams.task.restored")) {
                TEST_ASSERT(!brook_event_measurement(ev, "records", &v),
                            "records");
                __atomic_add_fetch(&restored, v, __ATOMIC_SEQ_CST);
                __atomic_add_fetch(&restored_events, 1, __ATOMIC_SEQ_CST);
        }
}

static brook_streams_t *start(brook_mock_cluster_t *mc, const char *in,
                              const char *out, const char *app,
                              const char *state, brook_topology_t **tp,
                              brook_conf_t **cp)
{
        brook_topology_t *t = brook_topology_new();
        brook_processor_t *c = brook_proc_batch_count_new("counts", 0);
        brook_conf_t *conf = brook_conf_new();
        brook_streams_t *s;
        brook_error_t *err;
        char es[512];

        TEST_ASSERT(
            !brook_topology_add_source(t, "src", &in, 1, brook_serde_string(),
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
        TEST_ASSERT(!brook_mock_cluster_conf_apply(mc, conf), "conf");
        test_conf_set(conf, "application.id", app);
        test_conf_set(conf, "state.dir", state);
        test_conf_set(conf, "commit.interval.ms", "500");
        test_conf_set(conf, "log.level", "warn");
        test_conf_set(conf, "metrics.lag.interval.ms", "100");
        s = brook_streams_new(t, conf, es, sizeof(es));
        TEST_ASSERT(s, "%s", es);
        TEST_ASSERT(brook_telemetry_event_attach(brook_streams_telemetry(s),
                                                 "brook.streams.", on_event,
                                                 NULL) > 0,
                    "attach");
        TEST_ASSERT(!(err = brook_streams_start(s)), "start: %s",
                    brook_error_string(err));
        *tp = t;
        *cp = conf;
        return s;
}

int main(void)
{
        char es[512], in[64], out[80], app[80], changelog[128], state[256];
        char cmd[600], *text, *line;
        brook_mock_cluster_t *mc = brook_mock_cluster_new(1, es, sizeof(es));
        brook_topology_t *t;
        brook_conf_t *conf;
        brook_streams_t *s;
        const char *bs;
        int64_t changelog_records = 0;
        int p, found = 0;

        TEST_ASSERT(mc, "%s", es);
        bs = brook_mock_cluster_bootstraps(mc);
        snprintf(in, sizeof(in), "%s", test_name("t3106"));
        snprintf(out, sizeof(out), "%s-out", in);
        snprintf(app, sizeof(app), "%s-app", in);
        snprintf(changelog, sizeof(changelog), "%s-counts-changelog", app);
        snprintf(state, sizeof(state), "/tmp/brook-3106-%d", (int)getpid());
        brook_mock_cluster_create_topic(mc, in, PARTS, 1);
        brook_mock_cluster_create_topic(mc, out, PARTS, 1);
        brook_mock_cluster_create_topic(mc, changelog, PARTS, 1);
        st_produce(bs, in, PARTS, 0, CNT, 50, 0);

        s = start(mc, in, out, app, state, &t, &conf);
        TEST_ASSERT(st_wait_metric(s, "records.processed", CNT, 30000) == CNT,
                    "processed");
        /* A commit cycle (500 ms) after the last record. */
        {
                int64_t deadline = test_now_ms() + test_timeout_ms(10000);

                while (!__atomic_load_n(&committed, __ATOMIC_SEQ_CST) &&
                       test_now_ms() < deadline)
                        test_sleep_ms(50);
        }
        text = brook_telemetry_metrics_text(brook_streams_telemetry(s), NULL);
        TEST_ASSERT(text, "metrics text");
        for (line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
                if (!strncmp(line, "brook_streams_messages_processed_total{",
                             39) &&
                    strstr(line, "status=\"ok\"")) {
                        found = 1;
                        TEST_ASSERT(atoll(strrchr(line, ' ') + 1) == CNT,
                                    "metric line %s", line);
                }
        brook_telemetry_free(text);
        TEST_ASSERT(found, "no brook_streams_messages_processed_total line");
        {
                int64_t deadline = test_now_ms() + test_timeout_ms(10000);
                int64_t lags[PARTS];

                while ((found = st_lag_scan(s, in, PARTS, lags)) < PARTS ||
                       lags[0] || lags[1]) {
                        TEST_ASSERT(test_now_ms() < deadline,
                                    "lag gauge: %d partitions, %lld/%lld",
                                    found, (long long)lags[0],
                                    (long long)lags[1]);
                        test_sleep_ms(50);
                }
                TEST_SAY("brook_streams_lag 0 on both input partitions");
        }
        brook_error_destroy(brook_streams_close(s));
        brook_streams_destroy(s);
        brook_topology_destroy(t);
        brook_conf_destroy(conf);
        TEST_SAY("created %lld, processed %lld, committed %lld events",
                 (long long)created, (long long)processed,
                 (long long)committed);
        TEST_ASSERT(created == PARTS, "task.created %lld", (long long)created);
        TEST_ASSERT(processed == CNT, "batch.processed counts %lld",
                    (long long)processed);
        TEST_ASSERT(committed >= PARTS, "task.committed %lld",
                    (long long)committed);

        /* Restore from the changelog into an empty state directory. */
        for (p = 0; p < PARTS; p++)
                changelog_records += st_end_offset(bs, changelog, p);
        snprintf(cmd, sizeof(cmd), "rm -rf %s", state);
        TEST_ASSERT(system(cmd) == 0, "rm");
        s = start(mc, in, out, app, state, &t, &conf);
        TEST_ASSERT(st_wait_metric(s, "tasks.running", PARTS, 30000) == PARTS,
                    "tasks running");
        brook_error_destroy(brook_streams_close(s));
        brook_streams_destroy(s);
        brook_topology_destroy(t);
        brook_conf_destroy(conf);
        TEST_SAY("task.restored: %lld events, %lld records (changelog %lld)",
                 (long long)restored_events, (long long)restored,
                 (long long)changelog_records);
        TEST_ASSERT(restored_events == PARTS, "restored events %lld",
                    (long long)restored_events);
        TEST_ASSERT(changelog_records > 0 && restored == changelog_records,
                    "restored %lld of %lld", (long long)restored,
                    (long long)changelog_records);
        snprintf(cmd, sizeof(cmd), "rm -rf %s", state);
        TEST_ASSERT(system(cmd) == 0, "rm");
        brook_mock_cluster_destroy(mc);
        return 0;
}
