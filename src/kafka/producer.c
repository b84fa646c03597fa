/*
 * kafka/producer.c: the streams runtime's producer. One per stream thread,
 * shared by the thread's sinks, changelogs and dead letters: idempotent,
 * acks=all, records copied into librdkafka so that a batch's memory can be
 * released as soon as the batch is processed. The commit cycle flushes it and
 * commits only when every delivery report came back without error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/conf.h"
#include "kafka/producer.h"

#define TOPIC_CACHE 32

struct brook__producer_s {
        rd_kafka_t *rk;
        const brook__logger_t *log;
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
        brook__producer_t *p = opaque;
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

static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
        brook__producer_t *p = opaque;
        char rq[600];

        (void)rk;
        brook__log(p->log, BROOK_LOG_WARN, "producer.error",
                   "error=%s reason=%s",
                   rd_kafka_err2name((rd_kafka_resp_err_t)err),
                   brook__logq(rq, sizeof(rq), reason));
}

static void log_cb(const rd_kafka_t *rk, int level, const char *fac,
                   const char *buf)
{
        brook__producer_t *p = rd_kafka_opaque(rk);
        brook_log_level_t l = level <= 3   ? BROOK_LOG_ERROR
                              : level <= 4 ? BROOK_LOG_WARN
                              : level <= 6 ? BROOK_LOG_INFO
                                           : BROOK_LOG_DEBUG;
        char rq[1024];

        if (!p || !brook__log_enabled(p->log, l))
                return;
        brook__log(p->log, l, "librdkafka", "facility=%s message=%s", fac,
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

/* Consumer-only properties given as kafka.* are not for the producer. */
static brook_err_t pass_producer(const char *name, const char *value, void *arg)
{
        static const char *skip[] = {"group.",
                                     "session.timeout.ms",
                                     "heartbeat.interval.ms",
                                     "partition.assignment.strategy",
                                     "auto.offset.reset",
                                     "enable.auto.",
                                     "fetch.",
                                     "queued.",
                                     "max.poll.interval.ms",
                                     "isolation.level",
                                     "enable.partition.eof",
                                     "check.crcs",
                                     "auto.commit.",
                                     "max.partition.fetch.bytes",
                                     "coordinator.",
                                     "allow.auto.create.topics"};
        size_t i;

        for (i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
                if (!strncmp(name, skip[i], strlen(skip[i])))
                        return BROOK_OK;
        return pass_kafka(name, value, arg);
}

brook__producer_t *brook__producer_new(const brook_conf_t *conf,
                                       const char *suffix,
                                       const brook__logger_t *log, char *errstr,
                                       size_t errstr_size)
{
        /* Throughput defaults (kafka.* overrides them): batches of up to
         * 10000 records / 1 MB per partition, waiting at most 20 ms to
         * fill (Kafka Streams' producer waits 100 ms for 16 KB batches);
         * at most 100000 records / 64 MB queued per stream thread, past
         * which produce calls wait for deliveries (back-pressure). */
        static const char *defaults[][2] = {
            {"linger.ms", "20"},
            {"batch.num.messages", "10000"},
            {"batch.size", "1048576"},
            {"queue.buffering.max.messages", "100000"},
            {"queue.buffering.max.kbytes", "65536"},
            {"partitioner", "murmur2_random"},
        };
        brook__producer_t *p = calloc(1, sizeof(*p));
        rd_kafka_conf_t *rkc;
        char es[512], cid[256];
        size_t i;

        if (!p) {
                brook__errstr(errstr, errstr_size, "out of memory");
                return NULL;
        }
        p->log = log;
        rkc = rd_kafka_conf_new();
        snprintf(cid, sizeof(cid), "%s%s",
                 brook__conf_str(conf, "client.id", BROOK__SCOPE_STREAMS),
                 suffix);
        if (rd_kafka_conf_set(rkc, "bootstrap.servers",
                              brook__conf_str(conf, "bootstrap.servers",
                                              BROOK__SCOPE_STREAMS),
                              es, sizeof(es)) ||
            rd_kafka_conf_set(rkc, "client.id", cid, es, sizeof(es)))
                goto fail;
        for (i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
                if (rd_kafka_conf_set(rkc, defaults[i][0], defaults[i][1], es,
                                      sizeof(es)))
                        goto fail;
        if (brook__conf_foreach(conf, "kafka.", pass_producer, rkc)) {
                snprintf(es, sizeof(es), "a kafka.* property was rejected");
                goto fail;
        }
        /* What the commit cycle relies on: nothing lost, nothing
         * reordered, no duplicates from internal retries. */
        if (rd_kafka_conf_set(rkc, "enable.idempotence", "true", es,
                              sizeof(es)) ||
            rd_kafka_conf_set(rkc, "acks", "all", es, sizeof(es)))
                goto fail;
        rd_kafka_conf_set_dr_msg_cb(rkc, dr_cb);
        rd_kafka_conf_set_error_cb(rkc, error_cb);
        rd_kafka_conf_set_log_cb(rkc, log_cb);
        rd_kafka_conf_set_opaque(rkc, p);
        if (!(p->rk = rd_kafka_new(RD_KAFKA_PRODUCER, rkc, es, sizeof(es)))) {
                rd_kafka_conf_destroy(rkc);
                brook__errstr(errstr, errstr_size, "producer: %s", es);
                free(p);
                return NULL;
        }
        return p;
fail:
        rd_kafka_conf_destroy(rkc);
        brook__errstr(errstr, errstr_size, "producer configuration: %s", es);
        free(p);
        return NULL;
}

void brook__producer_destroy(brook__producer_t *p)
{
        int i;

        if (!p)
                return;
        /* Whatever is still queued belongs to work that will not be
         * committed: give up on it, but let its reports run so trackers
         * are released. */
        rd_kafka_purge(p->rk, RD_KAFKA_PURGE_F_QUEUE);
        rd_kafka_flush(p->rk, 10000);
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
                if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL)
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

int64_t brook__producer_delivered(const brook__producer_t *p)
{
        return p->delivered;
}

int64_t brook__producer_failed(const brook__producer_t *p)
{
        return p->failed;
}
