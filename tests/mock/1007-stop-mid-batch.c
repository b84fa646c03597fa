/*
 * 1007: brook_consumer_stop() during a batch: the running batch finishes and
 * is committed; batches that had not started are not committed, and the
 * next consumer of the group processes them.
 */
#include "test.h"

static int in_batch, batches;
static int64_t last_end;

static brook_err_t on_batch(brook_batch_t *b, void *opaque)
{
        (void)opaque;
        __atomic_store_n(&in_batch, 1, __ATOMIC_SEQ_CST);
        test_sleep_ms(500);
        last_end = brook_batch_last_offset(b) + 1;
        batches++;
        __atomic_store_n(&in_batch, 0, __ATOMIC_SEQ_CST);
        return BROOK_OK;
}

int main(void)
{
        test_env_t e;
        brook_conf_t *conf;
        brook_handlers_t *h = brook_handlers_new();
        brook_consumer_t *c;
        test_runner_t r;
        int64_t deadline, committed;

        test_env_init(&e, "t1007", 1, 1000);
        conf = test_env_conf(&e);
        test_conf_set(conf, "batch.size", "100");
        test_conf_set(conf, "batch.timeout.ms", "100");
        brook_handlers_set_batch(h, on_batch);
        c = test_env_consumer(&e, conf, h, NULL);
        test_runner_start(&r, c);
        deadline = test_now_ms() + test_timeout_ms(30000);
        while (!__atomic_load_n(&in_batch, __ATOMIC_SEQ_CST) &&
               test_now_ms() < deadline)
                test_sleep_ms(5);
        TEST_ASSERT(__atomic_load_n(&in_batch, __ATOMIC_SEQ_CST),
                    "no batch started");
        brook_consumer_stop(c); /* while the first batch sleeps */
        TEST_ASSERT(!test_runner_join(&r), "run() failed");
        TEST_ASSERT(batches == 1, "%d batches ran after stop", batches);
        committed = test_committed(e.bootstraps, e.group, e.topic, 0);
        TEST_SAY("stopped mid-batch: %d batch finished, committed %lld",
                 batches, (long long)committed);
        TEST_ASSERT(committed == last_end && last_end == 100,
                    "committed %lld, finished up to %lld", (long long)committed,
                    (long long)last_end);
        brook_consumer_destroy(c);
        brook_handlers_destroy(h);
        brook_conf_destroy(conf);
        test_env_destroy(&e);
        return 0;
}
