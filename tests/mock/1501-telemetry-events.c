/*
 * 1501: consumer events fire with the right measurements and metadata for
 * a known workload, and the metrics registry agrees with them.
 *
 * 4 partitions x 500 messages, batch.size 50, best_effort. Injected: every
 * offset % 50 == 7 of partition 0 fails on its first delivery; partition
 * 1 offset 123 always fails (a poison pill: dead-lettered after 2
 * retries); the batch of partition 2 holding offset 200 fails as a whole
 * on its first attempt. The handler counts what it was given and what it
 * failed; then:
 *  - batch.start: count sums to the deliveries, first attempts to exactly
 *    the 2000 messages; bytes equal brook_batch_bytes();
 *  - batch.stop: failed_count sums to the injected failures, duration_ns
 *    adds up to more than 0, status matches; metadata equal the batch's;
 *  - batch.exception: exactly one, kind=error, with the handler's reason;
 *  - messages.processed: count sums to 1999 (all but the pill),
 *    failed_count to the injected failures;
 *  - dead_letter.sent: once, for 1:123, with the dead-letter offset;
 *  - a prefix subscription gets only batch.* events, an exact one only its
 *    event; attach/detach from inside a callback is refused;
 *  - brook_consumer_metrics_text() counters equal the same numbers.
 */
#include <string.h>

#include "tel_test.h"

#define PARTS 4
#define PER   500
#define N     (PARTS * PER)

static int64_t delivered, injected, first_deliveries, handler_bytes_sum;
static int64_t ev_start_cnt, ev_start_first, ev_start_bytes, ev_starts;
static int64_t ev_stop_failed, ev_stops, ev_stop_cnt, ev_exceptions;
static int64_t ev_proc_cnt, ev_proc_failed, ev_dead, ev_prefix_other;
static int64_t ev_stop_ns, ev_all, ev_exact_other, nested_refused,
    dead_offset = -1;
static char exc_reason[200], group[128];
static brook_consumer_t *consumer;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static brook_err_t on_batch(brook_batch_t *b, void *opaque)
{
        size_t i, n = brook_batch_count(b);
        int32_t p = brook_batch_partition(b);
        int64_t fails = 0;

        (void)opaque;
        pthread_mutex_lock(&lock);
        delivered += (int64_t)n;
        handler_bytes_sum += (int64_t)brook_batch_bytes(b);
        if (brook_batch_attempt(b) == 0)
                first_deliveries += (int64_t)n;
        pthread_mutex_unlock(&lock);
        if (p == 2 && brook_batch_attempt(b) == 0 &&
            brook_batch_first_offset(b) <= 200 &&
            brook_batch_last_offset(b) >= 200) {
                pthread_mutex_lock(&lock);
                injected += (int64_t)n;
                pthread_mutex_unlock(&lock);
                return brook_batch_fail_all(b, "injected whole-batch failure");
        }
        for (i = 0; i < n; i++) {
                brook_msg_t *m = brook_batch_msg(b, i);
                int64_t o = brook_msg_offset(m);

                if ((p == 0 && o % 50 == 7 && brook_msg_retry_count(m) == 0) ||
                    (p == 1 && o == 123)) {
                        brook_batch_fail(b, i, "injected");
                        fails++;
                }
        }
        pthread_mutex_lock(&lock);
        injected += fails;
        pthread_mutex_unlock(&lock);
        return BROOK_OK;
}

static int64_t meas(const brook_event_t *ev, const char *k)
{
        int64_t v = -12345;

        TEST_ASSERT(!brook_event_measurement(ev, k, &v), "%s: no %s",
                    brook_event_name(ev), k);
        return v;
}

/* Metadata of a batch event equal the batch's. */
static void check_batch_meta(const brook_event_t *ev)
{
        const brook_batch_t *b = brook_event_batch(ev);
        int64_t v;

        TEST_ASSERT(b, "%s without a batch", brook_event_name(ev));
        TEST_ASSERT(!strcmp(brook_event_metadata(ev, "group"), group),
                    "group %s", brook_event_metadata(ev, "group"));
        TEST_ASSERT(
            !strcmp(brook_event_metadata(ev, "topic"), brook_batch_topic(b)),
            "topic");
        TEST_ASSERT(!brook_event_metadata_int(ev, "partition", &v) &&
                        v == brook_batch_partition(b),
                    "partition %lld", (long long)v);
        TEST_ASSERT(!brook_event_metadata_int(ev, "first_offset", &v) &&
                        v == brook_batch_first_offset(b),
                    "first_offset %lld", (long long)v);
        TEST_ASSERT(!brook_event_metadata_int(ev, "last_offset", &v) &&
                        v == brook_batch_last_offset(b),
                    "last_offset %lld", (long long)v);
        TEST_ASSERT(brook_event_metadata_int(ev, "topic", &v) ==
                        BROOK_ERR_NOT_FOUND,
                    "topic is not a number");
}

static void on_prefix(const brook_event_t *ev, void *opaque)
{
        const char *name = brook_event_name(ev);

        (void)opaque;
        if (!strcmp(name, "brook.consumer.batch.start")) {
                const brook_batch_t *b = brook_event_batch(ev);

                check_batch_meta(ev);
                TEST_ASSERT(meas(ev, "count") == (int64_t)brook_batch_count(b),
                            "start count");
                TEST_ASSERT(meas(ev, "bytes") == (int64_t)brook_batch_bytes(b),
                            "start bytes");
                ev_starts++;
                ev_start_cnt += meas(ev, "count");
                ev_start_bytes += meas(ev, "bytes");
                if (brook_batch_attempt(b) == 0)
                        ev_start_first += meas(ev, "count");
                if (!nested_refused) {
                        TEST_ASSERT(brook_consumer_event_attach(
                                        consumer, "x", on_prefix, NULL) ==
                                        -BROOK_ERR_STATE,
                                    "attach inside a callback allowed");
                        TEST_ASSERT(brook_consumer_event_detach(consumer, 1) ==
                                        BROOK_ERR_STATE,
                                    "detach inside a callback allowed");
                        nested_refused = 1;
                }
        } else if (!strcmp(name, "brook.consumer.batch.stop")) {
                int64_t n = meas(ev, "count"), f = meas(ev, "failed_count");
                const char *st = brook_event_metadata(ev, "status");

                if (brook_event_metadata_count(ev) == 7) {
                        static const char *const keys[] = {
                            "group",        "topic",       "partition",
                            "first_offset", "last_offset", "attempt",
                            "status"};
                        const char *v;
                        size_t k;

                        for (k = 0; k < 7; k++)
                                TEST_ASSERT(
                                    !strcmp(brook_event_metadata_at(ev, k, &v),
                                            keys[k]) &&
                                        v,
                                    "metadata %zu: %s", k,
                                    brook_event_metadata_at(ev, k, &v));
                        TEST_ASSERT(!brook_event_metadata_at(ev, 7, &v),
                                    "metadata past the end");
                } else {
                        TEST_ASSERT(brook_event_metadata_count(ev) == 8 &&
                                        brook_event_metadata(ev, "error"),
                                    "stop metadata count %zu",
                                    brook_event_metadata_count(ev));
                }
                check_batch_meta(ev);
                TEST_ASSERT(meas(ev, "duration_ns") >= 0 &&
                                meas(ev, "duration_ns") % 1000 == 0,
                            "duration_ns (microsecond resolution)");
                ev_stop_ns += meas(ev, "duration_ns");
                TEST_ASSERT(st && !strcmp(st, f == 0  ? "ok"
                                              : f < n ? "partial"
                                                      : "failed"),
                            "status %s with %lld of %lld failed", st,
                            (long long)f, (long long)n);
                ev_stops++;
                ev_stop_cnt += n;
                ev_stop_failed += f;
        } else if (!strcmp(name, "brook.consumer.batch.exception")) {
                check_batch_meta(ev);
                TEST_ASSERT(!strcmp(brook_event_metadata(ev, "kind"), "error"),
                            "kind");
                snprintf(exc_reason, sizeof(exc_reason), "%s",
                         brook_event_metadata(ev, "reason"));
                ev_exceptions++;
        } else {
                ev_prefix_other++;
        }
}

static void on_processed(const brook_event_t *ev, void *opaque)
{
        (void)opaque;
        if (strcmp(brook_event_name(ev), "brook.consumer.messages.processed")) {
                ev_exact_other++;
                return;
        }
        check_batch_meta(ev);
        ev_proc_cnt += meas(ev, "count");
        ev_proc_failed += meas(ev, "failed_count");
}

static void on_dead(const brook_event_t *ev, void *opaque)
{
        int64_t p = -1, dlo = -1;

        (void)opaque;
        TEST_ASSERT(
            !strcmp(brook_event_name(ev), "brook.consumer.dead_letter.sent"),
            "name %s", brook_event_name(ev));
        TEST_ASSERT(brook_event_msg(ev), "no message");
        TEST_ASSERT(!brook_event_metadata_int(ev, "partition", &p) && p == 1,
                    "partition %lld", (long long)p);
        TEST_ASSERT(!brook_event_metadata_int(ev, "offset", &dead_offset),
                    "offset");
        TEST_ASSERT(!brook_event_metadata_int(ev, "dead_letter_offset", &dlo) &&
                        dlo == 0,
                    "dead_letter_offset %lld", (long long)dlo);
        TEST_ASSERT(!strcmp(brook_event_metadata(ev, "reason"), "injected"),
                    "reason %s", brook_event_metadata(ev, "reason"));
        TEST_ASSERT(meas(ev, "failures") == 3, "failures");
        ev_dead++;
}

static void on_all(const brook_event_t *ev, void *opaque)
{
        (void)opaque;
        TEST_ASSERT(!strncmp(brook_event_name(ev), "brook.consumer.", 15),
                    "event %s", brook_event_name(ev));
        __atomic_add_fetch(&ev_all, 1, __ATOMIC_SEQ_CST);
}

int main(void)
{
        test_env_t e;
        brook_conf_t *conf;
        brook_handlers_t *h = brook_handlers_new();
        test_runner_t r;
        char dlq[200], *text;
        int64_t id_prefix, id_proc, id_dead, id_all;
        int p;

        test_env_init(&e, "t1501", PARTS, N);
        snprintf(group, sizeof(group), "%s", e.group);
        snprintf(dlq, sizeof(dlq), "%s-dead", e.topic);
        TEST_ASSERT(!brook_mock_cluster_create_topic(e.mc, dlq, 1, 1), "dlq");
        conf = test_env_conf(&e);
        test_conf_set(conf, "ack.strategy", "best_effort");
        test_conf_set(conf, "batch.size", "50");
        test_conf_set(conf, "batch.timeout.ms", "100");
        test_conf_set(conf, "retry.backoff.ms", "10");
        test_conf_set(conf, "dead.letter.max.retries", "2");
        test_conf_set(conf, "dead.letter.topic", dlq);
        brook_handlers_set_batch(h, on_batch);
        consumer = test_env_consumer(&e, conf, h, NULL);

        TEST_ASSERT(brook_consumer_event_attach(NULL, "x", on_all, NULL) ==
                        -BROOK_ERR_INVALID_ARG,
                    "NULL consumer");
        TEST_ASSERT(brook_consumer_event_attach(consumer, "x", NULL, NULL) ==
                        -BROOK_ERR_INVALID_ARG,
                    "NULL callback");
        id_prefix = brook_consumer_event_attach(
            consumer, "brook.consumer.batch.", on_prefix, NULL);
        id_proc = brook_consumer_event_attach(
            consumer, "brook.consumer.messages.processed", on_processed, NULL);
        id_dead = brook_consumer_event_attach(
            consumer, "brook.consumer.dead_letter.sent", on_dead, NULL);
        id_all = brook_consumer_event_attach(consumer, "brook.", on_all, NULL);
        TEST_ASSERT(id_prefix > 0 && id_proc > 0 && id_dead > 0 && id_all > 0,
                    "attach: %lld %lld %lld %lld", (long long)id_prefix,
                    (long long)id_proc, (long long)id_dead, (long long)id_all);
        TEST_ASSERT(brook_consumer_event_detach(consumer, 999) ==
                        BROOK_ERR_NOT_FOUND,
                    "detach of an unknown id");

        test_runner_start(&r, consumer);
        for (p = 0; p < PARTS; p++)
                TEST_ASSERT(test_wait_committed(e.bootstraps, e.group, e.topic,
                                                p, PER,
                                                test_timeout_ms(60000)) == PER,
                            "partition %d not committed", p);
        TEST_ASSERT(!test_runner_stop(&r), "run() failed");

        TEST_SAY("handler: %lld deliveries (%lld first), %lld injected "
                 "failures; events: %lld starts (%lld msgs), %lld stops "
                 "(%lld failed), %lld exceptions, processed %lld/%lld "
                 "failed, %lld dead, %lld total",
                 (long long)delivered, (long long)first_deliveries,
                 (long long)injected, (long long)ev_starts,
                 (long long)ev_start_cnt, (long long)ev_stops,
                 (long long)ev_stop_failed, (long long)ev_exceptions,
                 (long long)ev_proc_cnt, (long long)ev_proc_failed,
                 (long long)ev_dead, (long long)ev_all);
        TEST_ASSERT(first_deliveries == N, "first deliveries %lld",
                    (long long)first_deliveries);
        TEST_ASSERT(ev_start_first == N,
                    "batch.start first-attempt count "
                    "sums to %lld, input %d",
                    (long long)ev_start_first, N);
        TEST_ASSERT(ev_start_cnt == delivered && ev_stop_cnt == delivered,
                    "start/stop counts %lld/%lld, deliveries %lld",
                    (long long)ev_start_cnt, (long long)ev_stop_cnt,
                    (long long)delivered);
        TEST_ASSERT(ev_start_bytes == handler_bytes_sum, "bytes");
        TEST_ASSERT(ev_stop_ns > 0, "every batch took 0 ns");
        TEST_ASSERT(ev_starts == ev_stops, "starts %lld stops %lld",
                    (long long)ev_starts, (long long)ev_stops);
        /* 10 first-delivery failures on p0, 3 of the pill, one batch. */
        TEST_ASSERT(injected > 13 + 1, "injected %lld", (long long)injected);
        TEST_ASSERT(ev_stop_failed == injected,
                    "batch.stop failed_count sums to %lld, injected %lld",
                    (long long)ev_stop_failed, (long long)injected);
        TEST_ASSERT(ev_exceptions == 1 &&
                        strstr(exc_reason, "injected whole-batch failure"),
                    "%lld exceptions, reason \"%s\"", (long long)ev_exceptions,
                    exc_reason);
        TEST_ASSERT(ev_proc_cnt == N - 1, "messages.processed count %lld",
                    (long long)ev_proc_cnt);
        TEST_ASSERT(ev_proc_failed == injected, "processed failed %lld",
                    (long long)ev_proc_failed);
        TEST_ASSERT(ev_dead == 1 && dead_offset == 123, "dead %lld at %lld",
                    (long long)ev_dead, (long long)dead_offset);
        TEST_ASSERT(ev_prefix_other == 0 && ev_exact_other == 0,
                    "subscriptions got foreign events: %lld, %lld",
                    (long long)ev_prefix_other, (long long)ev_exact_other);
        TEST_ASSERT(ev_all == 2 * ev_starts + ev_exceptions +
                                  (ev_starts) /* messages.processed */ + 1,
                    "all-events subscription got %lld", (long long)ev_all);
        TEST_ASSERT(nested_refused, "nested attach not tried");

        text = brook_consumer_metrics_text(consumer, NULL);
        TEST_ASSERT(text, "metrics text");
        TEST_ASSERT(tel_metric(text, "brook_consumer_messages_processed_total",
                               "status=\"ok\"") == N - 1,
                    "ok messages %g",
                    tel_metric(text, "brook_consumer_messages_processed_total",
                               "status=\"ok\""));
        TEST_ASSERT(tel_metric(text, "brook_consumer_messages_processed_total",
                               "status=\"failed\"") == (double)injected,
                    "failed messages");
        TEST_ASSERT(tel_metric(text, "brook_consumer_batch_processed_total",
                               NULL) == (double)ev_stops,
                    "batches");
        TEST_ASSERT(tel_metric(text, "brook_consumer_batch_processed_total",
                               "status=\"failed\"") >= 1,
                    "failed batches");
        TEST_ASSERT(tel_metric(text, "brook_consumer_batch_size_sum", NULL) ==
                        (double)delivered,
                    "batch size sum");
        TEST_ASSERT(tel_metric(text, "brook_consumer_batch_size_count", NULL) ==
                        (double)ev_stops,
                    "batch size count");
        TEST_ASSERT(tel_metric(text, "brook_consumer_dead_letter_sent_total",
                               NULL) == 1,
                    "dead letters");
        TEST_ASSERT(
            tel_metric(text, "brook_consumer_batch_queue_depth", NULL) == 0,
            "queue depth after stop");
        TEST_ASSERT(strstr(text, group), "group label");
        brook_telemetry_free(text);

        TEST_ASSERT(!brook_consumer_event_detach(consumer, id_prefix) &&
                        !brook_consumer_event_detach(consumer, id_proc) &&
                        !brook_consumer_event_detach(consumer, id_dead) &&
                        !brook_consumer_event_detach(consumer, id_all),
                    "detach");
        TEST_ASSERT(brook_consumer_event_detach(consumer, id_all) ==
                        BROOK_ERR_NOT_FOUND,
                    "second detach");
        brook_consumer_destroy(consumer);
        brook_handlers_destroy(h);
        brook_conf_destroy(conf);
        test_env_destroy(&e);
        return 0;
}
