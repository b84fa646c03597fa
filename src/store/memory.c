/*
 * store/memory.c: the in-memory ordered store, an AVL tree keyed bytewise.
 * Reads return copies (kept in the store's value arena), so a value read
 * stays valid when the same key is overwritten in the same batch. It starts
 * empty on every open: inside a topology it is restored from the
 * changelog's beginning.
 */
#include <stdlib.h>
#include <string.h>

#include "store/store.h"

typedef struct node_s {
        struct node_s *l, *r;
        int h;
        size_t klen, vlen;
        void *val;
        unsigned char key[]; /* klen bytes */
} node_t;

typedef struct mem_s {
        node_t *root;
        size_t cnt;
} mem_t;

static int height(const node_t *n)
{
        return n ? n->h : 0;
}

static void fix(node_t *n)
{
        int a = height(n->l), b = height(n->r);

        n->h = (a > b ? a : b) + 1;
}

static node_t *rot_right(node_t *n)
{
        node_t *l = n->l;

        n->l = l->r;
        l->r = n;
        fix(n);
        fix(l);
        return l;
}

static node_t *rot_left(node_t *n)
{
        node_t *r = n->r;

        n->r = r->l;
        r->l = n;
        fix(n);
        fix(r);
        return r;
}

static node_t *balance(node_t *n)
{
        int bf;

        fix(n);
        bf = height(n->l) - height(n->r);
        if (bf > 1) {
                if (height(n->l->l) < height(n->l->r))
                        n->l = rot_left(n->l);
                return rot_right(n);
        }
        if (bf < -1) {
                if (height(n->r->r) < height(n->r->l))
                        n->r = rot_right(n->r);
                return rot_left(n);
        }
        return n;
}

/* Insert or replace; *errp set on allocation failure (tree unchanged). */
static node_t *insert(mem_t *m, node_t *n, const void *k, size_t kl,
                      const void *v, size_t vl, int *errp)
{
        int c;

        if (!n) {
                node_t *x = malloc(sizeof(*x) + (kl ? kl : 1));
                void *val = malloc(vl ? vl : 1);

                if (!x || !val) {
                        free(x);
                        free(val);
                        *errp = 1;
                        return NULL;
                }
                x->l = x->r = NULL;
                x->h = 1;
                x->klen = kl;
                x->vlen = vl;
                if (kl)
                        memcpy(x->key, k, kl);
                if (vl)
                        memcpy(val, v, vl);
                x->val = val;
                m->cnt++;
                return x;
        }
        c = brook__keycmp(k, kl, n->key, n->klen);
        if (c == 0) {
                void *val = malloc(vl ? vl : 1);

                if (!val) {
                        *errp = 1;
                        return n;
                }
                if (vl)
                        memcpy(val, v, vl);
                free(n->val);
                n->val = val;
                n->vlen = vl;
                return n;
        }
        if (c < 0) {
                node_t *x = insert(m, n->l, k, kl, v, vl, errp);

                if (!x)
                        return n;
                n->l = x;
        } else {
                node_t *x = insert(m, n->r, k, kl, v, vl, errp);

                if (!x)
                        return n;
                n->r = x;
        }
        return balance(n);
}

/* Detach the minimum of @p n into *minp. */
static node_t *take_min(node_t *n, node_t **minp)
{
        if (!n->l) {
                *minp = n;
                return n->r;
        }
        n->l = take_min(n->l, minp);
        return balance(n);
}

static node_t *erase(mem_t *m, node_t *n, const void *k, size_t kl)
{
        int c;

        if (!n)
                return NULL;
        c = brook__keycmp(k, kl, n->key, n->klen);
        if (c < 0) {
                n->l = erase(m, n->l, k, kl);
        } else if (c > 0) {
                n->r = erase(m, n->r, k, kl);
        } else {
                node_t *l = n->l, *r = n->r, *min;

                free(n->val);
                free(n);
                m->cnt--;
                if (!r)
                        return l;
                r = take_min(r, &min);
                min->l = l;
                min->r = r;
                return balance(min);
        }
        return balance(n);
}

static const node_t *find(const mem_t *m, const void *k, size_t kl)
{
        const node_t *n = m->root;

        while (n) {
                int c = brook__keycmp(k, kl, n->key, n->klen);

                if (!c)
                        return n;
                n = c < 0 ? n->l : n->r;
        }
        return NULL;
}

static void free_tree(node_t *n)
{
        while (n) {
                node_t *r = n->r;

                free_tree(n->l);
                free(n->val);
                free(n);
                n = r;
        }
}

static brook_err_t mem_get(brook_store_t *s, const void *key, size_t klen,
                           const void **valp, size_t *vlenp)
{
        const node_t *n = find(s->db, key, klen);

        if (!n)
                return BROOK_OK;
        if (!(*valp = brook__store_keep(s, n->val, n->vlen)))
                return BROOK_ERR_NO_MEM;
        *vlenp = n->vlen;
        return BROOK_OK;
}

static brook_err_t mem_get_batch(brook_store_t *s, size_t cnt,
                                 const void *const *keys, const size_t *klens,
                                 const void **vals, size_t *vlens)
{
        size_t i;
        brook_err_t err;

        for (i = 0; i < cnt; i++)
                if ((err = mem_get(s, keys[i], klens[i], &vals[i], &vlens[i])))
                        return err;
        return BROOK_OK;
}

static brook_err_t mem_write(brook_store_t *s, size_t cnt,
                             const void *const *keys, const size_t *klens,
                             const void *const *vals, const size_t *vlens)
{
        mem_t *m = s->db;
        size_t i;

        for (i = 0; i < cnt; i++) {
                int nomem = 0;

                if (!vals[i]) {
                        m->root = erase(m, m->root, keys[i], klens[i]);
                        continue;
                }
                m->root = insert(m, m->root, keys[i], klens[i], vals[i],
                                 vlens[i], &nomem);
                if (nomem)
                        return BROOK_ERR_NO_MEM;
        }
        return BROOK_OK;
}

static brook_err_t mem_next(brook_store_t *s, const void *after, size_t alen,
                            int inclusive, const void **keyp, size_t *klenp,
                            const void **valp, size_t *vlenp)
{
        const mem_t *m = s->db;
        const node_t *n = m->root, *best = NULL;

        while (n) {
                int c = after ? brook__keycmp(n->key, n->klen, after, alen) : 1;

                if (c > 0 || (c == 0 && inclusive)) {
                        best = n;
                        n = n->l;
                } else {
                        n = n->r;
                }
        }
        *keyp = NULL;
        if (!best)
                return BROOK_OK;
        *keyp = best->key;
        *klenp = best->klen;
        *valp = best->val;
        *vlenp = best->vlen;
        return BROOK_OK;
}

static brook_err_t mem_clear(brook_store_t *s)
{
        mem_t *m = s->db;

        free_tree(m->root);
        m->root = NULL;
        m->cnt = 0;
        return BROOK_OK;
}

static void mem_close(brook_store_t *s)
{
        if (s->db) {
                mem_clear(s);
                free(s->db);
                s->db = NULL;
        }
}

static const brook__store_impl_t mem_impl = {
    mem_get, mem_get_batch, mem_write, mem_next, NULL, mem_clear, mem_close};

static brook_err_t backend_memory_open(brook_store_t *s)
{
        if (!(s->db = calloc(1, sizeof(mem_t))))
                return BROOK_ERR_NO_MEM;
        s->impl = &mem_impl;
        return BROOK_OK;
}

brook_store_t *brook_store_open_memory(const char *name, char *errstr,
                                       size_t errstr_size)
{
        brook_store_t *s = brook__store_alloc(name, BROOK_STORE_MEMORY);

        if (!s || backend_memory_open(s)) {
                if (s)
                        brook__store_free(s);
                brook__errstr(errstr, errstr_size, "out of memory");
                return NULL;
        }
        return s;
}
