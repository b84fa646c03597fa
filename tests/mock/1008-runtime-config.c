/*
 * 1008: batch settings change while the consumer runs, from another
 * thread, at the next batch boundary; invalid changes are rejected with
 * the same messages as the configuration.
 */
#include <string.h>

#include "test.h"

static int64_t total;
static size_t max_after;
static int changed;

static brook_err_t on_batch(brook_batch_t *b, void *opaque)
{
        (void)opaque;
        if (__atomic_load_n(&changed, __ATOMIC_SEQ_CST) == 2 &&
            brook_batch_count(b) > max_after)
                max_after = brook_batch_count(b);
        __atomic_add_fetch(&total, (int64_t)brook_batch_count(b),
                           __ATOMIC_SEQ_CST);
        test_sleep_ms(1);
        return BROOK_OK;
}

int main(void)
{
        test_env_t e;
        brook_conf_t *conf;
        brook_handlers_t *h = brook_handlers_new();
        brook_consumer_t *c;
        test_runner_t r;
        char es[512];
        int64_t deadline, mark;

        test_env_init(&e, "t1008", 1, 20000);
        conf = test_env_conf(&e);
        test_conf_set(conf, "batch.size", "500");
        test_conf_set(conf, "batch.timeout.ms", "100");
        brook_handlers_set_batch(h, on_batch);
        c = test_env_consumer(&e, conf, h, NULL);

        TEST_ASSERT(brook_consumer_update_batch_config(c, "batch.size", "0", es,
                                                       sizeof(es)) ==
                        BROOK_ERR_CONF_INVALID,
                    "batch.size=0 accepted");
        TEST_ASSERT(strstr(es, "batch.size") && strstr(es, "allowed"), "%s",
                    es);
        TEST_ASSERT(brook_consumer_update_batch_config(
                        c, "ack.strategy", "best_effort", es, sizeof(es)) ==
                        BROOK_ERR_CONF_INVALID,
                    "a non-runtime property changed");
        TEST_ASSERT(strstr(es, "run time"), "%s", es);
        TEST_ASSERT(brook_consumer_update_batch_config(c, "nope", "1", es,
                                                       sizeof(es)) ==
                        BROOK_ERR_CONF_UNKNOWN,
                    "unknown property");

        test_runner_start(&r, c);
        deadline = test_now_ms() + test_timeout_ms(60000);
        while (__atomic_load_n(&total, __ATOMIC_SEQ_CST) < 2000 &&
               test_now_ms() < deadline)
                test_sleep_ms(1);
        __atomic_store_n(&changed, 1, __ATOMIC_SEQ_CST);
        TEST_ASSERT(!brook_consumer_update_batch_config(c, "batch.size", "7",
                                                        es, sizeof(es)),
                    "%s", es);
        /* Batches already closed may keep the old size; give it one. */
        mark = __atomic_load_n(&total, __ATOMIC_SEQ_CST);
        while (__atomic_load_n(&total, __ATOMIC_SEQ_CST) < mark + 1500 &&
               test_now_ms() < deadline)
                test_sleep_ms(1);
        __atomic_store_n(&changed, 2, __ATOMIC_SEQ_CST);
        while (__atomic_load_n(&total, __ATOMIC_SEQ_CST) < 20000 &&
               test_now_ms() < deadline)
                test_sleep_ms(10);
        TEST_ASSERT(total == 20000, "consumed %lld", (long long)total);
        TEST_ASSERT(!test_runner_stop(&r), "run() failed");
        TEST_SAY("largest batch after the change: %zu", max_after);
        TEST_ASSERT(max_after > 0 && max_after <= 7,
                    "batch of %zu after "
                    "batch.size=7",
                    max_after);
        brook_consumer_destroy(c);
        brook_handlers_destroy(h);
        brook_conf_destroy(conf);
        test_env_destroy(&e);
        return 0;
}
