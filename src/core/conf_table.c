/*
 * core/conf_table.c: the one property table. It drives brook_conf_set()
 * validation, defaults, the typed settings of each component
 * (brook__settings_load()), brook_conf_dump() and docs/CONFIGURATION.md.
 * It also lists the librdkafka properties that brook manages itself, so
 * that setting them as "kafka.*" is refused with the brook property or
 * mode to use instead.
 *
 * Keep rows grouped by component; a new property gets an id in
 * core/conf.h (same position), a field in brook__settings_t and a row here.
 */
#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "core/conf.h"
#include "core/util.h"

#define I64MAX INT64_MAX
#define I32MAX 2147483647
#define S(f)   offsetof(brook__settings_t, f)

/* ---- enum words ---- */

static const brook__enum_t w_log_level[] = {{"error", BROOK_LOG_ERROR},
                                            {"warn", BROOK_LOG_WARN},
                                            {"info", BROOK_LOG_INFO},
                                            {"debug", BROOK_LOG_DEBUG},
                                            {NULL, 0}};
static const brook__enum_t w_log_format[] = {
    {"logfmt", BROOK__LOGFMT_LOGFMT}, {"json", BROOK__LOGFMT_JSON}, {NULL, 0}};
static const brook__enum_t w_ack[] = {
    {"all_or_nothing", BROOK__ACK_ALL_OR_NOTHING},
    {"best_effort", BROOK__ACK_BEST_EFFORT},
    {"last_successful", BROOK__ACK_LAST_SUCCESSFUL},
    {NULL, 0}};
static const brook__enum_t w_dlp[] = {
    {"fail", BROOK__DLP_FAIL}, {"skip", BROOK__DLP_SKIP}, {NULL, 0}};
static const brook__enum_t w_eh[] = {{"fail", BROOK__EH_FAIL},
                                     {"skip", BROOK__EH_SKIP},
                                     {"dead_letter", BROOK__EH_DLQ},
                                     {NULL, 0}};

/* ---- value checks beyond the type ---- */

/* Kafka's name rules for group ids and topics: [a-zA-Z0-9._-], 1..max. */
static int kafka_name_ok(const char *s, size_t max)
{
        size_t n = strlen(s), i;

        if (n == 0 || n > max)
                return 0;
        for (i = 0; i < n; i++)
                if (!isalnum((unsigned char)s[i]) && s[i] != '.' &&
                    s[i] != '_' && s[i] != '-')
                        return 0;
        return 1;
}

/* Empty ids pass here (the default): the component that needs one says
 * it is required when it is created. */
static brook_err_t check_group_id(const char *name, const char *value,
                                  char *errstr, size_t errstr_size)
{
        if (!*value || kafka_name_ok(value, 249))
                return BROOK_OK;
        brook__errstr(errstr, errstr_size,
                      "%s: \"%s\" is not a valid group id (1..249 characters "
                      "of [a-zA-Z0-9._-])",
                      name, value);
        return BROOK_ERR_CONF_INVALID;
}

static brook_err_t check_app_id(const char *name, const char *value,
                                char *errstr, size_t errstr_size)
{
        /* It prefixes internal topic names: leave room for the suffixes. */
        if (!*value || kafka_name_ok(value, 200))
                return BROOK_OK;
        brook__errstr(errstr, errstr_size,
                      "%s: \"%s\" is not valid (1..200 characters of "
                      "[a-zA-Z0-9._-])",
                      name, value);
        return BROOK_ERR_CONF_INVALID;
}

static brook_err_t check_hostport(const char *name, const char *value,
                                  int need_host, int64_t port_min,
                                  const char *example, char *errstr,
                                  size_t errstr_size)
{
        char host[256], port[32];
        int64_t pn;

        if (!*value)
                return BROOK_OK; /* off */
        if (brook__split_hostport(value, host, sizeof(host), port,
                                  sizeof(port)) ||
            (need_host && !*host) || brook__parse_int(port, &pn) ||
            pn < port_min || pn > 65535) {
                brook__errstr(errstr, errstr_size,
                              "%s: \"%s\" is not host:port with a port in "
                              "%lld..65535 (e.g. %s; empty: off)",
                              name, value, (long long)port_min, example);
                return BROOK_ERR_CONF_INVALID;
        }
        return BROOK_OK;
}

static brook_err_t check_listen(const char *name, const char *value,
                                char *errstr, size_t errstr_size)
{
        return check_hostport(name, value, 0, 0, "127.0.0.1:9464, :9464",
                              errstr, errstr_size);
}

static brook_err_t check_statsd(const char *name, const char *value,
                                char *errstr, size_t errstr_size)
{
        return check_hostport(name, value, 1, 1, "127.0.0.1:8125", errstr,
                              errstr_size);
}

/* A topic name, or a template in which {topic} stands for the source
 * topic: the rest must follow Kafka's topic name rules. */
static brook_err_t check_dlq_topic(const char *name, const char *value,
                                   char *errstr, size_t errstr_size)
{
        char probe[512];
        const char *p = value, *q;
        size_t o = 0;

        if (!*value)
                return BROOK_OK; /* none: dead.letter.policy applies */
        while ((q = strstr(p, "{topic}")) && o < sizeof(probe)) {
                o += (size_t)snprintf(probe + o, sizeof(probe) - o, "%.*st",
                                      (int)(q - p), p);
                p = q + 7;
        }
        if (o < sizeof(probe))
                snprintf(probe + o, sizeof(probe) - o, "%s", p);
        if (o < sizeof(probe) && kafka_name_ok(probe, 249) &&
            strcmp(probe, ".") && strcmp(probe, ".."))
                return BROOK_OK;
        brook__errstr(errstr, errstr_size,
                      "%s: \"%s\" is not a valid topic name or template "
                      "(characters [a-zA-Z0-9._-], at most 249; `{topic}` "
                      "stands for the source topic, e.g. `{topic}.dlq`)",
                      name, value);
        return BROOK_ERR_CONF_INVALID;
}

const brook__prop_t brook__props[BROOK__P__CNT] = {
    /* ---- general ---- */
    [BROOK__P_BOOTSTRAP_SERVERS] = {"bootstrap.servers", BROOK__PT_STR, "",
                                    NULL, 0, 0, NULL, BROOK__PF_ALL,
                                    S(bootstrap_servers), NULL,
                                    "Kafka brokers to bootstrap from, "
                                    "host:port[,host:port...]. Required."},
    [BROOK__P_GROUP_ID] = {"group.id", BROOK__PT_STR, "", NULL, 0, 0, NULL,
                           BROOK__PF_CONSUMER, S(group_id), check_group_id,
                           "Consumer group id. Required for the batch "
                           "consumer. Kafka restricts it "
                           "to at most 249 characters of [a-zA-Z0-9._-]."},
    [BROOK__P_CLIENT_ID] = {"client.id", BROOK__PT_STR, "brook", NULL, 0, 0,
                            NULL, BROOK__PF_ALL, S(client_id), NULL,
                            "Client id sent to the brokers."},
    [BROOK__P_LOG_LEVEL] =
        {"log.level", BROOK__PT_ENUM, "info", NULL, 0, 0, w_log_level,
         BROOK__PF_ALL, S(log_level), NULL,
         "Most verbose level that is logged. `debug` adds one line per failed "
         "message."},
    [BROOK__P_LOG_FORMAT] = {"log.format", BROOK__PT_ENUM, "logfmt", NULL, 0, 0,
                             w_log_format, BROOK__PF_ALL, S(log_format), NULL,
                             "Format of the structured log lines."},
    /* ---- batch consumer ---- */
    [BROOK__P_BATCH_SIZE] =
        {"batch.size", BROOK__PT_INT, "100", NULL, 1, 1000000, NULL,
         BROOK__PF_CONSUMER | BROOK__PF_RUNTIME, S(batch_size), NULL,
         "Maximum messages per batch. A batch closes when it reaches this "
         "count."},
    [BROOK__P_BATCH_TIMEOUT_MS] =
        {"batch.timeout.ms", BROOK__PT_INT, "1000", NULL, 0, 86400000, NULL,
         BROOK__PF_CONSUMER | BROOK__PF_RUNTIME, S(batch_timeout_ms), NULL,
         "Maximum time a partial batch waits for more messages after its first "
         "one arrived; a timer closes it even when no new message arrives."},
    [BROOK__P_BATCH_MAX_BYTES] = {"batch.max.bytes", BROOK__PT_INT, "1048576",
                                  NULL, 1, I32MAX, NULL,
                                  BROOK__PF_CONSUMER | BROOK__PF_RUNTIME,
                                  S(batch_max_bytes), NULL,
                                  "Maximum sum of key and value bytes per "
                                  "batch. A single larger message "
                                  "forms a batch of its own."},
    [BROOK__P_BATCH_ASYNC] =
        {"batch.async", BROOK__PT_BOOL, "false", NULL, 0, 0, NULL,
         BROOK__PF_CONSUMER, S(batch_async), NULL,
         "Process batches on worker threads: up to max.in.flight.batches "
         "batches of different partitions at once, and the messages of a batch "
         "concurrently (when the message handler is used) on a pool of "
         "batch.max.concurrency threads."},
    [BROOK__P_BATCH_MAX_CONCURRENCY] =
        {"batch.max.concurrency", BROOK__PT_INT, "10", NULL, 1, 1024, NULL,
         BROOK__PF_CONSUMER, S(batch_max_concurrency), NULL,
         "With batch.async: the number of message handler calls that may run "
         "at once, across all batches."},
    [BROOK__P_BATCH_ORDERED] =
        {"batch.ordered", BROOK__PT_BOOL, "true", NULL, 0, 0, NULL,
         BROOK__PF_CONSUMER, S(batch_ordered), NULL,
         "With batch.async: hand per-message results to the result callback in "
         "offset order (true) or as they finish (false)."},
    [BROOK__P_MAX_IN_FLIGHT_BATCHES] =
        {"max.in.flight.batches", BROOK__PT_INT, "3", NULL, 1, 1024, NULL,
         BROOK__PF_CONSUMER, S(max_in_flight_batches), NULL,
         "Back-pressure: at most this many batches are being processed at "
         "once; "
         "past it fetching pauses until a batch completes. Memory held by "
         "brook "
         "stays under batch.max.bytes x max.in.flight.batches."},
    [BROOK__P_BATCH_HANDLER_TIMEOUT_MS] =
        {"batch.handler.timeout.ms", BROOK__PT_INT, "0", NULL, 0, 86400000,
         NULL, BROOK__PF_CONSUMER, S(batch_handler_timeout_ms), NULL,
         "Report (WARN log and batch.exception event) a batch whose handler "
         "runs longer than this. The handler is not abandoned. 0 disables."},
    [BROOK__P_ACK_STRATEGY] =
        {"ack.strategy", BROOK__PT_ENUM, "all_or_nothing", NULL, 0, 0, w_ack,
         BROOK__PF_CONSUMER, S(ack_strategy), NULL,
         "How partial failures move the offset. all_or_nothing: the offset "
         "passes a batch only when every message succeeded, else the batch is "
         "retried. best_effort: successes are kept, only failures are retried. "
         "last_successful: the offset advances to the first failure and "
         "processing resumes there."},
    [BROOK__P_RETRY_BACKOFF_MS] =
        {"retry.backoff.ms", BROOK__PT_INT, "100", NULL, 0, 3600000, NULL,
         BROOK__PF_CONSUMER, S(retry_backoff_ms), NULL,
         "Wait before the first retry of a failed batch; the partition is "
         "paused meanwhile, other partitions keep flowing."},
    [BROOK__P_RETRY_BACKOFF_MAX_MS] =
        {"retry.backoff.max.ms", BROOK__PT_INT, "10000", NULL, 0, 3600000, NULL,
         BROOK__PF_CONSUMER, S(retry_backoff_max_ms), NULL,
         "Upper bound of the exponential retry backoff."},
    [BROOK__P_DEAD_LETTER_TOPIC] =
        {"dead.letter.topic", BROOK__PT_STR, "", NULL, 0, 0, NULL,
         BROOK__PF_CONSUMER | BROOK__PF_STREAMS, S(dead_letter_topic),
         check_dlq_topic,
         "Topic for messages that still fail after dead.letter.max.retries "
         "retries. `{topic}` is replaced by the source topic (e.g. "
         "`{topic}.dlq`). Empty: see dead.letter.policy."},
    [BROOK__P_DEAD_LETTER_MAX_RETRIES] =
        {"dead.letter.max.retries", BROOK__PT_INT, "3", NULL, 0, 1000, NULL,
         BROOK__PF_CONSUMER, S(dead_letter_max_retries), NULL,
         "Retries of a failing message before it is dead-lettered."},
    [BROOK__P_DEAD_LETTER_POLICY] =
        {"dead.letter.policy", BROOK__PT_ENUM, "fail", NULL, 0, 0, w_dlp,
         BROOK__PF_CONSUMER, S(dead_letter_policy), NULL,
         "What happens to an exhausted message when dead.letter.topic is "
         "empty. "
         "fail: the consumer stops with an error and does not commit past it. "
         "skip: it is skipped with an ERROR log line."},
    [BROOK__P_COMMIT_INTERVAL_MS] =
        {"commit.interval.ms", BROOK__PT_INT, "0", "30000", 0, 86400000, NULL,
         BROOK__PF_CONSUMER | BROOK__PF_STREAMS, S(commit_interval_ms), NULL,
         "Consumer: 0 commits after every completed batch (asynchronously, at "
         "most one commit in flight); >0 commits completed offsets at this "
         "interval. Streams: the commit cycle interval (default 30000)."},
    [BROOK__P_SHUTDOWN_TIMEOUT_MS] =
        {"shutdown.timeout.ms", BROOK__PT_INT, "30000", NULL, 0, 86400000, NULL,
         BROOK__PF_ALL, S(shutdown_timeout_ms), NULL,
         "On stop and on partition revocation: how long to wait for batches in "
         "processing (and their dead letters) before giving up on them without "
         "committing."},
    [BROOK__P_BROKER_UNAVAILABLE_TIMEOUT_MS] =
        {"broker.unavailable.timeout.ms", BROOK__PT_INT, "60000", NULL, 0,
         86400000, NULL, BROOK__PF_ALL, S(broker_unavailable_timeout_ms), NULL,
         "When no broker has been reachable for this long, run() returns a "
         "BROOK_ERR_TRANSPORT error naming bootstrap.servers instead of "
         "waiting "
         "forever. Shorter outages are logged and ridden out. 0 waits "
         "forever."},
    /* ---- streams ---- */
    [BROOK__P_APPLICATION_ID] =
        {"application.id", BROOK__PT_STR, "", NULL, 0, 0, NULL,
         BROOK__PF_STREAMS, S(application_id), check_app_id,
         "Streams: the application's name. It is the consumer group id, the "
         "prefix of changelog topics (`<application.id>-<store>-changelog`) "
         "and "
         "the name of the state directory under state.dir. Required; at most "
         "200 characters of [a-zA-Z0-9._-]. Run more instances with the same "
         "id to scale out."},
    [BROOK__P_NUM_STREAM_THREADS] =
        {"num.stream.threads", BROOK__PT_INT, "1", NULL, 1, 256, NULL,
         BROOK__PF_STREAMS, S(num_stream_threads), NULL,
         "Streams: stream threads per instance. Each has its own consumer in "
         "the group, its own producer and its own tasks, as in Kafka Streams."},
    [BROOK__P_STATE_DIR] =
        {"state.dir", BROOK__PT_STR, "/tmp/brook-streams", NULL, 0, 0,
         NULL, BROOK__PF_STREAMS, S(state_dir), NULL,
         "Streams: root of the local state: `<state.dir>/<application.id>/"
         "<task>/<store>` holds a task's stores, `.checkpoint` its changelog "
         "offsets and `.lock` the lock that keeps two instances or threads "
         "from opening the same task."},
    [BROOK__P_PROCESSING_ERROR_HANDLER] =
        {"processing.error.handler", BROOK__PT_ENUM, "fail", NULL, 0, 0, w_eh,
         BROOK__PF_STREAMS, S(processing_error_handler), NULL,
         "Streams: what happens to a record that a processor fails (or that "
         "cannot be deserialized or produced). fail: the runtime stops with "
         "the error; offsets are not committed past the record. skip: the "
         "record is logged (WARN) and dropped. dead_letter: the source record "
         "is written to dead.letter.topic with headers naming its origin "
         "(brook.dlq.topic, .partition, .offset, .timestamp, .group, .task, "
         ".node, .failed_at, .reason) before its offset is committed."},
    [BROOK__P_STREAMS_BATCH_MAX_RECORDS] =
        {"streams.batch.max.records", BROOK__PT_INT, "1000", NULL, 1, 1000000,
         NULL, BROOK__PF_STREAMS, S(streams_batch_max_records), NULL,
         "Streams: records taken from the consumer per poll; the records of "
         "one "
         "partition in a poll form one batch, so this caps the batch size."},
    [BROOK__P_STREAMS_POLL_TIMEOUT_MS] =
        {"streams.poll.timeout.ms", BROOK__PT_INT, "100", NULL, 0, 60000, NULL,
         BROOK__PF_STREAMS, S(streams_poll_timeout_ms), NULL,
         "Streams: how long one poll waits to fill streams.batch.max.records "
         "before the records it has are processed. Under load polls return "
         "full at once; this bounds the latency of a quiet stream."},
    [BROOK__P_STREAMS_RESTORE_BATCH_MAX_RECORDS] =
        {"streams.restore.batch.max.records", BROOK__PT_INT, "10000", NULL, 1,
         1000000, NULL, BROOK__PF_STREAMS, S(streams_restore_batch_max_records),
         NULL,
         "Streams: changelog records read per restore step; each step is "
         "written to the store as one batch (a RocksDB WriteBatch)."},
    [BROOK__P_STREAMS_TOPIC_TIMEOUT_MS] =
        {"streams.topic.timeout.ms", BROOK__PT_INT, "30000", NULL, 100, 3600000,
         NULL, BROOK__PF_STREAMS, S(streams_topic_timeout_ms), NULL,
         "Streams: time allowed for metadata and admin requests at start "
         "(topic checks, changelog topic creation) and for watermark queries "
         "before a restore."},
    [BROOK__P_STORE_CHANGELOG_ENABLE] =
        {"store.changelog.enable", BROOK__PT_BOOL, "true", NULL, 0, 0, NULL,
         BROOK__PF_STREAMS, S(store_changelog_enable), NULL,
         "Streams: log every store write to its compacted changelog topic, "
         "restore from it on assignment and checkpoint it (stores added with "
         "BROOK_STORE_F_NO_CHANGELOG are never logged). Without a changelog a "
         "RocksDB store keeps its local state only, and an in-memory store "
         "starts empty."},
    [BROOK__P_STORE_CHANGELOG_REPLICATION_FACTOR] =
        {"store.changelog.replication.factor", BROOK__PT_INT, "-1", NULL, -1,
         32767, NULL, BROOK__PF_STREAMS, S(store_changelog_replication_factor),
         NULL,
         "Streams: replication factor of the changelog topics brook creates; "
         "-1 takes the broker's default.replication.factor."},
    [BROOK__P_STORE_CACHE_MAX_BYTES] =
        {"store.cache.max.bytes", BROOK__PT_INT, "10485760", NULL, 0, I64MAX,
         NULL, BROOK__PF_STREAMS, S(store_cache_max_bytes), NULL,
         "Streams: bytes of the write-back record caches in front of the "
         "stores, for the whole instance (divided evenly among the stream "
         "threads; the stores of a thread share its part), as Kafka Streams' "
         "statestore.cache.max.bytes. Writes update the cache only; reads go "
         "through it; the latest value per key is written to the store and "
         "its changelog as one batch at every commit, when the cache is full "
         "(the dirty entries of the store being written are flushed, then its "
         "eldest entries evicted) and before a range iteration. Aggregations "
         "that emit on flush (the built-in count, the word count example) "
         "forward one record per key per flush instead of one per update. 0 "
         "disables caching: every write goes to the store and the changelog "
         "at once. In-memory stores without changelog are never cached."},
    [BROOK__P_STORE_ROCKSDB_WAL] =
        {"store.rocksdb.wal", BROOK__PT_BOOL, "false", NULL, 0, 0, NULL,
         BROOK__PF_STREAMS, S(store_rocksdb_wal), NULL,
         "RocksDB stores: write the write-ahead log. Off by default: the "
         "changelog is the durable copy and each commit cycle flushes the "
         "memtables before the checkpoint is written, so a crash loses nothing "
         "the checkpoint claims. On: writes survive a process crash locally "
         "too, and the commit cycle syncs the WAL instead of flushing."},
    [BROOK__P_STORE_ROCKSDB_SYNC] =
        {"store.rocksdb.sync", BROOK__PT_BOOL, "false", NULL, 0, 0, NULL,
         BROOK__PF_STREAMS, S(store_rocksdb_sync), NULL,
         "RocksDB stores with store.rocksdb.wal=true: fsync the WAL on every "
         "write (survives a machine crash; much slower)."},
    /* ---- telemetry ---- */
    [BROOK__P_METRICS_LISTEN] =
        {"metrics.listen", BROOK__PT_STR, "", NULL, 0, 0, NULL, BROOK__PF_ALL,
         S(metrics_listen), check_listen,
         "Serve the metrics as Prometheus text on http://<host:port>/metrics "
         "(e.g. `127.0.0.1:9464`, `[::1]:9464`, `:9464` for every interface; "
         "port 0 picks a free port, see brook_telemetry_metrics_address()). "
         "Empty: no listener. docs/TELEMETRY.md lists the metrics."},
    [BROOK__P_METRICS_STATSD_ADDRESS] =
        {"metrics.statsd.address", BROOK__PT_STR, "", NULL, 0, 0, NULL,
         BROOK__PF_ALL, S(metrics_statsd_address), check_statsd,
         "Send the metrics as DogStatsD over UDP to host:port (e.g. "
         "`127.0.0.1:8125`) every metrics.statsd.interval.ms, tagged with "
         "group, topic, partition and status. Empty: off."},
    [BROOK__P_METRICS_STATSD_INTERVAL_MS] =
        {"metrics.statsd.interval.ms", BROOK__PT_INT, "10000", NULL, 100,
         3600000, NULL, BROOK__PF_ALL, S(metrics_statsd_interval_ms), NULL,
         "How often the DogStatsD exporter sends (counters as deltas since the "
         "previous send)."},
    [BROOK__P_METRICS_STATSD_TAGS] =
        {"metrics.statsd.tags", BROOK__PT_STR, "", NULL, 0, 0, NULL,
         BROOK__PF_ALL, S(metrics_statsd_tags), NULL,
         "Extra DogStatsD tags added to every metric, comma separated "
         "`key:value` (e.g. `env:prod,service:orders`)."},
    [BROOK__P_METRICS_LAG_INTERVAL_MS] =
        {"metrics.lag.interval.ms", BROOK__PT_INT, "5000", NULL, 0, 86400000,
         NULL, BROOK__PF_ALL, S(metrics_lag_interval_ms), NULL,
         "Consumer lag per partition (the brook_consumer_lag and "
         "brook_streams_lag gauges) is read "
         "from librdkafka's statistics at this interval (librdkafka's "
         "statistics.interval.ms; kafka.statistics.interval.ms overrides it). "
         "0 disables the lag gauge."},
    [BROOK__P_LOG_SUMMARY_INTERVAL_MS] =
        {"log.summary.interval.ms", BROOK__PT_INT, "10000", NULL, 0, 86400000,
         NULL, BROOK__PF_ALL, S(log_summary_interval_ms), NULL,
         "At most one INFO `batch.summary` log line per interval with the "
         "batches, messages, failures and dead letters since the previous one "
         "(none when nothing was processed). 0 disables the summaries."},
};

/*
 * librdkafka properties brook sets itself. Refused as "kafka.*" (at
 * brook_conf_set() when every component manages them, at _new for the
 * components listed), with what to use instead.
 */
const brook__kmanaged_t brook__kafka_managed[] = {
    {"bootstrap.servers", BROOK__PF_ALL,
     "set bootstrap.servers, brook's property: every client brook creates "
     "uses it"},
    {"metadata.broker.list", BROOK__PF_ALL,
     "set bootstrap.servers, brook's property: every client brook creates "
     "uses it"},
    {"group.id", BROOK__PF_ALL,
     "set group.id (batch consumer) or application.id (streams): brook "
     "names its clients, metrics, dead-letter headers and internal topics "
     "after them"},
    {"client.id", BROOK__PF_ALL,
     "set client.id, brook's property: each client's id is derived from it"},
    {"enable.auto.commit", BROOK__PF_ALL,
     "brook commits offsets itself, only for finished work (see "
     "commit.interval.ms)"},
    {"enable.auto.offset.store", BROOK__PF_ALL,
     "brook stores offsets itself, only for finished work"},
    {"auto.commit.enable", BROOK__PF_ALL,
     "brook commits offsets itself, only for finished work (see "
     "commit.interval.ms)"},
    {"auto.commit.interval.ms", BROOK__PF_ALL,
     "brook commits offsets itself: see commit.interval.ms"},
    {"transactional.id", BROOK__PF_ALL,
     "brook creates and names its transactional producers itself"},
    {"isolation.level", BROOK__PF_ALL,
     "brook's consumers read committed records only (read_committed): "
     "records of aborted transactions are never processed"},
    {"enable.idempotence", BROOK__PF_ALL,
     "brook's producers are always idempotent"},
    {"acks", BROOK__PF_ALL,
     "brook's producers always wait for every in-sync replica (acks=all)"},
    {"request.required.acks", BROOK__PF_ALL,
     "brook's producers always wait for every in-sync replica (acks=all)"},
    {"enable.partition.eof", BROOK__PF_ALL,
     "brook sets it for each client it creates"},
    {"partition.assignment.strategy", BROOK__PF_STREAMS,
     "the streams runtime assigns partitions with the range assignor so "
     "that the co-partitioned topics of a sub-topology stay together"},
    {"group.instance.id", BROOK__PF_STREAMS,
     "static membership is not supported by the streams runtime (its "
     "stream threads share one configuration)"},
    {NULL, 0, NULL}};

const brook__prop_t *brook__prop_find(const char *name)
{
        size_t i;

        for (i = 0; i < BROOK__P__CNT; i++)
                if (!strcmp(brook__props[i].name, name))
                        return &brook__props[i];
        return NULL;
}
