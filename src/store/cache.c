/*
 * store/cache.c: the record cache's table: chained hashing on a
 * power-of-two bucket array (doubled at load 1), an intrusive LRU list and
 * the list of dirty entries. See store/cache.h.
 */
#include <stdlib.h>
#include <string.h>

#include "store/cache.h"

/* Bookkeeping charged per entry besides key and value: the entry header,
 * its bucket slot and malloc's overhead, roughly. */
#define ENTRY_OVERHEAD (sizeof(brook__centry_t) + 2 * sizeof(void *) + 16)

uint64_t brook__cache_hash(const void *key, size_t klen)
{
        const unsigned char *p = key;
        uint64_t h = 0x9e3779b97f4a7c15ull ^ (uint64_t)klen, v;
        size_t n = klen;

        while (n >= 8) {
                memcpy(&v, p, 8);
                h = (h ^ v) * 0xbf58476d1ce4e5b9ull;
                h ^= h >> 31;
                p += 8;
                n -= 8;
        }
        v = 0;
        while (n--)
                v = (v << 8) | p[n];
        h = (h ^ v) * 0x94d049bb133111ebull;
        h ^= h >> 29;
        h *= 0xff51afd7ed558ccdull;
        return h ^ (h >> 32);
}

static void charge(brook__cache_t *c, size_t add, size_t sub)
{
        c->bytes = c->bytes + add - sub;
        c->budget->used = c->budget->used + add - sub;
}

static size_t entry_bytes(const brook__centry_t *e)
{
        return ENTRY_OVERHEAD + e->klen + e->vcap;
}

brook__cache_t *brook__cache_new(brook__cache_budget_t *budget)
{
        brook__cache_t *c = calloc(1, sizeof(*c));

        if (!c)
                return NULL;
        c->budget = budget;
        c->nbuckets = 256;
        if (!(c->buckets = calloc(c->nbuckets, sizeof(*c->buckets)))) {
                free(c);
                return NULL;
        }
        charge(c, c->nbuckets * sizeof(*c->buckets), 0);
        return c;
}

static void lru_unlink(brook__cache_t *c, brook__centry_t *e)
{
        if (e->prev)
                e->prev->next = e->next;
        else
                c->head = e->next;
        if (e->next)
                e->next->prev = e->prev;
        else
                c->tail = e->prev;
        e->prev = e->next = NULL;
}

static void lru_append(brook__cache_t *c, brook__centry_t *e)
{
        e->prev = c->tail;
        e->next = NULL;
        if (c->tail)
                c->tail->next = e;
        else
                c->head = e;
        c->tail = e;
}

static void entry_free(brook__cache_t *c, brook__centry_t *e)
{
        charge(c, 0, entry_bytes(e));
        free(e->val);
        free(e);
        c->count--;
}

void brook__cache_clear(brook__cache_t *c)
{
        brook__centry_t *e = c->head;

        while (e) {
                brook__centry_t *n = e->next;

                entry_free(c, e);
                e = n;
        }
        memset(c->buckets, 0, c->nbuckets * sizeof(*c->buckets));
        c->head = c->tail = NULL;
        c->ndirty = 0;
}

void brook__cache_destroy(brook__cache_t *c)
{
        if (!c)
                return;
        brook__cache_clear(c);
        charge(c, 0,
               c->nbuckets * sizeof(*c->buckets) +
                   c->dirty_cap * sizeof(*c->dirty));
        free(c->buckets);
        free(c->dirty);
        free(c);
}

static brook__centry_t **slot_of(brook__cache_t *c, const void *key,
                                 size_t klen, uint64_t hash)
{
        brook__centry_t **pp = &c->buckets[hash & (c->nbuckets - 1)];

        for (; *pp; pp = &(*pp)->hnext)
                if ((*pp)->hash == hash && (*pp)->klen == klen &&
                    !memcmp((*pp)->key, key, klen))
                        break;
        return pp;
}

brook__centry_t *brook__cache_get(brook__cache_t *c, const void *key,
                                  size_t klen, uint64_t hash)
{
        brook__centry_t *e = *slot_of(c, key, klen, hash);

        if (!e) {
                c->misses++;
                return NULL;
        }
        c->hits++;
        if (e != c->tail) {
                lru_unlink(c, e);
                lru_append(c, e);
        }
        return e;
}

/* Double the bucket array (best effort: a failed grow keeps chaining). */
static void grow(brook__cache_t *c)
{
        size_t n = c->nbuckets * 2, i;
        brook__centry_t **b = calloc(n, sizeof(*b));

        if (!b)
                return;
        for (i = 0; i < c->nbuckets; i++) {
                brook__centry_t *e = c->buckets[i];

                while (e) {
                        brook__centry_t *next = e->hnext;
                        size_t s = e->hash & (n - 1);

                        e->hnext = b[s];
                        b[s] = e;
                        e = next;
                }
        }
        charge(c, n * sizeof(*b), c->nbuckets * sizeof(*b));
        free(c->buckets);
        c->buckets = b;
        c->nbuckets = n;
}

static int set_value(brook__cache_t *c, brook__centry_t *e, const void *val,
                     size_t vlen)
{
        if (!val) {
                charge(c, 0, e->vcap);
                free(e->val);
                e->val = NULL;
                e->vlen = e->vcap = 0;
                return 0;
        }
        if (!e->val || vlen > e->vcap || vlen < e->vcap / 2) {
                size_t cap = vlen ? vlen : 1;
                unsigned char *v = malloc(cap);

                if (!v)
                        return -1;
                charge(c, cap, e->vcap);
                free(e->val);
                e->val = v;
                e->vcap = cap;
        }
        if (vlen)
                memcpy(e->val, val, vlen);
        e->vlen = vlen;
        return 0;
}

static int mark_dirty(brook__cache_t *c, brook__centry_t *e)
{
        if (e->dirty)
                return 0;
        if (c->ndirty == c->dirty_cap) {
                size_t cap = c->dirty_cap ? c->dirty_cap * 2 : 64;
                brook__centry_t **d = realloc(c->dirty, cap * sizeof(*d));

                if (!d)
                        return -1;
                charge(c, (cap - c->dirty_cap) * sizeof(*d), 0);
                c->dirty = d;
                c->dirty_cap = cap;
        }
        c->dirty[c->ndirty++] = e;
        e->dirty = 1;
        return 0;
}

brook__centry_t *brook__cache_put(brook__cache_t *c, const void *key,
                                  size_t klen, uint64_t hash, const void *val,
                                  size_t vlen, int dirty, int64_t ts)
{
        brook__centry_t **pp = slot_of(c, key, klen, hash), *e = *pp;

        if (!e) {
                if (!(e = calloc(1, sizeof(*e) + klen)))
                        return NULL;
                e->hash = hash;
                e->klen = (uint32_t)klen;
                memcpy(e->key, key, klen);
                charge(c, entry_bytes(e), 0);
                c->count++;
                if (set_value(c, e, val, vlen) || (dirty && mark_dirty(c, e))) {
                        entry_free(c, e);
                        return NULL;
                }
                *pp = e;
                lru_append(c, e);
                if (c->count > c->nbuckets)
                        grow(c);
        } else {
                /* A read result never overwrites a newer dirty value. */
                if (!dirty && e->dirty)
                        return e;
                if (set_value(c, e, val, vlen) || (dirty && mark_dirty(c, e)))
                        return NULL;
                if (e != c->tail) {
                        lru_unlink(c, e);
                        lru_append(c, e);
                }
        }
        e->ts = ts;
        return e;
}

static void table_remove(brook__cache_t *c, brook__centry_t *e)
{
        brook__centry_t **pp = &c->buckets[e->hash & (c->nbuckets - 1)];

        while (*pp != e)
                pp = &(*pp)->hnext;
        *pp = e->hnext;
        lru_unlink(c, e);
}

void brook__cache_evict_eldest(brook__cache_t *c)
{
        brook__centry_t *e = c->head;

        if (!e || e->dirty)
                return;
        table_remove(c, e);
        entry_free(c, e);
        c->evicted++;
}

void brook__cache_mark_clean(brook__cache_t *c)
{
        size_t i;

        for (i = 0; i < c->ndirty; i++) {
                brook__centry_t *e = c->dirty[i];

                e->dirty = 0;
                if (!e->val) { /* a written delete: nothing to keep */
                        table_remove(c, e);
                        entry_free(c, e);
                }
        }
        c->flushed += (int64_t)c->ndirty;
        c->flushes++;
        c->ndirty = 0;
}
