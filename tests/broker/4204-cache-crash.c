/*
 * 4204: exact counts after SIGKILL between cache flushes, on Apache Kafka.
 *
 * bench-countbykey (the count aggregator on RocksDB with changelog, record
 * cache on: store.cache.max.bytes default) counts 40000 records of 400
 * keys on 4 partitions, commit.interval.ms=5000. Once its first commit
 * covered them, 40000 more records arrive; once it counted them all (its
 * records processed, scraped from its metrics listener), before the next
 * commit cycle, the process is killed with SIGKILL: what it counted since
 * the commit was only in its record cache (the changelog and the output
 * did not grow, the offsets stayed put, which the test checks). Two
 * restarts:
 *
 *  1. same state directory: the checkpoint matches the changelog, the
 *     local RocksDB holds what the commit flushed, the uncommitted records
 *     are read again and counted once;
 *  2. the same again (a third batch counted and committed, a fourth
 *     killed in the cache), then the state directory is deleted: the store
 *     is restored from the changelog, which holds exactly the committed
 *     counts.
 *
 * After each restart bench/peers/verify-counts (kafka-python) checks the
 * output topic: every key's last count is exact (not "at least"). Were
 * the cache flushed after the commit, or the offsets committed before the
 * flush, the restored counts would be off and the check would fail.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "streams_test.h"
#include "tel_test.h"

#define PARTS 4
#define KEYS  400
#define STEP  40000

static const char *bs;
static char in[128], out[128], app[128], state[256], changelog[200];

static int64_t committed(void)
{
        int64_t n = 0, c;
        int p;

        for (p = 0; p < PARTS; p++)
                if ((c = test_committed(bs, app, in, p)) > 0)
                        n += c;
        return n;
}

static int64_t end_of(const char *topic)
{
        int64_t n = 0;
        int p;

        for (p = 0; p < PARTS; p++)
                n += st_end_offset(bs, topic, p);
        return n;
}

static pid_t start_app(long long expect, const char *log)
{
        static char exp[32];
        char *argv[32];
        int argc = 0;

        snprintf(exp, sizeof(exp), "%lld", expect);
        argv[argc++] = (char *)st_build_path("bench/bench-countbykey");
        argv[argc++] = "--brokers";
        argv[argc++] = (char *)bs;
        argv[argc++] = "--input";
        argv[argc++] = in;
        argv[argc++] = "--output";
        argv[argc++] = out;
        argv[argc++] = "--app-id";
        argv[argc++] = app;
        argv[argc++] = "--threads";
        argv[argc++] = "1";
        argv[argc++] = "--expect";
        argv[argc++] = exp;
        argv[argc++] = "--state-dir";
        argv[argc++] = state;
        argv[argc++] = "--commit-ms";
        argv[argc++] = "5000";
        argv[argc++] = "--set";
        argv[argc++] = "kafka.session.timeout.ms=6000";
        argv[argc++] = "--set";
        argv[argc++] = "kafka.heartbeat.interval.ms=1000";
        /* a metrics listener on a free port, logged at INFO */
        argv[argc++] = "--set";
        argv[argc++] = "metrics.listen=127.0.0.1:0";
        argv[argc++] = "--set";
        argv[argc++] = "log.level=info";
        argv[argc] = NULL;
        return st_spawn(argv, log);
}

/* The address of the app's metrics listener, from the last
 * "metrics.listening" line of its log, into @p addr; 0 until logged. */
static int metrics_address(const char *log, char *addr, size_t size)
{
        FILE *fp = fopen(log, "r");
        char line[1024], a[256];
        int found = 0;

        if (!fp)
                return 0;
        while (fgets(line, sizeof(line), fp)) {
                const char *p = strstr(line, "metrics.listening");

                if (p && (p = strstr(p, "address=")) &&
                    sscanf(p + 8, "%255[^ \n]", a) == 1) {
                        snprintf(addr, size, "%s", a);
                        found = 1;
                }
        }
        fclose(fp);
        return found;
}

/* Input records the app counted since it started (its
 * brook_streams_messages_processed_total), -1 when the scrape failed. */
static int64_t app_counted(const char *addr)
{
        char labels[256], *body;
        int status;
        double v;

        snprintf(labels, sizeof(labels), "topic=\"%s\",status=\"ok\"", in);
        if (!(body = tel_http_get(addr, "/metrics", &status)))
                return -1;
        v = status == 200 ? tel_metric(body,
                                       "brook_streams_messages_"
                                       "processed_total",
                                       labels)
                          : -1;
        free(body);
        return v < 0 ? 0 : (int64_t)v;
}

/*
 * Run until the first commit covers @p total records, add STEP more, and
 * kill the process once it counted them (the next commit is 5 s after the
 * first). Returns with the offsets, changelog and output as the commit
 * left them, which it checks.
 */
static void run_and_kill(int64_t total, const char *log)
{
        pid_t pid = start_app(1000000000LL, log);
        int64_t deadline = test_now_ms() + test_timeout_ms(60000), cl, o, c0;
        int64_t t0;
        char addr[256];
        int st;

        while (committed() < total && test_now_ms() < deadline)
                test_sleep_ms(50);
        TEST_ASSERT(committed() == total, "no commit of %lld records (%lld)",
                    (long long)total, (long long)committed());
        TEST_WAIT_UNTIL(metrics_address(log, addr, sizeof(addr)), 10000,
                        "the app's metrics address in %s", log);
        /* Nothing new to read: this is all it counted before the commit. */
        c0 = app_counted(addr);
        TEST_ASSERT(c0 > 0, "app's metrics at %s: %lld", addr, (long long)c0);
        cl = end_of(changelog);
        o = end_of(out);
        t0 = test_now_ms();
        st_produce(bs, in, PARTS, total, STEP, KEYS, 0);
        TEST_WAIT_UNTIL(app_counted(addr) >= c0 + STEP, 30000,
                        "the app to count the %d new records (%lld so far)",
                        STEP, (long long)(app_counted(addr) - c0));
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
        TEST_ASSERT(WIFSIGNALED(st), "the app was not killed (see %s)", log);
        TEST_ASSERT(committed() == total && end_of(changelog) == cl &&
                        end_of(out) == o,
                    "not killed between flushes: committed %lld (%lld), "
                    "changelog %lld (%lld), output %lld (%lld)",
                    (long long)committed(), (long long)total,
                    (long long)end_of(changelog), (long long)cl,
                    (long long)end_of(out), (long long)o);
        TEST_SAY("SIGKILL after the commit of %lld records, once the %d "
                 "more were counted (%lld ms after they were produced): "
                 "changelog (%lld) and output (%lld) did not move",
                 (long long)total, STEP, (long long)(test_now_ms() - t0),
                 (long long)cl, (long long)o);
}

/* Restart, count what was not committed, close; check exact counts. */
static void restart_and_verify(int64_t total, const char *log)
{
        char cmd[1024];
        pid_t pid = start_app(total - committed(), log);
        int st;

        waitpid(pid, &st, 0);
        TEST_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0,
                    "restart failed, see %s", log);
        snprintf(cmd, sizeof(cmd),
                 "BROOK_BROKERS='%s' '%s/bench/peers/verify-counts' --topic "
                 "'%s' --count %lld --keys %d >> '%s' 2>&1",
                 bs, getenv("BROOK_SOURCE_DIR"), out, (long long)total, KEYS,
                 log);
        TEST_ASSERT(system(cmd) == 0,
                    "counts are not exact after the restart (see %s)", log);
        TEST_SAY("restart: %lld records, every key's count exact "
                 "(verify-counts, kafka-python)",
                 (long long)total);
}

int main(void)
{
        char log1[300], log2[300], log3[300], log4[300];

        if (!(bs = test_brokers())) {
                printf("SKIP: BROOK_BROKERS is not set (no real broker)\n");
                return 0;
        }
        if (!getenv("BROOK_SOURCE_DIR")) {
                printf("SKIP: BROOK_SOURCE_DIR is not set\n");
                return 0;
        }
        snprintf(in, sizeof(in), "%s", test_name("cci4204"));
        snprintf(out, sizeof(out), "%s", test_name("cco4204"));
        snprintf(app, sizeof(app), "%s", test_name("cc4204"));
        snprintf(changelog, sizeof(changelog), "%s-counts-changelog", app);
        snprintf(state, sizeof(state), "%s", st_tmpdir("brook-4204"));
        snprintf(log1, sizeof(log1), "%s.run1.log", state);
        snprintf(log2, sizeof(log2), "%s.run2.log", state);
        snprintf(log3, sizeof(log3), "%s.run3.log", state);
        snprintf(log4, sizeof(log4), "%s.run4.log", state);
        free(st_kafkatool("create-topic -t %s -p %d", in, PARTS));
        free(st_kafkatool("create-topic -t %s -p %d", out, PARTS));
        st_produce(bs, in, PARTS, 0, STEP, KEYS, 0);

        /* 1. kill between flushes, restart on the same state */
        run_and_kill(STEP, log1);
        restart_and_verify(2 * STEP, log2);

        /* 2. a third batch, kill between flushes, restart from the
         * changelog only */
        st_produce(bs, in, PARTS, 2 * STEP, STEP, KEYS, 0);
        run_and_kill(3 * STEP, log3);
        st_rmrf(state);
        restart_and_verify(4 * STEP, log4);

        st_rmrf(state);
        unlink(log1);
        unlink(log2);
        unlink(log3);
        unlink(log4);
        return 0;
}
