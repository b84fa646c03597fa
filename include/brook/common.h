/*
 * brook - batch-first Kafka stream processing in C.
 *
 * common.h: version, the error enum and the error object shared by every
 * brook subsystem. Included by every other public header.
 */
#ifndef BROOK_COMMON_H
#define BROOK_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define BROOK_EXPORT __attribute__((visibility("default")))
#else
#define BROOK_EXPORT
#endif

/**
 * @brief brook version as 0xMMmmrrxx (major, minor, revision, unused).
 */
#define BROOK_VERSION 0x00010000
/** @brief brook version as a string. */
#define BROOK_VERSION_STR "0.1.0"

/**
 * @brief The library's version at run time, as 0xMMmmrrxx.
 * @returns the version the program is linked against.
 */
BROOK_EXPORT int brook_version(void);

/**
 * @brief The library's version at run time as a string ("0.1.0").
 * @returns a static string, never NULL.
 */
BROOK_EXPORT const char *brook_version_str(void);

/**
 * @brief Every error brook reports. Values are stable and never renumbered;
 *        new codes are appended. 0 is success.
 *
 * Kafka's own error codes (librdkafka) and RocksDB's errors are translated to
 * BROOK_ERR_KAFKA / BROOK_ERR_STORE at the boundary; the detail is in the
 * accompanying error string.
 */
typedef enum brook_err_e {
        BROOK_OK = 0,                 /**< success */
        BROOK_ERR_INVALID_ARG = 1,    /**< bad argument to a function */
        BROOK_ERR_CONF_UNKNOWN = 2,   /**< unknown configuration property */
        BROOK_ERR_CONF_INVALID = 3,   /**< invalid configuration value */
        BROOK_ERR_NO_MEM = 4,         /**< out of memory */
        BROOK_ERR_KAFKA = 5,          /**< error from Kafka / librdkafka */
        BROOK_ERR_STATE = 6,          /**< call not valid in this state */
        BROOK_ERR_HANDLER = 7,        /**< a handler reported a failure */
        BROOK_ERR_TIMED_OUT = 8,      /**< operation timed out */
        BROOK_ERR_DEAD_LETTER = 9,    /**< message could not be dead-lettered
                                           or dead letters are disabled */
        BROOK_ERR_DECODE = 10,        /**< a record could not be decoded */
        BROOK_ERR_STORE = 11,         /**< state store (RocksDB) error */
        BROOK_ERR_NOT_FOUND = 12,     /**< key / name not found */
        BROOK_ERR_TOPOLOGY = 13,      /**< invalid topology */
        BROOK_ERR_UNKNOWN_TOPIC = 14, /**< topic does not exist */
        BROOK_ERR_TRANSPORT = 15,     /**< broker(s) unreachable */
        BROOK_ERR_FATAL = 16,         /**< unrecoverable error */
        BROOK_ERR_IO = 17,            /**< file system error */
        BROOK_ERR_LOCKED = 18,        /**< resource locked by another owner */
        BROOK_ERR_CORRUPT = 19,       /**< corrupt file or data */
        BROOK_ERR__END                /**< not an error: count of codes */
} brook_err_t;

/**
 * @brief Human readable description of an error code.
 * @returns a static string, never NULL (unknown codes give "Unknown error").
 */
BROOK_EXPORT const char *brook_err2str(brook_err_t err);

/**
 * @brief The symbolic name of an error code, e.g. "BROOK_ERR_KAFKA".
 * @returns a static string, never NULL.
 */
BROOK_EXPORT const char *brook_err2name(brook_err_t err);

/**
 * @brief Error object returned by operations that can fail in several ways.
 *
 * Opaque. Created by brook, owned by the caller, freed with
 * brook_error_destroy().
 */
typedef struct brook_error_s brook_error_t;

/** @brief The error code. @p error may be NULL (gives BROOK_OK). */
BROOK_EXPORT brook_err_t brook_error_code(const brook_error_t *error);

/**
 * @brief The error's message, naming what failed and why.
 * @returns a string valid until brook_error_destroy(); "" for NULL.
 */
BROOK_EXPORT const char *brook_error_string(const brook_error_t *error);

/** @brief Non-zero when retrying the operation may succeed. */
BROOK_EXPORT int brook_error_is_retriable(const brook_error_t *error);

/** @brief Non-zero when the handle that returned it cannot continue. */
BROOK_EXPORT int brook_error_is_fatal(const brook_error_t *error);

/** @brief Free an error object. Accepts NULL. */
BROOK_EXPORT void brook_error_destroy(brook_error_t *error);

#ifdef __cplusplus
}
#endif
#endif /* BROOK_COMMON_H */
