/*
 * kafka/client.c: librdkafka clients by role (see kafka/client.h).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafka/client.h"

/* ------------------------------------------------------------------ */
/* librdkafka's property scopes                                        */

typedef struct scope_s {
        char *name;
        char scope;
} scope_t;

static scope_t *scopes;
static size_t nscopes;
static pthread_once_t scopes_once = PTHREAD_ONCE_INIT;

static int scope_cmp(const void *a, const void *b)
{
        return strcmp(((const scope_t *)a)->name, ((const scope_t *)b)->name);
}

/* One row of rd_kafka_conf_properties_show(): "name | C/P | ...". */
static void scope_line(const char *line)
{
        const char *bar = strchr(line, '|'), *p;
        size_t n;
        scope_t *v;

        if (!bar || !*line || *line == ' ' || *line == '-' || *line == '#')
                return;
        n = (size_t)(bar - line);
        while (n && line[n - 1] == ' ')
                n--;
        for (p = bar + 1; *p == ' '; p++)
                ;
        if (!n || (*p != 'C' && *p != 'P' && *p != '*') || p[1] == '/')
                return;
        if (!(v = realloc(scopes, (nscopes + 1) * sizeof(*v))))
                return;
        scopes = v;
        if (!(scopes[nscopes].name = strndup(line, n)))
                return;
        scopes[nscopes++].scope = *p;
}

/* Read the scopes of the linked librdkafka once, from its own table. */
static void scopes_load(void)
{
        char *buf = NULL, *line, *save = NULL;
        size_t len = 0;
        FILE *fp = open_memstream(&buf, &len);

        if (!fp)
                return;
        rd_kafka_conf_properties_show(fp);
        fclose(fp);
        for (line = strtok_r(buf, "\n", &save); line;
             line = strtok_r(NULL, "\n", &save))
                scope_line(line);
        free(buf);
        qsort(scopes, nscopes, sizeof(*scopes), scope_cmp);
}

char brook__kafka_scope(const char *name)
{
        scope_t key = {(char *)name, 0}, *hit;

        pthread_once(&scopes_once, scopes_load);
        hit = bsearch(&key, scopes, nscopes, sizeof(*scopes), scope_cmp);
        return hit ? hit->scope : '*';
}

/* ------------------------------------------------------------------ */
/* roles                                                               */

typedef const char *const kv_t[2];

typedef struct role_s {
        const char *name;
        char scope; /* 'C', 'P' or 0 for general properties only */
        kv_t *defaults;
        size_t ndefaults;
        kv_t *forced;
        size_t nforced;
} role_t;

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Consumers commit themselves, only for finished work, and read
 * committed records only. */
static kv_t consumer_d[] = {{"auto.offset.reset", "earliest"},
                            {"queued.max.messages.kbytes", "16384"}};
static kv_t consumer_f[] = {{"enable.auto.commit", "false"},
                            {"enable.auto.offset.store", "false"},
                            {"enable.partition.eof", "false"},
                            {"isolation.level", "read_committed"}};
/* Stream threads: responses of at most 2 MB (librdkafka: 50 MB), which
 * bounds what a thread that keeps up holds in prefetched records; the
 * queue limits come from the runtime (divided among its threads). The
 * range assignor keeps co-partitioned topics together. */
static kv_t stream_d[] = {{"auto.offset.reset", "earliest"},
                          {"fetch.max.bytes", "2097152"}};
static kv_t stream_f[] = {{"enable.auto.commit", "false"},
                          {"enable.auto.offset.store", "false"},
                          {"enable.partition.eof", "false"},
                          {"isolation.level", "read_committed"},
                          {"partition.assignment.strategy", "range"}};
/* Restore consumers never join their group: partitions are assigned by
 * hand and nothing is committed. Changelog records are small: the byte
 * threshold bounds the prefetch, the record count must not stop the
 * fetcher (see streams/streams.c, kick_fetcher()). */
static kv_t restore_d[] = {{"queued.max.messages.kbytes", "16384"},
                           {"queued.min.messages", "1000000"}};
static kv_t restore_f[] = {{"enable.auto.commit", "false"},
                           {"enable.auto.offset.store", "false"},
                           {"auto.offset.reset", "earliest"},
                           {"enable.partition.eof", "true"},
                           {"isolation.level", "read_committed"}};
/* Throughput defaults: batches of up to 10000 records / 1 MB per
 * partition, waiting at most 20 ms to fill (Kafka Streams' producer waits
 * 100 ms for 16 KB batches); at most 100000 records / 64 MB queued per
 * stream thread, past which produce calls wait for deliveries. */
static kv_t producer_d[] = {{"linger.ms", "20"},
                            {"batch.num.messages", "10000"},
                            {"batch.size", "1048576"},
                            {"queue.buffering.max.messages", "100000"},
                            {"queue.buffering.max.kbytes", "65536"},
                            {"partitioner", "murmur2_random"}};
/* What commits rely on: nothing lost, nothing reordered, no duplicates
 * from internal retries. */
static kv_t producer_f[] = {{"enable.idempotence", "true"}, {"acks", "all"}};
/* Dead letters: a consumed record may be as large as its topic allows, do
 * not let the client refuse to dead-letter it (the broker's limit for the
 * dead-letter topic still applies). */
static kv_t dlq_d[] = {{"linger.ms", "5"},
                       {"message.max.bytes", "1000000000"},
                       {"partitioner", "murmur2_random"}};
/* A short-lived helper: its routine lines are not news. */
static kv_t admin_d[] = {{"log_level", "3"}};

static const role_t roles[] = {
    [BROOK__KROLE_CONSUMER] = {"consumer", 'C', consumer_d, N(consumer_d),
                               consumer_f, N(consumer_f)},
    [BROOK__KROLE_STREAM_CONSUMER] = {"consumer", 'C', stream_d, N(stream_d),
                                      stream_f, N(stream_f)},
    [BROOK__KROLE_RESTORE] = {"restore consumer", 'C', restore_d, N(restore_d),
                              restore_f, N(restore_f)},
    [BROOK__KROLE_PRODUCER] = {"producer", 'P', producer_d, N(producer_d),
                               producer_f, N(producer_f)},
    [BROOK__KROLE_DLQ_PRODUCER] = {"dead-letter producer", 'P', dlq_d, N(dlq_d),
                                   producer_f, N(producer_f)},
    [BROOK__KROLE_ADMIN] = {"admin client", 0, admin_d, N(admin_d), NULL, 0},
};

/* ------------------------------------------------------------------ */
/* callbacks: one bridge for every client                              */

static brook_log_level_t log_level(int syslog_level)
{
        return syslog_level <= 3   ? BROOK_LOG_ERROR
               : syslog_level <= 4 ? BROOK_LOG_WARN
               : syslog_level <= 6 ? BROOK_LOG_INFO
                                   : BROOK_LOG_DEBUG;
}

static void log_cb(const rd_kafka_t *rk, int level, const char *fac,
                   const char *buf)
{
        brook__kclient_t *kc = rd_kafka_opaque(rk);
        brook_log_level_t l = log_level(level);
        char rq[1024];

        if (!kc || !kc->log || !brook__log_enabled(kc->log, l))
                return;
        brook__log(kc->log, l, "librdkafka", "client=%s facility=%s message=%s",
                   kc->name ? kc->name : "-", fac,
                   brook__logq(rq, sizeof(rq), buf));
}

static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
        brook__kclient_t *kc = opaque;
        char rq[600];

        if (kc->on_error) {
                kc->on_error(kc->owner, rk, err, reason);
                return;
        }
        if (kc->log)
                brook__log(kc->log, BROOK_LOG_WARN, "kafka.error",
                           "client=%s error=%s reason=%s",
                           kc->name ? kc->name : "-",
                           rd_kafka_err2name((rd_kafka_resp_err_t)err),
                           brook__logq(rq, sizeof(rq), reason));
}

static int stats_cb(rd_kafka_t *rk, char *json, size_t len, void *opaque)
{
        brook__kclient_t *kc = opaque;

        (void)rk;
        if (kc->on_stats)
                kc->on_stats(kc->owner, json, len);
        return 0; /* librdkafka frees json */
}

/* ------------------------------------------------------------------ */
/* configuration                                                       */

typedef struct pass_s {
        rd_kafka_conf_t *rkc;
        char scope;
        char es[600];
} pass_t;

/* A "kafka.*" setting, if it is in scope for the role. */
static brook_err_t pass_one(const char *name, const char *value, void *arg)
{
        pass_t *ps = arg;
        char sc = brook__kafka_scope(name);
        char es[512];

        if (sc != '*' && sc != ps->scope)
                return BROOK_OK; /* the other kind of client reads it */
        if (rd_kafka_conf_set(ps->rkc, name, value, es, sizeof(es)) ==
            RD_KAFKA_CONF_OK)
                return BROOK_OK;
        snprintf(ps->es, sizeof(ps->es), "kafka.%s: %s", name, es);
        return BROOK_ERR_CONF_INVALID;
}

static int set_all(rd_kafka_conf_t *rkc, kv_t *kv, size_t n, char *es,
                   size_t es_size)
{
        size_t i;
        char e[512];

        for (i = 0; i < n; i++)
                if (rd_kafka_conf_set(rkc, kv[i][0], kv[i][1], e, sizeof(e)) !=
                    RD_KAFKA_CONF_OK) {
                        snprintf(es, es_size, "%s=%s: %s", kv[i][0], kv[i][1],
                                 e);
                        return -1;
                }
        return 0;
}

rd_kafka_conf_t *brook__kafka_conf(brook__krole_t role,
                                   const brook__settings_t *st,
                                   const brook__kopts_t *o,
                                   brook__kclient_t *kc, char *errstr,
                                   size_t errstr_size)
{
        const role_t *r = &roles[role];
        rd_kafka_conf_t *rkc = rd_kafka_conf_new();
        pass_t ps;
        kv_t base[] = {
            {"bootstrap.servers", st->bootstrap_servers},
            {"client.id", o && o->client_id ? o->client_id : st->client_id}};
        char iv[32];

        memset(&ps, 0, sizeof(ps));
        ps.rkc = rkc;
        ps.scope = r->scope;
        if (set_all(rkc, base, N(base), ps.es, sizeof(ps.es)) ||
            (o && o->group_id &&
             set_all(rkc, (kv_t[]){{"group.id", o->group_id}}, 1, ps.es,
                     sizeof(ps.es))) ||
            set_all(rkc, r->defaults, r->ndefaults, ps.es, sizeof(ps.es)) ||
            (o &&
             set_all(rkc, o->defaults, o->ndefaults, ps.es, sizeof(ps.es))))
                goto fail;
        if (kc && kc->on_stats && st->metrics_lag_interval_ms > 0) {
                snprintf(iv, sizeof(iv), "%lld",
                         (long long)st->metrics_lag_interval_ms);
                if (set_all(rkc, (kv_t[]){{"statistics.interval.ms", iv}}, 1,
                            ps.es, sizeof(ps.es)))
                        goto fail;
                rd_kafka_conf_set_stats_cb(rkc, stats_cb);
        }
        if (brook__conf_foreach(st->conf, "kafka.", pass_one, &ps) ||
            set_all(rkc, r->forced, r->nforced, ps.es, sizeof(ps.es)))
                goto fail;
        if (kc) {
                rd_kafka_conf_set_log_cb(rkc, log_cb);
                rd_kafka_conf_set_error_cb(rkc, error_cb);
                rd_kafka_conf_set_opaque(rkc, kc);
        }
        return rkc;
fail:
        brook__errstr(errstr, errstr_size, "%s configuration: %s", r->name,
                      ps.es);
        rd_kafka_conf_destroy(rkc);
        return NULL;
}

rd_kafka_t *brook__kafka_new(brook__krole_t role, rd_kafka_conf_t *rkc,
                             char *errstr, size_t errstr_size)
{
        const role_t *r = &roles[role];
        int consumer = r->scope == 'C';
        rd_kafka_t *rk;
        char es[512];

        if (!(rk =
                  rd_kafka_new(consumer ? RD_KAFKA_CONSUMER : RD_KAFKA_PRODUCER,
                               rkc, es, sizeof(es)))) {
                rd_kafka_conf_destroy(rkc);
                brook__errstr(errstr, errstr_size, "%s: %s", r->name, es);
                return NULL;
        }
        if (consumer)
                rd_kafka_poll_set_consumer(rk);
        return rk;
}

brook_error_t *brook__kafka_fatal_error(rd_kafka_t *rk)
{
        char fs[512];
        rd_kafka_resp_err_t ferr = rd_kafka_fatal_error(rk, fs, sizeof(fs));

        return brook__error_new(BROOK_ERR_FATAL, 1, 0,
                                "fatal Kafka error %s: %s",
                                rd_kafka_err2name(ferr), fs);
}

rd_kafka_resp_err_t brook__kafka_rebalance(rd_kafka_t *rk,
                                           rd_kafka_resp_err_t err,
                                           rd_kafka_topic_partition_list_t *l)
{
        int coop = !strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE");
        int assign = err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS;
        rd_kafka_error_t *error = NULL;
        rd_kafka_resp_err_t rerr = RD_KAFKA_RESP_ERR_NO_ERROR;

        if (coop)
                error = assign ? rd_kafka_incremental_assign(rk, l)
                               : rd_kafka_incremental_unassign(rk, l);
        else
                rerr = rd_kafka_assign(rk, assign ? l : NULL);
        if (error) {
                rerr = rd_kafka_error_code(error);
                rd_kafka_error_destroy(error);
        }
        return rerr;
}
