/*
 * streams/task.c: a task's life (create, lock and open stores, start
 * processors, close) and how it runs a source batch through its sub-topology:
 * source deserialization, per-node process_batch or process loop in topological
 * order, sinks, the processing error handler, punctuation. See streams/task.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/changelog.h"
#include "store/checkpoint.h"
#include "kafka/deadletter.h"
#include "streams/task_int.h"

#define CHECKPOINT_FILE ".checkpoint"

static void task_error(brook__task_t *t, brook_err_t code, const char *fmt, ...)
    BROOK__PRINTF(3, 4);
static void drain(brook__task_t *t);
static void batch_done(brook__task_t *t);

/* Record the task's first fatal error. */
static void task_error(brook__task_t *t, brook_err_t code, const char *fmt, ...)
{
        char buf[900];
        va_list ap;

        if (t->fatal)
                return;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        t->fatal = brook__error_new(code, 1, 0, "task %s: %s", t->id, buf);
}

/* ------------------------------------------------------------------ */
/* life                                                                */

brook__task_t *brook__task_new(brook__env_t *env, int sub, int32_t partition,
                               char *errstr, size_t errstr_size)
{
        const brook_topology_t *topo = env->topo;
        const brook__subtopo_t *st = &topo->subs[sub];
        brook__task_t *t = calloc(1, sizeof(*t));
        size_t i, k;

        if (!t)
                goto nomem;
        snprintf(t->id, sizeof(t->id), "%d_%d", sub, (int)partition);
        t->sub = sub;
        t->partition = partition;
        t->env = env;
        t->st = st;
        t->stream_time = -1;
        brook__arena_init(&t->arena, 65536);
        if (!(t->nodes = calloc(topo->node_cnt, sizeof(*t->nodes))))
                goto nomem;
        for (i = 0; i < st->cnt; i++) {
                t->nodes[st->order[i]].ctx.task = t;
                t->nodes[st->order[i]].ctx.node = st->order[i];
        }
        if (!(t->parts = calloc(st->topic_cnt, sizeof(*t->parts))))
                goto nomem;
        for (i = 0; i < st->topic_cnt; i++) {
                brook__tpart_t *p = &t->parts[t->part_cnt++];

                if (!(p->topic = strdup(st->topics[i])))
                        goto nomem;
                p->partition = partition;
                p->src_node = brook__topology_source_of(topo, p->topic, NULL);
                p->next = p->committed = p->seek_to = -1;
        }
        if (st->store_cnt &&
            !(t->stores = calloc(st->store_cnt, sizeof(*t->stores))))
                goto nomem;
        if (asprintf(&t->dir, "%s/%s", env->state_dir, t->id) < 0) {
                t->dir = NULL;
                goto nomem;
        }
        for (k = 0; k < st->store_cnt; k++) {
                const brook__store_def_t *d = topo->stores[st->stores[k]];
                brook__tstore_t *ts = &t->stores[t->store_cnt++];

                ts->def = d;
                ts->start = ts->end = ts->position = -1;
                if (asprintf(&ts->path, "%s/%s", t->dir, d->name) < 0) {
                        ts->path = NULL;
                        goto nomem;
                }
                if (env->changelog &&
                    !(d->flags & BROOK_STORE_F_NO_CHANGELOG) &&
                    asprintf(&ts->changelog, "%s-%s-changelog", env->app_id,
                             d->name) < 0) {
                        ts->changelog = NULL;
                        goto nomem;
                }
        }
        return t;
nomem:
        brook__errstr(errstr, errstr_size, "out of memory creating a task");
        brook__task_destroy(t);
        return NULL;
}

brook_err_t brook__task_open(brook__task_t *t, char *errstr, size_t errstr_size)
{
        brook_err_t err = BROOK_OK;
        size_t i;

        if (!t->lock && !(t->lock = brook_state_dir_lock(t->dir, &err, errstr,
                                                         errstr_size)))
                return err;
        for (i = 0; i < t->store_cnt; i++) {
                brook__tstore_t *ts = &t->stores[i];
                const brook__store_def_t *d = ts->def;

                if (ts->store)
                        continue;
                switch (d->kind) {
                case BROOK_STORE_ROCKSDB:
                        ts->store = brook_store_open_rocksdb(
                            d->name, ts->path, t->env->conf, errstr,
                            errstr_size);
                        break;
                case BROOK_STORE_MEMORY:
                        ts->store = brook_store_open_memory(d->name, errstr,
                                                            errstr_size);
                        break;
                default:
                        if (brook__mkdirs(ts->path)) {
                                brook__errstr(errstr, errstr_size,
                                              "cannot create %s", ts->path);
                                return BROOK_ERR_IO;
                        }
                        ts->store = brook_store_open_custom(
                            d->name, d->backend, ts->path, errstr, errstr_size);
                }
                if (!ts->store)
                        return BROOK_ERR_STORE;
                /* An unlogged in-memory store gains nothing from a
                 * cache in front of it. */
                if (t->env->cache_budget &&
                    (d->kind != BROOK_STORE_MEMORY || ts->changelog) &&
                    brook__store_cache_enable(ts->store, t->env->cache_budget,
                                              &t->stream_time)) {
                        brook__errstr(errstr, errstr_size, "out of memory");
                        return BROOK_ERR_NO_MEM;
                }
                if (ts->changelog) {
                        brook__changelog_t *cl = brook__changelog_new(
                            t->env->prod, ts->changelog, t->partition);

                        if (!cl) {
                                brook__errstr(errstr, errstr_size,
                                              "out of memory");
                                return BROOK_ERR_NO_MEM;
                        }
                        brook__store_set_changelog(ts->store, cl);
                }
        }
        return BROOK_OK;
}

brook_err_t brook__task_start(brook__task_t *t, char *errstr,
                              size_t errstr_size)
{
        const brook_topology_t *topo = t->env->topo;
        size_t i;

        for (i = 0; i < t->st->cnt; i++) {
                int idx = t->st->order[i];
                const brook__node_t *n = topo->nodes[idx];
                brook__node_rt_t *nr = &t->nodes[idx];
                brook_err_t err;

                if (n->type != BROOK__NODE_PROCESSOR) {
                        nr->inited = 1;
                        continue;
                }
                if (n->proc.init &&
                    (err = n->proc.init(
                         &nr->ctx, n->proc.ref ? n->proc.ref->opaque : NULL,
                         &nr->state))) {
                        brook__errstr(errstr, errstr_size,
                                      "task %s: processor %s: init "
                                      "failed: %s",
                                      t->id, n->name, brook_err2str(err));
                        return err;
                }
                nr->inited = 1;
        }
        t->inited = 1;
        t->state = BROOK__TASK_RUNNING;
        return BROOK_OK;
}

void brook__task_destroy(brook__task_t *t)
{
        const brook_topology_t *topo;
        size_t i;

        if (!t)
                return;
        topo = t->env->topo;
        if (t->nodes) {
                for (i = 0; i < t->st->cnt; i++) {
                        int idx = t->st->order[i];
                        const brook__node_t *n = topo->nodes[idx];
                        brook__node_rt_t *nr = &t->nodes[idx];

                        if (nr->inited && n->type == BROOK__NODE_PROCESSOR &&
                            n->proc.close)
                                n->proc.close(&nr->ctx, nr->state);
                        brook__ptrvec_free(&nr->inbox);
                }
        }
        for (i = 0; i < t->store_cnt; i++) {
                brook_store_close(t->stores[i].store);
                free(t->stores[i].path);
                free(t->stores[i].changelog);
        }
        brook_state_dir_unlock(t->lock);
        while (t->puncts) {
                brook__punct_t *p = t->puncts;

                t->puncts = p->next_p;
                free(p);
        }
        for (i = 0; i < t->part_cnt; i++)
                free(t->parts[i].topic);
        free(t->parts);
        free(t->stores);
        free(t->nodes);
        free(t->dir);
        free(t->msgs);
        free(t->failed);
        brook__ptrvec_free(&t->batch);
        brook__arena_free(&t->arena);
        brook_error_destroy(t->fatal);
        free(t);
}

brook__tpart_t *brook__task_part(brook__task_t *t, const char *topic,
                                 int32_t partition)
{
        size_t i;

        if (partition != t->partition)
                return NULL;
        for (i = 0; i < t->part_cnt; i++)
                if (!strcmp(t->parts[i].topic, topic))
                        return &t->parts[i];
        return NULL;
}

/* ------------------------------------------------------------------ */
/* commit cycle pieces                                                 */

brook_err_t brook__task_flush_caches(brook__task_t *t, char *errstr,
                                     size_t errstr_size)
{
        size_t i, pass;
        brook_err_t err = BROOK_OK;
        int any = 1;

        if (t->fatal)
                return brook_error_code(t->fatal);
        /* What a listener forwards can dirty a store further down: one
         * more pass per store at most. */
        t->msg_cnt = 0;
        for (pass = 0; any && pass <= t->store_cnt && !err; pass++) {
                any = 0;
                for (i = 0; i < t->store_cnt && !err && !t->fatal; i++) {
                        brook_store_t *s = t->stores[i].store;

                        if (!s || !brook__store_cache_dirty(s))
                                continue;
                        any = 1;
                        if ((err = brook__store_cache_flush(s))) {
                                brook__errstr(errstr, errstr_size,
                                              "task %s: store %s: cache "
                                              "flush failed: %s",
                                              t->id, t->stores[i].def->name,
                                              *s->errstr ? s->errstr
                                                         : brook_err2str(err));
                                break;
                        }
                        drain(t);
                }
        }
        batch_done(t);
        if (t->fatal)
                return brook_error_code(t->fatal);
        return err;
}

brook_err_t brook__task_flush_stores(brook__task_t *t, char *errstr,
                                     size_t errstr_size)
{
        size_t i;
        brook_err_t err;

        for (i = 0; i < t->store_cnt; i++) {
                if (!t->stores[i].store)
                        continue;
                if ((err = brook_store_flush(t->stores[i].store))) {
                        brook__errstr(errstr, errstr_size, "task %s: %s", t->id,
                                      t->stores[i].store->errstr);
                        return err;
                }
        }
        return BROOK_OK;
}

brook_err_t brook__task_checkpoint(brook__task_t *t, char *errstr,
                                   size_t errstr_size)
{
        brook__ckpt_entry_t e[64];
        char path[4096];
        size_t i, n = 0;

        for (i = 0; i < t->store_cnt && n < 64; i++) {
                brook__tstore_t *ts = &t->stores[i];
                brook__changelog_t *cl;

                /* In-memory stores restore in full: nothing to record. */
                if (!ts->store || !ts->changelog ||
                    ts->def->kind == BROOK_STORE_MEMORY)
                        continue;
                cl = brook__store_changelog(ts->store);
                if (!cl || brook__changelog_offset(cl) < 0)
                        continue;
                snprintf(e[n].store, sizeof(e[n].store), "%s", ts->def->name);
                snprintf(e[n].topic, sizeof(e[n].topic), "%s", ts->changelog);
                e[n].partition = t->partition;
                e[n].offset = brook__changelog_offset(cl);
                n++;
        }
        if (!n)
                return BROOK_OK;
        snprintf(path, sizeof(path), "%s/" CHECKPOINT_FILE, t->dir);
        return brook__checkpoint_write(path, e, n, errstr, errstr_size);
}

void brook__task_drop_checkpoint(brook__task_t *t)
{
        char path[4096];

        snprintf(path, sizeof(path), "%s/" CHECKPOINT_FILE, t->dir);
        brook__checkpoint_delete(path);
}

int64_t brook__task_changelog_failed(const brook__task_t *t)
{
        int64_t n = 0;
        size_t i;

        for (i = 0; i < t->store_cnt; i++) {
                brook__changelog_t *cl =
                    t->stores[i].store
                        ? brook__store_changelog(t->stores[i].store)
                        : NULL;

                if (cl)
                        n += brook__changelog_failed(cl);
        }
        return n;
}

/* ------------------------------------------------------------------ */
/* the processing error handler                                        */

/* Produce the source message to the dead-letter topic (asynchronously;
 * the commit cycle waits for its delivery like for any sink record). */
static brook_err_t dead_letter(brook__task_t *t, int node,
                               const rd_kafka_message_t *src,
                               const char *reason, char *es, size_t es_size)
{
        const brook__env_t *env = t->env;
        brook__dl_info_t info = {
            src, env->app_id, -1, t->id, env->topo->nodes[node]->name, reason};
        char topic[512];

        return brook__dl_send(env->prod, env->dlq_tmpl, &info, NULL, topic,
                              sizeof(topic), es, es_size);
}

void brook__task_fail_record(brook__task_t *t, int node, brook_record_t *rec,
                             const char *reason)
{
        const brook__env_t *env = t->env;
        const rd_kafka_message_t *src = rec->src;
        const char *nname = env->topo->nodes[node]->name;
        char rq[600], es[600];

        if (rec->src_idx >= 0 && (size_t)rec->src_idx < t->msg_cnt) {
                if (t->failed[rec->src_idx])
                        return; /* this source record was handled already */
                t->failed[rec->src_idx] = 1;
        }
        brook__logq(rq, sizeof(rq), reason);
        switch (env->handler) {
        case BROOK__EH_FAIL:
                if (src)
                        task_error(t, BROOK_ERR_HANDLER,
                                   "node %s failed record %s [%d] offset "
                                   "%lld: %s (processing.error.handler=fail)",
                                   nname, rd_kafka_topic_name(src->rkt),
                                   (int)src->partition, (long long)src->offset,
                                   reason);
                else
                        task_error(t, BROOK_ERR_HANDLER,
                                   "node %s failed a punctuator record: %s "
                                   "(processing.error.handler=fail)",
                                   nname, reason);
                return;
        case BROOK__EH_DLQ:
                if (src) {
                        if (dead_letter(t, node, src, reason, es, sizeof(es))) {
                                task_error(t, BROOK_ERR_DEAD_LETTER,
                                           "node %s: dead letter of %s [%d] "
                                           "offset %lld: %s",
                                           nname, rd_kafka_topic_name(src->rkt),
                                           (int)src->partition,
                                           (long long)src->offset, es);
                                return;
                        }
                        BROOK__COUNT(env->counters->dead_lettered, 1);
                        brook__log(
                            env->log, BROOK_LOG_WARN, "record.dead_lettered",
                            "task=%s node=%s topic=%s partition=%d "
                            "offset=%lld reason=%s",
                            t->id, nname, rd_kafka_topic_name(src->rkt),
                            (int)src->partition, (long long)src->offset, rq);
                        return;
                }
                /* A punctuator's record has no origin to dead-letter. */
                /* fall through */
        default:
                BROOK__COUNT(env->counters->skipped, 1);
                brook__log(env->log, BROOK_LOG_WARN, "record.skipped",
                           "task=%s node=%s topic=%s partition=%d "
                           "offset=%lld reason=%s",
                           t->id, nname,
                           src ? rd_kafka_topic_name(src->rkt) : "",
                           src ? (int)src->partition : -1,
                           src ? (long long)src->offset : -1LL, rq);
        }
}

/* ------------------------------------------------------------------ */
/* running the DAG                                                     */

brook_err_t brook__task_enqueue(brook__task_t *t, int child,
                                brook_record_t *const *recs, size_t cnt)
{
        brook__ptrvec_t *in = &t->nodes[child].inbox;

        if (!cnt)
                return BROOK_OK;
        if (in->cnt + cnt > in->cap &&
            brook__ptrvec_reserve(in, BROOK__MAX(in->cap * 2, in->cnt + cnt)))
                return BROOK_ERR_NO_MEM;
        memcpy(in->v + in->cnt, recs, cnt * sizeof(*recs));
        in->cnt += cnt;
        return BROOK_OK;
}

/* Headers for a produced record: source headers, then added ones. */
static rd_kafka_headers_t *out_headers(const brook_record_t *rec)
{
        rd_kafka_headers_t *src = NULL, *h = NULL;
        const brook__hdr_t *a;
        size_t i;

        if (rec->src && !(rec->flags & BROOK__REC_NO_SRC_HDR) &&
            rd_kafka_message_headers(rec->src, &src) ==
                RD_KAFKA_RESP_ERR_NO_ERROR)
                h = rd_kafka_headers_copy(src);
        if (!rec->hdr_cnt)
                return h;
        if (!h)
                h = rd_kafka_headers_new(rec->hdr_cnt);
        for (a = rec->hdrs, i = 0; a && i < rec->hdr_cnt; a = a->next, i++)
                rd_kafka_header_add(h, a->name, -1, a->value,
                                    a->value ? (ssize_t)a->size : 0);
        return h;
}

/*
 * A built-in serializer inline: bytes and string pass through, int64 is
 * written big-endian into @p buf (8 bytes). Returns 1 when done, 0 when
 * the serde table must run (a user serde, or an input it would reject).
 */
static int ser_inline(int kind, const void *in, size_t len, unsigned char *buf,
                      const void **outp, size_t *lenp)
{
        switch (kind) {
        case BROOK__SERDE_BYTES:
        case BROOK__SERDE_STRING:
                *outp = len ? in : "";
                *lenp = len;
                return 1;
        case BROOK__SERDE_INT64: {
                int64_t v;

                if (len != 8)
                        return 0;
                memcpy(&v, in, 8); /* the record's bytes may be unaligned */
                brook_int64_to_be(v, buf);
                *outp = buf;
                *lenp = 8;
                return 1;
        }
        default:
                return 0;
        }
}

static void run_sink(brook__task_t *t, int idx, brook_record_t **recs,
                     size_t cnt)
{
        const brook__env_t *env = t->env;
        const brook__node_t *n = env->topo->nodes[idx];
        rd_kafka_topic_t *rkt = brook__producer_topic(env->prod, n->topic);
        int32_t nparts = env->sink_parts[idx];
        int kkind = brook__serde_kind(&n->kserde);
        int vkind = brook__serde_kind(&n->vserde);
        char es[512];
        size_t i;

        if (!rkt) {
                task_error(t, BROOK_ERR_NO_MEM, "sink %s: no topic handle",
                           n->name);
                return;
        }
        for (i = 0; i < cnt && !t->fatal; i++) {
                brook_record_t *r = recs[i];
                const void *kb = NULL, *vb = NULL;
                size_t kl = 0, vl = 0;
                int32_t part = RD_KAFKA_PARTITION_UA;
                unsigned char kbuf[8], vbuf[8];
                brook_err_t err;

                if (r->key &&
                    !ser_inline(kkind, r->key, r->klen, kbuf, &kb, &kl) &&
                    brook__serde_run(&n->kserde, 1, r->key, r->klen, &t->arena,
                                     &kb, &kl, NULL, es, sizeof(es))) {
                        brook__task_fail_record(t, idx, r, es);
                        continue;
                }
                if (r->value &&
                    !ser_inline(vkind, r->value, r->vlen, vbuf, &vb, &vl) &&
                    brook__serde_run(&n->vserde, 1, r->value, r->vlen,
                                     &t->arena, &vb, &vl, NULL, es,
                                     sizeof(es))) {
                        brook__task_fail_record(t, idx, r, es);
                        continue;
                }
                if (r->value && !vb)
                        vb = ""; /* empty, not null */
                if (r->key && !kb)
                        kb = "";
                if (n->partitioner) {
                        int32_t p = n->partitioner(r, kb, kl, nparts,
                                                   n->partitioner_opaque);

                        if (p >= nparts) {
                                snprintf(es, sizeof(es),
                                         "sink %s: partitioner returned %d "
                                         "of %d partitions",
                                         n->name, (int)p, (int)nparts);
                                brook__task_fail_record(t, idx, r, es);
                                continue;
                        }
                        if (p >= 0)
                                part = p;
                }
                err = brook__producer_send(env->prod, rkt, part, kb, kl, vb, vl,
                                           out_headers(r), r->ts,
                                           env->sink_tracker, es, sizeof(es));
                if (err)
                        brook__task_fail_record(t, idx, r, es);
        }
}

static void run_node(brook__task_t *t, int idx)
{
        const brook__node_t *n = t->env->topo->nodes[idx];
        brook__node_rt_t *nr = &t->nodes[idx];
        brook_record_t **recs = (brook_record_t **)nr->inbox.v;
        size_t cnt = nr->inbox.cnt, i;
        char es[256];
        brook_err_t err;

        if (n->type == BROOK__NODE_SINK) {
                run_sink(t, idx, recs, cnt);
        } else if (n->proc.process_batch) {
                err = n->proc.process_batch(&nr->ctx, recs, cnt, nr->state);
                if (err) {
                        snprintf(es, sizeof(es),
                                 "processor %s: process_batch returned %s",
                                 n->name, brook_err2name(err));
                        for (i = 0; i < cnt && !t->fatal; i++)
                                brook__task_fail_record(t, idx, recs[i], es);
                }
        } else {
                for (i = 0; i < cnt && !t->fatal; i++) {
                        err = n->proc.process(&nr->ctx, recs[i], nr->state);
                        if (!err)
                                continue;
                        snprintf(es, sizeof(es),
                                 "processor %s: process returned %s", n->name,
                                 brook_err2name(err));
                        /* no-op when brook_ctx_fail() handled it */
                        brook__task_fail_record(t, idx, recs[i], es);
                }
        }
        nr->inbox.cnt = 0;
}

/*
 * Run every non-empty inbox in topological order. A cache eviction can
 * forward to a node that already ran in this pass (its listener belongs
 * to another processor than the writer): passes repeat until every inbox
 * is empty.
 */
static void drain(brook__task_t *t)
{
        size_t i, pass;
        int pending = 1;

        for (pass = 0; pending && pass <= t->st->cnt && !t->fatal; pass++) {
                pending = 0;
                for (i = 0; i < t->st->cnt && !t->fatal; i++) {
                        int idx = t->st->order[i];

                        if (t->nodes[idx].inbox.cnt)
                                run_node(t, idx);
                }
                for (i = 0; i < t->st->cnt && !pending; i++)
                        pending = t->nodes[t->st->order[i]].inbox.cnt > 0;
        }
        if (t->fatal || pending)
                for (i = 0; i < t->st->cnt; i++)
                        t->nodes[t->st->order[i]].inbox.cnt = 0;
}

/* Release what a batch used: records, serde output, store reads. */
static void batch_done(brook__task_t *t)
{
        size_t i;

        brook__arena_reset(&t->arena);
        for (i = 0; i < t->store_cnt; i++)
                if (t->stores[i].store)
                        brook_store_release_values(t->stores[i].store);
        t->msg_cnt = 0;
}

static void run_punct(brook__task_t *t, brook__punct_t *p, int64_t ts)
{
        t->msg_cnt = 0;
        p->fn(&t->nodes[p->node].ctx, ts, p->arg);
        drain(t);
        batch_done(t);
}

static void punctuate_stream(brook__task_t *t)
{
        brook__punct_t *p;

        for (p = t->puncts; p && !t->fatal; p = p->next_p) {
                if (p->type != BROOK_PUNCTUATE_STREAM_TIME ||
                    t->stream_time < 0)
                        continue;
                if (p->next < 0) {
                        p->next = t->stream_time + p->interval;
                        continue;
                }
                if (t->stream_time < p->next)
                        continue;
                /* Once per elapsed interval; missed ones are skipped. */
                p->next += p->interval *
                           ((t->stream_time - p->next) / p->interval + 1);
                run_punct(t, p, t->stream_time);
        }
}

void brook__task_punctuate_wall(brook__task_t *t, int64_t now_ms)
{
        brook__punct_t *p;

        if (t->state != BROOK__TASK_RUNNING)
                return;
        for (p = t->puncts; p && !t->fatal; p = p->next_p) {
                if (p->type != BROOK_PUNCTUATE_WALL_CLOCK || now_ms < p->next)
                        continue;
                p->next += p->interval * ((now_ms - p->next) / p->interval + 1);
                run_punct(t, p, now_ms);
        }
}

/*
 * A built-in deserializer inline (zero copy): bytes, and strings that are
 * valid UTF-8. Returns 1 when done, 0 when the serde table must run (a
 * user serde, int64, or an input it will reject with its reason).
 */
static int deser_inline(int kind, const void *in, size_t len, const void **outp,
                        size_t *lenp)
{
        if (kind != BROOK__SERDE_BYTES &&
            (kind != BROOK__SERDE_STRING || !brook__utf8_valid(in, len)))
                return 0;
        *outp = in;
        *lenp = len;
        return 1;
}

/* Deserialize one message into @p r (from the batch's record array);
 * NULL when it failed. */
static brook_record_t *deserialize(brook__task_t *t, const brook__node_t *src,
                                   int kkind, int vkind, brook_record_t *r,
                                   rd_kafka_message_t *m, size_t idx)
{
        char es[512], reason[600];

        memset(r, 0, sizeof(*r));
        r->src = m;
        r->src_idx = (int32_t)idx;
        r->ts = rd_kafka_message_timestamp(m, NULL);
        if (m->key &&
            !deser_inline(kkind, m->key, m->key_len, &r->key, &r->klen) &&
            brook__serde_run(&src->kserde, 0, m->key, m->key_len, &t->arena,
                             &r->key, &r->klen, NULL, es, sizeof(es))) {
                snprintf(reason, sizeof(reason), "key deserialization: %s", es);
                brook__task_fail_record(t, src->idx, r, reason);
                return NULL;
        }
        if (m->payload &&
            !deser_inline(vkind, m->payload, m->len, &r->value, &r->vlen) &&
            brook__serde_run(&src->vserde, 0, m->payload, m->len, &t->arena,
                             &r->value, &r->vlen, NULL, es, sizeof(es))) {
                snprintf(reason, sizeof(reason), "value deserialization: %s",
                         es);
                brook__task_fail_record(t, src->idx, r, reason);
                return NULL;
        }
        if (r->ts > t->stream_time)
                t->stream_time = r->ts;
        return r;
}

brook_err_t brook__task_process(brook__task_t *t, brook__tpart_t *part,
                                rd_kafka_message_t **msgs, size_t cnt)
{
        const brook__node_t *src = t->env->topo->nodes[part->src_node];
        int kkind = brook__serde_kind(&src->kserde);
        int vkind = brook__serde_kind(&src->vserde);
        brook_record_t *recs;
        size_t i;

        if (t->fatal)
                return brook_error_code(t->fatal);
        if (cnt > t->msg_cap) {
                rd_kafka_message_t **m = realloc(t->msgs, cnt * sizeof(*m));
                uint8_t *f = m ? realloc(t->failed, cnt) : NULL;

                if (m)
                        t->msgs = m;
                if (!f) {
                        task_error(t, BROOK_ERR_NO_MEM, "out of memory");
                        return BROOK_ERR_NO_MEM;
                }
                t->failed = f;
                t->msg_cap = cnt;
        }
        memcpy(t->msgs, msgs, cnt * sizeof(*msgs));
        memset(t->failed, 0, cnt);
        t->msg_cnt = cnt;
        t->batch.cnt = 0;
        if (brook__ptrvec_reserve(&t->batch, cnt)) {
                task_error(t, BROOK_ERR_NO_MEM, "out of memory");
                return BROOK_ERR_NO_MEM;
        }
        /* One allocation for the batch's records. */
        if (!(recs = brook__arena_alloc(&t->arena, cnt * sizeof(*recs)))) {
                task_error(t, BROOK_ERR_NO_MEM, "out of memory");
                return BROOK_ERR_NO_MEM;
        }
        for (i = 0; i < cnt && !t->fatal; i++) {
                brook_record_t *r =
                    deserialize(t, src, kkind, vkind, &recs[i], msgs[i], i);

                if (r)
                        t->batch.v[t->batch.cnt++] = r;
        }
        /* The source forwards the batch to each child. */
        for (i = 0; i < src->child_cnt && !t->fatal; i++)
                if (brook__task_enqueue(t, src->children[i],
                                        (brook_record_t **)t->batch.v,
                                        t->batch.cnt))
                        task_error(t, BROOK_ERR_NO_MEM, "out of memory");
        drain(t);
        batch_done(t);
        if (t->fatal)
                return brook_error_code(t->fatal);
        part->next = msgs[cnt - 1]->offset + 1;
        BROOK__COUNT(t->env->counters->processed, cnt);
        BROOK__COUNT(t->env->counters->batches, 1);
        punctuate_stream(t);
        return t->fatal ? brook_error_code(t->fatal) : BROOK_OK;
}
