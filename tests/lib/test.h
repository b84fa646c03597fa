/*
 * test.h: the small test library shared by brook's tests. Each test is its
 * own program (own process, own timeout, set by CTest); it exits 0 on
 * success and non-zero with a message naming the failed check.
 */
#ifndef BROOK_TEST_H
#define BROOK_TEST_H

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "brook/brook.h"
#include "brook/testing.h"

#define TEST_FAIL(...)                                                         \
        do {                                                                   \
                fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);           \
                fprintf(stderr, __VA_ARGS__);                                  \
                fprintf(stderr, "\n");                                         \
                exit(1);                                                       \
        } while (0)

#define TEST_ASSERT(cond, ...)                                                 \
        do {                                                                   \
                if (!(cond)) {                                                 \
                        fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__,          \
                                __LINE__, #cond);                              \
                        fprintf(stderr, __VA_ARGS__);                          \
                        fprintf(stderr, "\n");                                 \
                        exit(1);                                               \
                }                                                              \
        } while (0)

#define TEST_SAY(...)                                                          \
        do {                                                                   \
                fprintf(stderr, "[%8.3fs] ", test_elapsed());                  \
                fprintf(stderr, __VA_ARGS__);                                  \
                fprintf(stderr, "\n");                                         \
        } while (0)

/*
 * Wait until @p cond holds: it is evaluated at once, then again after
 * short pauses (5 ms, doubling up to 100 ms), for at most
 * test_timeout_ms(@p timeout_ms). When it still does not hold, the test
 * fails with "timed out after N ms waiting for <cond>" and the message.
 * Say in the message what is awaited: this is how tests synchronise, never
 * with a fixed sleep.
 *
 *   TEST_WAIT_UNTIL(__atomic_load_n(&assigned, __ATOMIC_SEQ_CST) == 1,
 *                   30000, "the partition assignment (%d)", assigned);
 */
#define TEST_WAIT_UNTIL(cond, timeout_ms, ...)                                 \
        do {                                                                   \
                test_wait_t test_wait_;                                        \
                                                                               \
                test_wait_start(&test_wait_, (timeout_ms));                    \
                while (!(cond))                                                \
                        if (!test_wait_pause(&test_wait_))                     \
                                test_wait_fail(&test_wait_, __FILE__,          \
                                               __LINE__, #cond, __VA_ARGS__);  \
        } while (0)

/* State of one TEST_WAIT_UNTIL(). */
typedef struct test_wait_s {
        int64_t start_ms, deadline_ms, pause_ms;
} test_wait_t;

void test_wait_start(test_wait_t *w, int64_t timeout_ms);
/* Pause before the next check; 0 (no pause) once the deadline passed. */
int test_wait_pause(test_wait_t *w);
void test_wait_fail(const test_wait_t *w, const char *file, int line,
                    const char *cond, const char *fmt, ...)
    __attribute__((format(printf, 5, 6), noreturn));

/* Seconds since the test started. */
double test_elapsed(void);

/* Timeouts are multiplied by BROOK_TEST_TIMEOUT_MULT (default 1; the
 * sanitizer builds set it higher). */
int64_t test_timeout_ms(int64_t ms);

/* A unique name with @p prefix (topic / group names). */
const char *test_name(const char *prefix);

/* Set a property or fail the test. */
void test_conf_set(brook_conf_t *conf, const char *name, const char *value);

/* Bootstrap servers of the real broker (BROOK_BROKERS), or NULL. */
const char *test_brokers(void);

/* Produce @p cnt messages to @p topic: message i goes to partition
 * i % partitions with key "k<i>" and value "v<i>" (when partitions is 0,
 * the partitioner decides from the key). Waits for every delivery. */
void test_produce(const char *bootstraps, const char *topic, int partitions,
                  int64_t cnt);

/* Produce one message with explicit parts (value may be NULL). */
void test_produce_one(const char *bootstraps, const char *topic,
                      int32_t partition, const char *key, const void *value,
                      size_t len);

/* Committed offset of @p group for topic/partition (-1001 if none), read
 * with a separate client. */
int64_t test_committed(const char *bootstraps, const char *group,
                       const char *topic, int32_t partition);

/* Poll test_committed() until it equals @p want or the timeout; returns the
 * last value seen. */
int64_t test_wait_committed(const char *bootstraps, const char *group,
                            const char *topic, int32_t partition, int64_t want,
                            int64_t timeout_ms);

/* Runs brook_consumer_run() on its own thread. */
typedef struct test_runner_s {
        pthread_t thr;
        brook_consumer_t *c;
        brook_error_t *err;
        int done;
} test_runner_t;

void test_runner_start(test_runner_t *r, brook_consumer_t *c);
/* Stop and join; returns run()'s error (caller frees). */
brook_error_t *test_runner_stop(test_runner_t *r);
/* Join without stopping (run() ends by itself). */
brook_error_t *test_runner_join(test_runner_t *r);

/* Sleep @p ms milliseconds: for a pause that is itself under test (a slow
 * handler, an idle period), never to wait for something to happen (use
 * TEST_WAIT_UNTIL()). */
void test_sleep_ms(int64_t ms);

/* Monotonic milliseconds. */
int64_t test_now_ms(void);

/* Records which (partition, offset) pairs a handler saw, thread-safe. */
typedef struct test_seen_s {
        pthread_mutex_t lock;
        int parts;
        int64_t cap;     /* offsets per partition */
        uint16_t **hits; /* [parts][cap] times seen */
        int64_t total;   /* distinct pairs seen */
        int64_t dups;    /* repeated deliveries */
        int64_t calls;   /* handler calls */
        int64_t max_batch;
} test_seen_t;

void test_seen_init(test_seen_t *s, int parts, int64_t cap);
/* Record one delivery; returns how many times it was seen before. */
int test_seen_add(test_seen_t *s, int32_t partition, int64_t offset);
/* Record a whole batch (and the batch's size). */
void test_seen_batch(test_seen_t *s, const brook_batch_t *b);
int64_t test_seen_total(test_seen_t *s);
/* Wait until @p want distinct pairs were seen; returns the count. */
int64_t test_seen_wait(test_seen_t *s, int64_t want, int64_t timeout_ms);
void test_seen_free(test_seen_t *s);

/* An embedded cluster with one topic, and a conf pointing at it. */
typedef struct test_env_s {
        brook_mock_cluster_t *mc;
        const char *bootstraps;
        char topic[128];
        char group[128];
        int partitions;
} test_env_t;

/* Start the embedded cluster (or use BROOK_BROKERS when @p real), create
 * the topic, produce @p cnt messages round-robin over @p partitions. */
void test_env_init(test_env_t *e, const char *name, int partitions,
                   int64_t cnt);
/* A conf for a consumer of the env's group (caller frees). */
brook_conf_t *test_env_conf(test_env_t *e);
/* A started consumer: conf + handlers + subscribe. */
brook_consumer_t *test_env_consumer(test_env_t *e, brook_conf_t *conf,
                                    brook_handlers_t *h, void *opaque);
void test_env_destroy(test_env_t *e);

/* The group-split scenario (tests/lib/group_split.c): two consumers of one
 * group on the embedded cluster, the second joining mid-way, with the
 * assignment @p strategy (NULL: librdkafka's default) and a handler that
 * sleeps @p sleep_ms per batch. Exits on a failed check; returns 0. */
int test_group_split(const char *name, const char *strategy, int sleep_ms);

/* A record read back from a topic by a separate client. */
typedef struct test_rec_s {
        int32_t partition;
        int64_t offset;
        char *key, *value; /* NUL-terminated copies, NULL when null */
        size_t key_len, value_len;
        char **hdr_names, **hdr_values; /* NUL-terminated copies */
        size_t hdr_cnt;
} test_rec_t;

/* Read every record of @p topic (all partitions, from the beginning to the
 * high watermarks at call time). Returns the count; *recsp to free with
 * test_recs_free(). */
size_t test_read_topic(const char *bootstraps, const char *topic,
                       test_rec_t **recsp);
/* The value of header @p name of @p r, or NULL. */
const char *test_rec_header(const test_rec_t *r, const char *name);
void test_recs_free(test_rec_t *recs, size_t cnt);

#endif /* BROOK_TEST_H */
