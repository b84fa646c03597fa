/*
 * bench-consumer: one benchmark case of the consumer side, as one process,
 * printing one JSON line. Run by scripts/bench (bench/README.md), which runs
 * every case three times in one run on the same broker and input.
 *
 *   bench-consumer --brokers B --topic T --count N --case CASE [options]
 *
 * Cases:
 *   produce       plain librdkafka producer: writes N messages (the input;
 *                 --value-size, --keys, --seed) and reports its rate
 *   raw           plain librdkafka consumer, no-op, auto-commit (the limit)
 *   brook-batch   brook batch consumer, no-op batch handler
 *   brook-single  brook single-message mode, no-op message handler
 *   io-single     message handler waiting --work-us per message
 *   io-batch      batch handler waiting --work-us per message (sync batch)
 *   io-async      message handler waiting --work-us per message,
 *                 batch.async=true, --concurrency calls at once
 *
 * Options: --batch-size S (100), --group G (unique), --rss-trace FILE
 * (VmRSS every 100 ms), --set NAME=VALUE (brook property, repeatable),
 * --telemetry off|all (brook cases; default: brook's defaults):
 *   off  no telemetry work at all (metrics.lag.interval.ms=0,
 *        log.summary.interval.ms=0, nothing attached): the baseline;
 *   all  every exporter at once: metrics.listen=127.0.0.1:0 scraped every
 *        second by a thread of this program, DogStatsD every second to a
 *        local UDP socket a thread drains, the lag gauge every second, a
 *        no-op event callback on "brook." and no-op span hooks.
 *   all-links  all, and the span hook reads the span links
 *        (brook_event_links(): every message's traceparent header);
 *   events / spans / exporters  one part of all alone (the no-op event
 *        callback; the span hooks; HTTP + DogStatsD + lag), to see where
 *        a cost comes from.
 *   Run them in one session on the same broker and input to get the
 *   telemetry overhead (docs/TELEMETRY.md, "Overhead").
 *
 * Output: {"case","records","seconds","msgs_per_sec","mb_per_sec",
 * "p50_ms","p99_ms","peak_rss_kb","cpu_seconds"}; seconds run from the first
 * record handled to the last. Latency is from the record's timestamp to the
 * handler: for a backlog it includes the time the record waited in Kafka.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "brook/brook.h"

#define MAX_SETS 32
/* Latency buckets: 1 ms up to 65.536 s, then 1 s up to a day (a backlog's
 * records can wait minutes in Kafka before the handler sees them). */
#define LAT_FINE    65536
#define LAT_BUCKETS (LAT_FINE + 86400)

static struct {
        const char *brokers, *topic, *kase, *group, *rss_trace;
        long count;
        int batch_size, concurrency, value_size, keys;
        long work_us;
        unsigned seed;
        const char *sets[MAX_SETS];
        int nsets;
        const char *telemetry; /* NULL or a --telemetry mode */
} opt = {.count = 1000000,
         .batch_size = 100,
         .concurrency = 10,
         .value_size = 100,
         .keys = 10000,
         .seed = 42};

static atomic_long done;
static atomic_llong first_ns, last_ns, bytes;
static atomic_long lat_hist[LAT_BUCKETS];
static atomic_int finished;
static brook_consumer_t *consumer;

static int64_t mono_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t wall_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void io_wait_us(long us)
{
        struct timespec ts = {us / 1000000, (us % 1000000) * 1000};

        if (us > 0)
                nanosleep(&ts, NULL);
}

static void latency(int64_t ts_ms, int64_t now_ms)
{
        int64_t b = ts_ms > 0 ? now_ms - ts_ms : 0;

        if (b < 0)
                b = 0;
        if (b >= LAT_FINE)
                b = LAT_FINE + (b - LAT_FINE) / 1000;
        if (b >= LAT_BUCKETS)
                b = LAT_BUCKETS - 1;
        atomic_fetch_add(&lat_hist[b], 1);
}

static void account(long n, size_t nbytes)
{
        long d;
        long long zero = 0;

        atomic_compare_exchange_strong(&first_ns, &zero, mono_ns());
        atomic_fetch_add(&bytes, (long long)nbytes);
        d = atomic_fetch_add(&done, n) + n;
        if (d >= opt.count) {
                atomic_store(&last_ns, mono_ns());
                if (consumer)
                        brook_consumer_stop(consumer);
        }
}

static brook_err_t on_batch(brook_batch_t *b, void *opaque)
{
        size_t i, n = brook_batch_count(b);
        int64_t now = wall_ms();

        (void)opaque;
        for (i = 0; i < n; i++) {
                brook_msg_t *m = brook_batch_msg(b, i);

                latency(brook_msg_timestamp(m, NULL), now);
                if (opt.work_us)
                        io_wait_us(opt.work_us);
        }
        account((long)n, brook_batch_bytes(b));
        return BROOK_OK;
}

static brook_err_t on_message(brook_msg_t *m, void *opaque)
{
        size_t kl, vl;

        (void)opaque;
        brook_msg_key(m, &kl);
        brook_msg_value(m, &vl);
        latency(brook_msg_timestamp(m, NULL), wall_ms());
        if (opt.work_us)
                io_wait_us(opt.work_us);
        account(1, kl + vl);
        return BROOK_OK;
}

static long rss_kb(const char *field)
{
        FILE *f = fopen("/proc/self/status", "r");
        char line[256];
        long v = -1;
        size_t fl = strlen(field);

        if (!f)
                return -1;
        while (fgets(line, sizeof(line), f))
                if (!strncmp(line, field, fl))
                        v = atol(line + fl);
        fclose(f);
        return v;
}

static void *rss_main(void *arg)
{
        FILE *f = fopen(opt.rss_trace, "w");
        int64_t t0 = mono_ns();

        (void)arg;
        if (!f)
                return NULL;
        while (!atomic_load(&finished)) {
                fprintf(f, "%.2f %ld %ld\n", (double)(mono_ns() - t0) / 1e9,
                        rss_kb("VmRSS:"), atomic_load(&done));
                fflush(f);
                usleep(100000);
        }
        fclose(f);
        return NULL;
}

static double percentile(double p)
{
        long total = 0, acc = 0;
        int i;

        for (i = 0; i < LAT_BUCKETS; i++)
                total += atomic_load(&lat_hist[i]);
        for (i = 0; i < LAT_BUCKETS; i++) {
                acc += atomic_load(&lat_hist[i]);
                if (total && (double)acc >= p * (double)total)
                        return i < LAT_FINE
                                   ? (double)i
                                   : LAT_FINE + (double)(i - LAT_FINE) * 1000;
        }
        return -1;
}

/* ---- plain librdkafka producer (the input, and the producer limit) ---- */

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *op)
{
        (void)rk;
        (void)op;
        if (m->err) {
                fprintf(stderr, "bench: delivery: %s\n",
                        rd_kafka_err2str(m->err));
                exit(1);
        }
        account(1, m->len + m->key_len);
}

static int run_produce(void)
{
        rd_kafka_conf_t *rkc = rd_kafka_conf_new();
        char es[512], key[32], *val = malloc((size_t)opt.value_size);
        unsigned seed = opt.seed;
        rd_kafka_t *rk;
        long i;
        int j;

        rd_kafka_conf_set(rkc, "bootstrap.servers", opt.brokers, es,
                          sizeof(es));
        rd_kafka_conf_set(rkc, "linger.ms", "10", es, sizeof(es));
        rd_kafka_conf_set(rkc, "batch.num.messages", "10000", es, sizeof(es));
        rd_kafka_conf_set(rkc, "queue.buffering.max.messages", "1000000", es,
                          sizeof(es));
        rd_kafka_conf_set(rkc, "acks", "all", es, sizeof(es));
        rd_kafka_conf_set_dr_msg_cb(rkc, dr_cb);
        if (!(rk = rd_kafka_new(RD_KAFKA_PRODUCER, rkc, es, sizeof(es)))) {
                fprintf(stderr, "bench: %s\n", es);
                return 1;
        }
        for (i = 0; i < opt.count; i++) {
                int kl = snprintf(key, sizeof(key), "k%d",
                                  (int)(rand_r(&seed) % (unsigned)opt.keys));
                rd_kafka_resp_err_t err;

                for (j = 0; j < opt.value_size; j++)
                        val[j] = (char)('a' + rand_r(&seed) % 26);
                do {
                        err = rd_kafka_producev(
                            rk, RD_KAFKA_V_TOPIC(opt.topic),
                            RD_KAFKA_V_KEY(key, (size_t)kl),
                            RD_KAFKA_V_VALUE(val, (size_t)opt.value_size),
                            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                            RD_KAFKA_V_END);
                        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL)
                                rd_kafka_poll(rk, 5);
                } while (err == RD_KAFKA_RESP_ERR__QUEUE_FULL);
                if (err) {
                        fprintf(stderr, "bench: produce: %s\n",
                                rd_kafka_err2str(err));
                        return 1;
                }
                rd_kafka_poll(rk, 0);
        }
        rd_kafka_flush(rk, 120000);
        rd_kafka_destroy(rk);
        free(val);
        return 0;
}

/* ---- plain librdkafka consumer (the limit) ---- */

static int run_raw(void)
{
        rd_kafka_conf_t *rkc = rd_kafka_conf_new();
        int i;
        rd_kafka_topic_partition_list_t *l;
        rd_kafka_message_t *msgs[1024];
        rd_kafka_queue_t *q;
        char es[512];
        rd_kafka_t *rk;

        rd_kafka_conf_set(rkc, "bootstrap.servers", opt.brokers, es,
                          sizeof(es));
        rd_kafka_conf_set(rkc, "group.id", opt.group, es, sizeof(es));
        rd_kafka_conf_set(rkc, "auto.offset.reset", "earliest", es, sizeof(es));
        /* The same librdkafka settings as the brook cases get (--set
         * kafka.NAME=VALUE), so the comparison is like for like. */
        for (i = 0; i < opt.nsets; i++) {
                char name[256];
                const char *eq = strchr(opt.sets[i], '=');

                if (strncmp(opt.sets[i], "kafka.", 6))
                        continue;
                snprintf(name, sizeof(name), "%.*s",
                         (int)(eq - opt.sets[i] - 6), opt.sets[i] + 6);
                if (rd_kafka_conf_set(rkc, name, eq + 1, es, sizeof(es))) {
                        fprintf(stderr, "bench: %s\n", es);
                        return 2;
                }
        }
        if (!(rk = rd_kafka_new(RD_KAFKA_CONSUMER, rkc, es, sizeof(es)))) {
                fprintf(stderr, "bench: %s\n", es);
                return 1;
        }
        rd_kafka_poll_set_consumer(rk);
        l = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(l, opt.topic, RD_KAFKA_PARTITION_UA);
        rd_kafka_subscribe(rk, l);
        rd_kafka_topic_partition_list_destroy(l);
        q = rd_kafka_queue_get_consumer(rk);
        while (atomic_load(&done) < opt.count) {
                ssize_t n = rd_kafka_consume_batch_queue(q, 100, msgs, 1024), i;
                size_t b = 0;
                int64_t now = wall_ms();
                long ok = 0;

                for (i = 0; i < n; i++) {
                        if (!msgs[i]->err) {
                                b += msgs[i]->len + msgs[i]->key_len;
                                latency(
                                    rd_kafka_message_timestamp(msgs[i], NULL),
                                    now);
                                ok++;
                        }
                        rd_kafka_message_destroy(msgs[i]);
                }
                if (ok)
                        account(ok, b);
        }
        rd_kafka_queue_destroy(q);
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
        return 0;
}

/* ---- --telemetry all: the exporters' counterparts ---- */

static int tel_udp = -1;
static char tel_addr[256];
static pthread_t tel_thr;

static void tel_event(const brook_event_t *ev, void *opaque)
{
        (void)ev;
        (void)opaque;
}

static void *tel_span_start(const brook_event_t *ev, void *opaque)
{
        size_t n;

        /* all-links: what a tracer linking the batch span to every
         * message's context does (reads every message's headers). */
        if (!strcmp(opt.telemetry, "all-links"))
                brook_event_links(ev, &n);
        return opaque;
}

static void tel_span_end(void *span, const brook_event_t *ev, void *opaque)
{
        (void)span;
        (void)ev;
        (void)opaque;
}

/* One GET /metrics, read to the end (a Prometheus scrape). */
static void tel_scrape(void)
{
        struct sockaddr_in sa;
        const char *colon = strrchr(tel_addr, ':');
        char req[] = "GET /metrics HTTP/1.0\r\n\r\n", buf[65536];
        int fd = socket(AF_INET, SOCK_STREAM, 0);

        memset(&sa, 0, sizeof(sa));
        sa.sin_family = AF_INET;
        sa.sin_port = htons((uint16_t)atoi(colon ? colon + 1 : "0"));
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (fd >= 0 && !connect(fd, (struct sockaddr *)&sa, sizeof(sa)) &&
            write(fd, req, sizeof(req) - 1) == (ssize_t)(sizeof(req) - 1))
                while (read(fd, buf, sizeof(buf)) > 0)
                        ;
        if (fd >= 0)
                close(fd);
}

/* Scrapes every second and drains the DogStatsD socket. */
static void *tel_main(void *arg)
{
        int64_t next = mono_ns();
        char d[65536];

        (void)arg;
        while (!atomic_load(&finished)) {
                struct pollfd pfd = {tel_udp, POLLIN, 0};

                if (poll(&pfd, 1, 100) > 0)
                        while (recv(tel_udp, d, sizeof(d), MSG_DONTWAIT) > 0)
                                ;
                if (mono_ns() >= next && *tel_addr) {
                        tel_scrape();
                        next = mono_ns() + 1000000000;
                }
        }
        return NULL;
}

/* Is part @p what ("events", "spans", "exporters") on? */
static int tel_on(const char *what)
{
        return !strncmp(opt.telemetry, "all", 3) ||
               !strcmp(opt.telemetry, what);
}

static void tel_conf(brook_conf_t *conf)
{
        struct sockaddr_in sa;
        socklen_t sl = sizeof(sa);
        char es[512], v[64];

        if (!tel_on("exporters")) {
                brook_conf_set(conf, "metrics.lag.interval.ms", "0", es,
                               sizeof(es));
                brook_conf_set(conf, "log.summary.interval.ms", "0", es,
                               sizeof(es));
                return;
        }
        tel_udp = socket(AF_INET, SOCK_DGRAM, 0);
        memset(&sa, 0, sizeof(sa));
        sa.sin_family = AF_INET;
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (tel_udp < 0 || bind(tel_udp, (struct sockaddr *)&sa, sizeof(sa)) ||
            getsockname(tel_udp, (struct sockaddr *)&sa, &sl)) {
                fprintf(stderr, "bench: cannot open the DogStatsD socket\n");
                exit(1);
        }
        snprintf(v, sizeof(v), "127.0.0.1:%d", ntohs(sa.sin_port));
        brook_conf_set(conf, "metrics.statsd.address", v, es, sizeof(es));
        brook_conf_set(conf, "metrics.statsd.interval.ms", "1000", es,
                       sizeof(es));
        brook_conf_set(conf, "metrics.listen", "127.0.0.1:0", es, sizeof(es));
        brook_conf_set(conf, "metrics.lag.interval.ms", "1000", es, sizeof(es));
}

static void tel_start(brook_consumer_t *c)
{
        if ((tel_on("events") &&
             brook_consumer_event_attach(c, "brook.", tel_event, NULL) <= 0) ||
            (tel_on("spans") && brook_consumer_set_span_hooks(
                                    c, tel_span_start, tel_span_end, NULL)) ||
            (tel_on("exporters") &&
             brook_telemetry_metrics_address(brook_consumer_telemetry(c),
                                             tel_addr, sizeof(tel_addr)))) {
                fprintf(stderr, "bench: --telemetry %s: cannot attach\n",
                        opt.telemetry);
                exit(1);
        }
        if (tel_on("exporters"))
                pthread_create(&tel_thr, NULL, tel_main, NULL);
}

static void tel_stop(void)
{
        if (tel_udp < 0)
                return;
        atomic_store(&finished, 1);
        pthread_join(tel_thr, NULL);
        close(tel_udp);
        tel_udp = -1;
}

/* ---- brook consumers ---- */

static int run_brook(void)
{
        brook_conf_t *conf = brook_conf_new();
        brook_handlers_t *h = brook_handlers_new();
        const char *topics[1] = {opt.topic};
        char es[512], v[32];
        brook_error_t *err;
        int i, rc = 0;

        brook_conf_set(conf, "bootstrap.servers", opt.brokers, es, sizeof(es));
        brook_conf_set(conf, "group.id", opt.group, es, sizeof(es));
        brook_conf_set(conf, "log.level", "warn", es, sizeof(es));
        if (!strcmp(opt.kase, "brook-batch") || !strcmp(opt.kase, "io-batch")) {
                brook_handlers_set_batch(h, on_batch);
                snprintf(v, sizeof(v), "%d", opt.batch_size);
                brook_conf_set(conf, "batch.size", v, es, sizeof(es));
        } else if (!strcmp(opt.kase, "io-async")) {
                brook_handlers_set_message(h, on_message);
                snprintf(v, sizeof(v), "%d", opt.batch_size);
                brook_conf_set(conf, "batch.size", v, es, sizeof(es));
                brook_conf_set(conf, "batch.async", "true", es, sizeof(es));
                snprintf(v, sizeof(v), "%d", opt.concurrency);
                brook_conf_set(conf, "batch.max.concurrency", v, es,
                               sizeof(es));
        } else {
                brook_handlers_set_message(h, on_message);
        }
        for (i = 0; i < opt.nsets; i++) {
                char name[256];
                const char *eq = strchr(opt.sets[i], '=');

                snprintf(name, sizeof(name), "%.*s", (int)(eq - opt.sets[i]),
                         opt.sets[i]);
                if (brook_conf_set(conf, name, eq + 1, es, sizeof(es))) {
                        fprintf(stderr, "bench: %s\n", es);
                        return 2;
                }
        }
        if (opt.telemetry)
                tel_conf(conf);
        consumer = brook_consumer_new(conf, h, NULL, es, sizeof(es));
        if (!consumer ||
            brook_consumer_subscribe(consumer, topics, 1, es, sizeof(es))) {
                fprintf(stderr, "bench: %s\n", es);
                return 1;
        }
        if (opt.telemetry)
                tel_start(consumer);
        err = brook_consumer_run(consumer);
        if (opt.telemetry)
                tel_stop();
        if (err) {
                fprintf(stderr, "bench: %s\n", brook_error_string(err));
                brook_error_destroy(err);
                rc = 1;
        }
        brook_consumer_destroy(consumer);
        consumer = NULL;
        brook_handlers_destroy(h);
        brook_conf_destroy(conf);
        return rc;
}

static void usage(void)
{
        fprintf(stderr, "usage: bench-consumer --brokers B --topic T --count N "
                        "--case CASE [options] (see the source header)\n");
        exit(2);
}

int main(int argc, char **argv)
{
        static char group[128];
        struct rusage ru;
        pthread_t rss_thr;
        double secs;
        int i, rc;

        for (i = 1; i + 1 < argc; i += 2) {
                const char *a = argv[i], *v = argv[i + 1];

                if (!strcmp(a, "--brokers"))
                        opt.brokers = v;
                else if (!strcmp(a, "--topic"))
                        opt.topic = v;
                else if (!strcmp(a, "--case"))
                        opt.kase = v;
                else if (!strcmp(a, "--group"))
                        opt.group = v;
                else if (!strcmp(a, "--count"))
                        opt.count = atol(v);
                else if (!strcmp(a, "--batch-size"))
                        opt.batch_size = atoi(v);
                else if (!strcmp(a, "--concurrency"))
                        opt.concurrency = atoi(v);
                else if (!strcmp(a, "--work-us"))
                        opt.work_us = atol(v);
                else if (!strcmp(a, "--value-size"))
                        opt.value_size = atoi(v);
                else if (!strcmp(a, "--keys"))
                        opt.keys = atoi(v);
                else if (!strcmp(a, "--seed"))
                        opt.seed = (unsigned)atol(v);
                else if (!strcmp(a, "--rss-trace"))
                        opt.rss_trace = v;
                else if (!strcmp(a, "--set") && opt.nsets < MAX_SETS &&
                         strchr(v, '='))
                        opt.sets[opt.nsets++] = v;
                else if (!strcmp(a, "--telemetry") &&
                         (!strcmp(v, "off") || !strcmp(v, "all") ||
                          !strcmp(v, "all-links") || !strcmp(v, "events") ||
                          !strcmp(v, "spans") || !strcmp(v, "exporters")))
                        opt.telemetry = v;
                else
                        usage();
        }
        if (i != argc || !opt.brokers || !opt.topic || !opt.kase ||
            opt.count < 1 || opt.value_size < 1 || opt.keys < 1)
                usage();
        if (!opt.group) {
                snprintf(group, sizeof(group), "bench-%s-%d-%lld", opt.kase,
                         (int)getpid(), (long long)wall_ms());
                opt.group = group;
        }
        if (opt.rss_trace)
                pthread_create(&rss_thr, NULL, rss_main, NULL);
        if (!strcmp(opt.kase, "produce"))
                rc = run_produce();
        else if (!strcmp(opt.kase, "raw"))
                rc = run_raw();
        else if (!strcmp(opt.kase, "brook-batch") ||
                 !strcmp(opt.kase, "brook-single") ||
                 !strncmp(opt.kase, "io-", 3))
                rc = run_brook();
        else
                usage();
        atomic_store(&finished, 1);
        if (opt.rss_trace)
                pthread_join(rss_thr, NULL);
        if (rc)
                return rc;
        if (!atomic_load(&last_ns))
                atomic_store(&last_ns, mono_ns());
        secs = (double)(atomic_load(&last_ns) - atomic_load(&first_ns)) / 1e9;
        getrusage(RUSAGE_SELF, &ru);
        printf("{\"case\":\"%s\",\"records\":%ld,\"seconds\":%.3f,"
               "\"msgs_per_sec\":%.0f,\"mb_per_sec\":%.2f,\"p50_ms\":%.1f,"
               "\"p99_ms\":%.1f,\"peak_rss_kb\":%ld,\"cpu_seconds\":%.2f,"
               "\"batch_size\":%d,\"concurrency\":%d,\"work_us\":%ld%s%s%s}\n",
               opt.kase, atomic_load(&done), secs,
               secs > 0 ? (double)atomic_load(&done) / secs : 0,
               secs > 0 ? (double)atomic_load(&bytes) / secs / 1e6 : 0,
               percentile(0.5), percentile(0.99), rss_kb("VmHWM:"),
               (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
                   (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6,
               opt.batch_size, opt.concurrency, opt.work_us,
               opt.telemetry ? ",\"telemetry\":\"" : "",
               opt.telemetry ? opt.telemetry : "", opt.telemetry ? "\"" : "");
        return 0;
}
