// BROOK_TEST_LINK_OPTIONS: -Wl,--wrap=realloc
// BROOK_TEST_LINK_OPTIONS: -Wl,--wrap=rd_kafka_message_destroy
/*
 * 3108: grouping a poll's records by partition never leaks them when
 * memory runs out. Real librdkafka messages (20, from two partitions of
 * the embedded cluster) are grouped with realloc failing at chosen calls
 * (the link wraps brook's realloc and counts rd_kafka_message_destroy):
 *
 *  1. no failure: two groups of 10, offset order, nothing destroyed;
 *  2. the first realloc fails (the group table): -1, all 20 destroyed;
 *  3. a later realloc fails (a group's vector, after some messages were
 *     grouped): -1, all 20 destroyed, grouped or not, groups empty.
 */
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "streams/group.h"
#include "test.h"

void *__real_realloc(void *p, size_t n);
void __real_rd_kafka_message_destroy(rd_kafka_message_t *m);

static int fail_at = -1; /* realloc calls left before one fails, -1: never */
static int destroyed;

void *__wrap_realloc(void *p, size_t n)
{
        if (fail_at == 0) {
                fail_at = -1;
                return NULL;
        }
        if (fail_at > 0)
                fail_at--;
        return __real_realloc(p, n);
}

void __wrap_rd_kafka_message_destroy(rd_kafka_message_t *m)
{
        destroyed++;
        __real_rd_kafka_message_destroy(m);
}

static void on_error(void *arg, rd_kafka_message_t *m)
{
        (void)arg;
        TEST_FAIL("unexpected error message: %s", rd_kafka_message_errstr(m));
}

/* Consume all 20 records of the topic's two partitions. */
static size_t consume(rd_kafka_t *rk, rd_kafka_message_t **msgs)
{
        int64_t deadline = test_now_ms() + test_timeout_ms(10000);
        size_t n = 0;

        while (n < 20 && test_now_ms() < deadline) {
                rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);

                if (!m)
                        continue;
                if (m->err) {
                        __real_rd_kafka_message_destroy(m);
                        continue;
                }
                msgs[n++] = m;
        }
        return n;
}

static rd_kafka_t *reader(const char *bootstraps, const char *topic)
{
        rd_kafka_conf_t *rkc = rd_kafka_conf_new();
        rd_kafka_topic_partition_list_t *l;
        char es[512];
        rd_kafka_t *rk;

        rd_kafka_conf_set(rkc, "bootstrap.servers", bootstraps, es, sizeof(es));
        rd_kafka_conf_set(rkc, "group.id", "3108", es, sizeof(es));
        TEST_ASSERT((rk = rd_kafka_new(RD_KAFKA_CONSUMER, rkc, es, sizeof(es))),
                    "%s", es);
        rd_kafka_poll_set_consumer(rk);
        l = rd_kafka_topic_partition_list_new(2);
        rd_kafka_topic_partition_list_add(l, topic, 0)->offset =
            RD_KAFKA_OFFSET_BEGINNING;
        rd_kafka_topic_partition_list_add(l, topic, 1)->offset =
            RD_KAFKA_OFFSET_BEGINNING;
        TEST_ASSERT(!rd_kafka_assign(rk, l), "assign");
        rd_kafka_topic_partition_list_destroy(l);
        return rk;
}

/* A case on the same 20 records, read by a new client. */
static void run(const char *bootstraps, const char *topic, int fail,
                const char *what)
{
        rd_kafka_t *rk = reader(bootstraps, topic);
        brook__groups_t g;
        rd_kafka_message_t *msgs[20];
        size_t n, i, j;
        int r;

        TEST_ASSERT((n = consume(rk, msgs)) == 20, "%zu of 20 consumed", n);
        memset(&g, 0, sizeof(g));
        destroyed = 0;
        fail_at = fail;
        r = brook__group_msgs(&g, msgs, n, on_error, NULL);
        fail_at = -1;
        if (fail < 0) {
                TEST_ASSERT(r == 0 && g.cnt == 2 && destroyed == 0,
                            "%s: r=%d groups=%zu destroyed=%d", what, r, g.cnt,
                            destroyed);
                for (i = 0; i < g.cnt; i++) {
                        rd_kafka_message_t **m =
                            (rd_kafka_message_t **)g.v[i].msgs.v;

                        TEST_ASSERT(g.v[i].msgs.cnt == 10, "%zu in group %zu",
                                    g.v[i].msgs.cnt, i);
                        for (j = 0; j < 10; j++)
                                TEST_ASSERT(
                                    m[j]->partition == g.v[i].partition &&
                                        (j == 0 ||
                                         m[j]->offset > m[j - 1]->offset),
                                    "order in group %zu", i);
                }
                brook__groups_free(&g);
                TEST_ASSERT(destroyed == 20, "freed %d", destroyed);
        } else {
                TEST_ASSERT(r == -1, "%s: grouping did not fail", what);
                TEST_ASSERT(destroyed == 20,
                            "%s: %d of 20 messages destroyed (the rest "
                            "leaked)",
                            what, destroyed);
                TEST_ASSERT(g.cnt == 0, "%s: %zu groups left", what, g.cnt);
                brook__groups_free(&g);
        }
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
        TEST_SAY("%s: ok", what);
}

int main(void)
{
        char es[512];
        brook_mock_cluster_t *mc = brook_mock_cluster_new(1, es, sizeof(es));
        const char *topic = test_name("t3108"), *bs;

        TEST_ASSERT(mc, "%s", es);
        bs = brook_mock_cluster_bootstraps(mc);
        TEST_ASSERT(!brook_mock_cluster_create_topic(mc, topic, 2, 1), "topic");
        test_produce(bs, topic, 2, 20); /* 10 per partition */
        run(bs, topic, -1, "no failure");
        run(bs, topic, 0, "group table realloc fails");
        /* calls: table (1), group 0's vector (2), group 1's vector (3) */
        run(bs, topic, 2, "second group's vector realloc fails");
        brook_mock_cluster_destroy(mc);
        return 0;
}
