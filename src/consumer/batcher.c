/*
 * consumer/batcher.c: per-partition accumulation (see consumer/batcher.h).
 */
#include <stdlib.h>
#include <string.h>

#include "consumer/batcher.h"
#include "kafka/msg.h"

int brook__acc_push(brook__acc_t *acc, rd_kafka_message_t *rkm, int64_t now)
{
        if (acc->head + acc->cnt == acc->cap) {
                if (acc->head > 0) {
                        memmove(acc->msgs, acc->msgs + acc->head,
                                acc->cnt * sizeof(*acc->msgs));
                        acc->head = 0;
                }
                if (acc->cnt == acc->cap) {
                        size_t cap = acc->cap ? acc->cap * 2 : 64;
                        rd_kafka_message_t **m =
                            realloc(acc->msgs, cap * sizeof(*m));

                        if (!m)
                                return -1;
                        acc->msgs = m;
                        acc->cap = cap;
                }
        }
        if (!acc->cnt)
                acc->first_us = now;
        acc->msgs[acc->head + acc->cnt++] = rkm;
        acc->bytes += brook__rkm_bytes(rkm);
        return 0;
}

int brook__acc_ready(const brook__acc_t *acc, const brook__limits_t *lim,
                     int64_t now)
{
        if (!acc->cnt)
                return 0;
        return acc->cnt >= lim->size || acc->bytes >= lim->max_bytes ||
               now >= acc->first_us + lim->timeout_us;
}

int64_t brook__acc_deadline(const brook__acc_t *acc, const brook__limits_t *lim)
{
        if (!acc->cnt)
                return INT64_MAX;
        return acc->first_us + lim->timeout_us;
}

size_t brook__acc_take(brook__acc_t *acc, const brook__limits_t *lim,
                       rd_kafka_message_t **out, size_t max, size_t *bytesp)
{
        size_t n = 0, bytes = 0;
        size_t limit = BROOK__MIN(lim->size, max);

        while (n < acc->cnt && n < limit) {
                size_t b = brook__rkm_bytes(acc->msgs[acc->head + n]);

                if (n > 0 && bytes + b > lim->max_bytes)
                        break;
                out[n] = acc->msgs[acc->head + n];
                bytes += b;
                n++;
        }
        acc->head += n;
        acc->cnt -= n;
        acc->bytes -= bytes;
        /* The rest keeps first_us: its oldest message has waited since then
         * at least, so a late batch closes at once. */
        if (!acc->cnt)
                acc->head = 0;
        *bytesp = bytes;
        return n;
}

size_t brook__acc_drain(brook__acc_t *acc, rd_kafka_message_t ***msgsp)
{
        size_t n = acc->cnt;

        *msgsp = acc->msgs + acc->head;
        acc->head = 0;
        acc->cnt = 0;
        acc->bytes = 0;
        return n;
}

void brook__acc_free(brook__acc_t *acc)
{
        free(acc->msgs);
        memset(acc, 0, sizeof(*acc));
}
