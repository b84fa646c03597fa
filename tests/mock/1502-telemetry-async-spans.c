/*
 * 1502: telemetry in async mode (batch.async=true, message handler fanned
 * out over 4 message threads, 3 batches in flight), where events and span
 * hooks are called from batch threads concurrently, while the test thread
 * scrapes the HTTP endpoint and reads the metrics text. Run it under TSan.
 *
 * Records carry W3C trace context: every 3rd a valid traceparent and a
 * tracestate, every 10th (that is not a 3rd) an invalid traceparent with
 * a tracestate. Checks:
 *  - span start/end are paired, on the same thread, with the pointer the
 *    start hook returned; links are exactly the valid traceparents of the
 *    batch's messages, in offset order;
 *  - handlers see brook_msg_tracestate() only next to a valid traceparent;
 *  - batch.start/stop counts sum to the input; the queue-depth gauge never
 *    exceeds max.in.flight.batches; HTTP and text agree at the end;
 *  - after brook_consumer_set_span_hooks(c, NULL, NULL, NULL) and detach
 *    nothing is called any more.
 */
#include <stdatomic.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "tel_test.h"

#define PARTS 4
#define N     1200

typedef struct span_s {
        pthread_t thr;
        int64_t magic;
        size_t links;
} span_t;

static atomic_long handled, span_starts, span_ends, links_total, ev_starts,
    ev_start_msgs, ev_stop_msgs, ev_stops, bad_state, after_clear;
static atomic_int cleared;

static void tp_of(int i, char *buf, size_t size)
{
        snprintf(buf, size, "00-%032x-%016x-01", i + 1, i + 7);
}

static int valid_tp(int i)
{
        return i < N && i % 3 == 0; /* the 40 extra records have none */
}

static int invalid_tp(int i)
{
        return i < N && !valid_tp(i) && i % 10 == 0;
}

static void produce(const char *bootstraps, const char *topic)
{
        rd_kafka_conf_t *rkc = rd_kafka_conf_new();
        char es[512], key[32], val[32], tp[64], ts[64];
        rd_kafka_t *rk;
        int i;

        rd_kafka_conf_set(rkc, "bootstrap.servers", bootstraps, es, sizeof(es));
        rk = rd_kafka_new(RD_KAFKA_PRODUCER, rkc, es, sizeof(es));
        TEST_ASSERT(rk, "producer: %s", es);
        for (i = 0; i < N; i++) {
                rd_kafka_headers_t *h = rd_kafka_headers_new(2);

                snprintf(key, sizeof(key), "k%d", i);
                snprintf(val, sizeof(val), "v%d", i);
                snprintf(ts, sizeof(ts), "brook=i%d,other=x", i);
                if (valid_tp(i))
                        tp_of(i, tp, sizeof(tp));
                else
                        snprintf(tp, sizeof(tp), "00-bad-%d", i);
                if (valid_tp(i) || invalid_tp(i)) {
                        rd_kafka_header_add(h, "traceparent", -1, tp, -1);
                        rd_kafka_header_add(h, "tracestate", -1, ts, -1);
                }
                TEST_ASSERT(
                    !rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic),
                                       RD_KAFKA_V_PARTITION(i % PARTS),
                                       RD_KAFKA_V_KEY(key, strlen(key)),
                                       RD_KAFKA_V_VALUE(val, strlen(val)),
                                       RD_KAFKA_V_HEADERS(h),
                                       RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                       RD_KAFKA_V_END),
                    "produce");
        }
        TEST_ASSERT(rd_kafka_flush(rk, 30000) == 0, "flush");
        rd_kafka_destroy(rk);
}

static brook_err_t on_msg(brook_msg_t *m, void *opaque)
{
        int i = (int)(brook_msg_offset(m) * PARTS + brook_msg_partition(m));
        size_t len;
        const char *ts = brook_msg_tracestate(m, &len);
        char want[64];

        (void)opaque;
        if (valid_tp(i)) {
                snprintf(want, sizeof(want), "brook=i%d,other=x", i);
                TEST_ASSERT(ts && len == strlen(want) && !memcmp(ts, want, len),
                            "message %d: tracestate %.*s", i, (int)len,
                            ts ? ts : "");
                tp_of(i, want, sizeof(want));
                TEST_ASSERT(brook_msg_traceparent(m) &&
                                !strcmp(brook_msg_traceparent(m), want),
                            "message %d traceparent", i);
        } else {
                TEST_ASSERT(!ts && len == 0,
                            "message %d: tracestate without a valid "
                            "traceparent",
                            i);
                TEST_ASSERT(!brook_msg_traceparent(m), "message %d", i);
        }
        test_sleep_ms(1);
        atomic_fetch_add(&handled, 1);
        return BROOK_OK;
}

static void *span_start(const brook_event_t *ev, void *opaque)
{
        const brook_batch_t *b = brook_event_batch(ev);
        span_t *s = malloc(sizeof(*s));
        size_t i, k = 0, n, n2;
        const char *const *links = brook_event_links(ev, &n);
        char want[64];

        TEST_ASSERT(brook_event_links(ev, &n2) == links && n2 == n,
                    "links not cached");
        TEST_ASSERT(opaque == (void *)&span_starts, "opaque");
        TEST_ASSERT(!atomic_load(&cleared), "span start after clearing");
        TEST_ASSERT(!strcmp(brook_event_name(ev), "brook.consumer.batch.start"),
                    "start event %s", brook_event_name(ev));
        for (i = 0; i < brook_batch_count(b); i++) {
                const brook_msg_t *m = brook_batch_msg(b, i);
                int idx =
                    (int)(brook_msg_offset(m) * PARTS + brook_msg_partition(m));

                if (!valid_tp(idx))
                        continue;
                tp_of(idx, want, sizeof(want));
                TEST_ASSERT(k < n && !strcmp(links[k], want),
                            "link %zu: %s, expected %s", k,
                            k < n ? links[k] : "(none)", want);
                k++;
        }
        TEST_ASSERT(k == n, "%zu links, expected %zu", n, k);
        s->thr = pthread_self();
        s->magic = 0x5ba7;
        s->links = n;
        atomic_fetch_add(&span_starts, 1);
        atomic_fetch_add(&links_total, (long)n);
        return s;
}

static void span_end(void *span, const brook_event_t *ev, void *opaque)
{
        span_t *s = span;
        int64_t f = -1;

        TEST_ASSERT(opaque == (void *)&span_starts, "opaque");
        TEST_ASSERT(s && s->magic == 0x5ba7, "span pointer");
        TEST_ASSERT(pthread_equal(s->thr, pthread_self()),
                    "span ended on another thread");
        TEST_ASSERT(!strcmp(brook_event_name(ev), "brook.consumer.batch.stop"),
                    "end event %s", brook_event_name(ev));
        TEST_ASSERT(!brook_event_measurement(ev, "failed_count", &f) && f == 0,
                    "failed_count %lld", (long long)f);
        s->magic = 0;
        free(s);
        atomic_fetch_add(&span_ends, 1);
}

static void on_event(const brook_event_t *ev, void *opaque)
{
        const char *n = brook_event_name(ev);
        int64_t v = 0;

        (void)opaque;
        if (atomic_load(&cleared))
                atomic_fetch_add(&after_clear, 1);
        if (!strcmp(n, "brook.consumer.batch.start")) {
                brook_event_measurement(ev, "count", &v);
                atomic_fetch_add(&ev_starts, 1);
                atomic_fetch_add(&ev_start_msgs, (long)v);
        } else if (!strcmp(n, "brook.consumer.batch.stop")) {
                brook_event_measurement(ev, "count", &v);
                atomic_fetch_add(&ev_stops, 1);
                atomic_fetch_add(&ev_stop_msgs, (long)v);
        }
        if (brook_consumer_event_detach(NULL, 1) != BROOK_ERR_INVALID_ARG)
                atomic_fetch_add(&bad_state, 1);
}

int main(void)
{
        test_env_t e;
        brook_conf_t *conf;
        brook_handlers_t *h = brook_handlers_new();
        brook_consumer_t *c;
        test_runner_t r;
        char addr[128], *text, *body;
        int64_t id, deadline;
        double depth, max_depth = 0;
        int status, scrapes = 0, p;

        test_env_init(&e, "t1502", PARTS, 0);
        produce(e.bootstraps, e.topic);
        conf = test_env_conf(&e);
        test_conf_set(conf, "batch.async", "true");
        test_conf_set(conf, "batch.max.concurrency", "4");
        test_conf_set(conf, "max.in.flight.batches", "3");
        test_conf_set(conf, "batch.size", "40");
        test_conf_set(conf, "batch.timeout.ms", "50");
        test_conf_set(conf, "metrics.listen", "127.0.0.1:0");
        test_conf_set(conf, "metrics.lag.interval.ms", "100");
        brook_handlers_set_message(h, on_msg);
        c = test_env_consumer(&e, conf, h, NULL);
        TEST_ASSERT(!brook_telemetry_metrics_address(
                        brook_consumer_telemetry(c), addr, sizeof(addr)),
                    "metrics address");
        TEST_ASSERT(strncmp(addr, "127.0.0.1:", 10) == 0 &&
                        strcmp(addr, "127.0.0.1:0"),
                    "address %s", addr);
        TEST_ASSERT(brook_consumer_set_span_hooks(c, span_start, NULL, NULL) ==
                        BROOK_ERR_INVALID_ARG,
                    "half a pair of hooks accepted");
        TEST_ASSERT(!brook_consumer_set_span_hooks(c, span_start, span_end,
                                                   &span_starts),
                    "span hooks");
        id = brook_consumer_event_attach(c, "brook.consumer.", on_event, NULL);
        TEST_ASSERT(id > 0, "attach");

        test_runner_start(&r, c);
        deadline = test_now_ms() + test_timeout_ms(60000);
        while (atomic_load(&handled) < N && test_now_ms() < deadline) {
                text = brook_consumer_metrics_text(c, NULL);
                TEST_ASSERT(text, "metrics text");
                depth =
                    tel_metric(text, "brook_consumer_batch_queue_depth", NULL);
                if (depth > max_depth)
                        max_depth = depth;
                brook_telemetry_free(text);
                if ((body = tel_http_get(addr, "/metrics", &status))) {
                        TEST_ASSERT(status == 200, "HTTP %d", status);
                        scrapes++;
                        free(body);
                }
                test_sleep_ms(3);
        }
        for (p = 0; p < PARTS; p++)
                TEST_ASSERT(test_wait_committed(
                                e.bootstraps, e.group, e.topic, p, N / PARTS,
                                test_timeout_ms(30000)) == N / PARTS,
                            "partition %d", p);
        /* Nothing may run after the hooks are cleared and the callback
         * detached (run() is still going: the test stops it after). */
        TEST_ASSERT(!brook_consumer_set_span_hooks(c, NULL, NULL, NULL),
                    "clear hooks");
        TEST_ASSERT(!brook_consumer_event_detach(c, id), "detach");
        atomic_store(&cleared, 1);
        test_produce(e.bootstraps, e.topic, PARTS, 40);
        /* The 40 records (10 per partition) went through whole batches,
         * committed, with nothing left to call the hooks for. */
        for (p = 0; p < PARTS; p++)
                TEST_ASSERT(test_wait_committed(e.bootstraps, e.group, e.topic,
                                                p, N / PARTS + 10,
                                                30000) == N / PARTS + 10,
                            "partition %d: the 40 records after clearing "
                            "were not committed",
                            p);
        TEST_ASSERT(!test_runner_stop(&r), "run() failed");

        body = tel_http_get(addr, "/metrics", &status);
        TEST_ASSERT(body && status == 200, "final scrape");
        TEST_SAY("%ld handled, %ld spans (%ld links), events %ld starts "
                 "(%ld msgs) / %ld stops, max queue depth %g, %d scrapes",
                 atomic_load(&handled), atomic_load(&span_starts),
                 atomic_load(&links_total), atomic_load(&ev_starts),
                 atomic_load(&ev_start_msgs), atomic_load(&ev_stops), max_depth,
                 scrapes);
        TEST_ASSERT(atomic_load(&handled) >= N + 40, "handled %ld",
                    atomic_load(&handled));
        TEST_ASSERT(atomic_load(&span_starts) == atomic_load(&span_ends) &&
                        atomic_load(&span_starts) == atomic_load(&ev_starts),
                    "span starts %ld, ends %ld, batch.start events %ld",
                    atomic_load(&span_starts), atomic_load(&span_ends),
                    atomic_load(&ev_starts));
        TEST_ASSERT(atomic_load(&links_total) == (N + 2) / 3,
                    "%ld links, %d valid traceparents",
                    atomic_load(&links_total), (N + 2) / 3);
        TEST_ASSERT(atomic_load(&ev_start_msgs) == N &&
                        atomic_load(&ev_stop_msgs) == N &&
                        atomic_load(&ev_stops) == atomic_load(&ev_starts),
                    "events: %ld start msgs, %ld stop msgs",
                    atomic_load(&ev_start_msgs), atomic_load(&ev_stop_msgs));
        TEST_ASSERT(atomic_load(&after_clear) == 0 &&
                        atomic_load(&bad_state) == 0,
                    "callbacks after detach: %ld", atomic_load(&after_clear));
        TEST_ASSERT(max_depth <= 3, "queue depth %g > max.in.flight.batches",
                    max_depth);
        TEST_ASSERT(scrapes > 0, "no scrape while running");
        TEST_ASSERT(tel_metric(body, "brook_consumer_messages_processed_total",
                               "status=\"ok\"") == N + 40,
                    "scraped ok messages %g",
                    tel_metric(body, "brook_consumer_messages_processed_total",
                               "status=\"ok\""));
        text = brook_consumer_metrics_text(c, NULL);
        TEST_ASSERT(text && !strcmp(text, body),
                    "HTTP body differs from brook_consumer_metrics_text()");
        brook_telemetry_free(text);
        free(body);
        body = tel_http_get(addr, "/nope", &status);
        TEST_ASSERT(body && status == 404, "status %d for /nope", status);
        free(body);
        brook_consumer_destroy(c);
        TEST_ASSERT(!tel_http_get(addr, "/metrics", &status),
                    "listener still up after destroy");
        brook_handlers_destroy(h);
        brook_conf_destroy(conf);
        test_env_destroy(&e);
        return 0;
}
