/*
 * 1503: both exporters on the embedded cluster, checked from outside.
 *
 * 2 partitions x 600 messages, batch.size 30; partition 0 offset 11 fails
 * once, partition 1 offset 5 always (dead-lettered after 1 retry).
 *  - Prometheus: the real HTTP endpoint (metrics.listen=127.0.0.1:0) is
 *    scraped while the consumer runs and after the topic is drained;
 *    `promtool check metrics` (an independent parser and linter) accepts
 *    every scrape; the final counts equal the workload; the lag gauge of
 *    both partitions is 0 once everything is committed.
 *  - DogStatsD: a UDP socket of the test is the agent
 *    (metrics.statsd.address, interval 100 ms, metrics.statsd.tags
 *    env:test). Every line parses as name:value|type[|@rate]|#tags, carries
 *    group (and topic/status/partition where they apply) plus env:test;
 *    counter deltas add up to the same totals; histogram lines weighted by
 *    1/rate count every batch; lag and queue-depth gauges are sent.
 */
#include <math.h>
#include <string.h>

#include "tel_test.h"

#define PARTS 2
#define PER   600
#define N     (PARTS * PER)

static brook_err_t on_batch(brook_batch_t *b, void *opaque)
{
        size_t i;

        (void)opaque;
        for (i = 0; i < brook_batch_count(b); i++) {
                brook_msg_t *m = brook_batch_msg(b, i);
                int32_t p = brook_msg_partition(m);
                int64_t o = brook_msg_offset(m);

                if ((p == 0 && o == 11 && brook_msg_retry_count(m) == 0) ||
                    (p == 1 && o == 5))
                        brook_batch_fail(b, i, "injected");
        }
        return BROOK_OK;
}

/* StatsD totals parsed from the datagrams. */
typedef struct sd_s {
        double ok, failed, batches, dead, size_obs, dur_obs;
        int lines, lag_lines, lag_zero[PARTS], depth_lines;
} sd_t;

static void sd_parse(char *all, const char *group, sd_t *sd)
{
        char *save = NULL, *l;
        char gtag[200];

        snprintf(gtag, sizeof(gtag), "group:%s", group);
        for (l = strtok_r(all, "\n", &save); l;
             l = strtok_r(NULL, "\n", &save)) {
                char name[128], type[8], *colon = strchr(l, ':'),
                                         *bar = strchr(l, '|'), *tags;
                double v, rate = 1;

                if (!*l)
                        continue;
                sd->lines++;
                TEST_ASSERT(colon && bar && colon < bar, "line \"%s\"", l);
                snprintf(name, sizeof(name), "%.*s", (int)(colon - l), l);
                v = atof(colon + 1);
                snprintf(type, sizeof(type), "%.*s", (int)strcspn(bar + 1, "|"),
                         bar + 1);
                TEST_ASSERT(!strcmp(type, "c") || !strcmp(type, "g") ||
                                !strcmp(type, "h") || !strcmp(type, "ms"),
                            "type %s in \"%s\"", type, l);
                if (strstr(l, "|@"))
                        rate = atof(strstr(l, "|@") + 2);
                TEST_ASSERT(rate > 0 && rate <= 1, "rate in \"%s\"", l);
                tags = strstr(l, "|#");
                TEST_ASSERT(tags, "no tags: \"%s\"", l);
                tags += 2;
                TEST_ASSERT(strstr(tags, gtag), "no %s: \"%s\"", gtag, l);
                TEST_ASSERT(strstr(tags, ",env:test"), "no env:test: \"%s\"",
                            l);
                TEST_ASSERT(strncmp(name, "brook.consumer.", 15) == 0,
                            "name %s", name);
                if (!strcmp(name, "brook.consumer.batch.queue.depth")) {
                        sd->depth_lines++;
                        continue;
                }
                if (!strcmp(name, "brook.consumer.lag")) {
                        int p = atoi(strstr(tags, "partition:") + 10);

                        TEST_ASSERT(strstr(tags, "topic:"), "lag topic");
                        TEST_ASSERT(p >= 0 && p < PARTS, "lag partition");
                        sd->lag_lines++;
                        sd->lag_zero[p] = v == 0;
                        continue;
                }
                TEST_ASSERT(strstr(tags, "topic:"), "no topic tag: \"%s\"", l);
                if (!strcmp(name, "brook.consumer.messages.processed.count")) {
                        TEST_ASSERT(!strcmp(type, "c"), "type");
                        if (strstr(tags, "status:ok"))
                                sd->ok += v;
                        else if (strstr(tags, "status:failed"))
                                sd->failed += v;
                        else
                                TEST_FAIL("status tag: \"%s\"", l);
                } else if (!strcmp(name,
                                   "brook.consumer.batch.processed.count")) {
                        TEST_ASSERT(strstr(tags, "status:"), "status: %s", l);
                        sd->batches += v;
                } else if (!strcmp(name,
                                   "brook.consumer.dead_letter.sent.count")) {
                        sd->dead += v;
                } else if (!strcmp(name, "brook.consumer.batch.size")) {
                        TEST_ASSERT(!strcmp(type, "h") && v >= 1 && v <= 30,
                                    "batch.size line \"%s\"", l);
                        sd->size_obs += 1 / rate;
                } else if (!strcmp(
                               name,
                               "brook.consumer.batch.processing.duration")) {
                        TEST_ASSERT(!strcmp(type, "ms") && v >= 0,
                                    "duration line \"%s\"", l);
                        sd->dur_obs += 1 / rate;
                }
        }
}

int main(void)
{
        test_env_t e;
        brook_conf_t *conf;
        brook_handlers_t *h = brook_handlers_new();
        brook_consumer_t *c;
        test_runner_t r;
        char addr[128], dlq[200], port[64], out[4096], *body = NULL,
                                                       *dgrams = NULL;
        size_t dlen = 0;
        int status, fd, uport, p, scrapes = 0, lag_zero = 0;
        int64_t deadline;
        double batches;
        sd_t sd;

        test_env_init(&e, "t1503", PARTS, N);
        snprintf(dlq, sizeof(dlq), "%s-dead", e.topic);
        TEST_ASSERT(!brook_mock_cluster_create_topic(e.mc, dlq, 1, 1), "dlq");
        fd = tel_udp_listen(&uport);
        snprintf(port, sizeof(port), "127.0.0.1:%d", uport);
        conf = test_env_conf(&e);
        test_conf_set(conf, "ack.strategy", "best_effort");
        test_conf_set(conf, "batch.size", "30");
        test_conf_set(conf, "batch.timeout.ms", "50");
        test_conf_set(conf, "retry.backoff.ms", "10");
        test_conf_set(conf, "dead.letter.max.retries", "1");
        test_conf_set(conf, "dead.letter.topic", dlq);
        test_conf_set(conf, "metrics.listen", "127.0.0.1:0");
        test_conf_set(conf, "metrics.lag.interval.ms", "100");
        test_conf_set(conf, "metrics.statsd.address", port);
        test_conf_set(conf, "metrics.statsd.interval.ms", "100");
        test_conf_set(conf, "metrics.statsd.tags", "env:test");
        brook_handlers_set_batch(h, on_batch);
        c = test_env_consumer(&e, conf, h, NULL);
        TEST_ASSERT(!brook_telemetry_metrics_address(
                        brook_consumer_telemetry(c), addr, sizeof(addr)),
                    "address");
        test_runner_start(&r, c);

        /* Scrape (and lint) while it runs, until the topic is drained and
         * the lag gauge says so. */
        deadline = test_now_ms() + test_timeout_ms(60000);
        for (;;) {
                int rc;

                free(body);
                body = tel_http_get(addr, "/metrics", &status);
                TEST_ASSERT(body && status == 200, "scrape: HTTP %d", status);
                scrapes++;
                rc = tel_promtool(body, out, sizeof(out));
                TEST_ASSERT(rc == 0,
                            "promtool check metrics failed (%d):\n%s"
                            "\n--- exposition:\n%s",
                            rc, out, body);
                tel_udp_drain(fd, 0, &dgrams, &dlen);
                lag_zero = 1;
                for (p = 0; p < PARTS; p++) {
                        char l[300];

                        snprintf(l, sizeof(l), "partition=\"%d\"", p);
                        lag_zero &=
                            tel_metric(body, "brook_consumer_lag", l) == 0;
                }
                if (lag_zero &&
                    tel_metric(body, "brook_consumer_messages_processed_total",
                               "status=\"ok\"") == N - 1 &&
                    tel_metric(body, "brook_consumer_dead_letter_sent_total",
                               NULL) == 1)
                        break;
                TEST_ASSERT(test_now_ms() < deadline,
                            "not drained in time; last scrape:\n%s", body);
                test_sleep_ms(50);
        }
        for (p = 0; p < PARTS; p++)
                TEST_ASSERT(test_wait_committed(e.bootstraps, e.group, e.topic,
                                                p, PER, 10000) == PER,
                            "partition %d not committed", p);
        TEST_SAY("%d scrapes, all valid for promtool; lag 0 on both "
                 "partitions; exposition:\n%s",
                 scrapes, body);
        TEST_ASSERT(tel_metric(body, "brook_consumer_messages_processed_total",
                               "status=\"failed\"") == 3,
                    "failed messages %g",
                    tel_metric(body, "brook_consumer_messages_processed_total",
                               "status=\"failed\""));
        batches =
            tel_metric(body, "brook_consumer_batch_processed_total", NULL);
        TEST_ASSERT(batches >= N / 30 &&
                        tel_metric(body, "brook_consumer_batch_size_count",
                                   NULL) == batches &&
                        tel_metric(body,
                                   "brook_consumer_batch_processing_duration_"
                                   "seconds_count",
                                   NULL) == batches,
                    "batch counts");
        TEST_ASSERT(tel_metric(body, "brook_consumer_batch_size_bucket",
                               "le=\"+Inf\"") == batches,
                    "+Inf bucket");
        TEST_ASSERT(tel_metric(body, "brook_consumer_batch_size_sum", NULL) ==
                        N + 2, /* the two retries of one message each */
                    "size sum %g",
                    tel_metric(body, "brook_consumer_batch_size_sum", NULL));
        TEST_ASSERT(!test_runner_stop(&r), "run() failed");
        /* The last StatsD flush happens at shutdown. */
        tel_udp_drain(fd, 300, &dgrams, &dlen);
        TEST_ASSERT(dgrams, "no DogStatsD datagram");
        memset(&sd, 0, sizeof(sd));
        sd_parse(dgrams, e.group, &sd);
        TEST_SAY("DogStatsD: %d lines: ok %g failed %g batches %g dead %g, "
                 "histogram observations %g/%g, %d lag lines, %d depth",
                 sd.lines, sd.ok, sd.failed, sd.batches, sd.dead, sd.size_obs,
                 sd.dur_obs, sd.lag_lines, sd.depth_lines);
        TEST_ASSERT(sd.ok == N - 1 && sd.failed == 3 && sd.dead == 1,
                    "statsd message counters");
        TEST_ASSERT(sd.batches == batches, "statsd batches %g, scraped %g",
                    sd.batches, batches);
        TEST_ASSERT(fabs(sd.size_obs - batches) < 0.01 &&
                        fabs(sd.dur_obs - batches) < 0.01,
                    "histogram observations %g / %g, batches %g", sd.size_obs,
                    sd.dur_obs, batches);
        TEST_ASSERT(sd.lag_lines > 0 && sd.lag_zero[0] && sd.lag_zero[1],
                    "lag gauges");
        TEST_ASSERT(sd.depth_lines > 1, "queue depth gauge");
        free(dgrams);
        free(body);
        close(fd);
        brook_consumer_destroy(c);
        brook_handlers_destroy(h);
        brook_conf_destroy(conf);
        test_env_destroy(&e);
        return 0;
}
