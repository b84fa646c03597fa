/*
 * 1201: batch.async with a message handler: the messages of a batch run on
 * the worker pool, never more than batch.max.concurrency at once (measured
 * by the handler), the bound is actually reached, every message is handled
 * once, and the offsets are committed to the end.
 */
#include "test.h"

#define PARTS 4
#define CNT   2000

static int cur, peak;
static test_seen_t seen;

static brook_err_t on_message(brook_msg_t *m, void *opaque)
{
        int now = __atomic_add_fetch(&cur, 1, __ATOMIC_SEQ_CST);
        int p = __atomic_load_n(&peak, __ATOMIC_SEQ_CST);

        (void)opaque;
        while (now > p &&
               !__atomic_compare_exchange_n(&peak, &p, now, 0, __ATOMIC_SEQ_CST,
                                            __ATOMIC_SEQ_CST))
                ;
        test_sleep_ms(2);
        test_seen_add(&seen, brook_msg_partition(m), brook_msg_offset(m));
        __atomic_sub_fetch(&cur, 1, __ATOMIC_SEQ_CST);
        return BROOK_OK;
}

int main(void)
{
        test_env_t e;
        brook_conf_t *conf;
        brook_handlers_t *h = brook_handlers_new();
        brook_consumer_t *c;
        test_runner_t r;
        int p;

        test_env_init(&e, "t1201-async", PARTS, CNT);
        test_seen_init(&seen, PARTS, CNT);
        conf = test_env_conf(&e);
        test_conf_set(conf, "batch.async", "true");
        test_conf_set(conf, "batch.max.concurrency", "6");
        test_conf_set(conf, "max.in.flight.batches", "3");
        test_conf_set(conf, "batch.size", "50");
        test_conf_set(conf, "batch.timeout.ms", "100");
        brook_handlers_set_message(h, on_message);
        c = test_env_consumer(&e, conf, h, NULL);
        test_runner_start(&r, c);
        for (p = 0; p < PARTS; p++)
                TEST_ASSERT(test_wait_committed(e.bootstraps, e.group, e.topic,
                                                p, CNT / PARTS,
                                                60000) == CNT / PARTS,
                            "partition %d not committed", p);
        TEST_ASSERT(!test_runner_stop(&r), "run() failed");
        TEST_SAY("peak concurrent handler calls %d (batch.max.concurrency=6), "
                 "%lld handled, %lld duplicates",
                 peak, (long long)test_seen_total(&seen), (long long)seen.dups);
        TEST_ASSERT(peak <= 6, "%d concurrent calls > 6", peak);
        TEST_ASSERT(peak == 6, "concurrency never reached 6 (peak %d)", peak);
        TEST_ASSERT(test_seen_total(&seen) == CNT && seen.dups == 0,
                    "handled %lld, dups %lld",
                    (long long)test_seen_total(&seen), (long long)seen.dups);
        brook_consumer_destroy(c);
        brook_handlers_destroy(h);
        brook_conf_destroy(conf);
        test_seen_free(&seen);
        test_env_destroy(&e);
        return 0;
}
