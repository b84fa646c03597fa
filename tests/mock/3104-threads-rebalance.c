/*
 * 3104: threads and rebalances on the embedded cluster.
 *
 * Instance A runs 2 stream threads (two consumers in the group); instance
 * B (1 thread) joins mid-stream, then A closes gracefully. Through both
 * rebalances every input record reaches the output exactly once (revoked
 * tasks flush and commit before they close), both of A's threads own
 * tasks, B ends up owning all of them, and the committed offsets reach the
 * end.
 */
#include <pthread.h>
#include <string.h>

#include "streams_test.h"

#define PARTS 4
#define CNT   9000

static pthread_t seen_thr[8];
static int nseen;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int tasks_open;

static void peek(const brook_record_t *rec, void *op)
{
        pthread_t self = pthread_self();
        int i;

        (void)rec;
        (void)op;
        pthread_mutex_lock(&lock);
        for (i = 0; i < nseen; i++)
                if (pthread_equal(seen_thr[i], self))
                        break;
        if (i == nseen && nseen < 8)
                seen_thr[nseen++] = self;
        pthread_mutex_unlock(&lock);
}

static void task_cb(const char *id, int assigned, void *op)
{
        (void)op;
        (void)id;
        __atomic_add_fetch(&tasks_open, assigned ? 1 : -1, __ATOMIC_SEQ_CST);
}

static brook_streams_t *instance(brook_mock_cluster_t *mc, brook_topology_t *t,
                                 const char *app, const char *threads)
{
        brook_conf_t *conf = brook_conf_new();
        brook_streams_t *s;
        brook_error_t *err;
        char es[512];

        TEST_ASSERT(!brook_mock_cluster_conf_apply(mc, conf), "conf");
        test_conf_set(conf, "application.id", app);
        test_conf_set(conf, "num.stream.threads", threads);
        test_conf_set(conf, "state.dir", st_tmpdir("brook-3104"));
        test_conf_set(conf, "commit.interval.ms", "200");
        s = brook_streams_new(t, conf, es, sizeof(es));
        TEST_ASSERT(s, "%s", es);
        brook_conf_destroy(conf);
        brook_streams_set_task_cb(s, task_cb, NULL);
        TEST_ASSERT(!(err = brook_streams_start(s)), "start: %s",
                    brook_error_string(err));
        return s;
}

static brook_topology_t *topology(const char *in, const char *out)
{
        brook_topology_t *t = brook_topology_new();
        brook_processor_t *p = brook_proc_peek_new(peek, NULL);
        char es[512];

        TEST_ASSERT(!brook_topology_add_source(t, "src", &in, 1, NULL, NULL, es,
                                               sizeof(es)),
                    "%s", es);
        TEST_ASSERT(!brook_topology_add_processor(t, "peek", p,
                                                  (const char *[]){"src"}, 1,
                                                  es, sizeof(es)),
                    "%s", es);
        TEST_ASSERT(!brook_topology_add_sink(t, "sink", out, NULL, NULL, NULL,
                                             NULL, (const char *[]){"peek"}, 1,
                                             es, sizeof(es)),
                    "%s", es);
        brook_processor_destroy(p);
        return t;
}

/* Wait until @p topic holds @p want records in total. */
static void wait_output(const char *bs, const char *topic, int64_t want)
{
        int64_t deadline = test_now_ms() + test_timeout_ms(45000), n = 0;
        int p;

        while (test_now_ms() < deadline) {
                for (n = 0, p = 0; p < PARTS; p++)
                        n += st_end_offset(bs, topic, p);
                if (n >= want)
                        return;
                test_sleep_ms(200);
        }
        TEST_FAIL("%s holds %lld records, expected %lld", topic, (long long)n,
                  (long long)want);
}

int main(void)
{
        char es[512], in[64], out[64], app[64];
        brook_mock_cluster_t *mc = brook_mock_cluster_new(1, es, sizeof(es));
        brook_topology_t *ta, *tb;
        brook_streams_t *a, *b;
        brook_error_t *err;
        const char *bs;
        st_rec_t *recs;
        size_t n, i;
        char *seen;
        int p;

        TEST_ASSERT(mc, "%s", es);
        (void)seen;
        bs = brook_mock_cluster_bootstraps(mc);
        snprintf(in, sizeof(in), "%s", test_name("i3104"));
        snprintf(out, sizeof(out), "%s", test_name("o3104"));
        snprintf(app, sizeof(app), "%s", test_name("a3104"));
        TEST_ASSERT(!brook_mock_cluster_create_topic(mc, in, PARTS, 1),
                    "topic");
        TEST_ASSERT(!brook_mock_cluster_create_topic(mc, out, PARTS, 1),
                    "topic");
        ta = topology(in, out);
        tb = topology(in, out);

        st_produce(bs, in, PARTS, 0, CNT / 3, 0, 0);
        a = instance(mc, ta, app, "2");
        wait_output(bs, out, CNT / 3);
        TEST_ASSERT(brook_streams_metric(a, "tasks.running") == PARTS,
                    "A runs %lld tasks",
                    (long long)brook_streams_metric(a, "tasks.running"));
        TEST_ASSERT(nseen == 2, "records processed on %d threads, expected 2",
                    nseen);
        TEST_SAY("A: %d tasks on 2 threads", PARTS);

        b = instance(mc, tb, app, "1");
        st_produce(bs, in, PARTS, CNT / 3, CNT / 3, 0, 0);
        wait_output(bs, out, 2 * CNT / 3);
        TEST_ASSERT(st_wait_metric(b, "tasks.running", 1, 30000) >= 1,
                    "B got no task");
        TEST_SAY("B joined: A runs %lld tasks, B %lld",
                 (long long)brook_streams_metric(a, "tasks.running"),
                 (long long)brook_streams_metric(b, "tasks.running"));

        TEST_ASSERT(!(err = brook_streams_close(a)), "close A: %s",
                    brook_error_string(err));
        st_produce(bs, in, PARTS, 2 * CNT / 3, CNT / 3, 0, 0);
        wait_output(bs, out, CNT);
        TEST_ASSERT(st_wait_metric(b, "tasks.running", PARTS, 30000) == PARTS,
                    "B runs %lld tasks after A left",
                    (long long)brook_streams_metric(b, "tasks.running"));
        for (p = 0; p < PARTS; p++) {
                int64_t end = st_end_offset(bs, in, p);

                TEST_ASSERT(
                    test_wait_committed(bs, app, in, p, end, 15000) == end,
                    "partition %d not committed to %lld", p, (long long)end);
        }
        TEST_ASSERT(!(err = brook_streams_close(b)), "close B: %s",
                    brook_error_string(err));
        TEST_ASSERT(tasks_open == 0, "task notifications unbalanced: %d",
                    tasks_open);

        recs = st_read_topic(bs, out, &n);
        seen = calloc(CNT, 1);
        for (i = 0; i < n; i++) {
                long long k = atoll(recs[i].value + 1);

                TEST_ASSERT(k >= 0 && k < CNT, "foreign record %lld", k);
                seen[k] = 1;
        }
        for (i = 0; i < CNT; i++)
                TEST_ASSERT(seen[i], "record %zu missing from the output", i);
        free(seen);
        st_recs_free(recs, n);
        TEST_SAY("every record in the output across two rebalances (%zu "
                 "duplicates)",
                 n - CNT);
        brook_streams_destroy(a);
        brook_streams_destroy(b);
        brook_topology_destroy(ta);
        brook_topology_destroy(tb);
        brook_mock_cluster_destroy(mc);
        return 0;
}
