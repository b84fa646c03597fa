/*
 * telemetry/metrics.c: the metrics registry of one owner and its Prometheus
 * text exposition (format 0.0.4).
 *
 * Updates come from the owner's threads (the run() thread, batch threads
 * in async mode) and are relaxed atomic adds on per-topic series: no lock
 * on the hot path. A series is created once per topic under `lock` and
 * published on a lock-free, append-only list. Consumer lag comes from
 * librdkafka's statistics JSON, parsed with jansson.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "telemetry/metrics.h"

/* Batch duration, microseconds (exported in seconds). */
static const int64_t dur_bounds[] = {
    1000,   2500,    5000,    10000,   25000,    50000,    100000,  250000,
    500000, 1000000, 2500000, 5000000, 10000000, 30000000, 60000000};
/* Batch size, messages. */
static const int64_t size_bounds[] = {1,   2,   5,    10,   25,   50,   100,
                                      250, 500, 1000, 2500, 5000, 10000};

const brook__hdef_t brook__hdef_duration = {
    dur_bounds, sizeof(dur_bounds) / sizeof(dur_bounds[0]), 1e6};
const brook__hdef_t brook__hdef_size = {
    size_bounds, sizeof(size_bounds) / sizeof(size_bounds[0]), 1};

static const char *const st_names[BROOK__ST__CNT] = {"ok", "partial", "failed"};
static const char *const ms_names[BROOK__MS__CNT] = {"ok", "failed"};

/* With a single writer a relaxed load + store is enough (readers only
 * load) and avoids the locked read-modify-write on the hot path. */
static inline void ctr_add(const brook__metrics_t *m, brook__ctr_t *c,
                           uint64_t v)
{
        if (m->single_writer)
                atomic_store_explicit(
                    c, atomic_load_explicit(c, memory_order_relaxed) + v,
                    memory_order_relaxed);
        else
                atomic_fetch_add_explicit(c, v, memory_order_relaxed);
}

brook__metrics_t *brook__metrics_new(const char *kind, const char *group,
                                     int single_writer)
{
        brook__metrics_t *m = calloc(1, sizeof(*m));

        if (!m || !(m->group = strdup(group))) {
                free(m);
                return NULL;
        }
        snprintf(m->kind, sizeof(m->kind), "%s", kind);
        m->single_writer = single_writer;
        atomic_init(&m->topics, NULL);
        atomic_init(&m->inflight, 0);
        pthread_mutex_init(&m->lock, NULL);
        return m;
}

void brook__lags_free(brook__lag_t *l, size_t cnt)
{
        size_t i;

        for (i = 0; l && i < cnt; i++)
                free(l[i].topic);
        free(l);
}

void brook__metrics_destroy(brook__metrics_t *m)
{
        brook__mtopic_t *t, *next;

        if (!m)
                return;
        for (t = atomic_load(&m->topics); t; t = next) {
                next = t->next;
                free(t->topic);
                free(t);
        }
        brook__lags_free(m->lags, m->nlags);
        pthread_mutex_destroy(&m->lock);
        free(m->group);
        free(m);
}

static brook__mtopic_t *topic_find(brook__metrics_t *m, const char *topic)
{
        brook__mtopic_t *t =
            atomic_load_explicit(&m->topics, memory_order_acquire);

        for (; t; t = t->next)
                if (!strcmp(t->topic, topic))
                        return t;
        return NULL;
}

brook__mtopic_t *brook__metrics_topic(brook__metrics_t *m, const char *topic)
{
        brook__mtopic_t *t = topic_find(m, topic);

        if (t)
                return t;
        pthread_mutex_lock(&m->lock);
        if (!(t = topic_find(m, topic)) && (t = calloc(1, sizeof(*t)))) {
                if (!(t->topic = strdup(topic))) {
                        free(t);
                        t = NULL;
                } else {
                        t->next = atomic_load_explicit(&m->topics,
                                                       memory_order_relaxed);
                        atomic_store_explicit(&m->topics, t,
                                              memory_order_release);
                }
        }
        pthread_mutex_unlock(&m->lock);
        return t;
}

static void hist_observe(const brook__metrics_t *m, brook__hist_t *h,
                         const brook__hdef_t *d, int64_t v)
{
        size_t i;

        if (v < 0)
                v = 0;
        for (i = 0; i < d->nb && v > d->bounds[i]; i++)
                ;
        ctr_add(m, &h->b[i], 1);
        ctr_add(m, &h->bsum[i], (uint64_t)v);
}

void brook__metrics_batch(brook__metrics_t *m, const char *topic, size_t count,
                          size_t failed, int64_t dur_us)
{
        brook__mtopic_t *t = brook__metrics_topic(m, topic);
        int st = failed == 0      ? BROOK__ST_OK
                 : failed < count ? BROOK__ST_PARTIAL
                                  : BROOK__ST_FAILED;

        if (!t)
                return;
        ctr_add(m, &t->batches[st], 1);
        if (count > failed)
                ctr_add(m, &t->msgs[BROOK__MS_OK], count - failed);
        if (failed)
                ctr_add(m, &t->msgs[BROOK__MS_FAILED], failed);
        hist_observe(m, &t->dur, &brook__hdef_duration, dur_us);
        hist_observe(m, &t->size, &brook__hdef_size, (int64_t)count);
}

void brook__metrics_inflight(brook__metrics_t *m, int n)
{
        atomic_store_explicit(&m->inflight, n, memory_order_relaxed);
}

void brook__metrics_dead_letter(brook__metrics_t *m, const char *topic, int ok)
{
        brook__mtopic_t *t = brook__metrics_topic(m, topic);

        if (t)
                ctr_add(m, ok ? &t->dl_sent : &t->dl_failed, 1);
}

void brook__metrics_totals(brook__metrics_t *m, uint64_t *out)
{
        brook__mtopic_t *t =
            atomic_load_explicit(&m->topics, memory_order_acquire);

        memset(out, 0, BROOK__SUM__CNT * sizeof(*out));
        for (; t; t = t->next) {
                out[BROOK__SUM_B_OK] += brook__ctr_get(&t->batches[0]);
                out[BROOK__SUM_B_PARTIAL] += brook__ctr_get(&t->batches[1]);
                out[BROOK__SUM_B_FAILED] += brook__ctr_get(&t->batches[2]);
                out[BROOK__SUM_M_OK] += brook__ctr_get(&t->msgs[0]);
                out[BROOK__SUM_M_FAILED] += brook__ctr_get(&t->msgs[1]);
                out[BROOK__SUM_DEAD] += brook__ctr_get(&t->dl_sent);
                out[BROOK__SUM_DUR_US] += brook__hist_sum(&t->dur);
        }
}

/* ------------------------------------------------------------------ */
/* consumer lag from librdkafka's statistics                           */

static int lag_cmp(const void *a, const void *b)
{
        const brook__lag_t *x = a, *y = b;
        int c = strcmp(x->topic, y->topic);

        return c ? c
                 : (x->partition > y->partition) -
                       (x->partition < y->partition);
}

/*
 * Installs @p add (n entries of source @p src, owned by the callee) in
 * place of that source's slice of the table, under the lock; the table
 * stays sorted by topic and partition. The replaced entries are freed.
 */
static int lags_replace(brook__metrics_t *m, int src, brook__lag_t *add,
                        size_t n)
{
        brook__lag_t *tbl, *old;
        size_t i, k = 0, keep = 0, oldn;

        pthread_mutex_lock(&m->lock);
        for (i = 0; i < m->nlags; i++)
                keep += m->lags[i].src != src;
        if (!keep) { /* the common case: one source */
                tbl = add;
                add = NULL;
                k = n;
        } else if (!(tbl = malloc((keep + n) * sizeof(*tbl)))) {
                pthread_mutex_unlock(&m->lock);
                brook__lags_free(add, n);
                return -1;
        } else {
                for (i = 0; i < m->nlags; i++)
                        if (m->lags[i].src != src)
                                tbl[k++] = m->lags[i];
                if (n)
                        memcpy(tbl + k, add, n * sizeof(*add));
                k += n;
                free(add); /* its strings moved into tbl */
                add = NULL;
                if (k > 1)
                        qsort(tbl, k, sizeof(*tbl), lag_cmp);
        }
        old = m->lags;
        oldn = m->nlags;
        m->lags = k ? tbl : NULL;
        m->nlags = k;
        if (!k)
                free(tbl);
        pthread_mutex_unlock(&m->lock);
        /* Free the replaced slice: old entries of src (the others moved). */
        for (i = 0; i < oldn; i++)
                if (old[i].src == src || !keep)
                        free(old[i].topic);
        free(old);
        return 0;
}

/*
 * Statistics JSON (librdkafka STATISTICS.md): topics.<name>.partitions.<id>
 * with "partition", "desired" (assigned to us) and "consumer_lag" (high
 * watermark minus committed offset, -1 while unknown). Only assigned
 * partitions with a known lag are kept; the source's slice is replaced
 * whole so that revoked partitions disappear.
 */
int brook__metrics_stats(brook__metrics_t *m, int src, const char *json,
                         size_t len)
{
        json_error_t jerr;
        json_t *root = json_loadb(json, len, 0, &jerr), *topics, *tobj;
        const char *tname;
        brook__lag_t *lags = NULL;
        size_t n = 0, cap = 0;

        if (!root)
                return -1;
        topics = json_object_get(root, "topics");
        json_object_foreach(topics, tname, tobj)
        {
                json_t *parts = json_object_get(tobj, "partitions"), *pobj;
                const char *pkey;

                json_object_foreach(parts, pkey, pobj)
                {
                        json_t *jp = json_object_get(pobj, "partition");
                        json_t *jl = json_object_get(pobj, "consumer_lag");

                        if (!json_is_integer(jp) || !json_is_integer(jl) ||
                            json_integer_value(jp) < 0 ||
                            json_integer_value(jl) < 0 ||
                            !json_is_true(json_object_get(pobj, "desired")))
                                continue;
                        if (n == cap) {
                                size_t nc = cap ? cap * 2 : 16;
                                brook__lag_t *a =
                                    realloc(lags, nc * sizeof(*a));

                                if (!a)
                                        goto fail;
                                lags = a;
                                cap = nc;
                        }
                        if (!(lags[n].topic = strdup(tname)))
                                goto fail;
                        lags[n].partition = (int32_t)json_integer_value(jp);
                        lags[n].lag = (int64_t)json_integer_value(jl);
                        lags[n].src = src;
                        n++;
                }
        }
        json_decref(root);
        if (n > 1)
                qsort(lags, n, sizeof(*lags), lag_cmp);
        return lags_replace(m, src, lags, n);
fail:
        brook__lags_free(lags, n);
        json_decref(root);
        return -1;
}

void brook__metrics_lags_drop(brook__metrics_t *m, int src)
{
        if (m)
                lags_replace(m, src, NULL, 0);
}

brook__lag_t *brook__metrics_lags(brook__metrics_t *m, size_t *cntp)
{
        brook__lag_t *l = NULL;
        size_t i, n;

        pthread_mutex_lock(&m->lock);
        n = m->nlags;
        if (n && (l = calloc(n, sizeof(*l))))
                for (i = 0; i < n; i++) {
                        l[i] = m->lags[i];
                        if (!(l[i].topic = strdup(m->lags[i].topic))) {
                                brook__lags_free(l, i);
                                l = NULL;
                                break;
                        }
                }
        pthread_mutex_unlock(&m->lock);
        *cntp = l ? n : 0;
        return l;
}

/* ------------------------------------------------------------------ */
/* Prometheus text                                                     */

typedef struct dbuf_s {
        char *p;
        size_t len, cap;
        int oom;
} dbuf_t;

#define DBUF_MAX ((size_t)64 << 20) /* a scrape never exceeds 64 MB */

static void dbuf_printf(dbuf_t *d, const char *fmt, ...) BROOK__PRINTF(2, 3);

static void dbuf_printf(dbuf_t *d, const char *fmt, ...)
{
        va_list ap;
        int n;

        if (d->oom)
                return;
        for (;;) {
                va_start(ap, fmt);
                n = vsnprintf(d->p + d->len, d->cap - d->len, fmt, ap);
                va_end(ap);
                if (n < 0) {
                        d->oom = 1;
                        return;
                }
                if ((size_t)n < d->cap - d->len) {
                        d->len += (size_t)n;
                        return;
                }
                if (d->cap * 2 > DBUF_MAX) {
                        d->oom = 1;
                        return;
                }
                {
                        char *np = realloc(d->p, d->cap * 2);

                        if (!np) {
                                d->oom = 1;
                                return;
                        }
                        d->p = np;
                        d->cap *= 2;
                }
        }
}

/* A label value, escaped as the exposition format requires. */
static const char *lesc(char *buf, size_t size, const char *s)
{
        size_t o = 0;

        for (; *s && o + 3 < size; s++) {
                if (*s == '\\' || *s == '"') {
                        buf[o++] = '\\';
                        buf[o++] = *s;
                } else if (*s == '\n') {
                        buf[o++] = '\\';
                        buf[o++] = 'n';
                } else {
                        buf[o++] = *s;
                }
        }
        buf[o] = '\0';
        return buf;
}

static void family(dbuf_t *d, const char *kind, const char *name,
                   const char *type, const char *help)
{
        dbuf_printf(d, "# HELP brook_%s_%s %s\n# TYPE brook_%s_%s %s\n", kind,
                    name, help, kind, name, type);
}

static void hist_render(dbuf_t *d, const char *kind, const char *name,
                        const char *labels, const brook__hist_t *h,
                        const brook__hdef_t *def)
{
        uint64_t cum = 0;
        size_t i;

        for (i = 0; i <= def->nb; i++) {
                cum += brook__ctr_get(&h->b[i]);
                if (i < def->nb)
                        dbuf_printf(
                            d,
                            "brook_%s_%s_bucket{%s,le=\"%.6g\"} %" PRIu64 "\n",
                            kind, name, labels,
                            (double)def->bounds[i] / def->scale, cum);
                else
                        dbuf_printf(
                            d,
                            "brook_%s_%s_bucket{%s,le=\"+Inf\"} %" PRIu64 "\n",
                            kind, name, labels, cum);
        }
        dbuf_printf(d, "brook_%s_%s_sum{%s} %.9g\n", kind, name, labels,
                    (double)brook__hist_sum(h) / def->scale);
        dbuf_printf(d, "brook_%s_%s_count{%s} %" PRIu64 "\n", kind, name,
                    labels, cum);
}

char *brook__metrics_render(brook__metrics_t *m, size_t *lenp)
{
        dbuf_t d = {malloc(8192), 0, 8192, 0};
        brook__mtopic_t *head = atomic_load_explicit(&m->topics,
                                                     memory_order_acquire),
                        *t;
        const char *k = m->kind;
        char g[512], tq[1024], labels[1700];
        brook__lag_t *lags;
        size_t nlags, i;
        int s;

        if (!d.p)
                return NULL;
        d.p[0] = '\0';
        lesc(g, sizeof(g), m->group);

        family(&d, k, "batch_processed_total", "counter",
               "Batch attempts handled, by outcome (ok: every message "
               "succeeded, partial: some failed, failed: all failed).");
        for (t = head; t; t = t->next)
                for (s = 0; s < BROOK__ST__CNT; s++)
                        dbuf_printf(
                            &d,
                            "brook_%s_batch_processed_total{group=\"%s\","
                            "topic=\"%s\",status=\"%s\"} %" PRIu64 "\n",
                            k, g, lesc(tq, sizeof(tq), t->topic), st_names[s],
                            brook__ctr_get(&t->batches[s]));

        family(&d, k, "messages_processed_total", "counter",
               "Messages handled, by outcome of the attempt (a retried "
               "message counts once per attempt).");
        for (t = head; t; t = t->next)
                for (s = 0; s < BROOK__MS__CNT; s++)
                        dbuf_printf(
                            &d,
                            "brook_%s_messages_processed_total{group=\"%s\","
                            "topic=\"%s\",status=\"%s\"} %" PRIu64 "\n",
                            k, g, lesc(tq, sizeof(tq), t->topic), ms_names[s],
                            brook__ctr_get(&t->msgs[s]));

        family(&d, k, "batch_processing_duration_seconds", "histogram",
               "Time from the start of a batch attempt to the handler's "
               "return.");
        for (t = head; t; t = t->next) {
                snprintf(labels, sizeof(labels), "group=\"%s\",topic=\"%s\"", g,
                         lesc(tq, sizeof(tq), t->topic));
                hist_render(&d, k, "batch_processing_duration_seconds", labels,
                            &t->dur, &brook__hdef_duration);
        }

        family(&d, k, "batch_size", "histogram", "Messages per batch attempt.");
        for (t = head; t; t = t->next) {
                snprintf(labels, sizeof(labels), "group=\"%s\",topic=\"%s\"", g,
                         lesc(tq, sizeof(tq), t->topic));
                hist_render(&d, k, "batch_size", labels, &t->size,
                            &brook__hdef_size);
        }

        family(&d, k, "batch_queue_depth", "gauge",
               "Batches in processing now (at most max.in.flight.batches).");
        dbuf_printf(&d, "brook_%s_batch_queue_depth{group=\"%s\"} %d\n", k, g,
                    atomic_load_explicit(&m->inflight, memory_order_relaxed));

        family(&d, k, "dead_letter_sent_total", "counter",
               "Messages durably written to the dead-letter topic, by "
               "source topic.");
        for (t = head; t; t = t->next)
                dbuf_printf(&d,
                            "brook_%s_dead_letter_sent_total{group=\"%s\","
                            "topic=\"%s\"} %" PRIu64 "\n",
                            k, g, lesc(tq, sizeof(tq), t->topic),
                            brook__ctr_get(&t->dl_sent));

        family(&d, k, "dead_letter_failed_total", "counter",
               "Dead-letter writes that failed (each is retried; the "
               "partition waits).");
        for (t = head; t; t = t->next)
                dbuf_printf(&d,
                            "brook_%s_dead_letter_failed_total{group=\"%s\","
                            "topic=\"%s\"} %" PRIu64 "\n",
                            k, g, lesc(tq, sizeof(tq), t->topic),
                            brook__ctr_get(&t->dl_failed));

        family(&d, k, "lag", "gauge",
               "Messages between the committed offset and the high "
               "watermark, per assigned partition (librdkafka statistics, "
               "every metrics.lag.interval.ms).");
        lags = brook__metrics_lags(m, &nlags);
        for (i = 0; i < nlags; i++)
                dbuf_printf(&d,
                            "brook_%s_lag{group=\"%s\",topic=\"%s\","
                            "partition=\"%d\"} %" PRId64 "\n",
                            k, g, lesc(tq, sizeof(tq), lags[i].topic),
                            (int)lags[i].partition, lags[i].lag);
        brook__lags_free(lags, nlags);

        if (d.oom) {
                free(d.p);
                return NULL;
        }
        if (lenp)
                *lenp = d.len;
        return d.p;
}
