/*
 * bench-store: state store operations per second, single vs batch, on
 * RocksDB (and the in-memory store for reference).
 *
 *   bench-store [--keys N] [--dir DIR] [--value-size B] [--memory 1]
 *
 * Writes N keys with put (one call per key), put_batch of 100 and of 1000
 * (one WriteBatch each), then reads them with get, get_batch of 100 and of
 * 1000 (one MultiGet each), and prints operations per CPU-second of the
 * calling thread and the ratio to the single form. --memory 1 adds the
 * in-memory store, whose batch forms are the same loop as the single ones
 * (its numbers only show allocator and cache noise). WAL off (brook's default:
 * the changelog is the durable copy).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "brook/brook.h"

/* CPU time of this thread: the store calls run on it (RocksDB's own
 * flush and compaction threads are not counted), and unlike wall time it
 * barely moves when other processes compete for the machine's cores. */
static double now_s(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#define ROUNDS 5

static size_t nkeys = 100000, vsize = 64;
static char **keys;
static size_t *klens;
static const void **vals;
static size_t *vlens;

/* ops/s of writing every key in batches of @p batch (0: single put) */
static double writes(brook_store_t *s, size_t batch)
{
        double t0 = now_s();
        size_t i;

        for (i = 0; i < nkeys;) {
                if (!batch) {
                        if (brook_store_put(s, keys[i], klens[i], vals[i],
                                            vlens[i]))
                                abort();
                        i++;
                        continue;
                }
                {
                        size_t n = nkeys - i < batch ? nkeys - i : batch;

                        if (brook_store_put_batch(
                                s, n, (const void *const *)keys + i, klens + i,
                                vals + i, vlens + i))
                                abort();
                        i += n;
                }
        }
        brook_store_release_values(s);
        return (double)nkeys / (now_s() - t0);
}

static double reads(brook_store_t *s, size_t batch)
{
        const void **out = malloc(1000 * sizeof(*out));
        size_t *outl = malloc(1000 * sizeof(*outl)), i, found = 0;
        double t0 = now_s();

        for (i = 0; i < nkeys;) {
                if (!batch) {
                        const void *v;
                        size_t vl;

                        if (brook_store_get(s, keys[i], klens[i], &v, &vl))
                                abort();
                        found += v != NULL;
                        i++;
                } else {
                        size_t n = nkeys - i < batch ? nkeys - i : batch, j;

                        if (brook_store_get_batch(s, n,
                                                  (const void *const *)keys + i,
                                                  klens + i, out, outl))
                                abort();
                        for (j = 0; j < n; j++)
                                found += out[j] != NULL;
                        i += n;
                }
                /* release per batch: bounded memory, as in a topology */
                if (!batch || i % 1000 == 0)
                        brook_store_release_values(s);
        }
        brook_store_release_values(s);
        if (found != nkeys) {
                fprintf(stderr, "found %zu of %zu keys\n", found, nkeys);
                exit(1);
        }
        free(out);
        free(outl);
        return (double)nkeys / (now_s() - t0);
}

typedef brook_store_t *(open_fn)(const char *path, const brook_conf_t *conf);

static brook_store_t *open_rocksdb(const char *path, const brook_conf_t *conf)
{
        char es[512];
        brook_store_t *s =
            brook_store_open_rocksdb("bench", path, conf, es, sizeof(es));

        if (!s) {
                fprintf(stderr, "%s\n", es);
                exit(1);
        }
        return s;
}

static brook_store_t *open_memory(const char *path, const brook_conf_t *conf)
{
        (void)path;
        (void)conf;
        return brook_store_open_memory("bench", NULL, 0);
}

static void wipe(const char *path)
{
        char cmd[600];

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
        if (system(cmd))
                exit(1);
}

/* Each write mode on a fresh store; reads on the last one, flushed and
 * warmed up (one untimed pass). */
static int cmp_dbl(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;

        return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
        qsort(v, (size_t)n, sizeof(*v), cmp_dbl);
        return v[n / 2];
}

/* Each write mode on a fresh store; reads on a flushed store after one
 * untimed pass. Modes alternate within a round and the median of the
 * rounds is reported: the machine is shared, single runs are noisy. */
static void run(const char *label, open_fn *open, const char *path,
                const brook_conf_t *conf)
{
        static const size_t modes[] = {0, 100, 1000};
        double w[3][ROUNDS], r[3][ROUNDS], mw[3], mr[3];
        brook_store_t *s;
        int m, k, j;

        /* round -1 warms up (heap, caches) and is not counted: the first
         * store of a process gets a fresh heap the others do not */
        for (k = -1; k < ROUNDS; k++) {
                for (m = 0; m < 3; m++) {
                        double wv, rv[3];

                        wipe(path);
                        s = open(path, conf);
                        wv = writes(s, modes[m]);
                        if (k >= 0)
                                w[m][k] = wv;
                        if (m < 2) {
                                brook_store_close(s);
                                continue;
                        }
                        brook_store_flush(s);
                        reads(s, 1000);
                        for (j = 0; j < 3; j++)
                                rv[j] = reads(s, modes[j]);
                        for (j = 0; k >= 0 && j < 3; j++)
                                r[j][k] = rv[j];
                        brook_store_close(s);
                }
        }
        wipe(path);
        for (m = 0; m < 3; m++) {
                mw[m] = median(w[m], ROUNDS);
                mr[m] = median(r[m], ROUNDS);
        }
        printf("| %s | put | %.0f | 1.00 |\n", label, mw[0]);
        printf("| %s | put_batch(100) | %.0f | %.2f |\n", label, mw[1],
               mw[1] / mw[0]);
        printf("| %s | put_batch(1000) | %.0f | %.2f |\n", label, mw[2],
               mw[2] / mw[0]);
        printf("| %s | get | %.0f | 1.00 |\n", label, mr[0]);
        printf("| %s | get_batch(100) | %.0f | %.2f |\n", label, mr[1],
               mr[1] / mr[0]);
        printf("| %s | get_batch(1000) | %.0f | %.2f |\n", label, mr[2],
               mr[2] / mr[0]);
        fflush(stdout);
}

int main(int argc, char **argv)
{
        char dir[256] = "", path[300], es[512], cmd[600];
        unsigned char *vbuf;
        brook_conf_t *conf;
        size_t i;
        int a, with_memory = 0;

        for (a = 1; a + 1 < argc; a += 2) {
                if (!strcmp(argv[a], "--keys"))
                        nkeys = (size_t)atol(argv[a + 1]);
                else if (!strcmp(argv[a], "--dir"))
                        snprintf(dir, sizeof(dir), "%s", argv[a + 1]);
                else if (!strcmp(argv[a], "--value-size"))
                        vsize = (size_t)atol(argv[a + 1]);
                else if (!strcmp(argv[a], "--memory"))
                        with_memory = atoi(argv[a + 1]);
        }
        if (!*dir) {
                snprintf(dir, sizeof(dir), "/tmp/brook-bench-store-XXXXXX");
                if (!mkdtemp(dir))
                        return 1;
        }
        keys = malloc(nkeys * sizeof(*keys));
        klens = malloc(nkeys * sizeof(*klens));
        vals = malloc(nkeys * sizeof(*vals));
        vlens = malloc(nkeys * sizeof(*vlens));
        vbuf = malloc(vsize);
        memset(vbuf, 'x', vsize);
        for (i = 0; i < nkeys; i++) {
                /* scattered key order, as words or user ids arrive */
                size_t k = (i * 2654435761u) % nkeys;

                keys[i] = malloc(24);
                klens[i] = (size_t)snprintf(keys[i], 24, "key-%08zu", k);
                vals[i] = vbuf;
                vlens[i] = vsize;
        }
        printf("# bench-store: %zu keys, %zu-byte values, median of %d "
               "rounds\n\n",
               nkeys, vsize, ROUNDS);
        printf("| store | operation | ops per CPU-second | vs single |\n"
               "|---|---|---|---|\n");
        snprintf(path, sizeof(path), "%s/rocksdb", dir);
        conf = brook_conf_new();
        run("rocksdb (WAL off, default)", open_rocksdb, path, conf);
        brook_conf_set(conf, "store.rocksdb.wal", "true", es, sizeof(es));
        run("rocksdb (WAL on)", open_rocksdb, path, conf);
        brook_conf_destroy(conf);
        if (with_memory)
                run("memory", open_memory, path, NULL);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        if (system(cmd))
                return 1;
        return 0;
}
