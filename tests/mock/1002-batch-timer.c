/*
 * 1002: a partial batch is closed by the timer with no new traffic, and its
 * offset is committed.
 */
#include "test.h"

static int64_t got_at_ms = -1;
static size_t got_cnt;
static int assigned;

static brook_err_t on_batch(brook_batch_t *b, void *opaque)
{
        (void)opaque;
        got_cnt += brook_batch_count(b);
        __atomic_store_n(&got_at_ms, test_now_ms(), __ATOMIC_SEQ_CST);
        return BROOK_OK;
}

static void on_partitions(const char *topic, int32_t partition, int on,
                          void *opaque)
{
        (void)topic;
        (void)partition;
        (void)opaque;
        __atomic_add_fetch(&assigned, on ? 1 : -1, __ATOMIC_SEQ_CST);
}

int main(void)
{
        test_env_t e;
        brook_conf_t *conf;
        brook_handlers_t *h = brook_handlers_new();
        brook_consumer_t *c;
        test_runner_t r;
        int64_t deadline, produced_at;

        test_env_init(&e, "t1002", 1, 0);
        conf = test_env_conf(&e);
        test_conf_set(conf, "batch.size", "1000");
        test_conf_set(conf, "batch.timeout.ms", "500");
        brook_handlers_set_batch(h, on_batch);
        brook_handlers_set_partitions(h, on_partitions);
        c = test_env_consumer(&e, conf, h, NULL);
        test_runner_start(&r, c);
        TEST_WAIT_UNTIL(__atomic_load_n(&assigned, __ATOMIC_SEQ_CST) == 1,
                        30000, "the group to assign the partition");
        TEST_SAY("partition assigned, nothing to consume");
        /* Idle on purpose: four timer periods with an empty partition
         * must not deliver an empty batch. */
        test_sleep_ms(4 * 500);
        TEST_ASSERT(got_at_ms < 0, "empty batch delivered");
        /* Taken before producing: the records can reach the consumer (and
         * start its timer) before test_produce() has its delivery reports
         * back, so a later reading would shorten the measured wait. */
        produced_at = test_now_ms();
        test_produce(e.bootstraps, e.topic, 1, 5);
        deadline = produced_at + test_timeout_ms(10000);
        while (__atomic_load_n(&got_at_ms, __ATOMIC_SEQ_CST) < 0 &&
               test_now_ms() < deadline)
                test_sleep_ms(10);
        TEST_ASSERT(got_at_ms >= 0, "the timer never closed the batch");
        TEST_ASSERT(got_cnt == 5, "batch of %zu, expected 5", got_cnt);
        TEST_SAY("partial batch of 5 delivered %lld ms after produce "
                 "(batch.timeout.ms=500)",
                 (long long)(got_at_ms - produced_at));
        TEST_ASSERT(got_at_ms - produced_at >= 400,
                    "closed before the timeout: %lld ms",
                    (long long)(got_at_ms - produced_at));
        TEST_ASSERT(test_wait_committed(e.bootstraps, e.group, e.topic, 0, 5,
                                        10000) == 5,
                    "committed offset is not 5");
        TEST_ASSERT(!test_runner_stop(&r), "run() failed");
        brook_consumer_destroy(c);
        brook_handlers_destroy(h);
        brook_conf_destroy(conf);
        test_env_destroy(&e);
        return 0;
}
