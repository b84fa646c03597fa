/*
 * 1504: structured logs by level, read back through the log callback with
 * log.format=json (every line must parse with jansson as a JSON object
 * with ts, level, component, event, group):
 *  - INFO batch.summary lines, rate-limited by log.summary.interval.ms
 *    (200 ms): their `messages` add up to every message the handler was
 *    given, `messages_failed` to the injected failures, `dead_letters` to
 *    1, and there are no more of them than the interval allows;
 *  - WARN batch.partial_failure with failed < count;
 *  - ERROR batch.failed for the whole-batch failure (failed == count);
 *  - DEBUG message.failed once per failed delivery (log.level=debug);
 *  - ERROR dead_letter.sent for the dead-lettered message.
 */
#include <string.h>

#include <jansson.h>

#include "tel_test.h"

#define PARTS 2
#define PER   400
#define N     (PARTS * PER)

static int64_t delivered, injected;
static int64_t sum_msgs, sum_failed, sum_dead, summaries, partial_lines,
    failed_lines, debug_lines, dead_lines, json_lines;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static brook_err_t on_batch(brook_batch_t *b, void *opaque)
{
        size_t i, n = brook_batch_count(b);
        int32_t p = brook_batch_partition(b);

        (void)opaque;
        delivered += (int64_t)n;
        test_sleep_ms(10);
        if (p == 1 && brook_batch_attempt(b) == 0 &&
            brook_batch_first_offset(b) <= 100 &&
            brook_batch_last_offset(b) >= 100) {
                injected += (int64_t)n;
                return brook_batch_fail_all(b, "whole batch");
        }
        for (i = 0; i < n; i++) {
                brook_msg_t *m = brook_batch_msg(b, i);
                int64_t o = brook_msg_offset(m);

                if ((p == 0 && o % 40 == 3 && brook_msg_retry_count(m) == 0) ||
                    (p == 1 && o == 250)) {
                        brook_batch_fail(b, i, "injected");
                        injected++;
                }
        }
        return BROOK_OK;
}

static int64_t jint(json_t *o, const char *k)
{
        json_t *v = json_object_get(o, k);

        TEST_ASSERT(json_is_string(v), "field %s missing", k);
        return atoll(json_string_value(v));
}

static void on_log(brook_log_level_t level, const char *event, const char *line,
                   void *opaque)
{
        json_error_t err;
        json_t *o = json_loads(line, 0, &err);
        const char *lv;

        (void)opaque;
        TEST_ASSERT(o && json_is_object(o), "not JSON (%s): %s", err.text,
                    line);
        lv = json_string_value(json_object_get(o, "level"));
        TEST_ASSERT(
            lv && json_object_get(o, "ts") && json_object_get(o, "component") &&
                !strcmp(json_string_value(json_object_get(o, "event")), event),
            "shape: %s", line);
        pthread_mutex_lock(&lock);
        json_lines++;
        if (!strcmp(event, "batch.summary")) {
                TEST_ASSERT(level == BROOK_LOG_INFO && !strcmp(lv, "info"),
                            "summary level");
                TEST_ASSERT(json_object_get(o, "group"), "group: %s", line);
                summaries++;
                sum_msgs += jint(o, "messages");
                sum_failed += jint(o, "messages_failed");
                sum_dead += jint(o, "dead_letters");
                TEST_ASSERT(jint(o, "batches") > 0, "empty summary");
        } else if (!strcmp(event, "batch.partial_failure")) {
                TEST_ASSERT(level == BROOK_LOG_WARN, "partial level");
                TEST_ASSERT(jint(o, "failed") < jint(o, "count"), "%s", line);
                partial_lines++;
        } else if (!strcmp(event, "batch.failed")) {
                TEST_ASSERT(level == BROOK_LOG_ERROR, "failed level");
                TEST_ASSERT(jint(o, "failed") == jint(o, "count"), "%s", line);
                failed_lines++;
        } else if (!strcmp(event, "message.failed")) {
                TEST_ASSERT(level == BROOK_LOG_DEBUG && !strcmp(lv, "debug"),
                            "message.failed level");
                debug_lines++;
        } else if (!strcmp(event, "dead_letter.sent")) {
                TEST_ASSERT(level == BROOK_LOG_ERROR, "dead letter level");
                TEST_ASSERT(jint(o, "offset") == 250, "%s", line);
                dead_lines++;
        }
        pthread_mutex_unlock(&lock);
        json_decref(o);
}

int main(void)
{
        test_env_t e;
        brook_conf_t *conf;
        brook_handlers_t *h = brook_handlers_new();
        brook_consumer_t *c;
        test_runner_t r;
        char dlq[200];
        int64_t t0, elapsed;
        int p;

        test_env_init(&e, "t1504", PARTS, N);
        snprintf(dlq, sizeof(dlq), "%s-dead", e.topic);
        TEST_ASSERT(!brook_mock_cluster_create_topic(e.mc, dlq, 1, 1), "dlq");
        conf = test_env_conf(&e);
        brook_conf_set_log_cb(conf, on_log);
        test_conf_set(conf, "log.level", "debug");
        test_conf_set(conf, "log.format", "json");
        test_conf_set(conf, "log.summary.interval.ms", "200");
        test_conf_set(conf, "ack.strategy", "best_effort");
        test_conf_set(conf, "batch.size", "20");
        test_conf_set(conf, "batch.timeout.ms", "50");
        test_conf_set(conf, "retry.backoff.ms", "10");
        test_conf_set(conf, "dead.letter.max.retries", "1");
        test_conf_set(conf, "dead.letter.topic", dlq);
        brook_handlers_set_batch(h, on_batch);
        c = test_env_consumer(&e, conf, h, NULL);
        t0 = test_now_ms();
        test_runner_start(&r, c);
        for (p = 0; p < PARTS; p++)
                TEST_ASSERT(test_wait_committed(e.bootstraps, e.group, e.topic,
                                                p, PER,
                                                test_timeout_ms(60000)) == PER,
                            "partition %d not committed", p);
        TEST_ASSERT(!test_runner_stop(&r), "run() failed");
        elapsed = test_now_ms() - t0;
        TEST_SAY("%lld ms, %lld JSON lines: %lld summaries (%lld messages, "
                 "%lld failed, %lld dead), %lld partial, %lld failed "
                 "batches, %lld debug, %lld dead-letter lines; handler saw "
                 "%lld, injected %lld",
                 (long long)elapsed, (long long)json_lines,
                 (long long)summaries, (long long)sum_msgs,
                 (long long)sum_failed, (long long)sum_dead,
                 (long long)partial_lines, (long long)failed_lines,
                 (long long)debug_lines, (long long)dead_lines,
                 (long long)delivered, (long long)injected);
        TEST_ASSERT(summaries >= 2, "%lld summaries", (long long)summaries);
        TEST_ASSERT(summaries <= elapsed / 200 + 2,
                    "%lld summaries in %lld ms: not rate-limited",
                    (long long)summaries, (long long)elapsed);
        TEST_ASSERT(sum_msgs == delivered,
                    "summaries count %lld messages, "
                    "handler saw %lld",
                    (long long)sum_msgs, (long long)delivered);
        TEST_ASSERT(sum_failed == injected, "summaries: %lld failed",
                    (long long)sum_failed);
        TEST_ASSERT(sum_dead == 1 && dead_lines == 1, "dead letters");
        /* One line per attempt with failures: the 10 batches of p0 with a
         * first-delivery failure, the whole batch, the pill's two attempts.
         * WARN when some of the attempt's messages succeeded, ERROR when
         * none did (the whole batch; the pill alone in its retry; a p0
         * failure a timer left alone in its batch). */
        TEST_ASSERT(partial_lines + failed_lines == 13 && failed_lines >= 2 &&
                        partial_lines >= 1,
                    "%lld partial-failure and %lld batch.failed lines",
                    (long long)partial_lines, (long long)failed_lines);
        TEST_ASSERT(debug_lines == injected, "%lld message.failed lines",
                    (long long)debug_lines);
        brook_consumer_destroy(c);
        brook_handlers_destroy(h);
        brook_conf_destroy(conf);
        test_env_destroy(&e);
        return 0;
}
