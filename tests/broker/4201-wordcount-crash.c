/*
 * 4201: word count survives SIGKILL and the loss of its state directory.
 *
 * 60000 lines (about 390000 words, 2000 distinct) are produced by
 * kafka-python to 4 partitions, in two halves. examples/wordcount runs on
 * the first; once its counting stage committed 5000 words, the second half
 * starts arriving and the app is killed with SIGKILL while it does (lines
 * and words both part done); its state directory is deleted; a new run restores
 * the counts from the changelog (restored records > 0) and finishes. The final
 * counts read from the output topic by kafka-python equal the true counts
 * of the input exactly: the replays that at-least-once causes after the
 * kill are recognised by the counter's idempotent update (see
 * examples/wordcount/main.c), so no duplicate is counted.
 */
#include <jansson.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "streams_test.h"

#define PARTS 4
#define LINES 60000
#define VOCAB 2000

static int64_t sum_json(const char *js)
{
        json_t *o = json_loads(js, 0, NULL), *v;
        const char *k;
        int64_t n = 0;

        TEST_ASSERT(o, "JSON: %s", js);
        json_object_foreach(o, k, v) n +=
            json_integer_value(v) > 0 ? json_integer_value(v) : 0;
        json_decref(o);
        return n;
}

/* "replays ignored N" from the app's last line. */
static int64_t replays_in_log(const char *log)
{
        FILE *fp = fopen(log, "r");
        char line[1024];
        int64_t n = -1;

        TEST_ASSERT(fp, "%s", log);
        while (fgets(line, sizeof(line), fp)) {
                const char *p = strstr(line, "replays ignored ");

                if (p)
                        n = atoll(p + 16);
        }
        fclose(fp);
        return n;
}

/* Records in @p topic (sum of the end offsets of its partitions). */
static int64_t end_of(const char *bs, const char *topic)
{
        int64_t n = 0;
        int p;

        for (p = 0; p < PARTS; p++)
                n += st_end_offset(bs, topic, p);
        return n;
}

static int64_t restored_in_log(const char *log)
{
        FILE *fp = fopen(log, "r");
        char line[1024];
        int64_t n = 0;

        TEST_ASSERT(fp, "%s", log);
        while (fgets(line, sizeof(line), fp)) {
                const char *p = strstr(line, "restored store=counts");

                if (p && (p = strstr(p, "records=")))
                        n += atoll(p + 8);
        }
        fclose(fp);
        return n;
}

int main(void)
{
        const char *bs = test_brokers();
        char in[128], out[128], app[128], state[256], log[300], log2[300],
            input[300], input2[300];
        char *argv[40], *js;
        int64_t *truth = calloc(VOCAB, sizeof(*truth)), *got, committed = 0,
                wcommitted = 0, words = 0, deadline;
        int argc = 0, st, j;
        size_t records;
        pid_t pid, producer;

        if (!bs) {
                printf("SKIP: BROOK_BROKERS is not set (no real broker)\n");
                return 0;
        }
        snprintf(in, sizeof(in), "%s", test_name("wcl4201"));
        snprintf(out, sizeof(out), "%s", test_name("wco4201"));
        snprintf(app, sizeof(app), "%s", test_name("wc4201"));
        snprintf(state, sizeof(state), "%s", st_tmpdir("brook-4201"));
        snprintf(log, sizeof(log), "%s.run1.log", state);
        snprintf(log2, sizeof(log2), "%s.run2.log", state);
        snprintf(input, sizeof(input), "%s.input.json", state);
        snprintf(input2, sizeof(input2), "%s.input2.json", state);
        free(st_kafkatool("create-topic -t %s -p %d", in, PARTS));
        free(st_kafkatool("create-topic -t %s -p %d", out, PARTS));
        /* two halves: the second arrives while the app runs */
        st_wc_generate(input, LINES / 2, VOCAB, PARTS, 4201, truth);
        st_wc_generate(input2, LINES / 2, VOCAB, PARTS, 4202, truth);
        for (j = 0; j < VOCAB; j++)
                words += truth[j];
        free(st_kafkatool("produce-json -t %s < %s", in, input));

        argv[argc++] = (char *)st_build_path("wordcount");
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
        argv[argc++] = "commit.interval.ms=300";
        argv[argc++] = "--set";
        argv[argc++] = "streams.batch.max.records=100";
        argv[argc++] = "--set";
        argv[argc++] = "kafka.session.timeout.ms=6000";
        argv[argc++] = "--set";
        argv[argc++] = "kafka.heartbeat.interval.ms=1000";
        argv[argc++] = "--set";
        argv[argc++] = "log.level=warn";
        argv[argc] = NULL;

        pid = st_spawn(argv, log);
        /* Kill once the counting stage has committed some of its input
         * (so the changelog has data) and the lines are not all done. */
        deadline = test_now_ms() + test_timeout_ms(40000);
        do {
                char words_topic[160];

                test_sleep_ms(200);
                snprintf(words_topic, sizeof(words_topic), "%s-words", app);
                js = st_kafkatool("committed -t %s -g %s", words_topic, app);
                wcommitted = sum_json(js);
                free(js);
        } while (wcommitted < 5000 && test_now_ms() < deadline);
        /* the second half arrives; the app dies while it does */
        producer = st_kafkatool_bg("produce-json -t %s < %s", in, input2);
        TEST_WAIT_UNTIL(end_of(bs, in) > LINES / 2, 30000,
                        "the second half to start arriving (%lld lines in "
                        "the input)",
                        (long long)end_of(bs, in));
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
        st_wait_ok(producer, "second half producer");
        TEST_SAY("%d lines, %lld words produced by kafka-python", LINES,
                 (long long)words);
        js = st_kafkatool("committed -t %s -g %s", in, app);
        committed = sum_json(js);
        free(js);
        TEST_ASSERT(wcommitted >= 5000 && committed < LINES,
                    "not killed mid-run: %lld of %d lines and %lld words "
                    "committed",
                    (long long)committed, LINES, (long long)wcommitted);
        TEST_SAY("SIGKILL with %lld of %d lines and %lld of %lld words "
                 "committed; deleting the state directory",
                 (long long)committed, LINES, (long long)wcommitted,
                 (long long)words);
        st_rmrf(state);

        argv[argc++] = "--idle-exit-ms";
        argv[argc++] = "5000";
        argv[argc] = NULL;
        pid = st_spawn(argv, log2);
        waitpid(pid, &st, 0);
        TEST_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0,
                    "second run failed, see %s", log2);
        TEST_ASSERT(restored_in_log(log2) > 0,
                    "the second run restored nothing (see %s)", log2);
        TEST_SAY("second run restored %lld changelog records and finished; "
                 "it recognised %lld replayed word occurrences",
                 (long long)restored_in_log(log2),
                 (long long)replays_in_log(log2));

        got = st_wc_read_counts(out, VOCAB, &records);
        for (j = 0; j < VOCAB; j++)
                TEST_ASSERT(got[j] == truth[j],
                            "w%d: counted %lld, true count %lld", j,
                            (long long)got[j], (long long)truth[j]);
        TEST_SAY("all %d word counts read by kafka-python from %zu output "
                 "records equal the true counts",
                 VOCAB, records);
        free(got);
        free(truth);
        st_rmrf(state);
        unlink(log);
        unlink(log2);
        unlink(input);
        unlink(input2);
        return 0;
}
