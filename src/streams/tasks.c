/*
 * streams/tasks.c: the tasks of a stream thread. The range assignor hands
 * the thread partitions; each (sub-topology, partition) is a task, created
 * on assignment with its partitions paused until its state directory lock
 * is taken and its stores are restored, then started; on revocation the
 * commit cycle runs and the tasks whose partitions all left close.
 * Pausing everything and resuming later would cost up to a second per
 * start: librdkafka 2.0 only notices a resumed partition that is already
 * in the active fetch state at its broker thread's next 1 s wake-up, so a
 * task with nothing to restore starts before its partitions are assigned
 * and is never paused.
 *
 * @locality the stream thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "streams/streams.h"

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

brook__tpart_t *brook__thread_part(brook__sthread_t *th, const char *topic,
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

static void notify_task(brook__sthread_t *th, const char *id, int assigned)
{
        if (th->s->task_cb)
                th->s->task_cb(id, assigned, th->s->task_opaque);
}

void brook__thread_close_task(brook__sthread_t *th, size_t i, int dirty)
{
        brook__task_t *t = th->tasks[i];
        brook_streams_t *s = th->s;
        int was_running = t->state == BROOK__TASK_RUNNING;
        char id[32];

        if (dirty)
                brook__task_drop_checkpoint(t);
        if (t->fatal) {
                brook__streams_set_fatal(s, t->fatal);
                t->fatal = NULL;
        }
        brook__log(&th->log, BROOK_LOG_INFO, "task.closed", "task=%s dirty=%s",
                   t->id, dirty ? "true" : "false");
        snprintf(id, sizeof(id), "%s", t->id);
        brook__task_destroy(t);
        th->tasks[i] = th->tasks[--th->ntasks];
        th->restore_dirty = 1;
        if (was_running) {
                BROOK__COUNT(s->counters.running, -1);
                notify_task(th, id, 0);
        }
}

/* ------------------------------------------------------------------ */
/* rebalance                                                           */

static void parts_revoke(brook__sthread_t *th,
                         rd_kafka_topic_partition_list_t *l, int lost)
{
        size_t i;
        int k;

        brook__log(&th->log, BROOK_LOG_INFO, "partitions.revoked",
                   "count=%d lost=%s", l->cnt, lost ? "true" : "false");
        if (!lost)
                brook__commit_cycle(th);
        for (k = 0; k < l->cnt; k++) {
                brook__task_t *t;
                brook__tpart_t *p = brook__thread_part(
                    th, l->elems[k].topic, l->elems[k].partition, &t);

                if (p)
                        p->assigned = 0;
        }
        /* A task goes when none of its partitions is ours any more. */
        for (i = th->ntasks; i-- > 0;) {
                brook__task_t *t = th->tasks[i];
                size_t j;
                int any = 0;

                for (j = 0; j < t->part_cnt; j++)
                        any |= t->parts[j].assigned;
                if (!any)
                        brook__thread_close_task(th, i, lost);
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

                if (!brook__thread_part(th, l->elems[k].topic,
                                        l->elems[k].partition, &t))
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

void brook__thread_rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                                rd_kafka_topic_partition_list_t *l,
                                void *opaque)
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

void brook__thread_progress_tasks(brook__sthread_t *th)
{
        int64_t now = brook__now_us();
        resume_set_t rs = {NULL, NULL};
        size_t i;

        for (i = 0; i < th->ntasks && !brook__streams_stopping(th->s); i++) {
                int r = task_advance(th, th->tasks[i], now);

                if (r < 0)
                        break;
                if (r == 1)
                        task_ready(th, th->tasks[i], &rs);
        }
        resume_flush(th, &rs);
}
