/*
 * 3203: graceful rebalances on Apache Kafka lose and repeat nothing.
 *
 * Instance A (2 stream threads) processes a third of the input; instance B
 * joins (rebalance: revoked tasks run the commit cycle before closing) and
 * the second third arrives; A closes gracefully and B takes every task for
 * the last third. kafka-python's verify then checks that the output holds
 * each of the 30000 input records exactly once, in order per key.
 * (On the embedded cluster, 3104 can only assert at-least-once: it refuses
 * commits during a rebalance.)
 */
#include <jansson.h>
#include <string.h>

#include "streams_test.h"

#define PARTS 4
#define CNT   30000

static brook_streams_t *instance(const char *bs, brook_topology_t *t,
                                 const char *app, const char *threads)
{
        brook_conf_t *conf = brook_conf_new();
        brook_streams_t *s;
        brook_error_t *err;
        char es[512];

        test_conf_set(conf, "bootstrap.servers", bs);
        test_conf_set(conf, "application.id", app);
        test_conf_set(conf, "num.stream.threads", threads);
        test_conf_set(conf, "state.dir", st_tmpdir("brook-3203"));
        test_conf_set(conf, "commit.interval.ms", "200");
        test_conf_set(conf, "kafka.session.timeout.ms", "6000");
        test_conf_set(conf, "kafka.heartbeat.interval.ms", "1000");
        s = brook_streams_new(t, conf, es, sizeof(es));
        TEST_ASSERT(s, "%s", es);
        brook_conf_destroy(conf);
        TEST_ASSERT(!(err = brook_streams_start(s)), "start: %s",
                    brook_error_string(err));
        return s;
}

static int64_t tasks(const brook_streams_t *s)
{
        return brook_streams_metric(s, "tasks.running");
}

static int64_t processed(const brook_streams_t *s)
{
        return brook_streams_metric(s, "records.processed");
}

static void peek(const brook_record_t *rec, void *op)
{
        (void)rec;
        (void)op;
}

static brook_topology_t *topology(const char *in, const char *out)
{
        brook_topology_t *t = brook_topology_new();
        brook_processor_t *p = brook_proc_peek_new(peek, NULL);
        char es[512];

        TEST_ASSERT(
            !brook_topology_add_source(t, "src", &in, 1, NULL, NULL, es,
                                       sizeof(es)) &&
                !brook_topology_add_processor(
                    t, "peek", p, (const char *[]){"src"}, 1, es, sizeof(es)) &&
                !brook_topology_add_sink(t, "sink", out, NULL, NULL, NULL, NULL,
                                         (const char *[]){"peek"}, 1, es,
                                         sizeof(es)),
            "%s", es);
        brook_processor_destroy(p);
        return t;
}

int main(void)
{
        const char *bs = test_brokers();
        char in[128], out[128], app[128], *js;
        brook_topology_t *ta, *tb;
        brook_streams_t *a, *b;
        brook_error_t *err;
        json_t *rep;

        if (!bs) {
                printf("SKIP: BROOK_BROKERS is not set (no real broker)\n");
                return 0;
        }
        snprintf(in, sizeof(in), "%s", test_name("i3203"));
        snprintf(out, sizeof(out), "%s", test_name("o3203"));
        snprintf(app, sizeof(app), "%s", test_name("a3203"));
        free(st_kafkatool("create-topic -t %s -p %d", in, PARTS));
        free(st_kafkatool("create-topic -t %s -p %d", out, PARTS));
        ta = topology(in, out);
        tb = topology(in, out);
        free(st_kafkatool("produce -t %s -n %d --keyed --keys 100 "
                          "--partitions %d",
                          in, CNT / 3, PARTS));
        a = instance(bs, ta, app, "2");
        TEST_ASSERT(st_wait_metric(a, "records.processed", CNT / 3, 30000) ==
                        CNT / 3,
                    "A processed");
        b = instance(bs, tb, app, "1");
        free(st_kafkatool("produce -t %s -n %d --start %d --keyed --keys 100 "
                          "--partitions %d",
                          in, CNT / 3, CNT / 3, PARTS));
        TEST_ASSERT(st_wait_metric(b, "tasks.running", 1, 30000) >= 1,
                    "B got no task");
        /* The rebalance is over (every task runs in exactly one instance)
         * and A and B together processed the second third. */
        TEST_WAIT_UNTIL(tasks(a) + tasks(b) == PARTS &&
                            processed(a) + processed(b) >= 2 * CNT / 3,
                        30000,
                        "A runs %lld tasks, B %lld; processed %lld + %lld",
                        (long long)tasks(a), (long long)tasks(b),
                        (long long)processed(a), (long long)processed(b));
        TEST_SAY("B joined: A runs %lld tasks, B %lld", (long long)tasks(a),
                 (long long)tasks(b));
        TEST_ASSERT(!(err = brook_streams_close(a)), "close A: %s",
                    brook_error_string(err));
        free(st_kafkatool("produce -t %s -n %d --start %d --keyed --keys 100 "
                          "--partitions %d",
                          in, CNT / 3, 2 * CNT / 3, PARTS));
        TEST_ASSERT(st_wait_metric(b, "tasks.running", PARTS, 30000) == PARTS,
                    "B took all tasks");
        free(st_kafkatool("wait-committed -t %s -g %s --timeout-ms 30000", in,
                          app));
        TEST_ASSERT(!(err = brook_streams_close(b)), "close B: %s",
                    brook_error_string(err));
        js = st_kafkatool("verify -t %s -n %d", out, CNT);
        rep = json_loads(js, 0, NULL);
        TEST_ASSERT(
            rep && json_is_true(json_object_get(rep, "ok")) &&
                json_integer_value(json_object_get(rep, "duplicates")) == 0,
            "verify: %s", js);
        TEST_SAY("kafka-python verify: %s", js);
        json_decref(rep);
        free(js);
        brook_streams_destroy(a);
        brook_streams_destroy(b);
        brook_topology_destroy(ta);
        brook_topology_destroy(tb);
        return 0;
}
