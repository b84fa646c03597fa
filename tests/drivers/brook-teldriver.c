/*
 * brook-teldriver: a brook consumer with every telemetry hook attached, for
 * the telemetry tests on the real broker (tests/broker/25NN-*.py).
 *
 *   brook-teldriver --brokers B --topic T --group G [options]
 *
 *   --set NAME=VALUE     any brook property (repeatable), e.g.
 *                        metrics.listen=127.0.0.1:0,
 *                        metrics.statsd.address=127.0.0.1:8125
 *   --address-file FILE  write the bound metrics address (host:port) to
 *                        FILE once the listener is up (before run())
 *   --ready FILE         create FILE once partitions are assigned
 *   --fail P:O           partition P offset O fails on every delivery
 *                        (repeatable; with dead.letter.topic it is
 *                        dead-lettered after dead.letter.max.retries)
 *   --slow-ms MS         sleep MS in every batch handler call
 *   --async              message handler, batch.async=true
 *   --spans              attach span hooks (counted, links read)
 *
 * Runs until SIGTERM / SIGINT, then prints one JSON line of what the event
 * callback and span hooks saw: {"batch_start": events, "start_count": sum
 * of count, "first_attempt_count", "stop_count", "stop_failed",
 * "exceptions", "processed": sum of messages.processed count,
 * "processed_failed", "dead_letters", "spans_started", "spans_ended",
 * "span_links"}. Exit status 0 after a clean stop, 3 when run() failed,
 * 2 on bad arguments.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "brook/brook.h"

#define MAX_FAIL 64
#define MAX_SETS 64

static struct {
        int32_t fail_p[MAX_FAIL];
        int64_t fail_o[MAX_FAIL];
        int nfail;
        long slow_ms;
        const char *ready;
} opt;

static atomic_llong batch_start, start_count, first_count, stop_count,
    stop_failed, exceptions, processed, processed_failed, dead_letters,
    spans_started, spans_ended, span_links;
static brook_consumer_t *consumer;

static void on_signal(int sig)
{
        (void)sig;
        brook_consumer_stop(consumer);
}

static int must_fail(const brook_msg_t *m)
{
        int i;

        for (i = 0; i < opt.nfail; i++)
                if (brook_msg_partition(m) == opt.fail_p[i] &&
                    brook_msg_offset(m) == opt.fail_o[i])
                        return 1;
        return 0;
}

static void sleep_ms(long ms)
{
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};

        if (ms > 0)
                nanosleep(&ts, NULL);
}

static brook_err_t on_batch(brook_batch_t *b, void *opaque)
{
        size_t i;

        (void)opaque;
        sleep_ms(opt.slow_ms);
        for (i = 0; i < brook_batch_count(b); i++)
                if (must_fail(brook_batch_msg(b, i)))
                        brook_batch_fail(b, i, "teldriver --fail");
        return BROOK_OK;
}

static brook_err_t on_message(brook_msg_t *m, void *opaque)
{
        (void)opaque;
        return must_fail(m) ? brook_msg_fail(m, "teldriver --fail") : BROOK_OK;
}

static void on_partitions(const char *topic, int32_t p, int assigned,
                          void *opaque)
{
        (void)topic;
        (void)p;
        (void)opaque;
        if (assigned && opt.ready) {
                int fd = open(opt.ready, O_CREAT | O_WRONLY, 0644);

                if (fd >= 0)
                        close(fd);
        }
}

static int64_t meas(const brook_event_t *ev, const char *k)
{
        int64_t v = 0;

        brook_event_measurement(ev, k, &v);
        return v;
}

static void on_event(const brook_event_t *ev, void *opaque)
{
        const char *n = brook_event_name(ev);

        (void)opaque;
        if (!strcmp(n, "brook.consumer.batch.start")) {
                atomic_fetch_add(&batch_start, 1);
                atomic_fetch_add(&start_count, meas(ev, "count"));
                if (brook_batch_attempt(brook_event_batch(ev)) == 0)
                        atomic_fetch_add(&first_count, meas(ev, "count"));
        } else if (!strcmp(n, "brook.consumer.batch.stop")) {
                atomic_fetch_add(&stop_count, meas(ev, "count"));
                atomic_fetch_add(&stop_failed, meas(ev, "failed_count"));
        } else if (!strcmp(n, "brook.consumer.batch.exception")) {
                atomic_fetch_add(&exceptions, 1);
        } else if (!strcmp(n, "brook.consumer.messages.processed")) {
                atomic_fetch_add(&processed, meas(ev, "count"));
                atomic_fetch_add(&processed_failed, meas(ev, "failed_count"));
        } else if (!strcmp(n, "brook.consumer.dead_letter.sent")) {
                atomic_fetch_add(&dead_letters, 1);
        }
}

static void *span_start(const brook_event_t *ev, void *opaque)
{
        size_t n;

        (void)opaque;
        brook_event_links(ev, &n);
        atomic_fetch_add(&spans_started, 1);
        atomic_fetch_add(&span_links, (long long)n);
        return &spans_started;
}

static void span_end(void *span, const brook_event_t *ev, void *opaque)
{
        (void)ev;
        (void)opaque;
        if (span == &spans_started)
                atomic_fetch_add(&spans_ended, 1);
}

static void usage(const char *why)
{
        fprintf(stderr,
                "brook-teldriver: %s\nusage: brook-teldriver --brokers B "
                "--topic T --group G [--set N=V]... [--address-file F] "
                "[--ready F] [--fail P:O]... [--slow-ms MS] [--async] "
                "[--spans]\n",
                why);
        exit(2);
}

int main(int argc, char **argv)
{
        const char *brokers = NULL, *topic = NULL, *group = NULL,
                   *addr_file = NULL, *sets[MAX_SETS];
        int nsets = 0, async = 0, spans = 0, i, rc = 0;
        brook_conf_t *conf = brook_conf_new();
        brook_handlers_t *h = brook_handlers_new();
        brook_error_t *err;
        char es[512], addr[256];

        for (i = 1; i < argc; i++) {
                const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

                if (!strcmp(a, "--async")) {
                        async = 1;
                        continue;
                }
                if (!strcmp(a, "--spans")) {
                        spans = 1;
                        continue;
                }
                if (!v)
                        usage("missing value");
                i++;
                if (!strcmp(a, "--brokers"))
                        brokers = v;
                else if (!strcmp(a, "--topic"))
                        topic = v;
                else if (!strcmp(a, "--group"))
                        group = v;
                else if (!strcmp(a, "--address-file"))
                        addr_file = v;
                else if (!strcmp(a, "--ready"))
                        opt.ready = v;
                else if (!strcmp(a, "--slow-ms"))
                        opt.slow_ms = atol(v);
                else if (!strcmp(a, "--set") && nsets < MAX_SETS &&
                         strchr(v, '='))
                        sets[nsets++] = v;
                else if (!strcmp(a, "--fail") && opt.nfail < MAX_FAIL &&
                         sscanf(v, "%d:%lld", &opt.fail_p[opt.nfail],
                                (long long *)&opt.fail_o[opt.nfail]) == 2)
                        opt.nfail++;
                else
                        usage(a);
        }
        if (!brokers || !topic || !group)
                usage("--brokers, --topic and --group are required");
        if (brook_conf_set(conf, "bootstrap.servers", brokers, es,
                           sizeof(es)) ||
            brook_conf_set(conf, "group.id", group, es, sizeof(es)))
                usage(es);
        if (async) {
                brook_handlers_set_message(h, on_message);
                brook_conf_set(conf, "batch.async", "true", es, sizeof(es));
        } else {
                brook_handlers_set_batch(h, on_batch);
        }
        brook_handlers_set_partitions(h, on_partitions);
        for (i = 0; i < nsets; i++) {
                char name[256];
                const char *eq = strchr(sets[i], '=');

                snprintf(name, sizeof(name), "%.*s", (int)(eq - sets[i]),
                         sets[i]);
                if (brook_conf_set(conf, name, eq + 1, es, sizeof(es)))
                        usage(es);
        }
        consumer = brook_consumer_new(conf, h, NULL, es, sizeof(es));
        if (!consumer ||
            brook_consumer_subscribe(consumer, &topic, 1, es, sizeof(es))) {
                fprintf(stderr, "brook-teldriver: %s\n", es);
                return 3;
        }
        if (brook_consumer_event_attach(consumer, "brook.consumer.", on_event,
                                        NULL) <= 0 ||
            (spans && brook_consumer_set_span_hooks(consumer, span_start,
                                                    span_end, NULL))) {
                fprintf(stderr, "brook-teldriver: cannot attach\n");
                return 3;
        }
        if (addr_file) {
                FILE *f;
                char tmp[1024];

                if (brook_telemetry_metrics_address(
                        brook_consumer_telemetry(consumer), addr,
                        sizeof(addr))) {
                        fprintf(stderr, "brook-teldriver: --address-file "
                                        "needs metrics.listen\n");
                        return 2;
                }
                /* Written whole, then renamed: readers never see half. */
                snprintf(tmp, sizeof(tmp), "%s.tmp", addr_file);
                if (!(f = fopen(tmp, "w")) || fprintf(f, "%s\n", addr) < 0 ||
                    fclose(f) || rename(tmp, addr_file)) {
                        fprintf(stderr, "brook-teldriver: cannot write %s\n",
                                addr_file);
                        return 3;
                }
        }
        signal(SIGTERM, on_signal);
        signal(SIGINT, on_signal);
        err = brook_consumer_run(consumer);
        if (err) {
                fprintf(stderr, "brook-teldriver: %s\n",
                        brook_error_string(err));
                brook_error_destroy(err);
                rc = 3;
        }
        printf("{\"batch_start\":%lld,\"start_count\":%lld,"
               "\"first_attempt_count\":%lld,\"stop_count\":%lld,"
               "\"stop_failed\":%lld,\"exceptions\":%lld,\"processed\":%lld,"
               "\"processed_failed\":%lld,\"dead_letters\":%lld,"
               "\"spans_started\":%lld,\"spans_ended\":%lld,"
               "\"span_links\":%lld}\n",
               atomic_load(&batch_start), atomic_load(&start_count),
               atomic_load(&first_count), atomic_load(&stop_count),
               atomic_load(&stop_failed), atomic_load(&exceptions),
               atomic_load(&processed), atomic_load(&processed_failed),
               atomic_load(&dead_letters), atomic_load(&spans_started),
               atomic_load(&spans_ended), atomic_load(&span_links));
        fflush(stdout);
        brook_consumer_destroy(consumer);
        brook_handlers_destroy(h);
        brook_conf_destroy(conf);
        return rc;
}
