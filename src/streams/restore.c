/*
 * streams/restore.c: restoring a task's stores from their changelogs
 * before the task processes anything.
 *
 * Each logged store starts at its checkpointed offset; a missing or corrupt
 * checkpoint, or an offset outside the changelog's current range, wipes
 * the local store and restores from the beginning (in-memory stores always
 * do). The end is the high watermark when the restore starts. The thread's
 * restore consumer reads every restoring changelog partition; each step
 * applies one poll's records of a partition as one write batch (a RocksDB
 * WriteBatch, tombstones as deletes) holding only the last record of each
 * key, and reports it to the restore listener. A store is done when its
 * position reaches the end, or when the consumer reports the partition's end
 * (PARTITION_EOF): that is what keeps a transaction marker at the log end,
 * which is never delivered as a record, from holding restoration forever.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/changelog.h"
#include "store/checkpoint.h"
#include "streams/streams.h"

#define BEGINNING (-2)

int brook__restore_done(const brook__task_t *t)
{
        size_t i;

        for (i = 0; i < t->store_cnt; i++)
                if (t->stores[i].restoring)
                        return 0;
        return 1;
}

int brook__restore_active(const brook__sthread_t *th)
{
        size_t i;

        for (i = 0; i < th->ntasks; i++)
                if (th->tasks[i]->state == BROOK__TASK_RESTORING &&
                    !brook__restore_done(th->tasks[i]))
                        return 1;
        return 0;
}

static void pause_partition(brook__sthread_t *th, const char *topic,
                            int32_t partition)
{
        rd_kafka_topic_partition_list_t *l;

        if (!th->rrk)
                return;
        l = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(l, topic, partition);
        rd_kafka_pause_partitions(th->rrk, l);
        rd_kafka_topic_partition_list_destroy(l);
}

static void finish(brook__sthread_t *th, brook__task_t *t, brook__tstore_t *ts,
                   int64_t eof_offset)
{
        brook_streams_t *s = th->s;
        int64_t off = BROOK__MAX(ts->position, eof_offset);

        ts->restoring = 0;
        brook__changelog_set_offset(brook__store_changelog(ts->store),
                                    BROOK__MAX(off, ts->end));
        /* Pause it rather than assigning the others anew, which would
         * drop what was fetched for them; the assignment is redone when
         * nothing restores any more. */
        pause_partition(th, ts->changelog, t->partition);
        th->restore_stale = 1;
        brook__log(&th->log, BROOK_LOG_INFO, "restore.done",
                   "task=%s store=%s topic=%s partition=%d restored=%lld "
                   "offset=%lld",
                   t->id, ts->def->name, ts->changelog, (int)t->partition,
                   (long long)ts->restored, (long long)off);
        if (s->restore_end)
                s->restore_end(ts->def->name, ts->changelog, t->partition,
                               ts->restored, s->restore_opaque);
        if (brook__tel_active(s->tel)) {
                const char *mk[] = {"records", "partition"};
                int64_t mv[] = {ts->restored, t->partition};
                const char *dk[] = {"task", "store", "changelog"};
                const char *dv[] = {t->id, ts->def->name, ts->changelog};

                brook__tel_emit(s->tel, "brook.streams.task.restored", mk, mv,
                                2, dk, dv, 3);
        }
}

static brook_err_t wipe(brook__sthread_t *th, brook__task_t *t,
                        brook__tstore_t *ts, const char *why, char *errstr,
                        size_t errstr_size)
{
        brook_err_t err;

        brook__log(&th->log, BROOK_LOG_INFO, "store.wipe",
                   "task=%s store=%s reason=\"%s\"", t->id, ts->def->name, why);
        if ((err = brook__store_wipe(ts->store)))
                brook__errstr(errstr, errstr_size,
                              "store %s: cannot wipe it before a full "
                              "restore: %s",
                              ts->def->name,
                              *ts->store->errstr ? ts->store->errstr
                                                 : brook_err2str(err));
        return err;
}

/* Where store @p ts restores from; wipes when that is the beginning. */
static brook_err_t start_offset(brook__sthread_t *th, brook__task_t *t,
                                brook__tstore_t *ts,
                                const brook__ckpt_entry_t *entries, size_t cnt,
                                brook_err_t ckerr, int64_t *startp,
                                char *errstr, size_t errstr_size)
{
        const brook__ckpt_entry_t *e;

        *startp = BEGINNING;
        if (ts->def->kind == BROOK_STORE_MEMORY)
                return BROOK_OK; /* opens empty */
        e = ckerr ? NULL : brook__checkpoint_find(entries, cnt, ts->def->name);
        if (e && !strcmp(e->topic, ts->changelog) &&
            e->partition == t->partition) {
                *startp = e->offset;
                return BROOK_OK;
        }
        return wipe(th, t, ts,
                    ckerr == BROOK_ERR_CORRUPT     ? "corrupt checkpoint"
                    : ckerr == BROOK_ERR_NOT_FOUND ? "no checkpoint"
                                                   : "store not in checkpoint",
                    errstr, errstr_size);
}

/*
 * The changelog's watermarks. A changelog created a moment ago may have
 * no leader known yet: retriable errors are retried (every 100 ms) within
 * streams.topic.timeout.ms.
 */
static rd_kafka_resp_err_t watermarks(brook__sthread_t *th, const char *topic,
                                      int32_t partition, int64_t *lo,
                                      int64_t *hi)
{
        int64_t deadline =
            brook__now_us() + (int64_t)th->s->topic_timeout_ms * 1000;
        rd_kafka_resp_err_t err;

        for (;;) {
                int64_t left = (deadline - brook__now_us()) / 1000;

                err = rd_kafka_query_watermark_offsets(
                    th->rk, topic, partition, lo, hi,
                    (int)BROOK__MAX(left, 100));
                switch (err) {
                case RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION:
                case RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE:
                case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
                case RD_KAFKA_RESP_ERR_REPLICA_NOT_AVAILABLE:
                case RD_KAFKA_RESP_ERR__TRANSPORT:
                        break;
                default:
                        return err;
                }
                if (brook__now_us() + 100000 >= deadline)
                        return err;
                usleep(100000);
        }
}

brook_err_t brook__restore_begin(brook__sthread_t *th, brook__task_t *t,
                                 char *errstr, size_t errstr_size)
{
        brook_streams_t *s = th->s;
        brook__ckpt_entry_t *entries = NULL;
        brook_err_t ckerr = BROOK_ERR_NOT_FOUND, err = BROOK_OK;
        char path[4096], es[600];
        size_t cnt = 0, i;

        snprintf(path, sizeof(path), "%s/.checkpoint", t->dir);
        for (i = 0; i < t->store_cnt; i++)
                if (t->stores[i].changelog &&
                    t->stores[i].def->kind != BROOK_STORE_MEMORY)
                        break;
        if (i < t->store_cnt) {
                ckerr = brook__checkpoint_read(path, &entries, &cnt, es,
                                               sizeof(es));
                if (ckerr == BROOK_ERR_CORRUPT)
                        brook__log(&th->log, BROOK_LOG_WARN,
                                   "checkpoint.corrupt",
                                   "task=%s error=\"%s\" next=full_restore",
                                   t->id, es);
                else if (ckerr == BROOK_ERR_IO || ckerr == BROOK_ERR_NO_MEM) {
                        brook__errstr(errstr, errstr_size, "%s", es);
                        return ckerr;
                }
        }
        for (i = 0; i < t->store_cnt && !err; i++) {
                brook__tstore_t *ts = &t->stores[i];
                rd_kafka_resp_err_t rerr;
                int64_t start, lo = 0, hi = 0;

                if (!ts->changelog)
                        continue;
                if ((err = start_offset(th, t, ts, entries, cnt, ckerr, &start,
                                        errstr, errstr_size)))
                        break;
                rerr = watermarks(th, ts->changelog, t->partition, &lo, &hi);
                if (rerr) {
                        brook__errstr(errstr, errstr_size,
                                      "changelog %s [%d]: watermarks: %s",
                                      ts->changelog, (int)t->partition,
                                      rd_kafka_err2str(rerr));
                        err = BROOK_ERR_KAFKA;
                        break;
                }
                if (start != BEGINNING && (start > hi || start < lo)) {
                        snprintf(es, sizeof(es),
                                 "checkpoint offset %lld outside the "
                                 "changelog [%lld, %lld]",
                                 (long long)start, (long long)lo,
                                 (long long)hi);
                        if ((err = wipe(th, t, ts, es, errstr, errstr_size)))
                                break;
                        start = BEGINNING;
                }
                if (start == BEGINNING)
                        start = lo;
                ts->start = ts->position = start;
                ts->end = hi;
                ts->restored = 0;
                if (start >= hi) {
                        brook__changelog_set_offset(
                            brook__store_changelog(ts->store), start);
                        continue;
                }
                ts->restoring = 1;
                th->restore_dirty = 1;
                brook__log(&th->log, BROOK_LOG_INFO, "restore.start",
                           "task=%s store=%s topic=%s partition=%d "
                           "start=%lld end=%lld",
                           t->id, ts->def->name, ts->changelog,
                           (int)t->partition, (long long)start, (long long)hi);
                if (s->restore_start)
                        s->restore_start(ts->def->name, ts->changelog,
                                         t->partition, start, hi,
                                         s->restore_opaque);
        }
        free(entries);
        if (!err)
                t->state = BROOK__TASK_RESTORING;
        return err;
}

/* ------------------------------------------------------------------ */
/* restore consumer                                                    */

static brook_err_t restore_consumer(brook__sthread_t *th, char *errstr,
                                    size_t errstr_size)
{
        brook_streams_t *s = th->s;
        char cid[300], gid[300];
        brook__kopts_t o = {cid, gid, NULL, 0};
        rd_kafka_conf_t *rkc;
        size_t n = s->restore_max;

        snprintf(cid, sizeof(cid), "%s-%s-StreamThread-%d-restore",
                 s->st.client_id, s->app_id, th->idx);
        /* Never joins: partitions are assigned by hand, nothing is
         * committed. */
        snprintf(gid, sizeof(gid), "%s-restore", s->app_id);
        th->rkc.log = &th->log;
        th->rkc.name = "restore_consumer";
        th->rkc.owner = th;
        if (!(rkc = brook__kafka_conf(BROOK__KROLE_RESTORE, &s->st, &o,
                                      &th->rkc, errstr, errstr_size)))
                return BROOK_ERR_CONF_INVALID;
        if (!(th->rrk = brook__kafka_new(BROOK__KROLE_RESTORE, rkc, errstr,
                                         errstr_size)))
                return BROOK_ERR_KAFKA;
        th->rq = rd_kafka_queue_get_consumer(th->rrk);
        th->rmsgs = malloc(n * sizeof(*th->rmsgs));
        th->rkeys = malloc(n * sizeof(*th->rkeys));
        th->rvals = malloc(n * sizeof(*th->rvals));
        th->rklens = malloc(n * sizeof(*th->rklens));
        th->rvlens = malloc(n * sizeof(*th->rvlens));
        if (!th->rmsgs || !th->rkeys || !th->rvals || !th->rklens ||
            !th->rvlens) {
                brook__errstr(errstr, errstr_size, "out of memory");
                return BROOK_ERR_NO_MEM;
        }
        return BROOK_OK;
}

void brook__restore_close(brook__sthread_t *th)
{
        if (th->rq)
                rd_kafka_queue_destroy(th->rq);
        if (th->rrk) {
                rd_kafka_consumer_close(th->rrk);
                rd_kafka_destroy(th->rrk);
        }
        th->rq = NULL;
        th->rrk = NULL;
        free(th->rmsgs);
        free(th->rkeys);
        free(th->rvals);
        free(th->rklens);
        free(th->rvlens);
        free(th->rslots);
        th->rslots = NULL;
        th->rslot_cap = 0;
        th->rmsgs = NULL;
        th->rkeys = th->rvals = NULL;
        th->rklens = th->rvlens = NULL;
}

/* Assign every restoring changelog partition at its position. */
static brook_err_t reassign(brook__sthread_t *th, char *errstr,
                            size_t errstr_size)
{
        rd_kafka_topic_partition_list_t *l =
            rd_kafka_topic_partition_list_new(8);
        rd_kafka_resp_err_t err;
        size_t i, j;

        for (i = 0; i < th->ntasks; i++) {
                brook__task_t *t = th->tasks[i];

                for (j = 0; j < t->store_cnt; j++)
                        if (t->stores[j].restoring)
                                rd_kafka_topic_partition_list_add(
                                    l, t->stores[j].changelog, t->partition)
                                    ->offset = t->stores[j].position;
        }
        err = rd_kafka_assign(th->rrk, l->cnt ? l : NULL);
        rd_kafka_topic_partition_list_destroy(l);
        if (err) {
                brook__errstr(errstr, errstr_size, "restore assign: %s",
                              rd_kafka_err2str(err));
                return BROOK_ERR_KAFKA;
        }
        th->restore_dirty = th->restore_stale = 0;
        return BROOK_OK;
}

brook_err_t brook__restore_sync(brook__sthread_t *th, char *errstr,
                                size_t errstr_size)
{
        if (!th->rrk || !(th->restore_dirty || th->restore_stale))
                return BROOK_OK;
        return reassign(th, errstr, errstr_size);
}

static brook__tstore_t *restoring_store(brook__sthread_t *th, const char *topic,
                                        int32_t partition, brook__task_t **tp)
{
        size_t i, j;

        for (i = 0; i < th->ntasks; i++) {
                brook__task_t *t = th->tasks[i];

                if (t->partition != partition)
                        continue;
                for (j = 0; j < t->store_cnt; j++) {
                        brook__tstore_t *ts = &t->stores[j];

                        if (ts->restoring && !strcmp(ts->changelog, topic)) {
                                *tp = t;
                                return ts;
                        }
                }
        }
        return NULL;
}

/*
 * Keep only the last record of each key among the @p n staged ones: a
 * restore step is one atomic write, so the earlier values of a key would
 * never be seen (a changelog batch of a hot key repeats it many times).
 * Returns how many distinct keys remain (all of them without memory for
 * the table).
 */
static size_t dedupe(brook__sthread_t *th, size_t n)
{
        size_t cap = 16, i, m = 0;

        if (n < 2)
                return n;
        while (cap < 2 * n)
                cap <<= 1;
        if (cap > th->rslot_cap) {
                int32_t *s = realloc(th->rslots, cap * sizeof(*s));

                if (!s)
                        return n;
                th->rslots = s;
                th->rslot_cap = cap;
        }
        memset(th->rslots, 0xff, cap * sizeof(*th->rslots));
        for (i = 0; i < n; i++) {
                size_t h =
                    (size_t)brook__cache_hash(th->rkeys[i], th->rklens[i]) &
                    (cap - 1);
                int32_t j;

                while ((j = th->rslots[h]) >= 0 &&
                       (th->rklens[j] != th->rklens[i] ||
                        memcmp(th->rkeys[j], th->rkeys[i], th->rklens[i])))
                        h = (h + 1) & (cap - 1);
                if (j >= 0) { /* a later value of a key seen before */
                        th->rvals[j] = th->rvals[i];
                        th->rvlens[j] = th->rvlens[i];
                        continue;
                }
                th->rslots[h] = (int32_t)m;
                th->rkeys[m] = th->rkeys[i];
                th->rklens[m] = th->rklens[i];
                th->rvals[m] = th->rvals[i];
                th->rvlens[m] = th->rvlens[i];
                m++;
        }
        return m;
}

/* Apply @p cnt messages of one changelog partition as one write. */
static brook_err_t apply(brook__sthread_t *th, rd_kafka_message_t **m,
                         size_t cnt, char *errstr, size_t errstr_size)
{
        brook_streams_t *s = th->s;
        brook__task_t *t;
        brook__tstore_t *ts = restoring_store(
            th, rd_kafka_topic_name(m[0]->rkt), m[0]->partition, &t);
        brook_err_t err;
        size_t i, n = 0;

        if (!ts)
                return BROOK_OK; /* not restoring any more */
        for (i = 0; i < cnt; i++) {
                if (m[i]->offset < ts->position)
                        continue; /* seen before a reassignment */
                th->rkeys[n] = m[i]->key ? m[i]->key : "";
                th->rklens[n] = m[i]->key ? m[i]->key_len : 0;
                th->rvals[n] = m[i]->payload;
                th->rvlens[n] = m[i]->payload ? m[i]->len : 0;
                n++;
        }
        if (!n)
                return BROOK_OK;
        if ((err = brook__store_restore_batch(ts->store, dedupe(th, n),
                                              th->rkeys, th->rklens, th->rvals,
                                              th->rvlens))) {
                brook__errstr(errstr, errstr_size, "task %s store %s: %s",
                              t->id, ts->def->name, ts->store->errstr);
                return err;
        }
        ts->position = m[cnt - 1]->offset + 1;
        ts->restored += (int64_t)n;
        BROOK__COUNT(s->counters.restored, n);
        if (s->restore_batch)
                s->restore_batch(ts->def->name, ts->changelog, t->partition,
                                 m[cnt - 1]->offset, n, s->restore_opaque);
        if (ts->position >= ts->end)
                finish(th, t, ts, -1);
        return BROOK_OK;
}

static void on_eof(brook__sthread_t *th, rd_kafka_message_t *m)
{
        brook__task_t *t;
        brook__tstore_t *ts =
            restoring_store(th, rd_kafka_topic_name(m->rkt), m->partition, &t);

        /* The fetch position reached the end: whatever lies between the
         * last record and the end (transaction markers) is not data. */
        if (ts && m->offset >= ts->end)
                finish(th, t, ts, m->offset);
}

brook_err_t brook__restore_step(brook__sthread_t *th, int timeout_ms,
                                char *errstr, size_t errstr_size)
{
        brook_err_t err = BROOK_OK;
        ssize_t n, i, run = 0;

        if (!th->rrk && (err = restore_consumer(th, errstr, errstr_size)))
                return err;
        if (th->restore_dirty && (err = reassign(th, errstr, errstr_size)))
                return err;
        n = rd_kafka_consume_batch_queue(th->rq, timeout_ms, th->rmsgs,
                                         th->s->restore_max);
        /* Runs of one partition, in order, each applied as one batch. */
        for (i = 0; i < n; i++) {
                rd_kafka_message_t *m = th->rmsgs[i];
                int boundary =
                    m->err ||
                    (i > run && (m->rkt != th->rmsgs[run]->rkt ||
                                 m->partition != th->rmsgs[run]->partition));

                if (boundary && i > run && !err)
                        err = apply(th, th->rmsgs + run, (size_t)(i - run),
                                    errstr, errstr_size);
                if (boundary)
                        run = i;
                if (m->err) {
                        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
                                on_eof(th, m);
                        else
                                brook__log(&th->log, BROOK_LOG_WARN,
                                           "restore.consume_error", "error=%s",
                                           rd_kafka_err2name(m->err));
                        run = i + 1;
                }
        }
        if (n > run && !err)
                err = apply(th, th->rmsgs + run, (size_t)(n - run), errstr,
                            errstr_size);
        for (i = 0; i < n; i++)
                rd_kafka_message_destroy(th->rmsgs[i]);
        return err;
}
