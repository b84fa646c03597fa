/*
 * brook-demo: the main job. Produces a keyed workload, then consumes it
 * twice with the same per-message work: once in single-message mode and
 * once in batch mode, and prints messages/s for both and their ratio.
 *
 * By default it runs on the embedded cluster (brook/testing.h); with
 * --brokers host:port it runs on a real Kafka cluster. Every number it prints
 * is measured in this run; it checks that every produced message was
 * consumed, and that both modes computed the same result.
 *
 *   brook-demo [--brokers H:P] [--messages N] [--partitions P]
 *              [--batch-size B] [--value-size S]
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "brook/brook.h"
#include "brook/testing.h"

#define KEYS 4096

static struct {
        const char *brokers;
        long messages;
        int partitions;
        int batch_size;
        int value_size;
} opt = {NULL, 1000000, 8, 100, 24};

/* The per-message work, identical in both modes: hash key and value and
 * add them into a per-key table (an in-memory aggregation). */
typedef struct run_s {
        atomic_long processed;
        long per_part[256];
        uint64_t table[KEYS];
        int64_t first_us, last_us;
        int64_t target;
        brook_consumer_t *c;
} run_t;

static int64_t now_us(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static uint64_t fnv(const void *p, size_t n, uint64_t h)
{
        const unsigned char *s = p;

        while (n--)
                h = (h ^ *s++) * 1099511628211ull;
        return h;
}

static void work(run_t *r, const brook_msg_t *m)
{
        size_t kl, vl;
        const void *k = brook_msg_key(m, &kl), *v = brook_msg_value(m, &vl);
        uint64_t h = fnv(k, kl, 1469598103934665603ull);

        r->table[h % KEYS] += fnv(v, vl, h) & 0xffff;
        r->per_part[brook_msg_partition(m) & 255]++;
}

static void account(run_t *r, long n)
{
        long done = atomic_fetch_add(&r->processed, n) + n;

        if (!r->first_us)
                r->first_us = now_us();
        if (done >= r->target) {
                r->last_us = now_us();
                brook_consumer_stop(r->c);
        }
}

static brook_err_t on_message(brook_msg_t *m, void *opaque)
{
        run_t *r = opaque;

        work(r, m);
        account(r, 1);
        return BROOK_OK;
}

static brook_err_t on_batch(brook_batch_t *b, void *opaque)
{
        run_t *r = opaque;
        size_t i, n = brook_batch_count(b);

        for (i = 0; i < n; i++)
                work(r, brook_batch_msg(b, i));
        account(r, (long)n);
        return BROOK_OK;
}

/* ---- progress bar ---- */

typedef struct progress_s {
        const char *label;
        atomic_long *done;
        long total;
        atomic_int stop;
        pthread_t thr;
} progress_t;

static void bar(const progress_t *p, long done, double secs, int final)
{
        int width = 30, fill = (int)(width * (double)done / (double)p->total);
        char b[64];
        int i;

        for (i = 0; i < width; i++)
                b[i] = i < fill ? '#' : '.';
        b[width] = '\0';
        fprintf(stderr, "\r  %-16s [%s] %3d%% %8ld/%ld %7.0f msg/s%s", p->label,
                b, (int)(100.0 * (double)done / (double)p->total), done,
                p->total, secs > 0 ? (double)done / secs : 0.0,
                final ? "\n" : "");
}

static void *progress_main(void *arg)
{
        progress_t *p = arg;
        int64_t t0 = now_us();
        int tty = isatty(2);
        int last_decile = -1;

        while (!atomic_load(&p->stop)) {
                long done = atomic_load(p->done);
                double secs = (double)(now_us() - t0) / 1e6;

                if (tty) {
                        bar(p, done, secs, 0);
                } else if ((int)(10 * done / p->total) != last_decile) {
                        last_decile = (int)(10 * done / p->total);
                        bar(p, done, secs, 1);
                }
                usleep(200000);
        }
        bar(p, atomic_load(p->done), (double)(now_us() - t0) / 1e6, 1);
        return NULL;
}

static void progress_start(progress_t *p, const char *label, atomic_long *done,
                           long total)
{
        p->label = label;
        p->done = done;
        p->total = total;
        atomic_store(&p->stop, 0);
        pthread_create(&p->thr, NULL, progress_main, p);
}

static void progress_stop(progress_t *p)
{
        atomic_store(&p->stop, 1);
        pthread_join(p->thr, NULL);
}

/* ---- producing ---- */

static atomic_long delivered;
static atomic_long delivery_errors;

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *op)
{
        (void)rk;
        (void)op;
        if (m->err)
                atomic_fetch_add(&delivery_errors, 1);
        else
                atomic_fetch_add(&delivered, 1);
}

static int create_topic(const char *bootstraps, const char *topic,
                        int partitions)
{
        rd_kafka_conf_t *rkc = rd_kafka_conf_new();
        rd_kafka_NewTopic_t *nt;
        rd_kafka_queue_t *q;
        rd_kafka_event_t *ev;
        const rd_kafka_CreateTopics_result_t *res;
        const rd_kafka_topic_result_t **tr;
        char es[512];
        rd_kafka_t *rk;
        size_t cnt;
        int rc = -1;

        rd_kafka_conf_set(rkc, "bootstrap.servers", bootstraps, es, sizeof(es));
        if (!(rk = rd_kafka_new(RD_KAFKA_PRODUCER, rkc, es, sizeof(es)))) {
                fprintf(stderr, "demo: %s\n", es);
                return -1;
        }
        nt = rd_kafka_NewTopic_new(topic, partitions, -1, es, sizeof(es));
        q = rd_kafka_queue_new(rk);
        rd_kafka_CreateTopics(rk, &nt, 1, NULL, q);
        ev = rd_kafka_queue_poll(q, 30000);
        if (ev && (res = rd_kafka_event_CreateTopics_result(ev))) {
                tr = rd_kafka_CreateTopics_result_topics(res, &cnt);
                if (cnt == 1 && !rd_kafka_topic_result_error(tr[0]))
                        rc = 0;
                else
                        fprintf(stderr, "demo: create topic %s: %s\n", topic,
                                cnt ? rd_kafka_topic_result_error_string(tr[0])
                                    : "no result");
        } else {
                fprintf(stderr, "demo: create topic %s: %s\n", topic,
                        ev ? rd_kafka_event_error_string(ev) : "timed out");
        }
        if (ev)
                rd_kafka_event_destroy(ev);
        rd_kafka_queue_destroy(q);
        rd_kafka_NewTopic_destroy(nt);
        rd_kafka_destroy(rk);
        return rc;
}

static int produce(const char *bootstraps, const char *topic, int embedded)
{
        rd_kafka_conf_t *rkc = rd_kafka_conf_new();
        char es[512], key[32], *val;
        progress_t prog;
        rd_kafka_t *rk;
        long i;

        rd_kafka_conf_set(rkc, "bootstrap.servers", bootstraps, es, sizeof(es));
        /* lz4 keeps each partition of the embedded cluster under its
         * ~5 MiB retention for the default workload. A real broker keeps
         * everything: no compression there, so that decompression does
         * not dominate what both modes measure. */
        rd_kafka_conf_set(rkc, "compression.type", embedded ? "lz4" : "none",
                          es, sizeof(es));
        rd_kafka_conf_set(rkc, "linger.ms", "20", es, sizeof(es));
        rd_kafka_conf_set(rkc, "batch.num.messages", "10000", es, sizeof(es));
        rd_kafka_conf_set(rkc, "queue.buffering.max.messages", "500000", es,
                          sizeof(es));
        rd_kafka_conf_set_dr_msg_cb(rkc, dr_cb);
        if (!(rk = rd_kafka_new(RD_KAFKA_PRODUCER, rkc, es, sizeof(es)))) {
                fprintf(stderr, "demo: %s\n", es);
                return -1;
        }
        val = malloc((size_t)opt.value_size + 1);
        progress_start(&prog, "produce", &delivered, opt.messages);
        for (i = 0; i < opt.messages; i++) {
                rd_kafka_resp_err_t err;
                int kl = snprintf(key, sizeof(key), "user-%ld", i % KEYS);

                snprintf(val, (size_t)opt.value_size + 1, "%0*ld",
                         opt.value_size, i);
                do {
                        err = rd_kafka_producev(
                            rk, RD_KAFKA_V_TOPIC(topic),
                            RD_KAFKA_V_PARTITION((int32_t)(i % opt.partitions)),
                            RD_KAFKA_V_KEY(key, (size_t)kl),
                            RD_KAFKA_V_VALUE(val, (size_t)opt.value_size),
                            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                            RD_KAFKA_V_END);
                        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL)
                                rd_kafka_poll(rk, 5);
                } while (err == RD_KAFKA_RESP_ERR__QUEUE_FULL);
                if (err) {
                        fprintf(stderr, "demo: produce: %s\n",
                                rd_kafka_err2str(err));
                        break;
                }
                rd_kafka_poll(rk, 0);
        }
        rd_kafka_flush(rk, 60000);
        progress_stop(&prog);
        free(val);
        rd_kafka_destroy(rk);
        if (atomic_load(&delivery_errors) ||
            atomic_load(&delivered) != opt.messages) {
                fprintf(stderr, "demo: %ld delivered, %ld failed\n",
                        atomic_load(&delivered), atomic_load(&delivery_errors));
                return -1;
        }
        return 0;
}

/* ---- consuming ---- */

static void quiet_log(brook_log_level_t level, const char *event,
                      const char *line, void *opaque)
{
        (void)opaque;
        (void)event;
        if (level <= BROOK_LOG_WARN)
                fprintf(stderr, "\n%s\n", line);
}

static int consume(const char *bootstraps, brook_mock_cluster_t *mc,
                   const char *topic, int batch, run_t *r)
{
        brook_conf_t *conf = brook_conf_new();
        brook_handlers_t *h = brook_handlers_new();
        char es[512], group[128], bs[16];
        brook_error_t *err;
        progress_t prog;
        int rc = 0;

        snprintf(group, sizeof(group), "%s-%s", topic,
                 batch ? "batch" : "single");
        snprintf(bs, sizeof(bs), "%d", opt.batch_size);
        if (mc)
                brook_mock_cluster_conf_apply(mc, conf);
        else
                brook_conf_set(conf, "bootstrap.servers", bootstraps, es,
                               sizeof(es));
        brook_conf_set(conf, "group.id", group, es, sizeof(es));
        brook_conf_set(conf, "log.level", "warn", es, sizeof(es));
        brook_conf_set_log_cb(conf, quiet_log);
        if (batch) {
                brook_conf_set(conf, "batch.size", bs, es, sizeof(es));
                brook_conf_set(conf, "batch.timeout.ms", "100", es, sizeof(es));
                brook_handlers_set_batch(h, on_batch);
        } else {
                brook_handlers_set_message(h, on_message);
        }
        r->target = opt.messages;
        r->c = brook_consumer_new(conf, h, r, es, sizeof(es));
        brook_handlers_destroy(h);
        brook_conf_destroy(conf);
        if (!r->c) {
                fprintf(stderr, "demo: consumer: %s\n", es);
                return -1;
        }
        if (brook_consumer_subscribe(r->c, &topic, 1, es, sizeof(es))) {
                fprintf(stderr, "demo: subscribe: %s\n", es);
                brook_consumer_destroy(r->c);
                return -1;
        }
        progress_start(&prog, batch ? "consume batch" : "consume single",
                       &r->processed, opt.messages);
        err = brook_consumer_run(r->c);
        progress_stop(&prog);
        if (err) {
                fprintf(stderr, "demo: run: %s\n", brook_error_string(err));
                brook_error_destroy(err);
                rc = -1;
        }
        brook_consumer_destroy(r->c);
        return rc;
}

static void usage(void)
{
        fprintf(stderr, "usage: brook-demo [--brokers H:P] [--messages N] "
                        "[--partitions P] [--batch-size B] [--value-size S]\n");
        exit(2);
}

static void parse_args(int argc, char **argv)
{
        int i;

        for (i = 1; i < argc; i++) {
                const char *a = argv[i];
                const char *v = i + 1 < argc ? argv[i + 1] : NULL;

                if (!v)
                        usage();
                if (!strcmp(a, "--brokers"))
                        opt.brokers = *v ? v : NULL;
                else if (!strcmp(a, "--messages"))
                        opt.messages = atol(v);
                else if (!strcmp(a, "--partitions"))
                        opt.partitions = atoi(v);
                else if (!strcmp(a, "--batch-size"))
                        opt.batch_size = atoi(v);
                else if (!strcmp(a, "--value-size"))
                        opt.value_size = atoi(v);
                else
                        usage();
                i++;
        }
        if (opt.messages < 1 || opt.partitions < 1 || opt.partitions > 256 ||
            opt.batch_size < 1 || opt.value_size < 8 || opt.value_size > 100000)
                usage();
}

int main(int argc, char **argv)
{
        static run_t single, batch;
        brook_mock_cluster_t *mc = NULL;
        const char *bootstraps;
        char topic[128], es[512];
        double s_rate, b_rate;
        int p, ok = 1;

        parse_args(argc, argv);
        snprintf(topic, sizeof(topic), "brook-demo-%d-%ld", (int)getpid(),
                 (long)time(NULL));
        if (opt.brokers) {
                bootstraps = opt.brokers;
                if (create_topic(bootstraps, topic, opt.partitions))
                        return 1;
        } else {
                if (!(mc = brook_mock_cluster_new(1, es, sizeof(es)))) {
                        fprintf(stderr, "demo: %s\n", es);
                        return 1;
                }
                bootstraps = brook_mock_cluster_bootstraps(mc);
                brook_mock_cluster_create_topic(mc, topic, opt.partitions, 1);
        }
        printf("brook %s demo on %s: %ld keyed messages over %d partitions "
               "(topic %s)\n",
               brook_version_str(), mc ? "the embedded cluster" : bootstraps,
               opt.messages, opt.partitions, topic);
        if (produce(bootstraps, topic, mc != NULL) ||
            consume(bootstraps, mc, topic, 0, &single) ||
            consume(bootstraps, mc, topic, 1, &batch)) {
                brook_mock_cluster_destroy(mc);
                return 1;
        }

        /* Every produced message consumed, by partition, in both modes,
         * and both modes computed the same table. */
        for (p = 0; p < opt.partitions; p++) {
                long want = opt.messages / opt.partitions +
                            (p < opt.messages % opt.partitions);

                if (single.per_part[p] < want || batch.per_part[p] < want) {
                        fprintf(stderr,
                                "demo: partition %d: produced %ld, consumed "
                                "%ld (single) / %ld (batch)\n",
                                p, want, single.per_part[p], batch.per_part[p]);
                        ok = 0;
                }
        }
        if (memcmp(single.table, batch.table, sizeof(single.table))) {
                fprintf(stderr, "demo: single and batch results differ\n");
                ok = 0;
        }
        s_rate = (double)atomic_load(&single.processed) /
                 ((double)(single.last_us - single.first_us) / 1e6);
        b_rate = (double)atomic_load(&batch.processed) /
                 ((double)(batch.last_us - batch.first_us) / 1e6);
        printf("\n  %-28s %12.0f msg/s  (%ld messages)\n",
               "single-message mode", s_rate, atomic_load(&single.processed));
        printf("  %-28s %12.0f msg/s  (%ld messages, batch.size=%d)\n",
               "batch mode", b_rate, atomic_load(&batch.processed),
               opt.batch_size);
        printf("  %-28s %12.2fx\n", "batch / single", b_rate / s_rate);
        printf("  every produced message consumed in both modes: %s\n",
               ok ? "yes" : "NO");
        printf("  (rates from first to last message processed; offsets "
               "committed after every message / batch)\n");
        brook_mock_cluster_destroy(mc);
        return ok ? 0 : 1;
}
