/*
 * group_split.c: the group-split scenario shared by tests 1006 (eager
 * rebalance) and 1010 (cooperative-sticky). Two consumers in one group
 * split the partitions and together see every message. The second joins
 * while the first is consuming; a partition is never processed by both
 * members at once, and nothing is lost.
 *
 * Duplicates: the embedded cluster rejects offset commits while the group
 * rebalances (Apache Kafka accepts them until the rebalance completes), so
 * the new owner may process again what the first member finished during
 * the rebalance. The real-broker suite asserts the zero-duplicate handover.
 */
#include "test.h"

#define PARTS 6
#define CNT   30000

static test_seen_t seen;
static int64_t per_consumer[2];
static int busy[PARTS];
static int handler_ms;

static brook_err_t on_batch(brook_batch_t *b, void *opaque)
{
        int id = (int)(intptr_t)opaque;
        int32_t p = brook_batch_partition(b);

        TEST_ASSERT(!__atomic_exchange_n(&busy[p], 1, __ATOMIC_SEQ_CST),
                    "partition %d processed by two members at once", p);
        test_seen_batch(&seen, b);
        __atomic_add_fetch(&per_consumer[id], (int64_t)brook_batch_count(b),
                           __ATOMIC_SEQ_CST);
        test_sleep_ms(handler_ms); /* slow enough for a join mid-way */
        __atomic_store_n(&busy[p], 0, __ATOMIC_SEQ_CST);
        return BROOK_OK;
}

int test_group_split(const char *name, const char *strategy, int sleep_ms)
{
        test_env_t e;
        brook_conf_t *conf;
        brook_handlers_t *h = brook_handlers_new();
        brook_consumer_t *c0, *c1;
        test_runner_t r0, r1;
        int p;

        handler_ms = sleep_ms;
        test_env_init(&e, name, PARTS, CNT);
        test_seen_init(&seen, PARTS, CNT);
        conf = test_env_conf(&e);
        if (strategy)
                test_conf_set(conf, "kafka.partition.assignment.strategy",
                              strategy);
        test_conf_set(conf, "batch.size", "100");
        test_conf_set(conf, "batch.timeout.ms", "100");
        brook_handlers_set_batch(h, on_batch);
        c0 = test_env_consumer(&e, conf, h, (void *)(intptr_t)0);
        test_runner_start(&r0, c0);
        test_seen_wait(&seen, 5000, 30000);
        TEST_ASSERT(test_seen_total(&seen) < CNT, "finished before the join");
        /* Subscribing joins the group. */
        c1 = test_env_consumer(&e, conf, h, (void *)(intptr_t)1);
        test_runner_start(&r1, c1);
        TEST_ASSERT(test_seen_wait(&seen, CNT, 120000) == CNT,
                    "seen %lld of %d", (long long)test_seen_total(&seen), CNT);
        /* Checked while both members run: a member's last commit may
         * meet the rebalance that the other's departure starts, which the
         * embedded cluster rejects (see above). */
        for (p = 0; p < PARTS; p++)
                TEST_ASSERT(test_wait_committed(e.bootstraps, e.group, e.topic,
                                                p, CNT / PARTS,
                                                30000) == CNT / PARTS,
                            "partition %d not committed to the end", p);
        TEST_ASSERT(!test_runner_stop(&r0), "run() 0 failed");
        TEST_ASSERT(!test_runner_stop(&r1), "run() 1 failed");
        TEST_SAY("consumer 0: %lld, consumer 1: %lld, duplicates %lld",
                 (long long)per_consumer[0], (long long)per_consumer[1],
                 (long long)seen.dups);
        TEST_ASSERT(per_consumer[1] > 0, "the second consumer got nothing");
        brook_consumer_destroy(c0);
        brook_consumer_destroy(c1);
        brook_handlers_destroy(h);
        brook_conf_destroy(conf);
        test_seen_free(&seen);
        test_env_destroy(&e);
        return 0;
}
