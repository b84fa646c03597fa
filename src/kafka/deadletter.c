/*
 * kafka/deadletter.c: dead-letter records (see kafka/deadletter.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "kafka/deadletter.h"

void brook__dl_topic(const char *tmpl, const char *src_topic, char *out,
                     size_t size)
{
        const char *p = tmpl, *q;
        size_t o = 0;

        out[0] = '\0';
        while ((q = strstr(p, "{topic}")) && o < size) {
                o += (size_t)snprintf(out + o, size - o, "%.*s%s", (int)(q - p),
                                      p, src_topic);
                p = q + 7;
        }
        if (o < size)
                snprintf(out + o, size - o, "%s", p);
}

static void add_hdr(rd_kafka_headers_t *h, const char *name, const char *fmt,
                    ...) BROOK__PRINTF(3, 4);

static void add_hdr(rd_kafka_headers_t *h, const char *name, const char *fmt,
                    ...)
{
        char buf[1024];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        rd_kafka_header_add(h, name, -1, buf, -1);
}

rd_kafka_headers_t *brook__dl_headers(const brook__dl_info_t *info)
{
        const rd_kafka_message_t *src = info->src;
        rd_kafka_headers_t *orig, *h;

        h = rd_kafka_message_headers(src, &orig) == RD_KAFKA_RESP_ERR_NO_ERROR
                ? rd_kafka_headers_copy(orig)
                : rd_kafka_headers_new(10);
        add_hdr(h, "brook.dlq.topic", "%s", rd_kafka_topic_name(src->rkt));
        add_hdr(h, "brook.dlq.partition", "%d", (int)src->partition);
        add_hdr(h, "brook.dlq.offset", "%lld", (long long)src->offset);
        add_hdr(h, "brook.dlq.timestamp", "%lld",
                (long long)rd_kafka_message_timestamp(src, NULL));
        add_hdr(h, "brook.dlq.group", "%s", info->group);
        if (info->retries >= 0)
                add_hdr(h, "brook.dlq.retries", "%d", info->retries);
        if (info->task)
                add_hdr(h, "brook.dlq.task", "%s", info->task);
        if (info->node)
                add_hdr(h, "brook.dlq.node", "%s", info->node);
        add_hdr(h, "brook.dlq.failed_at", "%lld", (long long)brook__wall_ms());
        add_hdr(h, "brook.dlq.reason", "%s",
                info->reason ? info->reason : "handler failed");
        return h;
}

brook_err_t brook__dl_send(brook__producer_t *p, const char *tmpl,
                           const brook__dl_info_t *info,
                           brook__dr_tracker_t *tracker, char *topic,
                           size_t topic_size, char *errstr, size_t errstr_size)
{
        const rd_kafka_message_t *src = info->src;
        int64_t ts = rd_kafka_message_timestamp(src, NULL);
        rd_kafka_topic_t *rkt;

        brook__dl_topic(tmpl, rd_kafka_topic_name(src->rkt), topic, topic_size);
        if (!(rkt = brook__producer_topic(p, topic))) {
                brook__errstr(errstr, errstr_size,
                              "dead-letter topic %s: cannot create a topic "
                              "handle",
                              topic);
                return BROOK_ERR_KAFKA;
        }
        return brook__producer_send(p, rkt, RD_KAFKA_PARTITION_UA, src->key,
                                    src->key_len, src->payload, src->len,
                                    brook__dl_headers(info), ts, tracker,
                                    errstr, errstr_size);
}
