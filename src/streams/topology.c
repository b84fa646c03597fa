/*
 * streams/topology.c: the topology builder and its validation.
 *
 * Adding nodes only checks arguments; brook_topology_build() resolves names
 * (so parents may be added after their children), rejects what cannot run
 * with an error naming the nodes, splits the graph into sub-topologies
 * (connected components, joined through shared stores) and orders each
 * topologically. The runtime runs a node's inbox only after every node
 * before it in that order, which is what lets a batch reach a batch-capable
 * node even when a record-only node feeds it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "streams/topology.h"

/* ------------------------------------------------------------------ */
/* processor definitions                                               */

brook_processor_t *brook_processor_new(void)
{
        return calloc(1, sizeof(brook_processor_t));
}

static void ref_release(brook__opaque_ref_t *ref)
{
        if (!ref || atomic_fetch_sub(&ref->refcnt, 1) > 1)
                return;
        if (ref->free_fn)
                ref->free_fn(ref->opaque);
        free(ref);
}

void brook_processor_destroy(brook_processor_t *p)
{
        if (!p)
                return;
        ref_release(p->ref);
        free(p);
}

void brook_processor_set_init(brook_processor_t *p, brook_proc_init_fn *init,
                              brook_proc_close_fn *close)
{
        if (p) {
                p->init = init;
                p->close = close;
        }
}

void brook_processor_set_process(brook_processor_t *p,
                                 brook_proc_process_fn *fn)
{
        if (p)
                p->process = fn;
}

void brook_processor_set_process_batch(brook_processor_t *p,
                                       brook_proc_process_batch_fn *fn)
{
        if (p)
                p->process_batch = fn;
}

void brook_processor_set_opaque(brook_processor_t *p, void *opaque,
                                brook_opaque_free_fn *free_fn)
{
        brook__opaque_ref_t *ref;

        if (!p || !(ref = calloc(1, sizeof(*ref))))
                return;
        ref->opaque = opaque;
        ref->free_fn = free_fn;
        atomic_init(&ref->refcnt, 1);
        ref_release(p->ref);
        p->ref = ref;
}

/* ------------------------------------------------------------------ */
/* building                                                            */

brook_topology_t *brook_topology_new(void)
{
        return calloc(1, sizeof(brook_topology_t));
}

static void free_strv(char **v, size_t n)
{
        size_t i;

        for (i = 0; v && i < n; i++)
                free(v[i]);
        free(v);
}

static void node_free(brook__node_t *n)
{
        if (!n)
                return;
        free(n->name);
        free_strv(n->parent_names, n->parent_cnt);
        free(n->children);
        free_strv(n->topics, n->topic_cnt);
        ref_release(n->proc.ref);
        free(n->stores);
        free(n->topic);
        free(n);
}

static void subs_free(brook_topology_t *t)
{
        size_t i;

        for (i = 0; i < t->sub_cnt; i++) {
                free(t->subs[i].order);
                free(t->subs[i].topics);
                free(t->subs[i].stores);
        }
        free(t->subs);
        t->subs = NULL;
        t->sub_cnt = 0;
}

void brook_topology_destroy(brook_topology_t *t)
{
        size_t i;

        if (!t)
                return;
        for (i = 0; i < t->node_cnt; i++)
                node_free(t->nodes[i]);
        free(t->nodes);
        for (i = 0; i < t->store_cnt; i++) {
                free(t->stores[i]->name);
                brook_store_backend_destroy(t->stores[i]->backend);
                free(t->stores[i]);
        }
        free(t->stores);
        for (i = 0; i < t->ref_cnt; i++) {
                free(t->refs[i].store);
                free(t->refs[i].proc);
        }
        free(t->refs);
        subs_free(t);
        free(t);
}

static char **dup_strv(const char *const *v, size_t n)
{
        char **d = calloc(n ? n : 1, sizeof(*d));
        size_t i;

        if (!d)
                return NULL;
        for (i = 0; i < n; i++) {
                if (!(d[i] = strdup(v[i]))) {
                        free_strv(d, i);
                        return NULL;
                }
        }
        return d;
}

/* Common argument checks of the add functions. */
static brook_err_t check_add(brook_topology_t *t, const char *what,
                             const char *name, const char *const *v, size_t n,
                             const char *vwhat, char *errstr,
                             size_t errstr_size)
{
        size_t i;

        if (!t || !name || !*name) {
                brook__errstr(errstr, errstr_size,
                              "brook_topology_add_%s: topology and a "
                              "non-empty name are required",
                              what);
                return BROOK_ERR_INVALID_ARG;
        }
        if (t->built) {
                brook__errstr(errstr, errstr_size,
                              "%s %s: the topology is already built", what,
                              name);
                return BROOK_ERR_STATE;
        }
        if (n && !v) {
                brook__errstr(errstr, errstr_size, "%s %s: %s is NULL", what,
                              name, vwhat);
                return BROOK_ERR_INVALID_ARG;
        }
        for (i = 0; i < n; i++) {
                if (!v[i] || !*v[i]) {
                        brook__errstr(errstr, errstr_size,
                                      "%s %s: %s %zu is empty", what, name,
                                      vwhat, i);
                        return BROOK_ERR_INVALID_ARG;
                }
        }
        return BROOK_OK;
}

static brook_err_t push_node(brook_topology_t *t, brook__node_t *n,
                             char *errstr, size_t errstr_size)
{
        if (t->node_cnt == t->node_cap) {
                size_t cap = t->node_cap ? t->node_cap * 2 : 16;
                brook__node_t **v = realloc(t->nodes, cap * sizeof(*v));

                if (!v) {
                        node_free(n);
                        brook__errstr(errstr, errstr_size, "out of memory");
                        return BROOK_ERR_NO_MEM;
                }
                t->nodes = v;
                t->node_cap = cap;
        }
        n->idx = (int)t->node_cnt;
        t->nodes[t->node_cnt++] = n;
        return BROOK_OK;
}

static brook__node_t *node_new(const char *name, brook__node_type_t type,
                               const char *const *parents, size_t parent_cnt)
{
        brook__node_t *n = calloc(1, sizeof(*n));

        if (!n)
                return NULL;
        n->type = type;
        n->subtopo = -1;
        if (!(n->name = strdup(name)) ||
            !(n->parent_names = dup_strv(parents, parent_cnt))) {
                node_free(n);
                return NULL;
        }
        n->parent_cnt = parent_cnt;
        return n;
}

brook_err_t brook_topology_add_source(brook_topology_t *t, const char *name,
                                      const char *const *topics,
                                      size_t topic_cnt,
                                      const brook_serde_t *key_serde,
                                      const brook_serde_t *value_serde,
                                      char *errstr, size_t errstr_size)
{
        brook__node_t *n;
        brook_err_t err;

        if ((err = check_add(t, "source", name, topics, topic_cnt, "topic",
                             errstr, errstr_size)))
                return err;
        if (!topic_cnt) {
                brook__errstr(errstr, errstr_size,
                              "source %s: at least one topic is required",
                              name);
                return BROOK_ERR_INVALID_ARG;
        }
        if (!(n = node_new(name, BROOK__NODE_SOURCE, NULL, 0)) ||
            !(n->topics = dup_strv(topics, topic_cnt))) {
                node_free(n);
                brook__errstr(errstr, errstr_size, "out of memory");
                return BROOK_ERR_NO_MEM;
        }
        n->topic_cnt = topic_cnt;
        n->kserde = *(key_serde ? key_serde : brook_serde_bytes());
        n->vserde = *(value_serde ? value_serde : brook_serde_bytes());
        n->kserde.builtin = n->vserde.builtin = 1;
        return push_node(t, n, errstr, errstr_size);
}

brook_err_t brook_topology_add_processor(brook_topology_t *t, const char *name,
                                         const brook_processor_t *proc,
                                         const char *const *parents,
                                         size_t parent_cnt, char *errstr,
                                         size_t errstr_size)
{
        brook__node_t *n;
        brook_err_t err;

        if ((err = check_add(t, "processor", name, parents, parent_cnt,
                             "parent", errstr, errstr_size)))
                return err;
        if (!proc) {
                brook__errstr(errstr, errstr_size,
                              "processor %s: the definition is NULL", name);
                return BROOK_ERR_INVALID_ARG;
        }
        if (!(n = node_new(name, BROOK__NODE_PROCESSOR, parents, parent_cnt))) {
                brook__errstr(errstr, errstr_size, "out of memory");
                return BROOK_ERR_NO_MEM;
        }
        n->proc = *proc;
        if (n->proc.ref)
                atomic_fetch_add(&n->proc.ref->refcnt, 1);
        return push_node(t, n, errstr, errstr_size);
}

brook_err_t
brook_topology_add_sink(brook_topology_t *t, const char *name,
                        const char *topic, const brook_serde_t *key_serde,
                        const brook_serde_t *value_serde,
                        brook_partitioner_t *partitioner,
                        void *partitioner_opaque, const char *const *parents,
                        size_t parent_cnt, char *errstr, size_t errstr_size)
{
        brook__node_t *n;
        brook_err_t err;

        if ((err = check_add(t, "sink", name, parents, parent_cnt, "parent",
                             errstr, errstr_size)))
                return err;
        if (!topic || !*topic) {
                brook__errstr(errstr, errstr_size,
                              "sink %s: a topic is required", name);
                return BROOK_ERR_INVALID_ARG;
        }
        if (!(n = node_new(name, BROOK__NODE_SINK, parents, parent_cnt)) ||
            !(n->topic = strdup(topic))) {
                node_free(n);
                brook__errstr(errstr, errstr_size, "out of memory");
                return BROOK_ERR_NO_MEM;
        }
        n->kserde = *(key_serde ? key_serde : brook_serde_bytes());
        n->vserde = *(value_serde ? value_serde : brook_serde_bytes());
        n->kserde.builtin = n->vserde.builtin = 1;
        n->partitioner = partitioner;
        n->partitioner_opaque = partitioner_opaque;
        return push_node(t, n, errstr, errstr_size);
}

static brook_err_t add_ref(brook_topology_t *t, const char *store,
                           const char *proc)
{
        if (t->ref_cnt == t->ref_cap) {
                size_t cap = t->ref_cap ? t->ref_cap * 2 : 16;
                brook__store_ref_t *v = realloc(t->refs, cap * sizeof(*v));

                if (!v)
                        return BROOK_ERR_NO_MEM;
                t->refs = v;
                t->ref_cap = cap;
        }
        t->refs[t->ref_cnt].store = strdup(store);
        t->refs[t->ref_cnt].proc = strdup(proc);
        if (!t->refs[t->ref_cnt].store || !t->refs[t->ref_cnt].proc) {
                free(t->refs[t->ref_cnt].store);
                free(t->refs[t->ref_cnt].proc);
                return BROOK_ERR_NO_MEM;
        }
        t->ref_cnt++;
        return BROOK_OK;
}

static brook_err_t add_store(brook_topology_t *t, const char *name,
                             brook_store_kind_t kind,
                             const brook_store_backend_t *backend, int flags,
                             const char *const *procs, size_t proc_cnt,
                             char *errstr, size_t errstr_size)
{
        brook__store_def_t *d;
        brook_err_t err;
        size_t i;

        if ((err = check_add(t, "store", name, procs, proc_cnt, "processor",
                             errstr, errstr_size)))
                return err;
        if (t->store_cnt == t->store_cap) {
                size_t cap = t->store_cap ? t->store_cap * 2 : 8;
                brook__store_def_t **v = realloc(t->stores, cap * sizeof(*v));

                if (!v)
                        goto nomem;
                t->stores = v;
                t->store_cap = cap;
        }
        if (!(d = calloc(1, sizeof(*d))))
                goto nomem;
        d->kind = kind;
        d->flags = flags;
        d->subtopo = -1;
        if (!(d->name = strdup(name)) ||
            (backend && !(d->backend = brook__store_backend_dup(backend)))) {
                free(d->name);
                free(d);
                goto nomem;
        }
        t->stores[t->store_cnt++] = d;
        for (i = 0; i < proc_cnt; i++)
                if (add_ref(t, name, procs[i]))
                        goto nomem;
        return BROOK_OK;
nomem:
        brook__errstr(errstr, errstr_size, "out of memory");
        return BROOK_ERR_NO_MEM;
}

brook_err_t brook_topology_add_store(brook_topology_t *t, const char *name,
                                     brook_store_kind_t kind, int flags,
                                     const char *const *processors,
                                     size_t proc_cnt, char *errstr,
                                     size_t errstr_size)
{
        if (kind != BROOK_STORE_ROCKSDB && kind != BROOK_STORE_MEMORY) {
                brook__errstr(errstr, errstr_size,
                              "store %s: kind must be BROOK_STORE_ROCKSDB or "
                              "BROOK_STORE_MEMORY (custom stores: "
                              "brook_topology_add_store_custom)",
                              name ? name : "");
                return BROOK_ERR_INVALID_ARG;
        }
        return add_store(t, name, kind, NULL, flags, processors, proc_cnt,
                         errstr, errstr_size);
}

brook_err_t
brook_topology_add_store_custom(brook_topology_t *t, const char *name,
                                const brook_store_backend_t *backend, int flags,
                                const char *const *processors, size_t proc_cnt,
                                char *errstr, size_t errstr_size)
{
        if (!backend) {
                brook__errstr(errstr, errstr_size,
                              "store %s: the backend is NULL",
                              name ? name : "");
                return BROOK_ERR_INVALID_ARG;
        }
        return add_store(t, name, BROOK_STORE_CUSTOM, backend, flags,
                         processors, proc_cnt, errstr, errstr_size);
}

brook_err_t brook_topology_connect_store(brook_topology_t *t, const char *store,
                                         const char *processor, char *errstr,
                                         size_t errstr_size)
{
        brook_err_t err;

        if ((err = check_add(t, "store", store, &processor, 1, "processor",
                             errstr, errstr_size)))
                return err;
        if ((err = add_ref(t, store, processor)))
                brook__errstr(errstr, errstr_size, "out of memory");
        return err;
}

/* ------------------------------------------------------------------ */
/* validation                                                          */

int brook__topology_node(const brook_topology_t *t, const char *name)
{
        size_t i;

        for (i = 0; i < t->node_cnt; i++)
                if (!strcmp(t->nodes[i]->name, name))
                        return (int)i;
        return -1;
}

int brook__topology_store(const brook_topology_t *t, const char *name)
{
        size_t i;

        for (i = 0; i < t->store_cnt; i++)
                if (!strcmp(t->stores[i]->name, name))
                        return (int)i;
        return -1;
}

int brook__topology_source_of(const brook_topology_t *t, const char *topic,
                              int *subtopop)
{
        size_t i, j;

        for (i = 0; i < t->node_cnt; i++) {
                const brook__node_t *n = t->nodes[i];

                if (n->type != BROOK__NODE_SOURCE)
                        continue;
                for (j = 0; j < n->topic_cnt; j++) {
                        if (!strcmp(n->topics[j], topic)) {
                                if (subtopop)
                                        *subtopop = n->subtopo;
                                return (int)i;
                        }
                }
        }
        return -1;
}

static const char *type_name(brook__node_type_t type)
{
        return type == BROOK__NODE_SOURCE      ? "source"
               : type == BROOK__NODE_PROCESSOR ? "processor"
                                               : "sink";
}

static brook_err_t topo_err(char *errstr, size_t errstr_size, const char *fmt,
                            ...) BROOK__PRINTF(3, 4);

static brook_err_t topo_err(char *errstr, size_t errstr_size, const char *fmt,
                            ...)
{
        va_list ap;

        if (errstr && errstr_size) {
                va_start(ap, fmt);
                vsnprintf(errstr, errstr_size, fmt, ap);
                va_end(ap);
        }
        return BROOK_ERR_TOPOLOGY;
}

/* Names, parents, node kinds. */
static brook_err_t check_nodes(brook_topology_t *t, char *errstr,
                               size_t errstr_size)
{
        size_t i, j, k, sources = 0;

        for (i = 0; i < t->node_cnt; i++) {
                brook__node_t *n = t->nodes[i];

                for (j = 0; j < i; j++)
                        if (!strcmp(t->nodes[j]->name, n->name))
                                return topo_err(
                                    errstr, errstr_size,
                                    "duplicate node name \"%s\" (a %s and a "
                                    "%s)",
                                    n->name, type_name(t->nodes[j]->type),
                                    type_name(n->type));
                if (n->type == BROOK__NODE_SOURCE) {
                        sources++;
                        continue;
                }
                if (n->type == BROOK__NODE_PROCESSOR && !n->proc.process &&
                    !n->proc.process_batch)
                        return topo_err(errstr, errstr_size,
                                        "processor \"%s\" has neither process "
                                        "nor process_batch",
                                        n->name);
                if (!n->parent_cnt)
                        return topo_err(errstr, errstr_size,
                                        "%s \"%s\" has no parent",
                                        type_name(n->type), n->name);
                for (j = 0; j < n->parent_cnt; j++) {
                        int p = brook__topology_node(t, n->parent_names[j]);

                        if (p < 0)
                                return topo_err(errstr, errstr_size,
                                                "%s \"%s\": unknown parent "
                                                "\"%s\"",
                                                type_name(n->type), n->name,
                                                n->parent_names[j]);
                        if (t->nodes[p]->type == BROOK__NODE_SINK)
                                return topo_err(errstr, errstr_size,
                                                "%s \"%s\": parent \"%s\" is "
                                                "a sink (sinks have no "
                                                "children)",
                                                type_name(n->type), n->name,
                                                n->parent_names[j]);
                        if (p == (int)i)
                                return topo_err(errstr, errstr_size,
                                                "cycle: \"%s\" -> \"%s\"",
                                                n->name, n->name);
                }
        }
        if (!sources)
                return topo_err(errstr, errstr_size,
                                "the topology has no "
                                "source");
        /* A topic belongs to one source. */
        for (i = 0; i < t->node_cnt; i++) {
                const brook__node_t *a = t->nodes[i];

                for (j = 0; a->type == BROOK__NODE_SOURCE && j < a->topic_cnt;
                     j++) {
                        for (k = i; k < t->node_cnt; k++) {
                                const brook__node_t *b = t->nodes[k];
                                size_t l;

                                if (b->type != BROOK__NODE_SOURCE)
                                        continue;
                                for (l = k == i ? j + 1 : 0; l < b->topic_cnt;
                                     l++)
                                        if (!strcmp(a->topics[j], b->topics[l]))
                                                return topo_err(
                                                    errstr, errstr_size,
                                                    "topic \"%s\" is read by "
                                                    "source \"%s\" and by "
                                                    "source \"%s\"",
                                                    a->topics[j], a->name,
                                                    b->name);
                        }
                }
        }
        return BROOK_OK;
}

/* Store names and attachments; fills node->stores. */
static brook_err_t check_stores(brook_topology_t *t, char *errstr,
                                size_t errstr_size)
{
        size_t i, j;

        for (i = 0; i < t->store_cnt; i++)
                for (j = 0; j < i; j++)
                        if (!strcmp(t->stores[i]->name, t->stores[j]->name))
                                return topo_err(errstr, errstr_size,
                                                "duplicate store name \"%s\"",
                                                t->stores[i]->name);
        for (i = 0; i < t->ref_cnt; i++) {
                int s = brook__topology_store(t, t->refs[i].store);
                int p = brook__topology_node(t, t->refs[i].proc);
                brook__node_t *n;
                int *v;

                if (p < 0)
                        return topo_err(errstr, errstr_size,
                                        "store \"%s\" is attached to unknown "
                                        "processor \"%s\"",
                                        t->refs[i].store, t->refs[i].proc);
                n = t->nodes[p];
                if (n->type != BROOK__NODE_PROCESSOR)
                        return topo_err(errstr, errstr_size,
                                        "store \"%s\" is attached to %s "
                                        "\"%s\" (only processors have "
                                        "stores)",
                                        t->refs[i].store, type_name(n->type),
                                        n->name);
                if (s < 0)
                        return topo_err(errstr, errstr_size,
                                        "processor \"%s\" references unknown "
                                        "store \"%s\"",
                                        n->name, t->refs[i].store);
                for (j = 0; j < n->store_cnt; j++)
                        if (n->stores[j] == s)
                                break;
                if (j < n->store_cnt)
                        continue;
                if (!(v = realloc(n->stores, (n->store_cnt + 1) * sizeof(*v))))
                        return BROOK_ERR_NO_MEM;
                n->stores = v;
                n->stores[n->store_cnt++] = s;
        }
        return BROOK_OK;
}

/* Children lists from the parent names. */
static brook_err_t link_children(brook_topology_t *t)
{
        size_t i, j;

        for (i = 0; i < t->node_cnt; i++) {
                free(t->nodes[i]->children);
                t->nodes[i]->children = NULL;
                t->nodes[i]->child_cnt = 0;
        }
        for (i = 0; i < t->node_cnt; i++) {
                brook__node_t *n = t->nodes[i];

                for (j = 0; j < n->parent_cnt; j++) {
                        brook__node_t *p = t->nodes[brook__topology_node(
                            t, n->parent_names[j])];
                        int *v;

                        if (!(v = realloc(p->children,
                                          (p->child_cnt + 1) * sizeof(*v))))
                                return BROOK_ERR_NO_MEM;
                        p->children = v;
                        p->children[p->child_cnt++] = (int)i;
                }
        }
        return BROOK_OK;
}

static int first_open_parent(const brook_topology_t *t, const int *indeg,
                             int node)
{
        const brook__node_t *c = t->nodes[node];
        size_t j;

        for (j = 0; j < c->parent_cnt; j++) {
                int p = brook__topology_node(t, c->parent_names[j]);

                if (indeg[p] > 0)
                        return p;
        }
        return node; /* not reached for a node on a cycle */
}

/*
 * Kahn's algorithm over the whole graph, lowest index first for a stable
 * order. Nodes left over sit on a cycle: report one.
 */
static brook_err_t order_nodes(brook_topology_t *t, int *order, char *errstr,
                               size_t errstr_size)
{
        size_t n = t->node_cnt, done = 0, i, j;
        int *indeg = calloc(n, sizeof(*indeg));

        if (!indeg)
                return BROOK_ERR_NO_MEM;
        for (i = 0; i < n; i++)
                for (j = 0; j < t->nodes[i]->child_cnt; j++)
                        indeg[t->nodes[i]->children[j]]++;
        while (done < n) {
                int pick = -1;

                for (i = 0; i < n && pick < 0; i++)
                        if (indeg[i] == 0)
                                pick = (int)i;
                if (pick < 0)
                        break;
                indeg[pick] = -1;
                order[done++] = pick;
                for (j = 0; j < t->nodes[pick]->child_cnt; j++)
                        indeg[t->nodes[pick]->children[j]]--;
        }
        if (done < n) {
                /* Every leftover node has a leftover parent: following the
                 * first one n times lands on a cycle; following it again
                 * from there comes back. Print it in edge direction. */
                int *cyc = malloc((n + 1) * sizeof(*cyc));
                char path[1024];
                size_t o = 0, len = 0, steps;
                int cur = -1, first = -1;

                for (i = 0; i < n && cur < 0; i++)
                        if (indeg[i] > 0)
                                cur = (int)i;
                for (steps = 0; steps <= n; steps++)
                        cur = first_open_parent(t, indeg, cur);
                path[0] = '\0';
                if (cyc) {
                        int c = cur;

                        do {
                                cyc[len++] = c;
                                c = first_open_parent(t, indeg, c);
                        } while (c != cur && len < n);
                        first = cyc[len - 1];
                        while (len-- > 0 && o < sizeof(path))
                                o += (size_t)snprintf(
                                    path + o, sizeof(path) - o, "\"%s\" -> ",
                                    t->nodes[cyc[len]]->name);
                        free(cyc);
                }
                free(indeg);
                return topo_err(errstr, errstr_size, "cycle: %s\"%s\"", path,
                                t->nodes[first >= 0 ? first : cur]->name);
        }
        free(indeg);
        return BROOK_OK;
}

static int uf_find(int *p, int x)
{
        while (p[x] != x)
                x = p[x] = p[p[x]];
        return x;
}

/* Sub-topologies: components over parent edges and shared stores. */
static brook_err_t split(brook_topology_t *t, const int *order)
{
        size_t n = t->node_cnt, i, j, k;
        int *uf = malloc(n * sizeof(*uf)), *id = malloc(n * sizeof(*id));
        int *store_owner = NULL;

        if (!uf || !id)
                goto nomem;
        for (i = 0; i < n; i++)
                uf[i] = (int)i;
        for (i = 0; i < n; i++)
                for (j = 0; j < t->nodes[i]->child_cnt; j++)
                        uf[uf_find(uf, (int)i)] =
                            uf_find(uf, t->nodes[i]->children[j]);
        if (t->store_cnt &&
            !(store_owner = malloc(t->store_cnt * sizeof(*store_owner))))
                goto nomem;
        for (i = 0; i < t->store_cnt; i++)
                store_owner[i] = -1;
        for (i = 0; i < n; i++) {
                brook__node_t *nd = t->nodes[i];

                for (j = 0; j < nd->store_cnt; j++) {
                        int s = nd->stores[j];

                        if (store_owner[s] < 0)
                                store_owner[s] = (int)i;
                        else
                                uf[uf_find(uf, (int)i)] =
                                    uf_find(uf, store_owner[s]);
                }
        }
        /* Number the components in order of their first node. */
        for (i = 0; i < n; i++)
                id[i] = -1;
        subs_free(t);
        for (i = 0; i < n; i++) {
                int r = uf_find(uf, (int)i);

                if (id[r] < 0)
                        id[r] = (int)t->sub_cnt++;
                t->nodes[i]->subtopo = id[r];
        }
        if (!(t->subs = calloc(t->sub_cnt, sizeof(*t->subs))))
                goto nomem;
        for (k = 0; k < t->sub_cnt; k++) {
                brook__subtopo_t *sb = &t->subs[k];

                sb->id = (int)k;
                if (!(sb->order = malloc(n * sizeof(int))) ||
                    !(sb->topics = malloc((n * 4 + 1) * sizeof(char *))) ||
                    !(sb->stores = malloc((t->store_cnt + 1) * sizeof(int))))
                        goto nomem;
        }
        for (i = 0; i < n; i++) {
                brook__node_t *nd = t->nodes[order[i]];
                brook__subtopo_t *sb = &t->subs[nd->subtopo];
                char **tv;

                sb->order[sb->cnt++] = order[i];
                if (nd->type != BROOK__NODE_SOURCE)
                        continue;
                if (!(tv = realloc(sb->topics,
                                   (sb->topic_cnt + nd->topic_cnt + 1) *
                                       sizeof(*tv))))
                        goto nomem;
                sb->topics = tv;
                for (j = 0; j < nd->topic_cnt; j++)
                        sb->topics[sb->topic_cnt++] = nd->topics[j];
        }
        for (i = 0; i < t->store_cnt; i++) {
                brook__subtopo_t *sb;

                if (store_owner[i] < 0) {
                        t->stores[i]->subtopo = -1; /* unattached: unused */
                        continue;
                }
                t->stores[i]->subtopo = t->nodes[store_owner[i]]->subtopo;
                sb = &t->subs[t->stores[i]->subtopo];
                sb->stores[sb->store_cnt++] = (int)i;
        }
        free(uf);
        free(id);
        free(store_owner);
        return BROOK_OK;
nomem:
        free(uf);
        free(id);
        free(store_owner);
        return BROOK_ERR_NO_MEM;
}

brook_err_t brook_topology_build(brook_topology_t *t, char *errstr,
                                 size_t errstr_size)
{
        brook_err_t err;
        int *order;
        size_t i;

        if (!t) {
                brook__errstr(errstr, errstr_size,
                              "brook_topology_build: NULL topology");
                return BROOK_ERR_INVALID_ARG;
        }
        if (t->built)
                return BROOK_OK;
        for (i = 0; i < t->node_cnt; i++) {
                free(t->nodes[i]->stores);
                t->nodes[i]->stores = NULL;
                t->nodes[i]->store_cnt = 0;
        }
        if ((err = check_nodes(t, errstr, errstr_size)) ||
            (err = check_stores(t, errstr, errstr_size)))
                return err;
        if (link_children(t) ||
            !(order = malloc(t->node_cnt * sizeof(*order)))) {
                brook__errstr(errstr, errstr_size, "out of memory");
                return BROOK_ERR_NO_MEM;
        }
        if ((err = order_nodes(t, order, errstr, errstr_size))) {
                free(order);
                return err;
        }
        for (i = 0; i < t->node_cnt; i++) {
                brook__node_t *n = t->nodes[i];

                if (n->type == BROOK__NODE_SOURCE && !n->child_cnt) {
                        free(order);
                        return topo_err(errstr, errstr_size,
                                        "source \"%s\" has no children",
                                        n->name);
                }
        }
        err = split(t, order);
        free(order);
        if (err) {
                brook__errstr(errstr, errstr_size, "out of memory");
                return err;
        }
        t->built = 1;
        return BROOK_OK;
}

void brook_topology_describe(const brook_topology_t *t, FILE *fp)
{
        size_t s, i, j;

        if (!t || !fp)
                return;
        if (!t->built) {
                fprintf(fp, "topology (not built)\n");
                return;
        }
        for (s = 0; s < t->sub_cnt; s++) {
                const brook__subtopo_t *sb = &t->subs[s];

                fprintf(fp, "sub-topology %d\n", sb->id);
                for (i = 0; i < sb->cnt; i++) {
                        const brook__node_t *n = t->nodes[sb->order[i]];

                        fprintf(fp, "  %s %s", type_name(n->type), n->name);
                        if (n->type == BROOK__NODE_SOURCE) {
                                fprintf(fp, " (topics:");
                                for (j = 0; j < n->topic_cnt; j++)
                                        fprintf(fp, " %s", n->topics[j]);
                                fprintf(fp, ")");
                        } else if (n->type == BROOK__NODE_SINK) {
                                fprintf(fp, " (topic: %s)", n->topic);
                        } else {
                                fprintf(fp, " (%s",
                                        n->proc.process_batch ? "batch"
                                                              : "record");
                                for (j = 0; j < n->store_cnt; j++)
                                        fprintf(fp, "%s%s",
                                                j ? ", " : "; stores: ",
                                                t->stores[n->stores[j]]->name);
                                fprintf(fp, ")");
                        }
                        if (n->child_cnt) {
                                fprintf(fp, " -> ");
                                for (j = 0; j < n->child_cnt; j++)
                                        fprintf(fp, "%s%s", j ? ", " : "",
                                                t->nodes[n->children[j]]->name);
                        }
                        fprintf(fp, "\n");
                }
        }
}
