/*
 * 4001: the store API on every backend: RocksDB, in-memory, and a user
 * backend with and without batch functions (brook loops the single ones:
 * the call counts prove which path ran). get/put/delete, get_batch /
 * put_batch / delete_batch, ordered range and full iteration, int64
 * helpers, values that stay valid until released.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test.h"

/* ---- a user backend: a tiny sorted array ---- */

typedef struct kv_s {
        char *k, *v;
        size_t kl, vl;
} kv_t;

typedef struct ubk_s {
        kv_t *a;
        size_t n;
        int gets, puts, dels, get_batches, write_batches;
} ubk_t;

static ubk_t ub;

static int kcmp(const void *a, size_t al, const void *b, size_t bl)
{
        int c = memcmp(a, b, al < bl ? al : bl);

        return c ? c : (al < bl ? -1 : al > bl);
}

static long find(const void *k, size_t kl, int *found)
{
        size_t lo = 0, hi = ub.n;

        while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                int c = kcmp(ub.a[mid].k, ub.a[mid].kl, k, kl);

                if (!c) {
                        *found = 1;
                        return (long)mid;
                }
                if (c < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        *found = 0;
        return (long)lo;
}

static brook_err_t u_get(void *db, const void *k, size_t kl,
                         brook_store_result_t *res, void *op)
{
        int f;
        long i = find(k, kl, &f);

        ub.gets++;
        return f ? brook_store_result_set(res, 0, ub.a[i].v, ub.a[i].vl)
                 : BROOK_OK;
}

static brook_err_t u_put(void *db, const void *k, size_t kl, const void *v,
                         size_t vl, void *op)
{
        int f;
        long i = find(k, kl, &f);

        ub.puts++;
        if (!f) {
                ub.a = realloc(ub.a, (ub.n + 1) * sizeof(*ub.a));
                memmove(&ub.a[i + 1], &ub.a[i],
                        (ub.n - (size_t)i) * sizeof(*ub.a));
                ub.n++;
                ub.a[i].k = malloc(kl + 1);
                memcpy(ub.a[i].k, k, kl);
                ub.a[i].kl = kl;
        } else {
                free(ub.a[i].v);
        }
        ub.a[i].v = malloc(vl + 1);
        memcpy(ub.a[i].v, v, vl);
        ub.a[i].vl = vl;
        return BROOK_OK;
}

static brook_err_t u_del(void *db, const void *k, size_t kl, void *op)
{
        int f;
        long i = find(k, kl, &f);

        ub.dels++;
        if (f) {
                free(ub.a[i].k);
                free(ub.a[i].v);
                memmove(&ub.a[i], &ub.a[i + 1],
                        (ub.n - (size_t)i - 1) * sizeof(*ub.a));
                ub.n--;
        }
        return BROOK_OK;
}

static brook_err_t u_get_batch(void *db, size_t cnt, const void *const *keys,
                               const size_t *kls, brook_store_result_t *res,
                               void *op)
{
        size_t j;

        ub.get_batches++;
        for (j = 0; j < cnt; j++) {
                int f;
                long i = find(keys[j], kls[j], &f);

                if (f)
                        brook_store_result_set(res, j, ub.a[i].v, ub.a[i].vl);
        }
        return BROOK_OK;
}

static brook_err_t u_write_batch(void *db, size_t cnt, const void *const *keys,
                                 const size_t *kls, const void *const *vals,
                                 const size_t *vls, void *op)
{
        size_t j;

        ub.write_batches++;
        for (j = 0; j < cnt; j++) {
                if (vals[j])
                        u_put(db, keys[j], kls[j], vals[j], vls[j], op);
                else
                        u_del(db, keys[j], kls[j], op);
                if (vals[j])
                        ub.puts--;
                else
                        ub.dels--;
        }
        return BROOK_OK;
}

static brook_err_t u_next(void *db, const void *after, size_t al, int incl,
                          brook_store_result_t *res, void *op)
{
        int f = 0;
        long i = after ? find(after, al, &f) : 0;

        if (f && !incl)
                i++;
        if ((size_t)i >= ub.n)
                return BROOK_OK;
        brook_store_result_set_key(res, 0, ub.a[i].k, ub.a[i].kl);
        return brook_store_result_set(res, 0, ub.a[i].v, ub.a[i].vl);
}

static void ub_reset(void)
{
        size_t i;

        for (i = 0; i < ub.n; i++) {
                free(ub.a[i].k);
                free(ub.a[i].v);
        }
        free(ub.a);
        memset(&ub, 0, sizeof(ub));
}

/* ---- the checks, for any store ---- */

#define N 500

static void exercise(brook_store_t *s)
{
        const void *keys[N], *vals[N], *got[N];
        size_t kls[N], vls[N], gls[N], i, n;
        char kb[N][16], vb[N][16];
        const void *v, *k, *keep;
        size_t vl, kl;
        brook_store_iter_t *it;
        int64_t c;

        TEST_ASSERT(!brook_store_get(s, "nope", 4, &v, &vl) && !v && !vl,
                    "%s: absent key", brook_store_name(s));
        TEST_ASSERT(!brook_store_put(s, "a", 1, "1", 1), "put");
        TEST_ASSERT(!brook_store_get(s, "a", 1, &keep, &vl) && vl == 1 &&
                        !memcmp(keep, "1", 1),
                    "get a");
        /* Overwrite: the value read before stays valid until released. */
        TEST_ASSERT(!brook_store_put(s, "a", 1, "22", 2), "overwrite");
        TEST_ASSERT(!memcmp(keep, "1", 1), "earlier read changed");
        TEST_ASSERT(!brook_store_get(s, "a", 1, &v, &vl) && vl == 2 &&
                        !memcmp(v, "22", 2),
                    "get a after overwrite");
        TEST_ASSERT(!brook_store_put(s, "e", 1, "", 0), "empty value");
        TEST_ASSERT(!brook_store_get(s, "e", 1, &v, &vl) && v && vl == 0,
                    "empty value is not absent");
        TEST_ASSERT(!brook_store_delete(s, "a", 1) &&
                        !brook_store_delete(s, "e", 1) &&
                        !brook_store_delete(s, "zz", 2),
                    "delete");
        TEST_ASSERT(!brook_store_get(s, "a", 1, &v, &vl) && !v, "deleted");
        brook_store_release_values(s);

        /* batches */
        for (i = 0; i < N; i++) {
                snprintf(kb[i], sizeof(kb[i]), "k%05zu", (i * 7919) % N);
                snprintf(vb[i], sizeof(vb[i]), "v%zu", i);
                keys[i] = kb[i];
                kls[i] = strlen(kb[i]);
                vals[i] = vb[i];
                vls[i] = strlen(vb[i]);
        }
        TEST_ASSERT(!brook_store_put_batch(s, N, keys, kls, vals, vls),
                    "put_batch");
        TEST_ASSERT(!brook_store_get_batch(s, N, keys, kls, got, gls),
                    "get_batch");
        for (i = 0; i < N; i++)
                TEST_ASSERT(got[i] && gls[i] == vls[i] &&
                                !memcmp(got[i], vals[i], vls[i]),
                            "get_batch %zu", i);
        /* ordered range k00100..k00199 */
        it = brook_store_range(s, "k00100", 6, "k00199", 6);
        TEST_ASSERT(it, "range");
        for (n = 0; brook_store_iter_next(it, &k, &kl, &v, &vl); n++) {
                char want[16];

                snprintf(want, sizeof(want), "k%05zu", 100 + n);
                TEST_ASSERT(kl == 6 && !memcmp(k, want, 6), "range key %zu", n);
        }
        TEST_ASSERT(n == 100 && !brook_store_iter_error(it), "range count %zu",
                    n);
        brook_store_iter_destroy(it);
        /* full iteration */
        it = brook_store_range(s, NULL, 0, NULL, 0);
        for (n = 0; brook_store_iter_next(it, &k, &kl, &v, &vl); n++)
                ;
        TEST_ASSERT(n == N, "full iteration %zu", n);
        brook_store_iter_destroy(it);
        /* delete_batch half of them */
        TEST_ASSERT(!brook_store_delete_batch(s, N / 2, keys, kls),
                    "delete_batch");
        TEST_ASSERT(!brook_store_get_batch(s, N, keys, kls, got, gls),
                    "get_batch 2");
        for (i = 0; i < N; i++)
                TEST_ASSERT((got[i] == NULL) == (i < N / 2), "after delete %zu",
                            i);
        /* int64 */
        TEST_ASSERT(brook_store_get_int64(s, "cnt", 3, &c) ==
                        BROOK_ERR_NOT_FOUND,
                    "absent counter");
        TEST_ASSERT(!brook_store_add_int64(s, "cnt", 3, 5, &c) && c == 5,
                    "add");
        TEST_ASSERT(!brook_store_add_int64(s, "cnt", 3, -7, &c) && c == -2,
                    "add negative");
        TEST_ASSERT(!brook_store_get_int64(s, "cnt", 3, &c) && c == -2,
                    "get counter");
        TEST_ASSERT(!brook_store_get(s, "cnt", 3, &v, &vl) && vl == 8 &&
                        ((const unsigned char *)v)[7] == 0xfe,
                    "counter is big-endian");
        TEST_ASSERT(brook_store_put(s, NULL, 0, "x", 1) ==
                        BROOK_ERR_INVALID_ARG,
                    "NULL key");
        TEST_ASSERT(!brook_store_flush(s), "flush");
        brook_store_release_values(s);
        TEST_SAY("%s: ok", brook_store_name(s));
}

int main(void)
{
        char es[512], dir[] = "/tmp/brook-4001-XXXXXX", path[600];
        brook_store_backend_t *b;
        brook_store_t *s;
        const void *v;
        size_t vl;

        TEST_ASSERT(mkdtemp(dir), "mkdtemp");
        snprintf(path, sizeof(path), "%s/db", dir);

        s = brook_store_open_memory("memory", es, sizeof(es));
        TEST_ASSERT(s, "%s", es);
        exercise(s);
        brook_store_close(s);

        s = brook_store_open_rocksdb("rocksdb", path, NULL, es, sizeof(es));
        TEST_ASSERT(s, "%s", es);
        exercise(s);
        brook_store_close(s);
        /* persistence: reopen and read (flushed on close) */
        s = brook_store_open_rocksdb("rocksdb", path, NULL, es, sizeof(es));
        TEST_ASSERT(s, "%s", es);
        TEST_ASSERT(!brook_store_get(s, "k00499", 6, &v, &vl) && v,
                    "rocksdb data survives a reopen");
        brook_store_close(s);
        {
                brook_conf_t *conf = brook_conf_new();

                test_conf_set(conf, "rocksdb.write_buffer_size", "1048576");
                test_conf_set(conf, "store.rocksdb.wal", "true");
                s = brook_store_open_rocksdb("rocksdb2", path, conf, es,
                                             sizeof(es));
                TEST_ASSERT(s, "with rocksdb.* options: %s", es);
                brook_store_close(s);
                test_conf_set(conf, "rocksdb.no_such_option", "1");
                s = brook_store_open_rocksdb("rocksdb3", path, conf, es,
                                             sizeof(es));
                TEST_ASSERT(!s && strstr(es, "no_such_option"),
                            "bad rocksdb option accepted: %s", es);
                TEST_SAY("bad option rejected: %s", es);
                brook_conf_destroy(conf);
        }

        /* user backend without batch functions: per-key loops */
        b = brook_store_backend_new();
        brook_store_backend_set_kv(b, u_get, u_put, u_del);
        brook_store_backend_set_next(b, u_next);
        s = brook_store_open_custom("custom-single", b, NULL, es, sizeof(es));
        TEST_ASSERT(s, "%s", es);
        exercise(s);
        TEST_ASSERT(ub.get_batches == 0 && ub.write_batches == 0 &&
                        ub.gets >= N && ub.puts >= N && ub.dels >= N / 2,
                    "fallback loops: gets %d puts %d dels %d", ub.gets, ub.puts,
                    ub.dels);
        TEST_SAY("custom without batch functions: %d gets, %d puts, %d "
                 "deletes (looped)",
                 ub.gets, ub.puts, ub.dels);
        brook_store_close(s);
        ub_reset();

        /* with batch functions: one call per batch */
        brook_store_backend_set_batch(b, u_get_batch, u_write_batch);
        s = brook_store_open_custom("custom-batch", b, NULL, es, sizeof(es));
        TEST_ASSERT(s, "%s", es);
        exercise(s);
        TEST_ASSERT(ub.get_batches == 2 && ub.write_batches == 2 &&
                        ub.gets < N && ub.puts < 10,
                    "batch path: get_batches %d write_batches %d gets %d "
                    "puts %d",
                    ub.get_batches, ub.write_batches, ub.gets, ub.puts);
        TEST_SAY("custom with batch functions: %d get_batch, %d write_batch "
                 "calls",
                 ub.get_batches, ub.write_batches);
        brook_store_close(s);
        ub_reset();
        brook_store_backend_destroy(b);

        /* a backend without get/put/delete is refused */
        b = brook_store_backend_new();
        TEST_ASSERT(!brook_store_open_custom("bad", b, NULL, es, sizeof(es)),
                    "incomplete backend accepted");
        brook_store_backend_destroy(b);
        brook_store_close(NULL);
        {
                char cmd[700];

                snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
                TEST_ASSERT(system(cmd) == 0, "cleanup");
        }
        return 0;
}
