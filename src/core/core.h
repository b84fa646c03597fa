/*
 * core/core.h: declarations shared by brook's subsystems. Not API.
 *
 * Internal non-static functions use the brook__ prefix.
 */
#ifndef BROOK__CORE_CORE_H
#define BROOK__CORE_CORE_H

#include <stdint.h>
#include <time.h>

#include "brook/common.h"
#include "brook/conf.h"

#if defined(__GNUC__)
#define BROOK__PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define BROOK__PRINTF(a, b)
#endif

#define BROOK__MIN(a, b) ((a) < (b) ? (a) : (b))
#define BROOK__MAX(a, b) ((a) > (b) ? (a) : (b))

/* core/err.c */
brook_error_t *brook__error_new(brook_err_t code, int fatal, int retriable,
                                const char *fmt, ...) BROOK__PRINTF(4, 5);
void brook__errstr(char *errstr, size_t size, const char *fmt, ...)
    BROOK__PRINTF(3, 4);

/* Monotonic clock in microseconds. */
static inline int64_t brook__now_us(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Wall clock in milliseconds since the epoch. */
static inline int64_t brook__wall_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#endif /* BROOK__CORE_CORE_H */
