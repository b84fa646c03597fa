/*
 * streams/group.c: the records of one poll, grouped by partition (see
 * streams/group.h).
 */
#include <stdlib.h>
#include <string.h>

#include "streams/group.h"

static void destroy_all(void **v, size_t n)
{
        size_t i;

        for (i = 0; i < n; i++)
                rd_kafka_message_destroy(v[i]);
}

void brook__groups_clear(brook__groups_t *g)
{
        size_t i;

        for (i = 0; i < g->cnt; i++) {
                destroy_all(g->v[i].msgs.v, g->v[i].msgs.cnt);
                g->v[i].msgs.cnt = 0;
        }
        g->cnt = 0;
}

void brook__groups_free(brook__groups_t *g)
{
        size_t i;

        brook__groups_clear(g);
        for (i = 0; i < g->cap; i++)
                brook__ptrvec_free(&g->v[i].msgs);
        free(g->v);
        memset(g, 0, sizeof(*g));
}

/* The group of @p m, created if new; NULL when out of memory. */
static brook__group_t *group_of(brook__groups_t *g, rd_kafka_message_t *m)
{
        size_t i;

        for (i = 0; i < g->cnt; i++)
                if (g->v[i].rkt == m->rkt && g->v[i].partition == m->partition)
                        return &g->v[i];
        if (g->cnt == g->cap) {
                size_t cap = g->cap ? g->cap * 2 : 16;
                brook__group_t *v = realloc(g->v, cap * sizeof(*v));

                if (!v)
                        return NULL;
                memset(v + g->cap, 0, (cap - g->cap) * sizeof(*v));
                g->v = v;
                g->cap = cap;
        }
        g->v[g->cnt].rkt = m->rkt;
        g->v[g->cnt].partition = m->partition;
        g->v[g->cnt].msgs.cnt = 0;
        return &g->v[g->cnt++];
}

int brook__group_msgs(brook__groups_t *g, rd_kafka_message_t **msgs, size_t n,
                      void (*on_error)(void *arg, rd_kafka_message_t *m),
                      void *arg)
{
        brook__group_t *gr;
        size_t i;

        brook__groups_clear(g);
        for (i = 0; i < n; i++) {
                rd_kafka_message_t *m = msgs[i];

                if (m->err) {
                        on_error(arg, m);
                        rd_kafka_message_destroy(m);
                        continue;
                }
                if (!(gr = group_of(g, m)) || brook__ptrvec_push(&gr->msgs, m))
                        goto oom;
        }
        return 0;
oom:
        /* The grouped ones, then the rest of the poll (msgs[i] included):
         * the caller owns none of them any more. */
        brook__groups_clear(g);
        destroy_all((void **)msgs + i, n - i);
        return -1;
}
