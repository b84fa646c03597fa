/*
 * consumer/ack.c: the acknowledgment strategies and dead letters. After
 * each attempt of a unit (a closed batch), decide per message what happens
 * next: done, retried after a backoff, or dead-lettered; and advance the
 * partition's committable offset to the first message that is neither
 * processed nor durably dead-lettered. Nothing else moves an offset.
 *
 * A dead letter (kafka/deadletter.c builds it) counts only once its
 * delivery report confirmed the write (acks=all, idempotent producer); a
 * failed write is retried after a backoff while the partition stays
 * paused. Nothing is skipped.
 *
 * @locality the consumer's run() thread.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "consumer/consumer.h"
#include "kafka/deadletter.h"

int64_t brook__ack_committable(const brook__unit_t *u)
{
        size_t i;

        for (i = 0; i < u->cnt; i++)
                if (u->msgs[i].state != BROOK__MSG_OK &&
                    u->msgs[i].state != BROOK__MSG_DEAD)
                        return u->msgs[i].rkm->offset;
        return u->msgs[u->cnt - 1].rkm->offset + 1;
}

int64_t brook__backoff_us(const brook_consumer_t *c, int attempt)
{
        int64_t b = c->backoff_us;
        int i;

        for (i = 1; i < attempt && b < c->backoff_max_us; i++)
                b *= 2;
        return BROOK__MIN(b, c->backoff_max_us);
}

/* ------------------------------------------------------------------ */
/* dead letters                                                        */

/* A dead letter's delivery report (the producer's, on the run() thread). */
static void dlq_report(brook__dr_tracker_t *t, const rd_kafka_message_t *rkm)
{
        brook_msg_t *m =
            (brook_msg_t *)((char *)t - offsetof(brook_msg_t, dlq_tr));
        brook__unit_t *u = m->owner;
        brook_consumer_t *c = u->c;
        char rq[512];

        c->dlq_outstanding--;
        if (c->dlq_closing)
                return;
        u->dlq_pending--;
        if (u->orphan) {
                /* Partition revoked while waiting: the new owner processes
                 * the message again. Free the unit once nothing refers to
                 * it. */
                brook__unit_release_orphans(c);
                return;
        }
        if (rkm->err) {
                m->state = BROOK__MSG_DLQ_RETRY;
                u->retry_at_us =
                    brook__now_us() + brook__backoff_us(c, ++u->dlq_retries);
                brook__log(
                    &c->log, BROOK_LOG_ERROR, "dead_letter.failed",
                    "topic=%s partition=%d offset=%lld "
                    "dead_letter_topic=%s error=%s next=retry",
                    u->part->topic, (int)u->part->partition,
                    (long long)m->rkm->offset, rd_kafka_topic_name(rkm->rkt),
                    brook__logq(rq, sizeof(rq), rd_kafka_err2str(rkm->err)));
                brook__tel_dead_letter(c->tel, m, rd_kafka_err2str(rkm->err),
                                       rd_kafka_topic_name(rkm->rkt), -1, -1,
                                       0);
        } else {
                m->state = BROOK__MSG_DEAD;
                c->n_dead++;
                brook__tel_dead_letter(c->tel, m, m->reason,
                                       rd_kafka_topic_name(rkm->rkt),
                                       rkm->partition, rkm->offset, 1);
                if (c->h.dead_letter)
                        c->h.dead_letter(m, m->reason ? m->reason : "",
                                         c->opaque);
                else
                        brook__log(
                            &c->log, BROOK_LOG_ERROR, "dead_letter.sent",
                            "topic=%s partition=%d offset=%lld "
                            "dead_letter_topic=%s dead_letter_offset=%lld "
                            "failures=%d reason=%s",
                            u->part->topic, (int)u->part->partition,
                            (long long)m->rkm->offset,
                            rd_kafka_topic_name(rkm->rkt),
                            (long long)rkm->offset, (int)m->fails,
                            brook__logq(rq, sizeof(rq),
                                        m->reason ? m->reason : ""));
        }
        if (u->state == BROOK__U_DLQ_WAIT)
                brook__ack_progress(c, u);
}

brook_err_t brook__dlq_open(brook_consumer_t *c, char *errstr,
                            size_t errstr_size)
{
        c->dlq_tmpl = c->st.dead_letter_topic;
        if (!*c->dlq_tmpl)
                return BROOK_OK;
        c->dlq = brook__producer_new(BROOK__KROLE_DLQ_PRODUCER, &c->st, NULL,
                                     &c->log, errstr, errstr_size);
        return c->dlq ? BROOK_OK : BROOK_ERR_KAFKA;
}

void brook__dlq_send(brook_consumer_t *c, brook__unit_t *u, brook_msg_t *m)
{
        brook__dl_info_t info = {
            m->rkm, c->group, m->fails > 0 ? (int)m->fails - 1 : 0,
            NULL,   NULL,     m->reason};
        char topic[512], es[512], rq[600];

        m->dlq_tr.on_dr = dlq_report;
        if (!brook__dl_send(c->dlq, c->dlq_tmpl, &info, &m->dlq_tr, topic,
                            sizeof(topic), es, sizeof(es))) {
                m->state = BROOK__MSG_DLQ_SENT;
                u->dlq_pending++;
                c->dlq_outstanding++;
                return;
        }
        m->state = BROOK__MSG_DLQ_RETRY;
        u->retry_at_us =
            brook__now_us() + brook__backoff_us(c, ++u->dlq_retries);
        brook__log(&c->log, BROOK_LOG_ERROR, "dead_letter.failed",
                   "topic=%s partition=%d offset=%lld "
                   "dead_letter_topic=%s error=%s next=retry",
                   u->part->topic, (int)u->part->partition,
                   (long long)m->rkm->offset, topic,
                   brook__logq(rq, sizeof(rq), es));
        brook__tel_dead_letter(c->tel, m, es, topic, -1, -1, 0);
}

void brook__dlq_poll(brook_consumer_t *c, int timeout_ms)
{
        if (c->dlq)
                rd_kafka_poll(brook__producer_rk(c->dlq), timeout_ms);
}

void brook__dlq_close(brook_consumer_t *c)
{
        /* Outstanding dead letters belong to units given up on; their
         * reports must not reach freed memory. */
        c->dlq_closing = 1;
        brook__producer_destroy(c->dlq);
        c->dlq = NULL;
}

/*
 * A message that keeps failing (or cannot be decoded) leaves through the
 * dead-letter topic; without one, dead.letter.policy decides.
 */
static void exhaust(brook_consumer_t *c, brook__unit_t *u, brook_msg_t *m)
{
        char rq[512];

        if (c->dlq) {
                brook__dlq_send(c, u, m);
                return;
        }
        brook__logq(rq, sizeof(rq), m->reason ? m->reason : "handler failed");
        if (c->dlq_skip) {
                brook__log(&c->log, BROOK_LOG_ERROR, "message.skipped",
                           "topic=%s partition=%d offset=%lld failures=%d "
                           "reason=%s policy=skip",
                           u->part->topic, (int)u->part->partition,
                           (long long)m->rkm->offset, (int)m->fails, rq);
                m->state = BROOK__MSG_DEAD;
                c->n_dead++;
                if (c->h.dead_letter)
                        c->h.dead_letter(m, m->reason ? m->reason : "",
                                         c->opaque);
                return;
        }
        /* dead.letter.policy=fail: stop without passing the message. */
        if (!c->fatal)
                brook__consumer_set_fatal(
                    c, brook__error_new(
                           BROOK_ERR_DEAD_LETTER, 1, 0,
                           "%s [%d] offset %lld failed %d time(s) (%s) and "
                           "dead.letter.topic is empty: "
                           "dead.letter.policy=fail stops the consumer "
                           "without committing past it",
                           u->part->topic, (int)u->part->partition,
                           (long long)m->rkm->offset, (int)m->fails,
                           m->reason ? m->reason : "handler failed"));
}

/* Collect the attempt's outcomes; returns the number of failures. */
static size_t collect(brook_consumer_t *c, brook__unit_t *u)
{
        size_t i, failed = 0;
        char reason[160];

        if (u->result != BROOK_OK) {
                snprintf(reason, sizeof(reason), "batch handler returned %s",
                         brook_err2name(u->result));
                for (i = 0; i < u->batch.cnt; i++)
                        if (!u->batch.msgs[i]->failed)
                                brook__msg_set_failure(u->batch.msgs[i],
                                                       reason);
        }
        for (i = 0; i < u->batch.cnt; i++) {
                brook_msg_t *m = u->batch.msgs[i];

                if (m->failed) {
                        m->fails++;
                        failed++;
                        if (brook__log_enabled(&c->log, BROOK_LOG_DEBUG)) {
                                char rq[512];

                                brook__log(
                                    &c->log, BROOK_LOG_DEBUG, "message.failed",
                                    "topic=%s partition=%d "
                                    "offset=%lld attempt=%d "
                                    "reason=%s",
                                    u->part->topic, (int)u->part->partition,
                                    (long long)m->rkm->offset, u->attempt,
                                    brook__logq(rq, sizeof(rq), m->reason));
                        }
                } else {
                        m->state = BROOK__MSG_OK;
                }
        }
        return failed;
}

/* Schedule the next attempt over the PENDING messages. */
static void retry(brook_consumer_t *c, brook__unit_t *u, int immediate)
{
        u->attempt++;
        if (immediate || c->backoff_us == 0) {
                u->state = BROOK__U_READY;
                u->retry_at_us = 0;
                brook__enqueue(c, u);
        } else {
                u->state = BROOK__U_BACKOFF;
                u->retry_at_us =
                    brook__now_us() + brook__backoff_us(c, u->attempt);
        }
}

static void decide_all_or_nothing(brook_consumer_t *c, brook__unit_t *u,
                                  size_t failed)
{
        size_t i;
        int exhausted = 0;

        if (!failed)
                return;
        /* Exhausted after max retries of the batch, or when a failed
         * message has used up its own (counts survive a revocation). */
        for (i = 0; i < u->batch.cnt; i++)
                if (u->batch.msgs[i]->failed &&
                    u->batch.msgs[i]->fails > c->max_retries)
                        exhausted = 1;
        if (!exhausted && u->attempt < c->max_retries) {
                /* Retry the whole batch: successes are redone too. */
                for (i = 0; i < u->batch.cnt; i++)
                        u->batch.msgs[i]->state = BROOK__MSG_PENDING;
                retry(c, u, 0);
                return;
        }
        for (i = 0; i < u->batch.cnt && !c->fatal; i++)
                if (u->batch.msgs[i]->failed)
                        exhaust(c, u, u->batch.msgs[i]);
}

static void decide_best_effort(brook_consumer_t *c, brook__unit_t *u)
{
        size_t i, again = 0;

        for (i = 0; i < u->batch.cnt && !c->fatal; i++) {
                brook_msg_t *m = u->batch.msgs[i];

                if (!m->failed)
                        continue;
                if (m->fails > c->max_retries)
                        exhaust(c, u, m);
                else
                        again++;
        }
        if (again && !c->fatal)
                retry(c, u, 0);
}

static void decide_last_successful(brook_consumer_t *c, brook__unit_t *u)
{
        size_t i, f;

        for (f = 0; f < u->batch.cnt; f++)
                if (u->batch.msgs[f]->failed)
                        break;
        if (f == u->batch.cnt)
                return;
        /* Everything from the first failure on is processed again. */
        for (i = f; i < u->batch.cnt; i++)
                u->batch.msgs[i]->state = BROOK__MSG_PENDING;
        if (u->batch.msgs[f]->fails > c->max_retries) {
                exhaust(c, u, u->batch.msgs[f]);
                if (!c->fatal && f + 1 < u->batch.cnt)
                        retry(c, u, 1); /* resume right after it */
                return;
        }
        retry(c, u, 0);
}

void brook__ack_decide(brook_consumer_t *c, brook__unit_t *u)
{
        size_t failed, i;
        int attempt = u->attempt;

        failed = collect(c, u);
        c->n_failed += failed;
        brook__tel_batch_done(c->tel, &u->batch, failed,
                              u->end_us - u->start_us);
        u->state = BROOK__U_DONE; /* unless a decision below says otherwise */

        /* Messages that cannot be decoded never succeed: out at once. */
        if (u->attempt == 0)
                for (i = 0; i < u->cnt && !c->fatal; i++)
                        if (u->msgs[i].permanent &&
                            u->msgs[i].state == BROOK__MSG_PENDING)
                                exhaust(c, u, &u->msgs[i]);

        if (!c->fatal) {
                switch (c->ack) {
                case BROOK__ACK_ALL_OR_NOTHING:
                        decide_all_or_nothing(c, u, failed);
                        break;
                case BROOK__ACK_BEST_EFFORT:
                        decide_best_effort(c, u);
                        break;
                default:
                        decide_last_successful(c, u);
                        break;
                }
        }
        if (failed && brook__log_enabled(&c->log, BROOK_LOG_WARN)) {
                int whole = failed == u->batch.cnt;

                brook__log(&c->log, whole ? BROOK_LOG_ERROR : BROOK_LOG_WARN,
                           whole ? "batch.failed" : "batch.partial_failure",
                           "topic=%s partition=%d first_offset=%lld "
                           "last_offset=%lld count=%zu failed=%zu attempt=%d "
                           "next=%s",
                           u->part->topic, (int)u->part->partition,
                           (long long)brook_batch_first_offset(&u->batch),
                           (long long)brook_batch_last_offset(&u->batch),
                           u->batch.cnt, failed, attempt,
                           u->state == BROOK__U_BACKOFF ? "retry"
                           : u->state == BROOK__U_READY ? "resume"
                                                        : "dead_letter");
        }
        brook__ack_progress(c, u);
}

void brook__ack_progress(brook_consumer_t *c, brook__unit_t *u)
{
        brook__part_t *p = u->part;
        int64_t next;
        size_t i;
        int waiting = 0;

        if (u->orphan)
                return;
        next = brook__ack_committable(u);
        if (next > p->done_next) {
                p->done_next = next;
                c->commit_dirty = 1;
        }
        if (u->state == BROOK__U_READY || u->state == BROOK__U_BACKOFF ||
            u->state == BROOK__U_RUNNING)
                return;
        for (i = 0; i < u->cnt; i++) {
                int s = u->msgs[i].state;

                if (s == BROOK__MSG_DLQ_SENT || s == BROOK__MSG_DLQ_RETRY)
                        waiting = 1;
                else if (s == BROOK__MSG_PENDING)
                        return; /* fatal stop: leave it as it is */
        }
        if (waiting) {
                u->state = BROOK__U_DLQ_WAIT;
                return;
        }
        u->state = BROOK__U_DONE;
        brook__unit_retire(c, u);
}
