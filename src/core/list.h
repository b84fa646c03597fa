/*
 * core/list.h: an intrusive doubly-linked list (libuv's queue.h idea).
 * Not API.
 *
 * A brook__link_t is embedded in the element; a list is a link used as
 * its head. An element's link is unlinked (points to itself) when it is in
 * no list, so membership is O(1) to test and removal O(1) from anywhere.
 * An element in two lists at once needs two links.
 */
#ifndef BROOK__CORE_LIST_H
#define BROOK__CORE_LIST_H

#include <stddef.h>

typedef struct brook__link_s {
        struct brook__link_s *next, *prev;
} brook__link_t;

/* The element that contains @p link as its @p member. */
#define BROOK__CONTAINER(link, type, member)                                   \
        ((type *)(void *)((char *)(link)-offsetof(type, member)))

/* A head, or an element's link, in no list. */
static inline void brook__list_init(brook__link_t *l)
{
        l->next = l->prev = l;
}

static inline int brook__list_empty(const brook__link_t *head)
{
        return head->next == head;
}

/* Is the element's @p link in a list? */
static inline int brook__list_linked(const brook__link_t *link)
{
        return link->next != link;
}

/* Append @p link at the tail of @p head. */
static inline void brook__list_push(brook__link_t *head, brook__link_t *link)
{
        link->prev = head->prev;
        link->next = head;
        head->prev->next = link;
        head->prev = link;
}

/* Take @p link out of its list (it becomes unlinked). */
static inline void brook__list_remove(brook__link_t *link)
{
        link->prev->next = link->next;
        link->next->prev = link->prev;
        brook__list_init(link);
}

/* The first element's link, or NULL when empty. */
static inline brook__link_t *brook__list_first(const brook__link_t *head)
{
        return brook__list_empty(head) ? NULL : head->next;
}

/* Take the first element's link off the list; NULL when empty. */
static inline brook__link_t *brook__list_pop(brook__link_t *head)
{
        brook__link_t *l = brook__list_first(head);

        if (l)
                brook__list_remove(l);
        return l;
}

/* Move every element of @p from to the tail of @p to. */
static inline void brook__list_splice(brook__link_t *to, brook__link_t *from)
{
        if (brook__list_empty(from))
                return;
        from->next->prev = to->prev;
        to->prev->next = from->next;
        from->prev->next = to;
        to->prev = from->prev;
        brook__list_init(from);
}

/* Iterate: for (l = head->next; l != head; l = l->next). Removing the
 * current element while iterating needs its next saved first. */

#endif /* BROOK__CORE_LIST_H */
