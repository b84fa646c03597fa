/*
 * bench-seed: the plan's four workloads ("Benchmark Results (Expected)":
 * CPU-bound 2x, memory-bound aggregation 6x, state-store writes 50x,
 * Kafka sink 20x batch vs single record), one variant per process, one
 * JSON line.
 *
 *   bench-seed --brokers B --input T --expect N --workload cpu|agg|store|sink
 *              --mode record|batch [--batch-size N] [--output T]
 *              [--app-id ID] [--threads N] [--rounds R] [--durable]
 *              [--set name=value]...
 *
 * Input: any keyed topic (e.g. the count-by-key input). Every variant is
 * a streams application (its own application.id, so it reads the input
 * from the beginning) that runs until --expect records went through and
 * then closes: the last commit cycle flushes stores and output and commits
 * the offsets. record mode = the processor has only process(); batch mode
 * = only process_batch(). --batch-size sets streams.batch.max.records in
 * both modes (the records polled at once; 1 makes the record mode a
 * strict one-record-at-a-time pipeline).
 *
 *   cpu   transform per record, no output: --rounds rounds of 64-bit FNV-1a
 *         over the value, folded into a checksum (printed, equal in both
 *         modes: the same work is done). The batch function hashes four
 *         records at a time (independent chains the CPU overlaps), which a
 *         per-record function cannot.
 *   agg   count per key in an in-memory store (no changelog): the built-in
 *         count aggregator, record path (get + put per record) vs batch
 *         path (sums per key in the batch, one get_batch + one put_batch).
 *   store state-store writes, RocksDB without changelog and without record
 *         cache: put(key, value) per record vs one put_batch per batch.
 *         --durable: WAL on and fsynced per write (store.rocksdb.wal and
 *         .sync), the plan's "I/O-bound" case.
 *   sink  consume, transform (upper-case the value), produce to --output
 *         (must exist): a record forwarded per process() call vs the
 *         batch's records forwarded at once.
 */
#include <ctype.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_util.h"

static struct {
        const char *brokers, *input, *output, *app, *workload, *mode;
        const char *sets[32];
        int nsets, threads, rounds, durable, batch_size;
        long long expect, timeout_s;
} opt = {.threads = 1, .rounds = 4, .batch_size = 1000, .timeout_s = 900};

static void usage(const char *why)
{
        if (why)
                fprintf(stderr, "bench-seed: %s\n", why);
        fprintf(stderr, "usage: bench-seed --brokers B --input T --expect N "
                        "--workload cpu|agg|store|sink\n"
                        "         --mode record|batch [--batch-size N] "
                        "[--output T] [--app-id ID]\n"
                        "         [--threads N] [--rounds R] [--durable] "
                        "[--set name=value]...\n");
        exit(2);
}

static void parse(int argc, char **argv)
{
        int i;

        opt.brokers = getenv("BROOK_BROKERS");
        for (i = 1; i < argc; i++) {
                const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

                if (!strcmp(a, "--durable")) {
                        opt.durable = 1;
                        continue;
                }
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
                else if (!strcmp(a, "--workload"))
                        opt.workload = v;
                else if (!strcmp(a, "--mode"))
                        opt.mode = v;
                else if (!strcmp(a, "--expect"))
                        opt.expect = atoll(v);
                else if (!strcmp(a, "--batch-size"))
                        opt.batch_size = atoi(v);
                else if (!strcmp(a, "--threads"))
                        opt.threads = atoi(v);
                else if (!strcmp(a, "--rounds"))
                        opt.rounds = atoi(v);
                else if (!strcmp(a, "--timeout-s"))
                        opt.timeout_s = atoll(v);
                else if (!strcmp(a, "--set") && opt.nsets < 32)
                        opt.sets[opt.nsets++] = v;
                else
                        usage("unknown option");
        }
        if (!opt.brokers || !opt.input || opt.expect <= 0 || !opt.workload ||
            !opt.mode)
                usage("--brokers, --input, --expect, --workload and --mode "
                      "are required");
        if (strcmp(opt.mode, "record") && strcmp(opt.mode, "batch"))
                usage("--mode is record or batch");
        if (strcmp(opt.workload, "cpu") && strcmp(opt.workload, "agg") &&
            strcmp(opt.workload, "store") && strcmp(opt.workload, "sink"))
                usage("--workload is cpu, agg, store or sink");
        if (!strcmp(opt.workload, "sink") && !opt.output)
                usage("--workload sink needs --output");
        if (opt.batch_size < 1 || opt.rounds < 1 || opt.threads < 1)
                usage("bad number");
}

static void die(const char *what, const char *why)
{
        fprintf(stderr, "bench-seed: %s: %s\n", what, why);
        exit(1);
}

/* ---- cpu ---- */

#define MIN2(a, b)       ((a) < (b) ? (a) : (b))
#define MIN4(a, b, c, d) MIN2(MIN2(a, b), MIN2(c, d))
#define FNV_OFF          0xcbf29ce484222325ull
#define FNV_PRIME        0x100000001b3ull

/* Checksum of every task, summed (order-independent). */
static uint64_t cpu_sum;

static uint64_t fnv_rounds(const unsigned char *v, size_t n, int rounds)
{
        uint64_t h = FNV_OFF;
        int r;
        size_t i;

        for (r = 0; r < rounds; r++)
                for (i = 0; i < n; i++)
                        h = (h ^ v[i]) * FNV_PRIME;
        return h;
}

static brook_err_t cpu_process(brook_ctx_t *ctx, brook_record_t *rec, void *st)
{
        size_t n;
        const unsigned char *v = brook_record_value(rec, &n);

        (void)ctx;
        (void)st;
        __atomic_fetch_add(&cpu_sum, fnv_rounds(v, v ? n : 0, opt.rounds),
                           __ATOMIC_RELAXED);
        return BROOK_OK;
}

/* Four records at a time: four independent multiply chains per byte. */
static brook_err_t cpu_batch(brook_ctx_t *ctx, brook_record_t *const *recs,
                             size_t cnt, void *st)
{
        uint64_t sum = 0;
        size_t i = 0, b, k;
        int r;

        (void)ctx;
        (void)st;
        for (; i + 4 <= cnt; i += 4) {
                const unsigned char *v[4];
                size_t n[4], m;
                uint64_t h[4] = {FNV_OFF, FNV_OFF, FNV_OFF, FNV_OFF};

                for (k = 0; k < 4; k++) {
                        v[k] = brook_record_value(recs[i + k], &n[k]);
                        if (!v[k])
                                n[k] = 0;
                }
                m = MIN4(n[0], n[1], n[2], n[3]);
                for (r = 0; r < opt.rounds; r++) {
                        for (b = 0; b < m; b++) {
                                h[0] = (h[0] ^ v[0][b]) * FNV_PRIME;
                                h[1] = (h[1] ^ v[1][b]) * FNV_PRIME;
                                h[2] = (h[2] ^ v[2][b]) * FNV_PRIME;
                                h[3] = (h[3] ^ v[3][b]) * FNV_PRIME;
                        }
                        for (k = 0; k < 4; k++)
                                for (b = m; b < n[k]; b++)
                                        h[k] = (h[k] ^ v[k][b]) * FNV_PRIME;
                }
                sum += h[0] + h[1] + h[2] + h[3];
        }
        for (; i < cnt; i++) {
                size_t n;
                const unsigned char *v = brook_record_value(recs[i], &n);

                sum += fnv_rounds(v, v ? n : 0, opt.rounds);
        }
        __atomic_fetch_add(&cpu_sum, sum, __ATOMIC_RELAXED);
        return BROOK_OK;
}

/* ---- store ---- */

static brook_err_t store_init(brook_ctx_t *ctx, void *op, void **statep)
{
        (void)op;
        return (*statep = brook_ctx_store(ctx, "kv")) ? BROOK_OK
                                                      : BROOK_ERR_NOT_FOUND;
}

static brook_err_t store_process(brook_ctx_t *ctx, brook_record_t *rec,
                                 void *st)
{
        size_t kl, vl;
        const void *k = brook_record_key(rec, &kl), *v;

        (void)ctx;
        v = brook_record_value(rec, &vl);
        if (!k || !v)
                return BROOK_OK;
        return brook_store_put(st, k, kl, v, vl);
}

typedef struct kv_arrays_s {
        const void **k, **v;
        size_t *kl, *vl, cap;
} kv_arrays_t;

static _Thread_local kv_arrays_t kva;

static brook_err_t store_batch(brook_ctx_t *ctx, brook_record_t *const *recs,
                               size_t cnt, void *st)
{
        size_t i, n = 0;

        (void)ctx;
        if (cnt > kva.cap) {
                kva.k = realloc(kva.k, cnt * sizeof(*kva.k));
                kva.v = realloc(kva.v, cnt * sizeof(*kva.v));
                kva.kl = realloc(kva.kl, cnt * sizeof(*kva.kl));
                kva.vl = realloc(kva.vl, cnt * sizeof(*kva.vl));
                if (!kva.k || !kva.v || !kva.kl || !kva.vl)
                        return BROOK_ERR_NO_MEM;
                kva.cap = cnt;
        }
        for (i = 0; i < cnt; i++) {
                kva.k[n] = brook_record_key(recs[i], &kva.kl[n]);
                kva.v[n] = brook_record_value(recs[i], &kva.vl[n]);
                if (kva.k[n] && kva.v[n])
                        n++;
        }
        return brook_store_put_batch(st, n, kva.k, kva.kl, kva.v, kva.vl);
}

/* ---- sink ---- */

static brook_record_t *upper(brook_ctx_t *ctx, brook_record_t *rec)
{
        size_t vl, kl, i;
        const unsigned char *v = brook_record_value(rec, &vl);
        const void *k = brook_record_key(rec, &kl);
        brook_record_t *out =
            brook_ctx_record_new(ctx, rec, k, kl, v, v ? vl : 0, 0);
        unsigned char *o;

        if (!out || !v)
                return out;
        o = (unsigned char *)brook_record_value(out, NULL);
        for (i = 0; i < vl; i++)
                o[i] = (unsigned char)toupper(v[i]);
        return out;
}

static brook_err_t sink_process(brook_ctx_t *ctx, brook_record_t *rec, void *st)
{
        brook_record_t *out = upper(ctx, rec);

        (void)st;
        return out ? brook_ctx_forward(ctx, out) : BROOK_ERR_NO_MEM;
}

static brook_err_t sink_batch(brook_ctx_t *ctx, brook_record_t *const *recs,
                              size_t cnt, void *st)
{
        brook_record_t *out[1024];
        size_t i, n = 0;
        brook_err_t err;

        (void)st;
        for (i = 0; i < cnt; i++) {
                if (!(out[n++] = upper(ctx, recs[i])))
                        return BROOK_ERR_NO_MEM;
                if (n == 1024 || i + 1 == cnt) {
                        if ((err = brook_ctx_forward_batch(ctx, out, n)))
                                return err;
                        n = 0;
                }
        }
        return BROOK_OK;
}

/* ---- topology and run ---- */

static brook_topology_t *topology(brook_serde_t *vserde)
{
        brook_topology_t *t = brook_topology_new();
        brook_processor_t *p = NULL;
        int batch = !strcmp(opt.mode, "batch");
        const char *in = opt.input, *w = opt.workload;
        char es[512];

        if (!strcmp(w, "agg")) {
                p = brook_proc_batch_count_new(
                    "kv", batch ? 0 : BROOK_COUNT_F_RECORD_ONLY);
        } else {
                p = brook_processor_new();
                if (!strcmp(w, "cpu")) {
                        brook_processor_set_process(p,
                                                    batch ? NULL : cpu_process);
                        brook_processor_set_process_batch(p, batch ? cpu_batch
                                                                   : NULL);
                } else if (!strcmp(w, "store")) {
                        brook_processor_set_init(p, store_init, NULL);
                        brook_processor_set_process(p, batch ? NULL
                                                             : store_process);
                        brook_processor_set_process_batch(p, batch ? store_batch
                                                                   : NULL);
                } else {
                        brook_processor_set_process(p, batch ? NULL
                                                             : sink_process);
                        brook_processor_set_process_batch(p, batch ? sink_batch
                                                                   : NULL);
                }
        }
        if (brook_topology_add_source(t, "source", &in, 1, brook_serde_bytes(),
                                      vserde, es, sizeof(es)) ||
            brook_topology_add_processor(
                t, "work", p, (const char *[]){"source"}, 1, es, sizeof(es)))
                die("topology", es);
        if (!strcmp(w, "agg") &&
            brook_topology_add_store(
                t, "kv", BROOK_STORE_MEMORY, BROOK_STORE_F_NO_CHANGELOG,
                (const char *[]){"work"}, 1, es, sizeof(es)))
                die("topology", es);
        if (!strcmp(w, "store") &&
            brook_topology_add_store(
                t, "kv", BROOK_STORE_ROCKSDB, BROOK_STORE_F_NO_CHANGELOG,
                (const char *[]){"work"}, 1, es, sizeof(es)))
                die("topology", es);
        if (!strcmp(w, "sink") &&
            brook_topology_add_sink(t, "sink", opt.output, NULL, NULL, NULL,
                                    NULL, (const char *[]){"work"}, 1, es,
                                    sizeof(es)))
                die("topology", es);
        brook_processor_destroy(p);
        return t;
}

static void conf_set(brook_conf_t *c, const char *name, const char *value)
{
        char es[512];

        if (brook_conf_set(c, name, value, es, sizeof(es)))
                die("conf", es);
}

int main(int argc, char **argv)
{
        char es[512], dir[256], cmd[400], app[256], buf[64];
        brook_serde_t *vserde =
            brook_serde_new("counting-bytes", NULL, bu_counting_deser, NULL);
        brook_conf_t *conf = brook_conf_new();
        brook_topology_t *t;
        brook_streams_t *s;
        brook_error_t *err;
        bu_json_t j;
        const char *error = NULL;
        double t0 = bu_now(), first = 0, last = 0, closed, deadline,
               cpu_first = 0, cpu_last = 0;
        long long processed = 0;
        int i;

        parse(argc, argv);
        signal(SIGPIPE, SIG_IGN);
        if (opt.app)
                snprintf(app, sizeof(app), "%.200s", opt.app);
        else
                snprintf(app, sizeof(app), "seed-%s-%s-%d-%d", opt.workload,
                         opt.mode, opt.batch_size, (int)getpid());
        snprintf(dir, sizeof(dir), "/tmp/brook-seed-%d", (int)getpid());
        conf_set(conf, "bootstrap.servers", opt.brokers);
        conf_set(conf, "application.id", app);
        conf_set(conf, "state.dir", dir);
        conf_set(conf, "log.level", "warn");
        snprintf(buf, sizeof(buf), "%d", opt.threads);
        conf_set(conf, "num.stream.threads", buf);
        snprintf(buf, sizeof(buf), "%d", opt.batch_size);
        conf_set(conf, "streams.batch.max.records", buf);
        if (!strcmp(opt.workload, "store")) {
                /* every put reaches RocksDB */
                conf_set(conf, "store.cache.max.bytes", "0");
                if (opt.durable) {
                        conf_set(conf, "store.rocksdb.wal", "true");
                        conf_set(conf, "store.rocksdb.sync", "true");
                }
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
        if (!(s = brook_streams_new(t, conf, es, sizeof(es))))
                die("streams", es);
        if ((err = brook_streams_start(s)))
                die("start", brook_error_string(err));
        deadline = t0 + (double)opt.timeout_s;
        while (bu_now() < deadline && !brook_streams_wait(s, 0)) {
                processed = brook_streams_metric(s, "records.processed");
                if (processed > 0 && first == 0) {
                        first = bu_now();
                        cpu_first = bu_cpu();
                }
                if (processed >= opt.expect) {
                        last = bu_now();
                        cpu_last = bu_cpu();
                        break;
                }
                usleep(1000);
        }
        if (processed < opt.expect)
                error = "stopped or timed out before --expect";
        if ((err = brook_streams_close(s))) {
                fprintf(stderr, "bench-seed: %s\n", brook_error_string(err));
                error = error ? error : "streams failed (see stderr)";
                brook_error_destroy(err);
        }
        closed = bu_now();

        bu_json_begin(&j);
        bu_json_str(&j, "impl", "brook");
        snprintf(buf, sizeof(buf), "seed-%s", opt.workload);
        bu_json_str(&j, "case", buf);
        bu_json_str(&j, "workload", opt.workload);
        bu_json_str(&j, "mode", opt.mode);
        bu_json_int(&j, "batch_size", opt.batch_size);
        bu_json_int(&j, "records", error ? processed : opt.expect);
        bu_json_num(&j, "seconds", error ? -1 : last - first);
        bu_json_int(&j, "msgs_per_sec",
                    error ? -1 : (long long)(opt.expect / (last - first)));
        bu_json_num(&j, "mb_per_sec",
                    error ? -1 : bu_bytes() / (last - first) / 1e6);
        bu_json_num(&j, "seconds_to_closed", error ? -1 : closed - first);
        bu_json_int(&j, "msgs_per_sec_to_closed",
                    error ? -1 : (long long)(opt.expect / (closed - first)));
        bu_json_int(&j, "peak_rss_kb", bu_status_kb("VmHWM:"));
        bu_json_num(&j, "cpu_seconds", bu_cpu());
        if (!error)
                bu_json_num(&j, "cpu_seconds_window", cpu_last - cpu_first);
        bu_json_int(&j, "threads", opt.threads);
        bu_json_int(&j, "processed_total",
                    brook_streams_metric(s, "records.processed"));
        bu_json_int(&j, "commits", brook_streams_metric(s, "commits"));
        if (!strcmp(opt.workload, "cpu")) {
                snprintf(buf, sizeof(buf), "%016llx",
                         (unsigned long long)cpu_sum);
                bu_json_str(&j, "checksum", buf);
                bu_json_int(&j, "rounds", opt.rounds);
        }
        if (!strcmp(opt.workload, "store"))
                bu_json_str(&j, "durability",
                            opt.durable ? "wal+fsync" : "no wal (default)");
        if (!strcmp(opt.workload, "sink"))
                bu_json_int(&j, "produced",
                            brook_streams_metric(s, "records.produced"));
        if (error)
                bu_json_str(&j, "error", error);
        bu_json_end(&j);
        brook_streams_destroy(s);
        brook_topology_destroy(t);
        brook_conf_destroy(conf);
        brook_serde_destroy(vserde);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        if (system(cmd))
                error = "cleanup failed";
        return error ? 1 : 0;
}
