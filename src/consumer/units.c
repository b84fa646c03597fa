/*
 * consumer/units.c: the batch consumer's partitions and units. A partition
 * (brook__part_t) accumulates messages; closing a batch turns a prefix of
 * them into a unit (brook__unit_t), the batch being worked on, which lives
 * until every message in it is processed or dead-lettered. Also the ready
 * queue, failure counts remembered across revocations, and the consumer's
 * fatal error.
 *
 * @locality the consumer's run() thread.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "consumer/consumer.h"

/* ------------------------------------------------------------------ */
/* partitions                                                          */

static size_t part_hash(const char *topic, int32_t partition)
{
        uint32_t h = 2166136261u;

        while (*topic)
                h = (h ^ (uint8_t)*topic++) * 16777619u;
        return (h ^ (uint32_t)partition * 2654435761u) % BROOK__NBUCKETS;
}

brook__part_t *brook__part_find(brook_consumer_t *c, const char *topic,
                                int32_t partition)
{
        brook__part_t *p;

        if (c->last && c->last->partition == partition &&
            !strcmp(c->last->topic, topic))
                return c->last;
        for (p = c->buckets[part_hash(topic, partition)]; p; p = p->hnext)
                if (p->partition == partition && !strcmp(p->topic, topic))
                        return c->last = p;
        return NULL;
}

brook__part_t *brook__part_get(brook_consumer_t *c, const char *topic,
                               int32_t partition)
{
        brook__part_t *p = brook__part_find(c, topic, partition);
        size_t b;

        if (p)
                return p;
        if (c->nparts == c->parts_cap) {
                size_t cap = c->parts_cap ? c->parts_cap * 2 : 64;
                brook__part_t **a = realloc(c->parts, cap * sizeof(*a));

                if (!a)
                        return NULL;
                c->parts = a;
                c->parts_cap = cap;
        }
        if (!(p = calloc(1, sizeof(*p))) || !(p->topic = strdup(topic))) {
                free(p);
                return NULL;
        }
        p->partition = partition;
        p->done_next = -1;
        p->committed = -1;
        p->confirmed = -1;
        b = part_hash(topic, partition);
        p->hnext = c->buckets[b];
        c->buckets[b] = p;
        c->parts[c->nparts++] = p;
        return p;
}

/* ------------------------------------------------------------------ */
/* units                                                               */

void brook__unit_free(brook__unit_t *u)
{
        if (!u)
                return;
        free(u->msgs);
        free(u->view);
        free(u);
}

/* Destroy the unit's messages (and what the decoder made of them). */
void brook__unit_drop_msgs(brook_consumer_t *c, brook__unit_t *u)
{
        size_t i;

        for (i = 0; i < u->cnt; i++) {
                brook_msg_t *m = &u->msgs[i];

                if (m->decoded && c->h.decoded_free)
                        c->h.decoded_free(m->decoded, c->opaque);
                brook__msg_release(m);
                if (c->ngrave == BROOK__GRAVE_MAX)
                        brook__grave_flush(c);
                c->grave[c->ngrave++] = m->rkm;
                m->rkm = NULL;
        }
        c->held_bytes -= u->bytes;
        u->cnt = 0;
        u->bytes = 0;
}

void brook__grave_flush(brook_consumer_t *c)
{
        size_t i;

        for (i = 0; i < c->ngrave; i++)
                rd_kafka_message_destroy(c->grave[i]);
        c->ngrave = 0;
}

void brook__unit_retire(brook_consumer_t *c, brook__unit_t *u)
{
        brook__part_t *p = u->part;

        assert(!u->orphan && p->unit == u);
        brook__unit_drop_msgs(c, u);
        p->unit = NULL;
        if (!p->spare)
                p->spare = u;
        else
                brook__unit_free(u);
}

/* Detach a unit that is still in use from its (revoked) partition. */
void brook__unit_orphan(brook_consumer_t *c, brook__unit_t *u)
{
        u->part->unit = NULL;
        u->orphan = 1;
        brook__list_push(&c->orphans, &u->olink);
}

void brook__unit_release_orphans(brook_consumer_t *c)
{
        brook__link_t *l, *next;

        for (l = c->orphans.next; l != &c->orphans; l = next) {
                brook__unit_t *u = BROOK__UNIT_O(l);

                next = l->next;
                if (u->state == BROOK__U_RUNNING || u->dlq_pending > 0)
                        continue;
                brook__list_remove(&u->olink);
                brook__unit_drop_msgs(c, u);
                brook__unit_free(u);
        }
}

/* Remember the failure counts of @p u's unfinished messages. */
void brook__retry_mem_save(brook_consumer_t *c, const brook__unit_t *u)
{
        size_t i;

        for (i = 0; i < u->cnt; i++) {
                const brook_msg_t *m = &u->msgs[i];
                brook__retry_mem_t *e;

                if (m->fails == 0 || m->state == BROOK__MSG_OK ||
                    m->state == BROOK__MSG_DEAD)
                        continue;
                e = &c->retry_mem[c->retry_mem_next];
                c->retry_mem_next = (c->retry_mem_next + 1) % BROOK__RETRY_MEM;
                if (!e->part)
                        c->retry_mem_cnt++;
                e->part = u->part;
                e->offset = m->rkm->offset;
                e->fails = m->fails;
        }
}

/* Restore remembered failure counts into a new unit's messages. */
static void retry_mem_load(brook_consumer_t *c, brook__unit_t *u)
{
        size_t i, j;

        for (j = 0; j < BROOK__RETRY_MEM && c->retry_mem_cnt > 0; j++) {
                brook__retry_mem_t *e = &c->retry_mem[j];

                if (e->part != u->part || e->offset < u->msgs[0].rkm->offset ||
                    e->offset > u->msgs[u->cnt - 1].rkm->offset)
                        continue;
                for (i = 0; i < u->cnt; i++)
                        if (u->msgs[i].rkm->offset == e->offset)
                                u->msgs[i].fails = e->fails;
                e->part = NULL;
                c->retry_mem_cnt--;
        }
}

/* Close the partition's next batch into a unit, if it has none. */
static int part_close(brook_consumer_t *c, brook__part_t *p)
{
        brook__unit_t *u = p->spare;
        rd_kafka_message_t **tmp;
        size_t n, i, need = BROOK__MIN(p->acc.cnt, c->lim.size);

        assert(!p->unit && p->acc.cnt > 0);
        if (u)
                p->spare = NULL;
        else if (!(u = calloc(1, sizeof(*u))))
                return -1;
        else {
                brook__list_init(&u->qlink);
                brook__list_init(&u->olink);
        }
        if (u->cap < need) {
                brook_msg_t *m = realloc(u->msgs, need * sizeof(*m));
                brook_msg_t **v =
                    m ? realloc(u->view, need * sizeof(*v)) : NULL;

                if (m)
                        u->msgs = m;
                if (!m || !v) {
                        brook__unit_free(u);
                        return -1;
                }
                u->view = v;
                u->cap = need;
        }
        /* Take the prefix straight into the view array, then wrap. */
        tmp = (rd_kafka_message_t **)u->view;
        n = brook__acc_take(&p->acc, &c->lim, tmp, need, &u->bytes);
        for (i = n; i-- > 0;) {
                rd_kafka_message_t *rkm = tmp[i];

                memset(&u->msgs[i], 0, sizeof(u->msgs[i]));
                u->msgs[i].rkm = rkm;
                u->msgs[i].owner = u;
        }
        u->c = c;
        u->part = p;
        u->cnt = n;
        if (c->retry_mem_cnt > 0)
                retry_mem_load(c, u);
        u->state = BROOK__U_READY;
        u->attempt = 0;
        u->retry_at_us = 0;
        u->dlq_pending = 0;
        u->dlq_retries = 0;
        u->orphan = 0;
        u->timeout_reported = 0;
        p->unit = u;
        brook__enqueue(c, u);
        return 0;
}

void brook__maybe_close(brook_consumer_t *c, brook__part_t *p, int64_t now,
                        int force)
{
        if (p->unit || !p->owned || c->stopping || !p->acc.cnt)
                return;
        if (!force && !brook__acc_ready(&p->acc, &c->lim, now))
                return;
        if (part_close(c, p))
                brook__consumer_set_fatal(
                    c, brook__error_new(BROOK_ERR_NO_MEM, 1, 0,
                                        "out of memory closing a batch"));
}

void brook__enqueue(brook_consumer_t *c, brook__unit_t *u)
{
        brook__list_push(&c->ready, &u->qlink);
}

/* Take @p u off the ready queue if it is there. Only READY units are
 * (a RUNNING one's qlink may be in the worker pool's queues, which this
 * thread must not touch). */
void brook__unqueue(brook_consumer_t *c, brook__unit_t *u)
{
        (void)c;
        if (u->state == BROOK__U_READY && brook__list_linked(&u->qlink))
                brook__list_remove(&u->qlink);
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
