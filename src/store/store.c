/*
 * store/store.c: the store API over the backends (store/rocksdb.c,
 * store/memory.c, user tables in store/custom.c): argument checks, read
 * results kept until released, changelog logging of every write, the
 * record cache in front of backend and changelog, int64 helpers, range
 * iterators, restoration and wipe hooks.
 *
 * With a record cache (store/cache.h) a write only updates the cache;
 * reads go through it (a backend hit is cached clean); a flush writes the
 * dirty entries, the latest value per key, as one backend batch and one
 * changelog produce batch, then hands them to the flush listener. Flushes
 * happen in the commit cycle, when the thread's cache budget is exceeded
 * and the eldest entry is dirty (Kafka Streams' NamedCache does the same),
 * and before a range iteration. Closing a store drops its cache unwritten:
 * the commit cycle flushed what may be kept, and a lost task must not
 * write.
 */
#include <stdlib.h>
#include <string.h>

#include "store/changelog.h"
#include "store/store.h"

struct brook_store_iter_s {
        brook_store_t *s;
        void *from, *to; /* owned copies, NULL: open end */
        size_t from_len, to_len;
        void *last; /* last key returned (owned), NULL before the first */
        size_t last_len, last_cap;
        void *val; /* last value returned (owned) */
        size_t val_len, val_cap;
        brook_err_t err;
        int done;
};

brook_store_t *brook__store_alloc(const char *name, brook_store_kind_t kind)
{
        brook_store_t *s = calloc(1, sizeof(*s));

        if (!s || !(s->name = strdup(name ? name : "store"))) {
                free(s);
                return NULL;
        }
        s->kind = kind;
        brook__arena_init(&s->values, 16384);
        return s;
}

static void scratch_free(brook__store_scratch_t *sc)
{
        free(sc->keys);
        free(sc->vals);
        free(sc->klens);
        free(sc->vlens);
        free(sc->ts);
        free(sc->hash);
        free(sc->idx);
        memset(sc, 0, sizeof(*sc));
}

static int scratch_reserve(brook__store_scratch_t *sc, size_t n)
{
        size_t cap = sc->cap ? sc->cap : 64;

        if (n <= sc->cap)
                return 0;
        while (cap < n)
                cap *= 2;
#define GROW(f)                                                                \
        do {                                                                   \
                void *p_ = realloc((void *)sc->f, cap * sizeof(*sc->f));       \
                if (!p_)                                                       \
                        return -1;                                             \
                sc->f = p_;                                                    \
        } while (0)
        GROW(keys);
        GROW(vals);
        GROW(klens);
        GROW(vlens);
        GROW(ts);
        GROW(hash);
        GROW(idx);
#undef GROW
        sc->cap = cap;
        return 0;
}

void brook__store_free(brook_store_t *s)
{
        brook__cache_destroy(s->cache);
        scratch_free(&s->fl);
        scratch_free(&s->mg);
        brook__changelog_destroy(s->changelog);
        brook__arena_free(&s->values);
        free(s->name);
        free(s);
}

void brook_store_close(brook_store_t *s)
{
        if (!s)
                return;
        if (s->impl) {
                if (s->impl->flush)
                        s->impl->flush(s);
                s->impl->close(s);
        }
        brook__store_free(s);
}

const char *brook_store_name(const brook_store_t *s)
{
        return s ? s->name : "";
}

brook_store_kind_t brook_store_kind(const brook_store_t *s)
{
        return s->kind;
}

const void *brook__store_keep(brook_store_t *s, const void *v, size_t len)
{
        return brook__arena_dup(&s->values, v, len);
}

void brook_store_release_values(brook_store_t *s)
{
        if (s)
                brook__arena_reset(&s->values);
}

void brook__store_set_changelog(brook_store_t *s, brook__changelog_t *cl)
{
        brook__changelog_destroy(s->changelog);
        s->changelog = cl;
}

brook__changelog_t *brook__store_changelog(brook_store_t *s)
{
        return s->changelog;
}

/* ---- record cache ---- */

static brook_err_t store_write_through(brook_store_t *s, size_t cnt,
                                       const void *const *keys,
                                       const size_t *klens,
                                       const void *const *vals,
                                       const size_t *vlens);

brook_err_t brook__store_cache_enable(brook_store_t *s,
                                      brook__cache_budget_t *budget,
                                      const int64_t *clock)
{
        if (s->cache)
                return BROOK_OK;
        if (!(s->cache = brook__cache_new(budget)))
                return BROOK_ERR_NO_MEM;
        s->clock = clock;
        return BROOK_OK;
}

int brook__store_cached(const brook_store_t *s)
{
        return s->cache != NULL;
}

int brook__store_cache_dirty(const brook_store_t *s)
{
        return s->cache && s->cache->ndirty > 0;
}

void brook__store_set_flush_listener(brook_store_t *s,
                                     brook__store_flush_cb_t *cb, void *arg)
{
        s->on_flush = cb;
        s->on_flush_arg = cb ? arg : NULL;
}

brook_err_t brook__store_cache_flush(brook_store_t *s)
{
        brook__cache_t *c = s->cache;
        brook__store_scratch_t *f = &s->fl;
        size_t n = c ? c->ndirty : 0, i;
        brook_err_t err;

        if (!n || c->flushing)
                return BROOK_OK;
        if (scratch_reserve(f, n))
                return BROOK_ERR_NO_MEM;
        for (i = 0; i < n; i++) {
                const brook__centry_t *e = c->dirty[i];

                f->keys[i] = e->key;
                f->klens[i] = e->klen;
                f->vals[i] = e->val;
                f->vlens[i] = e->vlen;
                f->ts[i] = e->ts;
        }
        c->flushing = 1;
        err = store_write_through(s, n, f->keys, f->klens, f->vals, f->vlens);
        /* The listener may write to this store: give it copies that
         * outlive the entries (released with the batch's reads). */
        for (i = 0; !err && s->on_flush && i < n; i++) {
                if (!(f->keys[i] =
                          brook__store_keep(s, f->keys[i], f->klens[i])) ||
                    (f->vals[i] && !(f->vals[i] = brook__store_keep(
                                         s, f->vals[i], f->vlens[i]))))
                        err = BROOK_ERR_NO_MEM;
        }
        if (!err) {
                brook__cache_mark_clean(c);
                if (s->on_flush)
                        err = s->on_flush(s->on_flush_arg, n, f->keys, f->klens,
                                          f->vals, f->vlens, f->ts);
        }
        c->flushing = 0;
        return err;
}

/* Bring the thread's caches back under budget by evicting this one's
 * eldest entries; a dirty eldest flushes every dirty entry first. */
static brook_err_t cache_evict(brook_store_t *s)
{
        brook__cache_t *c = s->cache;
        brook_err_t err;
        int flushes = 0;

        while (brook__cache_over(c) && c->head && !c->flushing) {
                if (c->head->dirty) {
                        /* bounded: a listener writing back could dirty
                         * the head again */
                        if (flushes++ == 2)
                                break;
                        if ((err = brook__store_cache_flush(s)))
                                return err;
                        continue;
                }
                brook__cache_evict_eldest(c);
        }
        return BROOK_OK;
}

static brook_err_t cache_write(brook_store_t *s, size_t cnt,
                               const void *const *keys, const size_t *klens,
                               const void *const *vals, const size_t *vlens)
{
        int64_t ts = s->clock ? *s->clock : 0;
        size_t i;

        for (i = 0; i < cnt; i++)
                if (!brook__cache_put(s->cache, keys[i], klens[i],
                                      brook__cache_hash(keys[i], klens[i]),
                                      vals[i], vals[i] ? vlens[i] : 0, 1, ts))
                        return BROOK_ERR_NO_MEM;
        return cache_evict(s);
}

/* A cache entry's value as a read result (NULL: deleted). */
static brook_err_t cache_hit(brook_store_t *s, const brook__centry_t *e,
                             const void **valp, size_t *vlenp)
{
        if (!e->val)
                return BROOK_OK;
        if (!(*valp = brook__store_keep(s, e->val, e->vlen)))
                return BROOK_ERR_NO_MEM;
        *vlenp = e->vlen;
        return BROOK_OK;
}

static brook_err_t cache_get(brook_store_t *s, const void *key, size_t klen,
                             const void **valp, size_t *vlenp)
{
        uint64_t h = brook__cache_hash(key, klen);
        brook__centry_t *e = brook__cache_get(s->cache, key, klen, h);
        brook_err_t err;

        if (e)
                return cache_hit(s, e, valp, vlenp);
        if ((err = s->impl->get(s, key, klen, valp, vlenp)) || !*valp)
                return err;
        /* Absent keys are not cached (as in Kafka Streams). */
        if (!brook__cache_put(s->cache, key, klen, h, *valp, *vlenp, 0,
                              s->clock ? *s->clock : 0))
                return BROOK_ERR_NO_MEM;
        return cache_evict(s);
}

static brook_err_t cache_get_batch(brook_store_t *s, size_t cnt,
                                   const void *const *keys, const size_t *klens,
                                   const void **vals, size_t *vlens)
{
        brook__store_scratch_t *m = &s->mg;
        int64_t ts = s->clock ? *s->clock : 0;
        size_t i, n = 0;
        brook_err_t err;

        if (scratch_reserve(m, cnt))
                return BROOK_ERR_NO_MEM;
        for (i = 0; i < cnt; i++) {
                uint64_t h = brook__cache_hash(keys[i], klens[i]);
                brook__centry_t *e =
                    brook__cache_get(s->cache, keys[i], klens[i], h);

                if (e) {
                        if ((err = cache_hit(s, e, &vals[i], &vlens[i])))
                                return err;
                        continue;
                }
                m->idx[n] = i;
                m->hash[n] = h;
                m->keys[n] = keys[i];
                m->klens[n] = klens[i];
                m->vals[n] = NULL;
                m->vlens[n] = 0;
                n++;
        }
        if (!n)
                return BROOK_OK;
        if ((err = s->impl->get_batch(s, n, m->keys, m->klens, m->vals,
                                      m->vlens)))
                return err;
        for (i = 0; i < n; i++) {
                vals[m->idx[i]] = m->vals[i];
                vlens[m->idx[i]] = m->vlens[i];
                if (m->vals[i] &&
                    !brook__cache_put(s->cache, m->keys[i], m->klens[i],
                                      m->hash[i], m->vals[i], m->vlens[i], 0,
                                      ts))
                        return BROOK_ERR_NO_MEM;
        }
        return cache_evict(s);
}

/* ---- reads and writes ---- */

brook_err_t brook_store_get(brook_store_t *s, const void *key, size_t key_len,
                            const void **valuep, size_t *lenp)
{
        if (valuep)
                *valuep = NULL;
        if (lenp)
                *lenp = 0;
        if (!s || !key || !valuep || !lenp)
                return BROOK_ERR_INVALID_ARG;
        if (s->cache)
                return cache_get(s, key, key_len, valuep, lenp);
        return s->impl->get(s, key, key_len, valuep, lenp);
}

brook_err_t brook_store_get_batch(brook_store_t *s, size_t cnt,
                                  const void *const *keys,
                                  const size_t *key_lens, const void **values,
                                  size_t *value_lens)
{
        size_t i;

        if (!s || (cnt && (!keys || !key_lens || !values || !value_lens)))
                return BROOK_ERR_INVALID_ARG;
        for (i = 0; i < cnt; i++) {
                values[i] = NULL;
                value_lens[i] = 0;
                if (!keys[i])
                        return BROOK_ERR_INVALID_ARG;
        }
        if (!cnt)
                return BROOK_OK;
        if (s->cache)
                return cache_get_batch(s, cnt, keys, key_lens, values,
                                       value_lens);
        return s->impl->get_batch(s, cnt, keys, key_lens, values, value_lens);
}

/* Log (when logged) then apply a write batch. */
static brook_err_t store_write_through(brook_store_t *s, size_t cnt,
                                       const void *const *keys,
                                       const size_t *klens,
                                       const void *const *vals,
                                       const size_t *vlens)
{
        brook_err_t err;

        if (!cnt)
                return BROOK_OK;
        if (s->changelog &&
            (err = brook__changelog_log(s->changelog, cnt, keys, klens, vals,
                                        vlens, s->errstr, sizeof(s->errstr))))
                return err;
        return s->impl->write(s, cnt, keys, klens, vals, vlens);
}

/* A write: into the cache when there is one, else through. */
static brook_err_t store_write(brook_store_t *s, size_t cnt,
                               const void *const *keys, const size_t *klens,
                               const void *const *vals, const size_t *vlens)
{
        if (!cnt)
                return BROOK_OK;
        if (s->cache)
                return cache_write(s, cnt, keys, klens, vals, vlens);
        return store_write_through(s, cnt, keys, klens, vals, vlens);
}

brook_err_t brook_store_put(brook_store_t *s, const void *key, size_t key_len,
                            const void *value, size_t value_len)
{
        if (!s || !key || !value)
                return BROOK_ERR_INVALID_ARG;
        return store_write(s, 1, &key, &key_len, &value, &value_len);
}

brook_err_t brook_store_delete(brook_store_t *s, const void *key,
                               size_t key_len)
{
        const void *nv = NULL;
        size_t zero = 0;

        if (!s || !key)
                return BROOK_ERR_INVALID_ARG;
        return store_write(s, 1, &key, &key_len, &nv, &zero);
}

brook_err_t brook_store_put_batch(brook_store_t *s, size_t cnt,
                                  const void *const *keys,
                                  const size_t *key_lens,
                                  const void *const *values,
                                  const size_t *value_lens)
{
        size_t i;

        if (!s || (cnt && (!keys || !key_lens || !values || !value_lens)))
                return BROOK_ERR_INVALID_ARG;
        for (i = 0; i < cnt; i++)
                if (!keys[i] || !values[i])
                        return BROOK_ERR_INVALID_ARG;
        return store_write(s, cnt, keys, key_lens, values, value_lens);
}

brook_err_t brook_store_delete_batch(brook_store_t *s, size_t cnt,
                                     const void *const *keys,
                                     const size_t *key_lens)
{
        const void *stackv[64];
        size_t stackl[64];
        const void **vals = stackv;
        size_t *vlens = stackl, i;
        brook_err_t err;

        if (!s || (cnt && (!keys || !key_lens)))
                return BROOK_ERR_INVALID_ARG;
        for (i = 0; i < cnt; i++)
                if (!keys[i])
                        return BROOK_ERR_INVALID_ARG;
        if (cnt > 64) {
                vals = calloc(cnt, sizeof(*vals));
                vlens = calloc(cnt, sizeof(*vlens));
                if (!vals || !vlens) {
                        free(vals);
                        free(vlens);
                        return BROOK_ERR_NO_MEM;
                }
        } else {
                memset(stackv, 0, sizeof(stackv));
                memset(stackl, 0, sizeof(stackl));
        }
        err = store_write(s, cnt, keys, key_lens, vals, vlens);
        if (vals != stackv) {
                free(vals);
                free(vlens);
        }
        return err;
}

brook_err_t brook__store_restore_batch(brook_store_t *s, size_t cnt,
                                       const void *const *keys,
                                       const size_t *klens,
                                       const void *const *vals,
                                       const size_t *vlens)
{
        /* Restoration runs before processing: the cache is empty. */
        if (s->cache && s->cache->count)
                brook__cache_clear(s->cache);
        return cnt ? s->impl->write(s, cnt, keys, klens, vals, vlens)
                   : BROOK_OK;
}

brook_err_t brook__store_wipe(brook_store_t *s)
{
        const void *k, *v;
        size_t kl, vl;
        brook_err_t err;

        if (s->cache)
                brook__cache_clear(s->cache);
        /* An empty store (a new task directory) needs no wipe: RocksDB's
         * clear destroys and reopens the database, tens of ms per task. */
        if (s->impl->next &&
            !(err = s->impl->next(s, NULL, 0, 1, &k, &kl, &v, &vl)) && !k)
                return BROOK_OK;
        if (s->impl->clear)
                return s->impl->clear(s);
        if (!s->impl->next)
                return BROOK_ERR_STATE;
        /* Scan and delete, one key at a time (user backends only). */
        while (!(err = s->impl->next(s, NULL, 0, 1, &k, &kl, &v, &vl)) && k) {
                const void *nv = NULL;
                size_t zero = 0;

                if ((err = s->impl->write(s, 1, &k, &kl, &nv, &zero)))
                        return err;
        }
        return err;
}

brook_err_t brook_store_flush(brook_store_t *s)
{
        brook_err_t err;

        if (!s)
                return BROOK_ERR_INVALID_ARG;
        if ((err = brook__store_cache_flush(s)))
                return err;
        return s->impl->flush ? s->impl->flush(s) : BROOK_OK;
}

/* ---- int64 helpers ---- */

brook_err_t brook_store_get_int64(brook_store_t *s, const void *key,
                                  size_t key_len, int64_t *valuep)
{
        const void *v;
        size_t vl;
        brook_err_t err;

        if (!valuep)
                return BROOK_ERR_INVALID_ARG;
        *valuep = 0;
        if ((err = brook_store_get(s, key, key_len, &v, &vl)))
                return err;
        if (!v)
                return BROOK_ERR_NOT_FOUND;
        if (vl != 8)
                return BROOK_ERR_DECODE;
        *valuep = brook__be64_get(v);
        return BROOK_OK;
}

brook_err_t brook_store_put_int64(brook_store_t *s, const void *key,
                                  size_t key_len, int64_t value)
{
        unsigned char b[8];

        brook__be64_put(value, b);
        return brook_store_put(s, key, key_len, b, 8);
}

brook_err_t brook_store_add_int64(brook_store_t *s, const void *key,
                                  size_t key_len, int64_t delta, int64_t *newp)
{
        int64_t v;
        brook_err_t err = brook_store_get_int64(s, key, key_len, &v);

        if (err && err != BROOK_ERR_NOT_FOUND)
                return err;
        v += delta;
        if ((err = brook_store_put_int64(s, key, key_len, v)))
                return err;
        if (newp)
                *newp = v;
        return BROOK_OK;
}

/* ---- iterators ---- */

static void *dup_bytes(const void *p, size_t n)
{
        void *d = malloc(n ? n : 1);

        if (d && n)
                memcpy(d, p, n);
        return d;
}

brook_store_iter_t *brook_store_range(brook_store_t *s, const void *from,
                                      size_t from_len, const void *to,
                                      size_t to_len)
{
        brook_store_iter_t *it;

        if (!s || !s->impl->next)
                return NULL;
        /* The backend iterates: it must hold the cache's writes. */
        if (brook__store_cache_flush(s))
                return NULL;
        if (!(it = calloc(1, sizeof(*it))))
                return NULL;
        it->s = s;
        if ((from && !(it->from = dup_bytes(from, from_len))) ||
            (to && !(it->to = dup_bytes(to, to_len)))) {
                brook_store_iter_destroy(it);
                return NULL;
        }
        it->from_len = from_len;
        it->to_len = to_len;
        return it;
}

/* Copy @p n bytes into the growable buffer *@p bufp. */
static int buf_set(void **bufp, size_t *capp, const void *p, size_t n)
{
        if (n > *capp || !*bufp) {
                void *b = realloc(*bufp, n ? n : 1);

                if (!b)
                        return -1;
                *bufp = b;
                *capp = n ? n : 1;
        }
        if (n)
                memcpy(*bufp, p, n);
        return 0;
}

int brook_store_iter_next(brook_store_iter_t *it, const void **keyp,
                          size_t *key_lenp, const void **valuep,
                          size_t *value_lenp)
{
        const void *k = NULL, *v = NULL;
        size_t kl = 0, vl = 0;
        brook_store_t *s;

        if (!it || it->done)
                return 0;
        s = it->s;
        if (!it->last)
                it->err =
                    s->impl->next(s, it->from, it->from ? it->from_len : 0, 1,
                                  &k, &kl, &v, &vl);
        else
                it->err = s->impl->next(s, it->last, it->last_len, 0, &k, &kl,
                                        &v, &vl);
        if (it->err || !k ||
            (it->to && brook__keycmp(k, kl, it->to, it->to_len) > 0)) {
                it->done = 1;
                return 0;
        }
        /* The backend's pointers live until its next call: copy. */
        if (buf_set(&it->last, &it->last_cap, k, kl) ||
            buf_set(&it->val, &it->val_cap, v, vl)) {
                it->err = BROOK_ERR_NO_MEM;
                it->done = 1;
                return 0;
        }
        it->last_len = kl;
        it->val_len = vl;
        if (keyp)
                *keyp = it->last;
        if (key_lenp)
                *key_lenp = kl;
        if (valuep)
                *valuep = it->val;
        if (value_lenp)
                *value_lenp = vl;
        return 1;
}

brook_err_t brook_store_iter_error(const brook_store_iter_t *it)
{
        return it ? it->err : BROOK_ERR_INVALID_ARG;
}

void brook_store_iter_destroy(brook_store_iter_t *it)
{
        if (!it)
                return;
        free(it->from);
        free(it->to);
        free(it->last);
        free(it->val);
        free(it);
}
