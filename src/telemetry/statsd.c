/*
 * telemetry/statsd.c: DogStatsD export over UDP (`metrics.statsd.address`).
 *
 * Every metrics.statsd.interval.ms the owner's loop flushes the registry:
 * counters as deltas since the last flush (`|c`), gauges (`|g`), and
 * histograms from their buckets: each bucket that received n observations
 * since the last flush is sent once, as the exact mean of those n
 * observations with sample rate 1/n (`|h|@rate`, `|ms` for durations), so
 * the agent counts n observations without brook sending one packet per
 * batch (values are exact to within the bucket's spread).
 * Tags: group, topic, status, partition (lag), plus metrics.statsd.tags.
 *
 * Lines are packed into datagrams of at most 1432 bytes, sent
 * non-blocking: a full socket buffer or an absent agent loses metrics,
 * never delays processing.
 *
 * @locality the thread that calls brook__tel_tick() / brook__tel_flush()
 *           (serialised by the telemetry's tick lock).
 */
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/util.h"
#include "telemetry/metrics.h"

#define DGRAM_MAX 1432

struct brook__statsd_s {
        int fd;
        char tags[512]; /* extra tags, ",k:v,..." (sanitised), or "" */
        char buf[DGRAM_MAX];
        size_t len;
        uint64_t sent, dropped; /* datagrams */
};

/* DogStatsD tag values: no ',', '|', '#', newline. */
static void tag_clean(char *out, size_t size, const char *s)
{
        size_t o = 0;

        for (; *s && o + 1 < size; s++)
                out[o++] = (*s == ',' || *s == '|' || *s == '#' || *s == '\n' ||
                            *s == ' ')
                               ? '_'
                               : *s;
        out[o] = '\0';
}

brook__statsd_t *brook__statsd_new(const char *address, const char *tags,
                                   char *errstr, size_t errstr_size)
{
        brook__statsd_t *s;
        struct addrinfo *ai, *a;

        if (brook__resolve("metrics.statsd.address", address, SOCK_DGRAM, 0,
                           "127.0.0.1:8125", &ai, errstr, errstr_size))
                return NULL;
        if (!(s = calloc(1, sizeof(*s)))) {
                freeaddrinfo(ai);
                brook__errstr(errstr, errstr_size, "out of memory");
                return NULL;
        }
        s->fd = -1;
        for (a = ai; a && s->fd < 0; a = a->ai_next) {
                s->fd = socket(a->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
                if (s->fd >= 0 && connect(s->fd, a->ai_addr, a->ai_addrlen)) {
                        close(s->fd);
                        s->fd = -1;
                }
        }
        freeaddrinfo(ai);
        if (s->fd < 0) {
                brook__errstr(errstr, errstr_size,
                              "metrics.statsd.address: cannot open a UDP "
                              "socket to \"%s\": %s",
                              address, strerror(errno));
                free(s);
                return NULL;
        }
        if (tags && *tags) {
                char clean[500];

                /* Commas separate the user's tags: keep them. */
                size_t i, o = 0;

                for (i = 0; tags[i] && o + 1 < sizeof(clean); i++)
                        clean[o++] = (tags[i] == '|' || tags[i] == '#' ||
                                      tags[i] == '\n' || tags[i] == ' ')
                                         ? '_'
                                         : tags[i];
                clean[o] = '\0';
                snprintf(s->tags, sizeof(s->tags), ",%s", clean);
        }
        return s;
}

void brook__statsd_destroy(brook__statsd_t *s)
{
        if (!s)
                return;
        if (s->fd >= 0)
                close(s->fd);
        free(s);
}

static void send_buf(brook__statsd_t *s)
{
        if (!s->len)
                return;
        if (send(s->fd, s->buf, s->len, MSG_DONTWAIT) < 0)
                s->dropped++;
        else
                s->sent++;
        s->len = 0;
}

/* Append one line, sending the datagram first when it would not fit. */
static void line(brook__statsd_t *s, const char *l, size_t n)
{
        if (n + 1 > DGRAM_MAX)
                return; /* cannot be sent whole: never split a line */
        if (s->len && s->len + 1 + n > DGRAM_MAX)
                send_buf(s);
        if (s->len)
                s->buf[s->len++] = '\n';
        memcpy(s->buf + s->len, l, n);
        s->len += n;
}

static void linef(brook__statsd_t *s, const char *fmt, ...) BROOK__PRINTF(2, 3);

static void linef(brook__statsd_t *s, const char *fmt, ...)
{
        char l[DGRAM_MAX];
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(l, sizeof(l), fmt, ap);
        va_end(ap);
        if (n > 0 && (size_t)n < sizeof(l))
                line(s, l, (size_t)n);
}

static void counter(brook__statsd_t *s, const char *name, const char *tags,
                    const brook__ctr_t *c, uint64_t *prev)
{
        uint64_t v = brook__ctr_get(c);

        if (v != *prev)
                linef(s, "%s:%llu|c|#%s%s", name,
                      (unsigned long long)(v - *prev), tags, s->tags);
        *prev = v;
}

/* One line per bucket that got observations since the last flush: the
 * bucket's exact mean, with sample rate 1/count. */
static void histogram(brook__statsd_t *s, const char *name, const char *type,
                      const char *tags, const brook__hist_t *h,
                      const brook__hdef_t *def, uint64_t *prev,
                      uint64_t *prev_sum, double out_scale)
{
        size_t i;

        for (i = 0; i <= def->nb; i++) {
                uint64_t n = brook__ctr_get(&h->b[i]);
                uint64_t sum = brook__ctr_get(&h->bsum[i]);
                uint64_t d = n - prev[i];
                double v;

                /* A bucket's count is read before its sum: a concurrent
                 * observation may be in the sum only, never the count only
                 * (next flush corrects the mean). */
                if (!d)
                        continue;
                v = (double)(sum - prev_sum[i]) / (double)d / def->scale *
                    out_scale;
                prev[i] = n;
                prev_sum[i] = sum;
                if (d == 1)
                        linef(s, "%s:%.6g|%s|#%s%s", name, v, type, tags,
                              s->tags);
                else
                        linef(s, "%s:%.6g|%s|@%.9g|#%s%s", name, v, type,
                              1.0 / (double)d, tags, s->tags);
        }
}

void brook__statsd_flush(brook__statsd_t *s, brook__metrics_t *m)
{
        brook__mtopic_t *t =
            atomic_load_explicit(&m->topics, memory_order_acquire);
        const char *k = m->kind;
        char g[256], tp[256], tags[700], name[128];
        brook__lag_t *lags;
        size_t nlags, i;
        int st;
        static const char *const stn[] = {"ok", "partial", "failed"};

        tag_clean(g, sizeof(g), m->group);
        for (; t; t = t->next) {
                brook__sdprev_t *p = &t->sd;

                tag_clean(tp, sizeof(tp), t->topic);
                for (st = 0; st < BROOK__ST__CNT; st++) {
                        snprintf(tags, sizeof(tags),
                                 "group:%s,topic:%s,status:%s", g, tp, stn[st]);
                        snprintf(name, sizeof(name),
                                 "brook.%s.batch.processed.count", k);
                        counter(s, name, tags, &t->batches[st],
                                &p->batches[st]);
                }
                for (st = 0; st < BROOK__MS__CNT; st++) {
                        snprintf(tags, sizeof(tags),
                                 "group:%s,topic:%s,status:%s", g, tp,
                                 stn[st == 0 ? 0 : 2]);
                        snprintf(name, sizeof(name),
                                 "brook.%s.messages.processed.count", k);
                        counter(s, name, tags, &t->msgs[st], &p->msgs[st]);
                }
                snprintf(tags, sizeof(tags), "group:%s,topic:%s", g, tp);
                snprintf(name, sizeof(name), "brook.%s.dead_letter.sent.count",
                         k);
                counter(s, name, tags, &t->dl_sent, &p->dl_sent);
                snprintf(name, sizeof(name),
                         "brook.%s.dead_letter.failed.count", k);
                counter(s, name, tags, &t->dl_failed, &p->dl_failed);
                snprintf(name, sizeof(name),
                         "brook.%s.batch.processing.duration", k);
                histogram(s, name, "ms", tags, &t->dur, &brook__hdef_duration,
                          p->dur, p->dur_sum, 1000.0);
                snprintf(name, sizeof(name), "brook.%s.batch.size", k);
                histogram(s, name, "h", tags, &t->size, &brook__hdef_size,
                          p->size, p->size_sum, 1.0);
        }
        linef(s, "brook.%s.batch.queue.depth:%d|g|#group:%s%s", k,
              atomic_load_explicit(&m->inflight, memory_order_relaxed), g,
              s->tags);
        lags = brook__metrics_lags(m, &nlags);
        for (i = 0; i < nlags; i++) {
                tag_clean(tp, sizeof(tp), lags[i].topic);
                linef(s,
                      "brook.%s.lag:%lld|g|#group:%s,topic:%s,partition:%d%s",
                      k, (long long)lags[i].lag, g, tp, (int)lags[i].partition,
                      s->tags);
        }
        brook__lags_free(lags, nlags);
        send_buf(s);
}
