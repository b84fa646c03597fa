/*
 * 1004: a failing batch is retried and not committed while it fails; when
 * it finally succeeds the offset passes it. A batch that never succeeds,
 * with no dead-letter topic (dead.letter.policy=fail), stops the consumer
 * with a clear error and the committed offset stays before it.
 */
#include <string.h>

#include "test.h"

static const char *bs, *grp, *top;
static int fail_times; /* how many attempts of the batch at 200 fail */
static int attempts;
static int64_t done_end;

static brook_err_t on_batch(brook_batch_t *b, void *opaque)
{
        (void)opaque;
        if (brook_batch_first_offset(b) == 200) {
                attempts++;
                TEST_ASSERT(brook_batch_attempt(b) == attempts - 1,
                            "attempt %d reported as %d", attempts - 1,
                            brook_batch_attempt(b));
                if (attempts <= fail_times) {
                        /* Still not committed past 200. */
                        TEST_ASSERT(test_committed(bs, grp, top, 0) <= 200,
                                    "committed past a failing batch");
                        return brook_batch_fail_all(b, "downstream is down");
                }
        }
        __atomic_store_n(&done_end, brook_batch_last_offset(b) + 1,
                         __ATOMIC_SEQ_CST);
        return BROOK_OK;
}

static brook_error_t *run_case(test_env_t *e, int fails, int64_t wait_for)
{
        brook_conf_t *conf = test_env_conf(e);
        brook_handlers_t *h = brook_handlers_new();
        brook_consumer_t *c;
        brook_error_t *err;
        test_runner_t r;
        int64_t deadline = test_now_ms() + test_timeout_ms(60000);

        fail_times = fails;
        attempts = 0;
        done_end = 0;
        test_conf_set(conf, "batch.size", "100");
        test_conf_set(conf, "batch.timeout.ms", "100");
        test_conf_set(conf, "retry.backoff.ms", "50");
        test_conf_set(conf, "dead.letter.max.retries", "3");
        brook_handlers_set_batch(h, on_batch);
        c = test_env_consumer(e, conf, h, NULL);
        test_runner_start(&r, c);
        while (!__atomic_load_n(&r.done, __ATOMIC_SEQ_CST) &&
               __atomic_load_n(&done_end, __ATOMIC_SEQ_CST) < wait_for &&
               test_now_ms() < deadline)
                test_sleep_ms(20);
        err = __atomic_load_n(&r.done, __ATOMIC_SEQ_CST) ? test_runner_join(&r)
                                                         : test_runner_stop(&r);
        brook_consumer_destroy(c);
        brook_handlers_destroy(h);
        brook_conf_destroy(conf);
        return err;
}

int main(void)
{
        test_env_t e;
        brook_error_t *err;
        int64_t committed;

        /* Fails 3 times, succeeds on the 3rd retry (max retries 3). */
        test_env_init(&e, "t1004", 1, 500);
        bs = e.bootstraps;
        grp = e.group;
        top = e.topic;
        err = run_case(&e, 3, 500);
        TEST_ASSERT(!err, "run() failed: %s", brook_error_string(err));
        TEST_ASSERT(attempts == 4, "batch at 200 ran %d times", attempts);
        committed = test_wait_committed(bs, grp, top, 0, 500, 10000);
        TEST_ASSERT(committed == 500, "committed %lld", (long long)committed);
        TEST_SAY("retried batch succeeded on attempt 4; committed 500");
        test_env_destroy(&e);

        /* Always fails; no dead-letter topic: the consumer stops. */
        test_env_init(&e, "t1004b", 1, 500);
        bs = e.bootstraps;
        grp = e.group;
        top = e.topic;
        err = run_case(&e, 1000, 500);
        TEST_ASSERT(err, "run() returned no error for an exhausted batch");
        TEST_ASSERT(brook_error_code(err) == BROOK_ERR_DEAD_LETTER, "code %s",
                    brook_err2name(brook_error_code(err)));
        TEST_ASSERT(strstr(brook_error_string(err), "dead.letter.policy"),
                    "unclear error: %s", brook_error_string(err));
        TEST_SAY("stopped with: %s", brook_error_string(err));
        brook_error_destroy(err);
        TEST_ASSERT(attempts == 4, "batch at 200 ran %d times", attempts);
        committed = test_committed(bs, grp, top, 0);
        TEST_ASSERT(committed == 200, "committed %lld, expected 200",
                    (long long)committed);
        test_env_destroy(&e);
        return 0;
}
