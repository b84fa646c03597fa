/*
 * 0501: the telemetry layer without a cluster.
 *  - lag from librdkafka statistics JSON: only assigned partitions with a
 *    known lag; the table is replaced whole; invalid JSON is rejected;
 *  - the exposition escapes label values (quotes, backslashes, newlines)
 *    and `promtool check metrics` accepts it; histogram buckets are
 *    cumulative with le as an inclusive upper bound;
 *  - DogStatsD lines: exact text, counters as deltas (nothing sent for an
 *    unchanged counter), bucket means with sample rates, sanitised tags;
 *  - the INFO summary is rate-limited and skipped when idle;
 *  - generic events (what the streams runtime will use) and accessors;
 *  - configuration errors name the property: bad metrics.listen, an
 *    address in use, bad metrics.statsd.address.
 */
#include <string.h>

#include "telemetry/metrics.h"
#include "tel_test.h"
#include "telemetry/telemetry.h"

static const char stats_json[] =
    "{\"name\":\"rdkafka#consumer-1\",\"type\":\"consumer\",\"topics\":{"
    "\"orders\":{\"topic\":\"orders\",\"partitions\":{"
    "\"0\":{\"partition\":0,\"desired\":true,\"consumer_lag\":5},"
    "\"1\":{\"partition\":1,\"desired\":false,\"consumer_lag\":3},"
    "\"2\":{\"partition\":2,\"desired\":true,\"consumer_lag\":-1},"
    "\"3\":{\"partition\":3,\"desired\":true,\"consumer_lag\":0},"
    "\"-1\":{\"partition\":-1,\"desired\":false,\"consumer_lag\":-1}}},"
    "\"we\\\"ird\\\\t\":{\"partitions\":{"
    "\"7\":{\"partition\":7,\"desired\":true,\"consumer_lag\":42}}}}}";
/* The same topic seen by a second consumer that owns partition 1. */
static const char stats_json2[] =
    "{\"topics\":{\"orders\":{\"partitions\":{"
    "\"1\":{\"partition\":1,\"desired\":true,\"consumer_lag\":9}}}}}";

static int log_lines, summary_lines;
static char last_line[2048];

static void on_log(brook_log_level_t level, const char *event, const char *line,
                   void *opaque)
{
        (void)level;
        (void)opaque;
        log_lines++;
        if (!strcmp(event, "batch.summary")) {
                summary_lines++;
                snprintf(last_line, sizeof(last_line), "%s", line);
        }
}

static int ev_calls;

static void on_ev(const brook_event_t *ev, void *opaque)
{
        int64_t v;
        const char *val;

        (void)opaque;
        ev_calls++;
        TEST_ASSERT(!strcmp(brook_event_name(ev), "brook.streams.task.created"),
                    "name %s", brook_event_name(ev));
        TEST_ASSERT(!brook_event_measurement(ev, "partitions", &v) && v == 4,
                    "measurement");
        TEST_ASSERT(
            brook_event_measurement_count(ev) == 1 &&
                !strcmp(brook_event_measurement_at(ev, 0, &v), "partitions") &&
                !brook_event_measurement_at(ev, 1, &v),
            "measurement_at");
        TEST_ASSERT(!strcmp(brook_event_metadata(ev, "group"), "app-1") &&
                        !strcmp(brook_event_metadata(ev, "task"), "0_3"),
                    "metadata");
        TEST_ASSERT(brook_event_metadata_count(ev) == 2 &&
                        !strcmp(brook_event_metadata_at(ev, 1, &val), "task") &&
                        !strcmp(val, "0_3") &&
                        !brook_event_metadata_at(ev, 2, &val),
                    "metadata_at");
        TEST_ASSERT(brook_event_metadata_int(ev, "task", &v) ==
                        BROOK_ERR_NOT_FOUND,
                    "text metadata is not a number");
        TEST_ASSERT(!brook_event_batch(ev) && !brook_event_msg(ev), "refs");
}

static brook_err_t on_batch(brook_batch_t *b, void *opaque)
{
        (void)b;
        (void)opaque;
        return BROOK_OK;
}

static void expect_new_fails(const char *name, const char *value,
                             const char *needle)
{
        brook_conf_t *conf = brook_conf_new();
        brook_handlers_t *h = brook_handlers_new();
        char es[512] = "";
        brook_consumer_t *c;

        test_conf_set(conf, "bootstrap.servers", "127.0.0.1:1");
        test_conf_set(conf, "group.id", "g0501");
        brook_handlers_set_batch(h, on_batch);
        /* Refused when set (malformed values), or at _new (values that
         * only fail when used, e.g. a host that does not resolve). */
        if (brook_conf_set(conf, name, value, es, sizeof(es)) == BROOK_OK) {
                c = brook_consumer_new(conf, h, NULL, es, sizeof(es));
                TEST_ASSERT(!c, "%s=%s accepted", name, value);
        }
        TEST_ASSERT(strstr(es, needle), "error \"%s\" lacks \"%s\"", es,
                    needle);
        brook_conf_destroy(conf);
        brook_handlers_destroy(h);
}

static void test_lag_and_render(void)
{
        brook__metrics_t *m = brook__metrics_new("consumer", "g\"1\\x\ny", 0);
        char *text, out[4096];
        size_t len, n;
        brook__lag_t *l;

        TEST_ASSERT(m, "metrics");
        TEST_ASSERT(brook__metrics_stats(m, 0, "{not json", 9) == -1,
                    "invalid JSON accepted");
        TEST_ASSERT(!brook__metrics_stats(m, 0, stats_json, strlen(stats_json)),
                    "stats");
        l = brook__metrics_lags(m, &n);
        TEST_ASSERT(n == 3, "%zu lag entries", n);
        TEST_ASSERT(!strcmp(l[0].topic, "orders") && l[0].partition == 0 &&
                        l[0].lag == 5 && l[1].partition == 3 && l[1].lag == 0 &&
                        !strcmp(l[2].topic, "we\"ird\\t") && l[2].lag == 42,
                    "lag table");
        brook__lags_free(l, n);

        brook__metrics_batch(m, "orders", 10, 0, 1000);    /* le 0.001 */
        brook__metrics_batch(m, "orders", 10, 3, 1001);    /* le 0.0025 */
        brook__metrics_batch(m, "orders", 1, 1, 70000000); /* +Inf */
        brook__metrics_dead_letter(m, "orders", 1);
        brook__metrics_inflight(m, 2);
        text = brook__metrics_render(m, &len);
        TEST_ASSERT(text && len == strlen(text), "render");
        TEST_ASSERT(strstr(text, "group=\"g\\\"1\\\\x\\ny\""),
                    "group label not escaped:\n%s", text);
        TEST_ASSERT(
            strstr(text, "topic=\"we\\\"ird\\\\t\",partition=\"7\"} 42"),
            "lag of the odd topic:\n%s", text);
        TEST_ASSERT(tel_metric(text,
                               "brook_consumer_batch_processing_duration_"
                               "seconds_bucket",
                               "le=\"0.001\"") == 1 &&
                        tel_metric(text,
                                   "brook_consumer_batch_processing_duration_"
                                   "seconds_bucket",
                                   "le=\"0.0025\"") == 2 &&
                        tel_metric(text,
                                   "brook_consumer_batch_processing_duration_"
                                   "seconds_bucket",
                                   "le=\"60\"") == 2 &&
                        tel_metric(text,
                                   "brook_consumer_batch_processing_duration_"
                                   "seconds_bucket",
                                   "le=\"+Inf\"") == 3,
                    "duration buckets:\n%s", text);
        TEST_ASSERT(tel_metric(text,
                               "brook_consumer_batch_processing_duration_"
                               "seconds_sum",
                               NULL) == 70.002001,
                    "duration sum");
        TEST_ASSERT(
            tel_metric(text, "brook_consumer_batch_processed_total",
                       "status=\"partial\"") == 1 &&
                tel_metric(text, "brook_consumer_batch_processed_total",
                           "status=\"failed\"") == 1 &&
                tel_metric(text, "brook_consumer_messages_processed_total",
                           "status=\"ok\"") == 17 &&
                tel_metric(text, "brook_consumer_batch_queue_depth", NULL) == 2,
            "counters:\n%s", text);
        TEST_ASSERT(tel_promtool(text, out, sizeof(out)) == 0,
                    "promtool: %s\n%s", out, text);
        free(text);
        /* A second source (another stream thread's consumer) adds its
         * partitions; each source replaces only its own. */
        TEST_ASSERT(
            !brook__metrics_stats(m, 1, stats_json2, strlen(stats_json2)),
            "stats of source 1");
        l = brook__metrics_lags(m, &n);
        TEST_ASSERT(n == 4 && !strcmp(l[0].topic, "orders") &&
                        l[0].partition == 0 && l[1].partition == 1 &&
                        l[1].lag == 9 && l[2].partition == 3 &&
                        !strcmp(l[3].topic, "we\"ird\\t"),
                    "merged lag table (%zu entries)", n);
        brook__lags_free(l, n);
        /* Revoked partitions disappear with the next statistics. */
        TEST_ASSERT(!brook__metrics_stats(m, 0, "{\"topics\":{}}", 13),
                    "empty");
        l = brook__metrics_lags(m, &n);
        TEST_ASSERT(n == 1 && l[0].partition == 1 && l[0].lag == 9,
                    "source 0 not replaced alone (%zu entries)", n);
        brook__lags_free(l, n);
        brook__metrics_lags_drop(m, 1);
        l = brook__metrics_lags(m, &n);
        TEST_ASSERT(n == 0 && !l, "lag table not replaced");
        brook__metrics_destroy(m);
}

static int count_of(const char *s, const char *needle)
{
        int n = 0;

        while ((s = strstr(s, needle))) {
                n++;
                s++;
        }
        return n;
}

static void test_statsd(void)
{
        brook__metrics_t *m = brook__metrics_new("consumer", "g1", 1);
        char es[256], addr[64], *buf = NULL;
        size_t len = 0;
        int port, fd = tel_udp_listen(&port);
        brook__statsd_t *s;

        snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
        s = brook__statsd_new(addr, "env:unit,team:a|b", es, sizeof(es));
        TEST_ASSERT(s, "%s", es);
        brook__metrics_batch(m, "a,b|c", 12, 0, 2000);
        brook__metrics_batch(m, "a,b|c", 18, 0, 4000);
        brook__metrics_batch(m, "a,b|c", 100, 1, 100000);
        brook__statsd_flush(s, m);
        TEST_ASSERT(tel_udp_drain(fd, 500, &buf, &len) >= 1, "no datagram");
        TEST_SAY("first flush:\n%s", buf);
        TEST_ASSERT(strstr(buf, "brook.consumer.batch.processed.count:2|c|"
                                "#group:g1,topic:a_b_c,status:ok,env:unit,"
                                "team:a_b\n"),
                    "ok batches");
        TEST_ASSERT(strstr(buf, "brook.consumer.batch.processed.count:1|c|"
                                "#group:g1,topic:a_b_c,status:partial,"),
                    "partial batches");
        TEST_ASSERT(count_of(buf, "brook.consumer.batch.processed.count:") == 2,
                    "a zero counter was sent (status:failed)");
        TEST_ASSERT(strstr(buf, "brook.consumer.messages.processed.count:1|c|"
                                "#group:g1,topic:a_b_c,status:failed,"),
                    "failed messages");
        TEST_ASSERT(strstr(buf, "brook.consumer.messages.processed.count:129"
                                "|c|#group:g1,topic:a_b_c,status:ok,"),
                    "ok messages");
        /* 12 and 18 share the le=25 bucket: mean 15, rate 1/2. */
        TEST_ASSERT(strstr(buf, "brook.consumer.batch.size:15|h|@0.5|#group:"
                                "g1,topic:a_b_c,env:unit"),
                    "size bucket mean");
        TEST_ASSERT(strstr(buf, "brook.consumer.batch.size:100|h|#group:g1,"),
                    "single observation");
        TEST_ASSERT(strstr(buf, "brook.consumer.batch.processing.duration:2|ms"
                                "|#group:g1") &&
                        strstr(buf, "brook.consumer.batch.processing.duration:"
                                    "4|ms|#") &&
                        strstr(buf, "brook.consumer.batch.processing.duration:"
                                    "100|ms|#"),
                    "durations in ms");
        TEST_ASSERT(strstr(buf, "brook.consumer.batch.queue.depth:0|g|#group:"
                                "g1,env:unit"),
                    "gauge");
        free(buf);
        buf = NULL;
        len = 0;
        brook__metrics_batch(m, "a,b|c", 5, 0, 10);
        brook__statsd_flush(s, m);
        TEST_ASSERT(tel_udp_drain(fd, 500, &buf, &len) >= 1, "no datagram");
        TEST_SAY("second flush:\n%s", buf);
        TEST_ASSERT(strstr(buf, "brook.consumer.batch.processed.count:1|c|") &&
                        strstr(buf, "messages.processed.count:5|c|") &&
                        !strstr(buf, "status:partial"),
                    "deltas");
        free(buf);
        brook__statsd_destroy(s);
        TEST_ASSERT(!brook__statsd_new("nohost", "", es, sizeof(es)) &&
                        strstr(es, "metrics.statsd.address"),
                    "bad address: %s", es);
        close(fd);
        brook__metrics_destroy(m);
}

static void test_tel(void)
{
        brook_conf_t *conf = brook_conf_new();
        brook__settings_t st;
        brook__logger_t lg;
        brook__tel_t *tel;
        char es[256], addr[64];
        int64_t id, now = brook__now_us();
        const char *mk[] = {"partitions"};
        const int64_t mv[] = {4};
        const char *dk[] = {"task"}, *dv[] = {"0_3"};

        brook_conf_set_log_cb(conf, on_log);
        test_conf_set(conf, "log.summary.interval.ms", "1000");
        TEST_ASSERT(!brook__settings_load(&st, conf, BROOK__COMP_STREAMS, es,
                                          sizeof(es)),
                    "%s", es);
        brook__logger_init(&lg, &st, "streams");
        tel = brook__tel_new(&st, "streams", "app-1", &lg, 0, es, sizeof(es));
        TEST_ASSERT(tel, "%s", es);
        TEST_ASSERT(brook__tel_active(tel) == 0, "active without callbacks");
        TEST_ASSERT(brook_telemetry_metrics_address(tel, addr, sizeof(addr)) ==
                        BROOK_ERR_NOT_FOUND,
                    "address without a listener");
        id = brook_telemetry_event_attach(tel, "brook.streams.task.", on_ev,
                                          NULL);
        TEST_ASSERT(id > 0 && brook__tel_active(tel) == BROOK__TEL_EVENTS,
                    "attach");
        brook__tel_emit(tel, "brook.streams.task.created", mk, mv, 1, dk, dv,
                        1);
        brook__tel_emit(tel, "brook.streams.taskx", mk, mv, 1, dk, dv, 1);
        TEST_ASSERT(ev_calls == 1, "%d calls", ev_calls);
        TEST_ASSERT(!brook_telemetry_event_detach(tel, id) &&
                        brook__tel_active(tel) == 0,
                    "detach");

        /* Summaries: none while idle, one per interval at most. */
        brook__tel_tick(tel, now + 2000000);
        TEST_ASSERT(summary_lines == 0, "summary while idle");
        brook__metrics_batch(tel->metrics, "t", 7, 2, 3000);
        brook__tel_tick(tel, now + 2100000);
        TEST_ASSERT(summary_lines == 0, "summary before the interval");
        brook__tel_tick(tel, now + 3100000);
        TEST_ASSERT(summary_lines == 1 && strstr(last_line, "batches=1 ") &&
                        strstr(last_line, "messages=7 ") &&
                        strstr(last_line, "messages_failed=2 ") &&
                        strstr(last_line, "batches_partial=1 "),
                    "summary: %s", last_line);
        brook__tel_tick(tel, now + 3200000);
        brook__metrics_batch(tel->metrics, "t", 1, 0, 3000);
        brook__tel_tick(tel, now + 3300000);
        TEST_ASSERT(summary_lines == 1, "summaries not rate-limited");
        brook__tel_flush(tel);
        TEST_ASSERT(summary_lines == 2 && strstr(last_line, "messages=1 "),
                    "final summary: %s", last_line);
        brook__tel_destroy(tel);
        brook__tel_destroy(NULL);
        brook_conf_destroy(conf);
}

static void test_listen_errors(void)
{
        brook_conf_t *conf = brook_conf_new();
        brook__settings_t st;
        brook__logger_t lg;
        brook__tel_t *a, *b;
        char es[256], addr[64], small[4];

        test_conf_set(conf, "metrics.listen", "127.0.0.1:0");
        brook__settings_load(&st, conf, BROOK__COMP_CONSUMER, NULL, 0);
        brook__logger_init(&lg, &st, "consumer");
        a = brook__tel_new(&st, "consumer", "g", &lg, 0, es, sizeof(es));
        TEST_ASSERT(a, "%s", es);
        TEST_ASSERT(!brook_telemetry_metrics_address(a, addr, sizeof(addr)),
                    "address");
        TEST_ASSERT(brook_telemetry_metrics_address(a, small, sizeof(small)) ==
                        BROOK_ERR_INVALID_ARG,
                    "small buffer");
        test_conf_set(conf, "metrics.listen", addr);
        brook__settings_load(&st, conf, BROOK__COMP_CONSUMER, NULL, 0);
        b = brook__tel_new(&st, "consumer", "g", &lg, 0, es, sizeof(es));
        TEST_ASSERT(!b && strstr(es, "metrics.listen") &&
                        strstr(es, "cannot listen"),
                    "second listener on %s: %s", addr, es);
        brook__tel_destroy(a);
        brook_conf_destroy(conf);
        expect_new_fails("metrics.listen", "nonsense", "metrics.listen");
        expect_new_fails("metrics.listen", "no.such.host.invalid:80",
                         "metrics.listen");
        expect_new_fails("metrics.statsd.address", "127.0.0.1",
                         "metrics.statsd.address");
}

int main(void)
{
        test_lag_and_render();
        test_statsd();
        test_tel();
        test_listen_errors();
        TEST_ASSERT(!brook_consumer_telemetry(NULL) &&
                        !brook_consumer_metrics_text(NULL, NULL) &&
                        brook_telemetry_event_detach(NULL, 1) ==
                            BROOK_ERR_INVALID_ARG &&
                        brook_telemetry_set_span_hooks(
                            NULL, NULL, NULL, NULL) == BROOK_ERR_INVALID_ARG,
                    "NULL handles");
        brook_telemetry_free(NULL);
        TEST_SAY("ok (%d log lines)", log_lines);
        return 0;
}
