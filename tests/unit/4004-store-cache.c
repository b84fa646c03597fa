/*
 * 4004: the record cache in front of a store (store.cache.max.bytes), on a
 * counting user backend and on RocksDB, without Kafka:
 *
 *  1. writes stay in the cache: 1000 puts to 100 keys reach the backend as
 *     nothing until the flush, then as ONE batch write of 100 entries, the
 *     latest value per key; the flush listener gets the same 100 entries.
 *  2. reads see dirty values (get and get_batch), a dirty delete reads as
 *     absent and is written as a delete; a backend hit is cached (the
 *     second read does not reach the backend), an absent key is not.
 *  3. eviction when the thread's budget is full: with a 4 KB budget the
 *     writes of 200 keys flush dirty entries (batch writes before any
 *     explicit flush), the cache stays within budget plus one entry, and an
 *     evicted key is read back from the backend with its latest value.
 *  4. two stores share one budget (used = sum of both); closing a store
 *     drops its part, dirty entries unwritten.
 *  5. a range iteration flushes first and sees the cached writes
 *     (RocksDB), restoration clears the cache.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/store.h"
#include "streams_test.h"

/* ---- a counting user backend: a small unsorted table ---- */

typedef struct ent_s {
        char k[32], v[64];
        size_t kl, vl;
        int used;
} ent_t;

static ent_t tab[4096];
static int gets, batch_gets, writes, write_batches, batch_entries, deletes;

static ent_t *lookup(const void *k, size_t kl, int create)
{
        size_t i;
        ent_t *free_e = NULL;

        for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
                if (tab[i].used && tab[i].kl == kl && !memcmp(tab[i].k, k, kl))
                        return &tab[i];
                if (!tab[i].used && !free_e)
                        free_e = &tab[i];
        }
        if (!create || !free_e)
                return NULL;
        free_e->used = 1;
        memcpy(free_e->k, k, kl);
        free_e->kl = kl;
        return free_e;
}

static brook_err_t b_get(void *db, const void *k, size_t kl,
                         brook_store_result_t *res, void *op)
{
        ent_t *e = lookup(k, kl, 0);

        gets++;
        return e ? brook_store_result_set(res, 0, e->v, e->vl) : BROOK_OK;
}

static brook_err_t b_put(void *db, const void *k, size_t kl, const void *v,
                         size_t vl, void *op)
{
        ent_t *e = lookup(k, kl, 1);

        writes++;
        memcpy(e->v, v, vl);
        e->vl = vl;
        return BROOK_OK;
}

static brook_err_t b_del(void *db, const void *k, size_t kl, void *op)
{
        ent_t *e = lookup(k, kl, 0);

        writes++;
        deletes++;
        if (e)
                e->used = 0;
        return BROOK_OK;
}

static brook_err_t b_get_batch(void *db, size_t cnt, const void *const *keys,
                               const size_t *klens, brook_store_result_t *res,
                               void *op)
{
        size_t i;

        batch_gets++;
        for (i = 0; i < cnt; i++) {
                ent_t *e = lookup(keys[i], klens[i], 0);

                gets++;
                if (e && brook_store_result_set(res, i, e->v, e->vl))
                        return BROOK_ERR_NO_MEM;
        }
        return BROOK_OK;
}

static brook_err_t b_write_batch(void *db, size_t cnt, const void *const *keys,
                                 const size_t *klens, const void *const *vals,
                                 const size_t *vlens, void *op)
{
        size_t i;

        write_batches++;
        batch_entries += (int)cnt;
        for (i = 0; i < cnt; i++) {
                if (vals[i]) {
                        ent_t *e = lookup(keys[i], klens[i], 1);

                        memcpy(e->v, vals[i], vlens[i]);
                        e->vl = vlens[i];
                } else {
                        ent_t *e = lookup(keys[i], klens[i], 0);

                        deletes++;
                        if (e)
                                e->used = 0;
                }
        }
        return BROOK_OK;
}

static void reset_backend(void)
{
        memset(tab, 0, sizeof(tab));
        gets = batch_gets = writes = write_batches = batch_entries = 0;
        deletes = 0;
}

static brook_store_t *open_counting(const char *name,
                                    brook__cache_budget_t *budget)
{
        brook_store_backend_t *b = brook_store_backend_new();
        brook_store_t *s;
        char es[256];

        brook_store_backend_set_kv(b, b_get, b_put, b_del);
        brook_store_backend_set_batch(b, b_get_batch, b_write_batch);
        s = brook_store_open_custom(name, b, NULL, es, sizeof(es));
        TEST_ASSERT(s, "%s", es);
        brook_store_backend_destroy(b);
        TEST_ASSERT(!brook__store_cache_enable(s, budget, NULL), "cache");
        return s;
}

/* ---- the flush listener ---- */

static size_t heard;
static char heard_keys[256][16];
static int64_t heard_vals[256];

static brook_err_t listener(void *arg, size_t cnt, const void *const *keys,
                            const size_t *key_lens, const void *const *values,
                            const size_t *value_lens, const int64_t *timestamps)
{
        size_t i;

        (void)arg;
        (void)timestamps;
        for (i = 0; i < cnt && heard < 256; i++, heard++) {
                snprintf(heard_keys[heard], sizeof(heard_keys[heard]), "%.*s",
                         (int)key_lens[i], (const char *)keys[i]);
                heard_vals[heard] = values[i] && value_lens[i] == 8
                                        ? brook_int64_from_be(values[i])
                                        : -1;
        }
        return BROOK_OK;
}

static void key(char *buf, size_t size, int i)
{
        snprintf(buf, size, "k%03d", i);
}

/* 1. coalescing and one batch per flush */
static void test_coalesce(void)
{
        brook__cache_budget_t budget = {1 << 20, 0};
        brook_store_t *s;
        char k[16];
        int i;
        size_t j;

        reset_backend();
        s = open_counting("coalesce", &budget);
        brook__store_set_flush_listener(s, listener, NULL);
        for (i = 0; i < 1000; i++) {
                key(k, sizeof(k), i % 100);
                TEST_ASSERT(!brook_store_put_int64(s, k, 4, i), "put");
        }
        TEST_ASSERT(writes == 0 && write_batches == 0,
                    "the backend was written before the flush: %d puts, %d "
                    "batches",
                    writes, write_batches);
        TEST_ASSERT(brook__store_cache_dirty(s), "dirty");
        TEST_ASSERT(!brook_store_flush(s), "flush");
        TEST_ASSERT(write_batches == 1 && batch_entries == 100 && writes == 0,
                    "flush wrote %d batches with %d entries (+%d single), "
                    "want 1 batch of 100",
                    write_batches, batch_entries, writes);
        for (i = 0; i < 100; i++) {
                ent_t *e;

                key(k, sizeof(k), i);
                e = lookup(k, 4, 0);
                TEST_ASSERT(
                    e && e->vl == 8 && brook_int64_from_be(e->v) == 900 + i,
                    "backend %s = %lld, want the latest %d", k,
                    e ? (long long)brook_int64_from_be(e->v) : -1LL, 900 + i);
        }
        TEST_ASSERT(heard == 100, "listener heard %zu entries", heard);
        for (j = 0; j < heard; j++)
                TEST_ASSERT(heard_vals[j] == 900 + atoi(heard_keys[j] + 1),
                            "listener: %s = %lld", heard_keys[j],
                            (long long)heard_vals[j]);
        /* nothing dirty: a second flush writes nothing */
        TEST_ASSERT(!brook_store_flush(s) && write_batches == 1,
                    "a clean cache was written again");
        brook_store_close(s);
        TEST_ASSERT(budget.used == 0, "budget after close: %zu", budget.used);
        TEST_SAY("1000 puts to 100 keys: 0 backend writes until the flush, "
                 "then 1 batch of 100 (latest values)");
}

/* 2. reads through the cache */
static void test_reads(void)
{
        brook__cache_budget_t budget = {1 << 20, 0};
        brook_store_t *s;
        const void *keys[3] = {"a", "b", "zz"}, *vals[3];
        size_t klens[3] = {1, 1, 2}, vlens[3], vl;
        const void *v;
        int64_t n;

        reset_backend();
        s = open_counting("reads", &budget);
        TEST_ASSERT(!brook_store_put(s, "a", 1, "dirty-a", 7), "put");
        TEST_ASSERT(!brook_store_get(s, "a", 1, &v, &vl) && v && vl == 7 &&
                        !memcmp(v, "dirty-a", 7),
                    "get does not see the dirty value");
        TEST_ASSERT(gets == 0, "a dirty hit went to the backend");
        /* b only in the backend */
        b_put(NULL, "b", 1, "old-b", 5, NULL);
        writes = 0;
        TEST_ASSERT(!brook_store_get_batch(s, 3, keys, klens, vals, vlens),
                    "get_batch");
        TEST_ASSERT(vals[0] && vlens[0] == 7 && !memcmp(vals[0], "dirty-a", 7),
                    "get_batch: a");
        TEST_ASSERT(vals[1] && vlens[1] == 5 && !memcmp(vals[1], "old-b", 5),
                    "get_batch: b");
        TEST_ASSERT(!vals[2], "get_batch: zz absent");
        TEST_ASSERT(batch_gets == 1 && gets == 2,
                    "misses: %d batch gets for %d keys (want 1 for 2)",
                    batch_gets, gets);
        /* b is now cached (clean), zz is not (absent keys are not) */
        TEST_ASSERT(!brook_store_get(s, "b", 1, &v, &vl) && v && gets == 2,
                    "a cached read went to the backend");
        TEST_ASSERT(!brook_store_get(s, "zz", 2, &v, &vl) && !v && gets == 3,
                    "absent key");
        /* a dirty delete reads as absent, then is written as a delete */
        TEST_ASSERT(!brook_store_delete(s, "b", 1), "delete");
        TEST_ASSERT(!brook_store_get(s, "b", 1, &v, &vl) && !v && gets == 3,
                    "a deleted key is visible or read from the backend");
        TEST_ASSERT(brook_store_get_int64(s, "b", 1, &n) == BROOK_ERR_NOT_FOUND,
                    "deleted counter");
        TEST_ASSERT(lookup("b", 1, 0), "deleted before the flush");
        TEST_ASSERT(!brook_store_flush(s), "flush");
        TEST_ASSERT(!lookup("b", 1, 0) && deletes == 1, "delete not written");
        TEST_ASSERT(lookup("a", 1, 0), "put not written");
        brook_store_release_values(s);
        brook_store_close(s);
        TEST_SAY("reads see dirty values and deletes; a backend hit is "
                 "cached, an absent key is not");
}

/* 3. eviction */
static void test_eviction(void)
{
        brook__cache_budget_t budget = {4096, 0};
        brook_store_t *s;
        size_t max_used = 0;
        char k[16];
        int i, batches_before_flush;
        int64_t v;

        reset_backend();
        s = open_counting("evict", &budget);
        for (i = 0; i < 200; i++) {
                key(k, sizeof(k), i);
                TEST_ASSERT(!brook_store_put_int64(s, k, 4, 1000 + i), "put");
                if (budget.used > max_used)
                        max_used = budget.used;
        }
        batches_before_flush = write_batches;
        TEST_ASSERT(batches_before_flush > 0,
                    "a full cache wrote nothing (budget used %zu of %zu)",
                    budget.used, budget.max);
        TEST_ASSERT(max_used <= budget.max + 256,
                    "the cache grew to %zu bytes with a budget of %zu",
                    max_used, budget.max);
        /* an evicted key comes back from the backend with its value */
        gets = 0;
        TEST_ASSERT(!brook_store_get_int64(s, "k000", 4, &v) && v == 1000,
                    "k000 = %lld", (long long)v);
        TEST_ASSERT(gets == 1, "k000 was not evicted (backend gets %d)", gets);
        TEST_ASSERT(!brook_store_flush(s), "flush");
        for (i = 0; i < 200; i++) {
                ent_t *e;

                key(k, sizeof(k), i);
                e = lookup(k, 4, 0);
                TEST_ASSERT(e && brook_int64_from_be(e->v) == 1000 + i,
                            "backend %s", k);
        }
        brook_store_release_values(s);
        brook_store_close(s);
        TEST_SAY("4 KB budget, 200 keys: %d batch writes before the flush, "
                 "peak %zu bytes; evicted keys read back from the backend",
                 batches_before_flush, max_used);
}

/* 4. a shared budget; close drops dirty entries */
static void test_shared_budget(void)
{
        brook__cache_budget_t budget = {1 << 20, 0};
        brook_store_t *a, *b;
        size_t after_a;

        reset_backend();
        a = open_counting("a", &budget);
        b = open_counting("b", &budget);
        TEST_ASSERT(!brook_store_put(a, "x", 1, "1", 1), "put");
        after_a = budget.used;
        TEST_ASSERT(!brook_store_put(b, "y", 1, "2", 1), "put");
        TEST_ASSERT(budget.used > after_a && a->cache->bytes > 0 &&
                        b->cache->bytes > 0 &&
                        budget.used == a->cache->bytes + b->cache->bytes,
                    "budget %zu != %zu + %zu", budget.used, a->cache->bytes,
                    b->cache->bytes);
        brook_store_close(a);
        TEST_ASSERT(budget.used == b->cache->bytes, "close did not release");
        TEST_ASSERT(writes == 0 && write_batches == 0,
                    "close wrote dirty entries");
        brook_store_close(b);
        TEST_ASSERT(budget.used == 0, "budget %zu", budget.used);
}

/* 5. range iteration and restoration on RocksDB */
static void test_rocksdb(void)
{
        brook__cache_budget_t budget = {1 << 20, 0};
        const char *dir = st_tmpdir("brook-4004");
        char path[512], es[256];
        brook_store_t *s;
        brook_store_iter_t *it;
        const void *k, *v;
        size_t kl, vl, n = 0;
        const void *rk[1] = {"r"}, *rv[1] = {"restored"};
        size_t rkl[1] = {1}, rvl[1] = {8};

        snprintf(path, sizeof(path), "%s/db", dir);
        s = brook_store_open_rocksdb("rdb", path, NULL, es, sizeof(es));
        TEST_ASSERT(s, "%s", es);
        TEST_ASSERT(!brook__store_cache_enable(s, &budget, NULL), "cache");
        TEST_ASSERT(!brook_store_put(s, "c", 1, "3", 1) &&
                        !brook_store_put(s, "a", 1, "1", 1) &&
                        !brook_store_put(s, "b", 1, "2", 1),
                    "put");
        v = NULL;
        TEST_ASSERT(!s->impl->get(s, "a", 1, &v, &vl) && !v,
                    "RocksDB was written before the flush");
        it = brook_store_range(s, NULL, 0, NULL, 0);
        TEST_ASSERT(it, "range");
        while (brook_store_iter_next(it, &k, &kl, &v, &vl)) {
                TEST_ASSERT(kl == 1 && *(const char *)k == "abc"[n], "order");
                n++;
        }
        brook_store_iter_destroy(it);
        TEST_ASSERT(n == 3 && !brook__store_cache_dirty(s),
                    "range saw %zu rows", n);
        TEST_ASSERT(!brook_store_put(s, "a", 1, "new", 3), "put");
        TEST_ASSERT(!brook__store_restore_batch(s, 1, rk, rkl, rv, rvl),
                    "restore");
        TEST_ASSERT(s->cache->count == 0, "restoration kept cache entries");
        TEST_ASSERT(!brook_store_get(s, "r", 1, &v, &vl) && v && vl == 8,
                    "restored key");
        brook_store_release_values(s);
        brook_store_close(s);
        st_rmrf(dir);
}

int main(void)
{
        test_coalesce();
        test_reads();
        test_eviction();
        test_shared_budget();
        test_rocksdb();
        return 0;
}
