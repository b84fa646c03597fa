/*
 * consumer/work.c: the work of the run loop between fetches: batches
 * completed (on this thread, or by the worker pool) are acknowledged,
 * ready batches start, timers fire (partial batches close, retries and
 * dead-letter re-sends come due, slow handlers are reported), and fetching
 * pauses and resumes per partition for back-pressure and retries.
 *
 * @locality the consumer's run() thread.
 */
#include <string.h>

#include "consumer/consumer.h"

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
        brook__commit_maybe(c, now);
}

void brook__work_collect(brook_consumer_t *c)
{
        brook__link_t done, *l;

        if (!c->pool)
                return;
        brook__list_init(&done);
        brook__pool_completions(c->pool, &done);
        while ((l = brook__list_pop(&done)))
                handle_completion(c, BROOK__UNIT_Q(l));
}

void brook__work_dispatch(brook_consumer_t *c)
{
        int64_t now = 0; /* end of the previous batch run here */

        while (!brook__list_empty(&c->ready) && !c->fatal) {
                brook__unit_t *u;

                if (c->pool && c->inflight >= c->max_inflight)
                        return;
                if (atomic_load(&c->stop_req))
                        return; /* not started: left for the next owner */
                u = BROOK__UNIT_Q(brook__list_pop(&c->ready));
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

void brook__work_timers(brook_consumer_t *c, int64_t now)
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

int64_t brook__work_next_deadline(brook_consumer_t *c)
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

void brook__set_paused(brook_consumer_t *c, rd_kafka_topic_partition_list_t *l,
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

void brook__work_update_pause(brook_consumer_t *c)
{
        rd_kafka_topic_partition_list_t *pl = NULL, *rl = NULL;
        int ready_cnt = 0, global;
        brook__unit_t *u;
        brook__link_t *l;
        size_t i;

        for (l = c->ready.next; l != &c->ready && ready_cnt < c->max_inflight;
             l = l->next)
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
                brook__set_paused(c, pl, 1);
                rd_kafka_topic_partition_list_destroy(pl);
        }
        if (rl) {
                brook__set_paused(c, rl, 0);
                rd_kafka_topic_partition_list_destroy(rl);
        }
}
