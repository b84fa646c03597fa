/*
 * 1001: batches never mix partitions, keep offset order, every message is
 * seen exactly once on the happy path, and the committed offsets read back
 * from the cluster equal the end offsets.
 */
#include <string.h>

#include "test.h"

#define PARTS 4
#define CNT   20000

static int64_t next_off[PARTS];
static int64_t seen;
static int max_batch;

static brook_err_t on_batch(brook_batch_t *b, void *opaque)
{
        int32_t p = brook_batch_partition(b);
        size_t i, n = brook_batch_count(b);

        (void)opaque;
        TEST_ASSERT(n > 0 && n <= 100, "batch size %zu", n);
        TEST_ASSERT(p >= 0 && p < PARTS, "partition %d", p);
        for (i = 0; i < n; i++) {
                brook_msg_t *m = brook_batch_msg(b, i);

                TEST_ASSERT(brook_msg_partition(m) == p,
                            "batch of partition %d holds a message of %d", p,
                            brook_msg_partition(m));
                TEST_ASSERT(brook_msg_offset(m) == next_off[p],
                            "partition %d: offset %lld, expected %lld", p,
                            (long long)brook_msg_offset(m),
                            (long long)next_off[p]);
                next_off[p]++;
        }
        if ((int)n > max_batch)
                max_batch = (int)n;
        __atomic_add_fetch(&seen, (int64_t)n, __ATOMIC_SEQ_CST);
        return BROOK_OK;
}

int main(void)
{
        char es[512];
        brook_mock_cluster_t *mc = brook_mock_cluster_new(1, es, sizeof(es));
        const char *topic = test_name("t1001");
        const char *group = test_name("g1001");
        brook_conf_t *conf = brook_conf_new();
        brook_handlers_t *h = brook_handlers_new();
        brook_consumer_t *c;
        test_runner_t r;
        int64_t deadline;
        int p;

        TEST_ASSERT(mc, "%s", es);
        TEST_ASSERT(!brook_mock_cluster_create_topic(mc, topic, PARTS, 1),
                    "topic");
        test_produce(brook_mock_cluster_bootstraps(mc), topic, PARTS, CNT);
        TEST_ASSERT(!brook_mock_cluster_conf_apply(mc, conf), "conf");
        test_conf_set(conf, "group.id", group);
        test_conf_set(conf, "batch.size", "100");
        test_conf_set(conf, "batch.timeout.ms", "200");
        brook_handlers_set_batch(h, on_batch);
        c = brook_consumer_new(conf, h, NULL, es, sizeof(es));
        TEST_ASSERT(c, "consumer: %s", es);
        TEST_ASSERT(!brook_consumer_subscribe(c, &topic, 1, es, sizeof(es)),
                    "%s", es);
        test_runner_start(&r, c);
        deadline = test_now_ms() + test_timeout_ms(60000);
        while (__atomic_load_n(&seen, __ATOMIC_SEQ_CST) < CNT &&
               test_now_ms() < deadline)
                test_sleep_ms(50);
        TEST_ASSERT(seen == CNT, "seen %lld of %d", (long long)seen, CNT);
        for (p = 0; p < PARTS; p++) {
                int64_t off =
                    test_wait_committed(brook_mock_cluster_bootstraps(mc),
                                        group, topic, p, CNT / PARTS, 10000);
                TEST_ASSERT(off == CNT / PARTS, "partition %d committed %lld",
                            p, (long long)off);
        }
        TEST_ASSERT(!test_runner_stop(&r), "run() returned an error");
        TEST_SAY("max batch %d, all %d seen in order, committed", max_batch,
                 CNT);
        TEST_ASSERT(max_batch == 100, "batches never filled: max %d",
                    max_batch);
        brook_consumer_destroy(c);
        brook_handlers_destroy(h);
        brook_conf_destroy(conf);
        brook_mock_cluster_destroy(mc);
        return 0;
}
