/*
 * brook-testconsumer: a brook consumer driven by command-line options, for
 * the integration and fault tests (the tests under tests/broker). It records
 * every delivery it processed to a file so that an independent client can
 * compare processed, committed and produced offsets.
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
 *                       (one write per line: complete lines survive SIGKILL)
 *   --ready FILE        create FILE once partitions are assigned
 *   --slow-count N      with --slow-ms: only the first N handler calls sleep
 *   --events FILE       append one line per event, wall-clock ms
 * (CLOCK_REALTIME): B ms p first last count attempt   handler entry E ms p
 * first last                 handler exit F ms p offset retry injected failure
 *                         X ms p first last                 whole-batch failure
 *                         D ms p offset                     dead-letter
 * callback A ms p / R ms p                   assigned / revoked
 *   --dump FILE         append a JSON line per delivery the handler saw (at
 *                       entry, failing ones included): {"p","o","r" (retry
 *                       count),"ts","k","v","h":[[name,value],...]}; key,
 *                       value and header values base64, null for null
 *   --kill-on-dead-letter N  SIGKILL this process in the Nth dead-letter
 *                       callback, right after its --dead-letters line: a
 *                       crash between the dead-letter write and the commit
 *
 * Exit status: 0 after a clean stop; 3 when brook refused the
 * configuration (when set, or when the consumer was created), could not
 * subscribe, or run() returned an error (the message on stderr); 2 on bad
 * arguments of this program.
 */
#include <errno.h>
#include <stdarg.h>
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
        int rec_fd, dl_fd, ev_fd, dump_fd;
        long exit_after;
        long idle_ms;
        long slow_ms;
        long slow_count; /* 0: every call */
        long kill_on_dl;
        const char *ready;
        atomic_long delivered;
        atomic_long calls;
        atomic_long dead;
        atomic_llong last_ms;
        atomic_int finished;
        pthread_mutex_t lock;
} g = {.rec_fd = -1,
       .dl_fd = -1,
       .ev_fd = -1,
       .dump_fd = -1,
       .lock = PTHREAD_MUTEX_INITIALIZER};

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

static long long wall_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One event line (--events), written with a single write(). */
static void event(const char *fmt, ...)
{
        char buf[256];
        int n, m;
        va_list ap;

        if (g.ev_fd < 0)
                return;
        n = snprintf(buf, sizeof(buf), "%c %lld", fmt[0], wall_ms());
        va_start(ap, fmt);
        m = vsnprintf(buf + n, sizeof(buf) - (size_t)n - 1, fmt + 1, ap);
        va_end(ap);
        n += m;
        buf[n++] = '\n';
        write_all(g.ev_fd, buf, (size_t)n);
}

/* Append @p len bytes of @p src base64-encoded (as a JSON string) to @p o. */
static size_t b64(char *o, const void *src, size_t len)
{
        static const char tbl[] =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        const unsigned char *s = src;
        size_t i, n = 0;

        o[n++] = '"';
        for (i = 0; i + 2 < len; i += 3) {
                o[n++] = tbl[s[i] >> 2];
                o[n++] = tbl[((s[i] & 3) << 4) | (s[i + 1] >> 4)];
                o[n++] = tbl[((s[i + 1] & 15) << 2) | (s[i + 2] >> 6)];
                o[n++] = tbl[s[i + 2] & 63];
        }
        if (i < len) {
                o[n++] = tbl[s[i] >> 2];
                if (i + 1 < len) {
                        o[n++] = tbl[((s[i] & 3) << 4) | (s[i + 1] >> 4)];
                        o[n++] = tbl[(s[i + 1] & 15) << 2];
                } else {
                        o[n++] = tbl[(s[i] & 3) << 4];
                        o[n++] = '=';
                }
                o[n++] = '=';
        }
        o[n++] = '"';
        return n;
}

static size_t b64_or_null(char *o, const void *src, size_t len)
{
        if (!src) {
                memcpy(o, "null", 4);
                return 4;
        }
        return b64(o, src, len);
}

/* --dump: the delivery as one JSON line. */
static void dump(const brook_msg_t *m)
{
        size_t klen = 0, vlen = 0, hn = brook_msg_header_count(m), i, need, o;
        const void *k = brook_msg_key(m, &klen), *v = brook_msg_value(m, &vlen);
        char *buf;

        if (g.dump_fd < 0)
                return;
        need = 160 + (klen + vlen) * 4 / 3 + 16;
        for (i = 0; i < hn; i++) {
                const char *name;
                const void *hv;
                size_t hs = 0;

                brook_msg_header_get(m, i, &name, &hv, &hs);
                need += 16 + (strlen(name) + hs) * 4 / 3 + 16;
        }
        if (!(buf = malloc(need))) {
                perror("malloc");
                exit(4);
        }
        o = (size_t)snprintf(
            buf, need, "{\"p\":%d,\"o\":%lld,\"r\":%d,\"ts\":%lld,\"k\":",
            (int)brook_msg_partition(m), (long long)brook_msg_offset(m),
            brook_msg_retry_count(m), (long long)brook_msg_timestamp(m, NULL));
        o += b64_or_null(buf + o, k, klen);
        memcpy(buf + o, ",\"v\":", 5);
        o += 5;
        o += b64_or_null(buf + o, v, vlen);
        memcpy(buf + o, ",\"h\":[", 6);
        o += 6;
        for (i = 0; i < hn; i++) {
                const char *name;
                const void *hv;
                size_t hs = 0;

                brook_msg_header_get(m, i, &name, &hv, &hs);
                if (i)
                        buf[o++] = ',';
                buf[o++] = '[';
                o += b64(buf + o, name, strlen(name));
                buf[o++] = ',';
                o += b64_or_null(buf + o, hv, hs);
                buf[o++] = ']';
        }
        memcpy(buf + o, "]}\n", 3);
        o += 3;
        write_all(g.dump_fd, buf, o);
        free(buf);
}

static void maybe_slow(void)
{
        long n = atomic_fetch_add(&g.calls, 1);

        if (g.slow_ms && (!g.slow_count || n < g.slow_count))
                sleep_ms(g.slow_ms);
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
        *o += (size_t)snprintf(
            buf + *o, size - *o, "%d %lld %d\n", (int)brook_msg_partition(m),
            (long long)brook_msg_offset(m), brook_msg_retry_count(m));
}

static brook_err_t on_batch(brook_batch_t *b, void *opaque)
{
        size_t i, n = brook_batch_count(b), o = 0, size = n * 48 + 1;
        char *buf = g.rec_fd >= 0 ? malloc(size) : NULL;
        int whole_fail = 0, p = (int)brook_batch_partition(b);
        long long first = (long long)brook_batch_first_offset(b),
                  last = (long long)brook_batch_last_offset(b);

        (void)opaque;
        event("B %d %lld %lld %zu %d", p, first, last, n,
              brook_batch_attempt(b));
        for (i = 0; i < n; i++)
                dump(brook_batch_msg(b, i));
        maybe_slow();
        for (i = 0; i < n; i++) {
                brook_msg_t *m = brook_batch_msg(b, i);
                int whole = 0;

                if (should_fail(m, &whole)) {
                        if (whole) {
                                whole_fail = 1;
                        } else {
                                event("F %d %lld %d", p,
                                      (long long)brook_msg_offset(m),
                                      brook_msg_retry_count(m));
                                brook_batch_fail(b, i, "injected failure");
                        }
                        continue;
                }
                if (buf)
                        record(m, buf, &o, size);
        }
        if (whole_fail) {
                free(buf);
                event("X %d %lld %lld", p, first, last);
                return brook_batch_fail_all(b, "injected batch failure");
        }
        if (buf) {
                write_all(g.rec_fd, buf, o);
                free(buf);
        }
        event("E %d %lld %lld", p, first, last);
        account((long)n);
        return BROOK_OK;
}

static brook_err_t on_message(brook_msg_t *m, void *opaque)
{
        char buf[64];
        size_t o = 0;
        int whole = 0, p = (int)brook_msg_partition(m);
        long long off = (long long)brook_msg_offset(m);

        (void)opaque;
        event("B %d %lld %lld 1 %d", p, off, off, brook_msg_retry_count(m));
        dump(m);
        maybe_slow();
        if (should_fail(m, &whole)) {
                event("F %d %lld %d", p, off, brook_msg_retry_count(m));
                return brook_msg_fail(m, "injected failure");
        }
        if (g.rec_fd >= 0) {
                record(m, buf, &o, sizeof(buf));
                write_all(g.rec_fd, buf, o);
        }
        event("E %d %lld %lld", p, off, off);
        account(1);
        return BROOK_OK;
}

static void on_dead_letter(const brook_msg_t *m, const char *reason,
                           void *opaque)
{
        char buf[600];
        int n;

        (void)opaque;
        event("D %d %lld", (int)brook_msg_partition(m),
              (long long)brook_msg_offset(m));
        if (g.dl_fd >= 0) {
                n = snprintf(buf, sizeof(buf), "%d %lld %s\n",
                             (int)brook_msg_partition(m),
                             (long long)brook_msg_offset(m), reason);
                if (n >= (int)sizeof(buf))
                        n = (int)sizeof(buf) - 1, buf[n - 1] = '\n';
                write_all(g.dl_fd, buf, (size_t)n);
        }
        if (g.kill_on_dl && atomic_fetch_add(&g.dead, 1) + 1 == g.kill_on_dl)
                raise(SIGKILL); /* before brook can commit past it */
}

static brook_err_t decode_json(const void *value, size_t len, void **out,
                               char *errstr, size_t errstr_size, void *opaque)
{
        (void)opaque;
        (void)out;
        if (!value || !len || ((const char *)value)[0] != '{') {
                snprintf(errstr, errstr_size,
                         "value is not a JSON object (first byte 0x%02x)",
                         value && len ? ((const unsigned char *)value)[0] : 0);
                return BROOK_ERR_DECODE;
        }
        return BROOK_OK;
}

static void on_partitions(const char *topic, int32_t p, int assigned,
                          void *opaque)
{
        (void)topic;
        (void)opaque;
        event(assigned ? "A %d" : "R %d", (int)p);
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
                                fprintf(stderr, "brook-testconsumer: %s\n", es);
                                return 3;
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
                } else if (!strcmp(a, "--slow-count")) {
                        g.slow_count = atol(v);
                } else if (!strcmp(a, "--events")) {
                        g.ev_fd = open_append(v);
                } else if (!strcmp(a, "--dump")) {
                        g.dump_fd = open_append(v);
                } else if (!strcmp(a, "--kill-on-dead-letter")) {
                        g.kill_on_dl = atol(v);
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
                brook_handlers_destroy(h);
                brook_conf_destroy(conf);
                return 3;
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
                rc = 3;
                goto out;
        }
        if (brook_consumer_subscribe(consumer, topics, ntopics, es,
                                     sizeof(es))) {
                fprintf(stderr, "brook-testconsumer: %s\n", es);
                rc = 3;
                goto out;
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
out:
        brook_consumer_destroy(consumer);
        brook_handlers_destroy(h);
        brook_conf_destroy(conf);
        free(tcopy);
        printf("delivered=%ld\n", atomic_load(&g.delivered));
        return rc;
}
