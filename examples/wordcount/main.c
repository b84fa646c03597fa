/*
 * wordcount: counts words of text lines, exactly, under at-least-once.
 *
 *   sub-topology 0: lines --> split (flat_map) --> <app>-words  (by word)
 *   sub-topology 1: <app>-words --> count (store "counts") --> output
 *
 * split emits one record per word (key: the word, lower-cased) with a
 * header wc.origin naming where it came from: source partition, offset
 * and the word's position in the line. The repartition topic brings every
 * occurrence of a word to one task, whose batch processor counts them with
 * one get_batch and one put_batch per batch (--single-store-ops: one get
 * and one put per word, for comparison) and writes (word, count) to the
 * output topic (string key, 8-byte big-endian count).
 *
 * Emit on flush: with the store's record cache on (store.cache.max.bytes,
 * default 10 MB) the counter registers a flush listener and forwards the
 * latest count of each word when the cache flushes (every commit, or when
 * the cache is full), as Kafka Streams' count() does with caching; so a
 * hot word costs one changelog and one output record per commit interval,
 * not one per occurrence. With caching off it forwards one record per
 * word per batch.
 *
 * Why the counts are exact: at-least-once means a crash replays records
 * after the last commit, so a word can reach the counter twice (split runs
 * again and re-sends it; the counter re-reads its input). The counter
 * stores, with each word's count, the last origin (offset, position) it
 * counted per source partition. Records of one source partition reach the
 * counter in origin order, so an origin at or before the stored one is a
 * replay and is not counted again. Count and origins are one value, one
 * changelog record: any prefix of the changelog restores a consistent
 * state. A replayed word is still written and emitted again: a crash can
 * deliver a count's changelog record but lose its output record, and the
 * replay is what puts that count on the output.
 *
 *   wordcount [--brokers H:P] [--input T] [--output T] [--app-id ID]
 *             [--state-dir DIR] [--threads N] [--partitions N]
 *             [--single-store-ops] [--idle-exit-ms MS] [--exit-after N]
 *             [--set name=value]...
 *
 * Without --brokers it runs a small demo on the embedded cluster. With
 * --brokers, create the input and output topics first; the repartition
 * topic (--partitions, default: the input's) and the changelog are
 * created when missing.
 */
#include <ctype.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

#include "brook/brook.h"
#include "brook/testing.h"

#define ORIGIN_HDR "wc.origin"
#define MAX_WORD   64

static brook_streams_t *streams;
static long long replays; /* occurrences recognised as replays (atomic) */

static void on_signal(int sig)
{
        (void)sig;
        brook_streams_stop(streams);
}

/* ---- split ---- */

/* 16 bytes: partition (4), position (4), offset (8), big-endian. */
static void origin_encode(unsigned char *b, int32_t part, int32_t pos,
                          int64_t off)
{
        int i;

        for (i = 0; i < 4; i++) {
                b[i] = (unsigned char)((uint32_t)part >> (24 - 8 * i));
                b[4 + i] = (unsigned char)((uint32_t)pos >> (24 - 8 * i));
        }
        brook_int64_to_be(off, b + 8);
}

static void origin_decode(const unsigned char *b, int32_t *part, int32_t *pos,
                          int64_t *off)
{
        uint32_t p = 0, q = 0;
        int i;

        for (i = 0; i < 4; i++) {
                p = (p << 8) | b[i];
                q = (q << 8) | b[4 + i];
        }
        *part = (int32_t)p;
        *pos = (int32_t)q;
        *off = brook_int64_from_be(b + 8);
}

static brook_err_t split(brook_ctx_t *ctx, brook_record_t *rec, void *op)
{
        size_t len, i = 0;
        const char *line = brook_record_value(rec, &len);
        int32_t pos = 0;

        (void)op;
        while (line && i < len) {
                char word[MAX_WORD];
                size_t wl = 0;
                unsigned char origin[16];
                brook_record_t *w;

                while (i < len && !isalnum((unsigned char)line[i]))
                        i++;
                while (i < len && isalnum((unsigned char)line[i])) {
                        if (wl < sizeof(word))
                                word[wl++] =
                                    (char)tolower((unsigned char)line[i]);
                        i++;
                }
                if (!wl)
                        continue;
                origin_encode(origin, brook_record_partition(rec), pos++,
                              brook_record_offset(rec));
                w = brook_ctx_record_new(ctx, rec, word, wl, "", 0,
                                         BROOK_RECORD_F_NO_HEADERS);
                if (!w || brook_record_header_add(w, ORIGIN_HDR, origin, 16))
                        return BROOK_ERR_NO_MEM;
                if (brook_ctx_forward(ctx, w))
                        return BROOK_ERR_NO_MEM;
        }
        return BROOK_OK;
}

/* ---- count ---- */

/* A word's state: its count and the last origin counted per source
 * partition. Stored as count (8) + n * (partition 4, position 4,
 * offset 8), big-endian. */
typedef struct origin_s {
        int32_t part, pos;
        int64_t off;
} origin_t;

typedef struct wstate_s {
        const void *key;
        size_t klen;
        int64_t count;
        origin_t *o;
        size_t n, cap;
        int changed;
        size_t last_rec; /* last record of the word in the batch */
} wstate_t;

typedef struct counter_s {
        int single;
        int on_flush; /* the flush listener forwards the counts */
        brook_store_t *store;
} counter_t;

/* Emit on flush: (word, count) for every word the flush wrote; the count
 * is the first 8 bytes of the stored value. */
static brook_err_t
count_flushed(brook_ctx_t *ctx, size_t cnt, const void *const *keys,
              const size_t *key_lens, const void *const *values,
              const size_t *value_lens, const int64_t *timestamps, void *opaque)
{
        size_t i;

        (void)opaque;
        for (i = 0; i < cnt; i++) {
                brook_record_t *out;
                int64_t count;

                if (!values[i] || value_lens[i] < 8)
                        continue; /* the counter never deletes */
                count = brook_int64_from_be(values[i]);
                out = brook_ctx_record_new(ctx, NULL, keys[i], key_lens[i],
                                           &count, 8, 0);
                if (!out)
                        return BROOK_ERR_NO_MEM;
                brook_record_set_timestamp(out, timestamps[i]);
                if (brook_ctx_forward(ctx, out))
                        return BROOK_ERR_NO_MEM;
        }
        return BROOK_OK;
}

static brook_err_t count_init(brook_ctx_t *ctx, void *opaque, void **statep)
{
        counter_t *c = calloc(1, sizeof(*c));

        if (!c)
                return BROOK_ERR_NO_MEM;
        c->single = *(const int *)opaque;
        if (!(c->store = brook_ctx_store(ctx, "counts"))) {
                free(c);
                return BROOK_ERR_NOT_FOUND;
        }
        c->on_flush = brook_ctx_set_flush_listener(ctx, "counts", count_flushed,
                                                   NULL) == BROOK_OK;
        *statep = c;
        return BROOK_OK;
}

static void count_close(brook_ctx_t *ctx, void *state)
{
        (void)ctx;
        free(state);
}

static int decode(wstate_t *w, const unsigned char *v, size_t len)
{
        size_t i;

        w->count = 0;
        w->n = 0;
        if (!v)
                return 0;
        if (len < 8 || (len - 8) % 16)
                return -1;
        w->count = brook_int64_from_be(v);
        w->n = (len - 8) / 16;
        if (w->n > w->cap) {
                origin_t *o = realloc(w->o, w->n * sizeof(*o));

                if (!o)
                        return -1;
                w->o = o;
                w->cap = w->n;
        }
        for (i = 0; i < w->n; i++)
                origin_decode(v + 8 + i * 16, &w->o[i].part, &w->o[i].pos,
                              &w->o[i].off);
        return 0;
}

static size_t encode(const wstate_t *w, unsigned char *buf)
{
        size_t i;

        brook_int64_to_be(w->count, buf);
        for (i = 0; i < w->n; i++)
                origin_encode(buf + 8 + i * 16, w->o[i].part, w->o[i].pos,
                              w->o[i].off);
        return 8 + w->n * 16;
}

/* Count one occurrence unless it is a replay. Returns 1 when counted, 0
 * for a replay (the word is marked changed either way). */
static int apply(wstate_t *w, const brook_record_t *rec)
{
        const void *hv;
        size_t hs, i;
        origin_t o;

        if (brook_record_header_find(rec, ORIGIN_HDR, &hv, &hs) || hs != 16) {
                w->count++; /* no origin: count it */
                w->changed = 1;
                return 1;
        }
        origin_decode(hv, &o.part, &o.pos, &o.off);
        for (i = 0; i < w->n; i++)
                if (w->o[i].part == o.part)
                        break;
        if (i < w->n && (o.off < w->o[i].off ||
                         (o.off == w->o[i].off && o.pos <= w->o[i].pos))) {
                /* Replayed after a crash: counted already, but written
                 * and emitted again. The crash may have delivered this
                 * count's changelog record and lost its output record;
                 * the replay of the uncommitted input is what re-emits
                 * it (the output is "latest count", so again is
                 * harmless). */
                __atomic_add_fetch(&replays, 1, __ATOMIC_RELAXED);
                w->changed = 1;
                return 0;
        }
        if (i == w->n) {
                if (w->n == w->cap) {
                        size_t cap = w->cap ? w->cap * 2 : 4;
                        origin_t *no = realloc(w->o, cap * sizeof(*no));

                        if (!no)
                                return 0;
                        w->o = no;
                        w->cap = cap;
                }
                w->n++;
        }
        w->o[i] = o;
        w->count++;
        w->changed = 1;
        return 1;
}

static brook_err_t count_batch(brook_ctx_t *ctx, brook_record_t *const *recs,
                               size_t cnt, void *state)
{
        counter_t *c = state;
        wstate_t *ws = calloc(cnt, sizeof(*ws));
        size_t *widx = calloc(cnt, sizeof(*widx)), n = 0, i, j;
        const void **keys = calloc(cnt, sizeof(*keys)),
                   **vals = calloc(cnt, sizeof(*vals));
        size_t *klens = calloc(cnt, sizeof(*klens)),
               *vlens = calloc(cnt, sizeof(*vlens));
        unsigned char **bufs = calloc(cnt, sizeof(*bufs));
        brook_err_t err = BROOK_ERR_NO_MEM;

        if (!ws || !widx || !keys || !vals || !klens || !vlens || !bufs)
                goto done;
        /* Distinct words (batches are a few hundred words: a linear
         * search per word would be quadratic, use a small hash). */
        {
                size_t hcap = 16;
                long *slots;

                while (hcap < cnt * 2)
                        hcap <<= 1;
                if (!(slots = malloc(hcap * sizeof(*slots))))
                        goto done;
                memset(slots, 0xff, hcap * sizeof(*slots));
                for (i = 0; i < cnt; i++) {
                        size_t kl, h = 5381;
                        const unsigned char *k = brook_record_key(recs[i], &kl);

                        for (j = 0; j < kl; j++)
                                h = h * 33 + k[j];
                        h &= hcap - 1;
                        while (slots[h] >= 0 && (klens[slots[h]] != kl ||
                                                 memcmp(keys[slots[h]], k, kl)))
                                h = (h + 1) & (hcap - 1);
                        if (slots[h] < 0) {
                                slots[h] = (long)n;
                                keys[n] = k;
                                klens[n] = kl;
                                n++;
                        }
                        widx[i] = (size_t)slots[h];
                }
                free(slots);
        }
        if (c->single) {
                for (j = 0, err = BROOK_OK; j < n && !err; j++)
                        err = brook_store_get(c->store, keys[j], klens[j],
                                              &vals[j], &vlens[j]);
        } else {
                err = brook_store_get_batch(c->store, n, keys, klens, vals,
                                            vlens);
        }
        if (err)
                goto done;
        for (j = 0; j < n; j++) {
                ws[j].key = keys[j];
                ws[j].klen = klens[j];
                if (decode(&ws[j], vals[j], vlens[j])) {
                        err = BROOK_ERR_DECODE;
                        goto done;
                }
        }
        for (i = 0; i < cnt; i++) { /* in record order */
                apply(&ws[widx[i]], recs[i]);
                ws[widx[i]].last_rec = i;
        }
        /* Write back what changed. */
        for (i = 0, j = 0; j < n; j++) {
                if (!ws[j].changed)
                        continue;
                if (!(bufs[i] = malloc(8 + ws[j].n * 16)))
                        goto done;
                keys[i] = ws[j].key;
                klens[i] = ws[j].klen;
                vlens[i] = encode(&ws[j], bufs[i]);
                vals[i] = bufs[i];
                i++;
        }
        if (c->single) {
                for (j = 0, err = BROOK_OK; j < i && !err; j++)
                        err = brook_store_put(c->store, keys[j], klens[j],
                                              vals[j], vlens[j]);
        } else {
                err = brook_store_put_batch(c->store, i, keys, klens, vals,
                                            vlens);
        }
        if (err || c->on_flush)
                goto done;
        for (j = 0; j < n; j++) {
                brook_record_t *out;

                if (!ws[j].changed)
                        continue;
                out = brook_ctx_record_new(ctx, recs[ws[j].last_rec], ws[j].key,
                                           ws[j].klen, &ws[j].count, 8,
                                           BROOK_RECORD_F_NO_HEADERS);
                if (!out || (err = brook_ctx_forward(ctx, out))) {
                        err = BROOK_ERR_NO_MEM;
                        goto done;
                }
        }
        err = BROOK_OK;
done:
        for (j = 0; ws && j < cnt; j++)
                free(ws[j].o);
        for (j = 0; bufs && j < cnt; j++)
                free(bufs[j]);
        free(ws);
        free(widx);
        free(keys);
        free(vals);
        free(klens);
        free(vlens);
        free(bufs);
        return err;
}

/* ---- setup ---- */

typedef struct opts_s {
        const char *brokers, *input, *output, *app, *state_dir, *threads;
        int partitions, single, print;
        long long idle_exit_ms, exit_after;
        const char *sets[32];
        int nsets;
} opts_t;

static void usage(void)
{
        fprintf(stderr,
                "usage: wordcount [--brokers H:P] [--input T] [--output T] "
                "[--app-id ID]\n"
                "         [--state-dir DIR] [--threads N] [--partitions N] "
                "[--single-store-ops]\n"
                "         [--idle-exit-ms MS] [--exit-after N] [--print] "
                "[--set name=value]...\n");
        exit(2);
}

static void parse(opts_t *o, int argc, char **argv)
{
        int i;

        memset(o, 0, sizeof(*o));
        o->input = "wordcount-input";
        o->output = "wordcount-output";
        o->app = "wordcount";
        o->state_dir = "/tmp/brook-wordcount";
        o->threads = "1";
        for (i = 1; i < argc; i++) {
                const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

                if (!strcmp(a, "--single-store-ops")) {
                        o->single = 1;
                        continue;
                }
                if (!strcmp(a, "--print")) {
                        o->print = 1;
                        continue;
                }
                if (!v)
                        usage();
                i++;
                if (!strcmp(a, "--brokers"))
                        o->brokers = v;
                else if (!strcmp(a, "--input"))
                        o->input = v;
                else if (!strcmp(a, "--output"))
                        o->output = v;
                else if (!strcmp(a, "--app-id"))
                        o->app = v;
                else if (!strcmp(a, "--state-dir"))
                        o->state_dir = v;
                else if (!strcmp(a, "--threads"))
                        o->threads = v;
                else if (!strcmp(a, "--partitions"))
                        o->partitions = atoi(v);
                else if (!strcmp(a, "--idle-exit-ms"))
                        o->idle_exit_ms = atoll(v);
                else if (!strcmp(a, "--exit-after"))
                        o->exit_after = atoll(v);
                else if (!strcmp(a, "--set") && o->nsets < 32)
                        o->sets[o->nsets++] = v;
                else
                        usage();
        }
}

static void print_count(const brook_record_t *rec, void *opaque)
{
        size_t kl;
        const char *k = brook_record_key(rec, &kl);
        int64_t v;

        (void)opaque;
        memcpy(&v, brook_record_value(rec, NULL), 8);
        printf("%.*s\t%lld\n", (int)kl, k, (long long)v);
}

static brook_topology_t *build(const opts_t *o, const char *words)
{
        static int single;
        brook_topology_t *t = brook_topology_new();
        brook_processor_t *sp = brook_proc_flat_map_new(split, NULL);
        brook_processor_t *cp = brook_processor_new();
        brook_processor_t *pp = brook_proc_peek_new(print_count, NULL);
        char es[512];

        single = o->single;
        brook_processor_set_init(cp, count_init, count_close);
        brook_processor_set_process_batch(cp, count_batch);
        brook_processor_set_opaque(cp, &single, NULL);
        if (brook_topology_add_source(t, "lines", &o->input, 1,
                                      brook_serde_bytes(), brook_serde_string(),
                                      es, sizeof(es)) ||
            brook_topology_add_processor(
                t, "split", sp, (const char *[]){"lines"}, 1, es, sizeof(es)) ||
            brook_topology_add_sink(
                t, "to-words", words, brook_serde_string(), brook_serde_bytes(),
                NULL, NULL, (const char *[]){"split"}, 1, es, sizeof(es)) ||
            brook_topology_add_source(t, "words", &words, 1,
                                      brook_serde_string(), brook_serde_bytes(),
                                      es, sizeof(es)) ||
            brook_topology_add_processor(
                t, "count", cp, (const char *[]){"words"}, 1, es, sizeof(es)) ||
            brook_topology_add_store(t, "counts", BROOK_STORE_ROCKSDB, 0,
                                     (const char *[]){"count"}, 1, es,
                                     sizeof(es)) ||
            brook_topology_add_sink(t, "counts-out", o->output,
                                    brook_serde_string(), brook_serde_int64(),
                                    NULL, NULL, (const char *[]){"count"}, 1,
                                    es, sizeof(es)) ||
            (o->print && brook_topology_add_processor(t, "print", pp,
                                                      (const char *[]){"count"},
                                                      1, es, sizeof(es))) ||
            brook_topology_build(t, es, sizeof(es))) {
                fprintf(stderr, "topology: %s\n", es);
                brook_topology_destroy(t);
                t = NULL;
        }
        brook_processor_destroy(sp);
        brook_processor_destroy(cp);
        brook_processor_destroy(pp);
        return t;
}

static int conf_set(brook_conf_t *conf, const char *name, const char *value)
{
        char es[512];

        if (brook_conf_set(conf, name, value, es, sizeof(es))) {
                fprintf(stderr, "%s\n", es);
                return -1;
        }
        return 0;
}

/* Partitions of @p topic, or 0. */
static int partitions_of(const char *brokers, const char *topic)
{
        rd_kafka_conf_t *rkc = rd_kafka_conf_new();
        const struct rd_kafka_metadata *md;
        char es[512];
        rd_kafka_t *rk;
        int i, n = 0;

        rd_kafka_conf_set(rkc, "bootstrap.servers", brokers, es, sizeof(es));
        if (!(rk = rd_kafka_new(RD_KAFKA_PRODUCER, rkc, es, sizeof(es))))
                return 0;
        if (!rd_kafka_metadata(rk, 1, NULL, &md, 10000)) {
                for (i = 0; i < md->topic_cnt; i++)
                        if (!strcmp(md->topics[i].topic, topic) &&
                            !md->topics[i].err)
                                n = md->topics[i].partition_cnt;
                rd_kafka_metadata_destroy(md);
        }
        rd_kafka_destroy(rk);
        return n;
}

static const char *demo_lines[] = {
    "the quick brown fox jumps over the lazy dog",
    "the dog barks",
    "a fox is quick and the dog is lazy",
    "brook counts the words in batches",
};

/* Words of @p line as split() sees them. */
static long long count_words(const char *line)
{
        long long n = 0;
        size_t i = 0, len = strlen(line);

        while (i < len) {
                while (i < len && !isalnum((unsigned char)line[i]))
                        i++;
                if (i < len)
                        n++;
                while (i < len && isalnum((unsigned char)line[i]))
                        i++;
        }
        return n;
}

static brook_mock_cluster_t *demo(opts_t *o, const char *words,
                                  brook_conf_t *conf)
{
        char es[512], changelog[512];
        brook_mock_cluster_t *mc = brook_mock_cluster_new(1, es, sizeof(es));
        rd_kafka_conf_t *rkc;
        rd_kafka_t *rk;
        size_t i;

        if (!mc) {
                fprintf(stderr, "embedded cluster: %s\n", es);
                return NULL;
        }
        snprintf(changelog, sizeof(changelog), "%s-counts-changelog", o->app);
        brook_mock_cluster_create_topic(mc, o->input, 2, 1);
        brook_mock_cluster_create_topic(mc, o->output, 2, 1);
        brook_mock_cluster_create_topic(mc, words, 2, 1);
        brook_mock_cluster_create_topic(mc, changelog, 2, 1);
        brook_mock_cluster_conf_apply(mc, conf);
        rkc = rd_kafka_conf_new();
        rd_kafka_conf_set(rkc, "bootstrap.servers",
                          brook_mock_cluster_bootstraps(mc), es, sizeof(es));
        if ((rk = rd_kafka_new(RD_KAFKA_PRODUCER, rkc, es, sizeof(es)))) {
                for (i = 0; i < sizeof(demo_lines) / sizeof(*demo_lines); i++)
                        rd_kafka_producev(
                            rk, RD_KAFKA_V_TOPIC(o->input),
                            RD_KAFKA_V_VALUE((void *)demo_lines[i],
                                             strlen(demo_lines[i])),
                            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                            RD_KAFKA_V_END);
                rd_kafka_flush(rk, 10000);
                rd_kafka_destroy(rk);
        }
        /* Done when every line and every word of it was processed (the
         * two sub-topologies count both); the idle exit is a safety net
         * only, so slow runs (valgrind) still see everything. */
        o->exit_after = 0;
        for (i = 0; i < sizeof(demo_lines) / sizeof(*demo_lines); i++)
                o->exit_after += 1 + count_words(demo_lines[i]);
        o->print = 1;
        o->idle_exit_ms = 30000;
        return mc;
}

static void restore_end(const char *store, const char *topic, int32_t p,
                        int64_t total, void *op)
{
        (void)op;
        fprintf(stderr,
                "restored store=%s topic=%s partition=%d "
                "records=%lld\n",
                store, topic, (int)p, (long long)total);
}

static long long now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
        opts_t o;
        brook_conf_t *conf = brook_conf_new();
        brook_mock_cluster_t *mc = NULL;
        brook_topology_t *t;
        brook_error_t *err;
        char es[512], words[512];
        long long last = -1, idle_since = now_ms(), n;
        int i, rc = 0;

        parse(&o, argc, argv);
        snprintf(words, sizeof(words), "%s-words", o.app);
        if (!o.brokers) {
                if (!(mc = demo(&o, words, conf)))
                        return 1;
        } else {
                int parts = o.partitions ? o.partitions
                                         : partitions_of(o.brokers, o.input);

                if (conf_set(conf, "bootstrap.servers", o.brokers))
                        return 2;
                if (parts < 1) {
                        fprintf(stderr, "topic %s not found\n", o.input);
                        return 1;
                }
                if (brook_admin_create_topic(conf, words, parts, -1, NULL, 0,
                                             30000, es, sizeof(es))) {
                        fprintf(stderr, "repartition topic: %s\n", es);
                        return 1;
                }
        }
        if (!(t = build(&o, words)))
                return 1;
        if (conf_set(conf, "application.id", o.app) ||
            conf_set(conf, "state.dir", o.state_dir) ||
            conf_set(conf, "num.stream.threads", o.threads))
                return 2;
        for (i = 0; i < o.nsets; i++) {
                char name[256];
                const char *eq = strchr(o.sets[i], '=');

                if (!eq || (size_t)(eq - o.sets[i]) >= sizeof(name))
                        usage();
                snprintf(name, sizeof(name), "%.*s", (int)(eq - o.sets[i]),
                         o.sets[i]);
                if (conf_set(conf, name, eq + 1))
                        return 2;
        }
        if (!(streams = brook_streams_new(t, conf, es, sizeof(es)))) {
                fprintf(stderr, "%s\n", es);
                return 1;
        }
        brook_streams_set_restore_listener(streams, NULL, NULL, restore_end,
                                           NULL);
        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);
        if ((err = brook_streams_start(streams))) {
                fprintf(stderr, "start: %s\n", brook_error_string(err));
                return 1;
        }
        while (!brook_streams_wait(streams, 100)) {
                n = brook_streams_metric(streams, "records.processed");
                if (n != last) {
                        last = n;
                        idle_since = now_ms();
                }
                if (o.exit_after && n >= o.exit_after)
                        brook_streams_stop(streams);
                /* idle: tasks running, nothing new for idle_exit_ms */
                if (brook_streams_metric(streams, "tasks.running") <= 0)
                        idle_since = now_ms();
                if (o.idle_exit_ms && now_ms() - idle_since >= o.idle_exit_ms)
                        brook_streams_stop(streams);
        }
        if ((err = brook_streams_close(streams))) {
                fprintf(stderr, "error: %s\n", brook_error_string(err));
                brook_error_destroy(err);
                rc = 1;
        }
        fprintf(stderr,
                "wordcount: processed %lld records in %lld batches, "
                "produced %lld, restored %lld, replays ignored %lld\n",
                (long long)brook_streams_metric(streams, "records.processed"),
                (long long)brook_streams_metric(streams, "batches.processed"),
                (long long)brook_streams_metric(streams, "records.produced"),
                (long long)brook_streams_metric(streams, "records.restored"),
                __atomic_load_n(&replays, __ATOMIC_RELAXED));
        brook_streams_destroy(streams);
        brook_topology_destroy(t);
        brook_conf_destroy(conf);
        brook_mock_cluster_destroy(mc);
        return rc;
}
