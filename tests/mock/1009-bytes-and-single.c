/*
 * 1009: batches close by batch.max.bytes (key + value bytes); a consumer
 * with only a message handler runs one message at a time, in offset order,
 * and commits as it goes; with batch.size set explicitly, the default batch
 * handler calls the message handler for each message of a batch.
 */
#include <string.h>

#include "test.h"

static int64_t total, next_off[2];
static size_t max_bytes_seen, max_cnt_seen;

static brook_err_t on_batch(brook_batch_t *b, void *opaque)
{
        (void)opaque;
        if (brook_batch_bytes(b) > max_bytes_seen)
                max_bytes_seen = brook_batch_bytes(b);
        if (brook_batch_count(b) > max_cnt_seen)
                max_cnt_seen = brook_batch_count(b);
        __atomic_add_fetch(&total, (int64_t)brook_batch_count(b),
                           __ATOMIC_SEQ_CST);
        return BROOK_OK;
}

static brook_err_t on_message(brook_msg_t *m, void *opaque)
{
        int32_t p = brook_msg_partition(m);

        (void)opaque;
        TEST_ASSERT(brook_msg_offset(m) == next_off[p], "order: %lld != %lld",
                    (long long)brook_msg_offset(m), (long long)next_off[p]);
        next_off[p]++;
        __atomic_add_fetch(&total, 1, __ATOMIC_SEQ_CST);
        return BROOK_OK;
}

static void run(test_env_t *e, brook_conf_t *conf, brook_handlers_t *h,
                int64_t want)
{
        brook_consumer_t *c = test_env_consumer(e, conf, h, NULL);
        test_runner_t r;
        int64_t deadline = test_now_ms() + test_timeout_ms(60000);

        total = 0;
        memset(next_off, 0, sizeof(next_off));
        test_runner_start(&r, c);
        while (__atomic_load_n(&total, __ATOMIC_SEQ_CST) < want &&
               test_now_ms() < deadline)
                test_sleep_ms(10);
        TEST_ASSERT(total == want, "consumed %lld of %lld", (long long)total,
                    (long long)want);
        TEST_ASSERT(!test_runner_stop(&r), "run() failed");
        brook_consumer_destroy(c);
}

int main(void)
{
        test_env_t e;
        brook_conf_t *conf;
        brook_handlers_t *h;
        char group[128];

        /* Messages are key "k<i>" + value "v<i>": 9..10 bytes each here. */
        test_env_init(&e, "t1009", 2, 2000);

        conf = test_env_conf(&e);
        test_conf_set(conf, "batch.size", "1000");
        test_conf_set(conf, "batch.max.bytes", "100");
        test_conf_set(conf, "batch.timeout.ms", "100");
        h = brook_handlers_new();
        brook_handlers_set_batch(h, on_batch);
        run(&e, conf, h, 2000);
        TEST_SAY("batch.max.bytes=100: largest batch %zu bytes, %zu messages",
                 max_bytes_seen, max_cnt_seen);
        TEST_ASSERT(max_bytes_seen <= 100 && max_bytes_seen > 80,
                    "largest batch %zu bytes", max_bytes_seen);
        brook_handlers_destroy(h);
        brook_conf_destroy(conf);

        /* Single-message mode: a new group reads everything again, and
         * commits as it goes. */
        conf = test_env_conf(&e);
        snprintf(group, sizeof(group), "%s", test_name("single"));
        test_conf_set(conf, "group.id", group);
        h = brook_handlers_new();
        brook_handlers_set_message(h, on_message);
        run(&e, conf, h, 2000);
        TEST_ASSERT(next_off[0] == 1000 && next_off[1] == 1000, "single mode");
        TEST_ASSERT(test_wait_committed(e.bootstraps, group, e.topic, 1, 1000,
                                        10000) == 1000,
                    "single mode did not commit");
        brook_handlers_destroy(h);
        brook_conf_destroy(conf);

        /* Message handler with batches (batch.size set). */
        conf = test_env_conf(&e);
        test_conf_set(conf, "group.id", test_name("msgbatch"));
        test_conf_set(conf, "batch.size", "64");
        h = brook_handlers_new();
        brook_handlers_set_message(h, on_message);
        run(&e, conf, h, 2000);
        TEST_ASSERT(next_off[0] == 1000 && next_off[1] == 1000,
                    "default batch handler");
        brook_handlers_destroy(h);
        brook_conf_destroy(conf);
        test_env_destroy(&e);
        return 0;
}
