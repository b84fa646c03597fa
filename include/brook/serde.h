/*
 * brook - batch-first Kafka stream processing in C.
 *
 * serde.h: serializers and deserializers of the streams runtime. A serde
 * turns the bytes of a Kafka record into the in-memory form processors see
 * and back. Built-ins: bytes, string (UTF-8 checked), 32/64-bit integers
 * (big-endian on the wire, as Kafka's IntegerSerde / LongSerde), and
 * user-defined serdes.
 *
 * In-memory forms: bytes and string are the record's bytes (zero copy, not
 * NUL-terminated); int32 / int64 are a host-order int32_t / int64_t of 4 / 8
 * bytes. A null key or value stays NULL and never reaches a serde.
 */
#ifndef BROOK_SERDE_H
#define BROOK_SERDE_H

#include "brook/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @brief A serializer/deserializer pair (opaque). */
typedef struct brook_serde_s brook_serde_t;

/**
 * @brief Output of a serializer or deserializer call (opaque).
 *
 * A serde either points the output at memory that lives long enough
 * (brook_serde_out_set()) or asks brook for memory
 * (brook_serde_out_alloc()).
 */
typedef struct brook_serde_out_s brook_serde_out_t;

/**
 * @brief Deserializer: bytes of a record's key or value to its in-memory
 *        form.
 *
 * @param out     where the result goes (brook_serde_out_set() or
 *                brook_serde_out_alloc()).
 * @param data    the bytes (never NULL: null keys/values skip the serde).
 * @param len     their length.
 * @param opaque  the pointer given to brook_serde_new().
 * @returns BROOK_OK, or an error (use
 *          `return brook_serde_out_fail(out, "reason");`): the record then
 *          goes through `processing.error.handler`.
 * @remark Called on a stream thread; calls for different tasks may run at
 *         once on different threads.
 */
typedef brook_err_t(brook_deserializer_t)(brook_serde_out_t *out,
                                          const void *data, size_t len,
                                          void *opaque);

/**
 * @brief Serializer: in-memory form to the bytes written to Kafka.
 * @param obj     the in-memory form (never NULL).
 * @param obj_len its length in bytes.
 * @remark Same rules as brook_deserializer_t.
 */
typedef brook_err_t(brook_serializer_t)(brook_serde_out_t *out, const void *obj,
                                        size_t obj_len, void *opaque);

/**
 * @brief Point the output at @p ptr / @p len without copying.
 * @remark @p ptr must stay valid until the batch being processed is done:
 *         the input bytes themselves, memory from brook_serde_out_alloc(),
 *         or memory the serde owns for longer.
 */
BROOK_EXPORT void brook_serde_out_set(brook_serde_out_t *out, const void *ptr,
                                      size_t len);

/**
 * @brief Allocate @p size bytes for the output and make them the result.
 * @returns the memory (aligned for any type), owned by brook and valid
 *          until the batch being processed is done; NULL when out of memory.
 */
BROOK_EXPORT void *brook_serde_out_alloc(brook_serde_out_t *out, size_t size);

/**
 * @brief Record why serialization or deserialization failed.
 * @param reason short text, copied.
 * @returns BROOK_ERR_DECODE, for use as the serde's return value.
 */
BROOK_EXPORT brook_err_t brook_serde_out_fail(brook_serde_out_t *out,
                                              const char *reason);

/** @brief Raw bytes, unchanged both ways. @returns a static serde. */
BROOK_EXPORT const brook_serde_t *brook_serde_bytes(void);

/**
 * @brief UTF-8 text: deserialization fails on invalid UTF-8; the in-memory
 *        form is the bytes (not NUL-terminated). @returns a static serde.
 */
BROOK_EXPORT const brook_serde_t *brook_serde_string(void);

/**
 * @brief 32-bit integer: 4 bytes big-endian on the wire, a host-order
 *        int32_t in memory. Any other length fails. @returns a static serde.
 */
BROOK_EXPORT const brook_serde_t *brook_serde_int32(void);

/**
 * @brief 64-bit integer: 8 bytes big-endian on the wire, a host-order
 *        int64_t in memory. Any other length fails. @returns a static serde.
 */
BROOK_EXPORT const brook_serde_t *brook_serde_int64(void);

/**
 * @brief A user-defined serde.
 *
 * @param name        short name used in logs and errors (copied).
 * @param serialize   serializer (NULL: the bytes are written unchanged).
 * @param deserialize deserializer (NULL: the bytes are passed unchanged).
 * @param opaque      passed to both functions.
 * @returns a new serde, or NULL when out of memory. Free it with
 *          brook_serde_destroy(); topologies keep their own copy, so it may
 *          be destroyed once added (@p opaque must outlive the topologies
 *          that use it).
 */
BROOK_EXPORT brook_serde_t *brook_serde_new(const char *name,
                                            brook_serializer_t *serialize,
                                            brook_deserializer_t *deserialize,
                                            void *opaque);

/**
 * @brief Free a serde made by brook_serde_new(). Accepts NULL and the
 *        built-in serdes (then does nothing).
 */
BROOK_EXPORT void brook_serde_destroy(brook_serde_t *serde);

/** @brief The serde's name ("bytes", "string", "int32", "int64", ...). */
BROOK_EXPORT const char *brook_serde_name(const brook_serde_t *serde);

/**
 * @brief Deserialize outside a topology (tests, tools).
 *
 * @param objp    receives the in-memory form; valid as long as @p data for
 *                zero-copy serdes, else until brook_serde_result_free().
 * @param lenp    receives its length.
 * @param errstr  receives the reason on failure.
 * @param resultp receives an allocation to free with
 *                brook_serde_result_free() (may be set on success and on
 *                failure).
 * @returns BROOK_OK or the serde's error.
 */
BROOK_EXPORT brook_err_t brook_serde_deserialize(
    const brook_serde_t *serde, const void *data, size_t len, const void **objp,
    size_t *lenp, void **resultp, char *errstr, size_t errstr_size);

/**
 * @brief Serialize outside a topology (tests, tools). Same contract as
 *        brook_serde_deserialize().
 */
BROOK_EXPORT brook_err_t brook_serde_serialize(const brook_serde_t *serde,
                                               const void *obj, size_t len,
                                               const void **datap, size_t *lenp,
                                               void **resultp, char *errstr,
                                               size_t errstr_size);

/** @brief Free what brook_serde_(de)serialize() allocated. Accepts NULL. */
BROOK_EXPORT void brook_serde_result_free(void *result);

/** @brief Write @p v as 8 big-endian bytes to @p buf. */
BROOK_EXPORT void brook_int64_to_be(int64_t v, void *buf);

/** @brief Read 8 big-endian bytes. */
BROOK_EXPORT int64_t brook_int64_from_be(const void *buf);

#ifdef __cplusplus
}
#endif
#endif /* BROOK_SERDE_H */
