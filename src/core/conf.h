/*
 * core/conf.h: the property table and typed getters over brook_conf_t. Not API.
 */
#ifndef BROOK__CORE_CONF_H
#define BROOK__CORE_CONF_H

#include "core/core.h"

/* Property types. */
typedef enum {
        BROOK__PT_INT,  /* 64-bit integer in [min, max] */
        BROOK__PT_BOOL, /* true/false (also 1/0, yes/no, on/off) */
        BROOK__PT_STR,  /* free text */
        BROOK__PT_ENUM  /* one of `words` (comma separated) */
} brook__ptype_t;

/* Property flags. */
#define BROOK__PF_SECRET   0x1 /* redacted in dumps and logs */
#define BROOK__PF_RUNTIME  0x2 /* may change at run time */
#define BROOK__PF_CONSUMER 0x4 /* read by the batch consumer */
#define BROOK__PF_STREAMS  0x8 /* read by the streams runtime */
#define BROOK__PF_ALL      (BROOK__PF_CONSUMER | BROOK__PF_STREAMS)

/* Which component reads a property: picks the default. */
typedef enum {
        BROOK__SCOPE_CONSUMER = 0,
        BROOK__SCOPE_STREAMS = 1
} brook__scope_t;

typedef struct brook__prop_s {
        const char *name;
        brook__ptype_t type;
        const char *def;         /* default as text */
        const char *def_streams; /* default for streams, NULL: same */
        int64_t min, max;        /* BROOK__PT_INT range */
        const char *words;       /* BROOK__PT_ENUM allowed words */
        int flags;
        const char *doc;
} brook__prop_t;

/* core/conf_table.c */
extern const brook__prop_t brook__props[];
extern const size_t brook__props_cnt;

const brook__prop_t *brook__prop_find(const char *name);

/*
 * Validate @p value for property @p p (no conf needed).
 * Returns BROOK_OK or BROOK_ERR_CONF_INVALID with errstr naming the property
 * and the allowed values.
 */
brook_err_t brook__prop_validate(const brook__prop_t *p, const char *value,
                                 char *errstr, size_t errstr_size);

/* Typed getters: the property must exist in the table (asserted). */
int64_t brook__conf_int(const brook_conf_t *conf, const char *name,
                        brook__scope_t scope);
int brook__conf_bool(const brook_conf_t *conf, const char *name,
                     brook__scope_t scope);
const char *brook__conf_str(const brook_conf_t *conf, const char *name,
                            brook__scope_t scope);
/* Index of the value in the property's word list. */
int brook__conf_enum(const brook_conf_t *conf, const char *name,
                     brook__scope_t scope);
int brook__conf_is_set(const brook_conf_t *conf, const char *name);

/* Parse helpers shared with runtime updates. */
int brook__parse_int(const char *s, int64_t *out);
int brook__parse_bool(const char *s, int *out);

/*
 * Pass-through keys with @p prefix ("kafka." or "rocksdb."): calls @p cb for
 * each (name without the prefix, value) in the order set. Stops and returns
 * the first non-OK result of @p cb.
 */
brook_err_t brook__conf_foreach(const brook_conf_t *conf, const char *prefix,
                                brook_err_t (*cb)(const char *name,
                                                  const char *value, void *arg),
                                void *arg);

/* Is a property name a secret (for redaction)? */
int brook__conf_is_secret(const char *name);

brook_log_cb_t *brook__conf_log_cb(const brook_conf_t *conf);
void *brook__conf_opaque(const brook_conf_t *conf);

#endif /* BROOK__CORE_CONF_H */
