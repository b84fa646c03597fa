/*
 * consumer/dispatch.c: running handlers. An attempt of a unit runs its batch
 * handler, or the default batch handler that calls the message handler for each
 * message: inline on the run() thread (sync), or on a batch thread with the
 * messages spread over a fixed pool of message threads (batch.async).
 *
 * Threads are created once, with the consumer, and reused. The pool bounds
 * concurrent message handler calls to batch.max.concurrency across all
 * batches, and batches in processing to max.in.flight.batches.
 */
#include <stdlib.h>
#include <string.h>

#include "consumer/consumer.h"
#include "core/util.h"

/* One message handler call, queued for the message threads. */
typedef struct mtask_s {
        brook_msg_t *m;
        size_t idx;
        struct job_s *job;
        brook__link_t link; /* in the pool's tasks */
} mtask_t;

/* The messages of one attempt spread over the message threads. */
typedef struct job_s {
        pthread_mutex_t lock;
        pthread_cond_t cv;
        size_t cnt;
        size_t finished;  /* @locks lock */
        size_t *order;    /* completion order, @locks lock */
        uint8_t *done;    /* per index, @locks lock */
        brook_err_t *err; /* per index, written by the message thread */
        mtask_t *tasks;
} job_t;

struct brook__pool_s {
        brook_consumer_t *c;
        pthread_mutex_t lock;
        pthread_cond_t work_cv; /* units or tasks queued, or shutdown */
        pthread_cond_t done_cv; /* a unit completed */
        brook__link_t work;     /* units to run (qlink), @locks lock */
        brook__link_t done;     /* units run (qlink), @locks lock */
        brook__link_t tasks;    /* message handler calls, @locks lock */
        pthread_cond_t task_cv;
        int shutdown; /* @locks lock */
        pthread_t *threads;
        int nbatch, nmsg, started;
};

void brook__prepare_attempt(brook_consumer_t *c, brook__unit_t *u)
{
        size_t i, n = 0, bytes = 0;

        /* Decode once, on the first attempt, on this (run()) thread. */
        if (u->attempt == 0 && c->h.decode) {
                for (i = 0; i < u->cnt; i++) {
                        brook_msg_t *m = &u->msgs[i];
                        char es[256] = "";
                        char reason[300];
                        brook_err_t err;

                        err =
                            c->h.decode(m->rkm->payload, m->rkm->len,
                                        &m->decoded, es, sizeof(es), c->opaque);
                        if (err == BROOK_OK)
                                continue;
                        snprintf(reason, sizeof(reason), "decode: %s",
                                 *es ? es : brook_err2str(err));
                        brook__msg_set_failure(m, reason);
                        m->permanent = 1;
                        m->fails = 1;
                }
        }
        for (i = 0; i < u->cnt; i++) {
                brook_msg_t *m = &u->msgs[i];

                if (m->state != BROOK__MSG_PENDING || m->permanent)
                        continue;
                brook__msg_clear_failure(m);
                u->view[n++] = m;
                bytes += brook__rkm_bytes(m->rkm);
        }
        u->batch.msgs = u->view;
        u->batch.cnt = n;
        u->batch.bytes = bytes;
        u->batch.topic = u->part->topic;
        u->batch.partition = u->part->partition;
        u->batch.attempt = u->attempt;
        u->result = BROOK_OK;
}

/* Message handler outcome into the message's failure flag. */
static void message_outcome(brook_msg_t *m, brook_err_t err)
{
        if (err == BROOK_OK)
                brook__msg_clear_failure(m);
        else if (!m->failed)
                brook__msg_set_failure(m, brook_err2str(err));
}

static void job_emit(brook_consumer_t *c, job_t *job, size_t idx)
{
        if (c->h.result)
                c->h.result(job->tasks[idx].m, job->err[idx], c->opaque);
}

/* Default batch handler in async mode: fan out, collect, report results. */
static void run_fanout(brook_consumer_t *c, brook__pool_t *pool,
                       brook_batch_t *b)
{
        job_t job;
        size_t i, emitted = 0, next = 0;

        memset(&job, 0, sizeof(job));
        job.cnt = b->cnt;
        job.tasks = calloc(b->cnt, sizeof(*job.tasks));
        job.order = calloc(b->cnt, sizeof(*job.order));
        job.done = calloc(b->cnt, 1);
        job.err = calloc(b->cnt, sizeof(*job.err));
        if (!job.tasks || !job.order || !job.done || !job.err) {
                for (i = 0; i < b->cnt; i++)
                        brook__msg_set_failure(b->msgs[i], "out of memory");
                goto out;
        }
        pthread_mutex_init(&job.lock, NULL);
        pthread_cond_init(&job.cv, NULL);
        for (i = 0; i < b->cnt; i++) {
                job.tasks[i].m = b->msgs[i];
                job.tasks[i].idx = i;
                job.tasks[i].job = &job;
        }
        pthread_mutex_lock(&pool->lock);
        for (i = 0; i < b->cnt; i++)
                brook__list_push(&pool->tasks, &job.tasks[i].link);
        pthread_cond_broadcast(&pool->task_cv);
        pthread_mutex_unlock(&pool->lock);

        pthread_mutex_lock(&job.lock);
        while (emitted < job.cnt) {
                size_t batch_emit[64], ne = 0;

                while (emitted + ne == job.finished && job.finished < job.cnt)
                        pthread_cond_wait(&job.cv, &job.lock);
                /* Pick what can be reported now, report it unlocked. */
                if (c->ordered) {
                        while (next < job.cnt && job.done[next] && ne < 64)
                                batch_emit[ne++] = next++;
                } else {
                        while (emitted + ne < job.finished && ne < 64) {
                                batch_emit[ne] = job.order[emitted + ne];
                                ne++;
                        }
                }
                if (!ne) {
                        /* ordered: waiting for an earlier index */
                        pthread_cond_wait(&job.cv, &job.lock);
                        continue;
                }
                pthread_mutex_unlock(&job.lock);
                for (i = 0; i < ne; i++)
                        job_emit(c, &job, batch_emit[i]);
                pthread_mutex_lock(&job.lock);
                emitted += ne;
        }
        pthread_mutex_unlock(&job.lock);
        pthread_mutex_destroy(&job.lock);
        pthread_cond_destroy(&job.cv);
out:
        free(job.tasks);
        free(job.order);
        free(job.done);
        free(job.err);
}

void brook__run_attempt(brook_consumer_t *c, brook__unit_t *u)
{
        brook_batch_t *b = &u->batch;
        brook__tel_span_t ts;
        int tel = brook__tel_active(c->tel); /* events or span hooks */
        size_t i;

        /* u->start_us is set by the caller (the dispatch loop reuses the
         * end of the previous batch: one clock read per batch). */
        if (tel)
                brook__tel_batch_start(c->tel, b, &ts);
        if (b->cnt == 0) {
                u->result = BROOK_OK;
        } else if (c->h.batch) {
                u->result = c->h.batch(b, c->opaque);
        } else if (c->pool) {
                run_fanout(c, c->pool, b);
        } else {
                for (i = 0; i < b->cnt; i++)
                        message_outcome(b->msgs[i],
                                        c->h.message(b->msgs[i], c->opaque));
        }
        u->end_us = brook__now_us();
        if (tel)
                brook__tel_batch_stop(c->tel, b, u->result,
                                      u->end_us - u->start_us, &ts);
}

static void run_task(brook_consumer_t *c, mtask_t *t)
{
        job_t *job = t->job;
        brook_err_t err = c->h.message(t->m, c->opaque);

        message_outcome(t->m, err);
        job->err[t->idx] = err;
        pthread_mutex_lock(&job->lock);
        job->done[t->idx] = 1;
        job->order[job->finished++] = t->idx;
        pthread_cond_signal(&job->cv);
        pthread_mutex_unlock(&job->lock);
}

static void *msg_thread(void *arg)
{
        brook__pool_t *pool = arg;

        pthread_mutex_lock(&pool->lock);
        for (;;) {
                mtask_t *t;

                while (brook__list_empty(&pool->tasks) && !pool->shutdown)
                        pthread_cond_wait(&pool->task_cv, &pool->lock);
                if (brook__list_empty(&pool->tasks))
                        break;
                t = BROOK__CONTAINER(brook__list_pop(&pool->tasks), mtask_t,
                                     link);
                pthread_mutex_unlock(&pool->lock);
                run_task(pool->c, t);
                pthread_mutex_lock(&pool->lock);
        }
        pthread_mutex_unlock(&pool->lock);
        return NULL;
}

static void *batch_thread(void *arg)
{
        brook__pool_t *pool = arg;
        brook_consumer_t *c = pool->c;

        pthread_mutex_lock(&pool->lock);
        for (;;) {
                brook__unit_t *u;

                while (brook__list_empty(&pool->work) && !pool->shutdown)
                        pthread_cond_wait(&pool->work_cv, &pool->lock);
                if (brook__list_empty(&pool->work))
                        break;
                u = BROOK__UNIT_Q(brook__list_pop(&pool->work));
                pthread_mutex_unlock(&pool->lock);

                brook__run_attempt(c, u);

                pthread_mutex_lock(&pool->lock);
                brook__list_push(&pool->done, &u->qlink);
                pthread_cond_broadcast(&pool->done_cv);
                pthread_mutex_unlock(&pool->lock);
                /* Wake the run() thread out of its fetch wait. */
                rd_kafka_queue_yield(c->rkqu);
                pthread_mutex_lock(&pool->lock);
        }
        pthread_mutex_unlock(&pool->lock);
        return NULL;
}

brook__pool_t *brook__pool_new(brook_consumer_t *c, char *errstr,
                               size_t errstr_size)
{
        brook__pool_t *pool = calloc(1, sizeof(*pool));
        int i, n;

        if (!pool) {
                brook__errstr(errstr, errstr_size, "out of memory");
                return NULL;
        }
        pool->c = c;
        brook__list_init(&pool->work);
        brook__list_init(&pool->done);
        brook__list_init(&pool->tasks);
        pthread_mutex_init(&pool->lock, NULL);
        pthread_cond_init(&pool->work_cv, NULL);
        brook__cond_init(&pool->done_cv);
        pthread_cond_init(&pool->task_cv, NULL);
        pool->nbatch = c->max_inflight;
        /* Message threads only serve the default batch handler. */
        pool->nmsg = c->h.batch ? 0 : c->max_conc;
        n = pool->nbatch + pool->nmsg;
        pool->threads = calloc((size_t)n, sizeof(*pool->threads));
        if (!pool->threads) {
                brook__errstr(errstr, errstr_size, "out of memory");
                brook__pool_destroy(pool);
                return NULL;
        }
        for (i = 0; i < n; i++) {
                if (pthread_create(&pool->threads[i], NULL,
                                   i < pool->nbatch ? batch_thread : msg_thread,
                                   pool)) {
                        brook__errstr(errstr, errstr_size,
                                      "cannot start worker thread %d of %d",
                                      i + 1, n);
                        brook__pool_destroy(pool);
                        return NULL;
                }
                pool->started++;
        }
        return pool;
}

void brook__pool_submit(brook__pool_t *pool, brook__unit_t *u)
{
        pthread_mutex_lock(&pool->lock);
        brook__list_push(&pool->work, &u->qlink);
        pthread_cond_signal(&pool->work_cv);
        pthread_mutex_unlock(&pool->lock);
}

void brook__pool_completions(brook__pool_t *pool, brook__link_t *out)
{
        pthread_mutex_lock(&pool->lock);
        brook__list_splice(out, &pool->done);
        pthread_mutex_unlock(&pool->lock);
}

void brook__pool_wait(brook__pool_t *pool, int64_t timeout_us)
{
        int64_t deadline = brook__now_us() + timeout_us;

        pthread_mutex_lock(&pool->lock);
        if (brook__list_empty(&pool->done))
                brook__cond_wait_until(&pool->done_cv, &pool->lock, deadline);
        pthread_mutex_unlock(&pool->lock);
}

void brook__pool_destroy(brook__pool_t *pool)
{
        int i;

        if (!pool)
                return;
        pthread_mutex_lock(&pool->lock);
        pool->shutdown = 1;
        pthread_cond_broadcast(&pool->work_cv);
        pthread_cond_broadcast(&pool->task_cv);
        pthread_mutex_unlock(&pool->lock);
        for (i = 0; i < pool->started; i++)
                pthread_join(pool->threads[i], NULL);
        free(pool->threads);
        pthread_mutex_destroy(&pool->lock);
        pthread_cond_destroy(&pool->work_cv);
        pthread_cond_destroy(&pool->done_cv);
        pthread_cond_destroy(&pool->task_cv);
        free(pool);
}
