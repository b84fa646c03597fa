/*
 * consumer/rebalance.c: partitions come and go. On revocation a partition's
 * batches that have not started are given up, running ones finish and are
 * acknowledged, its offsets are committed (bounded by shutdown.timeout.ms
 * and the brokers' reachability), then it is released; a lost partition
 * is released at once, committing nothing. New partitions start clean.
 *
 * @locality the consumer's run() thread.
 */
#include <string.h>

#include "consumer/consumer.h"

void brook__part_reset(brook_consumer_t *c, brook__part_t *p)
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

/* Running batches complete and are acknowledged, dead letters are
 * confirmed. Nothing new starts. */
void brook__drain(brook_consumer_t *c, rd_kafka_topic_partition_list_t *l)
{
        int64_t deadline = brook__now_us() + c->shutdown_timeout_us;

        while (busy(c, l) && brook__now_us() < deadline) {
                if (c->pool)
                        brook__pool_wait(c->pool, 10000);
                brook__work_collect(c);
                brook__dlq_poll(c, c->dlq && !c->pool ? 10 : 0);
                brook__work_timers(c, brook__now_us()); /* DLQ re-sends */
        }
}

void brook__part_release(brook_consumer_t *c, brook__part_t *p)
{
        brook__unit_t *u = p->unit;

        if (p->paused) {
                /* librdkafka keeps a partition's pause across a rebalance:
                 * resume it now, or it stays paused for good if the next
                 * assignment gives it back to us (part_reset forgets). */
                rd_kafka_topic_partition_list_t *l =
                    rd_kafka_topic_partition_list_new(1);

                rd_kafka_topic_partition_list_add(l, p->topic, p->partition);
                brook__set_paused(c, l, 0);
                rd_kafka_topic_partition_list_destroy(l);
        }
        if (u) {
                brook__unqueue(c, u);
                if (u->state == BROOK__U_RUNNING || u->dlq_pending > 0) {
                        brook__unit_orphan(c, u);
                } else {
                        brook__retry_mem_save(c, u);
                        brook__unit_retire(c, u);
                }
        }
        brook__part_reset(c, p);
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
                                brook__unqueue(c, p->unit);
                                p->unit->state = BROOK__U_BACKOFF;
                                p->unit->retry_at_us = 0;
                        }
                }
                brook__drain(c, l);
                brook__commit_sync(c, l, brook__broker_deadline(c));
        }
        for (i = 0; i < l->cnt; i++) {
                brook__part_t *p = brook__part_find(c, l->elems[i].topic,
                                                    l->elems[i].partition);

                if (p && p->owned)
                        brook__part_release(c, p);
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
                brook__part_reset(c, p);
                p->owned = 1;
                if (c->h.partitions)
                        c->h.partitions(p->topic, p->partition, 1, c->opaque);
        }
        brook__log(&c->log, BROOK_LOG_INFO, "partitions.assigned", "count=%d",
                   l->cnt);
}

void brook__rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *l, void *opaque)
{
        brook_consumer_t *c = brook__kclient_owner(opaque);
        rd_kafka_resp_err_t rerr;

        if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
                parts_assign(c, l);
                /* librdkafka keeps a partition's pause flag across
                 * assignments: start every new one fetching. */
                if (!(rerr = brook__kafka_rebalance(rk, err, l)))
                        rd_kafka_resume_partitions(rk, l);
        } else {
                parts_revoke(c, l, rd_kafka_assignment_lost(rk));
                rerr = brook__kafka_rebalance(rk, err, l);
        }
        if (rerr)
                brook__log(&c->log, BROOK_LOG_ERROR, "rebalance.failed",
                           "error=%s", rd_kafka_err2name(rerr));
}
