/*
 * core/log.h: structured logging (logfmt or JSON) through the configured log
 * callback, stderr by default. Not API.
 */
#ifndef BROOK__CORE_LOG_H
#define BROOK__CORE_LOG_H

#include "core/core.h"

typedef struct brook__logger_s {
        brook_log_level_t level; /* most verbose level logged */
        int json;                /* log.format=json */
        brook_log_cb_t *cb;      /* NULL: stderr */
        void *opaque;
        char component[32]; /* "consumer", "streams", ... */
        char ident[160];    /* fixed fields, e.g. "group=g1" (logfmt) */
} brook__logger_t;

/* Initialise from settings: log.level, log.format, callback, opaque. */
struct brook__settings_s;
void brook__logger_init(brook__logger_t *lg, const struct brook__settings_s *st,
                        const char *component);

/* Is @p level logged? Cheap; call before formatting expensive fields. */
static inline int brook__log_enabled(const brook__logger_t *lg,
                                     brook_log_level_t level)
{
        return level <= lg->level;
}

/*
 * Log an event. @p fmt produces logfmt fields ("key=value key2=value");
 * quote free text with brook__logq(). The logger adds ts, level, component,
 * event and the fixed ident fields, and converts to JSON if configured.
 */
void brook__log(const brook__logger_t *lg, brook_log_level_t level,
                const char *event, const char *fmt, ...) BROOK__PRINTF(4, 5);

/* Quote @p s as a logfmt value into @p buf; returns buf. */
const char *brook__logq(char *buf, size_t size, const char *s);

#endif /* BROOK__CORE_LOG_H */
