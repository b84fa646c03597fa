/* rdkafka-probe - what does librdkafka report when it connects to a broker?
 *
 * A tiny librdkafka client that runs one operation (metadata, produce or
 * consume) for at most a given time and prints, as JSON lines on stdout with
 * milliseconds since start, every event librdkafka hands to the application:
 * error_cb (code name, number, fatal?, reason), log_cb (level, facility,
 * text), delivery reports, consumer errors, and a final result line.  Made
 * for the security tests of the broker that `scripts/kafka start --security`
 * runs (docs/SECURITY-TESTING.md), usable against any broker.
 *
 *   cc -O1 -o /tmp/rdkafka-probe scripts/rdkafka-probe.c \
 *      $(pkg-config --cflags --libs rdkafka) -lpthread
 *   /tmp/rdkafka-probe produce -b $BROOK_BROKERS_SSL -t topic -n 3 -w 10 \
 *       -X security.protocol=ssl -X ssl.ca.location=$BROOK_SEC_CA
 *
 * Usage: rdkafka-probe metadata|produce|consume -b BROKERS [-t TOPIC]
 *                      [-n COUNT] [-w SECONDS] [-g GROUP] [-E 0] [-V 1]
 *                      [-X key=value]...
 *   metadata  rd_kafka_metadata() (all topics) every 2 s until it succeeds
 *   produce   COUNT records "probe-<i>" to TOPIC, wait for every delivery
 *   consume   subscribe to TOPIC (group GROUP, from the earliest offset)
 *             and read COUNT records
 *   -w        give up after SECONDS (default 10); the result says so
 *   -E 0      do not set an error_cb: librdkafka 2.0.2 then logs the errors
 *             (level 3, facility ERROR); rd_kafka_consumer_poll() still
 *             returns none of them
 *   -V 1      set an ssl.certificate.verify_cb that reports every call
 *             ("verify" lines: depth, OpenSSL X509 error) and keeps
 *             OpenSSL's verdict: tells unknown CA (19/20) from host
 *             mismatch (62/64) and expiry (10); librdkafka's text does not
 *   -X        any librdkafka property (e.g. debug=security,broker)
 *
 * Output lines (t = ms since the client was created):
 *   {"t":0,"ev":"start","librdkafka":"2.0.2","mode":"produce"}
 *   {"t":..,"ev":"error_cb","code":"_TRANSPORT","err":-195,"fatal":false,
 *    "reason":"..."}
 *   {"t":..,"ev":"log","level":3,"fac":"FAIL","msg":"..."}
 *   {"t":..,"ev":"delivery","code":"NO_ERROR","err":0,"partition":0,"offset":5}
 *   {"t":..,"ev":"consumer_error","code":"..","err":..,"msg":".."}
 *   {"t":..,"ev":"verify","broker":"..","depth":0,"x509_error":62,
 *    "x509":"hostname mismatch"}
 *   {"t":..,"ev":"metadata","code":"..","err":..,"brokers":1,"topics":3}
 *   {"t":..,"ev":"result","ok":true,"done":3,"want":3,"timed_out":false}
 * Exit status: 0 when the operation completed, 1 when it did not in time,
 * 2 on usage or configuration errors.
 */
#define _POSIX_C_SOURCE 200809L
#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static struct timespec t0;
static pthread_mutex_t out_mu = PTHREAD_MUTEX_INITIALIZER;
static volatile int delivered, failed;

static long ms_since_start(void)
{
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        return (long)((t.tv_sec - t0.tv_sec) * 1000 +
                      (t.tv_nsec - t0.tv_nsec) / 1000000);
}

/* JSON string body of s (quotes not included) */
static void jstr(FILE *f, const char *s)
{
        for (; s && *s; s++) {
                unsigned char c = (unsigned char)*s;
                if (c == '"' || c == '\\')
                        fprintf(f, "\\%c", c);
                else if (c == '\n')
                        fputs("\\n", f);
                else if (c == '\t')
                        fputs("\\t", f);
                else if (c < 0x20)
                        fprintf(f, "\\u%04x", c);
                else
                        fputc(c, f);
        }
}

/* emit(ev, fmt, ...): one line {"t":..,"ev":"ev" <fmt>}; fmt adds fields,
 * %S is a JSON-escaped string argument (only %S, %d, %ld, %s are used) */
static void emit(const char *ev, const char *fmt, ...)
{
        va_list ap;
        pthread_mutex_lock(&out_mu);
        printf("{\"t\":%ld,\"ev\":\"%s\"", ms_since_start(), ev);
        va_start(ap, fmt);
        for (const char *p = fmt; *p; p++) {
                if (*p != '%') {
                        putchar(*p);
                        continue;
                }
                p++;
                if (*p == 'S') {
                        putchar('"');
                        jstr(stdout, va_arg(ap, const char *));
                        putchar('"');
                } else if (*p == 'd')
                        printf("%d", va_arg(ap, int));
                else if (*p == 'l' && p[1] == 'd') {
                        printf("%ld", va_arg(ap, long));
                        p++;
                } else if (*p == 's')
                        fputs(va_arg(ap, const char *), stdout);
        }
        va_end(ap);
        puts("}");
        fflush(stdout);
        pthread_mutex_unlock(&out_mu);
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
        (void)opaque;
        int fatal = err == RD_KAFKA_RESP_ERR__FATAL;
        char fbuf[512] = "";
        rd_kafka_resp_err_t ferr = RD_KAFKA_RESP_ERR_NO_ERROR;
        if (fatal)
                ferr = rd_kafka_fatal_error(rk, fbuf, sizeof fbuf);
        if (fatal)
                emit("error_cb",
                     ",\"code\":%S,\"err\":%d,\"fatal\":true,\"fatal_code\":%S,"
                     "\"reason\":%S",
                     rd_kafka_err2name(err), err, rd_kafka_err2name(ferr),
                     fbuf);
        else
                emit("error_cb",
                     ",\"code\":%S,\"err\":%d,\"fatal\":false,\"reason\":%S",
                     rd_kafka_err2name(err), err, reason);
}

static void on_log(const rd_kafka_t *rk, int level, const char *fac,
                   const char *buf)
{
        (void)rk;
        emit("log", ",\"level\":%d,\"fac\":%S,\"msg\":%S", level, fac, buf);
}

static void on_dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
        (void)rk, (void)opaque;
        if (m->err)
                failed++;
        else
                delivered++;
        emit("delivery",
             ",\"code\":%S,\"err\":%d,\"partition\":%d,\"offset\":%ld",
             rd_kafka_err2name(m->err), (int)m->err, (int)m->partition,
             (long)m->offset);
}

/* the OpenSSL X509_V_ERR_* codes a TLS test meets (no libcrypto needed) */
static const char *x509_name(int e)
{
        switch (e) {
        case 0:
                return "ok";
        case 2:
                return "unable to get issuer certificate";
        case 9:
                return "certificate is not yet valid";
        case 10:
                return "certificate has expired";
        case 18:
                return "self-signed certificate";
        case 19:
                return "self-signed certificate in certificate chain";
        case 20:
                return "unable to get local issuer certificate";
        case 21:
                return "unable to verify the first certificate";
        case 62:
                return "hostname mismatch";
        case 64:
                return "IP address mismatch";
        default:
                return "other (see openssl's X509_V_ERR_* list)";
        }
}

static int on_verify(rd_kafka_t *rk, const char *broker_name, int32_t broker_id,
                     int *x509_error, int depth, const char *buf, size_t size,
                     char *errstr, size_t errstr_size, void *opaque)
{
        (void)rk, (void)broker_id, (void)buf, (void)size, (void)opaque;
        emit("verify",
             ",\"broker\":%S,\"depth\":%d,\"x509_error\":%d,\"x509\":%S",
             broker_name, depth, *x509_error, x509_name(*x509_error));
        if (*x509_error) {
                snprintf(errstr, errstr_size, "X509 error %d (%s) at depth %d",
                         *x509_error, x509_name(*x509_error), depth);
                return 0;
        }
        return 1;
}

static void on_alarm(int sig)
{
        (void)sig;
        static const char msg[] = "{\"ev\":\"hang\",\"note\":\"still running "
                                  "30 s after the deadline\"}\n";
        if (write(1, msg, sizeof msg - 1) < 0)
                _exit(4);
        _exit(3);
}

static void usage(void)
{
        fputs("usage: rdkafka-probe metadata|produce|consume -b BROKERS [-t "
              "TOPIC] [-n COUNT] "
              "[-w SECONDS] [-g GROUP] [-E 0] [-V 1] [-X key=value]...\n",
              stderr);
        exit(2);
}

int main(int argc, char **argv)
{
        if (argc < 2)
                usage();
        const char *mode = argv[1], *brokers = NULL, *topic = NULL,
                   *group = NULL;
        int want = 3, wait_s = 10, with_error_cb = 1, with_verify_cb = 0;
        char errstr[512];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        int is_producer = !strcmp(mode, "produce") || !strcmp(mode, "metadata");
        if (!is_producer && strcmp(mode, "consume"))
                usage();
        for (int i = 2; i < argc; i++) {
                const char *a = argv[i];
                if (i + 1 >= argc)
                        usage();
                const char *v = argv[++i];
                if (!strcmp(a, "-b"))
                        brokers = v;
                else if (!strcmp(a, "-t"))
                        topic = v;
                else if (!strcmp(a, "-n"))
                        want = atoi(v);
                else if (!strcmp(a, "-w"))
                        wait_s = atoi(v);
                else if (!strcmp(a, "-g"))
                        group = v;
                else if (!strcmp(a, "-E"))
                        with_error_cb = atoi(v);
                else if (!strcmp(a, "-V"))
                        with_verify_cb = atoi(v);
                else if (!strcmp(a, "-X")) {
                        char *kv = strdup(v), *eq = strchr(kv, '=');
                        if (!eq)
                                usage();
                        *eq = '\0';
                        if (rd_kafka_conf_set(conf, kv, eq + 1, errstr,
                                              sizeof errstr) !=
                            RD_KAFKA_CONF_OK) {
                                fprintf(stderr, "rdkafka-probe: %s\n", errstr);
                                return 2;
                        }
                        free(kv);
                } else
                        usage();
        }
        if (!brokers || (strcmp(mode, "metadata") && !topic))
                usage();
        rd_kafka_conf_set(conf, "bootstrap.servers", brokers, errstr,
                          sizeof errstr);
        if (with_error_cb)
                rd_kafka_conf_set_error_cb(conf, on_error);
        if (with_verify_cb && rd_kafka_conf_set_ssl_cert_verify_cb(
                                  conf, on_verify) != RD_KAFKA_CONF_OK) {
                fputs("rdkafka-probe: this librdkafka has no "
                      "ssl.certificate.verify_cb\n",
                      stderr);
                return 2;
        }
        rd_kafka_conf_set_log_cb(conf, on_log);
        char gbuf[64];
        if (!is_producer) {
                if (!group) {
                        snprintf(gbuf, sizeof gbuf, "rdkafka-probe-%d",
                                 (int)getpid());
                        group = gbuf;
                }
                rd_kafka_conf_set(conf, "group.id", group, errstr,
                                  sizeof errstr);
                rd_kafka_conf_set(conf, "auto.offset.reset", "earliest", errstr,
                                  sizeof errstr);
        } else {
                rd_kafka_conf_set_dr_msg_cb(conf, on_dr);
        }

        clock_gettime(CLOCK_MONOTONIC, &t0);
        signal(SIGALRM, on_alarm);
        alarm((unsigned)wait_s + 30);
        rd_kafka_t *rk =
            rd_kafka_new(is_producer ? RD_KAFKA_PRODUCER : RD_KAFKA_CONSUMER,
                         conf, errstr, sizeof errstr);
        if (!rk) {
                emit("result",
                     ",\"ok\":false,\"stage\":\"rd_kafka_new\",\"error\":%S",
                     errstr);
                return 2;
        }
        emit("start", ",\"librdkafka\":%S,\"mode\":%S", rd_kafka_version_str(),
             mode);
        long deadline = (long)wait_s * 1000;
        int done = 0, ok = 0;

        if (!strcmp(mode, "metadata")) {
                while (!ok && ms_since_start() < deadline) {
                        const struct rd_kafka_metadata *md = NULL;
                        long left = deadline - ms_since_start();
                        rd_kafka_resp_err_t err = rd_kafka_metadata(
                            rk, 1, NULL, &md, left < 2000 ? (int)left : 2000);
                        emit("metadata",
                             ",\"code\":%S,\"err\":%d,\"brokers\":%d,"
                             "\"topics\":%d",
                             rd_kafka_err2name(err), (int)err,
                             md ? md->broker_cnt : 0, md ? md->topic_cnt : 0);
                        if (md)
                                rd_kafka_metadata_destroy(md);
                        rd_kafka_poll(rk, 0);
                        ok = err == RD_KAFKA_RESP_ERR_NO_ERROR;
                }
                done = ok;
                want = 1;
        } else if (is_producer) {
                for (int i = 0; i < want; i++) {
                        char v[32];
                        int n = snprintf(v, sizeof v, "probe-%d", i);
                        rd_kafka_resp_err_t err = rd_kafka_producev(
                            rk, RD_KAFKA_V_TOPIC(topic),
                            RD_KAFKA_V_VALUE(v, (size_t)n),
                            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                            RD_KAFKA_V_END);
                        if (err)
                                emit("produce_error", ",\"code\":%S,\"err\":%d",
                                     rd_kafka_err2name(err), (int)err);
                }
                while (delivered + failed < want && ms_since_start() < deadline)
                        rd_kafka_poll(rk, 100);
                done = delivered;
                ok = delivered == want;
                if (delivered + failed < want) {
                        /* report what is still queued as purged, so destroy
                         * does not wait */
                        rd_kafka_purge(rk, RD_KAFKA_PURGE_F_QUEUE |
                                               RD_KAFKA_PURGE_F_INFLIGHT);
                        rd_kafka_poll(rk, 0);
                }
        } else {
                rd_kafka_topic_partition_list_t *tl =
                    rd_kafka_topic_partition_list_new(1);
                rd_kafka_topic_partition_list_add(tl, topic,
                                                  RD_KAFKA_PARTITION_UA);
                rd_kafka_poll_set_consumer(rk);
                rd_kafka_resp_err_t err = rd_kafka_subscribe(rk, tl);
                rd_kafka_topic_partition_list_destroy(tl);
                if (err)
                        emit("subscribe_error", ",\"code\":%S,\"err\":%d",
                             rd_kafka_err2name(err), (int)err);
                while (done < want && ms_since_start() < deadline) {
                        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
                        if (!m)
                                continue;
                        if (m->err) {
                                emit("consumer_error",
                                     ",\"code\":%S,\"err\":%d,\"msg\":%S",
                                     rd_kafka_err2name(m->err), (int)m->err,
                                     rd_kafka_message_errstr(m));
                        } else {
                                done++;
                        }
                        rd_kafka_message_destroy(m);
                }
                ok = done >= want;
        }
        emit("result",
             ",\"ok\":%s,\"mode\":%S,\"done\":%d,\"want\":%d,\"timed_out\":%s",
             ok ? "true" : "false", mode, done, want, ok ? "false" : "true");
        if (!is_producer)
                rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
        emit("destroyed", "");
        return ok ? 0 : 1;
}
