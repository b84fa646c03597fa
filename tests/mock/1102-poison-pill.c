/*
 * 1102: a poison pill (a message that always fails) in partition 0 does not
 * hold up partitions 1..7: they finish while the pill is still backing off.
 * The pill goes to the dead-letter topic after exactly
 * dead.letter.max.retries retries, and partition 0 continues after it.
 */
#include <string.h>

#include "test.h"

#define PARTS 8
#define PER   1000

static test_seen_t seen;
static int64_t others_done_ms, pill_dead_ms, pill_deliveries;

static brook_err_t on_batch(brook_batch_t *b, void *opaque)
{
        size_t i;
        int p, all = 1;

        (void)opaque;
        for (i = 0; i < brook_batch_count(b); i++) {
                brook_msg_t *m = brook_batch_msg(b, i);

                if (brook_msg_partition(m) == 0 && brook_msg_offset(m) == 10) {
                        pill_deliveries++;
                        TEST_ASSERT(brook_msg_retry_count(m) ==
                                        pill_deliveries - 1,
                                    "retry count %d", brook_msg_retry_count(m));
                        brook_batch_fail(b, i, "poison");
                        continue;
                }
                test_seen_add(&seen, brook_msg_partition(m),
                              brook_msg_offset(m));
        }
        for (p = 1; p < PARTS && all; p++)
                for (i = 0; i < PER && all; i++)
                        all = seen.hits[p][i] > 0;
        if (all && !others_done_ms)
                others_done_ms = test_now_ms();
        return BROOK_OK;
}

static void on_dead(const brook_msg_t *m, const char *reason, void *opaque)
{
        (void)opaque;
        TEST_ASSERT(brook_msg_partition(m) == 0 && brook_msg_offset(m) == 10,
                    "unexpected dead letter %d:%lld", brook_msg_partition(m),
                    (long long)brook_msg_offset(m));
        TEST_ASSERT(!strcmp(reason, "poison"), "reason %s", reason);
        pill_dead_ms = test_now_ms();
}

int main(void)
{
        test_env_t e;
        brook_conf_t *conf;
        brook_handlers_t *h = brook_handlers_new();
        brook_consumer_t *c;
        test_runner_t r;
        test_rec_t *recs;
        char dlq[200];
        size_t n;
        int p;

        test_env_init(&e, "t1102", PARTS, PARTS * PER);
        snprintf(dlq, sizeof(dlq), "%s-dead", e.topic);
        TEST_ASSERT(!brook_mock_cluster_create_topic(e.mc, dlq, 1, 1), "dlq");
        test_seen_init(&seen, PARTS, PER);
        conf = test_env_conf(&e);
        test_conf_set(conf, "ack.strategy", "best_effort");
        test_conf_set(conf, "batch.size", "50");
        test_conf_set(conf, "batch.timeout.ms", "50");
        test_conf_set(conf, "retry.backoff.ms", "400");
        test_conf_set(conf, "retry.backoff.max.ms", "2000");
        test_conf_set(conf, "dead.letter.max.retries", "3");
        test_conf_set(conf, "dead.letter.topic", dlq);
        brook_handlers_set_batch(h, on_batch);
        brook_handlers_set_dead_letter(h, on_dead);
        c = test_env_consumer(&e, conf, h, NULL);
        test_runner_start(&r, c);
        for (p = 0; p < PARTS; p++)
                TEST_ASSERT(test_wait_committed(e.bootstraps, e.group, e.topic,
                                                p, PER, 60000) == PER,
                            "partition %d not committed to the end", p);
        TEST_ASSERT(!test_runner_stop(&r), "run() failed");
        TEST_ASSERT(test_seen_total(&seen) == PARTS * PER - 1, "processed %lld",
                    (long long)test_seen_total(&seen));
        TEST_ASSERT(pill_deliveries == 4, "pill delivered %lld times",
                    (long long)pill_deliveries);
        TEST_ASSERT(others_done_ms && pill_dead_ms, "timestamps");
        TEST_SAY("partitions 1..7 done %lld ms before the pill was "
                 "dead-lettered (backoff 400+800+1600 ms)",
                 (long long)(pill_dead_ms - others_done_ms));
        TEST_ASSERT(others_done_ms < pill_dead_ms,
                    "other partitions waited for the pill");
        n = test_read_topic(e.bootstraps, dlq, &recs);
        TEST_ASSERT(
            n == 1 && !strcmp(recs[0].value, "v80") &&
                !strcmp(test_rec_header(&recs[0], "brook.dlq.retries"), "3"),
            "dead-letter topic: %zu records", n);
        test_recs_free(recs, n);
        brook_consumer_destroy(c);
        brook_handlers_destroy(h);
        brook_conf_destroy(conf);
        test_seen_free(&seen);
        test_env_destroy(&e);
        return 0;
}
