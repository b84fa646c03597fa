/*
 * 1104: a value decoder that rejects a record sends it to the dead-letter
 * topic with the decoder's reason, at once (no retries: it cannot succeed);
 * handlers never see it and see the decoded object of the others. Without a
 * dead-letter topic and with dead.letter.policy=skip, exhausted messages are
 * skipped (logged, dead-letter callback called) and the offset moves on.
 */
#include <string.h>

#include "test.h"

static int64_t handled, bad_seen, skipped;

/* Decodes "v<i>" into i; rejects values ending in '7'. */
static brook_err_t decode(const void *value, size_t len, void **out,
                          char *errstr, size_t errstr_size, void *opaque)
{
        const char *v = value;
        long *n;

        (void)opaque;
        if (!v || len < 2 || v[0] != 'v' || v[len - 1] == '7') {
                snprintf(errstr, errstr_size, "unsupported record %.*s",
                         (int)len, v ? v : "");
                return BROOK_ERR_DECODE;
        }
        n = malloc(sizeof(*n));
        *n = strtol(v + 1, NULL, 10);
        *out = n;
        return BROOK_OK;
}

static void decoded_free(void *p, void *opaque)
{
        (void)opaque;
        free(p);
}

static brook_err_t on_batch(brook_batch_t *b, void *opaque)
{
        size_t i;

        (void)opaque;
        for (i = 0; i < brook_batch_count(b); i++) {
                brook_msg_t *m = brook_batch_msg(b, i);
                long *n = brook_msg_decoded(m);

                TEST_ASSERT(n, "no decoded object at %lld",
                            (long long)brook_msg_offset(m));
                if (*n % 10 == 7)
                        bad_seen++;
                handled++;
        }
        return BROOK_OK;
}

static brook_err_t on_batch_fail3(brook_batch_t *b, void *opaque)
{
        size_t i;

        (void)opaque;
        for (i = 0; i < brook_batch_count(b); i++)
                if (brook_msg_offset(brook_batch_msg(b, i)) % 50 == 3)
                        brook_batch_fail(b, i, "always");
        return BROOK_OK;
}

static void on_skip(const brook_msg_t *m, const char *reason, void *opaque)
{
        (void)m;
        (void)opaque;
        TEST_ASSERT(!strcmp(reason, "always"), "reason %s", reason);
        skipped++;
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
        size_t n, i;

        test_env_init(&e, "t1104", 1, 200);
        snprintf(dlq, sizeof(dlq), "%s.dlq", e.topic);
        TEST_ASSERT(!brook_mock_cluster_create_topic(e.mc, dlq, 1, 1), "dlq");
        conf = test_env_conf(&e);
        test_conf_set(conf, "batch.size", "25");
        test_conf_set(conf, "batch.timeout.ms", "100");
        test_conf_set(conf, "dead.letter.topic", "{topic}.dlq");
        brook_handlers_set_batch(h, on_batch);
        brook_handlers_set_decoder(h, decode, decoded_free);
        c = test_env_consumer(&e, conf, h, NULL);
        test_runner_start(&r, c);
        TEST_ASSERT(test_wait_committed(e.bootstraps, e.group, e.topic, 0, 200,
                                        30000) == 200,
                    "not committed to the end");
        TEST_ASSERT(!test_runner_stop(&r), "run() failed");
        brook_consumer_destroy(c);
        TEST_ASSERT(bad_seen == 0 && handled == 180, "handled %lld, bad %lld",
                    (long long)handled, (long long)bad_seen);
        n = test_read_topic(e.bootstraps, dlq, &recs);
        TEST_ASSERT(n == 20, "%zu dead letters, expected 20", n);
        for (i = 0; i < n; i++) {
                TEST_ASSERT(recs[i].value[strlen(recs[i].value) - 1] == '7',
                            "dead letter %s", recs[i].value);
                TEST_ASSERT(
                    !strncmp(test_rec_header(&recs[i], "brook.dlq.reason"),
                             "decode: unsupported record", 26),
                    "reason: %s",
                    test_rec_header(&recs[i], "brook.dlq.reason"));
                TEST_ASSERT(
                    !strcmp(test_rec_header(&recs[i], "brook.dlq.retries"),
                            "0"),
                    "an undecodable record was retried");
        }
        TEST_SAY("20 undecodable records dead-lettered with the decoder's "
                 "reason, 180 handled");
        test_recs_free(recs, n);
        brook_conf_destroy(conf);
        brook_handlers_destroy(h);

        /* dead.letter.policy=skip without a dead-letter topic. */
        conf = test_env_conf(&e);
        test_conf_set(conf, "group.id", "skipper");
        test_conf_set(conf, "batch.size", "25");
        test_conf_set(conf, "batch.timeout.ms", "100");
        test_conf_set(conf, "retry.backoff.ms", "10");
        test_conf_set(conf, "dead.letter.max.retries", "1");
        test_conf_set(conf, "dead.letter.policy", "skip");
        h = brook_handlers_new();
        brook_handlers_set_batch(h, on_batch_fail3);
        brook_handlers_set_dead_letter(h, on_skip);
        c = test_env_consumer(&e, conf, h, NULL);
        test_runner_start(&r, c);
        TEST_ASSERT(test_wait_committed(e.bootstraps, "skipper", e.topic, 0,
                                        200, 30000) == 200,
                    "skip policy did not pass the failures");
        TEST_ASSERT(!test_runner_stop(&r), "run() failed");
        TEST_ASSERT(skipped == 4, "skipped %lld", (long long)skipped);
        brook_consumer_destroy(c);
        brook_handlers_destroy(h);
        brook_conf_destroy(conf);
        test_env_destroy(&e);
        return 0;
}
