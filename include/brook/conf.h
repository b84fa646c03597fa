/*
 * brook - batch-first Kafka stream processing in C.
 *
 * conf.h: string key/value configuration. One property table drives
 * parsing, validation, dumps and docs/CONFIGURATION.md. Keys prefixed
 * "kafka." pass through to librdkafka, "rocksdb." to the state store.
 */
#ifndef BROOK_CONF_H
#define BROOK_CONF_H

#include <stdio.h>
#include "brook/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @brief Configuration object (opaque). */
typedef struct brook_conf_s brook_conf_t;

/**
 * @brief Log levels, syslog numbering (lower is more severe).
 */
typedef enum brook_log_level_e {
        BROOK_LOG_ERROR = 3,
        BROOK_LOG_WARN = 4,
        BROOK_LOG_INFO = 6,
        BROOK_LOG_DEBUG = 7
} brook_log_level_t;

/**
 * @brief Log callback.
 *
 * @param level   severity.
 * @param event   short machine-readable event name, e.g. "batch.done".
 * @param line    the whole structured line (logfmt or JSON, by `log.format`),
 *                without a trailing newline; valid only during the call.
 * @param opaque  the pointer given to brook_conf_set_opaque().
 * @remark Called from brook's poll thread, worker threads and librdkafka's
 *         internal threads: it must be thread-safe.
 */
typedef void(brook_log_cb_t)(brook_log_level_t level, const char *event,
                             const char *line, void *opaque);

/**
 * @brief Create a configuration with every property at its default.
 * @returns a new object, or NULL when out of memory. Free it with
 *          brook_conf_destroy() unless ownership passes to a constructor.
 */
BROOK_EXPORT brook_conf_t *brook_conf_new(void);

/**
 * @brief Deep copy of @p conf (values, callbacks, opaque).
 * @returns a new object or NULL when out of memory.
 */
BROOK_EXPORT brook_conf_t *brook_conf_dup(const brook_conf_t *conf);

/** @brief Free a configuration. Accepts NULL. */
BROOK_EXPORT void brook_conf_destroy(brook_conf_t *conf);

/**
 * @brief Set a property from its string form.
 *
 * @param conf    configuration.
 * @param name    property name, e.g. "batch.size", "kafka.linger.ms".
 * @param value   value as text; NULL resets the property to its default.
 * @param errstr  buffer that receives a message naming the property and
 *                the allowed values on failure (may be NULL).
 * @param errstr_size size of @p errstr.
 * @returns BROOK_OK, BROOK_ERR_CONF_UNKNOWN for an unknown name,
 *          BROOK_ERR_CONF_INVALID for a value of the wrong type, out of range
 *          or not one of the allowed words, BROOK_ERR_INVALID_ARG for NULL
 *          @p conf or @p name.
 * @remark "kafka.*" values are validated by librdkafka at once.
 */
BROOK_EXPORT brook_err_t brook_conf_set(brook_conf_t *conf, const char *name,
                                        const char *value, char *errstr,
                                        size_t errstr_size);

/**
 * @brief Read a property's current value (set or default) as text.
 *
 * @param dest   buffer, or NULL to learn the needed size.
 * @param sizep  in: size of @p dest; out: size needed including the NUL.
 * @returns BROOK_OK, BROOK_ERR_CONF_UNKNOWN, or BROOK_ERR_INVALID_ARG when
 *          @p dest is too small (then *sizep is the size needed).
 * @remark Secrets are returned in clear: this is the owner reading its own
 *         configuration. Dumps and logs redact them.
 */
BROOK_EXPORT brook_err_t brook_conf_get(const brook_conf_t *conf,
                                        const char *name, char *dest,
                                        size_t *sizep);

/**
 * @brief Every property with its effective value, secrets redacted.
 *
 * @param cntp receives the number of array entries (twice the number of
 *             properties: name, value, name, value, ...).
 * @returns an array to free with brook_conf_dump_free(), or NULL.
 * @remark Includes the brook properties (set or default) and the
 *         pass-through "kafka." / "rocksdb." keys that were set.
 */
BROOK_EXPORT const char **brook_conf_dump(const brook_conf_t *conf,
                                          size_t *cntp);

/** @brief Free the array returned by brook_conf_dump(). Accepts NULL. */
BROOK_EXPORT void brook_conf_dump_free(const char **arr, size_t cnt);

/**
 * @brief Write the property table as Markdown (docs/CONFIGURATION.md).
 */
BROOK_EXPORT void brook_conf_properties_show(FILE *fp);

/**
 * @brief Set the log callback (default: structured lines on stderr).
 * @remark See brook_log_cb_t for the calling threads.
 */
BROOK_EXPORT void brook_conf_set_log_cb(brook_conf_t *conf,
                                        brook_log_cb_t *log_cb);

/**
 * @brief Set the application pointer passed to every callback configured on
 *        this conf and on the handles created from it.
 */
BROOK_EXPORT void brook_conf_set_opaque(brook_conf_t *conf, void *opaque);

#ifdef __cplusplus
}
#endif
#endif /* BROOK_CONF_H */
