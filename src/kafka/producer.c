/*
 * kafka/producer.c: brook's producer. A stream thread has one, shared by
 * its sinks, changelogs and dead letters; the batch consumer has one for
 * its dead letters. Idempotent, acks=all (kafka/client.c), records copied
 * into librdkafka so that a batch's memory can be released as soon as the
 * batch is processed. Offsets are committed only once every delivery
 * report came back without error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafka/producer.h"

#define TOPIC_CACHE 32

struct brook__producer_s {
        rd_kafka_t *rk;
        brook__kclient_t kc;
        const brook__logger_t *log;
        /* The batch consumer's dead-letter producer: its reports are served
         * by the consumer's loop, which must not block in a send (a full
         * queue fails it), and whatever is outstanding at close belongs to
         * work given up on. */
        int dlq;
        struct {
                char *name;
                rd_kafka_topic_t *rkt;
        } topics[TOPIC_CACHE];
        int ntopics;
        int64_t delivered;
        int64_t failed;
        int64_t failed_reported; /* failures already returned by flush */
        char first_error[512];
};

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *rkm, void *opaque)
{
        brook__producer_t *p = brook__kclient_owner(opaque);
        brook__dr_tracker_t *t = rkm->_private;

        (void)rk;
        if (rkm->err) {
                if (p->failed == p->failed_reported)
                        snprintf(p->first_error, sizeof(p->first_error),
                                 "delivery to %s [%d] failed: %s",
                                 rd_kafka_topic_name(rkm->rkt),
                                 (int)rkm->partition,
                                 rd_kafka_err2str(rkm->err));
                p->failed++;
        } else {
                p->delivered++;
        }
        if (t)
                t->on_dr(t, rkm);
}

static void error_cb(void *owner, rd_kafka_t *rk, int err, const char *reason)
{
        brook__producer_t *p = owner;
        char rq[600];

        (void)rk;
        brook__log(p->log, BROOK_LOG_WARN, "producer.error",
                   "client=%s error=%s reason=%s", p->kc.name,
                   rd_kafka_err2name((rd_kafka_resp_err_t)err),
                   brook__logq(rq, sizeof(rq), reason));
}

brook__producer_t *brook__producer_new(brook__krole_t role,
                                       const brook__settings_t *st,
                                       const brook__kopts_t *opts,
                                       const brook__logger_t *log, char *errstr,
                                       size_t errstr_size)
{
        brook__producer_t *p = calloc(1, sizeof(*p));
        rd_kafka_conf_t *rkc;

        if (!p) {
                brook__errstr(errstr, errstr_size, "out of memory");
                return NULL;
        }
        p->log = log;
        p->kc.log = log;
        p->kc.name = role == BROOK__KROLE_DLQ_PRODUCER ? "dead_letter_producer"
                                                       : "producer";
        p->kc.owner = p;
        p->kc.on_error = error_cb;
        p->dlq = role == BROOK__KROLE_DLQ_PRODUCER;
        if (!(rkc = brook__kafka_conf(role, st, opts, &p->kc, errstr,
                                      errstr_size))) {
                free(p);
                return NULL;
        }
        rd_kafka_conf_set_dr_msg_cb(rkc, dr_cb);
        if (!(p->rk = brook__kafka_new(role, rkc, errstr, errstr_size))) {
                free(p);
                return NULL;
        }
        return p;
}

void brook__producer_destroy(brook__producer_t *p)
{
        int i;

        if (!p)
                return;
        /* Whatever is still queued belongs to work that will not be
         * committed: give up on it, but let its reports run so trackers
         * are released. */
        rd_kafka_purge(p->rk, RD_KAFKA_PURGE_F_QUEUE |
                                  (p->dlq ? RD_KAFKA_PURGE_F_INFLIGHT : 0));
        rd_kafka_flush(p->rk, p->dlq ? 5000 : 10000);
        for (i = 0; i < p->ntopics; i++) {
                rd_kafka_topic_destroy(p->topics[i].rkt);
                free(p->topics[i].name);
        }
        rd_kafka_destroy(p->rk);
        free(p);
}

rd_kafka_t *brook__producer_rk(brook__producer_t *p)
{
        return p->rk;
}

rd_kafka_topic_t *brook__producer_topic(brook__producer_t *p, const char *topic)
{
        rd_kafka_topic_t *rkt;
        int i;

        for (i = 0; i < p->ntopics; i++)
                if (!strcmp(p->topics[i].name, topic))
                        return p->topics[i].rkt;
        if (!(rkt = rd_kafka_topic_new(p->rk, topic, NULL)))
                return NULL;
        if (p->ntopics == TOPIC_CACHE) {
                /* Evict the oldest: librdkafka keeps its own reference
                 * for queued messages. */
                rd_kafka_topic_destroy(p->topics[0].rkt);
                free(p->topics[0].name);
                memmove(&p->topics[0], &p->topics[1],
                        (TOPIC_CACHE - 1) * sizeof(p->topics[0]));
                p->ntopics--;
        }
        if (!(p->topics[p->ntopics].name = strdup(topic))) {
                rd_kafka_topic_destroy(rkt);
                return NULL;
        }
        p->topics[p->ntopics++].rkt = rkt;
        return rkt;
}

brook_err_t brook__producer_send(brook__producer_t *p, rd_kafka_topic_t *rkt,
                                 int32_t partition, const void *key,
                                 size_t key_len, const void *value,
                                 size_t value_len, rd_kafka_headers_t *hdrs,
                                 int64_t timestamp,
                                 brook__dr_tracker_t *tracker, char *errstr,
                                 size_t errstr_size)
{
        rd_kafka_resp_err_t err;

        for (;;) {
                err = rd_kafka_producev(
                    p->rk, RD_KAFKA_V_RKT(rkt), RD_KAFKA_V_PARTITION(partition),
                    RD_KAFKA_V_KEY(key, key ? key_len : 0),
                    RD_KAFKA_V_VALUE((void *)value, value ? value_len : 0),
                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                    RD_KAFKA_V_TIMESTAMP(timestamp > 0 ? timestamp : 0),
                    RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_OPAQUE(tracker),
                    RD_KAFKA_V_END);
                if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL || p->dlq)
                        break;
                /* Back-pressure: wait for deliveries to make room. */
                rd_kafka_poll(p->rk, 10);
        }
        if (err) {
                if (hdrs)
                        rd_kafka_headers_destroy(hdrs);
                brook__errstr(errstr, errstr_size, "produce to %s: %s",
                              rd_kafka_topic_name(rkt), rd_kafka_err2str(err));
                return BROOK_ERR_KAFKA;
        }
        return BROOK_OK;
}

brook_err_t brook__producer_send_batch(
    brook__producer_t *p, rd_kafka_topic_t *rkt, int32_t partition, size_t cnt,
    const void *const *keys, const size_t *key_lens, const void *const *values,
    const size_t *value_lens, brook__dr_tracker_t *tracker, size_t *queuedp,
    char *errstr, size_t errstr_size)
{
        rd_kafka_message_t stackmsgs[64], *msgs = stackmsgs;
        size_t done = 0;

        *queuedp = 0;
        if (cnt > 64 &&
            !(msgs = malloc(BROOK__MIN(cnt, 4096) * sizeof(*msgs)))) {
                brook__errstr(errstr, errstr_size, "out of memory");
                return BROOK_ERR_NO_MEM;
        }
        while (done < cnt) {
                size_t n = BROOK__MIN(cnt - done, cnt > 64 ? 4096 : 64), i;
                int sent;

                memset(msgs, 0, n * sizeof(*msgs));
                for (i = 0; i < n; i++) {
                        msgs[i].key = (void *)keys[done + i];
                        msgs[i].key_len = key_lens[done + i];
                        msgs[i].payload = (void *)values[done + i];
                        msgs[i].len =
                            values[done + i] ? value_lens[done + i] : 0;
                        msgs[i]._private = tracker;
                }
                sent = rd_kafka_produce_batch(
                    rkt, partition, RD_KAFKA_MSG_F_COPY, msgs, (int)n);
                if (sent < 0)
                        sent = 0;
                done += (size_t)sent;
                *queuedp = done;
                if ((size_t)sent < n) {
                        rd_kafka_resp_err_t err = msgs[sent].err;

                        if (err && err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                                if (msgs != stackmsgs)
                                        free(msgs);
                                brook__errstr(errstr, errstr_size,
                                              "produce to %s [%d]: %s",
                                              rd_kafka_topic_name(rkt),
                                              (int)partition,
                                              rd_kafka_err2str(err));
                                return BROOK_ERR_KAFKA;
                        }
                        rd_kafka_poll(p->rk, 10);
                }
        }
        if (msgs != stackmsgs)
                free(msgs);
        return BROOK_OK;
}

void brook__producer_poll(brook__producer_t *p)
{
        rd_kafka_poll(p->rk, 0);
}

brook_err_t brook__producer_flush(brook__producer_t *p, int timeout_ms,
                                  char *errstr, size_t errstr_size)
{
        rd_kafka_resp_err_t err = rd_kafka_flush(p->rk, timeout_ms);

        rd_kafka_poll(p->rk, 0);
        if (p->failed > p->failed_reported) {
                brook__errstr(errstr, errstr_size,
                              "%lld deliveries failed; "
                              "first: %s",
                              (long long)(p->failed - p->failed_reported),
                              p->first_error);
                p->failed_reported = p->failed;
                return BROOK_ERR_KAFKA;
        }
        if (err == RD_KAFKA_RESP_ERR__TIMED_OUT) {
                brook__errstr(errstr, errstr_size,
                              "%d messages not delivered within %d ms",
                              rd_kafka_outq_len(p->rk), timeout_ms);
                return BROOK_ERR_TIMED_OUT;
        }
        return BROOK_OK;
}
