/*
 * streams/commit.c: a stream thread's commit cycle. Every
 * commit.interval.ms, at revocation and at shutdown:
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
 * @locality the stream thread.
 */
#include <stdio.h>
#include <stdlib.h>

#include "streams/streams.h"

/* Stop the runtime with @p err; nothing is committed by this thread any
 * more (its outputs may be incomplete). */
static void give_up(brook__sthread_t *th, brook_error_t *err)
{
        th->no_commit = 1;
        brook__streams_set_fatal(th->s, err);
}

/* 0. Nothing may be committed whose store, changelog or output writes
 * still sit in a cache. */
static int flush_caches(brook__sthread_t *th)
{
        char es[600];
        brook_err_t err;
        size_t i;

        for (i = 0; i < th->ntasks; i++) {
                brook__task_t *t = th->tasks[i];

                if (t->state != BROOK__TASK_RUNNING)
                        continue;
                if ((err = brook__task_flush_caches(t, es, sizeof(es)))) {
                        brook_error_t *e =
                            t->fatal ? t->fatal
                                     : brook__error_new(err, 1, 0, "%s", es);

                        t->fatal = NULL;
                        give_up(th, e);
                        return -1;
                }
        }
        return 0;
}

/* 1. Everything produced is acknowledged. 1: not yet (try again next
 * cycle), -1: a delivery failed. */
static int flush_producer(brook__sthread_t *th)
{
        char es[600];
        brook_err_t err;
        size_t i;

        err = brook__producer_flush(th->prod, th->s->shutdown_timeout_ms, es,
                                    sizeof(es));
        if (err == BROOK_ERR_TIMED_OUT) {
                brook__log(&th->log, BROOK_LOG_WARN, "commit.delayed",
                           "reason=%s", es);
                return 1;
        }
        for (i = 0; !err && i < th->ntasks; i++)
                if (brook__task_changelog_failed(th->tasks[i])) {
                        snprintf(es, sizeof(es),
                                 "task %s: a changelog write failed",
                                 th->tasks[i]->id);
                        err = BROOK_ERR_KAFKA;
                }
        if (err) {
                give_up(th, brook__error_new(err, 1, 0,
                                             "%s; offsets are not committed "
                                             "past the records whose output "
                                             "may be missing",
                                             es));
                return -1;
        }
        return 0;
}

/* 2. The stores are durable locally. */
static int flush_stores(brook__sthread_t *th)
{
        char es[600];
        brook_err_t err;
        size_t i;

        for (i = 0; i < th->ntasks; i++) {
                brook__task_t *t = th->tasks[i];

                if (t->state != BROOK__TASK_RUNNING)
                        continue;
                if ((err = brook__task_flush_stores(t, es, sizeof(es)))) {
                        give_up(th, brook__error_new(err, 1, 0, "%s", es));
                        return -1;
                }
        }
        return 0;
}

/* 3. Commit the offsets that moved. 0 committed (or nothing to), -1 not
 * (retried next cycle). */
static int commit_offsets(brook__sthread_t *th)
{
        rd_kafka_topic_partition_list_t *l =
            rd_kafka_topic_partition_list_new(8);
        brook__ptrvec_t parts = {NULL, 0, 0}; /* brook__tpart_t *, as in l */
        rd_kafka_resp_err_t rerr = RD_KAFKA_RESP_ERR_NO_ERROR;
        size_t i, j;

        for (i = 0; i < th->ntasks; i++) {
                brook__task_t *t = th->tasks[i];

                if (t->state != BROOK__TASK_RUNNING)
                        continue;
                for (j = 0; j < t->part_cnt; j++) {
                        brook__tpart_t *p = &t->parts[j];

                        if (!p->assigned || p->next < 0 ||
                            p->next == p->committed)
                                continue;
                        if (brook__ptrvec_push(&parts, p)) {
                                rerr =
                                    RD_KAFKA_RESP_ERR__FAIL; /* out of memory */
                                break;
                        }
                        rd_kafka_topic_partition_list_add(l, p->topic,
                                                          p->partition)
                            ->offset = p->next;
                }
        }
        if (!rerr && l->cnt)
                rerr = rd_kafka_commit(th->rk, l, 0);
        for (i = 0; !rerr && i < (size_t)l->cnt; i++)
                if (l->elems[i].err)
                        rerr = l->elems[i].err;
        if (rerr) {
                brook__log(&th->log, BROOK_LOG_WARN, "commit.failed",
                           "error=%s partitions=%d next=retry",
                           rd_kafka_err2name(rerr), l->cnt);
        } else if (l->cnt) {
                for (i = 0; i < parts.cnt; i++)
                        ((brook__tpart_t *)parts.v[i])->committed =
                            l->elems[i].offset;
                BROOK__COUNT(th->s->counters.commits, 1);
        }
        brook__ptrvec_free(&parts);
        rd_kafka_topic_partition_list_destroy(l);
        return rerr ? -1 : 0;
}

/* 4. Checkpoints, and the telemetry of a cycle that committed. */
static void checkpoint(brook__sthread_t *th, int committed, int64_t t0)
{
        brook_streams_t *s = th->s;
        char es[600];
        size_t i;

        for (i = 0; i < th->ntasks; i++) {
                brook__task_t *t = th->tasks[i];

                if (t->state == BROOK__TASK_RUNNING &&
                    brook__task_checkpoint(t, es, sizeof(es)))
                        brook__log(&th->log, BROOK_LOG_WARN,
                                   "checkpoint.failed", "task=%s error=%s",
                                   t->id, es);
        }
        if (!committed || !brook__tel_active(s->tel))
                return;
        for (i = 0; i < th->ntasks; i++) {
                const char *mk[] = {"duration_ns"}, *dk[] = {"task"};
                const char *dv[] = {th->tasks[i]->id};
                int64_t mv[] = {(brook__now_us() - t0) * 1000};

                if (th->tasks[i]->state == BROOK__TASK_RUNNING)
                        brook__tel_emit(s->tel, "brook.streams.task.committed",
                                        mk, mv, 1, dk, dv, 1);
        }
}

void brook__commit_cycle(brook__sthread_t *th)
{
        int64_t t0 = brook__now_us();
        int committed;

        th->last_commit_us = t0;
        if (th->no_commit || flush_caches(th) || flush_producer(th) ||
            flush_stores(th))
                return;
        committed = !commit_offsets(th);
        checkpoint(th, committed, t0);
        if (committed)
                th->dirty = 0; /* else the next cycle tries again */
        brook__log(&th->log, BROOK_LOG_DEBUG, "commit.done",
                   "tasks=%zu duration_us=%lld", th->ntasks,
                   (long long)(brook__now_us() - t0));
}
