/*
 * 1103: when the dead-letter topic cannot be written, the message's
 * partition waits (paused) and the write is retried; no offset passes the
 * message meanwhile. Once writes succeed, everything completes and the
 * dead letter is in the topic exactly once.
 */
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "test.h"

static int dlq_failures;

static brook_err_t on_batch(brook_batch_t *b, void *opaque)
{
        size_t i;

        (void)opaque;
        for (i = 0; i < brook_batch_count(b); i++)
                if (brook_msg_offset(brook_batch_msg(b, i)) == 30)
                        brook_batch_fail(b, i, "bad record");
        return BROOK_OK;
}

static void on_log(brook_log_level_t level, const char *event, const char *line,
                   void *opaque)
{
        (void)opaque;
        (void)line;
        if (!strcmp(event, "dead_letter.failed"))
                __atomic_add_fetch(&dlq_failures, 1, __ATOMIC_SEQ_CST);
        else if (level <= BROOK_LOG_WARN && strcmp(event, "librdkafka"))
                fprintf(stderr, "%s\n", line);
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
        int64_t deadline, committed, max_seen = -1;
        size_t n;

        test_env_init(&e, "t1103", 1, 100);
        snprintf(dlq, sizeof(dlq), "%s.dlq", e.topic);
        TEST_ASSERT(!brook_mock_cluster_create_topic(e.mc, dlq, 1, 1), "dlq");
        conf = test_env_conf(&e);
        brook_conf_set_log_cb(conf, on_log);
        test_conf_set(conf, "batch.size", "10");
        test_conf_set(conf, "batch.timeout.ms", "1000");
        test_conf_set(conf, "retry.backoff.ms", "100");
        test_conf_set(conf, "retry.backoff.max.ms", "800");
        test_conf_set(conf, "dead.letter.max.retries", "0");
        test_conf_set(conf, "dead.letter.topic", dlq);
        brook_handlers_set_batch(h, on_batch);
        c = test_env_consumer(&e, conf, h, NULL);
        /* The next 4 produce requests (the dead letter's) fail for good. */
        brook_mock_cluster_push_request_errors(
            e.mc, 0, 4, RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
        test_runner_start(&r, c);
        deadline = test_now_ms() + test_timeout_ms(60000);
        while (__atomic_load_n(&dlq_failures, __ATOMIC_SEQ_CST) < 4 &&
               test_now_ms() < deadline) {
                committed = test_committed(e.bootstraps, e.group, e.topic, 0);
                if (committed > max_seen)
                        max_seen = committed;
                test_sleep_ms(50);
        }
        TEST_ASSERT(dlq_failures >= 4, "%d dead-letter failures seen",
                    dlq_failures);
        TEST_ASSERT(max_seen <= 30,
                    "offset passed the message while its "
                    "dead letter failed: %lld",
                    (long long)max_seen);
        committed =
            test_wait_committed(e.bootstraps, e.group, e.topic, 0, 100, 30000);
        TEST_ASSERT(!test_runner_stop(&r), "run() failed");
        TEST_SAY("%d failed dead-letter writes, offset held at %lld, then "
                 "committed %lld",
                 dlq_failures, (long long)max_seen, (long long)committed);
        TEST_ASSERT(committed == 100, "committed %lld", (long long)committed);
        n = test_read_topic(e.bootstraps, dlq, &recs);
        TEST_ASSERT(n == 1 && !strcmp(recs[0].value, "v30"), "%zu dead letters",
                    n);
        test_recs_free(recs, n);
        brook_consumer_destroy(c);
        brook_handlers_destroy(h);
        brook_conf_destroy(conf);
        test_env_destroy(&e);
        return 0;
}
