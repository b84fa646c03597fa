/*
 * store.c: the store API over the backends (store_rocksdb.c,
 * store_memory.c, user tables in store_custom.c): argument checks, read
 * results kept until released, changelog logging of every write, int64
 * helpers, range iterators, restoration and wipe hooks.
 */
#include <stdlib.h>
#include <string.h>

#include "changelog.h"
#include "serde.h"
#include "store.h"

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

static void store_free(brook_store_t *s)
{
        brook__changelog_destroy(s->changelog);
        brook__arena_free(&s->values);
        free(s->name);
        free(s);
}

brook_store_t *brook_store_open_rocksdb(const char *name, const char *path,
                                        const brook_conf_t *conf, char *errstr,
                                        size_t errstr_size)
{
        brook_store_t *s;

        if (!path || !*path) {
                brook__errstr(errstr, errstr_size,
                              "brook_store_open_rocksdb: path is required");
                return NULL;
        }
        if (!(s = brook__store_alloc(name, BROOK_STORE_ROCKSDB))) {
                brook__errstr(errstr, errstr_size, "out of memory");
                return NULL;
        }
        if (brook__store_rocksdb_open(s, path, conf, errstr, errstr_size)) {
                store_free(s);
                return NULL;
        }
        return s;
}

brook_store_t *brook_store_open_memory(const char *name, char *errstr,
                                       size_t errstr_size)
{
        brook_store_t *s = brook__store_alloc(name, BROOK_STORE_MEMORY);

        if (!s || brook__store_memory_open(s)) {
                if (s)
                        store_free(s);
                brook__errstr(errstr, errstr_size, "out of memory");
                return NULL;
        }
        return s;
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
        if (brook__store_custom_open(s, backend, path, errstr, errstr_size)) {
                store_free(s);
                return NULL;
        }
        return s;
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
        store_free(s);
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

brook_err_t brook_store_get(brook_store_t *s, const void *key, size_t key_len,
                            const void **valuep, size_t *lenp)
{
        if (valuep)
                *valuep = NULL;
        if (lenp)
                *lenp = 0;
        if (!s || !key || !valuep || !lenp)
                return BROOK_ERR_INVALID_ARG;
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
        return s->impl->get_batch(s, cnt, keys, key_lens, values, value_lens);
}

/* Log (when logged) then apply a write batch. */
static brook_err_t store_write(brook_store_t *s, size_t cnt,
                               const void *const *keys, const size_t *klens,
                               const void *const *vals, const size_t *vlens)
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
        return cnt ? s->impl->write(s, cnt, keys, klens, vals, vlens)
                   : BROOK_OK;
}

brook_err_t brook__store_wipe(brook_store_t *s)
{
        const void *k, *v;
        size_t kl, vl;
        brook_err_t err;

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
        if (!s)
                return BROOK_ERR_INVALID_ARG;
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
        *valuep = brook_int64_from_be(v);
        return BROOK_OK;
}

brook_err_t brook_store_put_int64(brook_store_t *s, const void *key,
                                  size_t key_len, int64_t value)
{
        unsigned char b[8];

        brook_int64_to_be(value, b);
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
