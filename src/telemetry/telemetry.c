/*
 * telemetry/telemetry.c: events, span hooks and the periodic work (StatsD
 * flush, INFO batch summaries) of one owner; the public brook_telemetry_* and
 * brook_event_* functions.
 *
 * Cost model: an owner tests brook__tel_active() (one atomic load) before
 * building an event or calling the span hooks, so with nothing attached a
 * batch costs one branch here plus the lock-free metric updates.
 * Callbacks run under the read side of ev_lock; attach, detach and
 * set_span_hooks take the write side, so once detach returns the callback
 * is not running and will not run again. A thread-local depth counter
 * turns attach/detach from inside a callback into BROOK_ERR_STATE instead
 * of a self-deadlock.
 */
#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "telemetry/metrics.h"
#include "telemetry/telemetry.h"

#define EV_MAXM 8
#define EV_MAXD 12

/* The failure count of a stopped batch: counted on first use (a scan of
 * the batch) and shared by its batch.stop and messages.processed events,
 * so that callbacks that do not read it do not pay for it. */
typedef struct ev_lazy_s {
        const brook_batch_t *b;
        size_t failed;
        int done;
} ev_lazy_t;

struct brook_event_s {
        const char *name;
        size_t nm, nd;
        const char *mkey[EV_MAXM];
        int64_t mval[EV_MAXM];
        const char *dkey[EV_MAXD];
        const char *dval[EV_MAXD];
        int64_t dnum[EV_MAXD];
        uint8_t disnum[EV_MAXD]; /* numeric: dval formatted on demand */
        char dbuf[EV_MAXD][24];
        const brook_batch_t *batch;
        const brook_msg_t *msg;
        const char **links; /* brook_event_links(), computed on demand */
        size_t nlinks;
        int links_done;
        ev_lazy_t *lazy; /* values below filled in on first access */
        int lz_failed, lz_ok, lz_status; /* their indexes, -1: none */
        int meta_pending; /* the batch's metadata not yet in the arrays */
};

#define EV_BATCH_META 5 /* topic, partition, first/last offset, attempt */

/* Depth of event / span callbacks running on this thread. */
static _Thread_local int in_cb;

/* ------------------------------------------------------------------ */
/* building events                                                     */

static const char *const ev_suffix[BROOK__EV__CNT] = {
    "batch.start",        "batch.stop",       "batch.exception",
    "messages.processed", "dead_letter.sent", "dead_letter.failed"};

static void ev_init(brook_event_t *ev, const brook__tel_t *tel, int which)
{
        ev->nm = ev->nd = 0;
        ev->batch = NULL;
        ev->msg = NULL;
        ev->links = NULL;
        ev->nlinks = 0;
        ev->links_done = 0;
        ev->lazy = NULL;
        ev->lz_failed = ev->lz_ok = ev->lz_status = -1;
        ev->meta_pending = 0;
        ev->name = which < 0 ? "" : tel->names[which];
        ev->dkey[0] = "group";
        ev->dval[0] = tel->group;
        ev->disnum[0] = 0;
        ev->nd = 1;
}

static void ev_m(brook_event_t *ev, const char *key, int64_t v)
{
        if (ev->nm < EV_MAXM) {
                ev->mkey[ev->nm] = key;
                ev->mval[ev->nm++] = v;
        }
}

static void ev_ds(brook_event_t *ev, const char *key, const char *v)
{
        if (ev->nd < EV_MAXD && v) {
                ev->dkey[ev->nd] = key;
                ev->dval[ev->nd] = v;
                ev->disnum[ev->nd++] = 0;
        }
}

/* Numeric metadata: the text form is made only if someone asks. */
static void ev_di(brook_event_t *ev, const char *key, int64_t v)
{
        size_t i = ev->nd;

        if (i >= EV_MAXD)
                return;
        ev->dkey[i] = key;
        ev->dval[i] = NULL;
        ev->dnum[i] = v;
        ev->disnum[i] = 1;
        ev->nd++;
}

/* Text of metadata entry @p i (formats a number on first use). */
static const char *ev_dtext(const brook_event_t *cev, size_t i)
{
        brook_event_t *ev = (brook_event_t *)cev; /* cache, logically const */

        if (!ev->dval[i]) {
                snprintf(ev->dbuf[i], sizeof(ev->dbuf[i]), "%" PRId64,
                         ev->dnum[i]);
                ev->dval[i] = ev->dbuf[i];
        }
        return ev->dval[i];
}

/* Fill in the lazily counted values (before any value is read). */
static void ev_resolve(const brook_event_t *cev)
{
        brook_event_t *ev = (brook_event_t *)cev; /* cache, logically const */
        ev_lazy_t *lz = ev->lazy;
        size_t i, n;

        if (!lz)
                return;
        n = brook_batch_count(lz->b);
        if (!lz->done) {
                for (i = 0; i < n; i++)
                        lz->failed +=
                            brook_msg_error(brook_batch_msg(lz->b, i)) != NULL;
                lz->done = 1;
        }
        if (ev->lz_failed >= 0)
                ev->mval[ev->lz_failed] = (int64_t)lz->failed;
        if (ev->lz_ok >= 0)
                ev->mval[ev->lz_ok] = (int64_t)(n - lz->failed);
        if (ev->lz_status >= 0)
                ev->dval[ev->lz_status] = lz->failed == 0  ? "ok"
                                          : lz->failed < n ? "partial"
                                                           : "failed";
        ev->lazy = NULL;
}

static void ev_free(brook_event_t *ev)
{
        free(ev->links);
        ev->links = NULL;
}

/* Name of an event about batch @p b; its metadata are taken from the
 * batch when first read (ev_meta), so callbacks that do not read them do
 * not pay for them. */
static void ev_batch(brook_event_t *ev, const brook__tel_t *tel, int which,
                     const brook_batch_t *b)
{
        ev_init(ev, tel, which);
        ev->batch = b;
        ev->meta_pending = 1;
}

/* Put the batch's metadata after "group", before the event's own. */
static void ev_meta(const brook_event_t *cev)
{
        brook_event_t *ev = (brook_event_t *)cev; /* cache, logically const */
        const brook_batch_t *b = ev->batch;
        size_t i, own = ev->nd - 1, keep = ev->nd;

        if (!ev->meta_pending)
                return;
        ev->meta_pending = 0;
        assert(ev->nd + EV_BATCH_META <= EV_MAXD);
        for (i = own; i-- > 0;) {
                size_t from = 1 + i, to = 1 + EV_BATCH_META + i;

                ev->dkey[to] = ev->dkey[from];
                ev->dnum[to] = ev->dnum[from];
                ev->disnum[to] = ev->disnum[from];
                ev->dval[to] = ev->disnum[from] ? NULL : ev->dval[from];
        }
        if (ev->lz_status >= 1)
                ev->lz_status += EV_BATCH_META;
        ev->nd = 1;
        ev_ds(ev, "topic", brook_batch_topic(b));
        ev_di(ev, "partition", brook_batch_partition(b));
        ev_di(ev, "first_offset", brook_batch_first_offset(b));
        ev_di(ev, "last_offset", brook_batch_last_offset(b));
        ev_di(ev, "attempt", brook_batch_attempt(b));
        ev->nd = keep + EV_BATCH_META;
}

static int sub_match(const brook__sub_t *s, const char *name)
{
        return s->prefix ? !strncmp(name, s->name, s->len)
                         : !strcmp(name, s->name);
}

/* Call the matching callbacks; the caller holds the read lock. */
static void emit_locked(brook__tel_t *tel, const brook_event_t *ev)
{
        size_t i;

        for (i = 0; i < tel->nsubs; i++) {
                if (!sub_match(&tel->subs[i], ev->name))
                        continue;
                in_cb++;
                tel->subs[i].cb(ev, tel->subs[i].opaque);
                in_cb--;
        }
}

static void emit(brook__tel_t *tel, const brook_event_t *ev)
{
        if (!(brook__tel_active(tel) & BROOK__TEL_EVENTS))
                return;
        pthread_rwlock_rdlock(&tel->ev_lock);
        emit_locked(tel, ev);
        pthread_rwlock_unlock(&tel->ev_lock);
}

static void set_active(brook__tel_t *tel)
{
        int a = (tel->nsubs ? BROOK__TEL_EVENTS : 0) |
                (tel->span_start ? BROOK__TEL_SPANS : 0);

        atomic_store_explicit(&tel->active, a, memory_order_release);
}

/* ------------------------------------------------------------------ */
/* lifecycle                                                           */

brook__tel_t *brook__tel_new(const brook__settings_t *st, const char *kind,
                             const char *group, const brook__logger_t *log,
                             int flags, char *errstr, size_t errstr_size)
{
        brook__tel_t *tel = calloc(1, sizeof(*tel));
        const char *listen, *statsd;
        int64_t now = brook__now_us();
        int i;

        if (!tel || !(tel->group = strdup(group)) ||
            !(tel->metrics = brook__metrics_new(
                  kind, group, flags & BROOK__TEL_F_SINGLE_WRITER))) {
                if (tel)
                        free(tel->group);
                free(tel);
                brook__errstr(errstr, errstr_size, "out of memory");
                return NULL;
        }
        atomic_init(&tel->active, 0);
        snprintf(tel->kind, sizeof(tel->kind), "%s", kind);
        for (i = 0; i < BROOK__EV__CNT; i++)
                snprintf(tel->names[i], sizeof(tel->names[i]), "brook.%s.%s",
                         kind, ev_suffix[i]);
        tel->log = *log;
        tel->next_id = 1;
        pthread_rwlock_init(&tel->ev_lock, NULL);
        pthread_mutex_init(&tel->tick_lock, NULL);
        tel->summary_interval_us = st->log_summary_interval_ms * 1000;
        tel->statsd_interval_us = st->metrics_statsd_interval_ms * 1000;
        tel->next_summary_us = now + tel->summary_interval_us;
        tel->next_statsd_us = now + tel->statsd_interval_us;
        atomic_init(&tel->next_due_us,
                    BROOK__MIN(tel->summary_interval_us ? tel->next_summary_us
                                                        : INT64_MAX,
                               tel->next_statsd_us));

        statsd = st->metrics_statsd_address;
        if (*statsd &&
            !(tel->statsd = brook__statsd_new(statsd, st->metrics_statsd_tags,
                                              errstr, errstr_size)))
                goto fail;
        if (!tel->statsd && !tel->summary_interval_us)
                atomic_store(&tel->next_due_us, INT64_MAX);
        listen = st->metrics_listen;
        if (*listen &&
            !(tel->http = brook__http_new(tel, listen, errstr, errstr_size)))
                goto fail;
        return tel;
fail:
        brook__tel_destroy(tel);
        return NULL;
}

void brook__tel_destroy(brook__tel_t *tel)
{
        size_t i;

        if (!tel)
                return;
        brook__http_destroy(tel->http); /* no scrape after this */
        brook__statsd_destroy(tel->statsd);
        brook__metrics_destroy(tel->metrics);
        for (i = 0; i < tel->nsubs; i++)
                free(tel->subs[i].name);
        free(tel->subs);
        pthread_rwlock_destroy(&tel->ev_lock);
        pthread_mutex_destroy(&tel->tick_lock);
        free(tel->group);
        free(tel);
}

void brook__tel_stats(brook__tel_t *tel, int src, const char *json, size_t len)
{
        if (brook__metrics_stats(tel->metrics, src, json, len))
                brook__log(&tel->log, BROOK_LOG_DEBUG, "metrics.stats_invalid",
                           "bytes=%zu", len);
}

void brook__tel_stats_drop(brook__tel_t *tel, int src)
{
        if (tel)
                brook__metrics_lags_drop(tel->metrics, src);
}

/* ------------------------------------------------------------------ */
/* batches                                                             */

void brook__tel_batch_start(brook__tel_t *tel, const brook_batch_t *b,
                            brook__tel_span_t *sp)
{
        brook_event_t ev;
        int act = brook__tel_active(tel);

        memset(sp, 0, sizeof(*sp));
        if (!act || !brook_batch_count(b))
                return;
        ev_batch(&ev, tel, BROOK__EV_BATCH_START, b);
        ev_m(&ev, "count", (int64_t)brook_batch_count(b));
        ev_m(&ev, "bytes", (int64_t)brook_batch_bytes(b));
        /* One lock for the callbacks and the span hook. */
        pthread_rwlock_rdlock(&tel->ev_lock);
        emit_locked(tel, &ev);
        if (tel->span_start && tel->span_end) {
                in_cb++;
                sp->span = tel->span_start(&ev, tel->span_opaque);
                in_cb--;
                sp->end = tel->span_end;
                sp->opaque = tel->span_opaque;
        }
        pthread_rwlock_unlock(&tel->ev_lock);
        ev_free(&ev);
}

void brook__tel_batch_stop(brook__tel_t *tel, const brook_batch_t *b,
                           brook_err_t result, int64_t dur_us,
                           brook__tel_span_t *sp)
{
        int64_t dur = dur_us * 1000;
        size_t n = brook_batch_count(b);
        char reason[200];
        brook_event_t ev;
        /* A whole-batch failure fails every message: nothing to count. */
        ev_lazy_t lz = {b, result != BROOK_OK ? n : 0, result != BROOK_OK};

        if (!n || (!brook__tel_active(tel) && !sp->end))
                return;
        reason[0] = '\0';
        if (result != BROOK_OK) {
                const char *r = brook_msg_error(brook_batch_msg(b, 0));

                if (r)
                        snprintf(reason, sizeof(reason), "%s", r);
                else
                        snprintf(reason, sizeof(reason),
                                 "batch handler returned %s",
                                 brook_err2name(result));
        }
        if (result != BROOK_OK) {
                ev_batch(&ev, tel, BROOK__EV_BATCH_EXCEPTION, b);
                ev_m(&ev, "count", (int64_t)n);
                ev_ds(&ev, "kind", "error");
                ev_ds(&ev, "reason", reason);
                emit(tel, &ev);
                ev_free(&ev);
        }
        ev_batch(&ev, tel, BROOK__EV_BATCH_STOP, b);
        ev_m(&ev, "duration_ns", dur);
        ev_m(&ev, "count", (int64_t)n);
        ev.lz_failed = (int)ev.nm;
        ev_m(&ev, "failed_count", 0);
        ev.lz_status = (int)ev.nd;
        ev_ds(&ev, "status", "ok");
        ev.lazy = &lz;
        if (result != BROOK_OK)
                ev_ds(&ev, "error", reason);
        if (brook__tel_active(tel) & BROOK__TEL_EVENTS) {
                /* messages.processed has the same numbers: one lock for
                 * both. */
                brook_event_t pev;

                ev_batch(&pev, tel, BROOK__EV_MESSAGES_PROCESSED, b);
                pev.lz_ok = (int)pev.nm;
                ev_m(&pev, "count", 0);
                pev.lz_failed = (int)pev.nm;
                ev_m(&pev, "failed_count", 0);
                pev.lazy = &lz;
                pthread_rwlock_rdlock(&tel->ev_lock);
                emit_locked(tel, &ev);
                emit_locked(tel, &pev);
                pthread_rwlock_unlock(&tel->ev_lock);
                ev_free(&pev);
        }
        if (sp->end) {
                in_cb++;
                sp->end(sp->span, &ev, sp->opaque);
                in_cb--;
                sp->end = NULL;
        }
        ev_free(&ev);
}

void brook__tel_batch_exception(brook__tel_t *tel, const char *topic,
                                int32_t partition, int64_t first_offset,
                                int64_t last_offset, size_t count,
                                const char *kind, const char *reason)
{
        brook_event_t ev;

        if (!(brook__tel_active(tel) & BROOK__TEL_EVENTS))
                return;
        ev_init(&ev, tel, BROOK__EV_BATCH_EXCEPTION);
        ev_ds(&ev, "topic", topic);
        ev_di(&ev, "partition", partition);
        ev_di(&ev, "first_offset", first_offset);
        ev_di(&ev, "last_offset", last_offset);
        ev_ds(&ev, "kind", kind);
        ev_ds(&ev, "reason", reason);
        ev_m(&ev, "count", (int64_t)count);
        emit(tel, &ev);
}

void brook__tel_batch_done(brook__tel_t *tel, const brook_batch_t *b,
                           size_t failed, int64_t dur_us)
{
        size_t n = brook_batch_count(b);

        if (n)
                brook__metrics_batch(tel->metrics, brook_batch_topic(b), n,
                                     failed, dur_us);
}

void brook__tel_batch_metrics(brook__tel_t *tel, const char *topic,
                              size_t count, size_t failed, int64_t dur_us)
{
        if (count)
                brook__metrics_batch(tel->metrics, topic, count, failed,
                                     dur_us);
}

void brook__tel_inflight(brook__tel_t *tel, int n)
{
        brook__metrics_inflight(tel->metrics, n);
}

void brook__tel_dead_letter(brook__tel_t *tel, const brook_msg_t *m,
                            const char *reason, const char *dl_topic,
                            int32_t dl_partition, int64_t dl_offset, int ok)
{
        brook_event_t ev;

        brook__metrics_dead_letter(tel->metrics, brook_msg_topic(m), ok);
        if (!(brook__tel_active(tel) & BROOK__TEL_EVENTS))
                return;
        ev_init(&ev, tel,
                ok ? BROOK__EV_DEAD_LETTER_SENT : BROOK__EV_DEAD_LETTER_FAILED);
        ev.msg = m;
        ev_ds(&ev, "topic", brook_msg_topic(m));
        ev_di(&ev, "partition", brook_msg_partition(m));
        ev_di(&ev, "offset", brook_msg_offset(m));
        ev_ds(&ev, "dead_letter_topic", dl_topic);
        if (dl_partition >= 0)
                ev_di(&ev, "dead_letter_partition", dl_partition);
        if (dl_offset >= 0)
                ev_di(&ev, "dead_letter_offset", dl_offset);
        ev_ds(&ev, "reason", reason ? reason : "");
        ev_m(&ev, "count", 1);
        ev_m(&ev, "failures", brook_msg_retry_count(m));
        emit(tel, &ev);
}

void brook__tel_emit(brook__tel_t *tel, const char *name,
                     const char *const *mkeys, const int64_t *mvals,
                     size_t mcnt, const char *const *dkeys,
                     const char *const *dvals, size_t dcnt)
{
        brook_event_t ev;
        size_t i;

        if (!(brook__tel_active(tel) & BROOK__TEL_EVENTS))
                return;
        ev_init(&ev, tel, -1);
        ev.name = name;
        for (i = 0; i < mcnt; i++)
                ev_m(&ev, mkeys[i], mvals[i]);
        for (i = 0; i < dcnt; i++)
                ev_ds(&ev, dkeys[i], dvals[i]);
        emit(tel, &ev);
}

/* ------------------------------------------------------------------ */
/* periodic work                                                       */

/* INFO summary of the batches since the last one (none: no line). */
static void summary(brook__tel_t *tel, int64_t interval_us)
{
        uint64_t t[BROOK__SUM__CNT], d[BROOK__SUM__CNT];
        uint64_t batches;
        int i;

        brook__metrics_totals(tel->metrics, t);
        for (i = 0; i < BROOK__SUM__CNT; i++)
                d[i] = t[i] - tel->sum_prev[i];
        batches = d[BROOK__SUM_B_OK] + d[BROOK__SUM_B_PARTIAL] +
                  d[BROOK__SUM_B_FAILED];
        if (!batches)
                return;
        memcpy(tel->sum_prev, t, sizeof(t));
        brook__log(
            &tel->log, BROOK_LOG_INFO, "batch.summary",
            "interval_ms=%lld batches=%llu batches_partial=%llu "
            "batches_failed=%llu messages=%llu messages_failed=%llu "
            "dead_letters=%llu avg_batch_ms=%.3f in_flight=%d",
            (long long)(interval_us / 1000), (unsigned long long)batches,
            (unsigned long long)d[BROOK__SUM_B_PARTIAL],
            (unsigned long long)d[BROOK__SUM_B_FAILED],
            (unsigned long long)(d[BROOK__SUM_M_OK] + d[BROOK__SUM_M_FAILED]),
            (unsigned long long)d[BROOK__SUM_M_FAILED],
            (unsigned long long)d[BROOK__SUM_DEAD],
            (double)d[BROOK__SUM_DUR_US] / (double)batches / 1000.0,
            atomic_load(&tel->metrics->inflight));
}

void brook__tel_tick(brook__tel_t *tel, int64_t now_us)
{
        int64_t due = INT64_MAX;

        if (now_us <
                atomic_load_explicit(&tel->next_due_us, memory_order_relaxed) ||
            pthread_mutex_trylock(&tel->tick_lock))
                return;
        if (tel->statsd) {
                if (now_us >= tel->next_statsd_us) {
                        brook__statsd_flush(tel->statsd, tel->metrics);
                        tel->next_statsd_us = now_us + tel->statsd_interval_us;
                }
                due = tel->next_statsd_us;
        }
        if (tel->summary_interval_us) {
                if (now_us >= tel->next_summary_us) {
                        summary(tel, tel->summary_interval_us);
                        tel->next_summary_us =
                            now_us + tel->summary_interval_us;
                }
                due = BROOK__MIN(due, tel->next_summary_us);
        }
        atomic_store_explicit(&tel->next_due_us, due, memory_order_relaxed);
        pthread_mutex_unlock(&tel->tick_lock);
}

void brook__tel_flush(brook__tel_t *tel)
{
        int64_t now = brook__now_us();

        pthread_mutex_lock(&tel->tick_lock);
        if (tel->statsd)
                brook__statsd_flush(tel->statsd, tel->metrics);
        if (tel->summary_interval_us)
                summary(tel, tel->summary_interval_us -
                                 (tel->next_summary_us - now));
        pthread_mutex_unlock(&tel->tick_lock);
}

/* ------------------------------------------------------------------ */
/* public API                                                          */

int64_t brook_telemetry_event_attach(brook_telemetry_t *tel, const char *name,
                                     brook_event_cb_t *cb, void *opaque)
{
        brook__sub_t *s;
        int64_t id;

        if (!tel || !name || !cb)
                return -BROOK_ERR_INVALID_ARG;
        if (in_cb)
                return -BROOK_ERR_STATE;
        pthread_rwlock_wrlock(&tel->ev_lock);
        if (tel->nsubs == tel->subs_cap) {
                size_t cap = tel->subs_cap ? tel->subs_cap * 2 : 4;
                brook__sub_t *a = realloc(tel->subs, cap * sizeof(*a));

                if (!a) {
                        pthread_rwlock_unlock(&tel->ev_lock);
                        return -BROOK_ERR_NO_MEM;
                }
                tel->subs = a;
                tel->subs_cap = cap;
        }
        s = &tel->subs[tel->nsubs];
        if (!(s->name = strdup(name))) {
                pthread_rwlock_unlock(&tel->ev_lock);
                return -BROOK_ERR_NO_MEM;
        }
        s->len = strlen(name);
        s->prefix = s->len == 0 || name[s->len - 1] == '.';
        s->cb = cb;
        s->opaque = opaque;
        s->id = id = tel->next_id++;
        tel->nsubs++;
        set_active(tel);
        pthread_rwlock_unlock(&tel->ev_lock);
        return id;
}

brook_err_t brook_telemetry_event_detach(brook_telemetry_t *tel, int64_t id)
{
        size_t i;

        if (!tel)
                return BROOK_ERR_INVALID_ARG;
        if (in_cb)
                return BROOK_ERR_STATE;
        pthread_rwlock_wrlock(&tel->ev_lock);
        for (i = 0; i < tel->nsubs; i++)
                if (tel->subs[i].id == id)
                        break;
        if (i == tel->nsubs) {
                pthread_rwlock_unlock(&tel->ev_lock);
                return BROOK_ERR_NOT_FOUND;
        }
        free(tel->subs[i].name);
        memmove(&tel->subs[i], &tel->subs[i + 1],
                (tel->nsubs - i - 1) * sizeof(tel->subs[0]));
        tel->nsubs--;
        set_active(tel);
        pthread_rwlock_unlock(&tel->ev_lock);
        return BROOK_OK;
}

brook_err_t brook_telemetry_set_span_hooks(brook_telemetry_t *tel,
                                           brook_span_start_cb_t *start,
                                           brook_span_end_cb_t *end,
                                           void *opaque)
{
        if (!tel || !start != !end)
                return BROOK_ERR_INVALID_ARG;
        if (in_cb)
                return BROOK_ERR_STATE;
        pthread_rwlock_wrlock(&tel->ev_lock);
        tel->span_start = start;
        tel->span_end = end;
        tel->span_opaque = opaque;
        set_active(tel);
        pthread_rwlock_unlock(&tel->ev_lock);
        return BROOK_OK;
}

char *brook_telemetry_metrics_text(brook_telemetry_t *tel, size_t *lenp)
{
        if (lenp)
                *lenp = 0;
        return tel ? brook__metrics_render(tel->metrics, lenp) : NULL;
}

void brook_telemetry_free(void *ptr)
{
        free(ptr);
}

brook_err_t brook_telemetry_metrics_address(const brook_telemetry_t *tel,
                                            char *buf, size_t size)
{
        const char *a;

        if (!tel || !buf || !size)
                return BROOK_ERR_INVALID_ARG;
        if (!tel->http)
                return BROOK_ERR_NOT_FOUND;
        a = brook__http_address(tel->http);
        if (strlen(a) >= size)
                return BROOK_ERR_INVALID_ARG;
        memcpy(buf, a, strlen(a) + 1);
        return BROOK_OK;
}

/* ------------------------------------------------------------------ */
/* event accessors                                                     */

const char *brook_event_name(const brook_event_t *ev)
{
        return ev ? ev->name : NULL;
}

brook_err_t brook_event_measurement(const brook_event_t *ev, const char *key,
                                    int64_t *valuep)
{
        size_t i;

        if (ev)
                ev_resolve(ev);
        for (i = 0; ev && key && i < ev->nm; i++)
                if (!strcmp(ev->mkey[i], key)) {
                        if (valuep)
                                *valuep = ev->mval[i];
                        return BROOK_OK;
                }
        return BROOK_ERR_NOT_FOUND;
}

size_t brook_event_measurement_count(const brook_event_t *ev)
{
        return ev ? ev->nm : 0;
}

const char *brook_event_measurement_at(const brook_event_t *ev, size_t idx,
                                       int64_t *valuep)
{
        if (!ev || idx >= ev->nm)
                return NULL;
        ev_resolve(ev);
        if (valuep)
                *valuep = ev->mval[idx];
        return ev->mkey[idx];
}

const char *brook_event_metadata(const brook_event_t *ev, const char *key)
{
        size_t i;

        if (ev) {
                ev_meta(ev);
                ev_resolve(ev);
        }
        for (i = 0; ev && key && i < ev->nd; i++)
                if (!strcmp(ev->dkey[i], key))
                        return ev_dtext(ev, i);
        return NULL;
}

brook_err_t brook_event_metadata_int(const brook_event_t *ev, const char *key,
                                     int64_t *valuep)
{
        size_t i;

        if (ev)
                ev_meta(ev);
        for (i = 0; ev && key && i < ev->nd; i++)
                if (!strcmp(ev->dkey[i], key)) {
                        if (!ev->disnum[i])
                                break;
                        if (valuep)
                                *valuep = ev->dnum[i];
                        return BROOK_OK;
                }
        return BROOK_ERR_NOT_FOUND;
}

size_t brook_event_metadata_count(const brook_event_t *ev)
{
        return ev ? ev->nd + (ev->meta_pending ? EV_BATCH_META : 0) : 0;
}

const char *brook_event_metadata_at(const brook_event_t *ev, size_t idx,
                                    const char **valuep)
{
        if (!ev)
                return NULL;
        ev_meta(ev);
        if (idx >= ev->nd)
                return NULL;
        ev_resolve(ev);
        if (valuep)
                *valuep = ev_dtext(ev, idx);
        return ev->dkey[idx];
}

const brook_batch_t *brook_event_batch(const brook_event_t *ev)
{
        return ev ? ev->batch : NULL;
}

const brook_msg_t *brook_event_msg(const brook_event_t *ev)
{
        return ev ? ev->msg : NULL;
}

const char *const *brook_event_links(const brook_event_t *cev, size_t *cntp)
{
        brook_event_t *ev = (brook_event_t *)cev; /* cache, logically const */

        if (cntp)
                *cntp = 0;
        if (!ev || !ev->batch)
                return NULL;
        if (!ev->links_done) {
                ev->links = brook__trace_links(ev->batch, &ev->nlinks);
                ev->links_done = 1;
        }
        if (cntp)
                *cntp = ev->nlinks;
        return ev->links;
}
