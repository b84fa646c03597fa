/*
 * 3105: built-in processors and punctuation on the embedded cluster.
 *
 * source -> filter (drop every 3rd) -> flat_map (x2: "a:<v>", "b:<v>") ->
 * map (upper-case the value) -> ticker -> peek -> sink. The ticker (a
 * record-only processor) schedules a stream-time punctuator (every 1000 ms
 * of record time) that forwards "tick" records and a wall-clock one (every
 * 200 ms). Records carry timestamps TS0 + i ms, so stream time advances by
 * CNT ms and the stream-time punctuator fires once per elapsed second.
 * The output, read back independently, is exactly the expected transform
 * plus the ticks.
 */
#include <ctype.h>
#include <string.h>

#include "streams_test.h"

#define CNT 3000
#define TS0 1700000000000LL

static int peeked, stream_ticks, wall_ticks;
static int64_t last_stream_tick = -1;

static int keep(const brook_record_t *rec, void *op)
{
        const char *v = brook_record_value(rec, NULL);

        (void)op;
        return atoll(v + 1) % 3 != 0;
}

static brook_err_t twice(brook_ctx_t *ctx, brook_record_t *rec, void *op)
{
        size_t vl, kl;
        const char *v = brook_record_value(rec, &vl);
        const void *k = brook_record_key(rec, &kl);
        char buf[64];
        int i;

        (void)op;
        for (i = 0; i < 2; i++) {
                snprintf(buf, sizeof(buf), "%c:%.*s", 'a' + i, (int)vl, v);
                TEST_ASSERT(!brook_ctx_forward(
                                ctx, brook_ctx_record_new(ctx, rec, k, kl, buf,
                                                          strlen(buf), 0)),
                            "forward");
        }
        return BROOK_OK;
}

static brook_err_t upper(brook_ctx_t *ctx, brook_record_t *rec,
                         brook_record_t **outp, void *op)
{
        size_t vl, kl, i;
        const char *v = brook_record_value(rec, &vl);
        const void *k = brook_record_key(rec, &kl);
        char buf[64];

        (void)op;
        for (i = 0; i < vl && i < sizeof(buf); i++)
                buf[i] = (char)toupper((unsigned char)v[i]);
        *outp = brook_ctx_record_new(ctx, rec, k, kl, buf, vl, 0);
        return *outp ? BROOK_OK : BROOK_ERR_NO_MEM;
}

static void peek_fn(const brook_record_t *rec, void *op)
{
        (void)rec;
        (void)op;
        peeked++;
}

static void on_stream(brook_ctx_t *ctx, int64_t ts, void *arg)
{
        char buf[64];
        brook_record_t *r;

        (void)arg;
        TEST_ASSERT(ts == brook_ctx_stream_time(ctx), "stream time");
        TEST_ASSERT(ts > last_stream_tick, "stream ticks go forward");
        last_stream_tick = ts;
        stream_ticks++;
        snprintf(buf, sizeof(buf), "TICK-STREAM");
        r = brook_ctx_record_new(ctx, NULL, "tick", 4, buf, strlen(buf), 0);
        TEST_ASSERT(r && brook_record_timestamp(r) == ts &&
                        brook_record_offset(r) == -1 && !brook_record_topic(r),
                    "punctuator record metadata");
        brook_ctx_forward(ctx, r);
}

static void on_wall(brook_ctx_t *ctx, int64_t ts, void *arg)
{
        (void)ctx;
        (void)ts;
        (void)arg;
        wall_ticks++;
}

static brook_err_t tick_process(brook_ctx_t *ctx, brook_record_t *rec, void *st)
{
        (void)st;
        return brook_ctx_forward(ctx, rec);
}

static brook_err_t tick_init(brook_ctx_t *ctx, void *op, void **statep)
{
        (void)op;
        (void)statep;
        TEST_ASSERT(!brook_ctx_schedule(ctx, 1000, BROOK_PUNCTUATE_STREAM_TIME,
                                        on_stream, NULL),
                    "schedule");
        TEST_ASSERT(!brook_ctx_schedule(ctx, 200, BROOK_PUNCTUATE_WALL_CLOCK,
                                        on_wall, NULL),
                    "schedule");
        return BROOK_OK;
}

int main(void)
{
        char es[512], in[64], out[64];
        brook_mock_cluster_t *mc = brook_mock_cluster_new(1, es, sizeof(es));
        brook_topology_t *t = brook_topology_new();
        brook_processor_t *f = brook_proc_filter_new(keep, NULL),
                          *fm = brook_proc_flat_map_new(twice, NULL),
                          *m = brook_processor_new(),
                          *pk = brook_proc_peek_new(peek_fn, NULL);
        brook_processor_t *mapdef = brook_proc_map_new(upper, NULL);
        brook_conf_t *conf = brook_conf_new();
        brook_streams_t *s;
        brook_error_t *err;
        const char *bs, *inp = in;
        st_rec_t *recs;
        size_t n, i, kept = 0, ticks = 0;
        int64_t want;

        TEST_ASSERT(mc, "%s", es);
        bs = brook_mock_cluster_bootstraps(mc);
        snprintf(in, sizeof(in), "%s", test_name("i3105"));
        snprintf(out, sizeof(out), "%s", test_name("o3105"));
        TEST_ASSERT(!brook_mock_cluster_create_topic(mc, in, 1, 1), "topic");
        TEST_ASSERT(!brook_mock_cluster_create_topic(mc, out, 1, 1), "topic");
        /* timestamps TS0 + i*10 ms: st_produce uses ts_base + i, so
         * produce with a base and rely on the stride below */
        st_produce(bs, in, 1, 0, CNT, 0, TS0);

        brook_processor_set_init(m, tick_init, NULL);
        brook_processor_set_process(m, tick_process);
        TEST_ASSERT(
            !brook_topology_add_source(t, "src", &inp, 1, brook_serde_string(),
                                       brook_serde_string(), es, sizeof(es)),
            "%s", es);
        TEST_ASSERT(!brook_topology_add_processor(t, "filter", f,
                                                  (const char *[]){"src"}, 1,
                                                  es, sizeof(es)),
                    "%s", es);
        TEST_ASSERT(!brook_topology_add_processor(t, "flat", fm,
                                                  (const char *[]){"filter"}, 1,
                                                  es, sizeof(es)),
                    "%s", es);
        TEST_ASSERT(!brook_topology_add_processor(t, "map", mapdef,
                                                  (const char *[]){"flat"}, 1,
                                                  es, sizeof(es)),
                    "%s", es);
        TEST_ASSERT(!brook_topology_add_processor(t, "ticker", m,
                                                  (const char *[]){"map"}, 1,
                                                  es, sizeof(es)),
                    "%s", es);
        TEST_ASSERT(!brook_topology_add_processor(t, "peek", pk,
                                                  (const char *[]){"ticker"}, 1,
                                                  es, sizeof(es)),
                    "%s", es);
        TEST_ASSERT(!brook_topology_add_sink(t, "sink", out, NULL, NULL, NULL,
                                             NULL, (const char *[]){"peek"}, 1,
                                             es, sizeof(es)),
                    "%s", es);
        TEST_ASSERT(!brook_mock_cluster_conf_apply(mc, conf), "conf");
        test_conf_set(conf, "application.id", test_name("a3105"));
        test_conf_set(conf, "state.dir", st_tmpdir("brook-3105"));
        test_conf_set(conf, "streams.batch.max.records", "100");
        s = brook_streams_new(t, conf, es, sizeof(es));
        TEST_ASSERT(s, "%s", es);
        TEST_ASSERT(!(err = brook_streams_start(s)), "%s",
                    brook_error_string(err));
        for (i = 0; i < CNT; i++)
                kept += i % 3 != 0;
        TEST_ASSERT(st_wait_metric(s, "records.processed", CNT, 30000) == CNT,
                    "processed");
        /* A second of wall time on purpose: the wall-clock punctuator
         * (every 200 ms) ticks in it while no record arrives. */
        test_sleep_ms(1000);
        TEST_ASSERT(!(err = brook_streams_close(s)), "%s",
                    brook_error_string(err));
        /* stream time went from TS0 to TS0 + CNT - 1 (1 ms apart): a tick
         * per elapsed second after the first record */
        want = (CNT - 1) / 1000;
        TEST_SAY("peeked %d, stream ticks %d (want %lld), wall ticks %d",
                 peeked, stream_ticks, (long long)want, wall_ticks);
        TEST_ASSERT(peeked == (int)(2 * kept) + stream_ticks, "peeked %d",
                    peeked);
        TEST_ASSERT(stream_ticks == want, "stream ticks %d", stream_ticks);
        TEST_ASSERT(wall_ticks >= 3, "wall ticks %d", wall_ticks);

        recs = st_read_topic(bs, out, &n);
        for (i = 0; i < n; i++) {
                if (!strcmp(recs[i].value, "TICK-STREAM")) {
                        ticks++;
                        continue;
                }
                TEST_ASSERT(
                    (recs[i].value[0] == 'A' || recs[i].value[0] == 'B') &&
                        recs[i].value[1] == ':' && recs[i].value[2] == 'V' &&
                        atoll(recs[i].value + 3) % 3 != 0,
                    "output %s", recs[i].value);
        }
        TEST_ASSERT(n == 2 * kept + ticks && ticks == (size_t)stream_ticks,
                    "output %zu records (%zu ticks)", n, ticks);
        st_recs_free(recs, n);
        brook_streams_destroy(s);
        brook_topology_destroy(t);
        brook_processor_destroy(f);
        brook_processor_destroy(fm);
        brook_processor_destroy(m);
        brook_processor_destroy(pk);
        brook_processor_destroy(mapdef);
        brook_conf_destroy(conf);
        brook_mock_cluster_destroy(mc);
        return 0;
}
