/*
 * brook-testconsumer: a brook consumer driven by command-line options, for
 * the integration and fault tests (the tests under tests/broker). It records every
 * delivery it processed to a file so that an independent client can compare
 * processed, committed and produced offsets.
 *
 *   brook-testconsumer --brokers B --topic T[,T...] --group G [options]
 *
 *   --set NAME=VALUE    any brook property (repeatable)
 *   --mode batch|message|message-batches
 *   --fail P:O[:N]      fail partition P offset O on its first N deliveries
 *                       (N omitted: always) (repeatable)
 *   --fail-batch P:O[:N] fail the whole batch holding P:O (N deliveries)
 *   --record FILE       append "partition offset attempt" per processed
 *                       delivery, written before the handler returns
 *   --exit-after N      stop after N deliveries
 *   --idle-exit MS      stop when nothing arrived for MS (after the first)
 *   --slow-ms MS        sleep MS in every batch (or message) handler call
 *   --decode-json       decoder: values must start with '{' (else fail)
 *   --dead-letters FILE append "partition offset reason" per dead letter
 *   --ready FILE        create FILE once partitions are assigned
 *
 * Exit status: 0 after a clean stop, 3 when run() returned an error (its
 * message on stderr), 2 on bad arguments.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "brook/brook.h"

#define MAX_FAIL 256

typedef struct fail_s {
        int32_t p;
        int64_t o;
        int n; /* -1: always */
        int whole;
        int seen;
} fail_t;

static struct {
        fail_t fail[MAX_FAIL];
        int nfail;
        int rec_fd, dl_fd;
        long exit_after;
        long idle_ms;
        long slow_ms;
        const char *ready;
        atomic_long delivered;
        atomic_llong last_ms;
        atomic_int finished;
        pthread_mutex_t lock;
} g = {.rec_fd = -1, .dl_fd = -1, .lock = PTHREAD_MUTEX_INITIALIZER};

static brook_consumer_t *consumer;

static long long now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};

        while (nanosleep(&ts, &ts) && errno == EINTR)
                ;
}

static void write_all(int fd, const char *buf, size_t len)
{
        while (len > 0) {
                ssize_t w = write(fd, buf, len);

                if (w < 0) {
                        if (errno == EINTR)
                                continue;
                        perror("write");
                        exit(4);
                }
                buf += w;
                len -= (size_t)w;
        }
}

/* Does this delivery fail? (and is it a whole-batch failure) */
static int should_fail(const brook_msg_t *m, int *whole)
{
        int i, r = 0;

        pthread_mutex_lock(&g.lock);
        for (i = 0; i < g.nfail; i++) {
                fail_t *f = &g.fail[i];

                if (f->p != brook_msg_partition(m) ||
                    f->o != brook_msg_offset(m))
                        continue;
                if (f->n < 0 || f->seen < f->n) {
                        f->seen++;
                        r = 1;
                        *whole = f->whole;
                }
        }
        pthread_mutex_unlock(&g.lock);
        return r;
}

static void account(long n)
{
        long d = atomic_fetch_add(&g.delivered, n) + n;

        atomic_store(&g.last_ms, now_ms());
        if (g.exit_after && d >= g.exit_after)
                brook_consumer_stop(consumer);
}

static void record(const brook_msg_t *m, char *buf, size_t *o, size_t size)
{
        *o += (size_t)snprintf(buf + *o, size - *o, "%d %lld %d\n",
                               (int)brook_msg_partition(m),
                               (long long)brook_msg_offset(m),
                               brook_msg_retry_count(m));
}

static brook_err_t on_batch(brook_batch_t *b, void *opaque)
{
        size_t i, n = brook_batch_count(b), o = 0, size = n * 48 + 1;
        char *buf = g.rec_fd >= 0 ? malloc(size) : NULL;
        int whole_fail = 0;

        (void)opaque;
        if (g.slow_ms)
                sleep_ms(g.slow_ms);
        for (i = 0; i < n; i++) {
                brook_msg_t *m = brook_batch_msg(b, i);
                int whole = 0;

                if (should_fail(m, &whole)) {
                        if (whole)
                                whole_fail = 1;
                        else
                                brook_batch_fail(b, i, "injected failure");
                        continue;
                }
                if (buf)
                        record(m, buf, &o, size);
        }
        if (whole_fail) {
                free(buf);
                return brook_batch_fail_all(b, "injected batch failure");
        }
        if (buf) {
                write_all(g.rec_fd, buf, o);
                free(buf);
        }
        account((long)n);
        return BROOK_OK;
}

static brook_err_t on_message(brook_msg_t *m, void *opaque)
{
        char buf[64];
        size_t o = 0;
        int whole = 0;

        (void)opaque;
        if (g.slow_ms)
                sleep_ms(g.slow_ms);
        if (should_fail(m, &whole))
                return brook_msg_fail(m, "injected failure");
        if (g.rec_fd >= 0) {
                record(m, buf, &o, sizeof(buf));
                write_all(g.rec_fd, buf, o);
        }
        account(1);
        return BROOK_OK;
}

static void on_dead_letter(const brook_msg_t *m, const char *reason,
                           void *opaque)
{
        char buf[600];
        int n;

        (void)opaque;
        if (g.dl_fd < 0)
                return;
        n = snprintf(buf, sizeof(buf), "%d %lld %s\n",
                     (int)brook_msg_partition(m),
                     (long long)brook_msg_offset(m), reason);
        write_all(g.dl_fd, buf, (size_t)n);
}

static brook_err_t decode_json(const void *value, size_t len, void **out,
                               char *errstr, size_t errstr_size, void *opaque)
{
        (void)opaque;
        (void)out;
        if (!value || !len || ((const char *)value)[0] != '{') {
                snprintf(errstr, errstr_size,
                         "value is not a JSON object (first byte 0x%02x)",
                         value && len ? ((const unsigned char *)value)[0]
                                      : 0);
                return BROOK_ERR_DECODE;
        }
        return BROOK_OK;
}

static void on_partitions(const char *topic, int32_t p, int assigned,
                          void *opaque)
{
        (void)topic;
        (void)p;
        (void)opaque;
        if (assigned && g.ready) {
                int fd = open(g.ready, O_CREAT | O_WRONLY, 0644);

                if (fd >= 0)
                        close(fd);
        }
}

static void on_signal(int sig)
{
        (void)sig;
        brook_consumer_stop(consumer);
}

static void *idle_watch(void *arg)
{
        (void)arg;
        while (!atomic_load(&g.finished)) {
                long long last = atomic_load(&g.last_ms);

                sleep_ms(50);
                if (last && now_ms() - last >= g.idle_ms) {
                        brook_consumer_stop(consumer);
                        return NULL;
                }
        }
        return NULL;
}

static void usage(const char *why)
{
        fprintf(stderr, "brook-testconsumer: %s (see the file header)\n", why);
        exit(2);
}

static int open_append(const char *path)
{
        int fd = open(path, O_CREAT | O_WRONLY | O_APPEND, 0644);

        if (fd < 0) {
                perror(path);
                exit(2);
        }
        return fd;
}

int main(int argc, char **argv)
{
        const char *brokers = NULL, *topics_arg = NULL, *group = NULL;
        const char *mode = "batch", *topics[64];
        brook_conf_t *conf = brook_conf_new();
        brook_handlers_t *h = brook_handlers_new();
        char es[512], *tcopy, *tok, *save;
        brook_error_t *err;
        pthread_t idle;
        size_t ntopics = 0;
        int i, rc = 0;

        for (i = 1; i < argc; i++) {
                const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

                if (!strcmp(a, "--decode-json")) {
                        brook_handlers_set_decoder(h, decode_json, NULL);
                        continue;
                }
                if (!v)
                        usage("missing value");
                i++;
                if (!strcmp(a, "--brokers")) {
                        brokers = v;
                } else if (!strcmp(a, "--topic")) {
                        topics_arg = v;
                } else if (!strcmp(a, "--group")) {
                        group = v;
                } else if (!strcmp(a, "--mode")) {
                        mode = v;
                } else if (!strcmp(a, "--set")) {
                        char name[256];
                        const char *eq = strchr(v, '=');

                        if (!eq || (size_t)(eq - v) >= sizeof(name))
                                usage("--set NAME=VALUE");
                        memcpy(name, v, (size_t)(eq - v));
                        name[eq - v] = '\0';
                        if (brook_conf_set(conf, name, eq + 1, es,
                                           sizeof(es))) {
                                fprintf(stderr, "brook-testconsumer: %s\n",
                                        es);
                                return 2;
                        }
                } else if (!strcmp(a, "--fail") || !strcmp(a, "--fail-batch")) {
                        fail_t *f = &g.fail[g.nfail];
                        long long o;
                        int p, n = -1;

                        if (g.nfail == MAX_FAIL ||
                            sscanf(v, "%d:%lld:%d", &p, &o, &n) < 2)
                                usage("--fail P:O[:N]");
                        f->p = p;
                        f->o = o;
                        f->n = n;
                        f->whole = !strcmp(a, "--fail-batch");
                        g.nfail++;
                } else if (!strcmp(a, "--record")) {
                        g.rec_fd = open_append(v);
                } else if (!strcmp(a, "--dead-letters")) {
                        g.dl_fd = open_append(v);
                } else if (!strcmp(a, "--exit-after")) {
                        g.exit_after = atol(v);
                } else if (!strcmp(a, "--idle-exit")) {
                        g.idle_ms = atol(v);
                } else if (!strcmp(a, "--slow-ms")) {
                        g.slow_ms = atol(v);
                } else if (!strcmp(a, "--ready")) {
                        g.ready = v;
                } else {
                        usage("unknown option");
                }
        }
        if (!brokers || !topics_arg || !group)
                usage("--brokers, --topic and --group are required");
        if (brook_conf_set(conf, "bootstrap.servers", brokers, es,
                           sizeof(es)) ||
            brook_conf_set(conf, "group.id", group, es, sizeof(es))) {
                fprintf(stderr, "brook-testconsumer: %s\n", es);
                return 2;
        }
        tcopy = strdup(topics_arg);
        for (tok = strtok_r(tcopy, ",", &save); tok && ntopics < 64;
             tok = strtok_r(NULL, ",", &save))
                topics[ntopics++] = tok;
        if (!strcmp(mode, "batch"))
                brook_handlers_set_batch(h, on_batch);
        else if (!strcmp(mode, "message") || !strcmp(mode, "message-batches"))
                brook_handlers_set_message(h, on_message);
        else
                usage("--mode batch|message|message-batches");
        brook_handlers_set_dead_letter(h, on_dead_letter);
        brook_handlers_set_partitions(h, on_partitions);
        consumer = brook_consumer_new(conf, h, NULL, es, sizeof(es));
        if (!consumer) {
                fprintf(stderr, "brook-testconsumer: %s\n", es);
                return 3;
        }
        if (brook_consumer_subscribe(consumer, topics, ntopics, es,
                                     sizeof(es))) {
                fprintf(stderr, "brook-testconsumer: %s\n", es);
                return 3;
        }
        signal(SIGTERM, on_signal);
        signal(SIGINT, on_signal);
        if (g.idle_ms)
                pthread_create(&idle, NULL, idle_watch, NULL);
        err = brook_consumer_run(consumer);
        if (err) {
                fprintf(stderr, "brook-testconsumer: run: %s: %s\n",
                        brook_err2name(brook_error_code(err)),
                        brook_error_string(err));
                brook_error_destroy(err);
                rc = 3;
        }
        atomic_store(&g.finished, 1);
        if (g.idle_ms)
                pthread_join(idle, NULL);
        brook_consumer_destroy(consumer);
        brook_handlers_destroy(h);
        brook_conf_destroy(conf);
        free(tcopy);
        printf("delivered=%ld\n", atomic_load(&g.delivered));
        return rc;
}
