/*
 * kafka/msg.c: accessors of brook_msg_t and brook_batch_t, zero-copy views over
 * librdkafka messages.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "kafka/msg.h"

const char *brook_msg_topic(const brook_msg_t *msg)
{
        return rd_kafka_topic_name(msg->rkm->rkt);
}

int32_t brook_msg_partition(const brook_msg_t *msg)
{
        return msg->rkm->partition;
}

int64_t brook_msg_offset(const brook_msg_t *msg)
{
        return msg->rkm->offset;
}

const void *brook_msg_key(const brook_msg_t *msg, size_t *lenp)
{
        if (lenp)
                *lenp = msg->rkm->key ? msg->rkm->key_len : 0;
        return msg->rkm->key;
}

const void *brook_msg_value(const brook_msg_t *msg, size_t *lenp)
{
        static const char empty[1] = "";

        if (lenp)
                *lenp = msg->rkm->payload ? msg->rkm->len : 0;
        /* librdkafka gives a NULL payload for null values; an empty value
         * may also come as NULL with len 0 on some paths, but tombstones
         * are the only NULL values Kafka has: keep NULL as NULL. */
        if (!msg->rkm->payload)
                return NULL;
        return msg->rkm->len ? msg->rkm->payload : (const void *)empty;
}

int64_t brook_msg_timestamp(const brook_msg_t *msg, brook_ts_type_t *typep)
{
        rd_kafka_timestamp_type_t t;
        int64_t ts = rd_kafka_message_timestamp(msg->rkm, &t);

        if (typep)
                *typep = t == RD_KAFKA_TIMESTAMP_CREATE_TIME
                             ? BROOK_TS_CREATE_TIME
                         : t == RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME
                             ? BROOK_TS_LOG_APPEND_TIME
                             : BROOK_TS_NONE;
        return ts;
}

size_t brook_msg_header_count(const brook_msg_t *msg)
{
        rd_kafka_headers_t *hdrs;

        if (rd_kafka_message_headers(msg->rkm, &hdrs))
                return 0;
        return rd_kafka_header_cnt(hdrs);
}

brook_err_t brook_msg_header_get(const brook_msg_t *msg, size_t idx,
                                 const char **namep, const void **valuep,
                                 size_t *sizep)
{
        rd_kafka_headers_t *hdrs;
        const char *name;
        const void *val;
        size_t size;

        if (rd_kafka_message_headers(msg->rkm, &hdrs) ||
            rd_kafka_header_get_all(hdrs, idx, &name, &val, &size))
                return BROOK_ERR_NOT_FOUND;
        if (namep)
                *namep = name;
        if (valuep)
                *valuep = val;
        if (sizep)
                *sizep = size;
        return BROOK_OK;
}

brook_err_t brook_msg_header_find(const brook_msg_t *msg, const char *name,
                                  const void **valuep, size_t *sizep)
{
        rd_kafka_headers_t *hdrs;
        const void *val;
        size_t size;

        if (rd_kafka_message_headers(msg->rkm, &hdrs) ||
            rd_kafka_header_get_last(hdrs, name, &val, &size))
                return BROOK_ERR_NOT_FOUND;
        if (valuep)
                *valuep = val;
        if (sizep)
                *sizep = size;
        return BROOK_OK;
}

int brook_msg_retry_count(const brook_msg_t *msg)
{
        return msg->fails;
}

void *brook_msg_decoded(const brook_msg_t *msg)
{
        return msg->decoded;
}

/* W3C trace context: 00-<32 hex trace id>-<16 hex parent id>-<2 hex>. */
static int traceparent_valid(const char *s, size_t n)
{
        static const size_t dash[] = {2, 35, 52};
        size_t i, d = 0;

        if (n != 55)
                return 0;
        for (i = 0; i < n; i++) {
                if (d < 3 && i == dash[d]) {
                        if (s[i] != '-')
                                return 0;
                        d++;
                        continue;
                }
                if (!isxdigit((unsigned char)s[i]) ||
                    isupper((unsigned char)s[i]))
                        return 0;
        }
        return strncmp(s, "ff", 2) != 0;
}

const char *brook_msg_traceparent(const brook_msg_t *msg)
{
        brook_msg_t *m = (brook_msg_t *)msg; /* cache, logically const */
        const void *val;
        size_t size;

        if (m->tp_parsed)
                return m->traceparent;
        m->tp_parsed = 1;
        if (brook_msg_header_find(m, "traceparent", &val, &size) || !val ||
            !traceparent_valid(val, size))
                return NULL;
        if ((m->traceparent = malloc(size + 1))) {
                memcpy(m->traceparent, val, size);
                m->traceparent[size] = '\0';
        }
        return m->traceparent;
}

void brook__msg_clear_failure(brook_msg_t *m)
{
        m->failed = 0;
        free(m->reason);
        m->reason = NULL;
}

void brook__msg_set_failure(brook_msg_t *m, const char *reason)
{
        size_t n;

        if (!reason)
                reason = "handler failed";
        m->failed = 1;
        free(m->reason);
        n = strlen(reason) + 1;
        if ((m->reason = malloc(n)))
                memcpy(m->reason, reason, n);
}

void brook__msg_release(brook_msg_t *m)
{
        free(m->reason);
        free(m->traceparent);
        m->reason = NULL;
        m->traceparent = NULL;
        m->tp_parsed = 0;
}

brook_err_t brook_msg_fail(brook_msg_t *msg, const char *reason)
{
        if (msg)
                brook__msg_set_failure(msg, reason);
        return BROOK_ERR_HANDLER;
}

const char *brook_msg_error(const brook_msg_t *msg)
{
        return msg->reason;
}

size_t brook_batch_count(const brook_batch_t *batch)
{
        return batch->cnt;
}

size_t brook_batch_bytes(const brook_batch_t *batch)
{
        return batch->bytes;
}

brook_msg_t *brook_batch_msg(const brook_batch_t *batch, size_t idx)
{
        return idx < batch->cnt ? batch->msgs[idx] : NULL;
}

const char *brook_batch_topic(const brook_batch_t *batch)
{
        return batch->topic;
}

int32_t brook_batch_partition(const brook_batch_t *batch)
{
        return batch->partition;
}

int64_t brook_batch_first_offset(const brook_batch_t *batch)
{
        return batch->cnt ? batch->msgs[0]->rkm->offset : -1;
}

int64_t brook_batch_last_offset(const brook_batch_t *batch)
{
        return batch->cnt ? batch->msgs[batch->cnt - 1]->rkm->offset : -1;
}

int brook_batch_attempt(const brook_batch_t *batch)
{
        return batch->attempt;
}

brook_err_t brook_batch_fail(brook_batch_t *batch, size_t idx,
                             const char *reason)
{
        if (!batch || idx >= batch->cnt)
                return BROOK_ERR_INVALID_ARG;
        brook__msg_set_failure(batch->msgs[idx], reason);
        return BROOK_OK;
}

brook_err_t brook_batch_fail_all(brook_batch_t *batch, const char *reason)
{
        size_t i;

        if (!batch)
                return BROOK_ERR_HANDLER;
        for (i = 0; i < batch->cnt; i++)
                if (!batch->msgs[i]->failed)
                        brook__msg_set_failure(batch->msgs[i], reason);
        return BROOK_ERR_HANDLER;
}
