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

#define TEST_FAIL(...)                                                        \
        do {                                                                  \
                fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);          \
                fprintf(stderr, __VA_ARGS__);                                 \
                fprintf(stderr, "\n");                                        \
                exit(1);                                                      \
        } while (0)

#define TEST_ASSERT(cond, ...)                                                \
        do {                                                                  \
                if (!(cond)) {                                                \
                        fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__,          \
                                __LINE__, #cond);                             \
                        fprintf(stderr, __VA_ARGS__);                         \
                        fprintf(stderr, "\n");                                \
                        exit(1);                                              \
                }                                                             \
        } while (0)

#define TEST_SAY(...)                                                         \
        do {                                                                  \
                fprintf(stderr, "[%8.3fs] ", test_elapsed());                 \
                fprintf(stderr, __VA_ARGS__);                                 \
                fprintf(stderr, "\n");                                        \
        } while (0)

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

/* Sleep @p ms milliseconds. */
void test_sleep_ms(int64_t ms);

/* Monotonic milliseconds. */
int64_t test_now_ms(void);

#endif /* BROOK_TEST_H */
