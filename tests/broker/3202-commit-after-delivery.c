/*
 * 3202: offsets are committed only after the sink output was delivered.
 *
 * examples/batch_processing runs on Apache Kafka with a short commit
 * interval (50 ms) and a long producer linger (300 ms): records wait in the
 * producer far longer than between commits. It is killed with SIGKILL
 * three times while it processes 150000 records (each time as soon as
 * its output grows), restarted each time on the same state, and
 * finally runs until idle. kafka-python then reads the output: every
 * input record has its "Processed: ..." output at least once. A runtime
 * that committed before delivery would lose the records the kill caught in
 * the producer; duplicates (at-least-once replays) are expected and
 * reported.
 */
#include <jansson.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "streams_test.h"

#define PARTS 3
#define CNT   150000

/* Sum of the high watermarks of @p topic: paces the kills. A plain
 * librdkafka query takes milliseconds, so the kill lands soon after the
 * output starts to grow, with most of the input still unprocessed. */
static int64_t total_end(const char *bs, const char *topic)
{
        int64_t n = 0;
        int32_t p;

        for (p = 0; p < PARTS; p++)
                n += st_end_offset(bs, topic, p);
        return n;
}

int main(void)
{
        const char *bs = test_brokers();
        char in[128], out[128], app[128], state[256], log[300];
        char *argv[32], *dump, *line, *save = NULL;
        int64_t n = 0, dups = 0, end;
        unsigned char *seen;
        int round, st, argc;
        pid_t pid;

        if (!bs) {
                printf("SKIP: BROOK_BROKERS is not set (no real broker)\n");
                return 0;
        }
        snprintf(in, sizeof(in), "%s", test_name("i3202"));
        snprintf(out, sizeof(out), "%s", test_name("o3202"));
        snprintf(app, sizeof(app), "%s", test_name("a3202"));
        snprintf(state, sizeof(state), "%s", st_tmpdir("brook-3202"));
        snprintf(log, sizeof(log), "%s/app.log", state);
        free(st_kafkatool("create-topic -t %s -p %d", in, PARTS));
        free(st_kafkatool("create-topic -t %s -p %d", out, PARTS));
        free(st_kafkatool("create-topic -t %s-counts -p %d", out, PARTS));
        free(st_kafkatool("produce -t %s -n %d --keyed --keys 1000 "
                          "--partitions %d",
                          in, CNT, PARTS));
        argc = 0;
        argv[argc++] = (char *)st_build_path("batch_processing");
        argv[argc++] = "--brokers";
        argv[argc++] = (char *)bs;
        argv[argc++] = "--input";
        argv[argc++] = in;
        argv[argc++] = "--output";
        argv[argc++] = out;
        argv[argc++] = "--app-id";
        argv[argc++] = app;
        argv[argc++] = "--state-dir";
        argv[argc++] = state;
        argv[argc++] = "--set";
        argv[argc++] = "commit.interval.ms=50";
        argv[argc++] = "--set";
        argv[argc++] = "kafka.linger.ms=300";
        argv[argc++] = "--set";
        argv[argc++] = "streams.batch.max.records=200";
        argv[argc++] = "--set";
        argv[argc++] = "log.level=warn";
        /* a killed member must leave the group quickly */
        argv[argc++] = "--set";
        argv[argc++] = "kafka.session.timeout.ms=6000";
        argv[argc++] = "--set";
        argv[argc++] = "kafka.heartbeat.interval.ms=1000";
        argv[argc] = NULL;
        for (round = 0; round < 3; round++) {
                int64_t before = total_end(bs, out), now;
                int64_t deadline = test_now_ms() + test_timeout_ms(30000);

                pid = st_spawn(argv, log);
                /* kill once the output grows by at least 1000 records */
                do {
                        test_sleep_ms(20);
                        now = total_end(bs, out);
                } while (now < before + 1000 && test_now_ms() < deadline);
                TEST_ASSERT(now >= before + 1000, "round %d: no progress",
                            round);
                kill(pid, SIGKILL);
                waitpid(pid, &st, 0);
                TEST_SAY("round %d: killed (SIGKILL) with %lld output "
                         "records written",
                         round, (long long)total_end(bs, out));
        }
        argv[argc++] = "--idle-exit-ms";
        argv[argc++] = "4000";
        argv[argc] = NULL;
        pid = st_spawn(argv, log);
        waitpid(pid, &st, 0);
        TEST_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0,
                    "final run failed (see %s)", log);
        end = total_end(bs, out);
        TEST_SAY("final run done: output holds %lld records", (long long)end);

        /* Read everything back with kafka-python. */
        seen = calloc(CNT, 1);
        dump = st_kafkatool("dump -t %s --timeout-ms 60000", out);
        for (line = strtok_r(dump, "\n", &save); line;
             line = strtok_r(NULL, "\n", &save)) {
                json_t *o = json_loads(line, 0, NULL);
                const char *v = json_string_value(json_object_get(o, "value"));
                long long i;

                TEST_ASSERT(v && !strncmp(v, "Processed: v", 12), "value %s",
                            v);
                i = atoll(v + 12);
                TEST_ASSERT(i >= 0 && i < CNT, "foreign record %lld", i);
                if (seen[i])
                        dups++;
                else
                        seen[i] = 1;
                n++;
                json_decref(o);
        }
        free(dump);
        for (n = 0, round = 0; n < CNT; n++)
                TEST_ASSERT(seen[n], "input record %lld has no output",
                            (long long)n);
        free(seen);
        TEST_SAY("every one of %d input records has its output after 3 "
                 "SIGKILLs (%lld duplicates from replays)",
                 CNT, (long long)dups);
        st_rmrf(state);
        return 0;
}
