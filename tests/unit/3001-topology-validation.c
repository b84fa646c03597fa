/*
 * 3001: brook_topology_build() rejects each invalid topology with
 * BROOK_ERR_TOPOLOGY and an error naming the nodes involved; a valid
 * topology builds into the expected sub-topologies.
 */
#include <string.h>

#include "test.h"

static brook_err_t proc_fn(brook_ctx_t *ctx, brook_record_t *rec, void *st)
{
        (void)st;
        return brook_ctx_forward(ctx, rec);
}

static brook_processor_t *proc(void)
{
        brook_processor_t *p = brook_processor_new();

        brook_processor_set_process(p, proc_fn);
        return p;
}

/* Build @p t and expect BROOK_ERR_TOPOLOGY naming every word of @p names. */
static void expect_err(brook_topology_t *t, const char *what,
                       const char *const *names, size_t n)
{
        char es[512] = "";
        brook_err_t err = brook_topology_build(t, es, sizeof(es));
        size_t i;

        TEST_ASSERT(err == BROOK_ERR_TOPOLOGY, "%s: build gave %s (%s)", what,
                    brook_err2name(err), es);
        for (i = 0; i < n; i++)
                TEST_ASSERT(strstr(es, names[i]), "%s: \"%s\" not named in: %s",
                            what, names[i], es);
        TEST_SAY("%-28s -> %s", what, es);
        brook_topology_destroy(t);
}

#define ADD_SRC(t, name, topic)                                                \
        do {                                                                   \
                const char *tp_[] = {topic};                                   \
                TEST_ASSERT(!brook_topology_add_source(t, name, tp_, 1, NULL,  \
                                                       NULL, es, sizeof(es)),  \
                            "%s", es);                                         \
        } while (0)

#define ADD_PROC(t, name, p, ...)                                              \
        do {                                                                   \
                const char *par_[] = {__VA_ARGS__};                            \
                TEST_ASSERT(!brook_topology_add_processor(t, name, p, par_,    \
                                                          sizeof(par_) /       \
                                                              sizeof(par_[0]), \
                                                          es, sizeof(es)),     \
                            "%s", es);                                         \
        } while (0)

#define ADD_SINK(t, name, topic, ...)                                          \
        do {                                                                   \
                const char *par_[] = {__VA_ARGS__};                            \
                TEST_ASSERT(!brook_topology_add_sink(                          \
                                t, name, topic, NULL, NULL, NULL, NULL, par_,  \
                                sizeof(par_) / sizeof(par_[0]), es,            \
                                sizeof(es)),                                   \
                            "%s", es);                                         \
        } while (0)

int main(void)
{
        brook_processor_t *p = proc(), *empty = brook_processor_new();
        brook_topology_t *t;
        char es[512];

        /* no source */
        t = brook_topology_new();
        expect_err(t, "no source", (const char *[]){"no source"}, 1);

        /* duplicate name */
        t = brook_topology_new();
        ADD_SRC(t, "src", "in");
        ADD_PROC(t, "dup", p, "src");
        ADD_SINK(t, "dup", "out", "src");
        expect_err(t, "duplicate name", (const char *[]){"dup", "duplicate"},
                   2);

        /* unknown parent */
        t = brook_topology_new();
        ADD_SRC(t, "src", "in");
        ADD_PROC(t, "p1", p, "nosuch");
        expect_err(t, "unknown parent", (const char *[]){"p1", "nosuch"}, 2);

        /* cycle a -> b -> c -> a (fed by the source) */
        t = brook_topology_new();
        ADD_SRC(t, "src", "in");
        ADD_PROC(t, "a", p, "src", "c");
        ADD_PROC(t, "b", p, "a");
        ADD_PROC(t, "c", p, "b");
        expect_err(t, "cycle",
                   (const char *[]){"cycle", "\"a\"", "\"b\"", "\"c\""}, 4);

        /* self loop */
        t = brook_topology_new();
        ADD_SRC(t, "src", "in");
        ADD_PROC(t, "self", p, "src", "self");
        expect_err(t, "self loop", (const char *[]){"cycle", "self"}, 2);

        /* sink with no parent */
        t = brook_topology_new();
        ADD_SRC(t, "src", "in");
        ADD_PROC(t, "p1", p, "src");
        TEST_ASSERT(!brook_topology_add_sink(t, "lonely", "out", NULL, NULL,
                                             NULL, NULL, NULL, 0, es,
                                             sizeof(es)),
                    "%s", es);
        expect_err(t, "sink with no parent",
                   (const char *[]){"sink", "lonely", "no parent"}, 3);

        /* processor referencing an unknown store */
        t = brook_topology_new();
        ADD_SRC(t, "src", "in");
        ADD_PROC(t, "counter", p, "src");
        TEST_ASSERT(!brook_topology_connect_store(t, "counts", "counter", es,
                                                  sizeof(es)),
                    "%s", es);
        expect_err(t, "unknown store",
                   (const char *[]){"counter", "unknown store", "counts"}, 3);

        /* store attached to an unknown processor */
        t = brook_topology_new();
        ADD_SRC(t, "src", "in");
        ADD_PROC(t, "counter", p, "src");
        TEST_ASSERT(!brook_topology_add_store(t, "counts", BROOK_STORE_MEMORY,
                                              0, (const char *[]){"countr"}, 1,
                                              es, sizeof(es)),
                    "%s", es);
        expect_err(t, "store on unknown processor",
                   (const char *[]){"counts", "countr"}, 2);

        /* topic read by two sources */
        t = brook_topology_new();
        ADD_SRC(t, "s1", "in");
        ADD_SRC(t, "s2", "in");
        ADD_PROC(t, "p1", p, "s1", "s2");
        expect_err(t, "topic read twice", (const char *[]){"in", "s1", "s2"},
                   3);

        /* sink as a parent */
        t = brook_topology_new();
        ADD_SRC(t, "src", "in");
        ADD_SINK(t, "out", "out", "src");
        ADD_PROC(t, "after", p, "out");
        expect_err(t, "sink as parent",
                   (const char *[]){"after", "out", "sink"}, 3);

        /* processor without process functions */
        t = brook_topology_new();
        ADD_SRC(t, "src", "in");
        ADD_PROC(t, "hollow", empty, "src");
        expect_err(t, "no process function",
                   (const char *[]){"hollow", "process"}, 2);

        /* source without children */
        t = brook_topology_new();
        ADD_SRC(t, "src", "in");
        ADD_SRC(t, "idle", "in2");
        ADD_SINK(t, "out", "out", "src");
        expect_err(t, "source without children",
                   (const char *[]){"idle", "no children"}, 2);

        /* A valid topology: two sub-topologies, parents added after their
         * children, a store shared by two processors of one of them. */
        t = brook_topology_new();
        ADD_PROC(t, "late", p, "src1");
        ADD_SRC(t, "src1", "a");
        ADD_SINK(t, "sink1", "mid", "late");
        ADD_SRC(t, "src2", "mid");
        ADD_PROC(t, "q1", p, "src2");
        ADD_PROC(t, "q2", p, "q1");
        ADD_SINK(t, "sink2", "out", "q2");
        TEST_ASSERT(!brook_topology_add_store(t, "shared", BROOK_STORE_MEMORY,
                                              0, (const char *[]){"q1", "q2"},
                                              2, es, sizeof(es)),
                    "%s", es);
        TEST_ASSERT(!brook_topology_build(t, es, sizeof(es)), "valid: %s", es);
        TEST_ASSERT(!brook_topology_build(t, es, sizeof(es)), "twice: %s", es);
        TEST_ASSERT(brook_topology_add_source(t, "x", (const char *[]){"x"}, 1,
                                              NULL, NULL, es,
                                              sizeof(es)) == BROOK_ERR_STATE,
                    "add after build");
        {
                char *buf = NULL;
                size_t len = 0;
                FILE *fp = open_memstream(&buf, &len);

                brook_topology_describe(t, fp);
                fclose(fp);
                TEST_SAY("valid topology:\n%s", buf);
                TEST_ASSERT(strstr(buf, "sub-topology 0") &&
                                strstr(buf, "sub-topology 1") &&
                                !strstr(buf, "sub-topology 2"),
                            "expected two sub-topologies");
                TEST_ASSERT(strstr(buf, "stores: shared"), "store listed");
                free(buf);
        }
        brook_topology_destroy(t);
        brook_processor_destroy(p);
        brook_processor_destroy(empty);
        TEST_SAY("all topology validation errors detected");
        return 0;
}
