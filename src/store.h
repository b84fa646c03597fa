/*
 * store.h: the structure behind brook_store_t, the backend interface every
 * kind implements, and the hooks the streams runtime uses (changelog,
 * restoration, wipe). Not API.
 *
 * Layering: a store knows nothing of the consumer or the topology; the
 * runtime hands it a changelog (changelog.h) that owns a producer handle.
 *
 * @locality one thread at a time (the owning task's stream thread).
 */
#ifndef BROOK_STORE_INT_H
#define BROOK_STORE_INT_H

#include "brook_int.h"
#include "brook/store.h"
#include "streams_util.h"

typedef struct brook__changelog_s brook__changelog_t;

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
};

/* Backends. */
brook_err_t brook__store_rocksdb_open(brook_store_t *s, const char *path,
                                      const brook_conf_t *conf, char *errstr,
                                      size_t errstr_size);
brook_err_t brook__store_memory_open(brook_store_t *s);
brook_err_t brook__store_custom_open(brook_store_t *s,
                                     const brook_store_backend_t *b,
                                     const char *path, char *errstr,
                                     size_t errstr_size);

/* A fresh handle (name copied); NULL when out of memory. */
brook_store_t *brook__store_alloc(const char *name, brook_store_kind_t kind);

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

/* Copy of a user backend table (store_custom.c); NULL when out of memory. */
brook_store_backend_t *brook__store_backend_dup(const brook_store_backend_t *b);

/* Copy a read result into the store's value arena. */
const void *brook__store_keep(brook_store_t *s, const void *v, size_t len);

#endif /* BROOK_STORE_INT_H */
