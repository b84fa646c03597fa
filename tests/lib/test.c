/*
 * test.c: helpers behind test.h, on plain librdkafka so that tests check
 * brook with a client that is not brook.
 */
#include <stdarg.h>
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

void test_wait_start(test_wait_t *w, int64_t timeout_ms)
{
        w->start_ms = test_now_ms();
        w->deadline_ms = w->start_ms + test_timeout_ms(timeout_ms);
        w->pause_ms = 5;
}

int test_wait_pause(test_wait_t *w)
{
        int64_t left = w->deadline_ms - test_now_ms();

        if (left <= 0)
                return 0;
        test_sleep_ms(w->pause_ms < left ? w->pause_ms : left);
        if (w->pause_ms < 100)
                w->pause_ms *= 2;
        return 1;
}

void test_wait_fail(const test_wait_t *w, const char *file, int line,
                    const char *cond, const char *fmt, ...)
{
        va_list ap;

        fprintf(stderr,
                "FAIL %s:%d: timed out after %lld ms waiting for %s: ", file,
                line, (long long)(test_now_ms() - w->start_ms), cond);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fprintf(stderr, "\n");
        exit(1);
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

        rd_kafka_conf_set(rkc, "bootstrap.servers", bootstraps, es, sizeof(es));
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
                            RD_KAFKA_V_PARTITION(partitions
                                                     ? (int32_t)(i % partitions)
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

        rd_kafka_conf_set(rkc, "bootstrap.servers", bootstraps, es, sizeof(es));
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

void test_seen_init(test_seen_t *s, int parts, int64_t cap)
{
        int i;

        memset(s, 0, sizeof(*s));
        pthread_mutex_init(&s->lock, NULL);
        s->parts = parts;
        s->cap = cap;
        s->hits = calloc((size_t)parts, sizeof(*s->hits));
        for (i = 0; i < parts; i++)
                s->hits[i] = calloc((size_t)cap, sizeof(**s->hits));
}

static int seen_add_locked(test_seen_t *s, int32_t p, int64_t off)
{
        int before;

        TEST_ASSERT(p >= 0 && p < s->parts, "partition %d out of range", p);
        TEST_ASSERT(off >= 0 && off < s->cap, "offset %lld out of range",
                    (long long)off);
        before = s->hits[p][off]++;
        if (before)
                s->dups++;
        else
                s->total++;
        return before;
}

int test_seen_add(test_seen_t *s, int32_t partition, int64_t offset)
{
        int before;

        pthread_mutex_lock(&s->lock);
        s->calls++;
        before = seen_add_locked(s, partition, offset);
        pthread_mutex_unlock(&s->lock);
        return before;
}

void test_seen_batch(test_seen_t *s, const brook_batch_t *b)
{
        size_t i, n = brook_batch_count(b);

        pthread_mutex_lock(&s->lock);
        s->calls++;
        if ((int64_t)n > s->max_batch)
                s->max_batch = (int64_t)n;
        for (i = 0; i < n; i++) {
                brook_msg_t *m = brook_batch_msg(b, i);

                seen_add_locked(s, brook_msg_partition(m), brook_msg_offset(m));
        }
        pthread_mutex_unlock(&s->lock);
}

int64_t test_seen_total(test_seen_t *s)
{
        int64_t t;

        pthread_mutex_lock(&s->lock);
        t = s->total;
        pthread_mutex_unlock(&s->lock);
        return t;
}

int64_t test_seen_wait(test_seen_t *s, int64_t want, int64_t timeout_ms)
{
        int64_t deadline = test_now_ms() + test_timeout_ms(timeout_ms);
        int64_t t;

        while ((t = test_seen_total(s)) < want && test_now_ms() < deadline)
                test_sleep_ms(20);
        return t;
}

void test_seen_free(test_seen_t *s)
{
        int i;

        for (i = 0; i < s->parts; i++)
                free(s->hits[i]);
        free(s->hits);
        pthread_mutex_destroy(&s->lock);
}

void test_env_init(test_env_t *e, const char *name, int partitions, int64_t cnt)
{
        char es[512];

        memset(e, 0, sizeof(*e));
        e->partitions = partitions;
        snprintf(e->topic, sizeof(e->topic), "%s", test_name(name));
        snprintf(e->group, sizeof(e->group), "%s", test_name("group"));
        e->mc = brook_mock_cluster_new(1, es, sizeof(es));
        TEST_ASSERT(e->mc, "embedded cluster: %s", es);
        e->bootstraps = brook_mock_cluster_bootstraps(e->mc);
        TEST_ASSERT(
            !brook_mock_cluster_create_topic(e->mc, e->topic, partitions, 1),
            "create topic");
        if (cnt > 0)
                test_produce(e->bootstraps, e->topic, partitions, cnt);
}

brook_conf_t *test_env_conf(test_env_t *e)
{
        brook_conf_t *conf = brook_conf_new();

        TEST_ASSERT(!brook_mock_cluster_conf_apply(e->mc, conf), "conf");
        test_conf_set(conf, "group.id", e->group);
        if (!getenv("BROOK_TEST_VERBOSE"))
                test_conf_set(conf, "log.level", "warn");
        return conf;
}

brook_consumer_t *test_env_consumer(test_env_t *e, brook_conf_t *conf,
                                    brook_handlers_t *h, void *opaque)
{
        char es[512];
        const char *topic = e->topic;
        brook_consumer_t *c =
            brook_consumer_new(conf, h, opaque, es, sizeof(es));

        TEST_ASSERT(c, "consumer: %s", es);
        TEST_ASSERT(!brook_consumer_subscribe(c, &topic, 1, es, sizeof(es)),
                    "subscribe: %s", es);
        return c;
}

void test_env_destroy(test_env_t *e)
{
        brook_mock_cluster_destroy(e->mc);
        e->mc = NULL;
}

static char *dup_bytes(const void *p, size_t n)
{
        char *d;

        if (!p)
                return NULL;
        d = malloc(n + 1);
        memcpy(d, p, n);
        d[n] = '\0';
        return d;
}

size_t test_read_topic(const char *bootstraps, const char *topic,
                       test_rec_t **recsp)
{
        rd_kafka_conf_t *rkc = rd_kafka_conf_new();
        const struct rd_kafka_metadata *md;
        rd_kafka_topic_partition_list_t *l;
        rd_kafka_topic_t *rkt;
        rd_kafka_t *rk;
        char es[512];
        size_t n = 0, cap = 64, i;
        test_rec_t *recs = calloc(cap, sizeof(*recs));
        int64_t *hi, remaining = 0, deadline;
        int p, np;

        rd_kafka_conf_set(rkc, "bootstrap.servers", bootstraps, es, sizeof(es));
        rd_kafka_conf_set(rkc, "group.id", "brook-test-reader", es, sizeof(es));
        rd_kafka_conf_set(rkc, "enable.auto.commit", "false", es, sizeof(es));
        if (!(rk = rd_kafka_new(RD_KAFKA_CONSUMER, rkc, es, sizeof(es))))
                TEST_FAIL("reader: %s", es);
        rkt = rd_kafka_topic_new(rk, topic, NULL);
        TEST_ASSERT(
            !rd_kafka_metadata(rk, 0, rkt, &md, (int)test_timeout_ms(10000)),
            "metadata of %s", topic);
        TEST_ASSERT(md->topic_cnt == 1 && !md->topics[0].err, "topic %s: %s",
                    topic, rd_kafka_err2str(md->topics[0].err));
        np = md->topics[0].partition_cnt;
        rd_kafka_metadata_destroy(md);
        rd_kafka_topic_destroy(rkt);
        hi = calloc((size_t)np, sizeof(*hi));
        l = rd_kafka_topic_partition_list_new(np);
        for (p = 0; p < np; p++) {
                int64_t lo;

                TEST_ASSERT(
                    !rd_kafka_query_watermark_offsets(
                        rk, topic, p, &lo, &hi[p], (int)test_timeout_ms(10000)),
                    "watermarks");
                remaining += hi[p] - lo;
                if (hi[p] > lo)
                        rd_kafka_topic_partition_list_add(l, topic, p)->offset =
                            lo;
        }
        if (l->cnt)
                TEST_ASSERT(!rd_kafka_assign(rk, l), "assign");
        rd_kafka_topic_partition_list_destroy(l);
        deadline = test_now_ms() + test_timeout_ms(30000);
        while (remaining > 0 && test_now_ms() < deadline) {
                rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
                rd_kafka_headers_t *hdrs;
                test_rec_t *r;

                if (!m)
                        continue;
                if (m->err || m->offset >= hi[m->partition]) {
                        rd_kafka_message_destroy(m);
                        continue;
                }
                if (n == cap)
                        recs = realloc(recs, (cap *= 2) * sizeof(*recs));
                r = &recs[n++];
                memset(r, 0, sizeof(*r));
                r->partition = m->partition;
                r->offset = m->offset;
                r->key = dup_bytes(m->key, m->key_len);
                r->key_len = m->key_len;
                r->value = dup_bytes(m->payload, m->len);
                r->value_len = m->len;
                if (!rd_kafka_message_headers(m, &hdrs)) {
                        const char *hn;
                        const void *hv;
                        size_t hs;

                        r->hdr_cnt = rd_kafka_header_cnt(hdrs);
                        r->hdr_names = calloc(r->hdr_cnt, sizeof(char *));
                        r->hdr_values = calloc(r->hdr_cnt, sizeof(char *));
                        for (i = 0;
                             !rd_kafka_header_get_all(hdrs, i, &hn, &hv, &hs);
                             i++) {
                                r->hdr_names[i] = strdup(hn);
                                r->hdr_values[i] = dup_bytes(hv, hs);
                        }
                }
                remaining--;
                rd_kafka_message_destroy(m);
        }
        TEST_ASSERT(remaining == 0, "%lld records of %s not read",
                    (long long)remaining, topic);
        free(hi);
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
        *recsp = recs;
        return n;
}

const char *test_rec_header(const test_rec_t *r, const char *name)
{
        size_t i;
        const char *v = NULL;

        for (i = 0; i < r->hdr_cnt; i++)
                if (!strcmp(r->hdr_names[i], name))
                        v = r->hdr_values[i];
        return v;
}

void test_recs_free(test_rec_t *recs, size_t cnt)
{
        size_t i, j;

        for (i = 0; i < cnt; i++) {
                free(recs[i].key);
                free(recs[i].value);
                for (j = 0; j < recs[i].hdr_cnt; j++) {
                        free(recs[i].hdr_names[j]);
                        free(recs[i].hdr_values[j]);
                }
                free(recs[i].hdr_names);
                free(recs[i].hdr_values);
        }
        free(recs);
}
