/*
 * 1505: W3C trace context survives the dead-letter path. Three records
 * that always fail go to the dead-letter topic: one with a valid
 * traceparent + tracestate, one with an invalid traceparent, one with
 * none. Read back with a separate librdkafka client, the dead letters
 * carry exactly the original traceparent / tracestate headers (a trace
 * continues through the dead-letter topic), next to brook's brook.dlq.*
 * headers; and the dead_letter.sent events name each one.
 */
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "tel_test.h"

#define TP     "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
#define TS     "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"
#define BAD_TP "00-nothex-00f067aa0ba902b7-01"

static int dead_events;

static void produce(const char *bootstraps, const char *topic)
{
        rd_kafka_conf_t *rkc = rd_kafka_conf_new();
        char es[512];
        rd_kafka_t *rk;
        int i;

        rd_kafka_conf_set(rkc, "bootstrap.servers", bootstraps, es, sizeof(es));
        rk = rd_kafka_new(RD_KAFKA_PRODUCER, rkc, es, sizeof(es));
        TEST_ASSERT(rk, "%s", es);
        for (i = 0; i < 10; i++) {
                rd_kafka_headers_t *h = rd_kafka_headers_new(3);
                char v[16];

                snprintf(v, sizeof(v), "v%d", i);
                rd_kafka_header_add(h, "app", -1, "x", -1);
                if (i == 2) {
                        rd_kafka_header_add(h, "traceparent", -1, TP, -1);
                        rd_kafka_header_add(h, "tracestate", -1, TS, -1);
                } else if (i == 5) {
                        rd_kafka_header_add(h, "traceparent", -1, BAD_TP, -1);
                        rd_kafka_header_add(h, "tracestate", -1, TS, -1);
                }
                TEST_ASSERT(
                    !rd_kafka_producev(
                        rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(0),
                        RD_KAFKA_V_VALUE(v, strlen(v)), RD_KAFKA_V_HEADERS(h),
                        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                        RD_KAFKA_V_END),
                    "produce");
        }
        TEST_ASSERT(rd_kafka_flush(rk, 30000) == 0, "flush");
        rd_kafka_destroy(rk);
}

static brook_err_t on_msg(brook_msg_t *m, void *opaque)
{
        int64_t o = brook_msg_offset(m);
        size_t len;
        const char *ts = brook_msg_tracestate(m, &len);

        (void)opaque;
        if (o == 2)
                TEST_ASSERT(ts && len == strlen(TS) && !memcmp(ts, TS, len) &&
                                !strcmp(brook_msg_traceparent(m), TP),
                            "trace context of offset 2");
        else
                TEST_ASSERT(!ts && !brook_msg_traceparent(m),
                            "trace context on offset %lld", (long long)o);
        return o == 2 || o == 5 || o == 7 ? brook_msg_fail(m, "always")
                                          : BROOK_OK;
}

static void on_dead(const brook_event_t *ev, void *opaque)
{
        const brook_msg_t *m = brook_event_msg(ev);

        (void)opaque;
        TEST_ASSERT(m && (brook_msg_offset(m) == 2 ||
                          brook_msg_offset(m) == 5 || brook_msg_offset(m) == 7),
                    "dead letter event for offset %lld",
                    m ? (long long)brook_msg_offset(m) : -1LL);
        dead_events++;
}

int main(void)
{
        test_env_t e;
        brook_conf_t *conf;
        brook_handlers_t *h = brook_handlers_new();
        brook_consumer_t *c;
        test_runner_t r;
        test_rec_t *recs;
        char dlq[200];
        size_t n, i;

        test_env_init(&e, "t1505", 1, 0);
        snprintf(dlq, sizeof(dlq), "%s-dead", e.topic);
        TEST_ASSERT(!brook_mock_cluster_create_topic(e.mc, dlq, 1, 1), "dlq");
        produce(e.bootstraps, e.topic);
        conf = test_env_conf(&e);
        test_conf_set(conf, "batch.size", "5");
        test_conf_set(conf, "ack.strategy", "best_effort");
        test_conf_set(conf, "retry.backoff.ms", "10");
        test_conf_set(conf, "dead.letter.max.retries", "1");
        test_conf_set(conf, "dead.letter.topic", dlq);
        brook_handlers_set_message(h, on_msg);
        c = test_env_consumer(&e, conf, h, NULL);
        TEST_ASSERT(
            brook_consumer_event_attach(c, "brook.consumer.dead_letter.sent",
                                        on_dead, NULL) > 0,
            "attach");
        test_runner_start(&r, c);
        TEST_ASSERT(test_wait_committed(e.bootstraps, e.group, e.topic, 0, 10,
                                        test_timeout_ms(30000)) == 10,
                    "not committed");
        TEST_ASSERT(!test_runner_stop(&r), "run() failed");
        TEST_ASSERT(dead_events == 3, "%d dead_letter.sent events",
                    dead_events);
        n = test_read_topic(e.bootstraps, dlq, &recs);
        TEST_ASSERT(n == 3, "%zu dead letters", n);
        for (i = 0; i < n; i++) {
                const char *off = test_rec_header(&recs[i], "brook.dlq.offset");
                const char *tp = test_rec_header(&recs[i], "traceparent");
                const char *ts = test_rec_header(&recs[i], "tracestate");

                TEST_ASSERT(off && test_rec_header(&recs[i], "app"),
                            "headers of dead letter %zu", i);
                if (!strcmp(off, "2"))
                        TEST_ASSERT(tp && !strcmp(tp, TP) && ts &&
                                        !strcmp(ts, TS),
                                    "dead letter of offset 2: traceparent "
                                    "%s tracestate %s",
                                    tp ? tp : "(none)", ts ? ts : "(none)");
                else if (!strcmp(off, "5"))
                        /* Not ours to judge: the original bytes go on. */
                        TEST_ASSERT(tp && !strcmp(tp, BAD_TP) && ts,
                                    "offset 5 headers");
                else
                        TEST_ASSERT(!strcmp(off, "7") && !tp && !ts,
                                    "dead letter %s", off);
        }
        TEST_SAY("3 dead letters; the traced one kept traceparent %s and "
                 "tracestate %s",
                 TP, TS);
        test_recs_free(recs, n);
        brook_consumer_destroy(c);
        brook_handlers_destroy(h);
        brook_conf_destroy(conf);
        test_env_destroy(&e);
        return 0;
}
