/*
 * 1203: the async default batch handler reports per-message results in
 * offset order with batch.ordered=true, and as they finish with
 * batch.ordered=false (handlers of earlier offsets are made slower, so the
 * two orders differ). Failures reported by message handlers feed the
 * acknowledgment strategy as in sync mode (a failed message is retried).
 */
#include "test.h"

#define CNT 400

static int64_t last_in_batch = -1, inversions, results, failed_results;
static int fail_once = 1;

static brook_err_t on_message(brook_msg_t *m, void *opaque)
{
        int64_t o = brook_msg_offset(m);

        (void)opaque;
        /* Earlier offsets of each group of 20 take longer. */
        test_sleep_ms(1 + (19 - o % 20) / 4);
        if (o == 77 && __atomic_exchange_n(&fail_once, 0, __ATOMIC_SEQ_CST))
                return brook_msg_fail(m, "transient");
        return BROOK_OK;
}

static void on_result(const brook_msg_t *m, brook_err_t err, void *opaque)
{
        int64_t o = brook_msg_offset(m);

        (void)opaque;
        results++;
        if (err)
                failed_results++;
        if (o % 20 != 0 && o < last_in_batch)
                inversions++;
        last_in_batch = o % 20 == 19 ? -1 : o;
}

static void run(int ordered)
{
        test_env_t e;
        brook_conf_t *conf;
        brook_handlers_t *h = brook_handlers_new();
        brook_consumer_t *c;
        test_runner_t r;

        last_in_batch = -1;
        inversions = results = failed_results = 0;
        fail_once = 1;
        test_env_init(&e, "t1203-async", 1, CNT);
        conf = test_env_conf(&e);
        test_conf_set(conf, "batch.async", "true");
        test_conf_set(conf, "batch.ordered", ordered ? "true" : "false");
        test_conf_set(conf, "batch.max.concurrency", "20");
        test_conf_set(conf, "batch.size", "20");
        test_conf_set(conf, "batch.timeout.ms", "2000");
        test_conf_set(conf, "ack.strategy", "best_effort");
        test_conf_set(conf, "retry.backoff.ms", "10");
        brook_handlers_set_message(h, on_message);
        brook_handlers_set_result(h, on_result);
        c = test_env_consumer(&e, conf, h, NULL);
        test_runner_start(&r, c);
        TEST_ASSERT(test_wait_committed(e.bootstraps, e.group, e.topic, 0, CNT,
                                        60000) == CNT,
                    "not committed");
        TEST_ASSERT(!test_runner_stop(&r), "run() failed");
        TEST_SAY("batch.ordered=%s: %lld results (%lld failed), %lld out of "
                 "offset order",
                 ordered ? "true" : "false", (long long)results,
                 (long long)failed_results, (long long)inversions);
        /* 400 first deliveries + the retry of offset 77. */
        TEST_ASSERT(results == CNT + 1 && failed_results == 1, "results %lld",
                    (long long)results);
        if (ordered)
                TEST_ASSERT(inversions == 0, "%lld results out of order",
                            (long long)inversions);
        else
                TEST_ASSERT(inversions > 0, "unordered results came in offset "
                                            "order");
        brook_consumer_destroy(c);
        brook_handlers_destroy(h);
        brook_conf_destroy(conf);
        test_env_destroy(&e);
}

int main(void)
{
        run(1);
        run(0);
        return 0;
}
