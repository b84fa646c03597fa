/*
 * 4202: a partition moves between two word count instances and its counts
 * continue from the restored state.
 *
 * Instance A (own state directory) counts the first half of the input
 * alone. Instance B (empty state directory) joins: the range assignor
 * moves half of the partitions of both topics to B, which restores their
 * counts from the changelog (restored records > 0) before it processes.
 * The second half of the input is then counted by both. After a graceful
 * stop of both, the final counts read by kafka-python equal the true
 * counts: a moved word whose count restarted from zero would fall short.
 */
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "streams_test.h"

#define PARTS 4
#define LINES 40000
#define VOCAB 1500

static int64_t restored_in_log(const char *log)
{
        FILE *fp = fopen(log, "r");
        char line[1024];
        int64_t n = 0;

        if (!fp)
                return 0;
        while (fgets(line, sizeof(line), fp)) {
                const char *p = strstr(line, "restored store=counts");

                if (p && (p = strstr(p, "records=")))
                        n += atoll(p + 8);
        }
        fclose(fp);
        return n;
}

static char **app_argv(const char *bs, const char *in, const char *out,
                       const char *app, const char *state)
{
        static char *v[2][32];
        static int which;
        char **a = v[which++ % 2];
        int n = 0;

        a[n++] = (char *)st_build_path("wordcount");
        a[n++] = "--brokers";
        a[n++] = (char *)bs;
        a[n++] = "--input";
        a[n++] = (char *)in;
        a[n++] = "--output";
        a[n++] = (char *)out;
        a[n++] = "--app-id";
        a[n++] = (char *)app;
        a[n++] = "--state-dir";
        a[n++] = strdup(state);
        a[n++] = "--set";
        a[n++] = "commit.interval.ms=500";
        a[n++] = "--set";
        a[n++] = "kafka.session.timeout.ms=6000";
        a[n++] = "--set";
        a[n++] = "kafka.heartbeat.interval.ms=1000";
        a[n++] = "--set";
        a[n++] = "log.level=warn";
        a[n] = NULL;
        return a;
}

/* Wait until the group's committed offsets on @p topic reach the topic's
 * end offsets (read when the wait starts and at every check). */
static void wait_done(const char *topic, const char *app)
{
        free(st_kafkatool("wait-committed -t %s -g %s --timeout-ms %lld", topic,
                          app, (long long)test_timeout_ms(60000)));
}

int main(void)
{
        const char *bs = test_brokers();
        char in[128], out[128], app[128], words[160], sa[256], sb[256],
            loga[300], logb[300], input[300], input2[300];
        int64_t *truth = calloc(VOCAB, sizeof(*truth)), *got, deadline;
        pid_t a, b;
        size_t records;
        int j, st;

        if (!bs) {
                printf("SKIP: BROOK_BROKERS is not set (no real broker)\n");
                return 0;
        }
        snprintf(in, sizeof(in), "%s", test_name("wcl4202"));
        snprintf(out, sizeof(out), "%s", test_name("wco4202"));
        snprintf(app, sizeof(app), "%s", test_name("wc4202"));
        snprintf(words, sizeof(words), "%s-words", app);
        snprintf(sa, sizeof(sa), "%s", st_tmpdir("brook-4202a"));
        snprintf(sb, sizeof(sb), "%s", st_tmpdir("brook-4202b"));
        snprintf(loga, sizeof(loga), "%s.log", sa);
        snprintf(logb, sizeof(logb), "%s.log", sb);
        snprintf(input, sizeof(input), "%s.in1.json", sa);
        snprintf(input2, sizeof(input2), "%s.in2.json", sa);
        free(st_kafkatool("create-topic -t %s -p %d", in, PARTS));
        free(st_kafkatool("create-topic -t %s -p %d", out, PARTS));
        st_wc_generate(input, LINES / 2, VOCAB, PARTS, 42021, truth);
        st_wc_generate(input2, LINES / 2, VOCAB, PARTS, 42022, truth);
        free(st_kafkatool("produce-json -t %s < %s", in, input));

        a = st_spawn(app_argv(bs, in, out, app, sa), loga);
        wait_done(in, app);
        wait_done(words, app);
        TEST_SAY("A counted the first half alone");

        b = st_spawn(app_argv(bs, in, out, app, sb), logb);
        deadline = test_now_ms() + test_timeout_ms(45000);
        while (restored_in_log(logb) == 0 && test_now_ms() < deadline)
                test_sleep_ms(200);
        TEST_ASSERT(restored_in_log(logb) > 0, "B restored nothing (see %s)",
                    logb);
        TEST_SAY("B joined and restored %lld changelog records of the "
                 "partitions it took over",
                 (long long)restored_in_log(logb));

        /* produce-json returns once every line is acknowledged: the end
         * offsets of the input include the second half, and the input is
         * committed only after the words of each line were delivered. */
        free(st_kafkatool("produce-json -t %s < %s", in, input2));
        wait_done(in, app);
        wait_done(words, app);
        kill(a, SIGTERM);
        kill(b, SIGTERM);
        TEST_ASSERT(waitpid(a, &st, 0) == a && WIFEXITED(st) &&
                        WEXITSTATUS(st) == 0,
                    "A failed, see %s", loga);
        TEST_ASSERT(waitpid(b, &st, 0) == b && WIFEXITED(st) &&
                        WEXITSTATUS(st) == 0,
                    "B failed, see %s", logb);

        got = st_wc_read_counts(out, VOCAB, &records);
        for (j = 0; j < VOCAB; j++)
                TEST_ASSERT(got[j] == truth[j],
                            "w%d: counted %lld, true count %lld", j,
                            (long long)got[j], (long long)truth[j]);
        TEST_SAY("all %d word counts (from %zu output records) equal the "
                 "true counts after the move",
                 VOCAB, records);
        free(got);
        free(truth);
        unlink(input);
        unlink(input2);
        unlink(loga);
        unlink(logb);
        st_rmrf(sa);
        st_rmrf(sb);
        return 0;
}
