/*
 * streams/streams.c: the streams runtime: its public API, the stream
 * threads and their poll loop.
 *
 * Poll loop of a stream thread: advance tasks that are starting
 * (streams/tasks.c: lock, open stores, restore), poll up to
 * streams.batch.max.records records, group them by (topic, partition) in
 * offset order (streams/group.c) and give each group to its task as one
 * batch, run wall-clock punctuators, serve delivery reports, and every
 * commit.interval.ms run the commit cycle (streams/commit.c).
 *
 * Rebalances use the eager range assignor, so a sub-topology's
 * co-partitioned topics move together (streams/tasks.c).
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

int brook__streams_stopping(const brook_streams_t *s)
{
        return atomic_load(&((brook_streams_t *)s)->stop);
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

                p = brook__thread_part(th, rd_kafka_topic_name(gr->rkt),
                                       gr->partition, &t);
                if (!brook__streams_stopping(th->s) && p && p->assigned &&
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

        brook__thread_progress_tasks(th);
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
        if (brook__streams_stopping(s))
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
        for (i = 0; i < th->ntasks && !brook__streams_stopping(s); i++) {
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
                brook__commit_cycle(th);
}

static void thread_shutdown(brook__sthread_t *th)
{
        rd_kafka_resp_err_t err;

        /* The last commit cycle of what finished, then leave the group:
         * the revocation closes the tasks. */
        brook__commit_cycle(th);
        err = rd_kafka_consumer_close(th->rk);
        if (err)
                brook__log(&th->log, BROOK_LOG_WARN, "close.failed", "error=%s",
                           rd_kafka_err2name(err));
        brook__tel_stats_drop(th->s->tel, th->idx); /* no partitions left */
        while (th->ntasks)
                brook__thread_close_task(th, 0, 0);
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
        rd_kafka_conf_set_rebalance_cb(rkc, brook__thread_rebalance_cb);
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
                while (!brook__streams_stopping(s))
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
