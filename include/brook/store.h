/*
 * brook - batch-first Kafka stream processing in C.
 *
 * store.h: key/value state stores. Keys and values are bytes (serdes stay
 * at the edge), keys are ordered bytewise (memcmp, shorter first on a tie).
 * Every store has single and batch forms: get / get_batch (RocksDB
 * MultiGet), put / put_batch and delete / delete_batch (one RocksDB
 * WriteBatch), and ordered range iteration.
 *
 * Backends: RocksDB (persistent), an in-memory ordered store, and user
 * backends given as a function table; a user backend without batch
 * functions gets a per-key loop.
 *
 * Inside a topology brook opens one store per task under
 * `<state.dir>/<application.id>/<task>/<store>`, logs writes to the
 * changelog topic `<application.id>-<store>-changelog`, restores from it
 * and checkpoints (see streams.h). The functions below also work on stores
 * opened standalone with brook_store_open_*().
 *
 * Record cache: inside a topology (with `store.cache.max.bytes` > 0, the
 * default; not for in-memory stores without changelog) writes go to a
 * write-back cache and reads go through it; the latest value per key
 * reaches the store and the changelog as one batch when the cache flushes:
 * in every commit cycle, when the thread's cache budget is full, and
 * before a range iteration. See docs/STREAMS.md, "Record cache".
 * Standalone stores have no cache.
 *
 * Values returned by reads (get, get_batch, iterators) are owned by the
 * store and stay valid until the processor call that read them returns
 * (inside a topology) or until brook_store_release_values() (standalone).
 *
 * Threads: a store handle is used by one thread at a time (its task's
 * stream thread); it has no internal locking.
 */
#ifndef BROOK_STORE_H
#define BROOK_STORE_H

#include "brook/common.h"
#include "brook/conf.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @brief A key/value store (opaque). */
typedef struct brook_store_s brook_store_t;

/** @brief An ordered iterator over a key range (opaque). */
typedef struct brook_store_iter_s brook_store_iter_t;

/** @brief A user store backend: a function table (opaque). */
typedef struct brook_store_backend_s brook_store_backend_t;

/** @brief Where a user backend puts the values it reads (opaque). */
typedef struct brook_store_result_s brook_store_result_t;

/** @brief Store kinds. */
typedef enum brook_store_kind_e {
        BROOK_STORE_ROCKSDB = 0, /**< RocksDB, persistent, checkpointed */
        BROOK_STORE_MEMORY = 1,  /**< in memory, ordered; restored in full */
        BROOK_STORE_CUSTOM = 2   /**< a brook_store_backend_t */
} brook_store_kind_t;

/**
 * @brief Open a RocksDB store at @p path (created if missing).
 *
 * @param name  store name, for logs and errors (copied).
 * @param path  directory of the database.
 * @param conf  `rocksdb.*` keys become RocksDB options (e.g.
 *              `rocksdb.write_buffer_size`), `store.rocksdb.wal` and
 *              `store.rocksdb.sync` choose the write options; may be NULL.
 * @param errstr receives the reason on failure.
 * @returns the store, or NULL with @p errstr set (BROOK_ERR_STORE detail:
 *          RocksDB's message, e.g. the lock held by another process).
 * @remark The database is not locked against other handles of this process
 *         beyond RocksDB's own LOCK file; brook's streams runtime locks the
 *         task directory (brook_state_dir_lock()).
 */
BROOK_EXPORT brook_store_t *brook_store_open_rocksdb(const char *name,
                                                     const char *path,
                                                     const brook_conf_t *conf,
                                                     char *errstr,
                                                     size_t errstr_size);

/**
 * @brief Open an empty in-memory ordered store.
 * @returns the store, or NULL when out of memory.
 */
BROOK_EXPORT brook_store_t *
brook_store_open_memory(const char *name, char *errstr, size_t errstr_size);

/**
 * @brief Open a store on a user backend.
 * @param path passed to the backend's open function (may be NULL).
 * @returns the store, or NULL with @p errstr set.
 * @remark The backend table is copied; @p backend may be destroyed after.
 */
BROOK_EXPORT brook_store_t *
brook_store_open_custom(const char *name, const brook_store_backend_t *backend,
                        const char *path, char *errstr, size_t errstr_size);

/**
 * @brief Close the store (flushes it first) and free the handle. Accepts
 *        NULL.
 */
BROOK_EXPORT void brook_store_close(brook_store_t *s);

/** @brief The store's name. */
BROOK_EXPORT const char *brook_store_name(const brook_store_t *s);

/** @brief The store's kind. */
BROOK_EXPORT brook_store_kind_t brook_store_kind(const brook_store_t *s);

/**
 * @brief Read one key.
 * @param valuep receives the value (owned by the store, see the top of
 *               this file), or NULL when the key is absent.
 * @param lenp   receives the value length (0 when absent).
 * @returns BROOK_OK (found or not: check *valuep), BROOK_ERR_INVALID_ARG,
 *          BROOK_ERR_STORE, BROOK_ERR_NO_MEM.
 */
BROOK_EXPORT brook_err_t brook_store_get(brook_store_t *s, const void *key,
                                         size_t key_len, const void **valuep,
                                         size_t *lenp);

/**
 * @brief Write one key (insert or replace). The key and value are copied.
 * @remark With a record cache the write goes to the cache; the store and
 *         the changelog get it (or a later value of the key) at the next
 *         flush.
 * @returns BROOK_OK, BROOK_ERR_INVALID_ARG (NULL key or value),
 *          BROOK_ERR_STORE, BROOK_ERR_NO_MEM, BROOK_ERR_KAFKA (the
 *          changelog write could not be queued).
 */
BROOK_EXPORT brook_err_t brook_store_put(brook_store_t *s, const void *key,
                                         size_t key_len, const void *value,
                                         size_t value_len);

/**
 * @brief Delete one key (absent keys are fine). Logged as a tombstone.
 * @returns as brook_store_put().
 */
BROOK_EXPORT brook_err_t brook_store_delete(brook_store_t *s, const void *key,
                                            size_t key_len);

/**
 * @brief Read @p cnt keys at once (RocksDB MultiGet).
 *
 * @param keys, key_lens  the keys.
 * @param values     receives, per key, the value or NULL when absent.
 * @param value_lens receives the lengths.
 * @returns BROOK_OK or the first error.
 */
BROOK_EXPORT brook_err_t brook_store_get_batch(brook_store_t *s, size_t cnt,
                                               const void *const *keys,
                                               const size_t *key_lens,
                                               const void **values,
                                               size_t *value_lens);

/**
 * @brief Write @p cnt keys atomically (one RocksDB WriteBatch); a later
 *        duplicate key wins. Logged to the changelog as one produce batch.
 * @returns as brook_store_put().
 */
BROOK_EXPORT brook_err_t brook_store_put_batch(brook_store_t *s, size_t cnt,
                                               const void *const *keys,
                                               const size_t *key_lens,
                                               const void *const *values,
                                               const size_t *value_lens);

/**
 * @brief Delete @p cnt keys atomically (one WriteBatch), logged as
 *        tombstones.
 * @returns as brook_store_put().
 */
BROOK_EXPORT brook_err_t brook_store_delete_batch(brook_store_t *s, size_t cnt,
                                                  const void *const *keys,
                                                  const size_t *key_lens);

/**
 * @brief Iterate the keys in [@p from, @p to], both inclusive, in key
 *        order. NULL @p from / @p to leave that end open:
 *        brook_store_range(s, NULL, 0, NULL, 0) iterates everything.
 * @returns an iterator to free with brook_store_iter_destroy(), or NULL
 *          (BROOK_ERR_STATE: the backend cannot iterate; out of memory).
 * @remark Writes made while iterating may or may not be seen.
 */
BROOK_EXPORT brook_store_iter_t *
brook_store_range(brook_store_t *s, const void *from, size_t from_len,
                  const void *to, size_t to_len);

/**
 * @brief Next row of the iteration.
 * @returns 1 and sets the pointers (valid until the next call on the
 *          iterator), or 0 at the end or on error (see
 *          brook_store_iter_error()).
 */
BROOK_EXPORT int brook_store_iter_next(brook_store_iter_t *it,
                                       const void **keyp, size_t *key_lenp,
                                       const void **valuep, size_t *value_lenp);

/** @brief BROOK_OK, or the error that ended the iteration. */
BROOK_EXPORT brook_err_t brook_store_iter_error(const brook_store_iter_t *it);

/** @brief Free an iterator. Accepts NULL. */
BROOK_EXPORT void brook_store_iter_destroy(brook_store_iter_t *it);

/**
 * @brief Make written data durable locally (RocksDB: flush memtables);
 *        with a record cache, flush the cache into the store first.
 * @returns BROOK_OK or BROOK_ERR_STORE.
 * @remark The streams runtime calls it in each commit cycle before the
 *         checkpoint is written.
 */
BROOK_EXPORT brook_err_t brook_store_flush(brook_store_t *s);

/**
 * @brief Free the values returned by reads so far (standalone stores;
 *        inside a topology brook does it after every processor call).
 */
BROOK_EXPORT void brook_store_release_values(brook_store_t *s);

/**
 * @brief Read an int64 counter stored as 8 big-endian bytes.
 * @param valuep receives the value, 0 when the key is absent.
 * @returns BROOK_OK, BROOK_ERR_NOT_FOUND (absent), BROOK_ERR_DECODE (the
 *          value is not 8 bytes), or a read error.
 */
BROOK_EXPORT brook_err_t brook_store_get_int64(brook_store_t *s,
                                               const void *key, size_t key_len,
                                               int64_t *valuep);

/** @brief Write an int64 counter as 8 big-endian bytes. */
BROOK_EXPORT brook_err_t brook_store_put_int64(brook_store_t *s,
                                               const void *key, size_t key_len,
                                               int64_t value);

/**
 * @brief Add @p delta to the int64 counter of @p key (absent counts as 0).
 * @param newp receives the new value (may be NULL).
 */
BROOK_EXPORT brook_err_t brook_store_add_int64(brook_store_t *s,
                                               const void *key, size_t key_len,
                                               int64_t delta, int64_t *newp);

/* ------------------------------------------------------------------ */
/* user backends                                                       */

/**
 * @brief Backend open: create the backend's handle for one store.
 * @param dbp  receives the handle passed to every other function.
 * @param path directory reserved for this store (may be NULL standalone).
 * @returns BROOK_OK, or an error with @p errstr set.
 */
typedef brook_err_t(brook_store_open_fn)(void **dbp, const char *name,
                                         const char *path, void *opaque,
                                         char *errstr, size_t errstr_size);
/** @brief Backend close. */
typedef void(brook_store_close_fn)(void *db, void *opaque);
/**
 * @brief Backend get: on a hit, copy the value out with
 *        brook_store_result_set(res, 0, value, len); leave it unset on a
 *        miss.
 */
typedef brook_err_t(brook_store_get_fn)(void *db, const void *key,
                                        size_t key_len,
                                        brook_store_result_t *res,
                                        void *opaque);
/** @brief Backend put (the memory is only valid during the call). */
typedef brook_err_t(brook_store_put_fn)(void *db, const void *key,
                                        size_t key_len, const void *value,
                                        size_t value_len, void *opaque);
/** @brief Backend delete. */
typedef brook_err_t(brook_store_delete_fn)(void *db, const void *key,
                                           size_t key_len, void *opaque);
/** @brief Backend batch get: result slot i is key i. */
typedef brook_err_t(brook_store_get_batch_fn)(void *db, size_t cnt,
                                              const void *const *keys,
                                              const size_t *key_lens,
                                              brook_store_result_t *res,
                                              void *opaque);
/**
 * @brief Backend batch write: values[i] NULL means delete key i (so one
 *        function serves put_batch, delete_batch and restoration).
 */
typedef brook_err_t(brook_store_write_batch_fn)(
    void *db, size_t cnt, const void *const *keys, const size_t *key_lens,
    const void *const *values, const size_t *value_lens, void *opaque);
/**
 * @brief Backend ordered scan step: the first key > @p after (or >= when
 *        @p inclusive; NULL @p after: the first key); set it with
 *        brook_store_result_set_key(res, 0, ...) and its value with
 *        brook_store_result_set(res, 0, ...); leave unset at the end.
 */
typedef brook_err_t(brook_store_next_fn)(void *db, const void *after,
                                         size_t after_len, int inclusive,
                                         brook_store_result_t *res,
                                         void *opaque);
/** @brief Backend flush / clear (delete everything). */
typedef brook_err_t(brook_store_void_fn)(void *db, void *opaque);

/** @brief New, empty backend table. @returns NULL when out of memory. */
BROOK_EXPORT brook_store_backend_t *brook_store_backend_new(void);
/** @brief Free a backend table. Accepts NULL. */
BROOK_EXPORT void brook_store_backend_destroy(brook_store_backend_t *b);
/** @brief Set open (optional) and close (optional). */
BROOK_EXPORT void brook_store_backend_set_open(brook_store_backend_t *b,
                                               brook_store_open_fn *open,
                                               brook_store_close_fn *close);
/** @brief Set the required single-key functions. */
BROOK_EXPORT void brook_store_backend_set_kv(brook_store_backend_t *b,
                                             brook_store_get_fn *get,
                                             brook_store_put_fn *put,
                                             brook_store_delete_fn *del);
/**
 * @brief Set the optional batch functions; brook loops the single ones
 *        for whichever is NULL.
 */
BROOK_EXPORT void
brook_store_backend_set_batch(brook_store_backend_t *b,
                              brook_store_get_batch_fn *get_batch,
                              brook_store_write_batch_fn *write_batch);
/** @brief Set the optional ordered scan (needed for range iteration). */
BROOK_EXPORT void brook_store_backend_set_next(brook_store_backend_t *b,
                                               brook_store_next_fn *next);
/**
 * @brief Set optional flush and clear. Without clear, brook wipes a store
 *        (before a full restore) by scanning and deleting.
 */
BROOK_EXPORT void brook_store_backend_set_maint(brook_store_backend_t *b,
                                                brook_store_void_fn *flush,
                                                brook_store_void_fn *clear);
/** @brief Set the pointer passed to every backend function. */
BROOK_EXPORT void brook_store_backend_set_opaque(brook_store_backend_t *b,
                                                 void *opaque);

/**
 * @brief From a backend read: result slot @p idx gets a copy of
 *        @p value / @p len.
 * @returns BROOK_OK, BROOK_ERR_NO_MEM, BROOK_ERR_INVALID_ARG (bad index).
 */
BROOK_EXPORT brook_err_t brook_store_result_set(brook_store_result_t *res,
                                                size_t idx, const void *value,
                                                size_t len);
/** @brief From a backend scan: result slot @p idx gets a copy of the key. */
BROOK_EXPORT brook_err_t brook_store_result_set_key(brook_store_result_t *res,
                                                    size_t idx, const void *key,
                                                    size_t len);

/* ------------------------------------------------------------------ */
/* state directory                                                     */

/** @brief An exclusive lock on a state directory (opaque). */
typedef struct brook_state_lock_s brook_state_lock_t;

/**
 * @brief Lock the directory @p dir (created if missing) with an exclusive
 *        flock() on `<dir>/.lock`.
 * @returns the lock, or NULL with @p errp set: BROOK_ERR_LOCKED when
 *          another handle (in this or another process) holds it,
 *          BROOK_ERR_IO otherwise.
 * @remark brook's streams runtime takes this lock on every task directory
 *         before opening its stores.
 */
BROOK_EXPORT brook_state_lock_t *brook_state_dir_lock(const char *dir,
                                                      brook_err_t *errp,
                                                      char *errstr,
                                                      size_t errstr_size);

/** @brief Release the lock. Accepts NULL. */
BROOK_EXPORT void brook_state_dir_unlock(brook_state_lock_t *lock);

#ifdef __cplusplus
}
#endif
#endif /* BROOK_STORE_H */
