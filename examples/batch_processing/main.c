/*
 * batch_processing: the plan's example, in C.
 *
 * A batch processor receives records of one partition in offset order,
 * counts them per key in memory, reads the keys' totals with one
 * get_batch, writes the new totals with one put_batch, and forwards
 * "Processed: <value>" for every record as one batch. Next to it, the
 * built-in batch count aggregator keeps per-key counts of its own.
 *
 *   input --> aggregate (process_batch, store "totals") --> output
 *         \-> count (built-in, store "counts") ---------> <output>-counts
 *
 * Without --brokers it runs on the embedded cluster: it creates the topics,
 * produces sample records, processes them and prints the output. With
 * --brokers it runs against that cluster until interrupted (SIGINT,
 * SIGTERM), or until --exit-after records were processed, or --idle-exit-ms
 * passed without new records.
 *
 *   batch_processing [--brokers H:P] [--input T] [--output T]
 *                    [--app-id ID] [--state-dir DIR] [--threads N]
 *                    [--no-batch] [--print] [--exit-after N]
 *                    [--idle-exit-ms MS] [--set name=value]...
 *
 * On a real cluster, create the topics first (input, output and
 * <output>-counts, same partition count); brook creates the changelogs.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "brook/brook.h"
#include "brook/testing.h"

#include <librdkafka/rdkafka.h>

#define DEMO_RECORDS 30

static brook_streams_t *streams;

static void on_signal(int sig)
{
        (void)sig;
        brook_streams_stop(streams); /* async-signal-safe: sets a flag */
}

/* ---- the batch processor of the plan ---- */

typedef struct agg_s {
        brook_store_t *totals;
} agg_t;

static brook_err_t agg_init(brook_ctx_t *ctx, void *opaque, void **statep)
{
        agg_t *a = calloc(1, sizeof(*a));

        (void)opaque;
        if (!a)
                return BROOK_ERR_NO_MEM;
        a->totals = brook_ctx_store(ctx, "totals");
        *statep = a;
        return a->totals ? BROOK_OK : BROOK_ERR_NOT_FOUND;
}

static void agg_close(brook_ctx_t *ctx, void *state)
{
        (void)ctx;
        free(state);
}

/*
 * Records are of one partition, in offset order. 1: count per key in the
 * batch. 2: read the totals in one get_batch. 3: write them back in one
 * put_batch. 4: forward "Processed: <value>" for each record, as a batch.
 */
static brook_err_t agg_batch(brook_ctx_t *ctx, brook_record_t *const *recs,
                             size_t cnt, void *state)
{
        agg_t *a = state;
        const void **keys = calloc(cnt, sizeof(*keys)), **vals;
        size_t *klens = calloc(cnt, sizeof(*klens)), *vlens, n = 0, i, j;
        int64_t *incr = calloc(cnt, sizeof(*incr));
        unsigned char *buf = malloc(cnt * 8);
        brook_record_t **outs = calloc(cnt, sizeof(*outs));
        brook_err_t err = BROOK_ERR_NO_MEM;

        vals = calloc(cnt, sizeof(*vals));
        vlens = calloc(cnt, sizeof(*vlens));
        if (!keys || !klens || !incr || !buf || !outs || !vals || !vlens)
                goto done;
        for (i = 0; i < cnt; i++) { /* 1 (a small batch: linear search) */
                size_t kl;
                const void *k = brook_record_key(recs[i], &kl);

                if (!k)
                        continue;
                for (j = 0; j < n; j++)
                        if (klens[j] == kl && !memcmp(keys[j], k, kl))
                                break;
                if (j == n) {
                        keys[n] = k;
                        klens[n++] = kl;
                }
                incr[j]++;
        }
        if ((err = brook_store_get_batch(a->totals, n, keys, klens, vals,
                                         vlens))) /* 2 */
                goto done;
        for (j = 0; j < n; j++) {
                int64_t cur =
                    vals[j] && vlens[j] == 8 ? brook_int64_from_be(vals[j]) : 0;

                brook_int64_to_be(cur + incr[j], buf + j * 8);
                vals[j] = buf + j * 8;
                vlens[j] = 8;
        }
        if ((err = brook_store_put_batch(a->totals, n, keys, klens, vals,
                                         vlens))) /* 3 */
                goto done;
        for (i = 0; i < cnt; i++) { /* 4 */
                size_t vl, kl;
                const char *v = brook_record_value(recs[i], &vl);
                const void *k = brook_record_key(recs[i], &kl);
                char out[512];
                int len = snprintf(out, sizeof(out), "Processed: %.*s", (int)vl,
                                   v ? v : "");

                outs[i] = brook_ctx_record_new(ctx, recs[i], k, kl, out,
                                               (size_t)len, 0);
                if (!outs[i]) {
                        err = BROOK_ERR_NO_MEM;
                        goto done;
                }
        }
        err = brook_ctx_forward_batch(ctx, outs, cnt);
done:
        free(keys);
        free(klens);
        free(incr);
        free(buf);
        free(outs);
        free(vals);
        free(vlens);
        return err;
}

/* The record path, used with --no-batch (the single-record baseline). */
static brook_err_t agg_process(brook_ctx_t *ctx, brook_record_t *rec,
                               void *state)
{
        agg_t *a = state;
        size_t vl, kl;
        const char *v = brook_record_value(rec, &vl);
        const void *k = brook_record_key(rec, &kl);
        char out[512];
        int len;
        brook_err_t err;

        if (k && (err = brook_store_add_int64(a->totals, k, kl, 1, NULL)))
                return err;
        len =
            snprintf(out, sizeof(out), "Processed: %.*s", (int)vl, v ? v : "");
        return brook_ctx_forward(
            ctx, brook_ctx_record_new(ctx, rec, k, kl, out, (size_t)len, 0));
}

static void print_record(const brook_record_t *rec, void *opaque)
{
        size_t kl, vl;
        const char *k = brook_record_key(rec, &kl);
        const char *v = brook_record_value(rec, &vl);

        (void)opaque;
        printf("[%s %d@%lld] %.*s => %.*s\n", brook_record_topic(rec),
               (int)brook_record_partition(rec),
               (long long)brook_record_offset(rec), (int)kl, k ? k : "",
               (int)vl, v ? v : "");
}

/* ---- setup ---- */

typedef struct opts_s {
        const char *brokers, *input, *output, *app, *state_dir, *threads;
        int batch;
        long long exit_after, idle_exit_ms;
        const char *sets[32];
        int nsets;
        int print;
} opts_t;

static void usage(void)
{
        fprintf(stderr, "usage: batch_processing [--brokers H:P] [--input T] "
                        "[--output T] [--app-id ID]\n"
                        "         [--state-dir DIR] [--threads N] [--no-batch] "
                        "[--print]\n"
                        "         [--exit-after N] [--idle-exit-ms MS] "
                        "[--set name=value]...\n");
        exit(2);
}

static void parse(opts_t *o, int argc, char **argv)
{
        int i;

        memset(o, 0, sizeof(*o));
        o->input = "batch-input";
        o->output = "batch-output";
        o->app = "batch-processing";
        o->state_dir = "/tmp/brook-batch-processing";
        o->threads = "1";
        o->batch = 1;
        for (i = 1; i < argc; i++) {
                const char *a = argv[i];
                const char *v = i + 1 < argc ? argv[i + 1] : NULL;

                if (!strcmp(a, "--no-batch")) {
                        o->batch = 0;
                        continue;
                }
                if (!strcmp(a, "--print")) {
                        o->print = 1;
                        continue;
                }
                if (!v)
                        usage();
                i++;
                if (!strcmp(a, "--brokers"))
                        o->brokers = v;
                else if (!strcmp(a, "--input"))
                        o->input = v;
                else if (!strcmp(a, "--output"))
                        o->output = v;
                else if (!strcmp(a, "--app-id"))
                        o->app = v;
                else if (!strcmp(a, "--state-dir"))
                        o->state_dir = v;
                else if (!strcmp(a, "--threads"))
                        o->threads = v;
                else if (!strcmp(a, "--exit-after"))
                        o->exit_after = atoll(v);
                else if (!strcmp(a, "--idle-exit-ms"))
                        o->idle_exit_ms = atoll(v);
                else if (!strcmp(a, "--set") && o->nsets < 32)
                        o->sets[o->nsets++] = v;
                else
                        usage();
        }
}

static int conf_set(brook_conf_t *conf, const char *name, const char *value)
{
        char es[512];

        if (brook_conf_set(conf, name, value, es, sizeof(es))) {
                fprintf(stderr, "%s\n", es);
                return -1;
        }
        return 0;
}

static brook_topology_t *build(const opts_t *o, char *counts_topic)
{
        brook_topology_t *t = brook_topology_new();
        brook_processor_t *agg = brook_processor_new();
        brook_processor_t *count = brook_proc_batch_count_new("counts", 0);
        brook_processor_t *printer = brook_proc_peek_new(print_record, NULL);
        char es[512];

        snprintf(counts_topic, 256, "%s-counts", o->output);
        brook_processor_set_init(agg, agg_init, agg_close);
        brook_processor_set_process(agg, agg_process);
        if (o->batch)
                brook_processor_set_process_batch(agg, agg_batch);
        if (brook_topology_add_source(t, "source", &o->input, 1,
                                      brook_serde_string(),
                                      brook_serde_string(), es, sizeof(es)) ||
            brook_topology_add_processor(t, "aggregate", agg,
                                         (const char *[]){"source"}, 1, es,
                                         sizeof(es)) ||
            brook_topology_add_processor(t, "count", count,
                                         (const char *[]){"source"}, 1, es,
                                         sizeof(es)) ||
            brook_topology_add_store(t, "totals", BROOK_STORE_ROCKSDB, 0,
                                     (const char *[]){"aggregate"}, 1, es,
                                     sizeof(es)) ||
            brook_topology_add_store(t, "counts", BROOK_STORE_ROCKSDB, 0,
                                     (const char *[]){"count"}, 1, es,
                                     sizeof(es)) ||
            brook_topology_add_sink(t, "processed", o->output,
                                    brook_serde_string(), brook_serde_string(),
                                    NULL, NULL, (const char *[]){"aggregate"},
                                    1, es, sizeof(es)) ||
            brook_topology_add_sink(t, "key-counts", counts_topic,
                                    brook_serde_string(), brook_serde_int64(),
                                    NULL, NULL, (const char *[]){"count"}, 1,
                                    es, sizeof(es)) ||
            (o->print && brook_topology_add_processor(
                             t, "print", printer, (const char *[]){"aggregate"},
                             1, es, sizeof(es))) ||
            brook_topology_build(t, es, sizeof(es))) {
                fprintf(stderr, "topology: %s\n", es);
                brook_topology_destroy(t);
                t = NULL;
        }
        brook_processor_destroy(agg);
        brook_processor_destroy(count);
        brook_processor_destroy(printer);
        return t;
}

/* Demo on the embedded cluster: topics, sample input. */
static brook_mock_cluster_t *
demo_cluster(const opts_t *o, const char *counts_topic, brook_conf_t *conf)
{
        static const char *topics[4];
        char es[512], changelog[512];
        brook_mock_cluster_t *mc = brook_mock_cluster_new(1, es, sizeof(es));
        int i;

        if (!mc) {
                fprintf(stderr, "embedded cluster: %s\n", es);
                return NULL;
        }
        topics[0] = o->input;
        topics[1] = o->output;
        topics[2] = counts_topic;
        for (i = 0; i < 3; i++)
                brook_mock_cluster_create_topic(mc, topics[i], 2, 1);
        /* no admin API on the embedded cluster: changelogs made here */
        snprintf(changelog, sizeof(changelog), "%s-totals-changelog", o->app);
        brook_mock_cluster_create_topic(mc, changelog, 2, 1);
        snprintf(changelog, sizeof(changelog), "%s-counts-changelog", o->app);
        brook_mock_cluster_create_topic(mc, changelog, 2, 1);
        brook_mock_cluster_conf_apply(mc, conf);
        return mc;
}

/* Sample input for the demo, written with plain librdkafka. */
static int demo_produce(const char *bootstraps, const char *topic)
{
        static const char *users[] = {"alice", "bob", "carol"};
        rd_kafka_conf_t *rkc = rd_kafka_conf_new();
        char es[512], val[64];
        rd_kafka_t *rk;
        int i;

        rd_kafka_conf_set(rkc, "bootstrap.servers", bootstraps, es, sizeof(es));
        if (!(rk = rd_kafka_new(RD_KAFKA_PRODUCER, rkc, es, sizeof(es)))) {
                fprintf(stderr, "producer: %s\n", es);
                return -1;
        }
        for (i = 0; i < DEMO_RECORDS; i++) {
                const char *k = users[i % 3];

                snprintf(val, sizeof(val), "click %d", i);
                rd_kafka_producev(
                    rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(k, strlen(k)),
                    RD_KAFKA_V_VALUE(val, strlen(val)),
                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
        }
        rd_kafka_flush(rk, 10000);
        rd_kafka_destroy(rk);
        return 0;
}

int main(int argc, char **argv)
{
        opts_t o;
        brook_conf_t *conf = brook_conf_new();
        brook_mock_cluster_t *mc = NULL;
        brook_topology_t *t;
        brook_error_t *err;
        char es[512], counts_topic[256];
        long long last = -1, idle_since = 0;
        int i, rc = 0;

        parse(&o, argc, argv);
        if (!o.brokers) {
                o.print = 1;
                o.exit_after = DEMO_RECORDS;
        }
        if (!(t = build(&o, counts_topic)))
                return 1;
        if (o.brokers) {
                if (conf_set(conf, "bootstrap.servers", o.brokers))
                        return 2;
        } else if (!(mc = demo_cluster(&o, counts_topic, conf))) {
                return 1;
        }
        if (conf_set(conf, "application.id", o.app) ||
            conf_set(conf, "state.dir", o.state_dir) ||
            conf_set(conf, "num.stream.threads", o.threads))
                return 2;
        for (i = 0; i < o.nsets; i++) {
                char name[256];
                const char *eq = strchr(o.sets[i], '=');

                if (!eq || (size_t)(eq - o.sets[i]) >= sizeof(name))
                        usage();
                snprintf(name, sizeof(name), "%.*s", (int)(eq - o.sets[i]),
                         o.sets[i]);
                if (conf_set(conf, name, eq + 1))
                        return 2;
        }
        if (mc && demo_produce(brook_mock_cluster_bootstraps(mc), o.input))
                return 1;
        if (!(streams = brook_streams_new(t, conf, es, sizeof(es)))) {
                fprintf(stderr, "%s\n", es);
                return 1;
        }
        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);
        if ((err = brook_streams_start(streams))) {
                fprintf(stderr, "start: %s\n", brook_error_string(err));
                return 1;
        }
        brook_topology_describe(t, stderr);
        while (!brook_streams_wait(streams, 100)) {
                long long n =
                    brook_streams_metric(streams, "records.processed");
                struct timespec ts;
                long long now;

                clock_gettime(CLOCK_MONOTONIC, &ts);
                now = ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
                if (n != last) {
                        last = n;
                        idle_since = now;
                }
                if (o.exit_after && n >= o.exit_after)
                        brook_streams_stop(streams);
                /* idle: tasks running, nothing new for idle_exit_ms */
                if (brook_streams_metric(streams, "tasks.running") <= 0)
                        idle_since = now;
                if (o.idle_exit_ms && now - idle_since >= o.idle_exit_ms)
                        brook_streams_stop(streams);
        }
        if ((err = brook_streams_close(streams))) {
                fprintf(stderr, "error: %s\n", brook_error_string(err));
                brook_error_destroy(err);
                rc = 1;
        }
        printf("processed %lld records in %lld batches; produced %lld\n",
               (long long)brook_streams_metric(streams, "records.processed"),
               (long long)brook_streams_metric(streams, "batches.processed"),
               (long long)brook_streams_metric(streams, "records.produced"));
        brook_streams_destroy(streams);
        brook_topology_destroy(t);
        brook_conf_destroy(conf);
        brook_mock_cluster_destroy(mc);
        return rc;
}
