/*
 * brook - batch-first Kafka stream processing in C.
 *
 * streams.h: the streams runtime. A topology of sources, processors and
 * sinks (with state stores attached to processors) runs as one task per
 * assigned partition (per partition group when a sub-topology reads several
 * co-partitioned topics). Every stage has a batch path:
 *
 *   poll -> records grouped by (topic, partition), offset order -> task ->
 *   source deserializes the batch -> each node gets process_batch() when it
 *   has one, else process() once per record -> sinks produce the batch
 *   asynchronously.
 *
 * Every `commit.interval.ms` (and on revocation and close) the commit cycle
 * runs: flush sinks, changelogs and dead letters (delivery reports), flush
 * stores, commit offsets, write checkpoints. An offset advances only past
 * records whose whole downstream finished and was delivered: at-least-once.
 *
 * Records forwarded to a node are collected in the node's inbox and handed
 * over once the nodes before it have run (topological order): a
 * batch-capable node after a record-only node still receives a batch, and
 * a record-only node always gets records one by one.
 *
 * Threads: processor functions, punctuators, serdes and partitioners run
 * on the stream thread that owns the task; a context, a record and the
 * stores it reaches are used only on that thread and during the call. The
 * runtime's own functions (start, stop, wait, close, metric) may be called
 * from any thread; brook_streams_stop() also from a signal handler. See
 * docs/STREAMS.md.
 */
#ifndef BROOK_STREAMS_H
#define BROOK_STREAMS_H

#include "brook/common.h"
#include "brook/conf.h"
#include "brook/serde.h"
#include "brook/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @brief A topology under construction or built (opaque). */
typedef struct brook_topology_s brook_topology_t;

/** @brief A processor definition: a function table (opaque). */
typedef struct brook_processor_s brook_processor_t;

/** @brief Processor context, one per node and task (opaque). */
typedef struct brook_ctx_s brook_ctx_t;

/** @brief A record flowing through a topology (opaque). */
typedef struct brook_record_s brook_record_t;

/** @brief The streams runtime (opaque). */
typedef struct brook_streams_s brook_streams_t;

/* ------------------------------------------------------------------ */
/* records                                                             */

/**
 * @brief The key in its in-memory form (see serde.h).
 * @param lenp receives the length (may be NULL).
 * @returns the key, or NULL for a null key.
 * @remark Valid until the batch being processed is done.
 */
BROOK_EXPORT const void *brook_record_key(const brook_record_t *rec,
                                          size_t *lenp);

/** @brief The value in its in-memory form; NULL for a null value. */
BROOK_EXPORT const void *brook_record_value(const brook_record_t *rec,
                                            size_t *lenp);

/**
 * @brief The source topic the record (or the record it derives from) was
 *        read from; NULL for records made by a punctuator.
 */
BROOK_EXPORT const char *brook_record_topic(const brook_record_t *rec);

/** @brief Source partition, or -1. */
BROOK_EXPORT int32_t brook_record_partition(const brook_record_t *rec);

/** @brief Source offset, or -1. */
BROOK_EXPORT int64_t brook_record_offset(const brook_record_t *rec);

/** @brief Timestamp in ms since the epoch (inherited by derived records). */
BROOK_EXPORT int64_t brook_record_timestamp(const brook_record_t *rec);

/** @brief Number of headers (source headers, then added ones). */
BROOK_EXPORT size_t brook_record_header_count(const brook_record_t *rec);

/**
 * @brief Header at @p idx.
 * @returns BROOK_OK or BROOK_ERR_NOT_FOUND.
 * @remark Pointers valid until the batch is done.
 */
BROOK_EXPORT brook_err_t brook_record_header_get(const brook_record_t *rec,
                                                 size_t idx, const char **namep,
                                                 const void **valuep,
                                                 size_t *sizep);

/** @brief The last header named @p name. @returns OK or NOT_FOUND. */
BROOK_EXPORT brook_err_t brook_record_header_find(const brook_record_t *rec,
                                                  const char *name,
                                                  const void **valuep,
                                                  size_t *sizep);

/**
 * @brief Flags of brook_ctx_record_new().
 */
#define BROOK_RECORD_F_BORROW                                                  \
        0x1 /**< do not copy key/value: the caller                             \
                 keeps them valid until the batch                              \
                 is done */
#define BROOK_RECORD_F_NO_HEADERS                                              \
        0x2 /**< do not inherit the parent's                                   \
                 headers */

/**
 * @brief Make a new record deriving from @p parent (metadata, timestamp and
 *        headers inherited; @p parent may be NULL: no source metadata,
 *        timestamp = stream time).
 *
 * @param key, key_len     the key in its in-memory form (NULL: null key).
 * @param value, value_len the value (NULL: null value).
 * @param flags            BROOK_RECORD_F_*.
 * @returns the record, owned by brook and valid until the batch is done;
 *          NULL when out of memory.
 * @remark Call from a processor or punctuator of @p ctx's task.
 */
BROOK_EXPORT brook_record_t *
brook_ctx_record_new(brook_ctx_t *ctx, const brook_record_t *parent,
                     const void *key, size_t key_len, const void *value,
                     size_t value_len, int flags);

/**
 * @brief Set the timestamp of a record made with brook_ctx_record_new().
 * @returns BROOK_OK, or BROOK_ERR_STATE for a record the caller did not
 *          make.
 */
BROOK_EXPORT brook_err_t brook_record_set_timestamp(brook_record_t *rec,
                                                    int64_t ts);

/**
 * @brief Add a header (copied) to a record made with
 *        brook_ctx_record_new().
 * @returns BROOK_OK, BROOK_ERR_STATE (not the caller's record),
 *          BROOK_ERR_NO_MEM.
 */
BROOK_EXPORT brook_err_t brook_record_header_add(brook_record_t *rec,
                                                 const char *name,
                                                 const void *value,
                                                 size_t size);

/* ------------------------------------------------------------------ */
/* processors                                                          */

/**
 * @brief Create the per-task state of a processor.
 * @param ctx    the node's context in this task (stores, scheduling).
 * @param opaque the pointer given to brook_processor_set_opaque().
 * @param statep receives the per-task state (may stay NULL).
 * @returns BROOK_OK, or an error: the task cannot start and the runtime
 *          stops with it.
 * @remark Called on a stream thread when the task starts (after its stores
 *         are restored).
 */
typedef brook_err_t(brook_proc_init_fn)(brook_ctx_t *ctx, void *opaque,
                                        void **statep);

/**
 * @brief Process one record.
 * @returns BROOK_OK, or an error (give a reason with brook_ctx_fail()):
 *          the record then goes to `processing.error.handler`.
 * @remark Called on the task's stream thread.
 */
typedef brook_err_t(brook_proc_process_fn)(brook_ctx_t *ctx,
                                           brook_record_t *rec, void *state);

/**
 * @brief Process a batch: records of one task, in offset order per source
 *        partition.
 * @returns BROOK_OK when every record succeeded except those reported with
 *          brook_ctx_fail(); any other value fails every record of the
 *          batch (each goes to `processing.error.handler`).
 */
typedef brook_err_t(brook_proc_process_batch_fn)(brook_ctx_t *ctx,
                                                 brook_record_t *const *recs,
                                                 size_t cnt, void *state);

/** @brief Free the per-task state (task closing). */
typedef void(brook_proc_close_fn)(brook_ctx_t *ctx, void *state);

/** @brief Frees the definition's opaque when the topology is destroyed. */
typedef void(brook_opaque_free_fn)(void *opaque);

/** @brief New, empty processor definition. @returns NULL on no memory. */
BROOK_EXPORT brook_processor_t *brook_processor_new(void);

/** @brief Free a definition (topologies keep a copy). Accepts NULL. */
BROOK_EXPORT void brook_processor_destroy(brook_processor_t *p);

/** @brief Set init (optional) and close (optional). */
BROOK_EXPORT void brook_processor_set_init(brook_processor_t *p,
                                           brook_proc_init_fn *init,
                                           brook_proc_close_fn *close);

/** @brief Set the per-record function. */
BROOK_EXPORT void brook_processor_set_process(brook_processor_t *p,
                                              brook_proc_process_fn *fn);

/** @brief Set the batch function (optional; preferred when present). */
BROOK_EXPORT void
brook_processor_set_process_batch(brook_processor_t *p,
                                  brook_proc_process_batch_fn *fn);

/**
 * @brief Set the pointer given to init and, if @p free_fn, freed with it
 *        when the last topology holding the definition is destroyed.
 */
BROOK_EXPORT void brook_processor_set_opaque(brook_processor_t *p, void *opaque,
                                             brook_opaque_free_fn *free_fn);

/* ------------------------------------------------------------------ */
/* processor context                                                   */

/**
 * @brief Forward @p rec to every child of the node.
 * @returns BROOK_OK, BROOK_ERR_NO_MEM, BROOK_ERR_INVALID_ARG.
 * @remark The record is queued in each child's inbox and processed when
 *         the child's turn comes in this batch.
 */
BROOK_EXPORT brook_err_t brook_ctx_forward(brook_ctx_t *ctx,
                                           brook_record_t *rec);

/**
 * @brief Forward @p rec to the child named @p child only.
 * @returns as brook_ctx_forward(), BROOK_ERR_NOT_FOUND for an unknown
 *          child.
 */
BROOK_EXPORT brook_err_t brook_ctx_forward_to(brook_ctx_t *ctx,
                                              const char *child,
                                              brook_record_t *rec);

/**
 * @brief Forward @p cnt records to every child: a batch-capable child gets
 *        them in one process_batch() call (with any other records
 *        forwarded to it in this batch), a record-only child one by one.
 */
BROOK_EXPORT brook_err_t brook_ctx_forward_batch(brook_ctx_t *ctx,
                                                 brook_record_t *const *recs,
                                                 size_t cnt);

/** @brief brook_ctx_forward_batch() to one child. */
BROOK_EXPORT brook_err_t brook_ctx_forward_batch_to(brook_ctx_t *ctx,
                                                    const char *child,
                                                    brook_record_t *const *recs,
                                                    size_t cnt);

/**
 * @brief Report that @p rec failed (from process or process_batch).
 * @param reason short text, copied (NULL: "processor failed").
 * @returns BROOK_ERR_HANDLER, for use as process()'s return value.
 */
BROOK_EXPORT brook_err_t brook_ctx_fail(brook_ctx_t *ctx, brook_record_t *rec,
                                        const char *reason);

/**
 * @brief The store named @p name attached to this processor.
 * @returns the task's store, or NULL when the processor has no such store.
 */
BROOK_EXPORT brook_store_t *brook_ctx_store(brook_ctx_t *ctx, const char *name);

/**
 * @brief Flush listener of a cached store: the latest value of every key
 *        written since the previous flush, as one batch.
 *
 * @param ctx        the context given to brook_ctx_set_flush_listener().
 * @param cnt        entries flushed.
 * @param keys, key_lens     the keys (store bytes).
 * @param values, value_lens the values; values[i] NULL: the key was
 *                   deleted.
 * @param timestamps per entry, the task's stream time at its last write.
 * @returns BROOK_OK, or an error: the runtime stops with it and does not
 *          commit.
 * @remark Called on the task's stream thread when the store's record cache
 *         flushes (commit cycle, eviction, range iteration), after the
 *         entries were written to the store and its changelog. The arrays
 *         and the bytes they point to stay valid until the flush is
 *         processed downstream; records made with brook_ctx_record_new()
 *         and forwarded here run through the node's children at once.
 */
typedef brook_err_t(brook_store_flush_fn)(
    brook_ctx_t *ctx, size_t cnt, const void *const *keys,
    const size_t *key_lens, const void *const *values, const size_t *value_lens,
    const int64_t *timestamps, void *opaque);

/**
 * @brief Emit on flush: have @p fn called with the latest value per key
 *        each time the record cache of the store @p store flushes
 *        (KTable-style forwarding, as Kafka Streams does with caching).
 *
 * An aggregation that registers a listener forwards from it instead of
 * forwarding every update: downstream then gets one record per key per
 * commit interval (or eviction) instead of one per update.
 *
 * @returns BROOK_OK (registered; one listener per store, a second call
 *          replaces the first), BROOK_ERR_STATE when the store has no
 *          record cache (`store.cache.max.bytes=0`, or an in-memory store
 *          without changelog): forward every update yourself,
 *          BROOK_ERR_NOT_FOUND when the processor has no such store,
 *          BROOK_ERR_INVALID_ARG.
 * @remark Call from init.
 */
BROOK_EXPORT brook_err_t brook_ctx_set_flush_listener(brook_ctx_t *ctx,
                                                      const char *store,
                                                      brook_store_flush_fn *fn,
                                                      void *opaque);

/** @brief The task id, "<sub-topology>_<partition>", e.g. "0_3". */
BROOK_EXPORT const char *brook_ctx_task_id(const brook_ctx_t *ctx);

/** @brief The task's partition. */
BROOK_EXPORT int32_t brook_ctx_partition(const brook_ctx_t *ctx);

/** @brief The node's name. */
BROOK_EXPORT const char *brook_ctx_node_name(const brook_ctx_t *ctx);

/**
 * @brief The task's stream time: the largest record timestamp it has
 *        processed, or -1.
 */
BROOK_EXPORT int64_t brook_ctx_stream_time(const brook_ctx_t *ctx);

/** @brief Punctuation clocks. */
typedef enum brook_punctuation_type_e {
        BROOK_PUNCTUATE_STREAM_TIME = 0, /**< advances with record time */
        BROOK_PUNCTUATE_WALL_CLOCK = 1   /**< advances with real time */
} brook_punctuation_type_t;

/**
 * @brief A punctuator.
 * @param ts the time it fires for (stream time or wall clock, ms).
 * @remark Called on the task's stream thread between batches; it may
 *         create and forward records and use stores.
 */
typedef void(brook_punctuate_fn)(brook_ctx_t *ctx, int64_t ts, void *arg);

/**
 * @brief Call @p fn every @p interval_ms of stream time or wall clock.
 * @returns BROOK_OK, BROOK_ERR_INVALID_ARG, BROOK_ERR_NO_MEM.
 * @remark Call from init. Stream-time punctuation fires once per elapsed
 *         interval when stream time passes it (missed intervals are
 *         skipped, as in Kafka Streams).
 */
BROOK_EXPORT brook_err_t brook_ctx_schedule(brook_ctx_t *ctx,
                                            int64_t interval_ms,
                                            brook_punctuation_type_t type,
                                            brook_punctuate_fn *fn, void *arg);

/* ------------------------------------------------------------------ */
/* topology                                                            */

/**
 * @brief A sink partitioner.
 * @param key, key_len serialized key (NULL for a null key).
 * @param partition_cnt partitions of the sink topic.
 * @returns the partition, or -1 for the default (murmur2 of the key, as
 *          the Java client; random for null keys).
 * @remark Called on a stream thread.
 */
typedef int32_t(brook_partitioner_t)(const brook_record_t *rec, const void *key,
                                     size_t key_len, int32_t partition_cnt,
                                     void *opaque);

/** @brief Store flags for brook_topology_add_store(). */
#define BROOK_STORE_F_NO_CHANGELOG 0x1 /**< never log this store */

/** @brief New, empty topology. @returns NULL when out of memory. */
BROOK_EXPORT brook_topology_t *brook_topology_new(void);

/** @brief Free a topology. Accepts NULL. */
BROOK_EXPORT void brook_topology_destroy(brook_topology_t *t);

/**
 * @brief Add a source reading @p topic_cnt topics.
 *
 * @param key_serde, value_serde deserializers (NULL: bytes); copied.
 * @returns BROOK_OK, BROOK_ERR_INVALID_ARG, BROOK_ERR_NO_MEM,
 *          BROOK_ERR_STATE (topology already built).
 * @remark Names are checked by brook_topology_build(), which also checks
 *         that the topics of one sub-topology are co-partitioned when the
 *         runtime starts.
 */
BROOK_EXPORT brook_err_t brook_topology_add_source(
    brook_topology_t *t, const char *name, const char *const *topics,
    size_t topic_cnt, const brook_serde_t *key_serde,
    const brook_serde_t *value_serde, char *errstr, size_t errstr_size);

/**
 * @brief Add a processor with @p parent_cnt parents (sources or
 *        processors; they may be added later).
 * @param proc the definition; copied (its opaque is shared).
 */
BROOK_EXPORT brook_err_t brook_topology_add_processor(
    brook_topology_t *t, const char *name, const brook_processor_t *proc,
    const char *const *parents, size_t parent_cnt, char *errstr,
    size_t errstr_size);

/**
 * @brief Add a sink producing to @p topic.
 * @param key_serde, value_serde serializers (NULL: bytes); copied.
 * @param partitioner optional (NULL: default partitioning).
 */
BROOK_EXPORT brook_err_t brook_topology_add_sink(
    brook_topology_t *t, const char *name, const char *topic,
    const brook_serde_t *key_serde, const brook_serde_t *value_serde,
    brook_partitioner_t *partitioner, void *partitioner_opaque,
    const char *const *parents, size_t parent_cnt, char *errstr,
    size_t errstr_size);

/**
 * @brief Add a key/value store and attach it to @p proc_cnt processors.
 * @param kind    BROOK_STORE_ROCKSDB or BROOK_STORE_MEMORY.
 * @param flags   BROOK_STORE_F_*.
 */
BROOK_EXPORT brook_err_t brook_topology_add_store(
    brook_topology_t *t, const char *name, brook_store_kind_t kind, int flags,
    const char *const *processors, size_t proc_cnt, char *errstr,
    size_t errstr_size);

/** @brief Add a store on a user backend (copied). */
BROOK_EXPORT brook_err_t brook_topology_add_store_custom(
    brook_topology_t *t, const char *name, const brook_store_backend_t *backend,
    int flags, const char *const *processors, size_t proc_cnt, char *errstr,
    size_t errstr_size);

/**
 * @brief Attach an existing store to one more processor.
 */
BROOK_EXPORT brook_err_t brook_topology_connect_store(brook_topology_t *t,
                                                      const char *store,
                                                      const char *processor,
                                                      char *errstr,
                                                      size_t errstr_size);

/**
 * @brief Validate and freeze the topology.
 *
 * Errors (BROOK_ERR_TOPOLOGY, @p errstr names the nodes): no source,
 * duplicate name, unknown parent, a cycle, a processor or sink with no
 * parent, a source or store with a parent, a topic read by two sources, a
 * processor attached to an unknown store (or a store attached to an unknown
 * processor), a processor with neither process nor process_batch.
 * @returns BROOK_OK or the error. Building twice is fine.
 */
BROOK_EXPORT brook_err_t brook_topology_build(brook_topology_t *t, char *errstr,
                                              size_t errstr_size);

/**
 * @brief Print the built topology (sub-topologies, nodes, stores).
 */
BROOK_EXPORT void brook_topology_describe(const brook_topology_t *t, FILE *fp);

/* ------------------------------------------------------------------ */
/* built-in processors                                                 */

/**
 * @brief map: returns the output record for @p rec (a new record from
 *        brook_ctx_record_new(), or @p rec itself), or NULL to drop it.
 * @returns BROOK_OK, or an error for the error handler.
 */
typedef brook_err_t(brook_map_fn)(brook_ctx_t *ctx, brook_record_t *rec,
                                  brook_record_t **outp, void *opaque);
/** @brief filter: non-zero keeps the record. */
typedef int(brook_filter_fn)(const brook_record_t *rec, void *opaque);
/**
 * @brief flat_map: emit 0..n records with brook_ctx_forward().
 */
typedef brook_err_t(brook_flat_map_fn)(brook_ctx_t *ctx, brook_record_t *rec,
                                       void *opaque);
/** @brief peek: observe a record. */
typedef void(brook_peek_fn)(const brook_record_t *rec, void *opaque);

/** @brief A map processor (batch path included). */
BROOK_EXPORT brook_processor_t *brook_proc_map_new(brook_map_fn *fn,
                                                   void *opaque);
/** @brief A filter processor (batch path included). */
BROOK_EXPORT brook_processor_t *brook_proc_filter_new(brook_filter_fn *fn,
                                                      void *opaque);
/** @brief A flat_map processor (batch path included). */
BROOK_EXPORT brook_processor_t *brook_proc_flat_map_new(brook_flat_map_fn *fn,
                                                        void *opaque);
/** @brief A peek processor: forwards everything unchanged. */
BROOK_EXPORT brook_processor_t *brook_proc_peek_new(brook_peek_fn *fn,
                                                    void *opaque);

/** @brief Flags of brook_proc_batch_count_new(). */
#define BROOK_COUNT_F_SINGLE_STORE_OPS                                         \
        0x1                           /**< get/put per key instead of          \
                                           get_batch/put_batch (for            \
                                           comparisons) */
#define BROOK_COUNT_F_RECORD_ONLY 0x2 /**< no process_batch */

/**
 * @brief The batch count aggregator: counts records per key in the store
 *        @p store_name (int64, 8 bytes big-endian), and forwards one record
 *        per distinct key of the batch: (key, new count as a host int64 in
 *        memory; use brook_serde_int64() on the sink). Per batch: the keys'
 *        increments are summed in memory, read with one get_batch and
 *        written with one put_batch.
 *
 * With a record cache on the store (`store.cache.max.bytes` > 0, the
 * default) it emits on flush: nothing is forwarded per batch, and each
 * cache flush (commit cycle, eviction) forwards the latest count of every
 * key updated since the previous flush, with the timestamp of its last
 * update and no source metadata (see brook_ctx_set_flush_listener()). With
 * caching off it forwards one record per distinct key per batch (per
 * record with BROOK_COUNT_F_RECORD_ONLY), carrying the key's last source
 * record's metadata.
 * @remark Attach the store to the processor with
 *         brook_topology_add_store(). Null keys are skipped.
 */
BROOK_EXPORT brook_processor_t *
brook_proc_batch_count_new(const char *store_name, int flags);

/* ------------------------------------------------------------------ */
/* runtime                                                             */

/**
 * @brief Restore listener: restoration of a store's changelog partition
 *        starts (from @p start_offset to @p end_offset, exclusive).
 * @remark Called on a stream thread.
 */
typedef void(brook_restore_start_cb_t)(const char *store, const char *topic,
                                       int32_t partition, int64_t start_offset,
                                       int64_t end_offset, void *opaque);
/** @brief A restored batch of @p cnt records, up to @p last_offset. */
typedef void(brook_restore_batch_cb_t)(const char *store, const char *topic,
                                       int32_t partition, int64_t last_offset,
                                       size_t cnt, void *opaque);
/** @brief Restoration done: @p total records applied. */
typedef void(brook_restore_end_cb_t)(const char *store, const char *topic,
                                     int32_t partition, int64_t total,
                                     void *opaque);

/**
 * @brief Task ownership notification.
 * @param assigned 1 when the task started running (stores restored), 0
 *                 when it closed.
 * @remark Called on a stream thread.
 */
typedef void(brook_task_cb_t)(const char *task_id, int assigned, void *opaque);

/**
 * @brief Create the runtime.
 *
 * @param topology built (or buildable) topology; the runtime keeps a
 *                 reference: do not destroy it before the runtime. One
 *                 runtime at a time per topology (build one topology per
 *                 runtime to run several in a process).
 * @param conf     copied. Required: `bootstrap.servers`, `application.id`.
 * @returns the runtime, or NULL with @p errstr set (invalid topology,
 *          configuration, or a topology already used by a runtime).
 * @remark Call from any thread; the runtime's callbacks run on its stream
 *         threads.
 */
BROOK_EXPORT brook_streams_t *brook_streams_new(brook_topology_t *topology,
                                                const brook_conf_t *conf,
                                                char *errstr,
                                                size_t errstr_size);

/**
 * @brief Set the restore listener (any callback may be NULL). Call before
 *        brook_streams_start().
 */
BROOK_EXPORT void brook_streams_set_restore_listener(
    brook_streams_t *s, brook_restore_start_cb_t *start,
    brook_restore_batch_cb_t *batch, brook_restore_end_cb_t *end, void *opaque);

/** @brief Set the task notification. Call before brook_streams_start(). */
BROOK_EXPORT void brook_streams_set_task_cb(brook_streams_t *s,
                                            brook_task_cb_t *cb, void *opaque);

/**
 * @brief Start `num.stream.threads` stream threads, each with its own
 *        consumer in the group `application.id`.
 *
 * Before starting: checks that source and sink topics exist, that the
 * topics of each sub-topology have the same partition count, and creates
 * missing changelog topics (compacted) with the admin API.
 * @returns NULL, or an error object (BROOK_ERR_TOPOLOGY,
 *          BROOK_ERR_UNKNOWN_TOPIC, BROOK_ERR_KAFKA, BROOK_ERR_STATE when
 *          started twice).
 */
BROOK_EXPORT brook_error_t *brook_streams_start(brook_streams_t *s);

/**
 * @brief Ask the runtime to stop. Safe from any thread and from a signal
 *        handler (sets a flag checked at least every 100 ms).
 */
BROOK_EXPORT void brook_streams_stop(brook_streams_t *s);

/**
 * @brief Wait until every stream thread ended (stop, or a fatal error).
 * @param timeout_ms -1: forever.
 * @returns 1 when all threads ended, 0 on timeout.
 */
BROOK_EXPORT int brook_streams_wait(brook_streams_t *s, int timeout_ms);

/**
 * @brief Stop and wait: every thread runs a last commit cycle (flush,
 *        commit, checkpoint), closes its tasks and leaves the group.
 * @returns NULL after a clean run, else the first fatal error (caller
 *          frees). Calling it again returns NULL.
 */
BROOK_EXPORT brook_error_t *brook_streams_close(brook_streams_t *s);

/**
 * @brief brook_streams_start(), wait until stopped, brook_streams_close().
 * @returns as brook_streams_close() (or the start error).
 */
BROOK_EXPORT brook_error_t *brook_streams_run(brook_streams_t *s);

/** @brief Free the runtime (closes it first if needed). Accepts NULL. */
BROOK_EXPORT void brook_streams_destroy(brook_streams_t *s);

/**
 * @brief Counters since start: `records.processed` (source records that
 *        finished the topology), `batches.processed`, `records.produced`
 *        (sink records delivered), `records.skipped`,
 *        `records.dead_lettered`, `records.restored`, `commits`,
 *        `tasks.running`.
 * @returns the value, or -1 for an unknown name.
 * @remark Thread-safe.
 */
BROOK_EXPORT int64_t brook_streams_metric(const brook_streams_t *s,
                                          const char *name);

/**
 * @brief Create @p topic if missing (admin API), checking its partition
 *        count if it exists.
 * @param conf  `bootstrap.servers` and `kafka.*` are used.
 * @param partitions, replication_factor (-1: broker default).
 * @param configs NULL or name, value pairs (e.g. "cleanup.policy",
 *        "compact"), @p config_cnt pairs.
 * @returns BROOK_OK (created or present with @p partitions),
 *          BROOK_ERR_TOPOLOGY (present with another count), BROOK_ERR_KAFKA
 *          or BROOK_ERR_TIMED_OUT with detail.
 */
BROOK_EXPORT brook_err_t brook_admin_create_topic(
    const brook_conf_t *conf, const char *topic, int partitions,
    int replication_factor, const char *const *configs, size_t config_cnt,
    int timeout_ms, char *errstr, size_t errstr_size);

#ifdef __cplusplus
}
#endif
#endif /* BROOK_STREAMS_H */
