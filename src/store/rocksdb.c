/*
 * store/rocksdb.c: the RocksDB backend. put_batch / delete_batch /
 * restoration are one WriteBatch each, get_batch is one MultiGet.
 *
 * Durability: by default writes skip the WAL (store.rocksdb.wal=false):
 * the changelog is the durable copy, and brook_store_flush() (run in each
 * commit cycle before the checkpoint is written) flushes the memtables, so
 * the checkpoint never claims data that is only in memory. With
 * store.rocksdb.wal=true the WAL is written (and fsynced on every write
 * with store.rocksdb.sync=true) and flush syncs the WAL instead.
 * `rocksdb.<option>` keys become RocksDB options through
 * rocksdb_get_options_from_string().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rocksdb/c.h>

#include "core/conf.h"
#include "store/store.h"

typedef struct rdb_s {
        rocksdb_t *db;
        rocksdb_options_t *opts;
        rocksdb_readoptions_t *ropts;
        rocksdb_writeoptions_t *wopts;
        rocksdb_flushoptions_t *fopts;
        rocksdb_writebatch_t *wb;
        char *path;
        int wal;
        /* cached scan cursor: positioned on the key last returned */
        rocksdb_iterator_t *it;
        int it_valid;
        /* MultiGet scratch */
        char **mg_vals;
        size_t *mg_lens;
        char **mg_errs;
        size_t mg_cap;
} rdb_t;

static brook_err_t rdb_err(brook_store_t *s, const char *what, char *e)
{
        snprintf(s->errstr, sizeof(s->errstr), "store %s: %s: %s", s->name,
                 what, e ? e : "unknown error");
        rocksdb_free(e);
        return BROOK_ERR_STORE;
}

static void drop_cursor(rdb_t *r)
{
        if (r->it) {
                rocksdb_iter_destroy(r->it);
                r->it = NULL;
        }
        r->it_valid = 0;
}

static brook_err_t rdb_get(brook_store_t *s, const void *key, size_t klen,
                           const void **valp, size_t *vlenp)
{
        rdb_t *r = s->db;
        char *e = NULL;
        rocksdb_pinnableslice_t *ps =
            rocksdb_get_pinned(r->db, r->ropts, key, klen, &e);
        const char *v;
        size_t vl;

        if (e)
                return rdb_err(s, "get", e);
        if (!ps)
                return BROOK_OK;
        v = rocksdb_pinnableslice_value(ps, &vl);
        *valp = brook__store_keep(s, v, vl);
        *vlenp = vl;
        rocksdb_pinnableslice_destroy(ps);
        return *valp ? BROOK_OK : BROOK_ERR_NO_MEM;
}

static brook_err_t rdb_get_batch(brook_store_t *s, size_t cnt,
                                 const void *const *keys, const size_t *klens,
                                 const void **vals, size_t *vlens)
{
        rdb_t *r = s->db;
        brook_err_t err = BROOK_OK;
        size_t i;

        if (cnt > r->mg_cap) {
                char **v = realloc(r->mg_vals, cnt * sizeof(*v));
                char **e = v ? realloc(r->mg_errs, cnt * sizeof(*e)) : NULL;
                size_t *l = e ? realloc(r->mg_lens, cnt * sizeof(*l)) : NULL;

                if (v)
                        r->mg_vals = v;
                if (e)
                        r->mg_errs = e;
                if (!l)
                        return BROOK_ERR_NO_MEM;
                r->mg_lens = l;
                r->mg_cap = cnt;
        }
        rocksdb_multi_get(r->db, r->ropts, cnt, (const char *const *)keys,
                          klens, r->mg_vals, r->mg_lens, r->mg_errs);
        for (i = 0; i < cnt; i++) {
                if (r->mg_errs[i]) {
                        if (!err)
                                err = rdb_err(s, "multi_get", r->mg_errs[i]);
                        else
                                rocksdb_free(r->mg_errs[i]);
                } else if (r->mg_vals[i]) {
                        vals[i] =
                            brook__store_keep(s, r->mg_vals[i], r->mg_lens[i]);
                        vlens[i] = r->mg_lens[i];
                        if (!vals[i] && !err)
                                err = BROOK_ERR_NO_MEM;
                }
                rocksdb_free(r->mg_vals[i]);
        }
        return err;
}

static brook_err_t rdb_write(brook_store_t *s, size_t cnt,
                             const void *const *keys, const size_t *klens,
                             const void *const *vals, const size_t *vlens)
{
        rdb_t *r = s->db;
        char *e = NULL;
        size_t i;

        drop_cursor(r);
        if (cnt == 1) {
                if (vals[0])
                        rocksdb_put(r->db, r->wopts, keys[0], klens[0], vals[0],
                                    vlens[0], &e);
                else
                        rocksdb_delete(r->db, r->wopts, keys[0], klens[0], &e);
                return e ? rdb_err(s, vals[0] ? "put" : "delete", e) : BROOK_OK;
        }
        rocksdb_writebatch_clear(r->wb);
        for (i = 0; i < cnt; i++) {
                if (vals[i])
                        rocksdb_writebatch_put(r->wb, keys[i], klens[i],
                                               vals[i], vlens[i]);
                else
                        rocksdb_writebatch_delete(r->wb, keys[i], klens[i]);
        }
        rocksdb_write(r->db, r->wopts, r->wb, &e);
        rocksdb_writebatch_clear(r->wb);
        return e ? rdb_err(s, "write batch", e) : BROOK_OK;
}

static brook_err_t rdb_next(brook_store_t *s, const void *after, size_t alen,
                            int inclusive, const void **keyp, size_t *klenp,
                            const void **valp, size_t *vlenp)
{
        rdb_t *r = s->db;
        const char *k;
        size_t kl;
        char *e = NULL;

        *keyp = NULL;
        /* Continue from the cached cursor when it sits on @p after. */
        if (!(r->it && r->it_valid && !inclusive && after &&
              (k = rocksdb_iter_key(r->it, &kl)) &&
              brook__keycmp(k, kl, after, alen) == 0)) {
                drop_cursor(r);
                if (!(r->it = rocksdb_create_iterator(r->db, r->ropts)))
                        return BROOK_ERR_NO_MEM;
                if (after)
                        rocksdb_iter_seek(r->it, after, alen);
                else
                        rocksdb_iter_seek_to_first(r->it);
                if (rocksdb_iter_valid(r->it) && after && !inclusive) {
                        k = rocksdb_iter_key(r->it, &kl);
                        if (brook__keycmp(k, kl, after, alen) == 0)
                                rocksdb_iter_next(r->it);
                }
        } else {
                rocksdb_iter_next(r->it);
        }
        r->it_valid = rocksdb_iter_valid(r->it);
        if (!r->it_valid) {
                rocksdb_iter_get_error(r->it, &e);
                if (e)
                        return rdb_err(s, "iterate", e);
                return BROOK_OK;
        }
        *keyp = rocksdb_iter_key(r->it, klenp);
        *valp = rocksdb_iter_value(r->it, vlenp);
        return BROOK_OK;
}

static brook_err_t rdb_flush(brook_store_t *s)
{
        rdb_t *r = s->db;
        char *e = NULL;

        if (r->wal)
                rocksdb_flush_wal(r->db, 1, &e);
        else
                rocksdb_flush(r->db, r->fopts, &e);
        return e ? rdb_err(s, "flush", e) : BROOK_OK;
}

static void rdb_free(rdb_t *r)
{
        drop_cursor(r);
        if (r->db)
                rocksdb_close(r->db);
        if (r->opts)
                rocksdb_options_destroy(r->opts);
        if (r->ropts)
                rocksdb_readoptions_destroy(r->ropts);
        if (r->wopts)
                rocksdb_writeoptions_destroy(r->wopts);
        if (r->fopts)
                rocksdb_flushoptions_destroy(r->fopts);
        if (r->wb)
                rocksdb_writebatch_destroy(r->wb);
        free(r->mg_vals);
        free(r->mg_lens);
        free(r->mg_errs);
        free(r->path);
        free(r);
}

static void rdb_close(brook_store_t *s)
{
        rdb_free(s->db);
        s->db = NULL;
}

static brook_err_t rdb_clear(brook_store_t *s)
{
        rdb_t *r = s->db;
        char *e = NULL;

        drop_cursor(r);
        rocksdb_close(r->db);
        r->db = NULL;
        rocksdb_destroy_db(r->opts, r->path, &e);
        if (e)
                return rdb_err(s, "destroy", e);
        r->db = rocksdb_open(r->opts, r->path, &e);
        if (e)
                return rdb_err(s, "reopen", e);
        return BROOK_OK;
}

static const brook__store_impl_t rdb_impl = {rdb_get,  rdb_get_batch, rdb_write,
                                             rdb_next, rdb_flush,     rdb_clear,
                                             rdb_close};

typedef struct optstr_s {
        char *buf;
        size_t len, cap;
} optstr_t;

static brook_err_t add_opt(const char *name, const char *value, void *arg)
{
        optstr_t *o = arg;
        size_t need = strlen(name) + strlen(value) + 3;

        if (o->len + need >= o->cap) {
                size_t cap = (o->cap + need) * 2;
                char *b = realloc(o->buf, cap);

                if (!b)
                        return BROOK_ERR_NO_MEM;
                o->buf = b;
                o->cap = cap;
        }
        o->len += (size_t)snprintf(o->buf + o->len, o->cap - o->len, "%s=%s;",
                                   name, value);
        return BROOK_OK;
}

static brook_err_t backend_rocksdb_open(brook_store_t *s, const char *path,
                                        const brook_conf_t *conf, char *errstr,
                                        size_t errstr_size)
{
        rdb_t *r = calloc(1, sizeof(*r));
        optstr_t os = {NULL, 0, 0};
        char *e = NULL;
        int sync = 0;

        if (!r || !(r->path = strdup(path))) {
                free(r);
                brook__errstr(errstr, errstr_size, "out of memory");
                return BROOK_ERR_NO_MEM;
        }
        if (brook__mkdirs(path)) {
                brook__errstr(errstr, errstr_size, "store %s: cannot create %s",
                              s->name, path);
                rdb_free(r);
                return BROOK_ERR_IO;
        }
        r->opts = rocksdb_options_create();
        rocksdb_options_set_create_if_missing(r->opts, 1);
        /* Stream state is write-heavy with point reads: modest memtables,
         * and a bloom-filtered block cache would be the next step. */
        rocksdb_options_set_max_open_files(r->opts, 256);
        if (conf) {
                brook__settings_t st;

                /* A standalone store reads what it needs and nothing
                 * else: no component check can fail here. */
                brook__settings_load(&st, conf, BROOK__COMP_HELPER, NULL, 0);
                r->wal = st.store_rocksdb_wal;
                sync = st.store_rocksdb_sync;
                if (brook__conf_foreach(conf, "rocksdb.", add_opt, &os)) {
                        free(os.buf);
                        rdb_free(r);
                        brook__errstr(errstr, errstr_size, "out of memory");
                        return BROOK_ERR_NO_MEM;
                }
        }
        if (os.len) {
                rocksdb_options_t *n = rocksdb_options_create();

                rocksdb_get_options_from_string(r->opts, os.buf, n, &e);
                if (e) {
                        brook__errstr(errstr, errstr_size,
                                      "store %s: rocksdb.* options \"%s\": %s",
                                      s->name, os.buf, e);
                        rocksdb_free(e);
                        rocksdb_options_destroy(n);
                        free(os.buf);
                        rdb_free(r);
                        return BROOK_ERR_CONF_INVALID;
                }
                rocksdb_options_destroy(r->opts);
                r->opts = n;
                rocksdb_options_set_create_if_missing(r->opts, 1);
        }
        free(os.buf);
        r->ropts = rocksdb_readoptions_create();
        r->wopts = rocksdb_writeoptions_create();
        rocksdb_writeoptions_disable_WAL(r->wopts, !r->wal);
        rocksdb_writeoptions_set_sync(r->wopts,
                                      (unsigned char)(r->wal && sync));
        r->fopts = rocksdb_flushoptions_create();
        rocksdb_flushoptions_set_wait(r->fopts, 1);
        r->wb = rocksdb_writebatch_create();
        r->db = rocksdb_open(r->opts, path, &e);
        if (e) {
                brook__errstr(errstr, errstr_size, "store %s: open %s: %s",
                              s->name, path, e);
                rocksdb_free(e);
                rdb_free(r);
                return BROOK_ERR_STORE;
        }
        s->db = r;
        s->impl = &rdb_impl;
        return BROOK_OK;
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
        if (backend_rocksdb_open(s, path, conf, errstr, errstr_size)) {
                brook__store_free(s);
                return NULL;
        }
        return s;
}
