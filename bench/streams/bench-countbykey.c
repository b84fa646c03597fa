/*
 * bench-countbykey: brook streams' "count by key", the topology and
 * command line of the Kafka Streams peer (bench/peers/README.md), as one
 * process printing one JSON line.
 *
 *   bench-countbykey --brokers B --input T --output T --app-id ID
 *                    --threads N --expect N [--mode batch|record]
 *                    [--state-dir D] [--commit-ms MS] [--caching-bytes N]
 *                    [--timeout-s S] [--set name=value]...
 *   bench-countbykey --restore-only --brokers B --input T --output T
 *                    --app-id ID [--threads N] [--state-dir D]
 *                    [--timeout-s S] [--set name=value]...
 *
 * Topology: source (key string, value bytes) -> the batch count aggregator
 * on a RocksDB store "counts" with changelog -> sink (key string, count as
 * an 8-byte big-endian long). --mode batch uses its process_batch (one
 * get_batch and one put_batch per batch), --mode record only its process
 * (BROOK_COUNT_F_RECORD_ONLY: a get and a put per record). With the record
 * cache on (default 10 MB, --caching-bytes) the aggregator emits on flush,
 * as the peer's count() with its cache; --caching-bytes 0 writes and
 * emits every update.
 *
 * Process mode runs until --expect input records went through the
 * topology, then closes the runtime (last commit cycle: cache flush, store
 * and changelog writes, output produced and acknowledged, offsets
 * committed, checkpoints; then it leaves the group). "seconds" runs from
 * the first processed record to the --expect-th, "seconds_to_closed" to
 * the end of the close (the peer's definition: compare this one).
 *
 * Restore mode starts the same application on an empty state directory
 * and reports how fast the stores are rebuilt from their changelogs
 * (first restore start to last restore end). To restore N records, the
 * process run must have written them: run it with --caching-bytes 0.
 *
 * Stdout: one JSON line (fields as the peer's, plus "mb_per_sec",
 * "output_records" and "changelog_records" counted on the broker after
 * the run). Exit 0 ok, 1 failure, 2 usage.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_util.h"

static struct {
        const char *brokers, *input, *output, *app, *state_dir, *mode;
        const char *sets[32];
        int nsets, threads, restore_only;
        long long expect, commit_ms, caching_bytes, timeout_s;
} opt = {.threads = 1,
         .mode = "batch",
         .commit_ms = -1,
         .caching_bytes = -1,
         .timeout_s = 900};

static void usage(const char *why)
{
        if (why)
                fprintf(stderr, "bench-countbykey: %s\n", why);
        fprintf(stderr,
                "usage: bench-countbykey --brokers B --input T --output T "
                "--app-id ID --threads N --expect N\n"
                "         [--mode batch|record] [--state-dir D] "
                "[--commit-ms MS] [--caching-bytes N]\n"
                "         [--timeout-s S] [--set name=value]...\n"
                "       bench-countbykey --restore-only --brokers B --input T "
                "--output T --app-id ID\n"
                "         [--threads N] [--state-dir D] [--timeout-s S]\n");
        exit(2);
}

static void parse(int argc, char **argv)
{
        int i;

        opt.brokers = getenv("BROOK_BROKERS");
        for (i = 1; i < argc; i++) {
                const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

                if (!strcmp(a, "--restore-only")) {
                        opt.restore_only = 1;
                        continue;
                }
                if (!strcmp(a, "-h") || !strcmp(a, "--help"))
                        usage(NULL);
                if (!v)
                        usage("missing value");
                i++;
                if (!strcmp(a, "--brokers"))
                        opt.brokers = v;
                else if (!strcmp(a, "--input"))
                        opt.input = v;
                else if (!strcmp(a, "--output"))
                        opt.output = v;
                else if (!strcmp(a, "--app-id"))
                        opt.app = v;
                else if (!strcmp(a, "--threads"))
                        opt.threads = atoi(v);
                else if (!strcmp(a, "--expect"))
                        opt.expect = atoll(v);
                else if (!strcmp(a, "--state-dir"))
                        opt.state_dir = v;
                else if (!strcmp(a, "--commit-ms"))
                        opt.commit_ms = atoll(v);
                else if (!strcmp(a, "--caching-bytes"))
                        opt.caching_bytes = atoll(v);
                else if (!strcmp(a, "--timeout-s"))
                        opt.timeout_s = atoll(v);
                else if (!strcmp(a, "--mode"))
                        opt.mode = v;
                else if (!strcmp(a, "--set") && opt.nsets < 32)
                        opt.sets[opt.nsets++] = v;
                else
                        usage("unknown option");
        }
        if (!opt.brokers || !opt.input || !opt.output || !opt.app)
                usage("--brokers (or $BROOK_BROKERS), --input, --output and "
                      "--app-id are required");
        if (!opt.restore_only && opt.expect <= 0)
                usage("--expect N (N > 0) is required");
        if (opt.threads < 1)
                usage("--threads must be >= 1");
        if (strcmp(opt.mode, "batch") && strcmp(opt.mode, "record"))
                usage("--mode is batch or record");
}

static void conf_set(brook_conf_t *c, const char *name, const char *value)
{
        char es[512];

        if (brook_conf_set(c, name, value, es, sizeof(es))) {
                fprintf(stderr, "bench-countbykey: %s\n", es);
                exit(2);
        }
}

static brook_topology_t *topology(brook_serde_t *vserde)
{
        brook_topology_t *t = brook_topology_new();
        brook_processor_t *c = brook_proc_batch_count_new(
            "counts",
            strcmp(opt.mode, "record") ? 0 : BROOK_COUNT_F_RECORD_ONLY);
        const char *in = opt.input;
        char es[512];

        if (brook_topology_add_source(t, "source", &in, 1, brook_serde_string(),
                                      vserde, es, sizeof(es)) ||
            brook_topology_add_processor(
                t, "count", c, (const char *[]){"source"}, 1, es, sizeof(es)) ||
            brook_topology_add_store(t, "counts", BROOK_STORE_ROCKSDB, 0,
                                     (const char *[]){"count"}, 1, es,
                                     sizeof(es)) ||
            brook_topology_add_sink(t, "sink", opt.output, brook_serde_string(),
                                    brook_serde_int64(), NULL, NULL,
                                    (const char *[]){"count"}, 1, es,
                                    sizeof(es))) {
                fprintf(stderr, "bench-countbykey: topology: %s\n", es);
                exit(1);
        }
        brook_processor_destroy(c);
        return t;
}

/* ---- restoration ---- */

static pthread_mutex_t rlock = PTHREAD_MUTEX_INITIALIZER;
static long long r_expected, r_restored;
static int r_started, r_ended;
static double r_first, r_last;

static void on_restore_start(const char *store, const char *topic, int32_t p,
                             int64_t start, int64_t end, void *op)
{
        (void)store;
        (void)topic;
        (void)p;
        (void)op;
        pthread_mutex_lock(&rlock);
        if (!r_started++)
                r_first = bu_now();
        r_expected += end - start;
        pthread_mutex_unlock(&rlock);
}

static void on_restore_end(const char *store, const char *topic, int32_t p,
                           int64_t total, void *op)
{
        (void)store;
        (void)topic;
        (void)p;
        (void)op;
        pthread_mutex_lock(&rlock);
        r_ended++;
        r_restored += total;
        r_last = bu_now();
        pthread_mutex_unlock(&rlock);
}

int main(int argc, char **argv)
{
        char es[512], dir[256], cmd[1024], buf[64], changelog[512];
        brook_serde_t *vserde =
            brook_serde_new("counting-bytes", NULL, bu_counting_deser, NULL);
        brook_conf_t *conf = brook_conf_new();
        brook_topology_t *t;
        brook_streams_t *s;
        brook_error_t *err;
        bu_json_t j;
        const char *error = NULL;
        double t0 = bu_now(), started, first = 0, last = 0, done, closed,
               cpu_first = 0, cpu_last = 0, deadline;
        long long processed = 0, out_records = 0, cl_records = 0;
        long rss_window = -1;
        int i, parts, temp_state;

        parse(argc, argv);
        temp_state = !opt.state_dir;
        signal(SIGPIPE, SIG_IGN);
        if (!(parts = bu_topic_info(opt.brokers, opt.input, NULL))) {
                fprintf(stderr, "bench-countbykey: topic %s not found\n",
                        opt.input);
                return 1;
        }
        if (temp_state)
                snprintf(dir, sizeof(dir), "/tmp/brook-cbk-%.200s-%d", opt.app,
                         (int)getpid());
        else
                snprintf(dir, sizeof(dir), "%.255s", opt.state_dir);
        if (opt.restore_only || temp_state) {
                /* restoration starts from an empty state directory */
                snprintf(cmd, sizeof(cmd), "rm -rf '%s/%.200s'", dir, opt.app);
                if (system(cmd))
                        return 1;
        }
        conf_set(conf, "bootstrap.servers", opt.brokers);
        conf_set(conf, "application.id", opt.app);
        conf_set(conf, "state.dir", dir);
        conf_set(conf, "log.level", "warn");
        snprintf(buf, sizeof(buf), "%d", opt.threads);
        conf_set(conf, "num.stream.threads", buf);
        if (opt.commit_ms >= 0) {
                snprintf(buf, sizeof(buf), "%lld", opt.commit_ms);
                conf_set(conf, "commit.interval.ms", buf);
        }
        if (opt.caching_bytes >= 0) {
                snprintf(buf, sizeof(buf), "%lld", opt.caching_bytes);
                conf_set(conf, "store.cache.max.bytes", buf);
        }
        for (i = 0; i < opt.nsets; i++) {
                char name[256];
                const char *eq = strchr(opt.sets[i], '=');

                if (!eq || (size_t)(eq - opt.sets[i]) >= sizeof(name))
                        usage("--set name=value");
                snprintf(name, sizeof(name), "%.*s", (int)(eq - opt.sets[i]),
                         opt.sets[i]);
                conf_set(conf, name, eq + 1);
        }
        t = topology(vserde);
        if (!(s = brook_streams_new(t, conf, es, sizeof(es)))) {
                fprintf(stderr, "bench-countbykey: %s\n", es);
                return 1;
        }
        if (opt.restore_only)
                brook_streams_set_restore_listener(s, on_restore_start, NULL,
                                                   on_restore_end, NULL);
        if ((err = brook_streams_start(s))) {
                fprintf(stderr, "bench-countbykey: start: %s\n",
                        brook_error_string(err));
                return 1;
        }
        started = bu_now();
        deadline = t0 + (double)opt.timeout_s;
        if (!opt.restore_only) {
                /* 1 ms polls of the counter: "first" is the end of the
                 * first batch, at most a batch late, as the peer's peek. */
                while (bu_now() < deadline && !brook_streams_wait(s, 0)) {
                        processed =
                            brook_streams_metric(s, "records.processed");
                        if (processed > 0 && first == 0) {
                                first = bu_now();
                                cpu_first = bu_cpu();
                        }
                        if (processed >= opt.expect) {
                                last = bu_now();
                                cpu_last = bu_cpu();
                                rss_window = bu_status_kb("VmHWM:");
                                break;
                        }
                        usleep(1000);
                }
                if (processed < opt.expect)
                        error = brook_streams_wait(s, 0)
                                    ? "streams stopped before --expect"
                                    : "timeout before --expect";
        } else {
                while (bu_now() < deadline && !brook_streams_wait(s, 0) &&
                       brook_streams_metric(s, "tasks.running") < parts)
                        usleep(1000);
                if (brook_streams_metric(s, "tasks.running") < parts)
                        error = "timeout waiting for restoration";
        }
        done = bu_now();
        if ((err = brook_streams_close(s))) {
                fprintf(stderr, "bench-countbykey: %s\n",
                        brook_error_string(err));
                if (!error)
                        error = "streams failed (see stderr)";
                brook_error_destroy(err);
        }
        closed = bu_now();
        processed = brook_streams_metric(s, "records.processed");

        bu_json_begin(&j);
        bu_json_str(&j, "impl", "brook");
        bu_json_str(&j, "case", "countbykey");
        bu_json_str(&j, "mode", opt.restore_only ? "restore" : opt.mode);
        if (!opt.restore_only) {
                double win = last - first, full = closed - first;

                snprintf(changelog, sizeof(changelog), "%s-counts-changelog",
                         opt.app);
                bu_topic_info(opt.brokers, opt.output, &out_records);
                bu_topic_info(opt.brokers, changelog, &cl_records);
                bu_json_int(&j, "records", error ? processed : opt.expect);
                bu_json_num(&j, "seconds", error ? -1 : win);
                bu_json_int(&j, "msgs_per_sec",
                            error || win <= 0 ? -1
                                              : (long long)(opt.expect / win));
                bu_json_num(&j, "mb_per_sec",
                            error || win <= 0 ? -1 : bu_bytes() / win / 1e6);
                bu_json_num(&j, "seconds_to_closed", error ? -1 : full);
                bu_json_int(
                    &j, "msgs_per_sec_to_closed",
                    error || full <= 0 ? -1 : (long long)(opt.expect / full));
        } else {
                double win = r_last - r_first;

                bu_json_int(&j, "records_restored", r_restored);
                bu_json_int(&j, "changelog_records_expected", r_expected);
                bu_json_int(&j, "partitions_restored", r_ended);
                bu_json_num(&j, "seconds", r_restored > 0 ? win : 0);
                bu_json_int(&j, "records_per_sec",
                            r_restored > 0 && win > 0
                                ? (long long)(r_restored / win)
                                : -1);
                bu_json_num(&j, "seconds_to_running", done - started);
        }
        bu_json_int(&j, "peak_rss_kb", bu_status_kb("VmHWM:"));
        if (!opt.restore_only)
                bu_json_int(&j, "peak_rss_kb_window", rss_window);
        bu_json_num(&j, "cpu_seconds", bu_cpu());
        if (!opt.restore_only && !error)
                bu_json_num(&j, "cpu_seconds_window", cpu_last - cpu_first);
        bu_json_int(&j, "threads", opt.threads);
        if (!opt.restore_only) {
                bu_json_int(&j, "processed_total", processed);
                bu_json_num(&j, "startup_seconds",
                            first > 0 ? first - started : -1);
                bu_json_int(&j, "output_records", out_records);
                bu_json_int(&j, "changelog_records", cl_records);
        }
        bu_json_num(&j, "close_seconds", closed - done);
        bu_json_num(&j, "wall_seconds", closed - t0);
        bu_json_int(&j, "partitions", parts);
        bu_json_int(&j, "commit_interval_ms",
                    opt.commit_ms >= 0 ? opt.commit_ms : 30000);
        bu_json_int(&j, "cache_max_bytes",
                    opt.caching_bytes >= 0 ? opt.caching_bytes : 10485760);
        bu_json_str(&j, "store", "rocksdb");
        if (error)
                bu_json_str(&j, "error", error);
        bu_json_end(&j);
        brook_streams_destroy(s);
        brook_topology_destroy(t);
        brook_conf_destroy(conf);
        brook_serde_destroy(vserde);
        if (temp_state) {
                snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
                if (system(cmd))
                        error = "cleanup failed";
        }
        return error ? 1 : 0;
}
