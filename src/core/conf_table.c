/*
 * core/conf_table.c: the one property table. It drives brook_conf_set()
 * validation, defaults, brook_conf_dump() and docs/CONFIGURATION.md.
 *
 * Keep rows grouped by component; add new rows at the end of their group.
 */
#include <string.h>

#include "core/conf.h"

#define I64MAX INT64_MAX
#define I32MAX 2147483647

const brook__prop_t brook__props[] = {
    /* ---- general ---- */
    {"bootstrap.servers", BROOK__PT_STR, "", NULL, 0, 0, NULL, BROOK__PF_ALL,
     "Kafka brokers to bootstrap from, host:port[,host:port...]. Required."},
    {"group.id", BROOK__PT_STR, "", NULL, 0, 0, NULL, BROOK__PF_CONSUMER,
     "Consumer group id. Required for the batch consumer. Kafka restricts it "
     "to at most 249 characters of [a-zA-Z0-9._-]."},
    {"client.id", BROOK__PT_STR, "brook", NULL, 0, 0, NULL, BROOK__PF_ALL,
     "Client id sent to the brokers."},
    {"log.level", BROOK__PT_ENUM, "info", NULL, 0, 0, "error,warn,info,debug",
     BROOK__PF_ALL,
     "Most verbose level that is logged. `debug` adds one line per failed "
     "message."},
    {"log.format", BROOK__PT_ENUM, "logfmt", NULL, 0, 0, "logfmt,json",
     BROOK__PF_ALL, "Format of the structured log lines."},

    /* ---- batch consumer ---- */
    {"batch.size", BROOK__PT_INT, "100", NULL, 1, 1000000, NULL,
     BROOK__PF_CONSUMER | BROOK__PF_RUNTIME,
     "Maximum messages per batch. A batch closes when it reaches this "
     "count."},
    {"batch.timeout.ms", BROOK__PT_INT, "1000", NULL, 0, 86400000, NULL,
     BROOK__PF_CONSUMER | BROOK__PF_RUNTIME,
     "Maximum time a partial batch waits for more messages after its first "
     "one arrived; a timer closes it even when no new message arrives."},
    {"batch.max.bytes", BROOK__PT_INT, "1048576", NULL, 1, I32MAX, NULL,
     BROOK__PF_CONSUMER | BROOK__PF_RUNTIME,
     "Maximum sum of key and value bytes per batch. A single larger message "
     "forms a batch of its own."},
    {"batch.async", BROOK__PT_BOOL, "false", NULL, 0, 0, NULL,
     BROOK__PF_CONSUMER,
     "Process batches on worker threads: up to max.in.flight.batches "
     "batches of different partitions at once, and the messages of a batch "
     "concurrently (when the message handler is used) on a pool of "
     "batch.max.concurrency threads."},
    {"batch.max.concurrency", BROOK__PT_INT, "10", NULL, 1, 1024, NULL,
     BROOK__PF_CONSUMER,
     "With batch.async: the number of message handler calls that may run "
     "at once, across all batches."},
    {"batch.ordered", BROOK__PT_BOOL, "true", NULL, 0, 0, NULL,
     BROOK__PF_CONSUMER,
     "With batch.async: hand per-message results to the result callback in "
     "offset order (true) or as they finish (false)."},
    {"max.in.flight.batches", BROOK__PT_INT, "3", NULL, 1, 1024, NULL,
     BROOK__PF_CONSUMER,
     "Back-pressure: at most this many batches are being processed at once; "
     "past it fetching pauses until a batch completes. Memory held by brook "
     "stays under batch.max.bytes x max.in.flight.batches."},
    {"batch.handler.timeout.ms", BROOK__PT_INT, "0", NULL, 0, 86400000, NULL,
     BROOK__PF_CONSUMER,
     "Report (WARN log and batch.exception event) a batch whose handler "
     "runs longer than this. The handler is not abandoned. 0 disables."},
    {"ack.strategy", BROOK__PT_ENUM, "all_or_nothing", NULL, 0, 0,
     "all_or_nothing,best_effort,last_successful", BROOK__PF_CONSUMER,
     "How partial failures move the offset. all_or_nothing: the offset "
     "passes a batch only when every message succeeded, else the batch is "
     "retried. best_effort: successes are kept, only failures are retried. "
     "last_successful: the offset advances to the first failure and "
     "processing resumes there."},
    {"retry.backoff.ms", BROOK__PT_INT, "100", NULL, 0, 3600000, NULL,
     BROOK__PF_CONSUMER,
     "Wait before the first retry of a failed batch; the partition is "
     "paused meanwhile, other partitions keep flowing."},
    {"retry.backoff.max.ms", BROOK__PT_INT, "10000", NULL, 0, 3600000, NULL,
     BROOK__PF_CONSUMER, "Upper bound of the exponential retry backoff."},
    {"dead.letter.topic", BROOK__PT_STR, "", NULL, 0, 0, NULL,
     BROOK__PF_CONSUMER | BROOK__PF_STREAMS,
     "Topic for messages that still fail after dead.letter.max.retries "
     "retries. `{topic}` is replaced by the source topic (e.g. "
     "`{topic}.dlq`). Empty: see dead.letter.policy."},
    {"dead.letter.max.retries", BROOK__PT_INT, "3", NULL, 0, 1000, NULL,
     BROOK__PF_CONSUMER,
     "Retries of a failing message before it is dead-lettered."},
    {"dead.letter.policy", BROOK__PT_ENUM, "fail", NULL, 0, 0, "fail,skip",
     BROOK__PF_CONSUMER,
     "What happens to an exhausted message when dead.letter.topic is empty. "
     "fail: the consumer stops with an error and does not commit past it. "
     "skip: it is skipped with an ERROR log line."},
    {"commit.interval.ms", BROOK__PT_INT, "0", "30000", 0, 86400000, NULL,
     BROOK__PF_CONSUMER | BROOK__PF_STREAMS,
     "Consumer: 0 commits after every completed batch (asynchronously, at "
     "most one commit in flight); >0 commits completed offsets at this "
     "interval. Streams: the commit cycle interval (default 30000)."},
    {"shutdown.timeout.ms", BROOK__PT_INT, "30000", NULL, 0, 86400000, NULL,
     BROOK__PF_ALL,
     "On stop and on partition revocation: how long to wait for batches in "
     "processing (and their dead letters) before giving up on them without "
     "committing."},
    {"broker.unavailable.timeout.ms", BROOK__PT_INT, "60000", NULL, 0, 86400000,
     NULL, BROOK__PF_ALL,
     "When no broker has been reachable for this long, run() returns a "
     "BROOK_ERR_TRANSPORT error naming bootstrap.servers instead of waiting "
     "forever. Shorter outages are logged and ridden out. 0 waits "
     "forever."},

    /* ---- streams ---- */
    {"application.id", BROOK__PT_STR, "", NULL, 0, 0, NULL, BROOK__PF_STREAMS,
     "Streams: the application's name. It is the consumer group id, the "
     "prefix of changelog topics (`<application.id>-<store>-changelog`) and "
     "the name of the state directory under state.dir. Required; at most "
     "200 characters of [a-zA-Z0-9._-]. Run more instances with the same "
     "id to scale out."},
    {"num.stream.threads", BROOK__PT_INT, "1", NULL, 1, 256, NULL,
     BROOK__PF_STREAMS,
     "Streams: stream threads per instance. Each has its own consumer in "
     "the group, its own producer and its own tasks, as in Kafka Streams."},
    {"state.dir", BROOK__PT_STR, "/tmp/brook-streams", NULL, 0, 0, NULL,
     BROOK__PF_STREAMS,
     "Streams: root of the local state: `<state.dir>/<application.id>/"
     "<task>/<store>` holds a task's stores, `.checkpoint` its changelog "
     "offsets and `.lock` the lock that keeps two instances or threads "
     "from opening the same task."},
    {"processing.error.handler", BROOK__PT_ENUM, "fail", NULL, 0, 0,
     "fail,skip,dead_letter", BROOK__PF_STREAMS,
     "Streams: what happens to a record that a processor fails (or that "
     "cannot be deserialized or produced). fail: the runtime stops with "
     "the error; offsets are not committed past the record. skip: the "
     "record is logged (WARN) and dropped. dead_letter: the source record "
     "is written to dead.letter.topic with headers naming its origin "
     "(brook.dlq.topic, .partition, .offset, .timestamp, .group, .task, "
     ".node, .failed_at, .reason) before its offset is committed."},
    {"streams.batch.max.records", BROOK__PT_INT, "1000", NULL, 1, 1000000, NULL,
     BROOK__PF_STREAMS,
     "Streams: records taken from the consumer per poll; the records of one "
     "partition in a poll form one batch, so this caps the batch size."},
    {"streams.poll.timeout.ms", BROOK__PT_INT, "100", NULL, 0, 60000, NULL,
     BROOK__PF_STREAMS,
     "Streams: how long one poll waits to fill streams.batch.max.records "
     "before the records it has are processed. Under load polls return "
     "full at once; this bounds the latency of a quiet stream."},
    {"streams.restore.batch.max.records", BROOK__PT_INT, "10000", NULL, 1,
     1000000, NULL, BROOK__PF_STREAMS,
     "Streams: changelog records read per restore step; each step is "
     "written to the store as one batch (a RocksDB WriteBatch)."},
    {"streams.topic.timeout.ms", BROOK__PT_INT, "30000", NULL, 100, 3600000,
     NULL, BROOK__PF_STREAMS,
     "Streams: time allowed for metadata and admin requests at start "
     "(topic checks, changelog topic creation) and for watermark queries "
     "before a restore."},
    {"store.changelog.enable", BROOK__PT_BOOL, "true", NULL, 0, 0, NULL,
     BROOK__PF_STREAMS,
     "Streams: log every store write to its compacted changelog topic, "
     "restore from it on assignment and checkpoint it (stores added with "
     "BROOK_STORE_F_NO_CHANGELOG are never logged). Without a changelog a "
     "RocksDB store keeps its local state only, and an in-memory store "
     "starts empty."},
    {"store.changelog.replication.factor", BROOK__PT_INT, "-1", NULL, -1, 32767,
     NULL, BROOK__PF_STREAMS,
     "Streams: replication factor of the changelog topics brook creates; "
     "-1 takes the broker's default.replication.factor."},
    {"store.cache.max.bytes", BROOK__PT_INT, "10485760", NULL, 0, I64MAX, NULL,
     BROOK__PF_STREAMS,
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
    {"store.rocksdb.wal", BROOK__PT_BOOL, "false", NULL, 0, 0, NULL,
     BROOK__PF_STREAMS,
     "RocksDB stores: write the write-ahead log. Off by default: the "
     "changelog is the durable copy and each commit cycle flushes the "
     "memtables before the checkpoint is written, so a crash loses nothing "
     "the checkpoint claims. On: writes survive a process crash locally "
     "too, and the commit cycle syncs the WAL instead of flushing."},
    {"store.rocksdb.sync", BROOK__PT_BOOL, "false", NULL, 0, 0, NULL,
     BROOK__PF_STREAMS,
     "RocksDB stores with store.rocksdb.wal=true: fsync the WAL on every "
     "write (survives a machine crash; much slower)."},

    /* ---- telemetry ---- */
    {"metrics.listen", BROOK__PT_STR, "", NULL, 0, 0, NULL, BROOK__PF_ALL,
     "Serve the metrics as Prometheus text on http://<host:port>/metrics "
     "(e.g. `127.0.0.1:9464`, `[::1]:9464`, `:9464` for every interface; "
     "port 0 picks a free port, see brook_telemetry_metrics_address()). "
     "Empty: no listener. docs/TELEMETRY.md lists the metrics."},
    {"metrics.statsd.address", BROOK__PT_STR, "", NULL, 0, 0, NULL,
     BROOK__PF_ALL,
     "Send the metrics as DogStatsD over UDP to host:port (e.g. "
     "`127.0.0.1:8125`) every metrics.statsd.interval.ms, tagged with "
     "group, topic, partition and status. Empty: off."},
    {"metrics.statsd.interval.ms", BROOK__PT_INT, "10000", NULL, 100, 3600000,
     NULL, BROOK__PF_ALL,
     "How often the DogStatsD exporter sends (counters as deltas since the "
     "previous send)."},
    {"metrics.statsd.tags", BROOK__PT_STR, "", NULL, 0, 0, NULL, BROOK__PF_ALL,
     "Extra DogStatsD tags added to every metric, comma separated "
     "`key:value` (e.g. `env:prod,service:orders`)."},
    {"metrics.lag.interval.ms", BROOK__PT_INT, "5000", NULL, 0, 86400000, NULL,
     BROOK__PF_ALL,
     "Consumer lag per partition (the brook_consumer_lag and "
     "brook_streams_lag gauges) is read "
     "from librdkafka's statistics at this interval (librdkafka's "
     "statistics.interval.ms; kafka.statistics.interval.ms overrides it). "
     "0 disables the lag gauge."},
    {"log.summary.interval.ms", BROOK__PT_INT, "10000", NULL, 0, 86400000, NULL,
     BROOK__PF_ALL,
     "At most one INFO `batch.summary` log line per interval with the "
     "batches, messages, failures and dead letters since the previous one "
     "(none when nothing was processed). 0 disables the summaries."},
};

const size_t brook__props_cnt = sizeof(brook__props) / sizeof(brook__props[0]);

const brook__prop_t *brook__prop_find(const char *name)
{
        size_t i;

        for (i = 0; i < brook__props_cnt; i++)
                if (!strcmp(brook__props[i].name, name))
                        return &brook__props[i];
        return NULL;
}
