/*
 * tsan_thrd_shim.c: ThreadSanitizer builds only. librdkafka uses C11
 * threads (thrd_*, mtx_*, cnd_*), which glibc implements by calling its
 * pthread internals directly, past TSan's interceptors: its threads would
 * run without TSan state (and crash in its allocator) and its locks would be
 * invisible (every hand-over of a message would look like a race). Defining
 * the C11 functions in the (-rdynamic) executable routes librdkafka's calls
 * through the intercepted pthread functions.
 */
#if defined(__SANITIZE_THREAD__)
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <threads.h>

struct tramp {
        thrd_start_t func;
        void *arg;
};

static void *tramp_main(void *p)
{
        struct tramp t = *(struct tramp *)p;

        free(p);
        return (void *)(intptr_t)t.func(t.arg);
}

int thrd_create(thrd_t *thr, thrd_start_t func, void *arg)
{
        struct tramp *t = malloc(sizeof(*t));

        if (!t)
                return thrd_nomem;
        t->func = func;
        t->arg = arg;
        if (pthread_create((pthread_t *)thr, NULL, tramp_main, t)) {
                free(t);
                return thrd_error;
        }
        return thrd_success;
}

int thrd_join(thrd_t thr, int *res)
{
        void *r;

        if (pthread_join((pthread_t)thr, &r))
                return thrd_error;
        if (res)
                *res = (int)(intptr_t)r;
        return thrd_success;
}

int thrd_detach(thrd_t thr)
{
        return pthread_detach((pthread_t)thr) ? thrd_error : thrd_success;
}

int mtx_init(mtx_t *m, int type)
{
        pthread_mutexattr_t a;
        int r;

        pthread_mutexattr_init(&a);
        if (type & mtx_recursive)
                pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
        r = pthread_mutex_init((pthread_mutex_t *)m, &a);
        pthread_mutexattr_destroy(&a);
        return r ? thrd_error : thrd_success;
}

int mtx_lock(mtx_t *m)
{
        return pthread_mutex_lock((pthread_mutex_t *)m) ? thrd_error
                                                        : thrd_success;
}

int mtx_trylock(mtx_t *m)
{
        int r = pthread_mutex_trylock((pthread_mutex_t *)m);

        return r == 0 ? thrd_success : r == EBUSY ? thrd_busy : thrd_error;
}

int mtx_timedlock(mtx_t *restrict m, const struct timespec *restrict ts)
{
        int r = pthread_mutex_timedlock((pthread_mutex_t *)m, ts);

        return r == 0           ? thrd_success
               : r == ETIMEDOUT ? thrd_timedout
                                : thrd_error;
}

int mtx_unlock(mtx_t *m)
{
        return pthread_mutex_unlock((pthread_mutex_t *)m) ? thrd_error
                                                          : thrd_success;
}

void mtx_destroy(mtx_t *m)
{
        pthread_mutex_destroy((pthread_mutex_t *)m);
}

int cnd_init(cnd_t *c)
{
        return pthread_cond_init((pthread_cond_t *)c, NULL) ? thrd_error
                                                            : thrd_success;
}

int cnd_signal(cnd_t *c)
{
        return pthread_cond_signal((pthread_cond_t *)c) ? thrd_error
                                                        : thrd_success;
}

int cnd_broadcast(cnd_t *c)
{
        return pthread_cond_broadcast((pthread_cond_t *)c) ? thrd_error
                                                           : thrd_success;
}

int cnd_wait(cnd_t *c, mtx_t *m)
{
        return pthread_cond_wait((pthread_cond_t *)c, (pthread_mutex_t *)m)
                   ? thrd_error
                   : thrd_success;
}

int cnd_timedwait(cnd_t *restrict c, mtx_t *restrict m,
                  const struct timespec *restrict ts)
{
        int r = pthread_cond_timedwait((pthread_cond_t *)c,
                                       (pthread_mutex_t *)m, ts);

        return r == 0           ? thrd_success
               : r == ETIMEDOUT ? thrd_timedout
                                : thrd_error;
}

void cnd_destroy(cnd_t *c)
{
        pthread_cond_destroy((pthread_cond_t *)c);
}
#else
/* Nothing outside TSan builds (ISO C forbids an empty translation unit). */
typedef int brook_tsan_shim_unused_t;
#endif
