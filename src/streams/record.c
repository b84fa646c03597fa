/*
 * streams/record.c: the record accessors and the processor context API
 * (forwarding, stores, metadata, punctuation scheduling).
 */
#include <stdlib.h>
#include <string.h>

#include "streams/task_int.h"

/* ------------------------------------------------------------------ */
/* records                                                             */

const void *brook_record_key(const brook_record_t *rec, size_t *lenp)
{
        if (lenp)
                *lenp = rec && rec->key ? rec->klen : 0;
        return rec ? rec->key : NULL;
}

const void *brook_record_value(const brook_record_t *rec, size_t *lenp)
{
        if (lenp)
                *lenp = rec && rec->value ? rec->vlen : 0;
        return rec ? rec->value : NULL;
}

const char *brook_record_topic(const brook_record_t *rec)
{
        return rec && rec->src ? rd_kafka_topic_name(rec->src->rkt) : NULL;
}

int32_t brook_record_partition(const brook_record_t *rec)
{
        return rec && rec->src ? rec->src->partition : -1;
}

int64_t brook_record_offset(const brook_record_t *rec)
{
        return rec && rec->src ? rec->src->offset : -1;
}

int64_t brook_record_timestamp(const brook_record_t *rec)
{
        return rec ? rec->ts : -1;
}

static rd_kafka_headers_t *src_headers(const brook_record_t *rec)
{
        rd_kafka_headers_t *h;

        if (!rec->src || (rec->flags & BROOK__REC_NO_SRC_HDR) ||
            rd_kafka_message_headers(rec->src, &h))
                return NULL;
        return h;
}

size_t brook_record_header_count(const brook_record_t *rec)
{
        rd_kafka_headers_t *h;

        if (!rec)
                return 0;
        h = src_headers(rec);
        return (h ? rd_kafka_header_cnt(h) : 0) + rec->hdr_cnt;
}

brook_err_t brook_record_header_get(const brook_record_t *rec, size_t idx,
                                    const char **namep, const void **valuep,
                                    size_t *sizep)
{
        rd_kafka_headers_t *h;
        const brook__hdr_t *a;
        size_t n;

        if (!rec)
                return BROOK_ERR_INVALID_ARG;
        h = src_headers(rec);
        n = h ? rd_kafka_header_cnt(h) : 0;
        if (idx < n) {
                const char *name;
                const void *v;
                size_t sz;

                if (rd_kafka_header_get_all(h, idx, &name, &v, &sz))
                        return BROOK_ERR_NOT_FOUND;
                if (namep)
                        *namep = name;
                if (valuep)
                        *valuep = v;
                if (sizep)
                        *sizep = sz;
                return BROOK_OK;
        }
        idx -= n;
        for (a = rec->hdrs; a && idx > 0 && idx < rec->hdr_cnt; a = a->next)
                idx--;
        if (!a || idx >= rec->hdr_cnt)
                return BROOK_ERR_NOT_FOUND;
        if (namep)
                *namep = a->name;
        if (valuep)
                *valuep = a->value;
        if (sizep)
                *sizep = a->size;
        return BROOK_OK;
}

brook_err_t brook_record_header_find(const brook_record_t *rec,
                                     const char *name, const void **valuep,
                                     size_t *sizep)
{
        const brook__hdr_t *a, *last = NULL;
        rd_kafka_headers_t *h;
        size_t i;

        if (!rec || !name)
                return BROOK_ERR_INVALID_ARG;
        for (a = rec->hdrs, i = 0; a && i < rec->hdr_cnt; a = a->next, i++)
                if (!strcmp(a->name, name))
                        last = a;
        if (last) {
                if (valuep)
                        *valuep = last->value;
                if (sizep)
                        *sizep = last->size;
                return BROOK_OK;
        }
        if ((h = src_headers(rec))) {
                const void *v;
                size_t sz;

                if (!rd_kafka_header_get_last(h, name, &v, &sz)) {
                        if (valuep)
                                *valuep = v;
                        if (sizep)
                                *sizep = sz;
                        return BROOK_OK;
                }
        }
        return BROOK_ERR_NOT_FOUND;
}

brook_record_t *brook_ctx_record_new(brook_ctx_t *ctx,
                                     const brook_record_t *parent,
                                     const void *key, size_t key_len,
                                     const void *value, size_t value_len,
                                     int flags)
{
        brook__arena_t *a;
        brook_record_t *r;

        if (!ctx)
                return NULL;
        a = &ctx->task->arena;
        if (!(r = brook__arena_alloc(a, sizeof(*r))))
                return NULL;
        memset(r, 0, sizeof(*r));
        r->flags = BROOK__REC_MINE;
        r->arena = a;
        if (key && !(flags & BROOK_RECORD_F_BORROW) && key_len &&
            !(key = brook__arena_dup(a, key, key_len)))
                return NULL;
        if (value && !(flags & BROOK_RECORD_F_BORROW) && value_len &&
            !(value = brook__arena_dup(a, value, value_len)))
                return NULL;
        r->key = key;
        r->klen = key ? key_len : 0;
        r->value = value;
        r->vlen = value ? value_len : 0;
        if (parent) {
                r->ts = parent->ts;
                r->src = parent->src;
                r->src_idx = parent->src_idx;
                r->flags |= parent->flags & BROOK__REC_NO_SRC_HDR;
                if (!(flags & BROOK_RECORD_F_NO_HEADERS) && parent->hdr_cnt) {
                        r->hdrs = parent->hdrs;
                        r->hdr_tail = parent->hdr_tail;
                        r->hdr_cnt = parent->hdr_cnt;
                        r->flags |= BROOK__REC_HDR_SHARED;
                }
        } else {
                r->ts = ctx->task->stream_time;
                r->src_idx = -1;
        }
        if (flags & BROOK_RECORD_F_NO_HEADERS)
                r->flags |= BROOK__REC_NO_SRC_HDR;
        return r;
}

brook_err_t brook_record_set_timestamp(brook_record_t *rec, int64_t ts)
{
        if (!rec)
                return BROOK_ERR_INVALID_ARG;
        if (!(rec->flags & BROOK__REC_MINE))
                return BROOK_ERR_STATE;
        rec->ts = ts;
        return BROOK_OK;
}

brook_err_t brook_record_header_add(brook_record_t *rec, const char *name,
                                    const void *value, size_t size)
{
        brook__arena_t *a;
        brook__hdr_t *h;
        size_t nl;

        if (!rec || !name)
                return BROOK_ERR_INVALID_ARG;
        if (!(rec->flags & BROOK__REC_MINE) || !(a = rec->arena))
                return BROOK_ERR_STATE;
        if (rec->flags & BROOK__REC_HDR_SHARED) {
                /* Copy the parent's list before appending to it. */
                const brook__hdr_t *p = rec->hdrs;
                size_t i, n = rec->hdr_cnt;

                rec->hdrs = rec->hdr_tail = NULL;
                rec->hdr_cnt = 0;
                for (i = 0; i < n && p; i++, p = p->next) {
                        brook__hdr_t *c = brook__arena_alloc(a, sizeof(*c));

                        if (!c)
                                return BROOK_ERR_NO_MEM;
                        *c = *p;
                        c->next = NULL;
                        if (rec->hdr_tail)
                                rec->hdr_tail->next = c;
                        else
                                rec->hdrs = c;
                        rec->hdr_tail = c;
                        rec->hdr_cnt++;
                }
                rec->flags &= ~BROOK__REC_HDR_SHARED;
        }
        nl = strlen(name) + 1;
        if (!(h = brook__arena_alloc(a, sizeof(*h))) ||
            !(h->name = brook__arena_dup(a, name, nl)))
                return BROOK_ERR_NO_MEM;
        h->value = value ? brook__arena_dup(a, value, size) : NULL;
        if (value && !h->value)
                return BROOK_ERR_NO_MEM;
        h->size = value ? size : 0;
        h->next = NULL;
        if (rec->hdr_tail)
                rec->hdr_tail->next = h;
        else
                rec->hdrs = h;
        rec->hdr_tail = h;
        rec->hdr_cnt++;
        return BROOK_OK;
}

/* ------------------------------------------------------------------ */
/* context                                                             */

static int child_index(const brook_ctx_t *ctx, const char *child)
{
        const brook__node_t *n = ctx->task->env->topo->nodes[ctx->node];
        size_t i;

        for (i = 0; i < n->child_cnt; i++)
                if (!strcmp(ctx->task->env->topo->nodes[n->children[i]]->name,
                            child))
                        return n->children[i];
        return -1;
}

brook_err_t brook_ctx_forward_batch(brook_ctx_t *ctx,
                                    brook_record_t *const *recs, size_t cnt)
{
        const brook__node_t *n;
        brook_err_t err;
        size_t i;

        if (!ctx || (cnt && !recs))
                return BROOK_ERR_INVALID_ARG;
        n = ctx->task->env->topo->nodes[ctx->node];
        for (i = 0; i < n->child_cnt; i++)
                if ((err = brook__task_enqueue(ctx->task, n->children[i], recs,
                                               cnt)))
                        return err;
        return BROOK_OK;
}

brook_err_t brook_ctx_forward(brook_ctx_t *ctx, brook_record_t *rec)
{
        if (!rec)
                return BROOK_ERR_INVALID_ARG;
        return brook_ctx_forward_batch(ctx, &rec, 1);
}

brook_err_t brook_ctx_forward_batch_to(brook_ctx_t *ctx, const char *child,
                                       brook_record_t *const *recs, size_t cnt)
{
        int c;

        if (!ctx || !child || (cnt && !recs))
                return BROOK_ERR_INVALID_ARG;
        if ((c = child_index(ctx, child)) < 0)
                return BROOK_ERR_NOT_FOUND;
        return brook__task_enqueue(ctx->task, c, recs, cnt);
}

brook_err_t brook_ctx_forward_to(brook_ctx_t *ctx, const char *child,
                                 brook_record_t *rec)
{
        if (!rec)
                return BROOK_ERR_INVALID_ARG;
        return brook_ctx_forward_batch_to(ctx, child, &rec, 1);
}

brook_err_t brook_ctx_fail(brook_ctx_t *ctx, brook_record_t *rec,
                           const char *reason)
{
        if (ctx && rec)
                brook__task_fail_record(ctx->task, ctx->node, rec,
                                        reason ? reason : "processor failed");
        return BROOK_ERR_HANDLER;
}

/* The task's store @p name, if the node of @p ctx may use it. */
static brook__tstore_t *ctx_tstore(brook_ctx_t *ctx, const char *name)
{
        const brook__node_t *n;
        brook__task_t *t = ctx->task;
        size_t i, j;

        n = t->env->topo->nodes[ctx->node];
        for (i = 0; i < n->store_cnt; i++) {
                const brook__store_def_t *d =
                    t->env->topo->stores[n->stores[i]];

                if (strcmp(d->name, name))
                        continue;
                for (j = 0; j < t->store_cnt; j++)
                        if (t->stores[j].def == d)
                                return &t->stores[j];
        }
        return NULL;
}

brook_store_t *brook_ctx_store(brook_ctx_t *ctx, const char *name)
{
        brook__tstore_t *ts = ctx && name ? ctx_tstore(ctx, name) : NULL;

        return ts ? ts->store : NULL;
}

/* The store's flush listener, calling the processor's. */
static brook_err_t
tstore_flushed(void *arg, size_t cnt, const void *const *keys,
               const size_t *key_lens, const void *const *values,
               const size_t *value_lens, const int64_t *timestamps)
{
        brook__tstore_t *ts = arg;

        return ts->flush_fn(ts->flush_ctx, cnt, keys, key_lens, values,
                            value_lens, timestamps, ts->flush_opaque);
}

brook_err_t brook_ctx_set_flush_listener(brook_ctx_t *ctx, const char *store,
                                         brook_store_flush_fn *fn, void *opaque)
{
        brook__tstore_t *ts;

        if (!ctx || !store || !fn)
                return BROOK_ERR_INVALID_ARG;
        if (!(ts = ctx_tstore(ctx, store)) || !ts->store)
                return BROOK_ERR_NOT_FOUND;
        if (!brook__store_cached(ts->store))
                return BROOK_ERR_STATE;
        ts->flush_fn = fn;
        ts->flush_ctx = ctx;
        ts->flush_opaque = opaque;
        brook__store_set_flush_listener(ts->store, tstore_flushed, ts);
        return BROOK_OK;
}

const char *brook_ctx_task_id(const brook_ctx_t *ctx)
{
        return ctx ? ctx->task->id : "";
}

int32_t brook_ctx_partition(const brook_ctx_t *ctx)
{
        return ctx ? ctx->task->partition : -1;
}

const char *brook_ctx_node_name(const brook_ctx_t *ctx)
{
        return ctx ? ctx->task->env->topo->nodes[ctx->node]->name : "";
}

int64_t brook_ctx_stream_time(const brook_ctx_t *ctx)
{
        return ctx ? ctx->task->stream_time : -1;
}

brook_err_t brook_ctx_schedule(brook_ctx_t *ctx, int64_t interval_ms,
                               brook_punctuation_type_t type,
                               brook_punctuate_fn *fn, void *arg)
{
        brook__punct_t *p;

        if (!ctx || !fn || interval_ms < 1 ||
            (type != BROOK_PUNCTUATE_STREAM_TIME &&
             type != BROOK_PUNCTUATE_WALL_CLOCK))
                return BROOK_ERR_INVALID_ARG;
        if (!(p = calloc(1, sizeof(*p))))
                return BROOK_ERR_NO_MEM;
        p->node = ctx->node;
        p->interval = interval_ms;
        p->type = type;
        p->fn = fn;
        p->arg = arg;
        if (type == BROOK_PUNCTUATE_WALL_CLOCK)
                p->next = brook__wall_ms() + interval_ms;
        else
                p->next = ctx->task->stream_time >= 0
                              ? ctx->task->stream_time + interval_ms
                              : -1;
        p->next_p = ctx->task->puncts;
        ctx->task->puncts = p;
        return BROOK_OK;
}
