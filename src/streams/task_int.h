/*
 * streams/task_int.h: records, contexts and per-node state, shared by
 * streams/task.c (execution) and streams/record.c (the record and context API).
 * Not API.
 *
 * Records live in the task's arena and are released with the batch.
 *
 * @locality the task's stream thread.
 */
#ifndef BROOK__STREAMS_TASK_INT_H
#define BROOK__STREAMS_TASK_INT_H

#include "streams/task.h"

typedef struct brook__hdr_s {
        const char *name;
        const void *value; /* NULL: null header value */
        size_t size;
        struct brook__hdr_s *next;
} brook__hdr_t;

/* brook_record_t flags */
#define BROOK__REC_MINE       0x1 /* made by brook_ctx_record_new() */
#define BROOK__REC_NO_SRC_HDR 0x2 /* source headers not inherited */
#define BROOK__REC_HDR_SHARED 0x4 /* hdrs list belongs to the parent */

struct brook_record_s {
        const void *key;
        size_t klen;
        const void *value;
        size_t vlen;
        int64_t ts;
        const rd_kafka_message_t *src; /* source message, NULL: none */
        int32_t src_idx;               /* index in the batch, -1 */
        int32_t flags;
        brook__hdr_t *hdrs; /* added headers, in order */
        brook__hdr_t *hdr_tail;
        size_t hdr_cnt;
        brook__arena_t *arena; /* made by brook_ctx_record_new(): its task's */
};

struct brook_ctx_s {
        brook__task_t *task;
        int node;
};

struct brook__node_rt_s {
        struct brook_ctx_s ctx;
        void *state;
        int inited;
        brook__ptrvec_t inbox; /* brook_record_t * */
        brook__ptrvec_t spare; /* swapped with inbox while running */
        char *fail_reason;     /* brook_ctx_fail() of the running call */
};

struct brook__punct_s {
        int node;
        int64_t interval;
        brook_punctuation_type_t type;
        brook_punctuate_fn *fn;
        void *arg;
        int64_t next; /* -1: not yet anchored (stream time) */
        struct brook__punct_s *next_p;
};

/* streams/task.c: a record (or its source message) failed at @p node. */
void brook__task_fail_record(brook__task_t *t, int node, brook_record_t *rec,
                             const char *reason);

/* streams/task.c: queue @p cnt records in @p child's inbox. */
brook_err_t brook__task_enqueue(brook__task_t *t, int child,
                                brook_record_t *const *recs, size_t cnt);

#endif /* BROOK__STREAMS_TASK_INT_H */
