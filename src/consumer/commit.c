/*
 * consumer/commit.c: committing what is done. An offset means "everything
 * before it is processed or durably dead-lettered" (consumer/ack.c moves it);
 * it is committed asynchronously after each batch or every commit.interval.ms,
 * with at most one commit in flight, and synchronously (bounded) at
 * revocation and shutdown. Nothing is committed for a partition that is
 * no longer ours.
 *
 * @locality the consumer's run() thread.
 */
#include <string.h>

#include "consumer/consumer.h"

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
void brook__commit_sync(brook_consumer_t *c,
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
void brook__commit_maybe(brook_consumer_t *c, int64_t now)
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

void brook__commit_wait(brook_consumer_t *c, int64_t deadline_us)
{
        /* The result of an asynchronous commit still in flight holds
         * librdkafka resources until served. */
        while (c->commit_inflight && brook__now_us() < deadline_us)
                rd_kafka_queue_poll_callback(c->commit_q, 10);
}
