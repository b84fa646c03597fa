/*
 * 1003: committed offsets follow processing exactly. Before each batch runs,
 * the group's committed offset (read by a separate client) equals the
 * previous batch's last offset + 1 and never passes an unprocessed message.
 */
#include "test.h"

static const char *bs, *grp, *top;
static int64_t batches, prev_end = 0;

static brook_err_t on_batch(brook_batch_t *b, void *opaque)
{
        int64_t first = brook_batch_first_offset(b);
        int64_t committed;

        (void)opaque;
        TEST_ASSERT(first == prev_end, "batch starts at %lld, expected %lld",
                    (long long)first, (long long)prev_end);
        /* The previous batch's commit is asynchronous: wait for it, and
         * check it never goes beyond this batch's first offset. */
        committed = test_wait_committed(bs, grp, top, 0,
                                        first == 0 ? -1001 : first, 10000);
        TEST_ASSERT(committed == (first == 0 ? -1001 : first),
                    "before batch at %lld: committed %lld", (long long)first,
                    (long long)committed);
        __atomic_store_n(&prev_end, brook_batch_last_offset(b) + 1,
                         __ATOMIC_SEQ_CST);
        batches++;
        return BROOK_OK;
}

int main(void)
{
        test_env_t e;
        brook_conf_t *conf;
        brook_handlers_t *h = brook_handlers_new();
        brook_consumer_t *c;
        test_runner_t r;
        int64_t deadline;

        test_env_init(&e, "t1003", 1, 1000);
        bs = e.bootstraps;
        grp = e.group;
        top = e.topic;
        conf = test_env_conf(&e);
        test_conf_set(conf, "batch.size", "100");
        /* Long enough that only batch.size closes batches, even on a
         * loaded machine: 10 full batches. */
        test_conf_set(conf, "batch.timeout.ms", "10000");
        test_conf_set(conf, "commit.interval.ms", "0");
        brook_handlers_set_batch(h, on_batch);
        c = test_env_consumer(&e, conf, h, NULL);
        test_runner_start(&r, c);
        deadline = test_now_ms() + test_timeout_ms(60000);
        while (__atomic_load_n(&prev_end, __ATOMIC_SEQ_CST) < 1000 &&
               test_now_ms() < deadline)
                test_sleep_ms(20);
        TEST_ASSERT(prev_end == 1000, "processed up to %lld",
                    (long long)prev_end);
        TEST_ASSERT(test_wait_committed(bs, grp, top, 0, 1000, 10000) == 1000,
                    "final commit");
        TEST_ASSERT(!test_runner_stop(&r), "run() failed");
        TEST_SAY("%lld batches, each preceded by exactly the right commit",
                 (long long)batches);
        TEST_ASSERT(batches == 10, "%lld batches", (long long)batches);
        brook_consumer_destroy(c);
        brook_handlers_destroy(h);
        brook_conf_destroy(conf);
        test_env_destroy(&e);
        return 0;
}
