/*
 * 3204: the streams lag gauge on Apache Kafka, checked with an independent
 * client.
 *
 * kafka-python produces 40000 records to 4 partitions. Two stream threads
 * (two group consumers, two partitions each) process them slowly (5 ms per
 * batch of at most 50) with a commit cycle every 200 ms and the statistics
 * every 100 ms. The exposition's brook_streams_lag gauges must show all four
 * partitions at once (both threads' partitions side by side), be > 0 while
 * the backlog drains, never exceed the partition's end offset, and reach 0
 * on all four; the committed offsets, read by kafka-python, then equal the
 * end offsets.
 */
#include <pthread.h>
#include <string.h>

#include "streams_test.h"

#define PARTS 4
#define CNT   40000

static int64_t processed;
static pthread_t owner[PARTS]; /* the stream thread of task 0_p */
static int owned[PARTS];
static pthread_mutex_t owner_lock = PTHREAD_MUTEX_INITIALIZER;

static brook_err_t slow_batch(brook_ctx_t *ctx, brook_record_t *const *recs,
                              size_t cnt, void *st)
{
        (void)ctx;
        (void)recs;
        (void)st;
        test_sleep_ms(5);
        __atomic_add_fetch(&processed, (int64_t)cnt, __ATOMIC_SEQ_CST);
        return BROOK_OK;
}

static void on_task(const char *task_id, int assigned, void *opaque)
{
        int p = atoi(strchr(task_id, '_') + 1);

        (void)opaque;
        TEST_ASSERT(p >= 0 && p < PARTS, "task %s", task_id);
        pthread_mutex_lock(&owner_lock);
        owned[p] = assigned;
        if (assigned)
                owner[p] = pthread_self();
        pthread_mutex_unlock(&owner_lock);
}

/* Distinct stream threads owning the tasks now (-1: a task unowned). */
static int owners(void)
{
        int p, q, n = 0;

        pthread_mutex_lock(&owner_lock);
        for (p = 0; p < PARTS && n >= 0; p++) {
                if (!owned[p]) {
                        n = -1;
                        break;
                }
                for (q = 0; q < p; q++)
                        if (pthread_equal(owner[q], owner[p]))
                                break;
                n += q == p;
        }
        pthread_mutex_unlock(&owner_lock);
        return n;
}

int main(void)
{
        const char *bs = test_brokers();
        char in_topic[128], app[128], es[512];
        const char *inp = in_topic;
        brook_topology_t *t;
        brook_processor_t *slow;
        brook_conf_t *conf;
        brook_streams_t *s;
        brook_error_t *err;
        int64_t lags[PARTS], max_lag[PARTS] = {0}, deadline;
        int p, scans = 0, all_seen = 0, found;

        if (!bs) {
                printf("SKIP: BROOK_BROKERS is not set (no real broker)\n");
                return 0;
        }
        snprintf(in_topic, sizeof(in_topic), "%s", test_name("i3204"));
        snprintf(app, sizeof(app), "%s", test_name("a3204"));
        free(st_kafkatool("create-topic -t %s -p %d", in_topic, PARTS));
        free(st_kafkatool("produce -t %s -n %d --keyed --partitions %d",
                          in_topic, CNT, PARTS));
        TEST_SAY("input produced by kafka-python");

        t = brook_topology_new();
        slow = brook_processor_new();
        brook_processor_set_process_batch(slow, slow_batch);
        TEST_ASSERT(
            !brook_topology_add_source(t, "src", &inp, 1, brook_serde_string(),
                                       brook_serde_string(), es, sizeof(es)) &&
                !brook_topology_add_processor(t, "slow", slow,
                                              (const char *[]){"src"}, 1, es,
                                              sizeof(es)),
            "%s", es);
        brook_processor_destroy(slow);
        conf = brook_conf_new();
        test_conf_set(conf, "bootstrap.servers", bs);
        test_conf_set(conf, "application.id", app);
        test_conf_set(conf, "state.dir", st_tmpdir("brook-3204"));
        test_conf_set(conf, "num.stream.threads", "2");
        test_conf_set(conf, "commit.interval.ms", "200");
        test_conf_set(conf, "streams.batch.max.records", "50");
        test_conf_set(conf, "metrics.lag.interval.ms", "100");
        s = brook_streams_new(t, conf, es, sizeof(es));
        TEST_ASSERT(s, "%s", es);
        brook_streams_set_task_cb(s, on_task, NULL);
        TEST_ASSERT(!(err = brook_streams_start(s)), "start: %s",
                    brook_error_string(err));

        /* Scan the exposition until every partition's gauge is 0 after
         * the whole input was processed. */
        deadline = test_now_ms() + test_timeout_ms(90000);
        for (;;) {
                int64_t done = __atomic_load_n(&processed, __ATOMIC_SEQ_CST);
                int zero = 1;

                found = st_lag_scan(s, in_topic, PARTS, lags);
                scans++;
                for (p = 0; p < PARTS; p++) {
                        TEST_ASSERT(lags[p] <= CNT / PARTS,
                                    "partition %d lag %lld > its end offset", p,
                                    (long long)lags[p]);
                        if (lags[p] > max_lag[p])
                                max_lag[p] = lags[p];
                        zero &= lags[p] == 0;
                }
                if (found == PARTS && owners() == 2)
                        all_seen++;
                if (done == CNT && found == PARTS && zero)
                        break;
                TEST_ASSERT(test_now_ms() < deadline,
                            "after %d scans: processed %lld, %d partitions "
                            "with a gauge, lags %lld %lld %lld %lld",
                            scans, (long long)done, found, (long long)lags[0],
                            (long long)lags[1], (long long)lags[2],
                            (long long)lags[3]);
                test_sleep_ms(50);
        }
        TEST_SAY("%d scans; max lag per partition %lld %lld %lld %lld; all "
                 "four partitions of the two threads in %d scans",
                 scans, (long long)max_lag[0], (long long)max_lag[1],
                 (long long)max_lag[2], (long long)max_lag[3], all_seen);
        TEST_ASSERT(owners() == 2, "the tasks are not spread over the two "
                                   "stream threads");
        TEST_ASSERT(all_seen > 0, "never one exposition with the partitions "
                                  "of both stream threads");
        for (p = 0; p < PARTS; p++)
                TEST_ASSERT(max_lag[p] > 0, "partition %d: lag never > 0", p);

        /* The gauge said 0: the group's committed offsets, read by
         * kafka-python, are the end offsets. */
        st_assert_committed(in_topic, app, PARTS, CNT / PARTS);

        TEST_ASSERT(!(err = brook_streams_close(s)), "close: %s",
                    brook_error_string(err));
        /* The stopped threads' partitions left the gauge. */
        found = st_lag_scan(s, in_topic, PARTS, lags);
        TEST_ASSERT(found == 0,
                    "%d partitions still in the lag gauge after "
                    "close",
                    found);
        brook_streams_destroy(s);
        brook_topology_destroy(t);
        brook_conf_destroy(conf);
        st_rmrf(st_tmpdir("brook-3204"));
        TEST_SAY("lag > 0 while draining, 0 on all partitions at the end; "
                 "committed = end offsets (kafka-python)");
        return 0;
}
