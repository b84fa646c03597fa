/*
 * streams/topology.h: the structures behind brook_topology_t and
 * brook_processor_t, as the runtime reads them once built. Not API.
 *
 * A built topology is immutable and shared read-only by every stream
 * thread; per-task state lives in the tasks (streams/task.h).
 */
#ifndef BROOK__STREAMS_TOPOLOGY_H
#define BROOK__STREAMS_TOPOLOGY_H

#include <stdatomic.h>

#include "brook/streams.h"
#include "core/core.h"
#include "streams/serde.h"

typedef enum {
        BROOK__NODE_SOURCE = 0,
        BROOK__NODE_PROCESSOR = 1,
        BROOK__NODE_SINK = 2
} brook__node_type_t;

/* The definition's opaque, shared by its copies (refcounted). */
typedef struct brook__opaque_ref_s {
        void *opaque;
        brook_opaque_free_fn *free_fn;
        atomic_int refcnt;
} brook__opaque_ref_t;

struct brook_processor_s {
        brook_proc_init_fn *init;
        brook_proc_process_fn *process;
        brook_proc_process_batch_fn *process_batch;
        brook_proc_close_fn *close;
        brook__opaque_ref_t *ref; /* NULL: no opaque */
};

typedef struct brook__node_s {
        char *name;
        brook__node_type_t type;
        int idx;     /* position in topology nodes */
        int subtopo; /* sub-topology id */
        char **parent_names;
        size_t parent_cnt;
        int *children; /* node indexes */
        size_t child_cnt;
        /* source */
        char **topics;
        size_t topic_cnt;
        /* source (deserializers) and sink (serializers) */
        brook_serde_t kserde, vserde;
        /* processor */
        brook_processor_t proc;
        int *stores; /* store indexes */
        size_t store_cnt;
        /* sink */
        char *topic;
        brook_partitioner_t *partitioner;
        void *partitioner_opaque;
} brook__node_t;

typedef struct brook__store_def_s {
        char *name;
        brook_store_kind_t kind;
        int flags;
        brook_store_backend_t *backend; /* custom only (owned copy) */
        int subtopo;
} brook__store_def_t;

/* A processor -> store attachment, resolved by build. */
typedef struct brook__store_ref_s {
        char *store;
        char *proc;
} brook__store_ref_t;

typedef struct brook__subtopo_s {
        int id;
        int *order; /* node indexes in topological order */
        size_t cnt;
        char **topics; /* source topics (borrowed from the nodes) */
        size_t topic_cnt;
        int *stores; /* store indexes */
        size_t store_cnt;
} brook__subtopo_t;

struct brook_topology_s {
        brook__node_t **nodes;
        size_t node_cnt, node_cap;
        brook__store_def_t **stores;
        size_t store_cnt, store_cap;
        brook__store_ref_t *refs;
        size_t ref_cnt, ref_cap;
        brook__subtopo_t *subs;
        size_t sub_cnt;
        int built;
        int in_use; /* held by a runtime */
};

/* Index of the node / store named @p name, or -1. */
int brook__topology_node(const brook_topology_t *t, const char *name);
int brook__topology_store(const brook_topology_t *t, const char *name);

/* Sub-topology and source node reading @p topic; -1 when none. */
int brook__topology_source_of(const brook_topology_t *t, const char *topic,
                              int *subtopop);

#endif /* BROOK__STREAMS_TOPOLOGY_H */
