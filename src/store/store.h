/*
 * store/store.h: the structure behind brook_store_t, the backend interface
 * every kind implements, and the hooks the streams runtime uses (changelog,
 * restoration, wipe). Not API.
 *
 * Layering: a store knows nothing of the consumer or the topology; the
 * runtime hands it a changelog (store/changelog.h) that owns a producer handle,
 * a record cache (store/cache.h) and the flush listener of the processor
 * that emits on flush.
 *
 * @locality one thread at a time (the owning task's stream thread).
 */
#ifndef BROOK__STORE_STORE_H
#define BROOK__STORE_STORE_H

#include "brook/store.h"
#include "core/core.h"
#include "brook/store.h"
#include "store/cache.h"
#include "core/util.h"

typedef struct brook__changelog_s brook__changelog_t;

/*
 * Flush listener: called after a cache flush wrote @p cnt dirty entries
 * (values[i] NULL: a delete) to the store and its changelog. The arrays
 * and the bytes stay valid until the store's values are released. The
 * streams runtime adapts it to the public brook_store_flush_fn.
 */
typedef brook_err_t(brook__store_flush_cb_t)(void *arg, size_t cnt,
                                             const void *const *keys,
                                             const size_t *key_lens,
                                             const void *const *values,
                                             const size_t *value_lens,
                                             const int64_t *timestamps);

/* Parallel arrays reused by the cache paths of store/store.c. */
typedef struct brook__store_scratch_s {
        const void **keys, **vals;
        size_t *klens, *vlens;
        int64_t *ts;
        uint64_t *hash;
        size_t *idx;
        size_t cap;
} brook__store_scratch_t;

/* What every backend implements (values[i] NULL: delete). */
typedef struct brook__store_impl_s {
        brook_err_t (*get)(brook_store_t *s, const void *key, size_t klen,
                           const void **valp, size_t *vlenp);
        brook_err_t (*get_batch)(brook_store_t *s, size_t cnt,
                                 const void *const *keys, const size_t *klens,
                                 const void **vals, size_t *vlens);
        brook_err_t (*write)(brook_store_t *s, size_t cnt,
                             const void *const *keys, const size_t *klens,
                             const void *const *vals, const size_t *vlens);
        /* First key > after (>= if inclusive; after NULL: first key);
         * *keyp NULL at the end. The pointers stay valid until the next
         * call on the store. */
        brook_err_t (*next)(brook_store_t *s, const void *after, size_t alen,
                            int inclusive, const void **keyp, size_t *klenp,
                            const void **valp, size_t *vlenp);
        brook_err_t (*flush)(brook_store_t *s);
        brook_err_t (*clear)(brook_store_t *s);
        void (*close)(brook_store_t *s);
} brook__store_impl_t;

struct brook_store_s {
        char *name;
        brook_store_kind_t kind;
        const brook__store_impl_t *impl;
        void *db;              /* backend state */
        brook__arena_t values; /* read results, freed by release_values */
        brook__changelog_t *changelog; /* NULL: not logged */
        char errstr[512];              /* last backend error detail */
        /* record cache (NULL: writes go straight to backend and log) */
        brook__cache_t *cache;
        const int64_t *clock; /* timestamp of cached writes, NULL: 0 */
        brook__store_flush_cb_t *on_flush; /* emit on flush, NULL: none */
        void *on_flush_arg;
        brook__store_scratch_t fl; /* a flush's dirty entries */
        brook__store_scratch_t mg; /* a cached get_batch's misses */
};

/*
 * Backends (store/rocksdb.c, store/memory.c, store/custom.c) each define
 * their brook_store_open_*() and set s->impl to their table; store.c
 * reaches them only through that table.
 */

/* A fresh handle (name copied); NULL when out of memory. */
brook_store_t *brook__store_alloc(const char *name, brook_store_kind_t kind);
/* Free a handle whose backend is closed or was never opened. */
void brook__store_free(brook_store_t *s);

/* Log every write of @p s to @p cl (owned by the store from now on). */
void brook__store_set_changelog(brook_store_t *s, brook__changelog_t *cl);
brook__changelog_t *brook__store_changelog(brook_store_t *s);

/*
 * Apply a restored batch (values[i] NULL: tombstone) as one write, without
 * logging it again.
 */
brook_err_t brook__store_restore_batch(brook_store_t *s, size_t cnt,
                                       const void *const *keys,
                                       const size_t *klens,
                                       const void *const *vals,
                                       const size_t *vlens);

/* Delete everything (before a full restore). */
brook_err_t brook__store_wipe(brook_store_t *s);

/*
 * Put a record cache charging @p budget in front of the store; cached
 * writes are stamped with *@p clock (may be NULL). The runtime does it
 * for every store except unlogged in-memory ones.
 */
brook_err_t brook__store_cache_enable(brook_store_t *s,
                                      brook__cache_budget_t *budget,
                                      const int64_t *clock);

/* Does the store have a record cache / dirty entries in it? */
int brook__store_cached(const brook_store_t *s);
int brook__store_cache_dirty(const brook_store_t *s);

/*
 * Write the cache's dirty entries to the backend and the changelog as one
 * batch, then hand them to the flush listener. BROOK_OK without a cache.
 */
brook_err_t brook__store_cache_flush(brook_store_t *s);

/* The flush listener (emit on flush); @p cb NULL removes it. */
void brook__store_set_flush_listener(brook_store_t *s,
                                     brook__store_flush_cb_t *cb, void *arg);

/* Copy of a user backend table (store/custom.c); NULL when out of memory. */
brook_store_backend_t *brook__store_backend_dup(const brook_store_backend_t *b);

/* Copy a read result into the store's value arena. */
const void *brook__store_keep(brook_store_t *s, const void *v, size_t len);

#endif /* BROOK__STORE_STORE_H */
