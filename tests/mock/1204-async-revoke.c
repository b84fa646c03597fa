/*
 * 1204: a rebalance while batches run on the worker pool: the revoked
 * partitions' running batches finish before the partitions are released
 * (two members never process a partition at the same time), batches not
 * started are left to the new owner, and nothing is lost.
 *
 * The embedded cluster rejects offset commits while a rebalance is in
 * progress (Apache Kafka accepts them until the group completes the
 * rebalance), so here the new owner may process some messages again; the
 * real-broker suite asserts that a graceful rebalance duplicates nothing.
 */
#include <string.h>

#include "test.h"

#define PARTS 4
#define CNT   4000

static test_seen_t seen;
static int running, revoked_while_running;
static int busy[PARTS];

static brook_err_t on_batch(brook_batch_t *b, void *opaque)
{
        int32_t p = brook_batch_partition(b);

        (void)opaque;
        TEST_ASSERT(!__atomic_exchange_n(&busy[p], 1, __ATOMIC_SEQ_CST),
                    "partition %d processed by two members at once", p);
        __atomic_add_fetch(&running, 1, __ATOMIC_SEQ_CST);
        test_sleep_ms(200);
        test_seen_batch(&seen, b);
        __atomic_sub_fetch(&running, 1, __ATOMIC_SEQ_CST);
        __atomic_store_n(&busy[p], 0, __ATOMIC_SEQ_CST);
        return BROOK_OK;
}

/* partitions.revoked is logged before the running batches are drained. */
static void on_log(brook_log_level_t level, const char *event, const char *line,
                   void *opaque)
{
        int n;

        (void)level;
        (void)line;
        (void)opaque;
        if (getenv("BROOK_TEST_VERBOSE"))
                TEST_SAY("%s running=%d seen=%lld", line,
                         __atomic_load_n(&running, __ATOMIC_SEQ_CST),
                         (long long)test_seen_total(&seen));
        if (strcmp(event, "partitions.revoked"))
                return;
        n = __atomic_load_n(&running, __ATOMIC_SEQ_CST);
        if (n > revoked_while_running)
                revoked_while_running = n;
}

static void on_partitions(const char *topic, int32_t p, int assigned,
                          void *opaque)
{
        (void)topic;
        (void)p;
        (void)opaque;
        /* Called after the revoked partition's work was drained. */
        if (!assigned)
                TEST_ASSERT(__atomic_load_n(&running, __ATOMIC_SEQ_CST) <= 3,
                            "more batches running than slots");
}

int main(void)
{
        test_env_t e;
        brook_conf_t *conf;
        brook_handlers_t *h = brook_handlers_new();
        brook_consumer_t *c0, *c1;
        test_runner_t r0, r1;
        int p;

        test_env_init(&e, "t1204-async", PARTS, CNT);
        test_seen_init(&seen, PARTS, CNT);
        conf = test_env_conf(&e);
        brook_conf_set_log_cb(conf, on_log);
        test_conf_set(conf, "log.level", "info");
        test_conf_set(conf, "batch.async", "true");
        test_conf_set(conf, "max.in.flight.batches", "3");
        test_conf_set(conf, "batch.size", "25");
        test_conf_set(conf, "batch.timeout.ms", "50");
        brook_handlers_set_batch(h, on_batch);
        brook_handlers_set_partitions(h, on_partitions);
        c0 = test_env_consumer(&e, conf, h, NULL);
        test_runner_start(&r0, c0);
        test_seen_wait(&seen, 200, 30000);
        /* Subscribing joins the group: a rebalance while batches run. */
        c1 = test_env_consumer(&e, conf, h, NULL);
        test_runner_start(&r1, c1);
        TEST_ASSERT(test_seen_wait(&seen, CNT, 120000) == CNT,
                    "handled %lld of %d", (long long)test_seen_total(&seen),
                    CNT);
        for (p = 0; p < PARTS; p++)
                TEST_ASSERT(test_wait_committed(e.bootstraps, e.group, e.topic,
                                                p, CNT / PARTS,
                                                30000) == CNT / PARTS,
                            "partition %d not committed", p);
        TEST_ASSERT(!test_runner_stop(&r0), "run() 0 failed");
        TEST_ASSERT(!test_runner_stop(&r1), "run() 1 failed");
        TEST_SAY("batches running at the revocation: %d; "
                 "duplicates %lld",
                 revoked_while_running, (long long)seen.dups);
        TEST_ASSERT(revoked_while_running > 0,
                    "no batch was running when partitions were revoked");
        brook_consumer_destroy(c0);
        brook_consumer_destroy(c1);
        brook_handlers_destroy(h);
        brook_conf_destroy(conf);
        test_seen_free(&seen);
        test_env_destroy(&e);
        return 0;
}
