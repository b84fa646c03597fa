/*
 * bench-streams: streams runtime throughput on a real broker, batch path vs
 * record path, measured in one run.
 *
 *   bench-streams [--brokers H:P] [--records N] [--partitions P]
 *                 [--rounds R] [--only map|count|wordcount] [--keys K]
 *
 * Workloads (the same topology twice, with and without process_batch):
 *   map       source -> transform -> sink; the transform is the same
 *             function, called once per batch or once per record.
 *   count     (K distinct keys, default 10000)
 *             source -> the batch count aggregator (RocksDB store with
 *             changelog) -> sink; with process_batch it does one get_batch
 *             and one put_batch per batch, without (BROOK_COUNT_F_RECORD_ONLY)
 *             a get and a put per record.
 *   wordcount lines -> split (flat_map) -> repartition topic -> count ->
 *             sink, end to end; batch store ops (get_batch/put_batch) vs
 *             single ones (BROOK_COUNT_F_SINGLE_STORE_OPS).
 * Input is produced once per workload; each variant runs R times
 * (alternating) with its own application.id, and the median is printed.
 * Time runs from the moment every task is running (group join and
 * restoration excluded) until the runtime is closed after the last source
 * record: the close's commit cycle flushes the record caches (the count
 * aggregator emits on flush) and delivers the last output.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "brook/brook.h"

static const char *brokers;
static long long nrec = 500000;
static int parts = 4, rounds = 3, count_keys = 10000;
static char tag[64];

static double now_s(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const char *why)
{
        fprintf(stderr, "bench-streams: %s: %s\n", what, why);
        exit(1);
}

static brook_conf_t *base_conf(void)
{
        brook_conf_t *c = brook_conf_new();
        char es[512];

        if (brook_conf_set(c, "bootstrap.servers", brokers, es, sizeof(es)) ||
            brook_conf_set(c, "log.level", "warn", es, sizeof(es)) ||
            brook_conf_set(c, "commit.interval.ms", "1000", es, sizeof(es)) ||
            brook_conf_set(c, "kafka.session.timeout.ms", "6000", es,
                           sizeof(es)))
                die("conf", es);
        return c;
}

static void topic(const char *name, int partitions)
{
        brook_conf_t *c = base_conf();
        char es[512];

        if (brook_admin_create_topic(c, name, partitions, -1, NULL, 0, 30000,
                                     es, sizeof(es)))
                die(name, es);
        brook_conf_destroy(c);
}

/* Produce @p n records (key k<i % keys>, value from @p gen) with plain
 * librdkafka. */
static void produce(const char *t, long long n, int keys,
                    int (*gen)(long long i, char *buf, size_t size))
{
        rd_kafka_conf_t *rkc = rd_kafka_conf_new();
        char es[512], key[32], val[512];
        rd_kafka_t *rk;
        long long i;

        rd_kafka_conf_set(rkc, "bootstrap.servers", brokers, es, sizeof(es));
        rd_kafka_conf_set(rkc, "linger.ms", "20", es, sizeof(es));
        rd_kafka_conf_set(rkc, "queue.buffering.max.messages", "1000000", es,
                          sizeof(es));
        if (!(rk = rd_kafka_new(RD_KAFKA_PRODUCER, rkc, es, sizeof(es))))
                die("producer", es);
        for (i = 0; i < n; i++) {
                int kl = snprintf(key, sizeof(key), "k%lld", i % keys);
                int vl = gen(i, val, sizeof(val));

                while (rd_kafka_producev(
                           rk, RD_KAFKA_V_TOPIC(t),
                           RD_KAFKA_V_PARTITION((int32_t)(i % parts)),
                           RD_KAFKA_V_KEY(key, (size_t)kl),
                           RD_KAFKA_V_VALUE(val, (size_t)vl),
                           RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                           RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
                        rd_kafka_poll(rk, 10);
                rd_kafka_poll(rk, 0);
        }
        while (rd_kafka_outq_len(rk) > 0)
                rd_kafka_poll(rk, 100);
        rd_kafka_destroy(rk);
}

static int gen_value(long long i, char *buf, size_t size)
{
        return snprintf(buf, size,
                        "event %lld: the quick brown fox jumps over the lazy "
                        "dog",
                        i);
}

/*
 * Run @p t: records/s of @p src_records source records, from the moment
 * @p tasks tasks run until the close returned (every source record
 * processed, then the last commit cycle).
 */
static double run(brook_topology_t *t, const char *app, long long src_records,
                  int tasks, brook_conf_t *conf)
{
        char es[512], dir[256];
        brook_streams_t *s;
        brook_error_t *err;
        double t0, t_last;

        snprintf(dir, sizeof(dir), "/tmp/brook-bench-streams-%d", getpid());
        if (brook_conf_set(conf, "application.id", app, es, sizeof(es)) ||
            brook_conf_set(conf, "state.dir", dir, es, sizeof(es)))
                die("conf", es);
        if (!(s = brook_streams_new(t, conf, es, sizeof(es))))
                die("streams", es);
        if ((err = brook_streams_start(s)))
                die("start", brook_error_string(err));
        while (brook_streams_metric(s, "tasks.running") < tasks)
                usleep(1000);
        t0 = now_s();
        while (brook_streams_metric(s, "records.processed") < src_records)
                usleep(1000);
        if ((err = brook_streams_close(s)))
                die("close", brook_error_string(err));
        t_last = now_s();
        brook_streams_destroy(s);
        snprintf(es, sizeof(es), "rm -rf '%s'", dir);
        if (system(es))
                die("cleanup", dir);
        return (double)src_records / (t_last - t0);
}

static int cmp_dbl(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;

        return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
        qsort(v, (size_t)n, sizeof(*v), cmp_dbl);
        return v[n / 2];
}

static void report(const char *workload, const char *a, double *va,
                   const char *b, double *vb, const char *unit)
{
        double ma = median(va, rounds), mb = median(vb, rounds);

        printf("| %s | %s | %.0f %s | |\n", workload, a, ma, unit);
        printf("| %s | %s | %.0f %s | %.2fx |\n", workload, b, mb, unit,
               mb / ma);
        fflush(stdout);
}

/* ---- map ---- */

static brook_record_t *transform(brook_ctx_t *ctx, brook_record_t *rec)
{
        size_t vl, kl, i;
        const char *v = brook_record_value(rec, &vl);
        const void *k = brook_record_key(rec, &kl);
        char buf[512];
        uint32_t h = 2166136261u;

        if (vl > sizeof(buf) - 16)
                vl = sizeof(buf) - 16;
        for (i = 0; i < vl; i++) {
                buf[i] = (char)toupper((unsigned char)v[i]);
                h = (h ^ (unsigned char)v[i]) * 16777619u;
        }
        i += (size_t)snprintf(buf + i, 16, " #%08x", h);
        return brook_ctx_record_new(ctx, rec, k, kl, buf, i, 0);
}

static brook_err_t map_one(brook_ctx_t *ctx, brook_record_t *rec, void *st)
{
        (void)st;
        return brook_ctx_forward(ctx, transform(ctx, rec));
}

static brook_err_t map_batch(brook_ctx_t *ctx, brook_record_t *const *recs,
                             size_t cnt, void *st)
{
        brook_record_t *out[1024];
        size_t i, n = 0;
        brook_err_t err;

        (void)st;
        for (i = 0; i < cnt; i++) {
                out[n++] = transform(ctx, recs[i]);
                if (n == 1024 || i + 1 == cnt) {
                        if ((err = brook_ctx_forward_batch(ctx, out, n)))
                                return err;
                        n = 0;
                }
        }
        return BROOK_OK;
}

static brook_topology_t *topo_one(const char *in, const char *out,
                                  brook_processor_t *p, int with_store)
{
        brook_topology_t *t = brook_topology_new();
        char es[512];

        if (brook_topology_add_source(t, "src", &in, 1, brook_serde_bytes(),
                                      brook_serde_bytes(), es, sizeof(es)) ||
            brook_topology_add_processor(t, "p", p, (const char *[]){"src"}, 1,
                                         es, sizeof(es)) ||
            (with_store && brook_topology_add_store(
                               t, "counts", BROOK_STORE_ROCKSDB, 0,
                               (const char *[]){"p"}, 1, es, sizeof(es))) ||
            brook_topology_add_sink(t, "sink", out, brook_serde_bytes(),
                                    brook_serde_bytes(), NULL, NULL,
                                    (const char *[]){"p"}, 1, es, sizeof(es)))
                die("topology", es);
        brook_processor_destroy(p);
        return t;
}

static void bench_map(void)
{
        char in[128], out[128], app[160];
        double vb[16], vr[16];
        int r;

        snprintf(in, sizeof(in), "bench-map-in-%s", tag);
        snprintf(out, sizeof(out), "bench-map-out-%s", tag);
        topic(in, parts);
        topic(out, parts);
        produce(in, nrec, 10000, gen_value);
        for (r = 0; r < rounds; r++) {
                int batch;

                for (batch = 0; batch < 2; batch++) {
                        brook_processor_t *p = brook_processor_new();
                        brook_conf_t *c = base_conf();
                        brook_topology_t *t;

                        brook_processor_set_process(p, map_one);
                        if (batch)
                                brook_processor_set_process_batch(p, map_batch);
                        t = topo_one(in, out, p, 0);
                        snprintf(app, sizeof(app), "bench-map-%s-%d-%d", tag, r,
                                 batch);
                        (batch ? vb : vr)[r] = run(t, app, nrec, parts, c);
                        brook_topology_destroy(t);
                        brook_conf_destroy(c);
                }
        }
        report("map (stateless)", "process (per record)", vr, "process_batch",
               vb, "msgs/s");
}

/* ---- count ---- */

static void bench_count(void)
{
        char in[128], out[128], app[160];
        double vb[16], vr[16];
        int r;

        snprintf(in, sizeof(in), "bench-count-in-%s", tag);
        snprintf(out, sizeof(out), "bench-count-out-%s", tag);
        topic(in, parts);
        topic(out, parts);
        produce(in, nrec, count_keys, gen_value);
        for (r = 0; r < rounds; r++) {
                int batch;

                for (batch = 0; batch < 2; batch++) {
                        brook_processor_t *p = brook_proc_batch_count_new(
                            "counts", batch ? 0 : BROOK_COUNT_F_RECORD_ONLY);
                        brook_conf_t *c = base_conf();
                        brook_topology_t *t = topo_one(in, out, p, 1);

                        snprintf(app, sizeof(app), "bench-count-%s-%d-%d", tag,
                                 r, batch);
                        (batch ? vb : vr)[r] = run(t, app, nrec, parts, c);
                        brook_topology_destroy(t);
                        brook_conf_destroy(c);
                }
        }
        {
                char w[96];

                snprintf(w, sizeof(w), "count, %d keys (RocksDB + changelog)",
                         count_keys);
                report(w, "process (get + put per record)", vr,
                       "process_batch (get_batch + put_batch)", vb, "msgs/s");
        }
}

/* ---- wordcount ---- */

static int gen_line(long long i, char *buf, size_t size)
{
        uint32_t x = (uint32_t)i * 2654435761u + 1;
        int n = 1 + (int)(x % 12), w, o = 0;

        for (w = 0; w < n && (size_t)o + 16 < size; w++) {
                x = x * 1103515245u + 12345u;
                o += snprintf(buf + o, size - (size_t)o, "%sw%u", w ? " " : "",
                              (x >> 8) % 5000);
        }
        return o;
}

static brook_err_t split(brook_ctx_t *ctx, brook_record_t *rec, void *op)
{
        size_t len, i = 0;
        const char *line = brook_record_value(rec, &len);

        (void)op;
        while (i < len) {
                size_t s0;

                while (i < len && line[i] == ' ')
                        i++;
                s0 = i;
                while (i < len && line[i] != ' ')
                        i++;
                if (i > s0 &&
                    brook_ctx_forward(ctx, brook_ctx_record_new(
                                               ctx, rec, line + s0, i - s0, "",
                                               0, BROOK_RECORD_F_BORROW)))
                        return BROOK_ERR_NO_MEM;
        }
        return BROOK_OK;
}

static void bench_wordcount(void)
{
        char in[128], out[128], words[200], app[160], es[512];
        double vb[16], vr[16];
        long long nwords = 0, i;
        int r;

        snprintf(in, sizeof(in), "bench-wc-in-%s", tag);
        snprintf(out, sizeof(out), "bench-wc-out-%s", tag);
        topic(in, parts);
        topic(out, parts);
        produce(in, nrec / 5, 1000, gen_line);
        for (i = 0; i < nrec / 5; i++) {
                char buf[512];
                int n = gen_line(i, buf, sizeof(buf)), k;

                for (k = 0, nwords++; k < n; k++)
                        nwords += buf[k] == ' ';
        }
        for (r = 0; r < rounds; r++) {
                int batch;

                for (batch = 0; batch < 2; batch++) {
                        brook_topology_t *t = brook_topology_new();
                        brook_processor_t *sp =
                            brook_proc_flat_map_new(split, NULL);
                        brook_processor_t *cp = brook_proc_batch_count_new(
                            "counts",
                            batch ? 0 : BROOK_COUNT_F_SINGLE_STORE_OPS);
                        brook_conf_t *c = base_conf();
                        const char *inp = in, *wp = words;

                        snprintf(app, sizeof(app), "bench-wc-%s-%d-%d", tag, r,
                                 batch);
                        snprintf(words, sizeof(words), "%s-words", app);
                        topic(words, parts);
                        if (brook_topology_add_source(t, "lines", &inp, 1, NULL,
                                                      NULL, es, sizeof(es)) ||
                            brook_topology_add_processor(
                                t, "split", sp, (const char *[]){"lines"}, 1,
                                es, sizeof(es)) ||
                            brook_topology_add_sink(
                                t, "to-words", words, NULL, NULL, NULL, NULL,
                                (const char *[]){"split"}, 1, es, sizeof(es)) ||
                            brook_topology_add_source(t, "words", &wp, 1, NULL,
                                                      NULL, es, sizeof(es)) ||
                            brook_topology_add_processor(
                                t, "count", cp, (const char *[]){"words"}, 1,
                                es, sizeof(es)) ||
                            brook_topology_add_store(
                                t, "counts", BROOK_STORE_ROCKSDB, 0,
                                (const char *[]){"count"}, 1, es, sizeof(es)) ||
                            brook_topology_add_sink(
                                t, "out", out, NULL, brook_serde_int64(), NULL,
                                NULL, (const char *[]){"count"}, 1, es,
                                sizeof(es)))
                                die("topology", es);
                        brook_processor_destroy(sp);
                        brook_processor_destroy(cp);
                        /* lines + words are the source records */
                        (batch ? vb : vr)[r] =
                            run(t, app, nrec / 5 + nwords, 2 * parts, c) *
                            (double)nwords / (double)(nrec / 5 + nwords);
                        brook_topology_destroy(t);
                        brook_conf_destroy(c);
                }
        }
        report("word count, end to end (words/s)",
               "single store ops (get + put per word)", vr,
               "batch store ops (get_batch + put_batch)", vb, "words/s");
        printf("\n(word count input: %lld lines, %lld words)\n", nrec / 5,
               nwords);
}

int main(int argc, char **argv)
{
        const char *only = NULL;
        int a;

        brokers = getenv("BROOK_BROKERS");
        for (a = 1; a + 1 < argc; a += 2) {
                if (!strcmp(argv[a], "--brokers"))
                        brokers = argv[a + 1];
                else if (!strcmp(argv[a], "--records"))
                        nrec = atoll(argv[a + 1]);
                else if (!strcmp(argv[a], "--partitions"))
                        parts = atoi(argv[a + 1]);
                else if (!strcmp(argv[a], "--rounds"))
                        rounds = atoi(argv[a + 1]);
                else if (!strcmp(argv[a], "--only"))
                        only = argv[a + 1];
                else if (!strcmp(argv[a], "--keys"))
                        count_keys = atoi(argv[a + 1]);
        }
        if (!brokers || !*brokers)
                die("brokers", "pass --brokers or set BROOK_BROKERS "
                               "(a real broker: scripts/kafka start)");
        if (rounds < 1 || rounds > 16)
                rounds = 3;
        snprintf(tag, sizeof(tag), "%d-%ld", getpid(), (long)time(NULL));
        printf("# bench-streams: %lld records, %d partitions, median of %d "
               "runs, brokers %s\n\n",
               nrec, parts, rounds, brokers);
        printf("| workload | variant | throughput | batch / record |\n"
               "|---|---|---|---|\n");
        fflush(stdout);
        if (!only || !strcmp(only, "map"))
                bench_map();
        if (!only || !strcmp(only, "count"))
                bench_count();
        if (!only || !strcmp(only, "wordcount"))
                bench_wordcount();
        return 0;
}
