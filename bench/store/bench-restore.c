/*
 * bench-restore: restoration speed of a RocksDB store from its changelog
 * on a real broker.
 *
 *   bench-restore [--brokers H:P] [--records N] [--keys K] [--partitions P]
 *                 [--batch B]...
 *
 * Writes N changelog records (K distinct keys, 8-byte values, as the batch
 * count aggregator writes them) to `<app>-counts-changelog` with plain
 * librdkafka, then starts a runtime whose count store uses that changelog,
 * with an empty state directory: every task restores from the beginning.
 * The restore listener times each partition from start to end; records/s is
 * N over the time from the first start to the last end. Each --batch value
 * (streams.restore.batch.max.records, default: 1000 and 10000) is one run.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "brook/brook.h"

static const char *brokers;
static long long nrec = 1000000;
static int nkeys = 100000, parts = 1;
static double t_first, t_last;
static long long restored, ended;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static double now_s(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const char *why)
{
        fprintf(stderr, "bench-restore: %s: %s\n", what, why);
        exit(1);
}

static void on_start(const char *store, const char *topic, int32_t p,
                     int64_t start, int64_t end, void *op)
{
        (void)store;
        (void)topic;
        (void)p;
        (void)start;
        (void)end;
        (void)op;
        pthread_mutex_lock(&lock);
        if (!t_first)
                t_first = now_s();
        pthread_mutex_unlock(&lock);
}

static void on_end(const char *store, const char *topic, int32_t p,
                   int64_t total, void *op)
{
        (void)store;
        (void)topic;
        (void)p;
        (void)op;
        pthread_mutex_lock(&lock);
        t_last = now_s();
        restored += total;
        ended++;
        pthread_mutex_unlock(&lock);
}

static brook_conf_t *base_conf(void)
{
        brook_conf_t *c = brook_conf_new();
        char es[512];

        if (brook_conf_set(c, "bootstrap.servers", brokers, es, sizeof(es)) ||
            brook_conf_set(c, "log.level", "warn", es, sizeof(es)) ||
            brook_conf_set(c, "kafka.session.timeout.ms", "6000", es,
                           sizeof(es)))
                die("conf", es);
        return c;
}

static void fill(const char *topic)
{
        rd_kafka_conf_t *rkc = rd_kafka_conf_new();
        char es[512], key[32];
        unsigned char val[8];
        rd_kafka_t *rk;
        long long i;

        rd_kafka_conf_set(rkc, "bootstrap.servers", brokers, es, sizeof(es));
        rd_kafka_conf_set(rkc, "linger.ms", "50", es, sizeof(es));
        rd_kafka_conf_set(rkc, "batch.num.messages", "10000", es, sizeof(es));
        rd_kafka_conf_set(rkc, "queue.buffering.max.messages", "1000000", es,
                          sizeof(es));
        if (!(rk = rd_kafka_new(RD_KAFKA_PRODUCER, rkc, es, sizeof(es))))
                die("producer", es);
        for (i = 0; i < nrec; i++) {
                int kl = snprintf(key, sizeof(key), "key-%08lld",
                                  (i * 2654435761LL) % nkeys);

                brook_int64_to_be(i / nkeys + 1, val);
                while (rd_kafka_producev(
                           rk, RD_KAFKA_V_TOPIC(topic),
                           RD_KAFKA_V_PARTITION((int32_t)(i % parts)),
                           RD_KAFKA_V_KEY(key, (size_t)kl),
                           RD_KAFKA_V_VALUE(val, 8),
                           RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                           RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
                        rd_kafka_poll(rk, 10);
                rd_kafka_poll(rk, 0);
        }
        while (rd_kafka_outq_len(rk) > 0)
                rd_kafka_poll(rk, 100);
        rd_kafka_destroy(rk);
}

static double restore_once(const char *app, const char *in, const char *out,
                           const char *batch)
{
        brook_topology_t *t = brook_topology_new();
        brook_processor_t *c = brook_proc_batch_count_new("counts", 0);
        brook_conf_t *conf = base_conf();
        brook_streams_t *s;
        brook_error_t *err;
        char es[512], dir[256];

        snprintf(dir, sizeof(dir), "/tmp/brook-bench-restore-%d", getpid());
        if (brook_topology_add_source(t, "src", &in, 1, NULL, NULL, es,
                                      sizeof(es)) ||
            brook_topology_add_processor(t, "count", c, (const char *[]){"src"},
                                         1, es, sizeof(es)) ||
            brook_topology_add_store(t, "counts", BROOK_STORE_ROCKSDB, 0,
                                     (const char *[]){"count"}, 1, es,
                                     sizeof(es)) ||
            brook_topology_add_sink(t, "sink", out, NULL, brook_serde_int64(),
                                    NULL, NULL, (const char *[]){"count"}, 1,
                                    es, sizeof(es)))
                die("topology", es);
        brook_processor_destroy(c);
        if (brook_conf_set(conf, "application.id", app, es, sizeof(es)) ||
            brook_conf_set(conf, "state.dir", dir, es, sizeof(es)) ||
            brook_conf_set(conf, "streams.restore.batch.max.records", batch, es,
                           sizeof(es)))
                die("conf", es);
        snprintf(es, sizeof(es), "rm -rf '%s'", dir);
        if (system(es))
                die("cleanup", dir);
        if (!(s = brook_streams_new(t, conf, es, sizeof(es))))
                die("streams", es);
        brook_streams_set_restore_listener(s, on_start, NULL, on_end, NULL);
        t_first = t_last = 0;
        restored = ended = 0;
        if ((err = brook_streams_start(s)))
                die("start", brook_error_string(err));
        while (brook_streams_metric(s, "tasks.running") < parts)
                usleep(1000);
        if ((err = brook_streams_close(s)))
                die("close", brook_error_string(err));
        brook_streams_destroy(s);
        brook_topology_destroy(t);
        brook_conf_destroy(conf);
        snprintf(es, sizeof(es), "rm -rf '%s'", dir);
        if (system(es))
                die("cleanup", dir);
        if (restored != nrec || ended != parts)
                die("restore", "not every record was restored");
        return (double)nrec / (t_last - t_first);
}

int main(int argc, char **argv)
{
        const char *batches[8];
        int nb = 0, a, i;
        char app[128], in[160], out[160], changelog[200], es[512];
        brook_conf_t *conf;

        brokers = getenv("BROOK_BROKERS");
        for (a = 1; a + 1 < argc; a += 2) {
                if (!strcmp(argv[a], "--brokers"))
                        brokers = argv[a + 1];
                else if (!strcmp(argv[a], "--records"))
                        nrec = atoll(argv[a + 1]);
                else if (!strcmp(argv[a], "--keys"))
                        nkeys = atoi(argv[a + 1]);
                else if (!strcmp(argv[a], "--partitions"))
                        parts = atoi(argv[a + 1]);
                else if (!strcmp(argv[a], "--batch") && nb < 8)
                        batches[nb++] = argv[a + 1];
        }
        if (!brokers || !*brokers)
                die("brokers", "pass --brokers or set BROOK_BROKERS");
        if (!nb) {
                batches[nb++] = "1000";
                batches[nb++] = "10000";
        }
        snprintf(app, sizeof(app), "bench-restore-%d-%ld", getpid(),
                 (long)time(NULL));
        snprintf(in, sizeof(in), "%s-in", app);
        snprintf(out, sizeof(out), "%s-out", app);
        snprintf(changelog, sizeof(changelog), "%s-counts-changelog", app);
        conf = base_conf();
        if (brook_admin_create_topic(conf, in, parts, -1, NULL, 0, 30000, es,
                                     sizeof(es)) ||
            brook_admin_create_topic(conf, out, parts, -1, NULL, 0, 30000, es,
                                     sizeof(es)) ||
            brook_admin_create_topic(
                conf, changelog, parts, -1,
                (const char *[]){"cleanup.policy", "compact"}, 1, 30000, es,
                sizeof(es)))
                die("topics", es);
        brook_conf_destroy(conf);
        printf("# bench-restore: %lld changelog records, %d keys, %d "
               "partition(s), brokers %s\n\n",
               nrec, nkeys, parts, brokers);
        fill(changelog);
        printf("| streams.restore.batch.max.records | restored records/s |\n"
               "|---|---|\n");
        for (i = 0; i < nb; i++) {
                double r = restore_once(app, in, out, batches[i]);

                printf("| %s | %.0f |\n", batches[i], r);
                fflush(stdout);
        }
        return 0;
}
