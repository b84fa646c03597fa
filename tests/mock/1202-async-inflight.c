/*
 * 1202: back-pressure. With max.in.flight.batches=2 and a slow batch
 * handler, at most 2 batches run at once (and 2 do), batches of one
 * partition never overlap and stay in offset order, fetching is paused
 * while the slots are full, and brook never holds more than
 * batch.max.bytes x max.in.flight.batches bytes plus one fetch.
 */
#include <string.h>

#include "test.h"

#define PARTS 8
#define CNT   8000

static int cur, peak, paused_events, resumed_events;
static int busy[PARTS];
static int64_t next_off[PARTS];
static test_seen_t seen;
static size_t max_held;

static brook_err_t on_batch(brook_batch_t *b, void *opaque)
{
        int32_t p = brook_batch_partition(b);
        int now = __atomic_add_fetch(&cur, 1, __ATOMIC_SEQ_CST);
        int pk = __atomic_load_n(&peak, __ATOMIC_SEQ_CST);

        (void)opaque;
        while (now > pk &&
               !__atomic_compare_exchange_n(&peak, &pk, now, 0,
                                            __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
                ;
        TEST_ASSERT(!__atomic_exchange_n(&busy[p], 1, __ATOMIC_SEQ_CST),
                    "two batches of partition %d at once", p);
        TEST_ASSERT(brook_batch_first_offset(b) == next_off[p],
                    "partition %d: batch at %lld, expected %lld", p,
                    (long long)brook_batch_first_offset(b),
                    (long long)next_off[p]);
        next_off[p] = brook_batch_last_offset(b) + 1;
        test_sleep_ms(40);
        test_seen_batch(&seen, b);
        __atomic_store_n(&busy[p], 0, __ATOMIC_SEQ_CST);
        __atomic_sub_fetch(&cur, 1, __ATOMIC_SEQ_CST);
        return BROOK_OK;
}

static void on_log(brook_log_level_t level, const char *event, const char *line,
                   void *opaque)
{
        const char *hb;

        (void)level;
        (void)opaque;
        if (!strcmp(event, "fetch.paused"))
                __atomic_add_fetch(&paused_events, 1, __ATOMIC_SEQ_CST);
        else if (!strcmp(event, "fetch.resumed"))
                __atomic_add_fetch(&resumed_events, 1, __ATOMIC_SEQ_CST);
        if ((hb = strstr(line, "held_bytes="))) {
                size_t held = (size_t)strtoull(hb + 11, NULL, 10);

                if (held > max_held)
                        max_held = held;
        }
}

int main(void)
{
        test_env_t e;
        brook_conf_t *conf;
        brook_handlers_t *h = brook_handlers_new();
        brook_consumer_t *c;
        test_runner_t r;
        int p;

        test_env_init(&e, "t1202-async", PARTS, CNT);
        test_seen_init(&seen, PARTS, CNT);
        conf = test_env_conf(&e);
        brook_conf_set_log_cb(conf, on_log);
        test_conf_set(conf, "log.level", "debug");
        test_conf_set(conf, "batch.async", "true");
        test_conf_set(conf, "max.in.flight.batches", "2");
        test_conf_set(conf, "batch.size", "100");
        test_conf_set(conf, "batch.max.bytes", "4096");
        test_conf_set(conf, "batch.timeout.ms", "50");
        brook_handlers_set_batch(h, on_batch);
        c = test_env_consumer(&e, conf, h, NULL);
        test_runner_start(&r, c);
        for (p = 0; p < PARTS; p++)
                TEST_ASSERT(test_wait_committed(e.bootstraps, e.group, e.topic,
                                                p, CNT / PARTS,
                                                120000) == CNT / PARTS,
                            "partition %d not committed", p);
        TEST_ASSERT(!test_runner_stop(&r), "run() failed");
        TEST_SAY("peak concurrent batches %d, fetch paused %d times / resumed "
                 "%d, max held bytes logged %zu (budget 8192)",
                 peak, paused_events, resumed_events, max_held);
        TEST_ASSERT(peak == 2, "peak concurrent batches %d, expected 2", peak);
        TEST_ASSERT(paused_events > 0 && resumed_events > 0,
                    "fetching was never paused");
        /* The budget plus at most one fetch of 1024 (~10 byte) messages. */
        TEST_ASSERT(max_held <= 8192 + 1024 * 12, "held %zu bytes", max_held);
        TEST_ASSERT(test_seen_total(&seen) == CNT && seen.dups == 0,
                    "handled %lld, dups %lld",
                    (long long)test_seen_total(&seen), (long long)seen.dups);
        brook_consumer_destroy(c);
        brook_handlers_destroy(h);
        brook_conf_destroy(conf);
        test_seen_free(&seen);
        test_env_destroy(&e);
        return 0;
}
