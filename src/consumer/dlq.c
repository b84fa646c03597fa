/*
 * consumer/dlq.c: the dead-letter path. A message that keeps failing is
 * produced to the dead-letter topic with its key, value and headers, plus
 * headers that say where it came from and why it failed. Its offset may pass
 * only after the delivery report confirmed the write (acks=all, idempotent
 * producer); a failed write is retried after a backoff while the partition
 * stays paused. Nothing is skipped.
 *
 * @locality the consumer's run() thread (delivery reports are served by
 *           brook__dlq_poll() on that thread).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consumer/consumer.h"

struct brook__dlq_s {
        brook_consumer_t *c;
        rd_kafka_t *rk;
        char *tmpl; /* topic template, may contain {topic} */
        int outstanding;
        int closing; /* destroying: reports refer to freed units */
};

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *rkm, void *opaque)
{
        brook__dlq_t *d = opaque;
        brook_consumer_t *c = d->c;
        brook_msg_t *m = rkm->_private;
        brook__unit_t *u;
        char rq[512];

        (void)rk;
        if (!m)
                return;
        d->outstanding--;
        if (d->closing)
                return;
        u = m->owner;
        u->dlq_pending--;
        if (u->orphan) {
                /* Partition revoked while waiting: the new owner processes
                 * the message again. Free the unit once nothing refers to
                 * it. */
                brook__unit_release_orphans(c);
                return;
        }
        if (rkm->err) {
                m->state = BROOK__MSG_DLQ_RETRY;
                u->retry_at_us =
                    brook__now_us() + brook__backoff_us(c, ++u->dlq_retries);
                brook__log(
                    &c->log, BROOK_LOG_ERROR, "dead_letter.failed",
                    "topic=%s partition=%d offset=%lld "
                    "dead_letter_topic=%s error=%s next=retry",
                    u->part->topic, (int)u->part->partition,
                    (long long)m->rkm->offset, rd_kafka_topic_name(rkm->rkt),
                    brook__logq(rq, sizeof(rq), rd_kafka_err2str(rkm->err)));
                brook__tel_dead_letter(c->tel, m, rd_kafka_err2str(rkm->err),
                                       rd_kafka_topic_name(rkm->rkt), -1, -1,
                                       0);
        } else {
                m->state = BROOK__MSG_DEAD;
                c->n_dead++;
                brook__tel_dead_letter(c->tel, m, m->reason,
                                       rd_kafka_topic_name(rkm->rkt),
                                       rkm->partition, rkm->offset, 1);
                if (c->h.dead_letter)
                        c->h.dead_letter(m, m->reason ? m->reason : "",
                                         c->opaque);
                else
                        brook__log(
                            &c->log, BROOK_LOG_ERROR, "dead_letter.sent",
                            "topic=%s partition=%d offset=%lld "
                            "dead_letter_topic=%s dead_letter_offset=%lld "
                            "failures=%d reason=%s",
                            u->part->topic, (int)u->part->partition,
                            (long long)m->rkm->offset,
                            rd_kafka_topic_name(rkm->rkt),
                            (long long)rkm->offset, (int)m->fails,
                            brook__logq(rq, sizeof(rq),
                                        m->reason ? m->reason : ""));
        }
        if (u->state == BROOK__U_DLQ_WAIT)
                brook__ack_progress(c, u);
}

static void log_cb(const rd_kafka_t *rk, int level, const char *fac,
                   const char *buf)
{
        brook__dlq_t *d = rd_kafka_opaque(rk);
        brook_log_level_t l = level <= 3   ? BROOK_LOG_ERROR
                              : level <= 4 ? BROOK_LOG_WARN
                              : level <= 6 ? BROOK_LOG_INFO
                                           : BROOK_LOG_DEBUG;
        char rq[1024];

        /* The consumer's kafka.* settings are shared with this producer;
         * librdkafka warns about the consumer-only ones: not news. */
        if (!d || !strcmp(fac, "CONFWARN") ||
            !brook__log_enabled(&d->c->log, l))
                return;
        brook__log(&d->c->log, l, "librdkafka",
                   "client=dead_letter_producer facility=%s message=%s", fac,
                   brook__logq(rq, sizeof(rq), buf));
}

static brook_err_t pass_kafka(const char *name, const char *value, void *arg)
{
        char es[512];

        return rd_kafka_conf_set(arg, name, value, es, sizeof(es)) ==
                       RD_KAFKA_CONF_OK
                   ? BROOK_OK
                   : BROOK_ERR_CONF_INVALID;
}

brook__dlq_t *brook__dlq_new(brook_consumer_t *c, const char *topic_template,
                             char *errstr, size_t errstr_size)
{
        brook__dlq_t *d = calloc(1, sizeof(*d));
        rd_kafka_conf_t *rkc;
        char es[512];

        if (!d || !(d->tmpl = strdup(topic_template))) {
                free(d);
                brook__errstr(errstr, errstr_size, "out of memory");
                return NULL;
        }
        d->c = c;
        rkc = rd_kafka_conf_new();
        if (rd_kafka_conf_set(rkc, "bootstrap.servers",
                              brook__conf_str(c->conf, "bootstrap.servers",
                                              BROOK__SCOPE_CONSUMER),
                              es, sizeof(es)) ||
            rd_kafka_conf_set(rkc, "enable.idempotence", "true", es,
                              sizeof(es)) ||
            rd_kafka_conf_set(rkc, "acks", "all", es, sizeof(es)) ||
            rd_kafka_conf_set(rkc, "linger.ms", "5", es, sizeof(es)) ||
            /* A consumed record may be as large as its topic allows: do
             * not let the client refuse to dead-letter it (the broker's
             * limit for the dead-letter topic still applies). */
            rd_kafka_conf_set(rkc, "message.max.bytes", "1000000000", es,
                              sizeof(es)) ||
            rd_kafka_conf_set(rkc, "partitioner", "murmur2_random", es,
                              sizeof(es)) ||
            rd_kafka_conf_set(
                rkc, "client.id",
                brook__conf_str(c->conf, "client.id", BROOK__SCOPE_CONSUMER),
                es, sizeof(es))) {
                brook__errstr(errstr, errstr_size, "dead-letter producer: %s",
                              es);
                rd_kafka_conf_destroy(rkc);
                free(d->tmpl);
                free(d);
                return NULL;
        }
        /* Security and network settings are the consumer's (kafka.*);
         * the dead-letter guarantees are not negotiable. */
        brook__conf_foreach(c->conf, "kafka.", pass_kafka, rkc);
        rd_kafka_conf_set(rkc, "enable.idempotence", "true", es, sizeof(es));
        rd_kafka_conf_set(rkc, "acks", "all", es, sizeof(es));
        rd_kafka_conf_set_dr_msg_cb(rkc, dr_cb);
        rd_kafka_conf_set_log_cb(rkc, log_cb);
        rd_kafka_conf_set_opaque(rkc, d);
        d->rk = rd_kafka_new(RD_KAFKA_PRODUCER, rkc, es, sizeof(es));
        if (!d->rk) {
                brook__errstr(errstr, errstr_size, "dead-letter producer: %s",
                              es);
                rd_kafka_conf_destroy(rkc);
                free(d->tmpl);
                free(d);
                return NULL;
        }
        return d;
}

/* Expand {topic} in the template. */
static void topic_name(const brook__dlq_t *d, const char *src, char *out,
                       size_t size)
{
        const char *p = d->tmpl, *q;
        size_t o = 0;

        while ((q = strstr(p, "{topic}"))) {
                o += (size_t)snprintf(out + o, o < size ? size - o : 0,
                                      "%.*s%s", (int)(q - p), p, src);
                p = q + 7;
        }
        snprintf(out + (o < size ? o : size - 1), o < size ? size - o : 1, "%s",
                 p);
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

void brook__dlq_send(brook_consumer_t *c, brook__unit_t *u, brook_msg_t *m)
{
        brook__dlq_t *d = c->dlq;
        const rd_kafka_message_t *src = m->rkm;
        rd_kafka_headers_t *orig, *hdrs;
        rd_kafka_resp_err_t err;
        char topic[512];
        int64_t ts;

        topic_name(d, rd_kafka_topic_name(src->rkt), topic, sizeof(topic));
        if (rd_kafka_message_headers(src, &orig) == RD_KAFKA_RESP_ERR_NO_ERROR)
                hdrs = rd_kafka_headers_copy(orig);
        else
                hdrs = rd_kafka_headers_new(8);
        ts = rd_kafka_message_timestamp(src, NULL);
        add_hdr(hdrs, "brook.dlq.topic", "%s", rd_kafka_topic_name(src->rkt));
        add_hdr(hdrs, "brook.dlq.partition", "%d", (int)src->partition);
        add_hdr(hdrs, "brook.dlq.offset", "%lld", (long long)src->offset);
        add_hdr(hdrs, "brook.dlq.timestamp", "%lld", (long long)ts);
        add_hdr(hdrs, "brook.dlq.group", "%s", c->group);
        add_hdr(hdrs, "brook.dlq.retries", "%d",
                m->fails > 0 ? (int)m->fails - 1 : 0);
        add_hdr(hdrs, "brook.dlq.failed_at", "%lld",
                (long long)brook__wall_ms());
        add_hdr(hdrs, "brook.dlq.reason", "%s",
                m->reason ? m->reason : "handler failed");

        err = rd_kafka_producev(
            d->rk, RD_KAFKA_V_TOPIC(topic),
            RD_KAFKA_V_KEY(src->key, src->key ? src->key_len : 0),
            RD_KAFKA_V_VALUE(src->payload, src->payload ? src->len : 0),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_TIMESTAMP(ts > 0 ? ts : 0), RD_KAFKA_V_HEADERS(hdrs),
            RD_KAFKA_V_OPAQUE(m), RD_KAFKA_V_END);
        if (err) {
                char rq[256];

                rd_kafka_headers_destroy(hdrs);
                m->state = BROOK__MSG_DLQ_RETRY;
                u->retry_at_us =
                    brook__now_us() + brook__backoff_us(c, ++u->dlq_retries);
                brook__log(&c->log, BROOK_LOG_ERROR, "dead_letter.failed",
                           "topic=%s partition=%d offset=%lld "
                           "dead_letter_topic=%s error=%s next=retry",
                           u->part->topic, (int)u->part->partition,
                           (long long)src->offset, topic,
                           brook__logq(rq, sizeof(rq), rd_kafka_err2str(err)));
                brook__tel_dead_letter(c->tel, m, rd_kafka_err2str(err), topic,
                                       -1, -1, 0);
                return;
        }
        m->state = BROOK__MSG_DLQ_SENT;
        u->dlq_pending++;
        d->outstanding++;
}

int brook__dlq_poll(brook__dlq_t *d, int timeout_ms)
{
        return rd_kafka_poll(d->rk, timeout_ms);
}

int brook__dlq_outstanding(const brook__dlq_t *d)
{
        return d->outstanding;
}

void brook__dlq_destroy(brook__dlq_t *d)
{
        if (!d)
                return;
        /* Outstanding dead letters belong to units given up on; their
         * reports must not reach freed memory. */
        d->closing = 1;
        rd_kafka_purge(d->rk,
                       RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_flush(d->rk, 5000);
        rd_kafka_destroy(d->rk);
        free(d->tmpl);
        free(d);
}
