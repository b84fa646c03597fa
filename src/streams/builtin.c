/*
 * streams/builtin.c: built-in processors: map, filter, flat_map, peek and
 * the batch count aggregator (the plan's BatchCountAggregator).
 *
 * Each built-in has a batch path; forwarded records gather in the
 * children's inboxes either way, so children receive them as one batch.
 * The count aggregator is where batching pays: per batch it sums the
 * increments per key in memory, reads every key's total with one get_batch
 * (a RocksDB MultiGet, or the record cache) and writes the new totals with
 * one put_batch (one WriteBatch and changelog produce batch, or the
 * cache). With a record cache it emits on flush: its flush listener
 * forwards the latest count per key when the cache flushes, as Kafka
 * Streams' count() does with caching; without one it forwards one record
 * per key per batch (per record on the record path).
 */
#include <stdlib.h>
#include <string.h>

#include "brook/streams.h"
#include "core/core.h"
#include "core/util.h"

typedef struct fn_cfg_s {
        void *fn;
        void *opaque;
} fn_cfg_t;

static brook_err_t cfg_init(brook_ctx_t *ctx, void *opaque, void **statep)
{
        (void)ctx;
        *statep = opaque; /* read-only, shared by every task */
        return BROOK_OK;
}

static brook_processor_t *fn_proc(void *fn, void *opaque,
                                  brook_proc_process_fn *process,
                                  brook_proc_process_batch_fn *batch)
{
        brook_processor_t *p;
        fn_cfg_t *cfg;

        if (!fn || !(cfg = malloc(sizeof(*cfg))))
                return NULL;
        if (!(p = brook_processor_new())) {
                free(cfg);
                return NULL;
        }
        cfg->fn = fn;
        cfg->opaque = opaque;
        brook_processor_set_opaque(p, cfg, free);
        brook_processor_set_init(p, cfg_init, NULL);
        brook_processor_set_process(p, process);
        brook_processor_set_process_batch(p, batch);
        return p;
}

/* ---- map ---- */

static brook_err_t map_one(brook_ctx_t *ctx, brook_record_t *rec,
                           const fn_cfg_t *cfg)
{
        brook_record_t *out = NULL;
        brook_err_t err =
            ((brook_map_fn *)cfg->fn)(ctx, rec, &out, cfg->opaque);

        if (err)
                return err;
        return out ? brook_ctx_forward(ctx, out) : BROOK_OK;
}

static brook_err_t map_process(brook_ctx_t *ctx, brook_record_t *rec,
                               void *state)
{
        return map_one(ctx, rec, state);
}

/* The outputs go to the children in runs of up to 256 (one inbox append
 * per run, not per record), in record order. */
static brook_err_t map_batch(brook_ctx_t *ctx, brook_record_t *const *recs,
                             size_t cnt, void *state)
{
        const fn_cfg_t *cfg = state;
        brook_record_t *out[256];
        size_t i, n = 0;
        brook_err_t err;

        for (i = 0; i < cnt; i++) {
                brook_record_t *o = NULL;

                if (((brook_map_fn *)cfg->fn)(ctx, recs[i], &o, cfg->opaque)) {
                        brook_ctx_fail(ctx, recs[i], "map failed");
                        continue;
                }
                if (o)
                        out[n++] = o;
                if (n == 256 || (n && i + 1 == cnt)) {
                        if ((err = brook_ctx_forward_batch(ctx, out, n)))
                                return err;
                        n = 0;
                }
        }
        return n ? brook_ctx_forward_batch(ctx, out, n) : BROOK_OK;
}

brook_processor_t *brook_proc_map_new(brook_map_fn *fn, void *opaque)
{
        return fn_proc((void *)fn, opaque, map_process, map_batch);
}

/* ---- filter ---- */

static brook_err_t filter_process(brook_ctx_t *ctx, brook_record_t *rec,
                                  void *state)
{
        const fn_cfg_t *cfg = state;

        if (((brook_filter_fn *)cfg->fn)(rec, cfg->opaque))
                return brook_ctx_forward(ctx, rec);
        return BROOK_OK;
}

static brook_err_t filter_batch(brook_ctx_t *ctx, brook_record_t *const *recs,
                                size_t cnt, void *state)
{
        const fn_cfg_t *cfg = state;
        size_t i, run = 0;
        brook_err_t err;

        /* Forward runs of kept records without copying the array. */
        for (i = 0; i < cnt; i++) {
                if (((brook_filter_fn *)cfg->fn)(recs[i], cfg->opaque))
                        continue;
                if (i > run &&
                    (err = brook_ctx_forward_batch(ctx, recs + run, i - run)))
                        return err;
                run = i + 1;
        }
        return cnt > run ? brook_ctx_forward_batch(ctx, recs + run, cnt - run)
                         : BROOK_OK;
}

brook_processor_t *brook_proc_filter_new(brook_filter_fn *fn, void *opaque)
{
        return fn_proc((void *)fn, opaque, filter_process, filter_batch);
}

/* ---- flat_map ---- */

static brook_err_t flat_map_process(brook_ctx_t *ctx, brook_record_t *rec,
                                    void *state)
{
        const fn_cfg_t *cfg = state;

        return ((brook_flat_map_fn *)cfg->fn)(ctx, rec, cfg->opaque);
}

static brook_err_t flat_map_batch(brook_ctx_t *ctx, brook_record_t *const *recs,
                                  size_t cnt, void *state)
{
        size_t i;

        for (i = 0; i < cnt; i++)
                if (flat_map_process(ctx, recs[i], state))
                        brook_ctx_fail(ctx, recs[i], "flat_map failed");
        return BROOK_OK;
}

brook_processor_t *brook_proc_flat_map_new(brook_flat_map_fn *fn, void *opaque)
{
        return fn_proc((void *)fn, opaque, flat_map_process, flat_map_batch);
}

/* ---- peek ---- */

static brook_err_t peek_process(brook_ctx_t *ctx, brook_record_t *rec,
                                void *state)
{
        const fn_cfg_t *cfg = state;

        ((brook_peek_fn *)cfg->fn)(rec, cfg->opaque);
        return brook_ctx_forward(ctx, rec);
}

static brook_err_t peek_batch(brook_ctx_t *ctx, brook_record_t *const *recs,
                              size_t cnt, void *state)
{
        const fn_cfg_t *cfg = state;
        size_t i;

        for (i = 0; i < cnt; i++)
                ((brook_peek_fn *)cfg->fn)(recs[i], cfg->opaque);
        return brook_ctx_forward_batch(ctx, recs, cnt);
}

brook_processor_t *brook_proc_peek_new(brook_peek_fn *fn, void *opaque)
{
        return fn_proc((void *)fn, opaque, peek_process, peek_batch);
}

/* ---- batch count aggregator ---- */

typedef struct count_cfg_s {
        char *store;
        int flags;
} count_cfg_t;

typedef struct count_state_s {
        const count_cfg_t *cfg;
        brook_store_t *store;
        int on_flush; /* the flush listener forwards, not the batch */
        /* per batch: distinct keys */
        size_t cap;     /* capacity of the arrays below */
        size_t hcap;    /* hash slots (power of two) */
        int32_t *slots; /* index into the arrays, -1: free */
        const void **keys;
        size_t *klens;
        int64_t *incr;
        size_t *last; /* index of the key's last record */
        const void **vals;
        size_t *vlens;
        unsigned char *buf; /* 8-byte big-endian totals */
        int64_t *totals;
} count_state_t;

static void count_cfg_free(void *p)
{
        count_cfg_t *cfg = p;

        if (cfg) {
                free(cfg->store);
                free(cfg);
        }
}

static void count_state_free(count_state_t *st)
{
        if (!st)
                return;
        free(st->slots);
        free(st->keys);
        free(st->klens);
        free(st->incr);
        free(st->last);
        free(st->vals);
        free(st->vlens);
        free(st->buf);
        free(st->totals);
        free(st);
}

/* Emit on flush: (key, count as a host int64) per flushed key. */
static brook_err_t
count_flushed(brook_ctx_t *ctx, size_t cnt, const void *const *keys,
              const size_t *key_lens, const void *const *values,
              const size_t *value_lens, const int64_t *timestamps, void *opaque)
{
        size_t i;

        (void)opaque;
        for (i = 0; i < cnt; i++) {
                int64_t total;
                brook_record_t *out;
                brook_err_t err;

                if (!values[i] || value_lens[i] != 8) {
                        out = brook_ctx_record_new(ctx, NULL, keys[i],
                                                   key_lens[i], NULL, 0, 0);
                } else {
                        total = brook_int64_from_be(values[i]);
                        out = brook_ctx_record_new(ctx, NULL, keys[i],
                                                   key_lens[i], &total, 8, 0);
                }
                if (!out)
                        return BROOK_ERR_NO_MEM;
                brook_record_set_timestamp(out, timestamps[i]);
                if ((err = brook_ctx_forward(ctx, out)))
                        return err;
        }
        return BROOK_OK;
}

static brook_err_t count_init(brook_ctx_t *ctx, void *opaque, void **statep)
{
        const count_cfg_t *cfg = opaque;
        count_state_t *st = calloc(1, sizeof(*st));

        if (!st)
                return BROOK_ERR_NO_MEM;
        st->cfg = cfg;
        if (!(st->store = brook_ctx_store(ctx, cfg->store))) {
                free(st);
                return BROOK_ERR_NOT_FOUND; /* store not attached */
        }
        st->on_flush = brook_ctx_set_flush_listener(
                           ctx, cfg->store, count_flushed, st) == BROOK_OK;
        *statep = st;
        return BROOK_OK;
}

static void count_close(brook_ctx_t *ctx, void *state)
{
        (void)ctx;
        count_state_free(state);
}

static brook_err_t count_reserve(count_state_t *st, size_t n)
{
        size_t h = 16;

        if (n <= st->cap)
                return BROOK_OK;
        while (h < n * 2)
                h <<= 1;
#define GROW(f)                                                                \
        do {                                                                   \
                void *p_ = realloc(st->f, n * sizeof(*st->f));                 \
                if (!p_)                                                       \
                        return BROOK_ERR_NO_MEM;                               \
                st->f = p_;                                                    \
        } while (0)
        GROW(keys);
        GROW(klens);
        GROW(incr);
        GROW(last);
        GROW(vals);
        GROW(vlens);
        GROW(totals);
#undef GROW
        {
                unsigned char *b = realloc(st->buf, n * 8);
                int32_t *s = b ? realloc(st->slots, h * sizeof(*s)) : NULL;

                if (b)
                        st->buf = b;
                if (!s)
                        return BROOK_ERR_NO_MEM;
                st->slots = s;
        }
        st->cap = n;
        st->hcap = h;
        return BROOK_OK;
}

static brook_err_t count_process(brook_ctx_t *ctx, brook_record_t *rec,
                                 void *state)
{
        count_state_t *st = state;
        size_t kl;
        const void *k = brook_record_key(rec, &kl);
        brook_record_t *out;
        int64_t total;
        brook_err_t err;

        if (!k)
                return BROOK_OK; /* null keys are not counted */
        if ((err = brook_store_add_int64(st->store, k, kl, 1, &total)))
                return brook_ctx_fail(ctx, rec, "count: store update failed");
        if (st->on_flush)
                return BROOK_OK;
        if (!(out = brook_ctx_record_new(ctx, rec, k, kl, &total, 8, 0)))
                return BROOK_ERR_NO_MEM;
        return brook_ctx_forward(ctx, out);
}

static brook_err_t count_batch(brook_ctx_t *ctx, brook_record_t *const *recs,
                               size_t cnt, void *state)
{
        count_state_t *st = state;
        size_t i, n = 0;
        brook_err_t err;

        if ((err = count_reserve(st, cnt)))
                return err;
        memset(st->slots, 0xff, st->hcap * sizeof(*st->slots));
        /* 1. sum per key, in memory */
        for (i = 0; i < cnt; i++) {
                size_t kl, h;
                const void *k = brook_record_key(recs[i], &kl);

                if (!k)
                        continue;
                h = (size_t)brook__hash(k, kl) & (st->hcap - 1);
                while (st->slots[h] >= 0 &&
                       brook__keycmp(st->keys[st->slots[h]],
                                     st->klens[st->slots[h]], k, kl))
                        h = (h + 1) & (st->hcap - 1);
                if (st->slots[h] < 0) {
                        st->slots[h] = (int32_t)n;
                        st->keys[n] = k;
                        st->klens[n] = kl;
                        st->incr[n] = 0;
                        n++;
                }
                st->incr[st->slots[h]]++;
                st->last[st->slots[h]] = i;
        }
        if (!n)
                return BROOK_OK;
        /* 2. read the totals */
        if (st->cfg->flags & BROOK_COUNT_F_SINGLE_STORE_OPS) {
                for (i = 0; i < n && !err; i++)
                        err = brook_store_get(st->store, st->keys[i],
                                              st->klens[i], &st->vals[i],
                                              &st->vlens[i]);
        } else {
                err = brook_store_get_batch(st->store, n, st->keys, st->klens,
                                            st->vals, st->vlens);
        }
        if (err)
                return err;
        for (i = 0; i < n; i++) {
                int64_t cur = st->vals[i] && st->vlens[i] == 8
                                  ? brook_int64_from_be(st->vals[i])
                                  : 0;

                st->totals[i] = cur + st->incr[i];
                brook_int64_to_be(st->totals[i], st->buf + i * 8);
                st->vals[i] = st->buf + i * 8;
                st->vlens[i] = 8;
        }
        /* 3. write them */
        if (st->cfg->flags & BROOK_COUNT_F_SINGLE_STORE_OPS) {
                for (i = 0; i < n && !err; i++)
                        err = brook_store_put(st->store, st->keys[i],
                                              st->klens[i], st->vals[i], 8);
        } else {
                err = brook_store_put_batch(st->store, n, st->keys, st->klens,
                                            st->vals, st->vlens);
        }
        if (err || st->on_flush)
                return err;
        /* 4. one output per key, with the metadata of its last record */
        for (i = 0; i < n; i++) {
                brook_record_t *out =
                    brook_ctx_record_new(ctx, recs[st->last[i]], st->keys[i],
                                         st->klens[i], &st->totals[i], 8, 0);

                if (!out)
                        return BROOK_ERR_NO_MEM;
                if ((err = brook_ctx_forward(ctx, out)))
                        return err;
        }
        return BROOK_OK;
}

brook_processor_t *brook_proc_batch_count_new(const char *store_name, int flags)
{
        brook_processor_t *p;
        count_cfg_t *cfg;

        if (!store_name || !(cfg = calloc(1, sizeof(*cfg))))
                return NULL;
        if (!(cfg->store = strdup(store_name)) ||
            !(p = brook_processor_new())) {
                count_cfg_free(cfg);
                return NULL;
        }
        cfg->flags = flags;
        brook_processor_set_opaque(p, cfg, count_cfg_free);
        brook_processor_set_init(p, count_init, count_close);
        brook_processor_set_process(p, count_process);
        if (!(flags & BROOK_COUNT_F_RECORD_ONLY))
                brook_processor_set_process_batch(p, count_batch);
        return p;
}
