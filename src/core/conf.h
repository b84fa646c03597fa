/*
 * core/conf.h: the property table and the typed settings it fills. Not API.
 *
 * brook_conf_t holds text, as the user set it; brook_conf_set() validates
 * every value against its row of the table (type, range, enum words, and a
 * row's own check, e.g. host:port or topic-name rules). Each component
 * parses its configuration once, at its _new, into a brook__settings_t
 * (brook__settings_load()): every row stores its value at an offsetof
 * into that struct, enum words become their values through the row's
 * table, and a property the component does not read is an error naming
 * the component that does. Hot and warm paths read struct fields only.
 */
#ifndef BROOK__CORE_CONF_H
#define BROOK__CORE_CONF_H

#include "core/core.h"

/* Property types. */
typedef enum {
        BROOK__PT_INT,  /* 64-bit integer in [min, max] */
        BROOK__PT_BOOL, /* true/false (also 1/0, yes/no, on/off) */
        BROOK__PT_STR,  /* free text, or what the row's check allows */
        BROOK__PT_ENUM  /* one of the row's words */
} brook__ptype_t;

/* Property flags: who reads a property, and how it is treated. */
#define BROOK__PF_SECRET   0x01 /* redacted in dumps and logs */
#define BROOK__PF_RUNTIME  0x02 /* may change at run time */
#define BROOK__PF_CONSUMER 0x04 /* read by the batch consumer */
#define BROOK__PF_STREAMS  0x08 /* read by the streams runtime */
#define BROOK__PF_ALL      (BROOK__PF_CONSUMER | BROOK__PF_STREAMS)

/* The component a configuration is loaded for. */
typedef enum {
        BROOK__COMP_CONSUMER = BROOK__PF_CONSUMER,
        BROOK__COMP_STREAMS = BROOK__PF_STREAMS,
        /* Not a component: a helper (a standalone store, the admin helper)
         * that reads the few properties it needs and checks none. */
        BROOK__COMP_HELPER = 0x100
} brook__comp_t;

/* Enum values of the ENUM properties. */
enum { /* ack.strategy */
       BROOK__ACK_ALL_OR_NOTHING = 0,
       BROOK__ACK_BEST_EFFORT = 1,
       BROOK__ACK_LAST_SUCCESSFUL = 2
};
enum { /* dead.letter.policy */
       BROOK__DLP_FAIL = 0,
       BROOK__DLP_SKIP = 1
};
enum { /* processing.error.handler */
       BROOK__EH_FAIL = 0,
       BROOK__EH_SKIP = 1,
       BROOK__EH_DLQ = 2
};
enum { /* log.format */
       BROOK__LOGFMT_LOGFMT = 0,
       BROOK__LOGFMT_JSON = 1
};
/* log.level takes brook_log_level_t values. */

/* A word of an ENUM property and its value; tables end with a NULL name. */
typedef struct brook__enum_s {
        const char *name;
        int value;
} brook__enum_t;

/* Every property, in table order (the table is indexed by these). */
typedef enum brook__prop_id_e {
        /* general */
        BROOK__P_BOOTSTRAP_SERVERS,
        BROOK__P_GROUP_ID,
        BROOK__P_CLIENT_ID,
        BROOK__P_LOG_LEVEL,
        BROOK__P_LOG_FORMAT,
        /* batch consumer */
        BROOK__P_BATCH_SIZE,
        BROOK__P_BATCH_TIMEOUT_MS,
        BROOK__P_BATCH_MAX_BYTES,
        BROOK__P_BATCH_ASYNC,
        BROOK__P_BATCH_MAX_CONCURRENCY,
        BROOK__P_BATCH_ORDERED,
        BROOK__P_MAX_IN_FLIGHT_BATCHES,
        BROOK__P_BATCH_HANDLER_TIMEOUT_MS,
        BROOK__P_ACK_STRATEGY,
        BROOK__P_RETRY_BACKOFF_MS,
        BROOK__P_RETRY_BACKOFF_MAX_MS,
        BROOK__P_DEAD_LETTER_TOPIC,
        BROOK__P_DEAD_LETTER_MAX_RETRIES,
        BROOK__P_DEAD_LETTER_POLICY,
        BROOK__P_COMMIT_INTERVAL_MS,
        BROOK__P_SHUTDOWN_TIMEOUT_MS,
        BROOK__P_BROKER_UNAVAILABLE_TIMEOUT_MS,
        /* streams */
        BROOK__P_APPLICATION_ID,
        BROOK__P_NUM_STREAM_THREADS,
        BROOK__P_STATE_DIR,
        BROOK__P_PROCESSING_ERROR_HANDLER,
        BROOK__P_STREAMS_BATCH_MAX_RECORDS,
        BROOK__P_STREAMS_POLL_TIMEOUT_MS,
        BROOK__P_STREAMS_RESTORE_BATCH_MAX_RECORDS,
        BROOK__P_STREAMS_TOPIC_TIMEOUT_MS,
        BROOK__P_STORE_CHANGELOG_ENABLE,
        BROOK__P_STORE_CHANGELOG_REPLICATION_FACTOR,
        BROOK__P_STORE_CACHE_MAX_BYTES,
        BROOK__P_STORE_ROCKSDB_WAL,
        BROOK__P_STORE_ROCKSDB_SYNC,
        /* telemetry */
        BROOK__P_METRICS_LISTEN,
        BROOK__P_METRICS_STATSD_ADDRESS,
        BROOK__P_METRICS_STATSD_INTERVAL_MS,
        BROOK__P_METRICS_STATSD_TAGS,
        BROOK__P_METRICS_LAG_INTERVAL_MS,
        BROOK__P_LOG_SUMMARY_INTERVAL_MS,
        BROOK__P__CNT
} brook__prop_id_t;

/*
 * A configuration parsed for one component. Strings point into the
 * brook_conf_t it was loaded from: keep that alive as long as this.
 */
typedef struct brook__settings_s {
        brook__comp_t comp;
        const brook_conf_t *conf; /* the source: "kafka.*", "rocksdb.*" */
        /* general */
        const char *bootstrap_servers;
        const char *group_id;
        const char *client_id;
        int log_level;  /* brook_log_level_t */
        int log_format; /* BROOK__LOGFMT_* */
        /* batch consumer */
        int64_t batch_size;
        int64_t batch_timeout_ms;
        int64_t batch_max_bytes;
        int batch_async;
        int64_t batch_max_concurrency;
        int batch_ordered;
        int64_t max_in_flight_batches;
        int64_t batch_handler_timeout_ms;
        int ack_strategy; /* BROOK__ACK_* */
        int64_t retry_backoff_ms;
        int64_t retry_backoff_max_ms;
        const char *dead_letter_topic;
        int64_t dead_letter_max_retries;
        int dead_letter_policy; /* BROOK__DLP_* */
        int64_t commit_interval_ms;
        int64_t shutdown_timeout_ms;
        int64_t broker_unavailable_timeout_ms;
        /* streams */
        const char *application_id;
        int64_t num_stream_threads;
        const char *state_dir;
        int processing_error_handler; /* BROOK__EH_* */
        int64_t streams_batch_max_records;
        int64_t streams_poll_timeout_ms;
        int64_t streams_restore_batch_max_records;
        int64_t streams_topic_timeout_ms;
        int store_changelog_enable;
        int64_t store_changelog_replication_factor;
        int64_t store_cache_max_bytes;
        int store_rocksdb_wal;
        int store_rocksdb_sync;
        /* telemetry */
        const char *metrics_listen;
        const char *metrics_statsd_address;
        int64_t metrics_statsd_interval_ms;
        const char *metrics_statsd_tags;
        int64_t metrics_lag_interval_ms;
        int64_t log_summary_interval_ms;
        /* brook_conf_set_log_cb() / brook_conf_set_opaque() */
        brook_log_cb_t *log_cb;
        void *opaque;
        /* which properties were set explicitly (not defaults) */
        unsigned char set[BROOK__P__CNT];
} brook__settings_t;

/*
 * A row's own check of a value that passed the type check, e.g. the
 * characters of a group id. Returns BROOK_OK or BROOK_ERR_CONF_INVALID
 * with @p errstr naming the property and what is allowed.
 */
typedef brook_err_t(brook__prop_check_t)(const char *name, const char *value,
                                         char *errstr, size_t errstr_size);

typedef struct brook__prop_s {
        const char *name;
        brook__ptype_t type;
        const char *def;            /* default as text */
        const char *def_streams;    /* default for streams, NULL: same */
        int64_t min, max;           /* BROOK__PT_INT range */
        const brook__enum_t *words; /* BROOK__PT_ENUM words and values */
        int flags;
        size_t off;                 /* offsetof(brook__settings_t, field) */
        brook__prop_check_t *check; /* NULL: the type check only */
        const char *doc;
} brook__prop_t;

/* core/conf_table.c: the table, indexed by brook__prop_id_t. */
extern const brook__prop_t brook__props[BROOK__P__CNT];

/* A librdkafka property that brook manages itself. */
typedef struct brook__kmanaged_s {
        const char *name;    /* without "kafka." */
        int comps;           /* BROOK__PF_* of the components refusing it */
        const char *instead; /* what to do instead */
} brook__kmanaged_t;

/* core/conf_table.c: ends with a NULL name. */
extern const brook__kmanaged_t brook__kafka_managed[];

/* The row of @p name, or NULL. */
const brook__prop_t *brook__prop_find(const char *name);

/*
 * Validate @p value for property @p p (no conf needed).
 * Returns BROOK_OK or BROOK_ERR_CONF_INVALID with errstr naming the property
 * and the allowed values.
 */
brook_err_t brook__prop_validate(const brook__prop_t *p, const char *value,
                                 char *errstr, size_t errstr_size);

/*
 * Parse @p conf for component @p comp into @p st: every property the
 * component reads, set or default. BROOK_ERR_CONF_INVALID with @p errstr
 * when a property (or a "rocksdb." key) is set that @p comp does not read:
 * the message names the component that reads it. BROOK__COMP_HELPER
 * fills every field and checks nothing (it cannot fail).
 */
brook_err_t brook__settings_load(brook__settings_t *st,
                                 const brook_conf_t *conf, brook__comp_t comp,
                                 char *errstr, size_t errstr_size);

/* The word of ENUM property @p id for @p value ("?" if none). */
const char *brook__prop_word(brook__prop_id_t id, int value);

/* Name of a component, for messages ("batch consumer", ...). */
const char *brook__comp_name(int comp);

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

#endif /* BROOK__CORE_CONF_H */
