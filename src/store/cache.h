/*
 * store/cache.h: a store's write-back record cache (Kafka Streams'
 * `statestore.cache.max.bytes`). Not API.
 *
 * A hash table of the latest value per key, in LRU order, with the dirty
 * entries (written since the last flush) in the order they became dirty.
 * store/store.c puts it in front of the backend: puts and deletes only touch
 * the cache, reads go through it, and a flush writes the dirty entries to
 * the backend and the changelog as one batch. This file only keeps the
 * entries and the byte accounting; what a flush or an eviction writes is
 * store/store.c's business.
 *
 * Bytes: every entry counts its key, value capacity and bookkeeping
 * against a budget shared by the caches of one stream thread (the
 * property divided by num.stream.threads).
 *
 * @locality the stream thread that owns the stores sharing the budget.
 */
#ifndef BROOK__STORE_CACHE_H
#define BROOK__STORE_CACHE_H

#include <stddef.h>
#include <stdint.h>

/* Bytes available to the caches of one thread. */
typedef struct brook__cache_budget_s {
        size_t max;  /* > 0 */
        size_t used; /* sum over the caches sharing it */
} brook__cache_budget_t;

typedef struct brook__centry_s brook__centry_t;
struct brook__centry_s {
        brook__centry_t *hnext;       /* hash chain */
        brook__centry_t *prev, *next; /* LRU list, head = eldest */
        uint64_t hash;
        unsigned char *val; /* NULL: deleted (tombstone) */
        size_t vlen, vcap;
        int64_t ts; /* time of the last write */
        uint32_t klen;
        uint8_t dirty;
        unsigned char key[]; /* klen bytes */
};

typedef struct brook__cache_s {
        brook__cache_budget_t *budget;
        brook__centry_t **buckets;
        size_t nbuckets; /* power of two */
        size_t count;
        size_t bytes; /* this cache's part of budget->used */
        brook__centry_t *head, *tail;
        brook__centry_t **dirty; /* in the order they became dirty */
        size_t ndirty, dirty_cap;
        int flushing; /* a flush is running: no eviction */
        /* counters since creation */
        int64_t hits, misses, flushes, flushed, evicted;
} brook__cache_t;

/* Hash of a key, as the cache computes it. */
uint64_t brook__cache_hash(const void *key, size_t klen);

/* A cache charging @p budget. NULL when out of memory. */
brook__cache_t *brook__cache_new(brook__cache_budget_t *budget);

/* Drop every entry (dirty ones too) and free. Accepts NULL. */
void brook__cache_destroy(brook__cache_t *c);

/* Drop every entry (dirty ones too). */
void brook__cache_clear(brook__cache_t *c);

/* The entry of @p key (most recently used from now on), or NULL. */
brook__centry_t *brook__cache_get(brook__cache_t *c, const void *key,
                                  size_t klen, uint64_t hash);

/*
 * Set @p key to @p val (NULL: tombstone, dirty only), most recently used.
 * A dirty write marks the entry dirty; a clean one (a read from the
 * backend) never makes an entry clean. Returns the entry, NULL when out
 * of memory.
 */
brook__centry_t *brook__cache_put(brook__cache_t *c, const void *key,
                                  size_t klen, uint64_t hash, const void *val,
                                  size_t vlen, int dirty, int64_t ts);

/* Is the shared budget exceeded? */
static inline int brook__cache_over(const brook__cache_t *c)
{
        return c->budget->used > c->budget->max;
}

/* Remove the eldest entry, which must be clean. */
void brook__cache_evict_eldest(brook__cache_t *c);

/*
 * After the dirty entries were written: mark them clean, remove the
 * tombstones, empty the dirty list.
 */
void brook__cache_mark_clean(brook__cache_t *c);

#endif /* BROOK__STORE_CACHE_H */
