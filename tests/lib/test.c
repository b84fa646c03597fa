/*
 * test.c: helpers behind test.h, on plain librdkafka so that tests check
 * brook with a client that is not brook.
 */
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "test.h"

static int64_t t0_ms;

int64_t test_now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

__attribute__((constructor)) static void test_init(void)
{
        t0_ms = test_now_ms();
        setvbuf(stderr, NULL, _IOLBF, 0);
}

double test_elapsed(void)
{
        return (double)(test_now_ms() - t0_ms) / 1000.0;
}

int64_t test_timeout_ms(int64_t ms)
{
        const char *m = getenv("BROOK_TEST_TIMEOUT_MULT");
        double mult = m ? atof(m) : 1.0;

        return (int64_t)((double)ms * (mult > 0 ? mult : 1.0));
}

const char *test_name(const char *prefix)
{
        static char buf[8][128];
        static int i;
        char *b = buf[i++ % 8];

        snprintf(b, 128, "%s-%d-%lld", prefix, (int)getpid(),
                 (long long)test_now_ms());
        return b;
}

void test_conf_set(brook_conf_t *conf, const char *name, const char *value)
{
        char es[512];

        if (brook_conf_set(conf, name, value, es, sizeof(es)))
                TEST_FAIL("conf %s=%s: %s", name, value, es);
}

const char *test_brokers(void)
{
        const char *b = getenv("BROOK_BROKERS");

        return b && *b ? b : NULL;
}

static rd_kafka_t *producer(const char *bootstraps)
{
        rd_kafka_conf_t *rkc = rd_kafka_conf_new();
        char es[512];
        rd_kafka_t *rk;

        if (rd_kafka_conf_set(rkc, "bootstrap.servers", bootstraps, es,
                              sizeof(es)) ||
            rd_kafka_conf_set(rkc, "linger.ms", "5", es, sizeof(es)) ||
            rd_kafka_conf_set(rkc, "queue.buffering.max.messages", "1000000",
                              es, sizeof(es)))
                TEST_FAIL("producer conf: %s", es);
        if (!(rk = rd_kafka_new(RD_KAFKA_PRODUCER, rkc, es, sizeof(es))))
                TEST_FAIL("producer: %s", es);
        return rk;
}

static void flush_all(rd_kafka_t *rk)
{
        int64_t deadline = test_now_ms() + test_timeout_ms(60000);

        while (rd_kafka_outq_len(rk) > 0 && test_now_ms() < deadline)
                rd_kafka_poll(rk, 100);
        TEST_ASSERT(rd_kafka_outq_len(rk) == 0, "%d messages not delivered",
                    rd_kafka_outq_len(rk));
}

static void dr_check(rd_kafka_t *rk, const rd_kafka_message_t *rkm, void *op)
{
        (void)rk;
        (void)op;
        if (rkm->err)
                TEST_FAIL("delivery failed: %s", rd_kafka_err2str(rkm->err));
}

void test_produce(const char *bootstraps, const char *topic, int partitions,
                  int64_t cnt)
{
        rd_kafka_conf_t *rkc = rd_kafka_conf_new();
        char es[512], key[32], val[32];
        rd_kafka_t *rk;
        int64_t i;

        rd_kafka_conf_set(rkc, "bootstrap.servers", bootstraps, es,
                          sizeof(es));
        rd_kafka_conf_set(rkc, "linger.ms", "5", es, sizeof(es));
        rd_kafka_conf_set(rkc, "queue.buffering.max.messages", "1000000", es,
                          sizeof(es));
        rd_kafka_conf_set_dr_msg_cb(rkc, dr_check);
        if (!(rk = rd_kafka_new(RD_KAFKA_PRODUCER, rkc, es, sizeof(es))))
                TEST_FAIL("producer: %s", es);
        for (i = 0; i < cnt; i++) {
                rd_kafka_resp_err_t err;

                snprintf(key, sizeof(key), "k%lld", (long long)i);
                snprintf(val, sizeof(val), "v%lld", (long long)i);
                do {
                        err = rd_kafka_producev(
                            rk, RD_KAFKA_V_TOPIC(topic),
                            RD_KAFKA_V_PARTITION(
                                partitions ? (int32_t)(i % partitions)
                                           : RD_KAFKA_PARTITION_UA),
                            RD_KAFKA_V_KEY(key, strlen(key)),
                            RD_KAFKA_V_VALUE(val, strlen(val)),
                            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                            RD_KAFKA_V_END);
                        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL)
                                rd_kafka_poll(rk, 10);
                } while (err == RD_KAFKA_RESP_ERR__QUEUE_FULL);
                TEST_ASSERT(!err, "produce: %s", rd_kafka_err2str(err));
                rd_kafka_poll(rk, 0);
        }
        flush_all(rk);
        rd_kafka_destroy(rk);
}

void test_produce_one(const char *bootstraps, const char *topic,
                      int32_t partition, const char *key, const void *value,
                      size_t len)
{
        rd_kafka_t *rk = producer(bootstraps);
        rd_kafka_resp_err_t err;

        err = rd_kafka_producev(
            rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(partition),
            RD_KAFKA_V_KEY(key, key ? strlen(key) : 0),
            RD_KAFKA_V_VALUE((void *)value, len),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
        TEST_ASSERT(!err, "produce: %s", rd_kafka_err2str(err));
        flush_all(rk);
        rd_kafka_destroy(rk);
}

int64_t test_committed(const char *bootstraps, const char *group,
                       const char *topic, int32_t partition)
{
        rd_kafka_conf_t *rkc = rd_kafka_conf_new();
        rd_kafka_topic_partition_list_t *l;
        char es[512];
        rd_kafka_t *rk;
        rd_kafka_resp_err_t err;
        int64_t off;

        rd_kafka_conf_set(rkc, "bootstrap.servers", bootstraps, es,
                          sizeof(es));
        rd_kafka_conf_set(rkc, "group.id", group, es, sizeof(es));
        if (!(rk = rd_kafka_new(RD_KAFKA_CONSUMER, rkc, es, sizeof(es))))
                TEST_FAIL("consumer: %s", es);
        l = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(l, topic, partition);
        err = rd_kafka_committed(rk, l, (int)test_timeout_ms(10000));
        TEST_ASSERT(!err, "committed(): %s", rd_kafka_err2str(err));
        off = l->elems[0].offset;
        rd_kafka_topic_partition_list_destroy(l);
        rd_kafka_destroy(rk);
        return off;
}

int64_t test_wait_committed(const char *bootstraps, const char *group,
                            const char *topic, int32_t partition, int64_t want,
                            int64_t timeout_ms)
{
        int64_t deadline = test_now_ms() + test_timeout_ms(timeout_ms);
        int64_t off;

        for (;;) {
                off = test_committed(bootstraps, group, topic, partition);
                if (off == want || test_now_ms() >= deadline)
                        return off;
                test_sleep_ms(100);
        }
}

static void *runner_main(void *arg)
{
        test_runner_t *r = arg;

        r->err = brook_consumer_run(r->c);
        __atomic_store_n(&r->done, 1, __ATOMIC_SEQ_CST);
        return NULL;
}

void test_runner_start(test_runner_t *r, brook_consumer_t *c)
{
        memset(r, 0, sizeof(*r));
        r->c = c;
        if (pthread_create(&r->thr, NULL, runner_main, r))
                TEST_FAIL("pthread_create");
}

brook_error_t *test_runner_stop(test_runner_t *r)
{
        brook_consumer_stop(r->c);
        return test_runner_join(r);
}

brook_error_t *test_runner_join(test_runner_t *r)
{
        pthread_join(r->thr, NULL);
        return r->err;
}

void test_sleep_ms(int64_t ms)
{
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};

        nanosleep(&ts, NULL);
}
