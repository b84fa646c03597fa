/*
 * consumer/consumer.c: the batch consumer's run loop.
 *
 * One thread (the caller of brook_consumer_run()) fetches from librdkafka's
 * consumer queue, accumulates messages per partition, closes batches by
 * size, bytes and time, runs them (inline, or on the worker pool when
 * batch.async=true), applies the acknowledgment strategy (consumer/ack.c),
 * sends dead letters (consumer/dlq.c), commits offsets that everything before
 * is done for, pauses fetching under back-pressure, and handles rebalances: a
 * revoked partition's in-flight batch finishes and its offset is committed
 * before the partition is released; nothing is committed for a partition that
 * is no longer ours.
 */
#include <assert.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consumer/consumer.h"

#define POLL_MAX_MSGS 1024

/* ------------------------------------------------------------------ */
/* handlers                                                            */

brook_handlers_t *brook_handlers_new(void)
{
        return calloc(1, sizeof(brook_handlers_t));
}

void brook_handlers_destroy(brook_handlers_t *h)
{
        free(h);
}

void brook_handlers_set_message(brook_handlers_t *h,
                                brook_message_handler_t *fn)
{
        if (h)
                h->message = fn;
}

void brook_handlers_set_batch(brook_handlers_t *h, brook_batch_handler_t *fn)
{
        if (h)
                h->batch = fn;
}

void brook_handlers_set_dead_letter(brook_handlers_t *h,
                                    brook_dead_letter_cb_t *fn)
{
        if (h)
                h->dead_letter = fn;
}

void brook_handlers_set_result(brook_handlers_t *h, brook_result_cb_t *fn)
{
        if (h)
                h->result = fn;
}

void brook_handlers_set_decoder(brook_handlers_t *h, brook_decoder_t *decode,
                                brook_decoded_free_t *free_fn)
{
        if (h) {
                h->decode = decode;
                h->decoded_free = free_fn;
        }
}

void brook_handlers_set_partitions(brook_handlers_t *h,
                                   brook_partitions_cb_t *fn)
{
        if (h)
                h->partitions = fn;
}

/* ------------------------------------------------------------------ */
/* errors                                                              */

void brook__consumer_set_fatal(brook_consumer_t *c, brook_error_t *err)
{
        char rq[1100];

        if (c->fatal) {
                brook_error_destroy(err);
                return;
        }
        c->fatal = err;
        brook__log(&c->log, BROOK_LOG_ERROR, "consumer.fatal",
                   "error=%s code=%s",
                   brook__logq(rq, sizeof(rq), brook_error_string(err)),
                   brook_err2name(brook_error_code(err)));
}

static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
        brook_consumer_t *c = opaque;
        char rq[600], fs[512];

        brook__logq(rq, sizeof(rq), reason);
        if (err == RD_KAFKA_RESP_ERR__FATAL) {
                rd_kafka_resp_err_t ferr =
                    rd_kafka_fatal_error(rk, fs, sizeof(fs));

                brook__consumer_set_fatal(
                    c, brook__error_new(BROOK_ERR_FATAL, 1, 0,
                                        "fatal Kafka error %s: %s",
                                        rd_kafka_err2name(ferr), fs));
                return;
        }
        if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
                if (!c->down_since_us)
                        c->down_since_us = brook__now_us();
                brook__log(&c->log, BROOK_LOG_ERROR, "brokers.down",
                           "error=%s reason=%s", rd_kafka_err2name(err), rq);
                return;
        }
        /* librdkafka reports ALL_BROKERS_DOWN on some transitions only
         * (not when the coordinator's logical broker lost its address
         * before the last connection failed, e.g. a broker's clean
         * shutdown): after a connection error check_brokers() probes
         * whether any broker still answers. */
        if ((err == RD_KAFKA_RESP_ERR__TRANSPORT ||
             err == RD_KAFKA_RESP_ERR__RESOLVE) &&
            !c->down_since_us && !c->suspect_since_us)
                c->suspect_since_us = brook__now_us();
        brook__log(&c->log, BROOK_LOG_WARN, "kafka.error", "error=%s reason=%s",
                   rd_kafka_err2name((rd_kafka_resp_err_t)err), rq);
}

static void log_cb(const rd_kafka_t *rk, int level, const char *fac,
                   const char *buf)
{
        brook_consumer_t *c = rd_kafka_opaque(rk);
        char rq[1024];
        brook_log_level_t l = level <= 3   ? BROOK_LOG_ERROR
                              : level <= 4 ? BROOK_LOG_WARN
                              : level <= 6 ? BROOK_LOG_INFO
                                           : BROOK_LOG_DEBUG;

        if (!c || !brook__log_enabled(&c->log, l))
                return;
        brook__log(&c->log, l, "librdkafka", "facility=%s message=%s", fac,
                   brook__logq(rq, sizeof(rq), buf));
}

/* A consumed error instead of a message. */
static void msg_error(brook_consumer_t *c, rd_kafka_message_t *rkm)
{
        const char *topic = rkm->rkt ? rd_kafka_topic_name(rkm->rkt) : "";
        char rq[600];

        switch (rkm->err) {
        case RD_KAFKA_RESP_ERR__PARTITION_EOF:
                return;
        case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
        case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
        case RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED:
        case RD_KAFKA_RESP_ERR_INVALID_GROUP_ID:
                brook__consumer_set_fatal(
                    c,
                    brook__error_new(
                        rkm->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART
                            ? BROOK_ERR_UNKNOWN_TOPIC
                            : BROOK_ERR_KAFKA,
                        1, 0, "%s%s%s: %s (%s)", *topic ? "topic " : "", topic,
                        *topic ? "" : "consumer", rd_kafka_message_errstr(rkm),
                        rd_kafka_err2name(rkm->err)));
                return;
        default:
                brook__log(
                    &c->log, BROOK_LOG_WARN, "consume.error",
                    "topic=%s partition=%d error=%s reason=%s", topic,
                    (int)rkm->partition, rd_kafka_err2name(rkm->err),
                    brook__logq(rq, sizeof(rq), rd_kafka_message_errstr(rkm)));
        }
}

/* ------------------------------------------------------------------ */
/* commits                                                             */

static rd_kafka_topic_partition_list_t *
commit_list(brook_consumer_t *c, rd_kafka_topic_partition_list_t *only)
{
        rd_kafka_topic_partition_list_t *l =
            rd_kafka_topic_partition_list_new(8);
        size_t i;

        for (i = 0; i < c->nparts; i++) {
                brook__part_t *p = c->parts[i];

                if (!p->owned || p->done_next < 0 ||
                    p->done_next <= p->committed)
                        continue;
                if (only && !rd_kafka_topic_partition_list_find(only, p->topic,
                                                                p->partition))
                        continue;
                rd_kafka_topic_partition_list_add(l, p->topic, p->partition)
                    ->offset = p->done_next;
        }
        return l;
}

static void mark_committed(brook_consumer_t *c,
                           const rd_kafka_topic_partition_list_t *l)
{
        int i;

        for (i = 0; i < l->cnt; i++) {
                brook__part_t *p = brook__part_find(c, l->elems[i].topic,
                                                    l->elems[i].partition);

                if (p)
                        p->committed = l->elems[i].offset;
        }
}

static void commit_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                      rd_kafka_topic_partition_list_t *offsets, void *opaque)
{
        brook_consumer_t *c = opaque;
        int i, bad = err && err != RD_KAFKA_RESP_ERR__NO_OFFSET;
        size_t j;

        (void)rk;
        c->commit_inflight = 0;
        for (i = 0; offsets && i < offsets->cnt; i++) {
                brook__part_t *p = brook__part_find(
                    c, offsets->elems[i].topic, offsets->elems[i].partition);

                if (offsets->elems[i].err)
                        bad = 1;
                else if (!err && p && offsets->elems[i].offset > p->confirmed)
                        p->confirmed = offsets->elems[i].offset;
        }
        if (!bad)
                return;
        /* A rebalance in progress is routine: the offsets are committed
         * again after a backoff, or at revocation. */
        if (err != c->commit_fail_err ||
            brook__now_us() - c->commit_fail_logged_us > 5000000) {
                /* One line per error kind every 5 s: retries are quick. */
                c->commit_fail_err = err;
                c->commit_fail_logged_us = brook__now_us();
                brook__log(&c->log,
                           err == RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS
                               ? BROOK_LOG_INFO
                               : BROOK_LOG_WARN,
                           "commit.failed", "error=%s next=retry",
                           rd_kafka_err2name(err));
        }
        c->commit_retry_at_us = brook__now_us() + c->backoff_us;
        /* Whatever the broker did not confirm is committed again. */
        for (j = 0; j < c->nparts; j++)
                if (c->parts[j]->committed > c->parts[j]->confirmed)
                        c->parts[j]->committed = c->parts[j]->confirmed;
        c->commit_dirty = 1;
}

static void commit_async(brook_consumer_t *c)
{
        rd_kafka_topic_partition_list_t *l = commit_list(c, NULL);
        rd_kafka_resp_err_t err;

        c->commit_dirty = 0;
        if (l->cnt > 0) {
                err =
                    rd_kafka_commit_queue(c->rk, l, c->commit_q, commit_cb, c);
                if (err) {
                        brook__log(&c->log, BROOK_LOG_WARN, "commit.failed",
                                   "error=%s next=retry",
                                   rd_kafka_err2name(err));
                        c->commit_dirty = 1;
                } else {
                        mark_committed(c, l);
                        c->commit_inflight = 1;
                }
        }
        c->last_commit_us = brook__now_us();
        rd_kafka_topic_partition_list_destroy(l);
}

/* Record what the broker confirmed of a commit of @p l. */
static void confirm(brook_consumer_t *c,
                    const rd_kafka_topic_partition_list_t *l)
{
        int i;

        for (i = 0; i < l->cnt; i++) {
                brook__part_t *p = brook__part_find(c, l->elems[i].topic,
                                                    l->elems[i].partition);

                if (p && !l->elems[i].err) {
                        p->committed =
                            BROOK__MAX(p->committed, l->elems[i].offset);
                        p->confirmed =
                            BROOK__MAX(p->confirmed, l->elems[i].offset);
                }
        }
}

/*
 * Synchronous commit for revocation and shutdown, bounded by @p deadline_us:
 * with the group coordinator unreachable a commit would wait for it
 * forever. Not fatal when it fails: the next owner starts from the last
 * committed offset and processes the rest again (at-least-once).
 */
static void commit_sync(brook_consumer_t *c,
                        rd_kafka_topic_partition_list_t *only,
                        int64_t deadline_us)
{
        rd_kafka_topic_partition_list_t *l = commit_list(c, only);
        rd_kafka_queue_t *q;
        rd_kafka_event_t *ev = NULL;
        rd_kafka_resp_err_t err;
        int64_t left;

        if (!l->cnt) {
                rd_kafka_topic_partition_list_destroy(l);
                return;
        }
        q = rd_kafka_queue_new(c->rk);
        err = rd_kafka_commit_queue(c->rk, l, q, NULL, NULL);
        while (!err) {
                left = deadline_us - brook__now_us();
                if (left <= 0) {
                        err = RD_KAFKA_RESP_ERR__TIMED_OUT;
                        break;
                }
                ev = rd_kafka_queue_poll(
                    q, (int)BROOK__MIN(left / 1000 + 1, 1000));
                if (!ev)
                        continue;
                if (rd_kafka_event_type(ev) == RD_KAFKA_EVENT_OFFSET_COMMIT)
                        break;
                rd_kafka_event_destroy(ev);
                ev = NULL;
        }
        if (ev) {
                const rd_kafka_topic_partition_list_t *res =
                    rd_kafka_event_topic_partition_list(ev);

                err = rd_kafka_event_error(ev);
                if (!err && res)
                        confirm(c, res);
                rd_kafka_event_destroy(ev);
        }
        if (err)
                brook__log(&c->log, BROOK_LOG_WARN, "commit.failed",
                           "error=%s sync=true partitions=%d "
                           "next=reprocessed_by_next_owner",
                           rd_kafka_err2name(err), l->cnt);
        rd_kafka_queue_destroy(q);
        rd_kafka_topic_partition_list_destroy(l);
}

/* How long shutdown and revocation may wait for the brokers. */
static int64_t broker_deadline(const brook_consumer_t *c)
{
        /* With every broker down nothing can be committed: do not wait. */
        if (c->down_since_us)
                return brook__now_us() +
                       BROOK__MIN(c->shutdown_timeout_us, 1000000);
        return brook__now_us() + c->shutdown_timeout_us;
}

static void maybe_commit(brook_consumer_t *c, int64_t now)
{
        /* Serve results of earlier commits (commit_cb). */
        rd_kafka_queue_poll_callback(c->commit_q, 0);
        if (!c->commit_dirty || now < c->commit_retry_at_us)
                return;
        if (c->commit_interval_us == 0) {
                if (!c->commit_inflight)
                        commit_async(c);
        } else if (now - c->last_commit_us >= c->commit_interval_us) {
                commit_async(c);
        }
}

/* ------------------------------------------------------------------ */
/* running units                                                       */

static void handle_completion(brook_consumer_t *c, brook__unit_t *u)
{
        int64_t now = u->end_us, dur = u->end_us - u->start_us;
        brook__part_t *p = u->part;

        c->inflight--;
        brook__tel_inflight(c->tel, c->inflight);
        if (u->orphan) {
                u->state = BROOK__U_DONE;
                brook__unit_release_orphans(c);
                return;
        }
        if (c->handler_timeout_us && dur > c->handler_timeout_us &&
            !u->timeout_reported)
                brook__log(&c->log, BROOK_LOG_WARN, "batch.handler_timeout",
                           "topic=%s partition=%d first_offset=%lld "
                           "duration_ms=%lld timeout_ms=%lld",
                           u->part->topic, (int)u->part->partition,
                           (long long)brook_batch_first_offset(&u->batch),
                           (long long)(dur / 1000),
                           (long long)(c->handler_timeout_us / 1000));
        if (c->handler_timeout_us && dur > c->handler_timeout_us &&
            !u->timeout_reported)
                brook__tel_batch_exception(c->tel, p->topic, p->partition,
                                           brook_batch_first_offset(&u->batch),
                                           brook_batch_last_offset(&u->batch),
                                           u->batch.cnt, "timeout",
                                           "batch.handler.timeout.ms exceeded");
        c->n_batches++;
        brook__ack_decide(c, u); /* may retire (free) u */
        /* u->end_us is the clock read when the batch finished (a worker's
         * for async batches: at most slightly early for the timers). */
        if (!p->unit)
                brook__maybe_close(c, p, now, 0);
        /* Commit right after the batch, before the next one starts. */
        maybe_commit(c, now);
}

static void collect_completions(brook_consumer_t *c)
{
        brook__unit_t *u;

        if (!c->pool)
                return;
        u = brook__pool_completions(c->pool);
        while (u) {
                brook__unit_t *next = u->next;

                u->next = NULL;
                handle_completion(c, u);
                u = next;
        }
}

static void dispatch(brook_consumer_t *c)
{
        int64_t now = 0; /* end of the previous batch run here */

        while (c->ready_head && !c->fatal) {
                brook__unit_t *u = c->ready_head;

                if (c->pool && c->inflight >= c->max_inflight)
                        return;
                if (atomic_load(&c->stop_req))
                        return; /* not started: left for the next owner */
                c->ready_head = u->next;
                if (!c->ready_head)
                        c->ready_tail = NULL;
                u->next = NULL;
                brook__prepare_attempt(c, u);
                u->state = BROOK__U_RUNNING;
                c->inflight++;
                brook__tel_inflight(c->tel, c->inflight);
                if (c->pool) {
                        u->start_us = brook__now_us();
                        brook__pool_submit(c->pool, u);
                        continue;
                }
                u->start_us = now ? now : brook__now_us();
                brook__run_attempt(c, u);
                now = u->end_us;
                handle_completion(c, u);
        }
        brook__grave_flush(c);
}

/* ------------------------------------------------------------------ */
/* timers and back-pressure                                            */

static void timers(brook_consumer_t *c, int64_t now)
{
        size_t i;
        int over = c->held_bytes >= c->budget;

        for (i = 0; i < c->nparts; i++) {
                brook__part_t *p = c->parts[i];
                brook__unit_t *u = p->unit;

                if (!p->owned)
                        continue;
                if (!u) {
                        /* Over budget: close partial batches early. */
                        brook__maybe_close(c, p, now, over);
                        continue;
                }
                if ((u->state == BROOK__U_BACKOFF ||
                     u->state == BROOK__U_DLQ_WAIT) &&
                    u->retry_at_us && u->retry_at_us <= now) {
                        size_t j;

                        u->retry_at_us = 0;
                        for (j = 0; j < u->cnt; j++)
                                if (u->msgs[j].state == BROOK__MSG_DLQ_RETRY)
                                        brook__dlq_send(c, u, &u->msgs[j]);
                        if (u->state == BROOK__U_BACKOFF) {
                                u->state = BROOK__U_READY;
                                brook__enqueue(c, u);
                        }
                }
                if (u->state == BROOK__U_RUNNING && c->handler_timeout_us &&
                    !u->timeout_reported &&
                    now - u->start_us > c->handler_timeout_us) {
                        u->timeout_reported = 1;
                        brook__log(&c->log, BROOK_LOG_WARN,
                                   "batch.handler_timeout",
                                   "topic=%s partition=%d first_offset=%lld "
                                   "running_ms=%lld timeout_ms=%lld",
                                   p->topic, (int)p->partition,
                                   (long long)u->msgs[0].rkm->offset,
                                   (long long)((now - u->start_us) / 1000),
                                   (long long)(c->handler_timeout_us / 1000));
                        brook__tel_batch_exception(
                            c->tel, p->topic, p->partition,
                            u->msgs[0].rkm->offset,
                            u->msgs[u->cnt - 1].rkm->offset, u->batch.cnt,
                            "timeout", "batch.handler.timeout.ms exceeded");
                }
        }
}

/* Earliest timer, for the fetch wait. */
static int64_t next_deadline(brook_consumer_t *c)
{
        int64_t d = INT64_MAX;
        size_t i;

        for (i = 0; i < c->nparts; i++) {
                brook__part_t *p = c->parts[i];

                if (!p->owned)
                        continue;
                if (!p->unit)
                        d = BROOK__MIN(d,
                                       brook__acc_deadline(&p->acc, &c->lim));
                else if (p->unit->retry_at_us)
                        d = BROOK__MIN(d, p->unit->retry_at_us);
        }
        return d;
}

static void set_paused(brook_consumer_t *c, rd_kafka_topic_partition_list_t *l,
                       int pause)
{
        rd_kafka_resp_err_t err;

        if (!l->cnt)
                return;
        err = pause ? rd_kafka_pause_partitions(c->rk, l)
                    : rd_kafka_resume_partitions(c->rk, l);
        if (err)
                brook__log(&c->log, BROOK_LOG_WARN,
                           pause ? "pause.failed" : "resume.failed", "error=%s",
                           rd_kafka_err2name(err));
}

static void update_pause(brook_consumer_t *c)
{
        rd_kafka_topic_partition_list_t *pl = NULL, *rl = NULL;
        int ready_cnt = 0, global;
        brook__unit_t *u;
        size_t i;

        for (u = c->ready_head; u && ready_cnt < c->max_inflight; u = u->next)
                ready_cnt++;
        /* Back-pressure with hysteresis: stop fetching when brook holds its
         * byte budget, or (async) when as many batches wait as can run;
         * fetch again once half the budget is free and no batch waits.
         * (Pausing drops librdkafka's prefetched data for the partitions,
         * so flapping would cost refetches.) */
        if (!c->global_paused)
                global = c->held_bytes >= c->budget ||
                         (c->pool && ready_cnt >= c->max_inflight);
        else
                global = !(c->held_bytes <= c->budget / 2 && ready_cnt == 0);
        if (global != c->global_paused) {
                c->global_paused = global;
                brook__log(&c->log, BROOK_LOG_DEBUG,
                           global ? "fetch.paused" : "fetch.resumed",
                           "inflight=%d ready=%d held_bytes=%zu budget=%zu",
                           c->inflight, ready_cnt, c->held_bytes, c->budget);
        }
        for (i = 0; i < c->nparts; i++) {
                brook__part_t *p = c->parts[i];
                int want;

                if (!p->owned)
                        continue;
                u = p->unit;
                /* A partition waiting to retry or for its dead letters
                 * stops fetching. */
                want = global || (u && (u->state == BROOK__U_BACKOFF ||
                                        u->state == BROOK__U_DLQ_WAIT));
                if (want == p->paused)
                        continue;
                p->paused = want;
                if (want && !pl)
                        pl = rd_kafka_topic_partition_list_new(8);
                if (!want && !rl)
                        rl = rd_kafka_topic_partition_list_new(8);
                rd_kafka_topic_partition_list_add(want ? pl : rl, p->topic,
                                                  p->partition);
        }
        if (pl) {
                set_paused(c, pl, 1);
                rd_kafka_topic_partition_list_destroy(pl);
        }
        if (rl) {
                set_paused(c, rl, 0);
                rd_kafka_topic_partition_list_destroy(rl);
        }
}

/* ------------------------------------------------------------------ */
/* rebalance                                                           */

static void part_reset(brook_consumer_t *c, brook__part_t *p)
{
        rd_kafka_message_t **msgs;
        size_t n, i;

        n = brook__acc_drain(&p->acc, &msgs);
        for (i = 0; i < n; i++) {
                c->held_bytes -= brook__rkm_bytes(msgs[i]);
                rd_kafka_message_destroy(msgs[i]);
        }
        p->done_next = -1;
        p->committed = -1;
        p->confirmed = -1;
        p->paused = 0;
}

/* Remove @p p's unit from the ready queue if it is there. */
static void unqueue(brook_consumer_t *c, brook__unit_t *target)
{
        brook__unit_t **pp = &c->ready_head, *prev = NULL;

        while (*pp) {
                if (*pp == target) {
                        *pp = target->next;
                        if (c->ready_tail == target)
                                c->ready_tail = prev;
                        target->next = NULL;
                        return;
                }
                prev = *pp;
                pp = &(*pp)->next;
        }
}

/* Any unit of @p l (NULL: every partition) running or awaiting DLQ? */
static int busy(brook_consumer_t *c, rd_kafka_topic_partition_list_t *l)
{
        size_t i;

        for (i = 0; i < c->nparts; i++) {
                brook__part_t *p = c->parts[i];

                if (!p->owned || !p->unit)
                        continue;
                if (l && !rd_kafka_topic_partition_list_find(l, p->topic,
                                                             p->partition))
                        continue;
                if (p->unit->state == BROOK__U_RUNNING ||
                    p->unit->state == BROOK__U_DLQ_WAIT)
                        return 1;
        }
        return 0;
}

/*
 * Finish what is in flight for the partitions of @p l (NULL: all), within
 * shutdown.timeout.ms: running batches complete and are acknowledged, dead
 * letters are confirmed. Nothing new starts.
 */
static void drain(brook_consumer_t *c, rd_kafka_topic_partition_list_t *l)
{
        int64_t deadline = brook__now_us() + c->shutdown_timeout_us;

        while (busy(c, l) && brook__now_us() < deadline) {
                if (c->pool)
                        brook__pool_wait(c->pool, 10000);
                collect_completions(c);
                if (c->dlq)
                        brook__dlq_poll(c->dlq, c->pool ? 0 : 10);
                timers(c, brook__now_us()); /* DLQ re-sends */
        }
}

/* Let go of a partition: its units are orphaned or dropped. */
static void part_release(brook_consumer_t *c, brook__part_t *p)
{
        brook__unit_t *u = p->unit;

        if (p->paused) {
                /* librdkafka keeps a partition's pause across a rebalance:
                 * resume it now, or it stays paused for good if the next
                 * assignment gives it back to us (part_reset forgets). */
                rd_kafka_topic_partition_list_t *l =
                    rd_kafka_topic_partition_list_new(1);

                rd_kafka_topic_partition_list_add(l, p->topic, p->partition);
                set_paused(c, l, 0);
                rd_kafka_topic_partition_list_destroy(l);
        }
        if (u) {
                unqueue(c, u);
                if (u->state == BROOK__U_RUNNING || u->dlq_pending > 0) {
                        brook__unit_orphan(c, u);
                } else {
                        brook__retry_mem_save(c, u);
                        brook__unit_drop_msgs(c, u);
                        p->unit = NULL;
                        if (!p->spare)
                                p->spare = u;
                        else
                                brook__unit_free(u);
                }
        }
        part_reset(c, p);
        p->owned = 0;
        if (c->h.partitions)
                c->h.partitions(p->topic, p->partition, 0, c->opaque);
}

static void parts_revoke(brook_consumer_t *c,
                         rd_kafka_topic_partition_list_t *l, int lost)
{
        int i;

        brook__log(&c->log, BROOK_LOG_INFO, "partitions.revoked",
                   "count=%d lost=%s", l->cnt, lost ? "true" : "false");
        if (!lost) {
                /* Batches not started are given up; running ones finish. */
                for (i = 0; i < l->cnt; i++) {
                        brook__part_t *p = brook__part_find(
                            c, l->elems[i].topic, l->elems[i].partition);

                        if (p && p->unit && p->unit->state == BROOK__U_READY) {
                                unqueue(c, p->unit);
                                p->unit->state = BROOK__U_BACKOFF;
                                p->unit->retry_at_us = 0;
                        }
                }
                drain(c, l);
                commit_sync(c, l, broker_deadline(c));
        }
        for (i = 0; i < l->cnt; i++) {
                brook__part_t *p = brook__part_find(c, l->elems[i].topic,
                                                    l->elems[i].partition);

                if (p && p->owned)
                        part_release(c, p);
        }
        brook__grave_flush(c);
}

static void parts_assign(brook_consumer_t *c,
                         rd_kafka_topic_partition_list_t *l)
{
        int i;

        for (i = 0; i < l->cnt; i++) {
                brook__part_t *p = brook__part_get(c, l->elems[i].topic,
                                                   l->elems[i].partition);

                if (!p) {
                        brook__consumer_set_fatal(
                            c, brook__error_new(BROOK_ERR_NO_MEM, 1, 0,
                                                "out of memory on assign"));
                        return;
                }
                if (p->owned)
                        continue;
                part_reset(c, p);
                p->owned = 1;
                if (c->h.partitions)
                        c->h.partitions(p->topic, p->partition, 1, c->opaque);
        }
        brook__log(&c->log, BROOK_LOG_INFO, "partitions.assigned", "count=%d",
                   l->cnt);
}

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *l, void *opaque)
{
        brook_consumer_t *c = opaque;
        int coop = !strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE");
        rd_kafka_error_t *error = NULL;
        rd_kafka_resp_err_t rerr = RD_KAFKA_RESP_ERR_NO_ERROR;

        if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
                parts_assign(c, l);
                if (coop)
                        error = rd_kafka_incremental_assign(rk, l);
                else
                        rerr = rd_kafka_assign(rk, l);
                /* librdkafka keeps a partition's pause flag across
                 * assignments: start every new one fetching. */
                if (!error && !rerr)
                        rd_kafka_resume_partitions(rk, l);
        } else {
                parts_revoke(c, l, rd_kafka_assignment_lost(rk));
                if (coop)
                        error = rd_kafka_incremental_unassign(rk, l);
                else
                        rerr = rd_kafka_assign(rk, NULL);
        }
        if (error) {
                rerr = rd_kafka_error_code(error);
                rd_kafka_error_destroy(error);
        }
        if (rerr)
                brook__log(&c->log, BROOK_LOG_ERROR, "rebalance.failed",
                           "error=%s", rd_kafka_err2name(rerr));
}

/* ------------------------------------------------------------------ */
/* construction                                                        */

static int valid_group_id(const char *g)
{
        size_t n = strlen(g), i;

        if (n == 0 || n > 249)
                return 0;
        for (i = 0; i < n; i++)
                if (!isalnum((unsigned char)g[i]) && g[i] != '.' &&
                    g[i] != '_' && g[i] != '-')
                        return 0;
        return 1;
}

static brook_err_t pass_kafka(const char *name, const char *value, void *arg)
{
        char es[512];

        return rd_kafka_conf_set(arg, name, value, es, sizeof(es)) ==
                       RD_KAFKA_CONF_OK
                   ? BROOK_OK
                   : BROOK_ERR_CONF_INVALID;
}

/* librdkafka's statistics (served on the run() thread): consumer lag. */
static int stats_cb(rd_kafka_t *rk, char *json, size_t len, void *opaque)
{
        (void)rk;
        brook__tel_stats(((brook_consumer_t *)opaque)->tel, 0, json, len);
        return 0; /* librdkafka frees json */
}

static rd_kafka_conf_t *kafka_conf(brook_consumer_t *c, char *errstr,
                                   size_t errstr_size)
{
        /* brook's defaults, each overridable by "kafka." keys. */
        static const char *defaults[][2] = {
            {"enable.auto.commit", "false"},
            {"enable.auto.offset.store", "false"},
            {"auto.offset.reset", "earliest"},
            {"queued.max.messages.kbytes", "16384"},
            {"enable.partition.eof", "false"},
        };
        rd_kafka_conf_t *rkc = rd_kafka_conf_new();
        char es[512];
        size_t i;

        if (rd_kafka_conf_set(rkc, "bootstrap.servers",
                              brook__conf_str(c->conf, "bootstrap.servers",
                                              BROOK__SCOPE_CONSUMER),
                              es, sizeof(es)) ||
            rd_kafka_conf_set(rkc, "group.id", c->group, es, sizeof(es)) ||
            rd_kafka_conf_set(
                rkc, "client.id",
                brook__conf_str(c->conf, "client.id", BROOK__SCOPE_CONSUMER),
                es, sizeof(es)))
                goto fail;
        for (i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
                if (rd_kafka_conf_set(rkc, defaults[i][0], defaults[i][1], es,
                                      sizeof(es)))
                        goto fail;
        /* metrics.lag.interval.ms; kafka.* overrides it */
        if (brook__tel_stats_conf(c->tel, rkc, es, sizeof(es)))
                goto fail;
        if (brook__conf_foreach(c->conf, "kafka.", pass_kafka, rkc)) {
                snprintf(es, sizeof(es), "a kafka.* property was rejected");
                goto fail;
        }
        /* brook commits itself: only offsets of finished work. */
        if (rd_kafka_conf_set(rkc, "enable.auto.commit", "false", es,
                              sizeof(es)) ||
            rd_kafka_conf_set(rkc, "enable.auto.offset.store", "false", es,
                              sizeof(es)))
                goto fail;
        rd_kafka_conf_set_rebalance_cb(rkc, rebalance_cb);
        rd_kafka_conf_set_error_cb(rkc, error_cb);
        rd_kafka_conf_set_log_cb(rkc, log_cb);
        rd_kafka_conf_set_stats_cb(rkc, stats_cb);
        rd_kafka_conf_set_opaque(rkc, c);
        return rkc;
fail:
        brook__errstr(errstr, errstr_size, "librdkafka configuration: %s", es);
        rd_kafka_conf_destroy(rkc);
        return NULL;
}

static void read_settings(brook_consumer_t *c)
{
        const brook_conf_t *k = c->conf;
        brook__scope_t s = BROOK__SCOPE_CONSUMER;

        c->lim.size = (size_t)brook__conf_int(k, "batch.size", s);
        c->lim.timeout_us = brook__conf_int(k, "batch.timeout.ms", s) * 1000;
        c->lim.max_bytes = (size_t)brook__conf_int(k, "batch.max.bytes", s);
        c->async = brook__conf_bool(k, "batch.async", s);
        c->ordered = brook__conf_bool(k, "batch.ordered", s);
        c->max_conc = (int)brook__conf_int(k, "batch.max.concurrency", s);
        c->max_inflight = (int)brook__conf_int(k, "max.in.flight.batches", s);
        c->handler_timeout_us =
            brook__conf_int(k, "batch.handler.timeout.ms", s) * 1000;
        c->ack = brook__conf_enum(k, "ack.strategy", s);
        c->backoff_us = brook__conf_int(k, "retry.backoff.ms", s) * 1000;
        c->backoff_max_us =
            brook__conf_int(k, "retry.backoff.max.ms", s) * 1000;
        c->max_retries = (int)brook__conf_int(k, "dead.letter.max.retries", s);
        c->dlq_skip = brook__conf_enum(k, "dead.letter.policy", s) == 1;
        c->commit_interval_us =
            brook__conf_int(k, "commit.interval.ms", s) * 1000;
        c->shutdown_timeout_us =
            brook__conf_int(k, "shutdown.timeout.ms", s) * 1000;
        c->unavailable_timeout_us =
            brook__conf_int(k, "broker.unavailable.timeout.ms", s) * 1000;
        /* Single-message mode: a message handler alone, no batch settings. */
        c->single =
            !c->h.batch && !c->async && !brook__conf_is_set(k, "batch.size");
        if (c->single) {
                c->lim.size = 1;
                c->lim.timeout_us = 0;
        }
        if (!c->async)
                c->max_inflight = 1;
        c->budget = c->lim.max_bytes * (size_t)c->max_inflight;
        c->upd_lim = c->lim;
}

brook_consumer_t *brook_consumer_new(const brook_conf_t *conf,
                                     const brook_handlers_t *handlers,
                                     void *opaque, char *errstr,
                                     size_t errstr_size)
{
        brook_consumer_t *c;
        rd_kafka_conf_t *rkc;
        const char *dlq, *bs;
        char es[512];

        if (!conf || !handlers) {
                brook__errstr(errstr, errstr_size,
                              "brook_consumer_new: conf and handlers are "
                              "required");
                return NULL;
        }
        if (!handlers->message && !handlers->batch) {
                brook__errstr(errstr, errstr_size,
                              "brook_consumer_new: set a message handler "
                              "(brook_handlers_set_message) or a batch "
                              "handler (brook_handlers_set_batch)");
                return NULL;
        }
        bs = brook__conf_str(conf, "bootstrap.servers", BROOK__SCOPE_CONSUMER);
        if (!*bs) {
                brook__errstr(errstr, errstr_size,
                              "bootstrap.servers: required (host:port[,...])");
                return NULL;
        }
        if (!valid_group_id(
                brook__conf_str(conf, "group.id", BROOK__SCOPE_CONSUMER))) {
                brook__errstr(
                    errstr, errstr_size,
                    "group.id: \"%s\" is not a valid group id "
                    "(required; 1..249 characters of "
                    "[a-zA-Z0-9._-])",
                    brook__conf_str(conf, "group.id", BROOK__SCOPE_CONSUMER));
                return NULL;
        }
        if (!(c = calloc(1, sizeof(*c))) || !(c->conf = brook_conf_dup(conf)) ||
            !(c->buckets = calloc(BROOK__NBUCKETS, sizeof(*c->buckets)))) {
                brook__errstr(errstr, errstr_size, "out of memory");
                if (c)
                        brook_conf_destroy(c->conf);
                free(c);
                return NULL;
        }
        c->h = *handlers;
        c->opaque = opaque;
        c->group =
            strdup(brook__conf_str(conf, "group.id", BROOK__SCOPE_CONSUMER));
        pthread_mutex_init(&c->upd_lock, NULL);
        read_settings(c);
        brook__logger_init(&c->log, c->conf, "consumer");
        snprintf(c->log.ident, sizeof(c->log.ident), "group=%s", c->group);
        if (!(c->tel = brook__tel_new(
                  c->conf, BROOK__SCOPE_CONSUMER, "consumer", c->group, &c->log,
                  BROOK__TEL_F_SINGLE_WRITER, errstr, errstr_size)))
                goto fail;

        if (!(rkc = kafka_conf(c, errstr, errstr_size)))
                goto fail;
        if (!(c->rk = rd_kafka_new(RD_KAFKA_CONSUMER, rkc, es, sizeof(es)))) {
                brook__errstr(errstr, errstr_size, "librdkafka: %s", es);
                rd_kafka_conf_destroy(rkc);
                goto fail;
        }
        rd_kafka_poll_set_consumer(c->rk);
        c->rkqu = rd_kafka_queue_get_consumer(c->rk);
        c->commit_q = rd_kafka_queue_new(c->rk);
        dlq = brook__conf_str(c->conf, "dead.letter.topic",
                              BROOK__SCOPE_CONSUMER);
        if (*dlq && !(c->dlq = brook__dlq_new(c, dlq, errstr, errstr_size)))
                goto fail;
        if (c->async && !(c->pool = brook__pool_new(c, errstr, errstr_size)))
                goto fail;
        return c;
fail:
        brook_consumer_destroy(c);
        return NULL;
}

brook_err_t brook_consumer_subscribe(brook_consumer_t *c,
                                     const char *const *topics,
                                     size_t topic_cnt, char *errstr,
                                     size_t errstr_size)
{
        rd_kafka_topic_partition_list_t *l;
        rd_kafka_resp_err_t err;
        size_t i;

        if (!c || !topics || !topic_cnt) {
                brook__errstr(errstr, errstr_size,
                              "brook_consumer_subscribe: at least one topic "
                              "is required");
                return BROOK_ERR_INVALID_ARG;
        }
        l = rd_kafka_topic_partition_list_new((int)topic_cnt);
        for (i = 0; i < topic_cnt; i++) {
                if (!topics[i] || !*topics[i]) {
                        rd_kafka_topic_partition_list_destroy(l);
                        brook__errstr(errstr, errstr_size,
                                      "brook_consumer_subscribe: topic %zu "
                                      "is empty",
                                      i);
                        return BROOK_ERR_INVALID_ARG;
                }
                rd_kafka_topic_partition_list_add(l, topics[i],
                                                  RD_KAFKA_PARTITION_UA);
        }
        err = rd_kafka_subscribe(c->rk, l);
        rd_kafka_topic_partition_list_destroy(l);
        if (err) {
                brook__errstr(errstr, errstr_size, "subscribe: %s",
                              rd_kafka_err2str(err));
                return BROOK_ERR_KAFKA;
        }
        return BROOK_OK;
}

/* ------------------------------------------------------------------ */
/* run                                                                 */

static void apply_updates(brook_consumer_t *c)
{
        if (!atomic_load(&c->upd_dirty))
                return;
        pthread_mutex_lock(&c->upd_lock);
        c->lim = c->upd_lim;
        atomic_store(&c->upd_dirty, 0);
        pthread_mutex_unlock(&c->upd_lock);
        c->budget = c->lim.max_bytes * (size_t)c->max_inflight;
        brook__log(&c->log, BROOK_LOG_INFO, "batch.config_updated",
                   "batch_size=%zu batch_timeout_ms=%lld "
                   "batch_max_bytes=%zu",
                   c->lim.size, (long long)(c->lim.timeout_us / 1000),
                   c->lim.max_bytes);
}

/* After a connection error and while all brokers are down: probe, and
 * give up after the timeout. */
static void check_brokers(brook_consumer_t *c, int64_t now)
{
        const struct rd_kafka_metadata *md;
        rd_kafka_resp_err_t err;

        if ((!c->down_since_us && !c->suspect_since_us) ||
            now - c->last_probe_us < 1000000)
                return;
        c->last_probe_us = now;
        err = rd_kafka_metadata(c->rk, 0, NULL, &md, 200);
        if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
                rd_kafka_metadata_destroy(md);
                if (c->down_since_us)
                        brook__log(
                            &c->log, BROOK_LOG_INFO, "brokers.up",
                            "down_ms=%lld",
                            (long long)((now - c->down_since_us) / 1000));
                c->down_since_us = 0;
                c->suspect_since_us = 0;
                return;
        }
        if (!c->down_since_us) {
                /* A connection failed; down only if no broker is up at
                 * all (_TIMED_OUT: one took the request, just slowly). */
                if (err != RD_KAFKA_RESP_ERR__TRANSPORT)
                        return;
                c->down_since_us = c->suspect_since_us;
                c->suspect_since_us = 0;
                brook__log(&c->log, BROOK_LOG_ERROR, "brokers.down",
                           "error=%s reason=\"no broker answers a metadata "
                           "request since a connection failed %lld ms ago\"",
                           rd_kafka_err2name(RD_KAFKA_RESP_ERR__TRANSPORT),
                           (long long)((now - c->down_since_us) / 1000));
        }
        if (c->unavailable_timeout_us &&
            now - c->down_since_us >= c->unavailable_timeout_us)
                brook__consumer_set_fatal(
                    c, brook__error_new(
                           BROOK_ERR_TRANSPORT, 1, 1,
                           "no broker of bootstrap.servers=%s reachable for "
                           "%lld ms (broker.unavailable.timeout.ms)",
                           brook__conf_str(c->conf, "bootstrap.servers",
                                           BROOK__SCOPE_CONSUMER),
                           (long long)((now - c->down_since_us) / 1000)));
}

static void ingest(brook_consumer_t *c, rd_kafka_message_t *rkm, int64_t now)
{
        brook__part_t *p;

        if (rkm->err) {
                msg_error(c, rkm);
                rd_kafka_message_destroy(rkm);
                return;
        }
        p = brook__part_find(c, rd_kafka_topic_name(rkm->rkt), rkm->partition);
        if (!p || !p->owned) {
                rd_kafka_message_destroy(rkm); /* stale: not ours any more */
                return;
        }
        if (brook__acc_push(&p->acc, rkm, now)) {
                rd_kafka_message_destroy(rkm);
                brook__consumer_set_fatal(
                    c, brook__error_new(BROOK_ERR_NO_MEM, 1, 0,
                                        "out of memory accumulating"));
                return;
        }
        c->held_bytes += brook__rkm_bytes(rkm);
        c->n_msgs++;
        brook__maybe_close(c, p, now, 0);
}

static int poll_timeout_ms(brook_consumer_t *c, int64_t now)
{
        int64_t d, t;

        if (c->ready_head && (!c->pool || c->inflight < c->max_inflight))
                return 0;
        d = next_deadline(c);
        t = d == INT64_MAX ? 100000 : d - now;
        if (c->dlq && brook__dlq_outstanding(c->dlq))
                t = BROOK__MIN(t, 5000);
        t = BROOK__MIN(t, 100000); /* check the stop flag every 100 ms */
        return t <= 0 ? 0 : (int)((t + 999) / 1000);
}

static void loop_once(brook_consumer_t *c, rd_kafka_message_t **msgs)
{
        int64_t now = brook__now_us();
        ssize_t n, i;

        apply_updates(c);
        timers(c, now);
        collect_completions(c);
        dispatch(c);
        if (c->dlq)
                brook__dlq_poll(c->dlq, 0);
        now = brook__now_us();
        maybe_commit(c, now);
        update_pause(c);
        check_brokers(c, now);
        brook__tel_tick(c->tel, now);
        if (c->fatal || atomic_load(&c->stop_req))
                return;
        brook__grave_flush(c);
        n = rd_kafka_consume_batch_queue(c->rkqu, poll_timeout_ms(c, now), msgs,
                                         POLL_MAX_MSGS);
        now = brook__now_us();
        if (n < 0) {
                brook__log(&c->log, BROOK_LOG_WARN, "consume.error", "error=%s",
                           rd_kafka_err2name(rd_kafka_last_error()));
                return;
        }
        for (i = 0; i < n; i++)
                ingest(c, msgs[i], now);
        if (n > 0 && c->down_since_us) {
                brook__log(&c->log, BROOK_LOG_INFO, "brokers.up",
                           "down_ms=%lld",
                           (long long)((now - c->down_since_us) / 1000));
                c->down_since_us = 0;
        }
}

/*
 * Leave the group (revocation callbacks run here, on this thread) within
 * @p deadline_us; past it, the consumer is destroyed without the final
 * group handshake (the group then expires the member by its session
 * timeout).
 */
static void close_bounded(brook_consumer_t *c, int64_t deadline_us)
{
        rd_kafka_message_t *msgs[64];
        rd_kafka_error_t *error;

        error = rd_kafka_consumer_close_queue(c->rk, c->rkqu);
        if (error) {
                brook__log(&c->log, BROOK_LOG_WARN, "close.failed", "error=%s",
                           rd_kafka_error_string(error));
                rd_kafka_error_destroy(error);
                c->unclean_close = 1;
                return;
        }
        while (!rd_kafka_consumer_closed(c->rk) &&
               brook__now_us() < deadline_us) {
                ssize_t n = rd_kafka_consume_batch_queue(c->rkqu, 100, msgs,
                                                         64),
                        i;

                for (i = 0; i < n; i++)
                        rd_kafka_message_destroy(msgs[i]);
        }
        if (!rd_kafka_consumer_closed(c->rk)) {
                c->unclean_close = 1;
                brook__log(&c->log, BROOK_LOG_WARN, "close.timed_out",
                           "next=leave_without_group_handshake");
        }
}

/* Stop: finish what runs, commit what is done, leave the group. */
static void shutdown_consumer(brook_consumer_t *c)
{
        size_t i;

        c->stopping = 1;
        /* Batches not started stay uncommitted for the next owner. */
        for (i = 0; i < c->nparts; i++) {
                brook__part_t *p = c->parts[i];

                if (p->unit && p->unit->state == BROOK__U_READY) {
                        unqueue(c, p->unit);
                        p->unit->state = BROOK__U_BACKOFF;
                        p->unit->retry_at_us = 0;
                }
        }
        drain(c, NULL);
        commit_sync(c, NULL, broker_deadline(c));
        /* The result of an asynchronous commit still in flight holds
         * librdkafka resources until served: wait for it (bounded). */
        {
                int64_t deadline = broker_deadline(c);

                while (c->commit_inflight && brook__now_us() < deadline)
                        rd_kafka_queue_poll_callback(c->commit_q, 10);
        }
        brook__grave_flush(c);
        close_bounded(c, broker_deadline(c));
        for (i = 0; i < c->nparts; i++)
                if (c->parts[i]->owned)
                        part_release(c, c->parts[i]);
        brook__grave_flush(c);
        brook__tel_flush(c->tel); /* last StatsD send and summary */
        brook__log(
            &c->log, BROOK_LOG_INFO, "consumer.stopped",
            "messages=%llu batches=%llu failed=%llu dead=%llu",
            (unsigned long long)c->n_msgs, (unsigned long long)c->n_batches,
            (unsigned long long)c->n_failed, (unsigned long long)c->n_dead);
}

brook_error_t *brook_consumer_run(brook_consumer_t *c)
{
        rd_kafka_message_t **msgs;
        brook_error_t *err;

        if (!c)
                return brook__error_new(BROOK_ERR_INVALID_ARG, 0, 0,
                                        "brook_consumer_run: NULL consumer");
        if (c->running)
                return brook__error_new(BROOK_ERR_STATE, 0, 0,
                                        "brook_consumer_run: called twice");
        c->running = 1;
        if (!(msgs = malloc(POLL_MAX_MSGS * sizeof(*msgs))))
                return brook__error_new(BROOK_ERR_NO_MEM, 1, 0,
                                        "out of memory");
        brook__log(&c->log, BROOK_LOG_INFO, "consumer.started",
                   "batch_size=%zu batch_timeout_ms=%lld batch_max_bytes=%zu "
                   "mode=%s ack_strategy=%d max_in_flight=%d",
                   c->lim.size, (long long)(c->lim.timeout_us / 1000),
                   c->lim.max_bytes,
                   c->single  ? "single"
                   : c->async ? "async"
                              : "sync",
                   c->ack, c->max_inflight);
        while (!c->fatal && !atomic_load(&c->stop_req))
                loop_once(c, msgs);
        free(msgs);
        shutdown_consumer(c);
        err = c->fatal;
        c->fatal = NULL;
        return err;
}

void brook_consumer_stop(brook_consumer_t *c)
{
        /* A lock-free atomic store: safe from signal handlers. */
        if (c)
                atomic_store(&c->stop_req, 1);
}

brook_err_t brook_consumer_update_batch_config(brook_consumer_t *c,
                                               const char *name,
                                               const char *value, char *errstr,
                                               size_t errstr_size)
{
        const brook__prop_t *p;
        brook_err_t err;
        int64_t v;

        if (!c || !name || !value) {
                brook__errstr(errstr, errstr_size,
                              "brook_consumer_update_batch_config: consumer, "
                              "name and value are required");
                return BROOK_ERR_INVALID_ARG;
        }
        if (!(p = brook__prop_find(name))) {
                brook__errstr(errstr, errstr_size, "%s: unknown property",
                              name);
                return BROOK_ERR_CONF_UNKNOWN;
        }
        if (!(p->flags & BROOK__PF_RUNTIME)) {
                brook__errstr(errstr, errstr_size,
                              "%s: cannot change at run time (allowed: "
                              "batch.size, batch.timeout.ms, "
                              "batch.max.bytes)",
                              name);
                return BROOK_ERR_CONF_INVALID;
        }
        if ((err = brook__prop_validate(p, value, errstr, errstr_size)))
                return err;
        brook__parse_int(value, &v);
        pthread_mutex_lock(&c->upd_lock);
        if (!strcmp(name, "batch.size"))
                c->upd_lim.size = (size_t)v;
        else if (!strcmp(name, "batch.timeout.ms"))
                c->upd_lim.timeout_us = v * 1000;
        else
                c->upd_lim.max_bytes = (size_t)v;
        atomic_store(&c->upd_dirty, 1);
        pthread_mutex_unlock(&c->upd_lock);
        return BROOK_OK;
}

void brook_consumer_destroy(brook_consumer_t *c)
{
        size_t i;

        if (!c)
                return;
        /* Never run: leave the group it may have joined by subscribing. */
        if (c->rk && c->rkqu && !c->running) {
                c->stopping = 1;
                close_bounded(c, broker_deadline(c));
        }
        /* Joins the workers. Units still in the pool are reachable from
         * their partition or the orphan list and freed below. */
        brook__pool_destroy(c->pool);
        c->pool = NULL;
        if (c->dlq)
                brook__dlq_destroy(c->dlq);
        c->dlq = NULL;
        for (i = 0; i < c->nparts; i++) {
                brook__part_t *p = c->parts[i];

                if (p->unit) {
                        unqueue(c, p->unit);
                        brook__unit_drop_msgs(c, p->unit);
                        brook__unit_free(p->unit);
                }
                part_reset(c, p);
                brook__acc_free(&p->acc);
                brook__unit_free(p->spare);
                free(p->topic);
                free(p);
        }
        while (c->orphans) {
                brook__unit_t *u = c->orphans;

                c->orphans = u->next;
                brook__unit_drop_msgs(c, u);
                brook__unit_free(u);
        }
        brook__grave_flush(c); /* before librdkafka goes */
        if (c->commit_q)
                rd_kafka_queue_destroy(c->commit_q);
        if (c->rkqu)
                rd_kafka_queue_destroy(c->rkqu);
        if (c->rk) {
                rd_kafka_destroy_flags(
                    c->rk, c->unclean_close
                               ? RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE
                               : 0);
        }
        brook__tel_destroy(c->tel); /* after librdkafka: no stats_cb left */
        brook_error_destroy(c->fatal);
        free(c->parts);
        free(c->buckets);
        free(c->group);
        pthread_mutex_destroy(&c->upd_lock);
        brook_conf_destroy(c->conf);
        free(c);
}
