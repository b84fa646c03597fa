/*
 * streams_test.h: helpers for the streams and store tests: producing
 * records with keys, headers and timestamps, reading a whole topic back
 * with a plain librdkafka consumer (not brook), running the independent
 * Python client (tests/py/kafkatool.py), and running example programs.
 */
#ifndef BROOK_STREAMS_TEST_H
#define BROOK_STREAMS_TEST_H

#include <stdint.h>
#include <sys/types.h>

#include "test.h"

/* One record read back by st_read_topic(). */
typedef struct st_rec_s {
        int32_t partition;
        int64_t offset;
        int64_t timestamp;
        char *key; /* NUL-terminated copy, NULL for a null key */
        size_t key_len;
        char *value; /* NUL-terminated copy, NULL for a null value */
        size_t value_len;
        char *hdr_i; /* value of header "i", or NULL */
        int hdr_cnt;
        char *hdrs; /* every header as "name=value\n" lines */
} st_rec_t;

/*
 * Produce @p cnt records to @p topic: record i goes to partition
 * i % partitions, key "k<i % keys>" (keys 0: "k<i>"), value "v<i>",
 * header i=<i>, timestamp ts_base + i (ts_base 0: producer's clock).
 * Waits for every delivery.
 */
void st_produce(const char *bootstraps, const char *topic, int partitions,
                int64_t start, int64_t cnt, int keys, int64_t ts_base);

/* Produce @p cnt records to one partition (values[i] NULL: null value)
 * with one producer; waits for every delivery. */
void st_produce_kvs(const char *bootstraps, const char *topic,
                    int32_t partition, const char *const *keys,
                    const void *const *values, const size_t *value_lens,
                    size_t cnt);

/* Produce one record (key/value NUL-terminated strings or NULL). */
void st_produce_str(const char *bootstraps, const char *topic,
                    int32_t partition, const char *key, const char *value);

/*
 * Read every record of @p topic (all partitions) from the beginning up to
 * the high watermarks, with a plain librdkafka consumer. Returns the
 * array (free with st_recs_free()) and its size in *cntp.
 */
st_rec_t *st_read_topic(const char *bootstraps, const char *topic,
                        size_t *cntp);
void st_recs_free(st_rec_t *recs, size_t cnt);

/* The value of header @p name in @p r (static buffer), or NULL. */
const char *st_rec_header(const st_rec_t *r, const char *name);

/* High watermark of topic/partition. */
int64_t st_end_offset(const char *bootstraps, const char *topic,
                      int32_t partition);

/*
 * Fails the test unless the committed offset of group @p group on each of
 * the @p parts partitions of @p topic, read by kafka-python, is @p each.
 */
void st_assert_committed(const char *topic, const char *group, int parts,
                         int64_t each);

/*
 * The brook_streams_lag gauges of @p topic in one exposition of @p s:
 * lags[p] = the gauge of partition p, -1 when absent. Returns how many of
 * the @p parts partitions have a gauge.
 */
int st_lag_scan(brook_streams_t *s, const char *topic, int parts,
                int64_t *lags);

/* Wait until brook_streams_metric(s, name) >= want, or the timeout. */
int64_t st_wait_metric(brook_streams_t *s, const char *name, int64_t want,
                       int64_t timeout_ms);

/*
 * Run tests/py/kafkatool.py (through scripts/pyenv) with @p args (a shell
 * fragment) against BROOK_BROKERS; returns its stdout (free()) or fails the
 * test when it exits non-zero.
 */
char *st_kafkatool(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* st_kafkatool() in the background (output discarded): returns its pid;
 * wait for it with st_wait_ok(). */
pid_t st_kafkatool_bg(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* waitpid() and fail the test unless it exited 0. */
void st_wait_ok(pid_t pid, const char *what);

/* Path of a program built next to the tests (BROOK_BUILD_DIR or "."). */
const char *st_build_path(const char *name);

/* Start @p argv[0] with @p argv; stdout+stderr go to @p log (append). */
pid_t st_spawn(char *const argv[], const char *log);

/* Remove a directory tree. */
void st_rmrf(const char *path);

/* A fresh temporary directory (static buffer). */
const char *st_tmpdir(const char *prefix);

/* Decode base64 @p in into @p out (at most @p cap bytes); returns the
 * length, or -1 on bad input. */
int st_b64_decode(const char *in, unsigned char *out, size_t cap);

/*
 * Word count input: @p lines text lines of words "w<j>" (j < @p vocab,
 * skewed towards small j), line n to partition n % @p partitions, written
 * as kafkatool produce-json lines to @p path. counts[j] += occurrences.
 */
void st_wc_generate(const char *path, int lines, int vocab, int partitions,
                    uint32_t seed, int64_t *counts);

/*
 * Final counts from the word count output topic, read with kafka-python:
 * the last value (8-byte big-endian) of every key "w<j>", j < @p vocab.
 * Returns a calloc'ed array; *@p recordsp gets the records read.
 */
int64_t *st_wc_read_counts(const char *topic, int vocab, size_t *recordsp);

#endif /* BROOK_STREAMS_TEST_H */
