/*
 * streams_test.c: helpers behind streams_test.h. Producing and reading use
 * plain librdkafka, kafkatool.py uses kafka-python: neither goes through
 * brook.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>
#include <librdkafka/rdkafka.h>

#include "streams_test.h"

static void dr_check(rd_kafka_t *rk, const rd_kafka_message_t *rkm, void *op)
{
        (void)rk;
        (void)op;
        if (rkm->err)
                TEST_FAIL("delivery failed: %s", rd_kafka_err2str(rkm->err));
}

static rd_kafka_t *producer(const char *bootstraps)
{
        rd_kafka_conf_t *rkc = rd_kafka_conf_new();
        char es[512];
        rd_kafka_t *rk;

        if (rd_kafka_conf_set(rkc, "bootstrap.servers", bootstraps, es,
                              sizeof(es)) ||
            rd_kafka_conf_set(rkc, "linger.ms", "5", es, sizeof(es)) ||
            rd_kafka_conf_set(rkc, "enable.idempotence", "true", es,
                              sizeof(es)) ||
            rd_kafka_conf_set(rkc, "queue.buffering.max.messages", "1000000",
                              es, sizeof(es)))
                TEST_FAIL("producer conf: %s", es);
        rd_kafka_conf_set_dr_msg_cb(rkc, dr_check);
        if (!(rk = rd_kafka_new(RD_KAFKA_PRODUCER, rkc, es, sizeof(es))))
                TEST_FAIL("producer: %s", es);
        return rk;
}

static void flush_all(rd_kafka_t *rk)
{
        int64_t deadline = test_now_ms() + test_timeout_ms(60000);

        while (rd_kafka_outq_len(rk) > 0 && test_now_ms() < deadline)
                rd_kafka_poll(rk, 100);
        TEST_ASSERT(rd_kafka_outq_len(rk) == 0, "%d messages not delivered",
                    rd_kafka_outq_len(rk));
}

void st_produce(const char *bootstraps, const char *topic, int partitions,
                int64_t start, int64_t cnt, int keys, int64_t ts_base)
{
        rd_kafka_t *rk = producer(bootstraps);
        char key[32], val[32], hi[32];
        int64_t i;

        for (i = start; i < start + cnt; i++) {
                rd_kafka_resp_err_t err;
                rd_kafka_headers_t *h = rd_kafka_headers_new(1);

                snprintf(key, sizeof(key), "k%lld",
                         (long long)(keys ? i % keys : i));
                snprintf(val, sizeof(val), "v%lld", (long long)i);
                snprintf(hi, sizeof(hi), "%lld", (long long)i);
                rd_kafka_header_add(h, "i", -1, hi, -1);
                do {
                        err = rd_kafka_producev(
                            rk, RD_KAFKA_V_TOPIC(topic),
                            RD_KAFKA_V_PARTITION(partitions
                                                     ? (int32_t)(i % partitions)
                                                     : RD_KAFKA_PARTITION_UA),
                            RD_KAFKA_V_KEY(key, strlen(key)),
                            RD_KAFKA_V_VALUE(val, strlen(val)),
                            RD_KAFKA_V_TIMESTAMP(ts_base ? ts_base + i : 0),
                            RD_KAFKA_V_HEADERS(h),
                            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                            RD_KAFKA_V_END);
                        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL)
                                rd_kafka_poll(rk, 10);
                } while (err == RD_KAFKA_RESP_ERR__QUEUE_FULL);
                if (err)
                        rd_kafka_headers_destroy(h);
                TEST_ASSERT(!err, "produce: %s", rd_kafka_err2str(err));
                rd_kafka_poll(rk, 0);
        }
        flush_all(rk);
        rd_kafka_destroy(rk);
}

void st_produce_kvs(const char *bootstraps, const char *topic,
                    int32_t partition, const char *const *keys,
                    const void *const *values, const size_t *value_lens,
                    size_t cnt)
{
        rd_kafka_t *rk = producer(bootstraps);
        size_t i;

        for (i = 0; i < cnt; i++) {
                rd_kafka_resp_err_t err;

                do {
                        err = rd_kafka_producev(
                            rk, RD_KAFKA_V_TOPIC(topic),
                            RD_KAFKA_V_PARTITION(partition),
                            RD_KAFKA_V_KEY(keys[i],
                                           keys[i] ? strlen(keys[i]) : 0),
                            RD_KAFKA_V_VALUE((void *)values[i],
                                             values[i] ? value_lens[i] : 0),
                            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                            RD_KAFKA_V_END);
                        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL)
                                rd_kafka_poll(rk, 10);
                } while (err == RD_KAFKA_RESP_ERR__QUEUE_FULL);
                TEST_ASSERT(!err, "produce: %s", rd_kafka_err2str(err));
                rd_kafka_poll(rk, 0);
        }
        flush_all(rk);
        rd_kafka_destroy(rk);
}

void st_produce_str(const char *bootstraps, const char *topic,
                    int32_t partition, const char *key, const char *value)
{
        rd_kafka_t *rk = producer(bootstraps);
        rd_kafka_resp_err_t err = rd_kafka_producev(
            rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(partition),
            RD_KAFKA_V_KEY(key, key ? strlen(key) : 0),
            RD_KAFKA_V_VALUE((void *)value, value ? strlen(value) : 0),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);

        TEST_ASSERT(!err, "produce: %s", rd_kafka_err2str(err));
        flush_all(rk);
        rd_kafka_destroy(rk);
}

static rd_kafka_t *plain_consumer(const char *bootstraps)
{
        rd_kafka_conf_t *rkc = rd_kafka_conf_new();
        char es[512];
        rd_kafka_t *rk;

        if (rd_kafka_conf_set(rkc, "bootstrap.servers", bootstraps, es,
                              sizeof(es)) ||
            rd_kafka_conf_set(rkc, "group.id", test_name("st-reader"), es,
                              sizeof(es)) ||
            rd_kafka_conf_set(rkc, "enable.auto.commit", "false", es,
                              sizeof(es)) ||
            rd_kafka_conf_set(rkc, "enable.partition.eof", "true", es,
                              sizeof(es)))
                TEST_FAIL("consumer conf: %s", es);
        if (!(rk = rd_kafka_new(RD_KAFKA_CONSUMER, rkc, es, sizeof(es))))
                TEST_FAIL("consumer: %s", es);
        rd_kafka_poll_set_consumer(rk);
        return rk;
}

int64_t st_end_offset(const char *bootstraps, const char *topic,
                      int32_t partition)
{
        rd_kafka_t *rk = plain_consumer(bootstraps);
        int64_t lo, hi;
        rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(
            rk, topic, partition, &lo, &hi, (int)test_timeout_ms(10000));

        TEST_ASSERT(!err, "watermarks %s [%d]: %s", topic, (int)partition,
                    rd_kafka_err2str(err));
        rd_kafka_destroy(rk);
        return hi;
}

static char *dup_n(const void *p, size_t n)
{
        char *d;

        if (!p)
                return NULL;
        d = malloc(n + 1);
        memcpy(d, p, n);
        d[n] = '\0';
        return d;
}

st_rec_t *st_read_topic(const char *bootstraps, const char *topic, size_t *cntp)
{
        rd_kafka_t *rk = plain_consumer(bootstraps);
        const struct rd_kafka_metadata *md;
        rd_kafka_topic_partition_list_t *l;
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
        int64_t *ends, deadline;
        st_rec_t *recs = NULL;
        size_t cnt = 0, cap = 0;
        int np, p, left = 0;

        TEST_ASSERT(
            !rd_kafka_metadata(rk, 0, rkt, &md, (int)test_timeout_ms(10000)) &&
                md->topic_cnt == 1 && !md->topics[0].err,
            "metadata of %s", topic);
        np = md->topics[0].partition_cnt;
        rd_kafka_metadata_destroy(md);
        rd_kafka_topic_destroy(rkt);
        ends = calloc((size_t)np, sizeof(*ends));
        l = rd_kafka_topic_partition_list_new(np);
        for (p = 0; p < np; p++) {
                int64_t lo;

                TEST_ASSERT(!rd_kafka_query_watermark_offsets(
                                rk, topic, p, &lo, &ends[p],
                                (int)test_timeout_ms(10000)),
                            "watermarks");
                if (ends[p] > lo) {
                        rd_kafka_topic_partition_list_add(l, topic, p)->offset =
                            RD_KAFKA_OFFSET_BEGINNING;
                        left++;
                }
        }
        TEST_ASSERT(!rd_kafka_assign(rk, l), "assign");
        rd_kafka_topic_partition_list_destroy(l);
        deadline = test_now_ms() + test_timeout_ms(60000);
        while (left > 0 && test_now_ms() < deadline) {
                rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
                rd_kafka_headers_t *h;
                const void *hv;
                size_t hs;

                if (!m)
                        continue;
                if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                        if (m->offset >= ends[m->partition] &&
                            ends[m->partition] >= 0) {
                                ends[m->partition] = -1;
                                left--;
                        }
                        rd_kafka_message_destroy(m);
                        continue;
                }
                TEST_ASSERT(!m->err, "consume %s: %s", topic,
                            rd_kafka_message_errstr(m));
                if (ends[m->partition] >= 0 && m->offset < ends[m->partition]) {
                        st_rec_t *r;

                        if (cnt == cap) {
                                cap = cap ? cap * 2 : 1024;
                                recs = realloc(recs, cap * sizeof(*recs));
                        }
                        r = &recs[cnt++];
                        memset(r, 0, sizeof(*r));
                        r->partition = m->partition;
                        r->offset = m->offset;
                        r->timestamp = rd_kafka_message_timestamp(m, NULL);
                        r->key = dup_n(m->key, m->key_len);
                        r->key_len = m->key_len;
                        r->value = dup_n(m->payload, m->len);
                        r->value_len = m->len;
                        if (!rd_kafka_message_headers(m, &h)) {
                                size_t hi, hl = 0, hc = 256;
                                const char *hn;

                                r->hdr_cnt = (int)rd_kafka_header_cnt(h);
                                r->hdrs = calloc(1, hc);
                                for (hi = 0; !rd_kafka_header_get_all(
                                         h, hi, &hn, &hv, &hs);
                                     hi++) {
                                        size_t need = strlen(hn) + hs + 3;

                                        if (hl + need >= hc)
                                                r->hdrs = realloc(
                                                    r->hdrs,
                                                    hc = (hl + need) * 2);
                                        hl += (size_t)snprintf(
                                            r->hdrs + hl, hc - hl, "%s=%.*s\n",
                                            hn, (int)hs,
                                            hv ? (const char *)hv : "");
                                }
                                if (!rd_kafka_header_get_last(h, "i", &hv, &hs))
                                        r->hdr_i = dup_n(hv, hs);
                        }
                        if (m->offset + 1 >= ends[m->partition]) {
                                ends[m->partition] = -1;
                                left--;
                        }
                }
                rd_kafka_message_destroy(m);
        }
        TEST_ASSERT(left == 0, "%s: end not reached (%zu records read)", topic,
                    cnt);
        free(ends);
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
        *cntp = cnt;
        return recs;
}

void st_recs_free(st_rec_t *recs, size_t cnt)
{
        size_t i;

        for (i = 0; i < cnt; i++) {
                free(recs[i].key);
                free(recs[i].value);
                free(recs[i].hdr_i);
                free(recs[i].hdrs);
        }
        free(recs);
}

const char *st_rec_header(const st_rec_t *r, const char *name)
{
        static char buf[1024];
        const char *p = r->hdrs;
        size_t nl = strlen(name);

        while (p && *p) {
                const char *e = strchr(p, '\n');

                if (!strncmp(p, name, nl) && p[nl] == '=') {
                        size_t l = (size_t)(e - p) - nl - 1;

                        snprintf(buf, sizeof(buf), "%.*s", (int)l, p + nl + 1);
                        return buf;
                }
                p = e ? e + 1 : NULL;
        }
        return NULL;
}

int64_t st_wait_metric(brook_streams_t *s, const char *name, int64_t want,
                       int64_t timeout_ms)
{
        int64_t deadline = test_now_ms() + test_timeout_ms(timeout_ms), v;

        while ((v = brook_streams_metric(s, name)) < want &&
               test_now_ms() < deadline)
                test_sleep_ms(20);
        return v;
}

void st_assert_committed(const char *topic, const char *group, int parts,
                         int64_t each)
{
        char *js = st_kafkatool("committed -t %s -g %s", topic, group);
        json_t *com = json_loads(js, 0, NULL);
        int p;

        TEST_ASSERT(com, "committed JSON: %s", js);
        for (p = 0; p < parts; p++) {
                char k[16];

                snprintf(k, sizeof(k), "%d", p);
                TEST_ASSERT(json_integer_value(json_object_get(com, k)) == each,
                            "partition %d committed: %s (want %lld each)", p,
                            js, (long long)each);
        }
        json_decref(com);
        free(js);
}

int st_lag_scan(brook_streams_t *s, const char *topic, int parts, int64_t *lags)
{
        char *text =
            brook_telemetry_metrics_text(brook_streams_telemetry(s), NULL);
        char *line, *save = NULL, want[300];
        int p, found = 0;

        TEST_ASSERT(text, "metrics text");
        for (p = 0; p < parts; p++)
                lags[p] = -1;
        snprintf(want, sizeof(want), "topic=\"%s\",partition=\"", topic);
        for (line = strtok_r(text, "\n", &save); line;
             line = strtok_r(NULL, "\n", &save)) {
                char *q;

                if (strncmp(line, "brook_streams_lag{", 18) ||
                    !(q = strstr(line, want)))
                        continue;
                p = atoi(q + strlen(want));
                TEST_ASSERT(p >= 0 && p < parts, "lag line %s", line);
                TEST_ASSERT(lags[p] == -1, "partition %d twice: %s", p, line);
                lags[p] = atoll(strrchr(line, ' ') + 1);
                found++;
        }
        brook_telemetry_free(text);
        return found;
}

static const char *src_dir(void)
{
        const char *d = getenv("BROOK_SOURCE_DIR");

        return d && *d ? d : ".";
}

static const char *python(void)
{
        static char py[1024];
        char cmd[1200];
        FILE *fp;

        if (!*py) {
                snprintf(cmd, sizeof(cmd), "%s/scripts/pyenv", src_dir());
                fp = popen(cmd, "r");
                TEST_ASSERT(fp && fgets(py, sizeof(py), fp), "scripts/pyenv");
                pclose(fp);
                py[strcspn(py, "\n")] = '\0';
        }
        return py;
}

pid_t st_kafkatool_bg(const char *fmt, ...)
{
        char args[4096], cmd[8192];
        const char *py = python();
        va_list ap;
        pid_t pid;

        va_start(ap, fmt);
        vsnprintf(args, sizeof(args), fmt, ap);
        va_end(ap);
        snprintf(cmd, sizeof(cmd), "%s %s/tests/py/kafkatool.py %s >/dev/null",
                 py, src_dir(), args);
        TEST_ASSERT((pid = fork()) >= 0, "fork");
        if (!pid) {
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
                _exit(127);
        }
        return pid;
}

void st_wait_ok(pid_t pid, const char *what)
{
        int st;

        TEST_ASSERT(waitpid(pid, &st, 0) == pid, "waitpid %s", what);
        TEST_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0,
                    "%s exited with status %d", what, st);
}

char *st_kafkatool(const char *fmt, ...)
{
        const char *py = python();
        char args[4096], cmd[8192];
        size_t cap = 65536, len = 0, n;
        char *out = malloc(cap);
        va_list ap;
        FILE *fp;
        int st;

        va_start(ap, fmt);
        vsnprintf(args, sizeof(args), fmt, ap);
        va_end(ap);
        snprintf(cmd, sizeof(cmd), "%s %s/tests/py/kafkatool.py %s", py,
                 src_dir(), args);
        TEST_ASSERT((fp = popen(cmd, "r")), "popen %s", cmd);
        while ((n = fread(out + len, 1, cap - len - 1, fp)) > 0) {
                len += n;
                if (cap - len < 4096)
                        out = realloc(out, cap *= 2);
        }
        out[len] = '\0';
        st = pclose(fp);
        TEST_ASSERT(st == 0, "kafkatool %s exited with %d", args, st);
        return out;
}

const char *st_build_path(const char *name)
{
        static char buf[4][1024];
        static int i;
        char *b = buf[i++ % 4];
        const char *d = getenv("BROOK_BUILD_DIR");

        snprintf(b, 1024, "%s/%s", d && *d ? d : ".", name);
        return b;
}

pid_t st_spawn(char *const argv[], const char *log)
{
        pid_t pid = fork();

        TEST_ASSERT(pid >= 0, "fork");
        if (!pid) {
                int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);

                /* dies with the test, whatever ends the test */
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (fd >= 0) {
                        dup2(fd, 1);
                        dup2(fd, 2);
                        close(fd);
                }
                execv(argv[0], argv);
                _exit(127);
        }
        return pid;
}

void st_rmrf(const char *path)
{
        char cmd[1200];

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
        if (system(cmd))
                TEST_FAIL("%s", cmd);
}

const char *st_tmpdir(const char *prefix)
{
        static char buf[4][256];
        static int i;
        char *b = buf[i++ % 4];

        snprintf(b, 256, "/tmp/%s-XXXXXX", prefix);
        TEST_ASSERT(mkdtemp(b), "mkdtemp");
        return b;
}

int st_b64_decode(const char *in, unsigned char *out, size_t cap)
{
        static const char tbl[] =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        uint32_t acc = 0;
        int bits = 0;
        size_t n = 0;

        for (; *in && *in != '='; in++) {
                const char *p = strchr(tbl, *in);

                if (!p)
                        return -1;
                acc = (acc << 6) | (uint32_t)(p - tbl);
                bits += 6;
                if (bits >= 8) {
                        bits -= 8;
                        if (n >= cap)
                                return -1;
                        out[n++] = (unsigned char)(acc >> bits);
                }
        }
        return (int)n;
}

void st_wc_generate(const char *path, int lines, int vocab, int partitions,
                    uint32_t seed, int64_t *counts)
{
        FILE *fp = fopen(path, "w");
        uint32_t x = seed ? seed : 1;
        int n;

        TEST_ASSERT(fp, "open %s", path);
        for (n = 0; n < lines; n++) {
                int words, w;

                x = x * 1103515245u + 12345u;
                words = 1 + (int)((x >> 16) % 12);
                fprintf(fp, "{\"partition\": %d, \"value\": \"",
                        n % partitions);
                for (w = 0; w < words; w++) {
                        uint32_t a, b;
                        int j;

                        x = x * 1103515245u + 12345u;
                        a = (x >> 8) % (uint32_t)vocab;
                        x = x * 1103515245u + 12345u;
                        b = (x >> 8) % (uint32_t)vocab;
                        j = (int)((uint64_t)a * b / (uint64_t)vocab);
                        counts[j]++;
                        fprintf(fp, "%sW%d", w ? (w % 3 ? " " : ", ") : "", j);
                }
                fprintf(fp, ".\"}\n");
        }
        fclose(fp);
}

int64_t *st_wc_read_counts(const char *topic, int vocab, size_t *recordsp)
{
        int64_t *last = calloc((size_t)vocab, sizeof(*last));
        char *dump =
            st_kafkatool("dump -t %s --base64 --timeout-ms 60000", topic);
        char *line, *save = NULL;
        size_t n = 0;

        for (line = strtok_r(dump, "\n", &save); line;
             line = strtok_r(NULL, "\n", &save)) {
                json_t *o = json_loads(line, 0, NULL);
                unsigned char key[64], val[16];
                int kl, vl, j;

                TEST_ASSERT(o, "dump line %s", line);
                kl = st_b64_decode(json_string_value(json_object_get(o, "key")),
                                   key, sizeof(key) - 1);
                vl = st_b64_decode(
                    json_string_value(json_object_get(o, "value")), val,
                    sizeof(val));
                TEST_ASSERT(kl > 1 && key[0] == 'w' && vl == 8,
                            "output record %s", line);
                key[kl] = '\0';
                j = atoi((char *)key + 1);
                TEST_ASSERT(j >= 0 && j < vocab, "word %s", key);
                last[j] = brook_int64_from_be(val);
                json_decref(o);
                n++;
        }
        free(dump);
        if (recordsp)
                *recordsp = n;
        return last;
}
