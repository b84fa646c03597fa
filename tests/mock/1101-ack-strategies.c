/*
 * 1101: the three acknowledgment strategies, message by message. In a
 * partition of 300 messages (batches of 100), offset 150 always fails and
 * offset 250 fails on its first two deliveries; dead.letter.max.retries=3.
 * For each strategy the test checks how many times every offset was
 * delivered, that the committed offset (read back from the cluster) reaches
 * 300, and the dead-letter topic's exact contents and headers (read back
 * with a separate client).
 */
#include <string.h>

#include "test.h"

#define CNT 300

static test_seen_t seen;
static int fails250;

static brook_err_t on_batch(brook_batch_t *b, void *opaque)
{
        size_t i;

        (void)opaque;
        for (i = 0; i < brook_batch_count(b); i++) {
                brook_msg_t *m = brook_batch_msg(b, i);
                int64_t o = brook_msg_offset(m);

                test_seen_add(&seen, 0, o);
                if (o == 150)
                        brook_batch_fail(b, i, "poison 150");
                else if (o == 250 && fails250++ < 2)
                        brook_batch_fail(b, i, "flaky 250");
        }
        return BROOK_OK;
}

/* Expected deliveries of offset @p o under each strategy. */
static int expected(const char *strategy, int64_t o)
{
        if (o < 100)
                return 1;
        if (!strcmp(strategy, "all_or_nothing"))
                return o < 200 ? 4 : 3; /* whole batch retried */
        if (!strcmp(strategy, "best_effort"))
                return o == 150 ? 4 : o == 250 ? 3 : 1; /* failures only */
        /* last_successful: from the first failure on, again */
        if (o < 150)
                return 1;
        if (o == 150)
                return 4;
        if (o < 200)
                return 5; /* 4 failing attempts + the resume after 150 */
        if (o < 250)
                return 1;
        return 3;
}

static void run_strategy(const char *strategy)
{
        test_env_t e;
        brook_conf_t *conf;
        brook_handlers_t *h = brook_handlers_new();
        brook_consumer_t *c;
        test_runner_t r;
        test_rec_t *recs;
        char dlq[200];
        size_t n;
        int64_t o, committed;

        test_env_init(&e, "t1101", 1, CNT);
        snprintf(dlq, sizeof(dlq), "%s.dlq", e.topic);
        TEST_ASSERT(!brook_mock_cluster_create_topic(e.mc, dlq, 1, 1), "dlq");
        test_seen_init(&seen, 1, CNT);
        fails250 = 0;
        conf = test_env_conf(&e);
        test_conf_set(conf, "ack.strategy", strategy);
        test_conf_set(conf, "batch.size", "100");
        test_conf_set(conf, "batch.timeout.ms", "3000");
        test_conf_set(conf, "retry.backoff.ms", "20");
        test_conf_set(conf, "dead.letter.max.retries", "3");
        test_conf_set(conf, "dead.letter.topic", "{topic}.dlq");
        brook_handlers_set_batch(h, on_batch);
        c = test_env_consumer(&e, conf, h, NULL);
        test_runner_start(&r, c);
        committed =
            test_wait_committed(e.bootstraps, e.group, e.topic, 0, CNT, 60000);
        TEST_ASSERT(!test_runner_stop(&r), "run() failed");
        TEST_ASSERT(committed == CNT, "%s: committed %lld", strategy,
                    (long long)committed);
        for (o = 0; o < CNT; o++)
                TEST_ASSERT(seen.hits[0][o] == expected(strategy, o),
                            "%s: offset %lld delivered %d times, expected %d",
                            strategy, (long long)o, seen.hits[0][o],
                            expected(strategy, o));
        n = test_read_topic(e.bootstraps, dlq, &recs);
        TEST_ASSERT(n == 1, "%s: %zu dead letters, expected 1", strategy, n);
        TEST_ASSERT(recs[0].key && !strcmp(recs[0].key, "k150") &&
                        recs[0].value && !strcmp(recs[0].value, "v150"),
                    "dead letter is not message 150: %s=%s", recs[0].key,
                    recs[0].value);
        TEST_ASSERT(
            !strcmp(test_rec_header(&recs[0], "brook.dlq.topic"), e.topic),
            "topic header");
        TEST_ASSERT(
            !strcmp(test_rec_header(&recs[0], "brook.dlq.partition"), "0") &&
                !strcmp(test_rec_header(&recs[0], "brook.dlq.offset"), "150") &&
                !strcmp(test_rec_header(&recs[0], "brook.dlq.retries"), "3") &&
                !strcmp(test_rec_header(&recs[0], "brook.dlq.group"),
                        e.group) &&
                !strcmp(test_rec_header(&recs[0], "brook.dlq.reason"),
                        "poison 150") &&
                test_rec_header(&recs[0], "brook.dlq.failed_at") &&
                test_rec_header(&recs[0], "brook.dlq.timestamp"),
            "%s: dead-letter headers wrong", strategy);
        TEST_SAY("%-16s committed %lld, 1 dead letter (offset 150, retries 3), "
                 "deliveries as expected",
                 strategy, (long long)committed);
        test_recs_free(recs, n);
        brook_consumer_destroy(c);
        brook_handlers_destroy(h);
        brook_conf_destroy(conf);
        test_seen_free(&seen);
        test_env_destroy(&e);
}

int main(void)
{
        run_strategy("all_or_nothing");
        run_strategy("best_effort");
        run_strategy("last_successful");
        return 0;
}
