/*
 * streams/streams.c: the streams runtime: stream threads, their poll loop,
 * rebalances and the commit cycle.
 *
 * Poll loop of a stream thread: advance tasks that are starting (lock,
 * open stores, restore), poll up to streams.batch.max.records records,
 * group them by (topic, partition) in offset order and give each group to
 * its task as one batch, run wall-clock punctuators, serve delivery
 * reports, and every commit.interval.ms run the commit cycle:
 *
 *   0. flush the record caches: the latest value per key goes to the
 *      stores and (one produce batch per store) the changelogs; flush
 *      listeners forward it downstream, where sinks produce it;
 *   1. flush the producer: every sink record, changelog record and dead
 *      letter produced so far is acknowledged (any failure: stop without
 *      committing, ever again in this run);
 *   2. flush the stores (RocksDB memtables);
 *   3. commit the offsets of the finished batches, synchronously;
 *   4. write the tasks' checkpoints (atomically).
 *
 * Rebalances use the eager range assignor, so a sub-topology's
 * co-partitioned topics move together. On revocation the commit cycle runs
 * and the tasks close; on assignment tasks are created with their
 * partitions paused until their stores are restored; a partition that
 * delivered records before the pause took effect is sought back.
 */
#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "streams/streams.h"

/* ------------------------------------------------------------------ */
/* errors                                                              */

void brook__streams_set_fatal(brook_streams_t *s, brook_error_t *err)
{
        char rq[1100];

        pthread_mutex_lock(&s->lock);
        if (!s->fatal) {
                s->fatal = err;
                err = NULL;
        }
        pthread_mutex_unlock(&s->lock);
        atomic_store(&s->stop, 1);
        if (!err)
                brook__log(
                    &s->log, BROOK_LOG_ERROR, "streams.fatal",
                    "error=%s code=%s",
                    brook__logq(rq, sizeof(rq), brook_error_string(s->fatal)),
                    brook_err2name(brook_error_code(s->fatal)));
        brook_error_destroy(err);
}

static int stopping(const brook_streams_t *s)
{
        return atomic_load(&((brook_streams_t *)s)->stop);
}

/* ------------------------------------------------------------------ */
/* tasks of a thread                                                   */

static brook__task_t *task_find(brook__sthread_t *th, int sub,
                                int32_t partition)
{
        size_t i;

        for (i = 0; i < th->ntasks; i++)
                if (th->tasks[i]->sub == sub &&
                    th->tasks[i]->partition == partition)
                        return th->tasks[i];
        return NULL;
}

static brook__tpart_t *part_find(brook__sthread_t *th, const char *topic,
                                 int32_t partition, brook__task_t **tp)
{
        size_t i;

        for (i = 0; i < th->ntasks; i++) {
                brook__tpart_t *p =
                    brook__task_part(th->tasks[i], topic, partition);

                if (p) {
                        *tp = th->tasks[i];
                        return p;
                }
        }
        return NULL;
}

static void task_close(brook__sthread_t *th, size_t i, int dirty)
{
        brook__task_t *t = th->tasks[i];
        brook_streams_t *s = th->s;
        int was_running = t->state == BROOK__TASK_RUNNING;

        if (dirty)
                brook__task_drop_checkpoint(t);
        if (t->fatal) {
                brook__streams_set_fatal(s, t->fatal);
                t->fatal = NULL;
        }
        brook__log(&th->log, BROOK_LOG_INFO, "task.closed", "task=%s dirty=%s",
                   t->id, dirty ? "true" : "false");
        brook__task_destroy(t);
        th->tasks[i] = th->tasks[--th->ntasks];
        th->restore_dirty = 1;
        if (was_running)
                BROOK__COUNT(s->counters.running, -1);
}

/* ------------------------------------------------------------------ */
/* commit cycle                                                        */

static void commit_cycle(brook__sthread_t *th)
{
        brook_streams_t *s = th->s;
        rd_kafka_topic_partition_list_t *l;
        rd_kafka_resp_err_t rerr;
        char es[600];
        brook_err_t err;
        size_t i, j;
        int64_t t0 = brook__now_us();
        int committed = 1;

        th->last_commit_us = t0;
        if (th->no_commit)
                return;
        /* 0. record caches: nothing may be committed whose store,
         * changelog or output writes still sit in a cache */
        for (i = 0; i < th->ntasks; i++) {
                brook__task_t *t = th->tasks[i];

                if (t->state != BROOK__TASK_RUNNING)
                        continue;
                if ((err = brook__task_flush_caches(t, es, sizeof(es)))) {
                        th->no_commit = 1;
                        if (t->fatal) {
                                brook__streams_set_fatal(s, t->fatal);
                                t->fatal = NULL;
                        } else {
                                brook__streams_set_fatal(
                                    s, brook__error_new(err, 1, 0, "%s", es));
                        }
                        return;
                }
        }
        /* 1. everything produced is acknowledged */
        err = brook__producer_flush(th->prod, s->shutdown_timeout_ms, es,
                                    sizeof(es));
        if (err == BROOK_ERR_TIMED_OUT) {
                brook__log(&th->log, BROOK_LOG_WARN, "commit.delayed",
                           "reason=%s", es);
                return;
        }
        for (i = 0; !err && i < th->ntasks; i++)
                if (brook__task_changelog_failed(th->tasks[i])) {
                        snprintf(es, sizeof(es),
                                 "task %s: a changelog write failed",
                                 th->tasks[i]->id);
                        err = BROOK_ERR_KAFKA;
                }
        if (err) {
                th->no_commit = 1;
                brook__streams_set_fatal(
                    s, brook__error_new(err, 1, 0,
                                        "%s; offsets are not committed past "
                                        "the records whose output may be "
                                        "missing",
                                        es));
                return;
        }
        /* 2. stores */
        for (i = 0; i < th->ntasks; i++) {
                brook__task_t *t = th->tasks[i];

                if (t->state != BROOK__TASK_RUNNING)
                        continue;
                if ((err = brook__task_flush_stores(t, es, sizeof(es)))) {
                        th->no_commit = 1;
                        brook__streams_set_fatal(
                            s, brook__error_new(err, 1, 0, "%s", es));
                        return;
                }
        }
        /* 3. offsets */
        l = rd_kafka_topic_partition_list_new(8);
        for (i = 0; i < th->ntasks; i++) {
                brook__task_t *t = th->tasks[i];

                if (t->state != BROOK__TASK_RUNNING)
                        continue;
                for (j = 0; j < t->part_cnt; j++) {
                        brook__tpart_t *p = &t->parts[j];

                        if (p->assigned && p->next >= 0 &&
                            p->next != p->committed)
                                rd_kafka_topic_partition_list_add(l, p->topic,
                                                                  p->partition)
                                    ->offset = p->next;
                }
        }
        if (l->cnt) {
                rerr = rd_kafka_commit(th->rk, l, 0);
                for (i = 0; !rerr && i < (size_t)l->cnt; i++)
                        if (l->elems[i].err)
                                rerr = l->elems[i].err;
                if (rerr) {
                        brook__log(&th->log, BROOK_LOG_WARN, "commit.failed",
                                   "error=%s partitions=%d next=retry",
                                   rd_kafka_err2name(rerr), l->cnt);
                        committed = 0;
                } else {
                        for (i = 0; i < (size_t)l->cnt; i++) {
                                brook__task_t *t;
                                brook__tpart_t *p =
                                    part_find(th, l->elems[i].topic,
                                              l->elems[i].partition, &t);

                                if (p)
                                        p->committed = l->elems[i].offset;
                        }
                        BROOK__COUNT(s->counters.commits, 1);
                }
        }
        rd_kafka_topic_partition_list_destroy(l);
        /* 4. checkpoints */
        for (i = 0; i < th->ntasks; i++) {
                brook__task_t *t = th->tasks[i];

                if (t->state == BROOK__TASK_RUNNING &&
                    (err = brook__task_checkpoint(t, es, sizeof(es))))
                        brook__log(&th->log, BROOK_LOG_WARN,
                                   "checkpoint.failed", "task=%s error=%s",
                                   t->id, es);
        }
        if (committed)
                th->dirty = 0; /* else the next cycle tries again */
        if (committed && brook__tel_active(s->tel)) {
                for (i = 0; i < th->ntasks; i++) {
                        const char *mk[] = {"duration_ns"}, *dk[] = {"task"};
                        const char *dv[] = {th->tasks[i]->id};
                        int64_t mv[] = {(brook__now_us() - t0) * 1000};

                        if (th->tasks[i]->state == BROOK__TASK_RUNNING)
                                brook__tel_emit(s->tel,
                                                "brook.streams.task.committed",
                                                mk, mv, 1, dk, dv, 1);
                }
        }
        brook__log(&th->log, BROOK_LOG_DEBUG, "commit.done",
                   "tasks=%zu duration_us=%lld", th->ntasks,
                   (long long)(brook__now_us() - t0));
}

/* ------------------------------------------------------------------ */
/* rebalance                                                           */

static void notify_task(brook__sthread_t *th, const char *id, int assigned)
{
        if (th->s->task_cb)
                th->s->task_cb(id, assigned, th->s->task_opaque);
}

static void parts_revoke(brook__sthread_t *th,
                         rd_kafka_topic_partition_list_t *l, int lost)
{
        size_t i;
        int k;

        brook__log(&th->log, BROOK_LOG_INFO, "partitions.revoked",
                   "count=%d lost=%s", l->cnt, lost ? "true" : "false");
        if (!lost)
                commit_cycle(th);
        for (k = 0; k < l->cnt; k++) {
                brook__task_t *t;
                brook__tpart_t *p =
                    part_find(th, l->elems[k].topic, l->elems[k].partition, &t);

                if (p)
                        p->assigned = 0;
        }
        /* A task goes when none of its partitions is ours any more. */
        for (i = th->ntasks; i-- > 0;) {
                brook__task_t *t = th->tasks[i];
                char id[32];
                size_t j;
                int any = 0, running = t->state == BROOK__TASK_RUNNING;

                for (j = 0; j < t->part_cnt; j++)
                        any |= t->parts[j].assigned;
                if (any)
                        continue;
                snprintf(id, sizeof(id), "%s", t->id);
                task_close(th, i, lost);
                if (running)
                        notify_task(th, id, 0);
        }
}

static void parts_assign(brook__sthread_t *th,
                         rd_kafka_topic_partition_list_t *l)
{
        brook_streams_t *s = th->s;
        char es[512];
        int k;

        for (k = 0; k < l->cnt; k++) {
                const char *topic = l->elems[k].topic;
                int32_t part = l->elems[k].partition;
                brook__tpart_t *p;
                brook__task_t *t;
                int sub = -1;

                if (brook__topology_source_of(s->topo, topic, &sub) < 0)
                        continue;
                if (!(t = task_find(th, sub, part))) {
                        if (th->ntasks == th->tasks_cap) {
                                size_t cap =
                                    th->tasks_cap ? th->tasks_cap * 2 : 16;
                                brook__task_t **v =
                                    realloc(th->tasks, cap * sizeof(*v));

                                if (!v)
                                        goto nomem;
                                th->tasks = v;
                                th->tasks_cap = cap;
                        }
                        if (!(t = brook__task_new(&th->env, sub, part, es,
                                                  sizeof(es))))
                                goto nomem;
                        th->tasks[th->ntasks++] = t;
                        brook__log(&th->log, BROOK_LOG_INFO, "task.created",
                                   "task=%s", t->id);
                        if (brook__tel_active(s->tel)) {
                                const char *mk[] = {"partition"},
                                           *dk[] = {"task"};
                                const char *dv[] = {t->id};
                                int64_t mv[] = {part};

                                brook__tel_emit(s->tel,
                                                "brook.streams.task.created",
                                                mk, mv, 1, dk, dv, 1);
                        }
                }
                if ((p = brook__task_part(t, topic, part))) {
                        p->assigned = 1;
                        p->seek_to = -1;
                }
        }
        brook__log(&th->log, BROOK_LOG_INFO, "partitions.assigned",
                   "count=%d tasks=%zu", l->cnt, th->ntasks);
        return;
nomem:
        brook__streams_set_fatal(
            s, brook__error_new(BROOK_ERR_NO_MEM, 1, 0,
                                "out of memory on assignment"));
}

typedef struct resume_set_s resume_set_t;
static int task_advance(brook__sthread_t *th, brook__task_t *t, int64_t now);
static void task_ready(brook__sthread_t *th, brook__task_t *t,
                       resume_set_t *rs);

/*
 * Open and restore-begin the tasks of the new partitions right away: a
 * task with nothing to restore starts running before its partitions are
 * assigned and is never paused. The others' partitions are paused until
 * their stores are restored (records that slip through are sought back).
 * Pausing everything and resuming later would cost up to a second per
 * start: librdkafka 2.0 only notices a resumed partition that is already
 * in the active fetch state at its broker thread's next 1 s wake-up.
 */
static rd_kafka_topic_partition_list_t *
start_assigned(brook__sthread_t *th, rd_kafka_topic_partition_list_t *l)
{
        rd_kafka_topic_partition_list_t *pause =
            rd_kafka_topic_partition_list_new(l->cnt > 0 ? l->cnt : 1);
        int64_t now = brook__now_us();
        int k;

        for (k = 0; k < l->cnt; k++) {
                brook__task_t *t = NULL;

                if (!part_find(th, l->elems[k].topic, l->elems[k].partition,
                               &t))
                        continue;
                if (t->state == BROOK__TASK_CREATED &&
                    task_advance(th, t, now) == 1)
                        task_ready(th, t, NULL);
                if (t->state != BROOK__TASK_RUNNING)
                        rd_kafka_topic_partition_list_add(
                            pause, l->elems[k].topic, l->elems[k].partition);
        }
        return pause;
}

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *l, void *opaque)
{
        brook__sthread_t *th = brook__kclient_owner(opaque);
        rd_kafka_resp_err_t rerr;

        if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
                rd_kafka_topic_partition_list_t *pause;

                parts_assign(th, l);
                pause = start_assigned(th, l);
                /* Nothing is fetched for a task before its stores are
                 * restored. */
                if (!(rerr = brook__kafka_rebalance(rk, err, l)) && pause->cnt)
                        rd_kafka_pause_partitions(rk, pause);
                rd_kafka_topic_partition_list_destroy(pause);
        } else {
                parts_revoke(th, l, rd_kafka_assignment_lost(rk));
                rerr = brook__kafka_rebalance(rk, err, l);
        }
        if (rerr)
                brook__log(&th->log, BROOK_LOG_ERROR, "rebalance.failed",
                           "error=%s", rd_kafka_err2name(rerr));
}

/* ------------------------------------------------------------------ */
/* starting tasks                                                      */

/* Partitions of the tasks that became ready in one progress_tasks() pass,
 * resumed together at its end. */
struct resume_set_s {
        rd_kafka_topic_partition_list_t *resume, *seek;
};

/* Add the task's partitions (and seeks back over what slipped through
 * before the pause) to @p rs. */
static void resume_add(resume_set_t *rs, brook__task_t *t)
{
        size_t j;

        if (!rs->resume) {
                rs->resume = rd_kafka_topic_partition_list_new(16);
                rs->seek = rd_kafka_topic_partition_list_new(16);
        }
        for (j = 0; j < t->part_cnt; j++) {
                brook__tpart_t *p = &t->parts[j];

                if (!p->assigned)
                        continue;
                rd_kafka_topic_partition_list_add(rs->resume, p->topic,
                                                  p->partition);
                if (p->seek_to >= 0)
                        rd_kafka_topic_partition_list_add(rs->seek, p->topic,
                                                          p->partition)
                            ->offset = p->seek_to;
                p->seek_to = -1;
        }
}

/*
 * Resume everything at once, once the pass's tasks are started: the
 * fetcher then fills the consumer queue while this thread is free to
 * drain it. (Resumed one by one while the thread still opened stores, the
 * queue could pass librdkafka's queued.* thresholds, and a partition over
 * them is not fetched again for up to a second.)
 */
static void resume_flush(brook__sthread_t *th, resume_set_t *rs)
{
        rd_kafka_error_t *error;

        if (!rs->resume)
                return;
        if (rs->seek->cnt && (error = rd_kafka_seek_partitions(
                                  th->rk, rs->seek, th->s->topic_timeout_ms))) {
                brook__log(&th->log, BROOK_LOG_WARN, "seek.failed", "error=%s",
                           rd_kafka_error_string(error));
                rd_kafka_error_destroy(error);
        }
        if (rs->resume->cnt)
                rd_kafka_resume_partitions(th->rk, rs->resume);
        rd_kafka_topic_partition_list_destroy(rs->resume);
        rd_kafka_topic_partition_list_destroy(rs->seek);
        rs->resume = rs->seek = NULL;
}

static void task_ready(brook__sthread_t *th, brook__task_t *t, resume_set_t *rs)
{
        char es[600];

        if (brook__task_start(t, es, sizeof(es))) {
                brook__streams_set_fatal(
                    th->s, brook__error_new(BROOK_ERR_HANDLER, 1, 0, "%s", es));
                return;
        }
        BROOK__COUNT(th->s->counters.running, 1);
        if (rs)
                resume_add(rs, t);
        brook__log(&th->log, BROOK_LOG_INFO, "task.running", "task=%s", t->id);
        notify_task(th, t->id, 1);
}

/*
 * Move a task on: take its lock and open its stores (CREATED), begin the
 * restoration; returns 1 when it is RESTORING with nothing left to
 * restore (ready to start), 0 when it must wait (lock held, restoring), -1
 * after a fatal error.
 */
static int task_advance(brook__sthread_t *th, brook__task_t *t, int64_t now)
{
        char es[600];
        brook_err_t err;

        if (t->state == BROOK__TASK_CREATED) {
                if (now < t->lock_retry_us)
                        return 0;
                err = brook__task_open(t, es, sizeof(es));
                if (err == BROOK_ERR_LOCKED) {
                        /* The previous owner (another thread or
                         * instance) has not let go yet. */
                        t->lock_retry_us = now + 100000;
                        if (now >= t->lock_warn_us) {
                                brook__log(
                                    &th->log, BROOK_LOG_WARN, "task.locked",
                                    "task=%s next=retry error=%s", t->id, es);
                                t->lock_warn_us = now + 10000000;
                        }
                        return 0;
                }
                if (!err)
                        err = brook__restore_begin(th, t, es, sizeof(es));
                if (err) {
                        brook__streams_set_fatal(
                            th->s, brook__error_new(err, 1, 0, "task %s: %s",
                                                    t->id, es));
                        return -1;
                }
        }
        return t->state == BROOK__TASK_RESTORING && brook__restore_done(t);
}

static void progress_tasks(brook__sthread_t *th)
{
        int64_t now = brook__now_us();
        resume_set_t rs = {NULL, NULL};
        size_t i;

        for (i = 0; i < th->ntasks && !stopping(th->s); i++) {
                int r = task_advance(th, th->tasks[i], now);

                if (r < 0)
                        break;
                if (r == 1)
                        task_ready(th, th->tasks[i], &rs);
        }
        resume_flush(th, &rs);
}

/* ------------------------------------------------------------------ */
/* the poll loop                                                       */

static void consume_error(brook__sthread_t *th, rd_kafka_message_t *m)
{
        const char *topic = m->rkt ? rd_kafka_topic_name(m->rkt) : "";

        switch (m->err) {
        case RD_KAFKA_RESP_ERR__PARTITION_EOF:
                return;
        case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
        case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
        case RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED:
        case RD_KAFKA_RESP_ERR__FATAL:
                brook__streams_set_fatal(
                    th->s,
                    brook__error_new(
                        m->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART
                            ? BROOK_ERR_UNKNOWN_TOPIC
                            : BROOK_ERR_KAFKA,
                        1, 0, "%s%s: %s (%s)", *topic ? "topic " : "consumer",
                        topic, rd_kafka_message_errstr(m),
                        rd_kafka_err2name(m->err)));
                return;
        default:
                brook__log(&th->log, BROOK_LOG_WARN, "consume.error",
                           "topic=%s partition=%d error=%s", topic,
                           (int)m->partition, rd_kafka_err2name(m->err));
        }
}

/* A polled error instead of a record (brook__group_msgs()). */
static void consume_error_cb(void *arg, rd_kafka_message_t *m)
{
        consume_error(arg, m);
}

static void destroy_msgs(void **v, size_t n)
{
        size_t i;

        for (i = 0; i < n; i++)
                rd_kafka_message_destroy(v[i]);
}

/* Metrics of a batch a task processed; the event when someone listens. */
static void batch_telemetry(brook__sthread_t *th, brook__task_t *t,
                            rd_kafka_message_t **m, size_t n, int failed,
                            int64_t dur_us)
{
        brook__tel_t *tel = th->s->tel;
        const char *topic = rd_kafka_topic_name(m[0]->rkt);

        brook__tel_batch_metrics(tel, topic, n, failed ? n : 0, dur_us);
        if (brook__tel_active(tel)) {
                const char *mk[] = {"count", "duration_ns", "partition",
                                    "first_offset", "last_offset"};
                int64_t mv[] = {(int64_t)n, dur_us * 1000, m[0]->partition,
                                m[0]->offset, m[n - 1]->offset};
                const char *dk[] = {"task", "topic"};
                const char *dv[] = {t->id, topic};

                brook__tel_emit(tel, "brook.streams.batch.processed", mk, mv, 5,
                                dk, dv, 2);
        }
}

static void process_groups(brook__sthread_t *th)
{
        size_t g;

        for (g = 0; g < th->groups.cnt; g++) {
                brook__group_t *gr = &th->groups.v[g];
                rd_kafka_message_t **m = (rd_kafka_message_t **)gr->msgs.v;
                size_t n = gr->msgs.cnt;
                brook__tpart_t *p;
                brook__task_t *t;

                p = part_find(th, rd_kafka_topic_name(gr->rkt), gr->partition,
                              &t);
                if (!stopping(th->s) && p && p->assigned &&
                    t->state == BROOK__TASK_RUNNING) {
                        int64_t t0 = brook__now_us(), dur;
                        brook_err_t perr = brook__task_process(t, p, m, n);

                        dur = brook__now_us() - t0;
                        batch_telemetry(th, t, m, n, perr != BROOK_OK, dur);
                        if (perr && t->fatal) {
                                brook__streams_set_fatal(th->s, t->fatal);
                                t->fatal = NULL;
                        }
                        th->dirty = 1;
                } else if (p && p->assigned &&
                           (p->seek_to < 0 || m[0]->offset < p->seek_to)) {
                        /* Not running yet, or stopping: fetch these again. */
                        p->seek_to = m[0]->offset;
                }
                destroy_msgs(gr->msgs.v, n);
                gr->msgs.cnt = 0;
        }
}

/*
 * librdkafka 2.0 stops fetching once the consumer queue passes
 * queued.min.messages or queued.max.messages.kbytes and looks again only
 * when its broker thread wakes up: on I/O, or a second later (issue #2879;
 * 2.4 made that backoff configurable). A thread that fell behind for a
 * moment (a commit cycle, a slow batch) would then drain the queue and sit
 * idle for the rest of that second. So when the queue came near the
 * thresholds (80%) and then ran dry, one ListOffsets request to the
 * leaders of the running partitions (answered at once: the fetcher has no
 * fetch in flight then) wakes their broker threads, which fetch again. It
 * costs one round trip per episode, bounded by 100 ms.
 */
static void kick_fetcher(brook__sthread_t *th)
{
        int64_t qlen = (int64_t)rd_kafka_queue_length(th->q);
        rd_kafka_topic_partition_list_t *l;
        size_t i, j;

        if (qlen >= th->q_mark_msgs ||
            qlen * th->msg_bytes_avg >= th->q_mark_bytes) {
                th->q_was_full = th->q_mark_msgs > 0;
                return;
        }
        if (qlen > 0 || !th->q_was_full)
                return;
        th->q_was_full = 0;
        l = rd_kafka_topic_partition_list_new(16);
        for (i = 0; i < th->ntasks; i++) {
                brook__task_t *t = th->tasks[i];

                for (j = 0; t->state == BROOK__TASK_RUNNING && j < t->part_cnt;
                     j++)
                        if (t->parts[j].assigned)
                                rd_kafka_topic_partition_list_add(
                                    l, t->parts[j].topic, t->parts[j].partition)
                                    ->offset = RD_KAFKA_OFFSET_END;
        }
        if (l->cnt)
                rd_kafka_offsets_for_times(th->rk, l, 100);
        rd_kafka_topic_partition_list_destroy(l);
}

/* Keep the average size of the consumed records (key + value), which
 * turns the queue length into an estimate of its bytes. */
static void note_sizes(brook__sthread_t *th, rd_kafka_message_t **msgs,
                       ssize_t n)
{
        int64_t bytes = 0;
        ssize_t i;

        for (i = 0; i < n; i++)
                bytes += (int64_t)(msgs[i]->len + msgs[i]->key_len);
        if (n > 0)
                th->msg_bytes_avg = (3 * th->msg_bytes_avg + bytes / n) / 4;
}

static void loop_once(brook__sthread_t *th)
{
        brook_streams_t *s = th->s;
        int restoring, timeout;
        ssize_t n;
        int64_t now;
        size_t i;
        char es[600];

        progress_tasks(th);
        restoring = brook__restore_active(th);
        if (restoring &&
            brook__restore_step(th, 10, es, sizeof(es)) != BROOK_OK) {
                brook__streams_set_fatal(
                    s,
                    brook__error_new(BROOK_ERR_STORE, 1, 0, "restore: %s", es));
                return;
        }
        if (!restoring && brook__restore_sync(th, es, sizeof(es)))
                brook__log(&th->log, BROOK_LOG_WARN, "restore.unassign",
                           "error=%s", es);
        if (stopping(s))
                return;
        timeout = restoring ? 0 : s->poll_timeout_ms;
        kick_fetcher(th);
        n = rd_kafka_consume_batch_queue(th->q, timeout, th->msgs,
                                         s->batch_max);
        note_sizes(th, th->msgs, n);
        if (n < 0) {
                brook__log(&th->log, BROOK_LOG_WARN, "consume.error",
                           "error=%s",
                           rd_kafka_err2name(rd_kafka_last_error()));
                return;
        }
        if (n > 0) {
                if (brook__group_msgs(&th->groups, th->msgs, (size_t)n,
                                      consume_error_cb, th)) {
                        brook__streams_set_fatal(
                            s, brook__error_new(BROOK_ERR_NO_MEM, 1, 0,
                                                "out of memory grouping "
                                                "records"));
                        return;
                }
                process_groups(th);
        }
        now = brook__wall_ms();
        for (i = 0; i < th->ntasks && !stopping(s); i++) {
                brook__task_punctuate_wall(th->tasks[i], now);
                if (th->tasks[i]->fatal) {
                        brook__streams_set_fatal(s, th->tasks[i]->fatal);
                        th->tasks[i]->fatal = NULL;
                }
        }
        brook__producer_poll(th->prod);
        brook__tel_tick(s->tel, brook__now_us());
        if (th->dirty &&
            brook__now_us() - th->last_commit_us >= s->commit_interval_us)
                commit_cycle(th);
}

static void thread_shutdown(brook__sthread_t *th)
{
        rd_kafka_resp_err_t err;

        /* The last commit cycle of what finished, then leave the group:
         * the revocation closes the tasks. */
        commit_cycle(th);
        err = rd_kafka_consumer_close(th->rk);
        if (err)
                brook__log(&th->log, BROOK_LOG_WARN, "close.failed", "error=%s",
                           rd_kafka_err2name(err));
        brook__tel_stats_drop(th->s->tel, th->idx); /* no partitions left */
        while (th->ntasks) {
                char id[32];
                int running = th->tasks[0]->state == BROOK__TASK_RUNNING;

                snprintf(id, sizeof(id), "%s", th->tasks[0]->id);
                task_close(th, 0, 0);
                if (running)
                        notify_task(th, id, 0);
        }
        brook__restore_close(th);
}

/* ------------------------------------------------------------------ */
/* thread setup                                                        */

static void on_error(void *owner, rd_kafka_t *rk, int err, const char *reason)
{
        brook__sthread_t *th = owner;
        char rq[600];

        brook__logq(rq, sizeof(rq), reason);
        if (err == RD_KAFKA_RESP_ERR__FATAL) {
                brook__streams_set_fatal(th->s, brook__kafka_fatal_error(rk));
                return;
        }
        brook__log(&th->log, BROOK_LOG_WARN, "kafka.error",
                   "error=%s reason=%s",
                   rd_kafka_err2name((rd_kafka_resp_err_t)err), rq);
}

/* librdkafka's statistics of the thread's group consumer (served by its
 * poll): the lag gauge of the thread's partitions. */
static void on_stats(void *owner, const char *json, size_t len)
{
        brook__sthread_t *th = owner;

        brook__tel_stats(th->s->tel, th->idx, json, len);
}

/*
 * Group consumer of a stream thread. Prefetch defaults (kafka.* overrides
 * them): at most 100000 records / 16 MB queued per instance, divided among
 * its stream threads (librdkafka stops fetching past either;
 * kick_fetcher() makes it start again without its one-second pause); the
 * role's defaults (kafka/client.c) bound the fetch responses. See
 * docs/STREAMS.md, "Consumer and producer settings".
 */
static rd_kafka_t *thread_consumer(brook__sthread_t *th, char *errstr,
                                   size_t errstr_size)
{
        brook_streams_t *s = th->s;
        char qmsgs[32], qkb[32], cid[300];
        const char *const defaults[][2] = {
            {"queued.min.messages", qmsgs},
            {"queued.max.messages.kbytes", qkb},
        };
        brook__kopts_t o = {cid, s->app_id, defaults, 2};
        rd_kafka_conf_t *rkc;

        snprintf(cid, sizeof(cid), "%s-%s-StreamThread-%d", s->st.client_id,
                 s->app_id, th->idx);
        snprintf(qmsgs, sizeof(qmsgs), "%d",
                 BROOK__MAX(100000 / s->nthreads, 10000));
        snprintf(qkb, sizeof(qkb), "%d", BROOK__MAX(16384 / s->nthreads, 2048));
        th->kc.log = &th->log;
        th->kc.name = "consumer";
        th->kc.owner = th;
        th->kc.on_error = on_error;
        th->kc.on_stats = on_stats;
        if (!(rkc = brook__kafka_conf(BROOK__KROLE_STREAM_CONSUMER, &s->st, &o,
                                      &th->kc, errstr, errstr_size)))
                return NULL;
        rd_kafka_conf_set_rebalance_cb(rkc, rebalance_cb);
        return brook__kafka_new(BROOK__KROLE_STREAM_CONSUMER, rkc, errstr,
                                errstr_size);
}

/* Counts delivered sink records. */
static void sink_dr(brook__dr_tracker_t *t, const rd_kafka_message_t *rkm)
{
        brook__counting_tracker_t *ct = (brook__counting_tracker_t *)t;

        if (!rkm->err)
                atomic_fetch_add_explicit(ct->counter, 1, memory_order_relaxed);
}

/* An integer property of the consumer's effective configuration, 0 when
 * it cannot be read. */
static int64_t consumer_conf_int(rd_kafka_t *rk, const char *name)
{
        char buf[64];
        size_t size = sizeof(buf);

        if (rd_kafka_conf_get(rd_kafka_conf(rk), name, buf, &size) !=
            RD_KAFKA_CONF_OK)
                return 0;
        return atoll(buf);
}

static brook_err_t thread_init(brook__sthread_t *th, char *errstr,
                               size_t errstr_size)
{
        brook_streams_t *s = th->s;
        rd_kafka_topic_partition_list_t *l;
        char cid[300];
        brook__kopts_t po = {cid, NULL, NULL, 0};
        size_t i;
        rd_kafka_resp_err_t err;

        snprintf(cid, sizeof(cid), "%s-%s-StreamThread-%d-producer",
                 s->st.client_id, s->app_id, th->idx);
        if (!(th->prod = brook__producer_new(BROOK__KROLE_PRODUCER, &s->st, &po,
                                             &th->log, errstr, errstr_size)))
                return BROOK_ERR_KAFKA;
        if (!(th->rk = thread_consumer(th, errstr, errstr_size)))
                return BROOK_ERR_KAFKA;
        th->q = rd_kafka_queue_get_consumer(th->rk);
        th->q_mark_msgs =
            consumer_conf_int(th->rk, "queued.min.messages") * 8 / 10;
        th->q_mark_bytes =
            consumer_conf_int(th->rk, "queued.max.messages.kbytes") * 1024 * 8 /
            10;
        if (!(th->msgs = malloc(s->batch_max * sizeof(*th->msgs)))) {
                brook__errstr(errstr, errstr_size, "out of memory");
                return BROOK_ERR_NO_MEM;
        }
        th->env.topo = s->topo;
        th->env.conf = s->conf;
        th->env.log = &th->log;
        th->env.prod = th->prod;
        th->env.counters = &s->counters;
        th->env.sink_parts = s->sink_parts;
        th->env.app_id = s->app_id;
        th->env.state_dir = s->state_dir;
        th->env.dlq_tmpl = s->st.dead_letter_topic;
        th->env.handler = s->handler;
        th->env.changelog = s->changelog;
        /* As Kafka Streams: the instance's cache bytes are divided evenly
         * among the stream threads. */
        th->cache_budget.max = (size_t)(s->cache_max_bytes / s->nthreads);
        th->env.cache_budget = th->cache_budget.max ? &th->cache_budget : NULL;
        th->sink_tracker.t.on_dr = sink_dr;
        th->sink_tracker.counter = &s->counters.produced;
        th->env.sink_tracker = &th->sink_tracker.t;
        l = rd_kafka_topic_partition_list_new(8);
        for (i = 0; i < s->topo->sub_cnt; i++) {
                size_t j;

                for (j = 0; j < s->topo->subs[i].topic_cnt; j++)
                        rd_kafka_topic_partition_list_add(
                            l, s->topo->subs[i].topics[j],
                            RD_KAFKA_PARTITION_UA);
        }
        err = rd_kafka_subscribe(th->rk, l);
        rd_kafka_topic_partition_list_destroy(l);
        if (err) {
                brook__errstr(errstr, errstr_size, "subscribe: %s",
                              rd_kafka_err2str(err));
                return BROOK_ERR_KAFKA;
        }
        th->last_commit_us = brook__now_us();
        return BROOK_OK;
}

static void thread_free(brook__sthread_t *th)
{
        /* Messages first: they hold references into their client. */
        brook__groups_free(&th->groups);
        brook__restore_close(th);
        if (th->q)
                rd_kafka_queue_destroy(th->q);
        if (th->rk)
                rd_kafka_destroy(th->rk);
        brook__producer_destroy(th->prod);
        free(th->tasks);
        free(th->msgs);
        th->q = NULL;
        th->rk = NULL;
        th->prod = NULL;
        th->tasks = NULL;
        th->msgs = NULL;
}

static void *thread_main(void *arg)
{
        brook__sthread_t *th = arg;
        brook_streams_t *s = th->s;
        char es[600];
        brook_err_t err;

        if ((err = thread_init(th, es, sizeof(es)))) {
                brook__streams_set_fatal(
                    s, brook__error_new(err, 1, 0, "stream thread %d: %s",
                                        th->idx, es));
        } else {
                brook__log(&th->log, BROOK_LOG_INFO, "thread.started",
                           "partition_assignment=range");
                while (!stopping(s))
                        loop_once(th);
                thread_shutdown(th);
        }
        thread_free(th);
        brook__log(&th->log, BROOK_LOG_INFO, "thread.stopped", "tasks=%zu",
                   th->ntasks);
        pthread_mutex_lock(&s->lock);
        s->threads_done++;
        pthread_cond_broadcast(&s->cond);
        pthread_mutex_unlock(&s->lock);
        return NULL;
}

/* ------------------------------------------------------------------ */
/* public API                                                          */

brook_streams_t *brook_streams_new(brook_topology_t *topology,
                                   const brook_conf_t *conf, char *errstr,
                                   size_t errstr_size)
{
        brook_streams_t *s;
        const brook__settings_t *st;

        if (!topology || !conf) {
                brook__errstr(errstr, errstr_size,
                              "brook_streams_new: topology and conf are "
                              "required");
                return NULL;
        }
        if (brook_topology_build(topology, errstr, errstr_size))
                return NULL;
        if (topology->in_use) {
                brook__errstr(errstr, errstr_size,
                              "brook_streams_new: the topology is used by "
                              "another runtime");
                return NULL;
        }
        if (!(s = calloc(1, sizeof(*s))) || !(s->conf = brook_conf_dup(conf))) {
                free(s);
                brook__errstr(errstr, errstr_size, "out of memory");
                return NULL;
        }
        pthread_mutex_init(&s->lock, NULL);
        brook__cond_init(&s->cond);
        s->topo = topology;
        topology->in_use = 1;
        st = &s->st;
        if (brook__settings_load(&s->st, s->conf, BROOK__COMP_STREAMS, errstr,
                                 errstr_size))
                goto fail;
        if (!*st->bootstrap_servers) {
                brook__errstr(errstr, errstr_size,
                              "bootstrap.servers: required (host:port[,...])");
                goto fail;
        }
        if (!*st->application_id) {
                brook__errstr(errstr, errstr_size,
                              "application.id: \"\" is not valid (required; "
                              "1..200 characters of [a-zA-Z0-9._-])");
                goto fail;
        }
        if (!*st->state_dir) {
                brook__errstr(errstr, errstr_size,
                              "state.dir: required (a directory for the "
                              "stores)");
                goto fail;
        }
        if (st->processing_error_handler == BROOK__EH_DLQ &&
            !*st->dead_letter_topic) {
                brook__errstr(errstr, errstr_size,
                              "processing.error.handler=dead_letter needs "
                              "dead.letter.topic");
                goto fail;
        }
        s->app_id = st->application_id;
        if (asprintf(&s->state_dir, "%s/%s", st->state_dir, s->app_id) < 0) {
                s->state_dir = NULL;
                brook__errstr(errstr, errstr_size, "out of memory");
                goto fail;
        }
        brook__logger_init(&s->log, st, "streams");
        snprintf(s->log.ident, sizeof(s->log.ident), "application=%s",
                 s->app_id);
        s->nthreads = (int)st->num_stream_threads;
        s->commit_interval_us = st->commit_interval_ms * 1000;
        s->poll_timeout_ms = (int)st->streams_poll_timeout_ms;
        s->shutdown_timeout_ms = (int)st->shutdown_timeout_ms;
        s->topic_timeout_ms = (int)st->streams_topic_timeout_ms;
        s->batch_max = (size_t)st->streams_batch_max_records;
        s->restore_max = (size_t)st->streams_restore_batch_max_records;
        s->handler = st->processing_error_handler;
        s->changelog = st->store_changelog_enable;
        s->cache_max_bytes = st->store_cache_max_bytes;
        /* Several stream threads update the metrics: no single-writer. */
        if (!(s->tel = brook__tel_new(st, "streams", s->app_id, &s->log, 0,
                                      errstr, errstr_size)))
                goto fail;
        return s;
fail:
        brook_streams_destroy(s);
        return NULL;
}

brook_telemetry_t *brook_streams_telemetry(brook_streams_t *s)
{
        return s ? s->tel : NULL;
}

void brook_streams_set_restore_listener(brook_streams_t *s,
                                        brook_restore_start_cb_t *start,
                                        brook_restore_batch_cb_t *batch,
                                        brook_restore_end_cb_t *end,
                                        void *opaque)
{
        if (!s || s->started)
                return;
        s->restore_start = start;
        s->restore_batch = batch;
        s->restore_end = end;
        s->restore_opaque = opaque;
}

void brook_streams_set_task_cb(brook_streams_t *s, brook_task_cb_t *cb,
                               void *opaque)
{
        if (!s || s->started)
                return;
        s->task_cb = cb;
        s->task_opaque = opaque;
}

brook_error_t *brook_streams_start(brook_streams_t *s)
{
        brook_error_t *err;
        int i;

        if (!s)
                return brook__error_new(BROOK_ERR_INVALID_ARG, 0, 0,
                                        "brook_streams_start: NULL runtime");
        if (s->started)
                return brook__error_new(BROOK_ERR_STATE, 0, 0,
                                        "brook_streams_start: already "
                                        "started");
        if ((err = brook__streams_prepare_topics(s)))
                return err;
        if (!(s->threads = calloc((size_t)s->nthreads, sizeof(*s->threads))))
                return brook__error_new(BROOK_ERR_NO_MEM, 1, 0,
                                        "out of memory");
        s->started = 1;
        brook__log(&s->log, BROOK_LOG_INFO, "streams.starting",
                   "threads=%d sub_topologies=%zu commit_interval_ms=%lld "
                   "batch_max_records=%zu",
                   s->nthreads, s->topo->sub_cnt,
                   (long long)(s->commit_interval_us / 1000), s->batch_max);
        for (i = 0; i < s->nthreads; i++) {
                brook__sthread_t *th = &s->threads[i];

                th->s = s;
                th->idx = i;
                th->log = s->log;
                snprintf(th->log.ident, sizeof(th->log.ident),
                         "application=%s thread=%d", s->app_id, i);
                if (pthread_create(&th->thr, NULL, thread_main, th)) {
                        brook__streams_set_fatal(
                            s, brook__error_new(BROOK_ERR_FATAL, 1, 0,
                                                "cannot start stream thread "
                                                "%d",
                                                i));
                        pthread_mutex_lock(&s->lock);
                        s->threads_done += s->nthreads - i;
                        pthread_mutex_unlock(&s->lock);
                        break;
                }
                th->started = 1;
        }
        return NULL;
}

void brook_streams_stop(brook_streams_t *s)
{
        if (s)
                atomic_store(&s->stop, 1);
}

int brook_streams_wait(brook_streams_t *s, int timeout_ms)
{
        int64_t deadline = brook__now_us() + (int64_t)timeout_ms * 1000;
        int done;

        if (!s || !s->started)
                return 1;
        pthread_mutex_lock(&s->lock);
        while (s->threads_done < s->nthreads) {
                if (timeout_ms < 0)
                        pthread_cond_wait(&s->cond, &s->lock);
                else if (brook__cond_wait_until(&s->cond, &s->lock, deadline))
                        break;
        }
        done = s->threads_done >= s->nthreads;
        pthread_mutex_unlock(&s->lock);
        return done;
}

brook_error_t *brook_streams_close(brook_streams_t *s)
{
        brook_error_t *err;
        int i;

        if (!s || s->closed)
                return NULL;
        s->closed = 1;
        brook_streams_stop(s);
        if (s->started) {
                for (i = 0; i < s->nthreads; i++)
                        if (s->threads[i].started)
                                pthread_join(s->threads[i].thr, NULL);
        }
        pthread_mutex_lock(&s->lock);
        err = s->fatal;
        s->fatal = NULL;
        pthread_mutex_unlock(&s->lock);
        if (s->tel)
                brook__tel_flush(s->tel); /* last StatsD send, summary */
        brook__log(&s->log, BROOK_LOG_INFO, "streams.closed",
                   "processed=%lld batches=%lld commits=%lld error=%s",
                   (long long)atomic_load(&s->counters.processed),
                   (long long)atomic_load(&s->counters.batches),
                   (long long)atomic_load(&s->counters.commits),
                   err ? brook_err2name(brook_error_code(err)) : "none");
        return err;
}

brook_error_t *brook_streams_run(brook_streams_t *s)
{
        brook_error_t *err = brook_streams_start(s);

        if (err)
                return err;
        brook_streams_wait(s, -1);
        return brook_streams_close(s);
}

void brook_streams_destroy(brook_streams_t *s)
{
        if (!s)
                return;
        brook_error_destroy(brook_streams_close(s));
        brook__tel_destroy(s->tel);
        brook_error_destroy(s->fatal);
        s->topo->in_use = 0;
        free(s->threads);
        free(s->sink_parts);
        free(s->sub_parts);
        free(s->state_dir);
        pthread_mutex_destroy(&s->lock);
        pthread_cond_destroy(&s->cond);
        brook_conf_destroy(s->conf);
        free(s);
}

int64_t brook_streams_metric(const brook_streams_t *s, const char *name)
{
        static const struct {
                const char *name;
                size_t off;
        } m[] = {
            {"records.processed", offsetof(brook__counters_t, processed)},
            {"batches.processed", offsetof(brook__counters_t, batches)},
            {"records.produced", offsetof(brook__counters_t, produced)},
            {"records.skipped", offsetof(brook__counters_t, skipped)},
            {"records.dead_lettered",
             offsetof(brook__counters_t, dead_lettered)},
            {"records.restored", offsetof(brook__counters_t, restored)},
            {"commits", offsetof(brook__counters_t, commits)},
            {"tasks.running", offsetof(brook__counters_t, running)},
        };
        size_t i;

        if (!s || !name)
                return -1;
        for (i = 0; i < sizeof(m) / sizeof(m[0]); i++)
                if (!strcmp(m[i].name, name))
                        return atomic_load_explicit(
                            (_Atomic int64_t *)((char *)&s->counters +
                                                m[i].off),
                            memory_order_relaxed);
        return -1;
}
