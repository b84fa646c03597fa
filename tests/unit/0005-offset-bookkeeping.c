/*
 * 0005: offset bookkeeping. The committable offset of a batch is the first
 * message that is neither processed nor durably dead-lettered (or last + 1);
 * retry backoff doubles from retry.backoff.ms up to retry.backoff.max.ms.
 */
#include <string.h>

#include "consumer/consumer.h"
#include "test.h"

int main(void)
{
        rd_kafka_message_t rkm[5];
        brook_msg_t msgs[5];
        brook__unit_t u;
        brook_consumer_t c;
        int i;

        memset(&u, 0, sizeof(u));
        memset(msgs, 0, sizeof(msgs));
        for (i = 0; i < 5; i++) {
                memset(&rkm[i], 0, sizeof(rkm[i]));
                rkm[i].offset = 100 + i;
                msgs[i].rkm = &rkm[i];
        }
        u.msgs = msgs;
        u.cnt = 5;

        TEST_ASSERT(brook__ack_committable(&u) == 100, "nothing done");
        msgs[0].state = BROOK__MSG_OK;
        msgs[1].state = BROOK__MSG_OK;
        TEST_ASSERT(brook__ack_committable(&u) == 102, "two done");
        /* A dead letter not yet confirmed holds the offset. */
        msgs[2].state = BROOK__MSG_DLQ_SENT;
        msgs[3].state = BROOK__MSG_OK;
        msgs[4].state = BROOK__MSG_OK;
        TEST_ASSERT(brook__ack_committable(&u) == 102, "unconfirmed DLQ");
        msgs[2].state = BROOK__MSG_DLQ_RETRY;
        TEST_ASSERT(brook__ack_committable(&u) == 102, "failed DLQ write");
        msgs[2].state = BROOK__MSG_DEAD;
        TEST_ASSERT(brook__ack_committable(&u) == 105, "all done");
        /* A retried message in the middle holds everything after it. */
        msgs[1].state = BROOK__MSG_PENDING;
        TEST_ASSERT(brook__ack_committable(&u) == 101, "pending in the middle");

        memset(&c, 0, sizeof(c));
        c.backoff_us = 100000;
        c.backoff_max_us = 1000000;
        TEST_ASSERT(brook__backoff_us(&c, 1) == 100000, "first retry");
        TEST_ASSERT(brook__backoff_us(&c, 2) == 200000, "second retry");
        TEST_ASSERT(brook__backoff_us(&c, 4) == 800000, "fourth retry");
        TEST_ASSERT(brook__backoff_us(&c, 5) == 1000000, "capped");
        TEST_ASSERT(brook__backoff_us(&c, 60) == 1000000,
                    "capped, no overflow");
        c.backoff_us = 0;
        TEST_ASSERT(brook__backoff_us(&c, 3) == 0, "no backoff");
        return 0;
}
