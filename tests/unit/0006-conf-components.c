/*
 * 0006: configuration errors that name the property and what to do.
 *
 *  1. brook_conf_set() checks values beyond their type: group.id and
 *     application.id characters, metrics.listen / metrics.statsd.address
 *     host:port and port range, dead.letter.topic topic-name rules (with
 *     the {topic} template).
 *  2. librdkafka properties brook manages are refused as "kafka.*" with the
 *     brook property or mode to use instead; ones only the streams runtime
 *     manages are refused by brook_streams_new() and accepted by the
 *     consumer.
 *  3. A property the component being created does not read fails its _new
 *     with a message naming the property and the component that reads it:
 *     streams properties for the consumer, consumer properties for
 *     streams, "rocksdb.*" for the consumer.
 *  4. "kafka.*" settings reach only the clients whose role reads them: a
 *     consumer-only and a producer-only property on a consumer with a
 *     dead-letter producer give no librdkafka configuration warning.
 *  5. Enum values come out by name in the consumer's start line.
 */
#include <string.h>

#include "test.h"

static char logs[16384];
static size_t logs_len;
static pthread_mutex_t logs_lock = PTHREAD_MUTEX_INITIALIZER;

static void on_log(brook_log_level_t level, const char *event, const char *line,
                   void *opaque)
{
        size_t n = strlen(line);

        (void)level;
        (void)event;
        (void)opaque;
        pthread_mutex_lock(&logs_lock);
        if (logs_len + n + 2 < sizeof(logs)) {
                memcpy(logs + logs_len, line, n);
                logs_len += n;
                logs[logs_len++] = '\n';
                logs[logs_len] = '\0';
        }
        pthread_mutex_unlock(&logs_lock);
}

static brook_err_t on_batch(brook_batch_t *b, void *o)
{
        (void)b;
        (void)o;
        return BROOK_OK;
}

/* brook_conf_set(name, value) fails with @p code, naming @p needles. */
static void expect_set(const char *name, const char *value, brook_err_t code,
                       const char *needle1, const char *needle2)
{
        brook_conf_t *conf = brook_conf_new();
        char es[512] = "";
        brook_err_t err = brook_conf_set(conf, name, value, es, sizeof(es));

        TEST_ASSERT(err == code, "%s=%s: %s, expected %s (%s)", name, value,
                    brook_err2name(err), brook_err2name(code), es);
        if (code) {
                TEST_ASSERT(strstr(es, name), "\"%s\" does not name %s", es,
                            name);
                TEST_ASSERT(!needle1 || strstr(es, needle1),
                            "\"%s\" does not say \"%s\"", es, needle1);
                TEST_ASSERT(!needle2 || strstr(es, needle2),
                            "\"%s\" does not say \"%s\"", es, needle2);
                TEST_SAY("%s=%s -> %s", name, value, es);
        }
        brook_conf_destroy(conf);
}

static brook_conf_t *consumer_conf(void)
{
        brook_conf_t *conf = brook_conf_new();

        test_conf_set(conf, "bootstrap.servers", "127.0.0.1:1");
        test_conf_set(conf, "group.id", "g0006");
        brook_conf_set_log_cb(conf, on_log);
        return conf;
}

static brook_conf_t *streams_conf(void)
{
        brook_conf_t *conf = brook_conf_new();

        test_conf_set(conf, "bootstrap.servers", "127.0.0.1:1");
        test_conf_set(conf, "application.id", "a0006");
        brook_conf_set_log_cb(conf, on_log);
        return conf;
}

/* brook_consumer_new() with @p name=@p value fails naming @p needles. */
static void expect_consumer_refuses(const char *name, const char *value,
                                    const char *needle)
{
        brook_conf_t *conf = consumer_conf();
        brook_handlers_t *h = brook_handlers_new();
        char es[512] = "";
        brook_consumer_t *c;

        test_conf_set(conf, name, value);
        brook_handlers_set_batch(h, on_batch);
        c = brook_consumer_new(conf, h, NULL, es, sizeof(es));
        TEST_ASSERT(!c, "consumer took %s=%s", name, value);
        TEST_ASSERT(strstr(es, name) && strstr(es, needle),
                    "\"%s\" does not name %s and \"%s\"", es, name, needle);
        TEST_SAY("consumer: %s=%s -> %s", name, value, es);
        brook_handlers_destroy(h);
        brook_conf_destroy(conf);
}

static brook_topology_t *topology(void)
{
        brook_topology_t *t = brook_topology_new();
        const char *in[] = {"in"}, *par[] = {"src"};
        char es[512];

        TEST_ASSERT(!brook_topology_add_source(t, "src", in, 1, NULL, NULL, es,
                                               sizeof(es)),
                    "%s", es);
        TEST_ASSERT(!brook_topology_add_sink(t, "out", "out", NULL, NULL, NULL,
                                             NULL, par, 1, es, sizeof(es)),
                    "%s", es);
        return t;
}

/* brook_streams_new() with @p name=@p value: refused naming @p needle, or
 * (needle NULL) accepted. */
static void expect_streams(const char *name, const char *value,
                           const char *needle)
{
        brook_conf_t *conf = streams_conf();
        brook_topology_t *t = topology();
        char es[512] = "";
        brook_streams_t *s;

        test_conf_set(conf, name, value);
        s = brook_streams_new(t, conf, es, sizeof(es));
        if (needle) {
                TEST_ASSERT(!s, "streams took %s=%s", name, value);
                TEST_ASSERT(strstr(es, name) && strstr(es, needle),
                            "\"%s\" does not name %s and \"%s\"", es, name,
                            needle);
                TEST_SAY("streams: %s=%s -> %s", name, value, es);
        } else {
                TEST_ASSERT(s, "streams refused %s=%s: %s", name, value, es);
        }
        brook_streams_destroy(s);
        brook_topology_destroy(t);
        brook_conf_destroy(conf);
}

int main(void)
{
        brook_conf_t *conf;
        brook_handlers_t *h;
        brook_consumer_t *c;
        char es[512];

        /* 1. values checked when set */
        expect_set("group.id", "bad group!", BROOK_ERR_CONF_INVALID,
                   "[a-zA-Z0-9._-]", NULL);
        expect_set("group.id", "ok.group-1", BROOK_OK, NULL, NULL);
        expect_set("application.id", "app/1", BROOK_ERR_CONF_INVALID,
                   "[a-zA-Z0-9._-]", NULL);
        expect_set("metrics.listen", "nonsense", BROOK_ERR_CONF_INVALID,
                   "host:port", NULL);
        expect_set("metrics.listen", "127.0.0.1:70000", BROOK_ERR_CONF_INVALID,
                   "65535", NULL);
        expect_set("metrics.listen", ":9464", BROOK_OK, NULL, NULL);
        expect_set("metrics.listen", "[::1]:0", BROOK_OK, NULL, NULL);
        expect_set("metrics.statsd.address", ":8125", BROOK_ERR_CONF_INVALID,
                   "host:port", NULL);
        expect_set("metrics.statsd.address", "localhost:0",
                   BROOK_ERR_CONF_INVALID, "1..65535", NULL);
        expect_set("dead.letter.topic", "dead letters", BROOK_ERR_CONF_INVALID,
                   "{topic}", NULL);
        expect_set("dead.letter.topic", "{topic}/dlq", BROOK_ERR_CONF_INVALID,
                   "topic name", NULL);
        expect_set("dead.letter.topic", "{topic}.dlq", BROOK_OK, NULL, NULL);

        /* 2. librdkafka properties brook manages */
        expect_set("kafka.group.id", "g", BROOK_ERR_CONF_INVALID, "group.id",
                   "application.id");
        expect_set("kafka.bootstrap.servers", "h:1", BROOK_ERR_CONF_INVALID,
                   "set bootstrap.servers", NULL);
        expect_set("kafka.client.id", "x", BROOK_ERR_CONF_INVALID,
                   "set client.id", NULL);
        expect_set("kafka.enable.auto.commit", "true", BROOK_ERR_CONF_INVALID,
                   "commit.interval.ms", NULL);
        expect_set("kafka.enable.auto.offset.store", "true",
                   BROOK_ERR_CONF_INVALID, "brook stores offsets", NULL);
        expect_set("kafka.transactional.id", "t", BROOK_ERR_CONF_INVALID,
                   "transactional producers", NULL);
        expect_set("kafka.isolation.level", "read_uncommitted",
                   BROOK_ERR_CONF_INVALID, "read_committed", NULL);
        expect_set("kafka.enable.idempotence", "false", BROOK_ERR_CONF_INVALID,
                   "idempotent", NULL);
        expect_set("kafka.acks", "1", BROOK_ERR_CONF_INVALID, "acks=all", NULL);
        expect_set("kafka.request.required.acks", "1", BROOK_ERR_CONF_INVALID,
                   "acks=all", NULL);
        expect_set("kafka.enable.partition.eof", "true", BROOK_ERR_CONF_INVALID,
                   "brook sets it", NULL);
        expect_set("kafka.linger.ms", "5", BROOK_OK, NULL, NULL);
        expect_streams("kafka.partition.assignment.strategy",
                       "cooperative-sticky", "range assignor");
        expect_streams("kafka.group.instance.id", "i1", "static membership");

        /* 3. properties of the other component */
        expect_consumer_refuses("application.id", "a", "streams runtime");
        expect_consumer_refuses("state.dir", "/tmp/x", "streams runtime");
        expect_consumer_refuses("store.cache.max.bytes", "0",
                                "streams runtime");
        expect_consumer_refuses("rocksdb.write_buffer_size", "1048576",
                                "state stores");
        expect_streams("batch.size", "10", "batch consumer");
        expect_streams("ack.strategy", "best_effort", "batch consumer");
        expect_streams("group.id", "g", "application.id");
        expect_streams("dead.letter.max.retries", "1", "batch consumer");
        /* shared properties are taken by both */
        expect_streams("commit.interval.ms", "100", NULL);
        expect_streams("metrics.lag.interval.ms", "0", NULL);
        expect_streams("rocksdb.write_buffer_size", "1048576", NULL);

        /* 4 and 5. kafka.* by role; enums by name */
        conf = consumer_conf();
        test_conf_set(conf, "dead.letter.topic", "{topic}.dlq");
        test_conf_set(conf, "kafka.fetch.wait.max.ms", "50"); /* consumer */
        test_conf_set(conf, "kafka.linger.ms", "7");          /* producer */
        test_conf_set(conf, "kafka.partition.assignment.strategy",
                      "cooperative-sticky");
        test_conf_set(conf, "ack.strategy", "best_effort");
        test_conf_set(conf, "log.level", "debug");
        h = brook_handlers_new();
        brook_handlers_set_batch(h, on_batch);
        c = brook_consumer_new(conf, h, NULL, es, sizeof(es));
        TEST_ASSERT(c, "%s", es);
        brook_consumer_stop(c);
        brook_error_destroy(brook_consumer_run(c));
        brook_consumer_destroy(c);
        pthread_mutex_lock(&logs_lock);
        TEST_ASSERT(!strstr(logs, "CONFWARN"),
                    "a kafka.* property reached a client that does not read "
                    "it:\n%s",
                    logs);
        TEST_ASSERT(strstr(logs, "ack_strategy=best_effort"),
                    "start line without the strategy's name:\n%s", logs);
        pthread_mutex_unlock(&logs_lock);
        brook_handlers_destroy(h);
        brook_conf_destroy(conf);
        return 0;
}
