/*
 * 0002: batch accumulation closes by count, by bytes and by age, takes
 * prefixes in arrival order, and never splits below one message.
 */
#include <string.h>

#include "consumer/batcher.h"
#include "test.h"

static rd_kafka_message_t msgs[1000];

static rd_kafka_message_t *mk(int i, size_t len)
{
        memset(&msgs[i], 0, sizeof(msgs[i]));
        msgs[i].offset = i;
        msgs[i].len = len;
        msgs[i].key_len = 0;
        return &msgs[i];
}

int main(void)
{
        brook__acc_t acc;
        brook__limits_t lim = {
            .size = 10, .max_bytes = 1000, .timeout_us = 50000};
        rd_kafka_message_t *out[100];
        size_t n, bytes, i;

        /* Count: closes at batch.size, takes exactly batch.size. */
        memset(&acc, 0, sizeof(acc));
        for (i = 0; i < 9; i++) {
                TEST_ASSERT(!brook__acc_push(&acc, mk((int)i, 1), 1000),
                            "push");
                TEST_ASSERT(!brook__acc_ready(&acc, &lim, 1000), "ready at %zu",
                            i + 1);
        }
        brook__acc_push(&acc, mk(9, 1), 1000);
        brook__acc_push(&acc, mk(10, 1), 1000);
        TEST_ASSERT(brook__acc_ready(&acc, &lim, 1000), "not ready at 11");
        n = brook__acc_take(&acc, &lim, out, 100, &bytes);
        TEST_ASSERT(n == 10 && bytes == 10, "took %zu (%zu bytes)", n, bytes);
        for (i = 0; i < n; i++)
                TEST_ASSERT(out[i]->offset == (int64_t)i, "order");
        TEST_ASSERT(acc.cnt == 1 && acc.bytes == 1, "rest %zu", acc.cnt);

        /* Age: the rest closes by the timer, without new messages. */
        TEST_ASSERT(!brook__acc_ready(&acc, &lim, 1000 + 49999), "early");
        TEST_ASSERT(brook__acc_deadline(&acc, &lim) == 1000 + 50000,
                    "deadline");
        TEST_ASSERT(brook__acc_ready(&acc, &lim, 1000 + 50000), "timer");
        n = brook__acc_take(&acc, &lim, out, 100, &bytes);
        TEST_ASSERT(n == 1 && out[0]->offset == 10, "partial batch");
        TEST_ASSERT(acc.cnt == 0 &&
                        brook__acc_deadline(&acc, &lim) == INT64_MAX,
                    "empty");

        /* Bytes: 400 + 400 fit, the third would pass 1000. */
        brook__acc_push(&acc, mk(20, 400), 2000);
        brook__acc_push(&acc, mk(21, 400), 2000);
        TEST_ASSERT(!brook__acc_ready(&acc, &lim, 2000), "800 bytes ready");
        brook__acc_push(&acc, mk(22, 400), 2000);
        TEST_ASSERT(brook__acc_ready(&acc, &lim, 2000), "1200 bytes not ready");
        n = brook__acc_take(&acc, &lim, out, 100, &bytes);
        TEST_ASSERT(n == 2 && bytes == 800, "bytes batch %zu/%zu", n, bytes);
        n = brook__acc_take(&acc, &lim, out, 100, &bytes);
        TEST_ASSERT(n == 1 && out[0]->offset == 22, "rest");

        /* A message larger than batch.max.bytes is a batch of its own. */
        brook__acc_push(&acc, mk(30, 5000), 3000);
        brook__acc_push(&acc, mk(31, 10), 3000);
        TEST_ASSERT(brook__acc_ready(&acc, &lim, 3000), "big not ready");
        n = brook__acc_take(&acc, &lim, out, 100, &bytes);
        TEST_ASSERT(n == 1 && bytes == 5000, "big alone: %zu", n);

        /* Key bytes count too. */
        n = brook__acc_take(&acc, &lim, out, 100, &bytes);
        mk(40, 600)->key_len = 500;
        brook__acc_push(&acc, &msgs[40], 4000);
        TEST_ASSERT(brook__acc_ready(&acc, &lim, 4000), "key bytes ignored");

        /* Growth past the initial capacity keeps order. */
        n = brook__acc_take(&acc, &lim, out, 100, &bytes);
        lim.size = 1000;
        lim.max_bytes = 1 << 30;
        for (i = 0; i < 1000; i++)
                brook__acc_push(&acc, mk((int)i, 1), 5000);
        n = brook__acc_take(&acc, &lim, out, 100, &bytes);
        TEST_ASSERT(n == 100, "max honoured: %zu", n);
        n = brook__acc_take(&acc, &lim, out, 100, &bytes);
        TEST_ASSERT(out[0]->offset == 100 && out[99]->offset == 199, "order");
        brook__acc_free(&acc);
        return 0;
}
