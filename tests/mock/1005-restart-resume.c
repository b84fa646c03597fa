/*
 * 1005: after stop and restart the consumer resumes exactly at the
 * committed offsets: no message is skipped and none is processed twice.
 */
#include "test.h"

#define PARTS 4
#define CNT   4000

static test_seen_t seen;
static int64_t first_seen[PARTS];
static int64_t stop_after;
static brook_consumer_t *cur;

static brook_err_t on_batch(brook_batch_t *b, void *opaque)
{
        int32_t p = brook_batch_partition(b);

        (void)opaque;
        if (first_seen[p] < 0)
                first_seen[p] = brook_batch_first_offset(b);
        test_seen_batch(&seen, b);
        if (stop_after && test_seen_total(&seen) >= stop_after)
                brook_consumer_stop(cur);
        return BROOK_OK;
}

static void run_until(test_env_t *e, int64_t stop_at, int64_t wait_total)
{
        brook_conf_t *conf = test_env_conf(e);
        brook_handlers_t *h = brook_handlers_new();
        test_runner_t r;
        int p;

        for (p = 0; p < PARTS; p++)
                first_seen[p] = -1;
        stop_after = stop_at;
        test_conf_set(conf, "batch.size", "50");
        test_conf_set(conf, "batch.timeout.ms", "100");
        brook_handlers_set_batch(h, on_batch);
        cur = test_env_consumer(e, conf, h, NULL);
        test_runner_start(&r, cur);
        if (stop_at) {
                TEST_ASSERT(!test_runner_join(&r), "run() failed");
        } else {
                test_seen_wait(&seen, wait_total, 60000);
                TEST_ASSERT(!test_runner_stop(&r), "run() failed");
        }
        brook_consumer_destroy(cur);
        brook_handlers_destroy(h);
        brook_conf_destroy(conf);
}

int main(void)
{
        test_env_t e;
        int64_t committed[PARTS], sum = 0;
        int p;

        test_env_init(&e, "t1005", PARTS, CNT);
        test_seen_init(&seen, PARTS, CNT);
        run_until(&e, 1500, 0);
        for (p = 0; p < PARTS; p++) {
                committed[p] =
                    test_committed(e.bootstraps, e.group, e.topic, p);
                sum += committed[p] < 0 ? 0 : committed[p];
        }
        TEST_SAY("first run processed %lld, committed %lld",
                 (long long)test_seen_total(&seen), (long long)sum);
        TEST_ASSERT(sum == test_seen_total(&seen),
                    "committed %lld != processed %lld after a clean stop",
                    (long long)sum, (long long)test_seen_total(&seen));
        run_until(&e, 0, CNT);
        for (p = 0; p < PARTS; p++)
                if (committed[p] < CNT / PARTS)
                        TEST_ASSERT(first_seen[p] ==
                                        (committed[p] < 0 ? 0 : committed[p]),
                                    "partition %d resumed at %lld, committed "
                                    "%lld",
                                    p, (long long)first_seen[p],
                                    (long long)committed[p]);
        TEST_ASSERT(test_seen_total(&seen) == CNT, "seen %lld of %d",
                    (long long)test_seen_total(&seen), CNT);
        TEST_ASSERT(seen.dups == 0, "%lld duplicates", (long long)seen.dups);
        for (p = 0; p < PARTS; p++)
                TEST_ASSERT(test_wait_committed(e.bootstraps, e.group, e.topic,
                                                p, CNT / PARTS,
                                                10000) == CNT / PARTS,
                            "partition %d not committed to the end", p);
        test_seen_free(&seen);
        test_env_destroy(&e);
        return 0;
}
