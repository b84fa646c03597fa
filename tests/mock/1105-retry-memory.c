/*
 * 1105: a failing message's retry count survives a revocation of its
 * partition: when the partition comes back (here: a rebalance caused by a
 * second member subscribing to another topic), the message is not retried
 * from zero. It is delivered exactly dead.letter.max.retries + 1 times in
 * all, then dead-lettered, and its partition continues.
 */
#include <string.h>

#include "test.h"

static int pill_deliveries, revoked;

static brook_err_t on_batch(brook_batch_t *b, void *opaque)
{
        size_t i;

        (void)opaque;
        for (i = 0; i < brook_batch_count(b); i++)
                if (brook_msg_offset(brook_batch_msg(b, i)) == 5) {
                        __atomic_add_fetch(&pill_deliveries, 1,
                                           __ATOMIC_SEQ_CST);
                        brook_batch_fail(b, i, "poison");
                }
        return BROOK_OK;
}

static brook_err_t on_other(brook_batch_t *b, void *opaque)
{
        (void)b;
        (void)opaque;
        return BROOK_OK;
}

static void on_partitions(const char *topic, int32_t p, int assigned,
                          void *opaque)
{
        (void)topic;
        (void)p;
        (void)opaque;
        if (!assigned)
                __atomic_add_fetch(&revoked, 1, __ATOMIC_SEQ_CST);
}

int main(void)
{
        test_env_t e;
        brook_conf_t *conf;
        brook_handlers_t *h = brook_handlers_new(), *h2 = brook_handlers_new();
        brook_consumer_t *c0, *c1;
        test_runner_t r0, r1;
        test_rec_t *recs;
        char dlq[200], other[200], es[512];
        const char *ot = other;
        int64_t deadline;
        size_t n;

        test_env_init(&e, "t1105", 1, 20);
        snprintf(dlq, sizeof(dlq), "%s.dlq", e.topic);
        snprintf(other, sizeof(other), "%s-other", e.topic);
        TEST_ASSERT(!brook_mock_cluster_create_topic(e.mc, dlq, 1, 1), "dlq");
        TEST_ASSERT(!brook_mock_cluster_create_topic(e.mc, other, 1, 1), "t");
        conf = test_env_conf(&e);
        test_conf_set(conf, "batch.size", "100");
        test_conf_set(conf, "batch.timeout.ms", "200");
        test_conf_set(conf, "retry.backoff.ms", "1500");
        test_conf_set(conf, "retry.backoff.max.ms", "6000");
        test_conf_set(conf, "dead.letter.max.retries", "3");
        test_conf_set(conf, "dead.letter.topic", dlq);
        brook_handlers_set_batch(h, on_batch);
        brook_handlers_set_partitions(h, on_partitions);
        c0 = test_env_consumer(&e, conf, h, NULL);
        test_runner_start(&r0, c0);
        deadline = test_now_ms() + test_timeout_ms(30000);
        while (!__atomic_load_n(&pill_deliveries, __ATOMIC_SEQ_CST) &&
               test_now_ms() < deadline)
                test_sleep_ms(10);
        TEST_ASSERT(__atomic_load_n(&pill_deliveries, __ATOMIC_SEQ_CST) == 1,
                    "pill not delivered");
        /* A second member on another topic: c0's partition is revoked and
         * assigned back to it (eager rebalance). */
        brook_handlers_set_batch(h2, on_other);
        c1 = brook_consumer_new(conf, h2, NULL, es, sizeof(es));
        TEST_ASSERT(c1, "%s", es);
        TEST_ASSERT(!brook_consumer_subscribe(c1, &ot, 1, es, sizeof(es)), "%s",
                    es);
        test_runner_start(&r1, c1);
        TEST_ASSERT(test_wait_committed(e.bootstraps, e.group, e.topic, 0, 20,
                                        60000) == 20,
                    "partition did not pass the pill");
        TEST_ASSERT(!test_runner_stop(&r1), "run() 1");
        TEST_ASSERT(!test_runner_stop(&r0), "run() 0");
        TEST_SAY("revocations %d, pill delivered %d times", revoked,
                 pill_deliveries);
        TEST_ASSERT(revoked >= 2, "the partition was never revoked mid-way");
        TEST_ASSERT(pill_deliveries == 4,
                    "pill delivered %d times, expected 4 (1 + 3 retries)",
                    pill_deliveries);
        n = test_read_topic(e.bootstraps, dlq, &recs);
        TEST_ASSERT(
            n == 1 &&
                !strcmp(test_rec_header(&recs[0], "brook.dlq.retries"), "3"),
            "%zu dead letters", n);
        test_recs_free(recs, n);
        brook_consumer_destroy(c0);
        brook_consumer_destroy(c1);
        brook_handlers_destroy(h);
        brook_handlers_destroy(h2);
        brook_conf_destroy(conf);
        test_env_destroy(&e);
        return 0;
}
