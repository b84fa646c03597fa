/*
 * store/custom.c: stores on a user backend (a function table). A backend
 * without get_batch / write_batch gets a loop over its single-key
 * functions; without a scan function the store cannot iterate, and is
 * wiped (before a full restore) only when it has clear.
 */
#include <stdlib.h>
#include <string.h>

#include "store/store.h"

struct brook_store_backend_s {
        brook_store_open_fn *open;
        brook_store_close_fn *close;
        brook_store_get_fn *get;
        brook_store_put_fn *put;
        brook_store_delete_fn *del;
        brook_store_get_batch_fn *get_batch;
        brook_store_write_batch_fn *write_batch;
        brook_store_next_fn *next;
        brook_store_void_fn *flush;
        brook_store_void_fn *clear;
        void *opaque;
};

struct brook_store_result_s {
        brook__arena_t *arena;
        size_t cnt;
        const void **vals;
        size_t *vlens;
        const void **keys; /* scans only */
        size_t *klens;
        brook_err_t err;
};

typedef struct custom_s {
        brook_store_backend_t b;
        brook__store_impl_t impl; /* per store: optional entries vary */
        void *db;
        brook__arena_t scan; /* scan results, reset on every scan step */
} custom_t;

brook_store_backend_t *brook_store_backend_new(void)
{
        return calloc(1, sizeof(brook_store_backend_t));
}

void brook_store_backend_destroy(brook_store_backend_t *b)
{
        free(b);
}

void brook_store_backend_set_open(brook_store_backend_t *b,
                                  brook_store_open_fn *open,
                                  brook_store_close_fn *close)
{
        if (b) {
                b->open = open;
                b->close = close;
        }
}

void brook_store_backend_set_kv(brook_store_backend_t *b,
                                brook_store_get_fn *get,
                                brook_store_put_fn *put,
                                brook_store_delete_fn *del)
{
        if (b) {
                b->get = get;
                b->put = put;
                b->del = del;
        }
}

void brook_store_backend_set_batch(brook_store_backend_t *b,
                                   brook_store_get_batch_fn *get_batch,
                                   brook_store_write_batch_fn *write_batch)
{
        if (b) {
                b->get_batch = get_batch;
                b->write_batch = write_batch;
        }
}

void brook_store_backend_set_next(brook_store_backend_t *b,
                                  brook_store_next_fn *next)
{
        if (b)
                b->next = next;
}

void brook_store_backend_set_maint(brook_store_backend_t *b,
                                   brook_store_void_fn *flush,
                                   brook_store_void_fn *clear)
{
        if (b) {
                b->flush = flush;
                b->clear = clear;
        }
}

void brook_store_backend_set_opaque(brook_store_backend_t *b, void *opaque)
{
        if (b)
                b->opaque = opaque;
}

brook_err_t brook_store_result_set(brook_store_result_t *res, size_t idx,
                                   const void *value, size_t len)
{
        const void *v;

        if (!res || idx >= res->cnt || !value)
                return BROOK_ERR_INVALID_ARG;
        if (!(v = brook__arena_dup(res->arena, value, len)))
                return res->err = BROOK_ERR_NO_MEM;
        res->vals[idx] = v;
        res->vlens[idx] = len;
        return BROOK_OK;
}

brook_err_t brook_store_result_set_key(brook_store_result_t *res, size_t idx,
                                       const void *key, size_t len)
{
        const void *k;

        if (!res || !res->keys || idx >= res->cnt || !key)
                return BROOK_ERR_INVALID_ARG;
        if (!(k = brook__arena_dup(res->arena, key, len)))
                return res->err = BROOK_ERR_NO_MEM;
        res->keys[idx] = k;
        res->klens[idx] = len;
        return BROOK_OK;
}

static brook_err_t cu_get_batch(brook_store_t *s, size_t cnt,
                                const void *const *keys, const size_t *klens,
                                const void **vals, size_t *vlens)
{
        custom_t *c = s->db;
        brook_store_result_t res;
        brook_err_t err = BROOK_OK;
        size_t i;

        memset(&res, 0, sizeof(res));
        res.arena = &s->values;
        if (c->b.get_batch) {
                res.cnt = cnt;
                res.vals = vals;
                res.vlens = vlens;
                err =
                    c->b.get_batch(c->db, cnt, keys, klens, &res, c->b.opaque);
                return err ? err : res.err;
        }
        /* Per-key fallback. */
        for (i = 0; i < cnt && !err; i++) {
                res.cnt = 1;
                res.vals = &vals[i];
                res.vlens = &vlens[i];
                err = c->b.get(c->db, keys[i], klens[i], &res, c->b.opaque);
                if (!err)
                        err = res.err;
        }
        return err;
}

static brook_err_t cu_get(brook_store_t *s, const void *key, size_t klen,
                          const void **valp, size_t *vlenp)
{
        custom_t *c = s->db;
        brook_store_result_t res;
        brook_err_t err;

        memset(&res, 0, sizeof(res));
        res.arena = &s->values;
        res.cnt = 1;
        res.vals = valp;
        res.vlens = vlenp;
        err = c->b.get(c->db, key, klen, &res, c->b.opaque);
        return err ? err : res.err;
}

static brook_err_t cu_write(brook_store_t *s, size_t cnt,
                            const void *const *keys, const size_t *klens,
                            const void *const *vals, const size_t *vlens)
{
        custom_t *c = s->db;
        brook_err_t err = BROOK_OK;
        size_t i;

        if (c->b.write_batch && cnt > 1)
                return c->b.write_batch(c->db, cnt, keys, klens, vals, vlens,
                                        c->b.opaque);
        for (i = 0; i < cnt && !err; i++)
                err = vals[i] ? c->b.put(c->db, keys[i], klens[i], vals[i],
                                         vlens[i], c->b.opaque)
                              : c->b.del(c->db, keys[i], klens[i], c->b.opaque);
        return err;
}

static brook_err_t cu_next(brook_store_t *s, const void *after, size_t alen,
                           int inclusive, const void **keyp, size_t *klenp,
                           const void **valp, size_t *vlenp)
{
        custom_t *c = s->db;
        brook_store_result_t res;
        brook_err_t err;

        *keyp = NULL;
        *valp = NULL;
        *klenp = *vlenp = 0;
        brook__arena_reset(&c->scan);
        memset(&res, 0, sizeof(res));
        res.arena = &c->scan;
        res.cnt = 1;
        res.vals = valp;
        res.vlens = vlenp;
        res.keys = keyp;
        res.klens = klenp;
        err = c->b.next(c->db, after, alen, inclusive, &res, c->b.opaque);
        if (!err && *keyp && !*valp) {
                /* A key without a value: an empty value. */
                *valp = "";
                *vlenp = 0;
        }
        return err ? err : res.err;
}

static brook_err_t cu_flush(brook_store_t *s)
{
        custom_t *c = s->db;

        return c->b.flush ? c->b.flush(c->db, c->b.opaque) : BROOK_OK;
}

static brook_err_t cu_clear(brook_store_t *s)
{
        custom_t *c = s->db;

        return c->b.clear(c->db, c->b.opaque);
}

static void cu_close(brook_store_t *s)
{
        custom_t *c = s->db;

        if (!c)
                return;
        if (c->b.close)
                c->b.close(c->db, c->b.opaque);
        brook__arena_free(&c->scan);
        free(c);
        s->db = NULL;
}

static brook_err_t backend_custom_open(brook_store_t *s,
                                       const brook_store_backend_t *b,
                                       const char *path, char *errstr,
                                       size_t errstr_size)
{
        custom_t *c;
        brook_err_t err;

        if (!b->get || !b->put || !b->del) {
                brook__errstr(errstr, errstr_size,
                              "store %s: the backend needs get, put and "
                              "delete (brook_store_backend_set_kv)",
                              s->name);
                return BROOK_ERR_INVALID_ARG;
        }
        if (!(c = calloc(1, sizeof(*c)))) {
                brook__errstr(errstr, errstr_size, "out of memory");
                return BROOK_ERR_NO_MEM;
        }
        c->b = *b;
        brook__arena_init(&c->scan, 4096);
        if (c->b.open && (err = c->b.open(&c->db, s->name, path, c->b.opaque,
                                          errstr, errstr_size))) {
                free(c);
                return err;
        }
        c->impl.get = cu_get;
        c->impl.get_batch = cu_get_batch;
        c->impl.write = cu_write;
        c->impl.next = c->b.next ? cu_next : NULL;
        c->impl.flush = cu_flush;
        c->impl.clear = c->b.clear ? cu_clear : NULL;
        c->impl.close = cu_close;
        s->db = c;
        s->impl = &c->impl;
        return BROOK_OK;
}

brook_store_backend_t *brook__store_backend_dup(const brook_store_backend_t *b)
{
        brook_store_backend_t *d = malloc(sizeof(*d));

        if (d)
                *d = *b;
        return d;
}

brook_store_t *brook_store_open_custom(const char *name,
                                       const brook_store_backend_t *backend,
                                       const char *path, char *errstr,
                                       size_t errstr_size)
{
        brook_store_t *s;

        if (!backend) {
                brook__errstr(errstr, errstr_size,
                              "brook_store_open_custom: backend is required");
                return NULL;
        }
        if (!(s = brook__store_alloc(name, BROOK_STORE_CUSTOM))) {
                brook__errstr(errstr, errstr_size, "out of memory");
                return NULL;
        }
        if (backend_custom_open(s, backend, path, errstr, errstr_size)) {
                brook__store_free(s);
                return NULL;
        }
        return s;
}
