/*
 * streams/serde.c: the built-in serdes (bytes, UTF-8 string, big-endian int32
 * and int64, as Kafka's Java serdes write them) and user-defined ones.
 */
#include <stdlib.h>
#include <string.h>

#include "streams/serde.h"

struct brook_serde_out_s {
        const void *ptr;
        size_t len;
        brook__arena_t *arena; /* NULL: malloc into alloc */
        void *alloc;
        char *errstr;
        size_t errstr_size;
        int failed;
};

void brook_serde_out_set(brook_serde_out_t *out, const void *ptr, size_t len)
{
        if (!out)
                return;
        out->ptr = ptr;
        out->len = len;
}

void *brook_serde_out_alloc(brook_serde_out_t *out, size_t size)
{
        void *p;

        if (!out)
                return NULL;
        if (out->arena) {
                p = brook__arena_alloc(out->arena, size);
        } else {
                free(out->alloc);
                p = out->alloc = malloc(size ? size : 1);
        }
        if (p) {
                out->ptr = p;
                out->len = size;
        }
        return p;
}

brook_err_t brook_serde_out_fail(brook_serde_out_t *out, const char *reason)
{
        if (out) {
                out->failed = 1;
                brook__errstr(out->errstr, out->errstr_size, "%s",
                              reason ? reason : "serde failed");
        }
        return BROOK_ERR_DECODE;
}

void brook_int64_to_be(int64_t v, void *buf)
{
        brook__be64_put(v, buf);
}

int64_t brook_int64_from_be(const void *buf)
{
        return brook__be64_get(buf);
}

/* ---- built-ins ---- */

static brook_err_t bytes_same(brook_serde_out_t *out, const void *data,
                              size_t len, void *opaque)
{
        (void)opaque;
        brook_serde_out_set(out, data, len);
        return BROOK_OK;
}

/* Strict UTF-8 (no overlongs, no surrogates, <= U+10FFFF). */
static int utf8_valid(const unsigned char *s, size_t n)
{
        size_t i = 0;

        /* ASCII, 8 bytes at a time */
        while (i + 8 <= n) {
                uint64_t w;

                memcpy(&w, s + i, 8);
                if (w & 0x8080808080808080ull)
                        break;
                i += 8;
        }

        while (i < n) {
                unsigned char c = s[i];
                size_t k;
                uint32_t cp;

                if (c < 0x80) {
                        i++;
                        continue;
                }
                if (c >= 0xc2 && c <= 0xdf) {
                        k = 1;
                        cp = c & 0x1f;
                } else if (c >= 0xe0 && c <= 0xef) {
                        k = 2;
                        cp = c & 0x0f;
                } else if (c >= 0xf0 && c <= 0xf4) {
                        k = 3;
                        cp = c & 0x07;
                } else {
                        return 0;
                }
                if (i + k >= n)
                        return 0;
                for (size_t j = 1; j <= k; j++) {
                        if ((s[i + j] & 0xc0) != 0x80)
                                return 0;
                        cp = (cp << 6) | (s[i + j] & 0x3f);
                }
                if ((k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) ||
                    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
                        return 0;
                i += k + 1;
        }
        return 1;
}

int brook__utf8_valid(const void *s, size_t n)
{
        return utf8_valid(s, n);
}

static brook_err_t string_deser(brook_serde_out_t *out, const void *data,
                                size_t len, void *opaque)
{
        (void)opaque;
        if (!utf8_valid(data, len))
                return brook_serde_out_fail(out, "string: invalid UTF-8");
        brook_serde_out_set(out, data, len);
        return BROOK_OK;
}

static brook_err_t int32_deser(brook_serde_out_t *out, const void *data,
                               size_t len, void *opaque)
{
        const unsigned char *b = data;
        int32_t *v;

        (void)opaque;
        if (len != 4)
                return brook_serde_out_fail(out, "int32: length is not 4");
        if (!(v = brook_serde_out_alloc(out, 4)))
                return BROOK_ERR_NO_MEM;
        *v = (int32_t)(((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) |
                       ((uint32_t)b[2] << 8) | (uint32_t)b[3]);
        return BROOK_OK;
}

static brook_err_t int32_ser(brook_serde_out_t *out, const void *obj,
                             size_t len, void *opaque)
{
        unsigned char *b;
        uint32_t u;

        (void)opaque;
        if (len != 4)
                return brook_serde_out_fail(out, "int32: length is not 4");
        memcpy(&u, obj, 4);
        if (!(b = brook_serde_out_alloc(out, 4)))
                return BROOK_ERR_NO_MEM;
        b[0] = (unsigned char)(u >> 24);
        b[1] = (unsigned char)(u >> 16);
        b[2] = (unsigned char)(u >> 8);
        b[3] = (unsigned char)u;
        return BROOK_OK;
}

static brook_err_t int64_deser(brook_serde_out_t *out, const void *data,
                               size_t len, void *opaque)
{
        int64_t *v;

        (void)opaque;
        if (len != 8)
                return brook_serde_out_fail(out, "int64: length is not 8");
        if (!(v = brook_serde_out_alloc(out, 8)))
                return BROOK_ERR_NO_MEM;
        *v = brook_int64_from_be(data);
        return BROOK_OK;
}

static brook_err_t int64_ser(brook_serde_out_t *out, const void *obj,
                             size_t len, void *opaque)
{
        void *b;
        int64_t v;

        (void)opaque;
        if (len != 8)
                return brook_serde_out_fail(out, "int64: length is not 8");
        memcpy(&v, obj, 8);
        if (!(b = brook_serde_out_alloc(out, 8)))
                return BROOK_ERR_NO_MEM;
        brook_int64_to_be(v, b);
        return BROOK_OK;
}

static const brook_serde_t serde_bytes = {"bytes", bytes_same, bytes_same, NULL,
                                          1};
static const brook_serde_t serde_string = {"string", bytes_same, string_deser,
                                           NULL, 1};
static const brook_serde_t serde_int32 = {"int32", int32_ser, int32_deser, NULL,
                                          1};
static const brook_serde_t serde_int64 = {"int64", int64_ser, int64_deser, NULL,
                                          1};

const brook_serde_t *brook_serde_bytes(void)
{
        return &serde_bytes;
}

const brook_serde_t *brook_serde_string(void)
{
        return &serde_string;
}

const brook_serde_t *brook_serde_int32(void)
{
        return &serde_int32;
}

const brook_serde_t *brook_serde_int64(void)
{
        return &serde_int64;
}

int brook__serde_kind(const brook_serde_t *s)
{
        if (s->deser == bytes_same && s->ser == bytes_same)
                return BROOK__SERDE_BYTES;
        if (s->deser == string_deser && s->ser == bytes_same)
                return BROOK__SERDE_STRING;
        if (s->deser == int64_deser && s->ser == int64_ser)
                return BROOK__SERDE_INT64;
        return BROOK__SERDE_CUSTOM;
}

brook_serde_t *brook_serde_new(const char *name, brook_serializer_t *serialize,
                               brook_deserializer_t *deserialize, void *opaque)
{
        brook_serde_t *s = calloc(1, sizeof(*s));

        if (!s)
                return NULL;
        snprintf(s->name, sizeof(s->name), "%s", name ? name : "custom");
        s->ser = serialize ? serialize : bytes_same;
        s->deser = deserialize ? deserialize : bytes_same;
        s->opaque = opaque;
        return s;
}

void brook_serde_destroy(brook_serde_t *serde)
{
        if (serde && !serde->builtin)
                free(serde);
}

const char *brook_serde_name(const brook_serde_t *serde)
{
        return serde ? serde->name : "";
}

brook_err_t brook__serde_run(const brook_serde_t *s, int serialize,
                             const void *in, size_t len, brook__arena_t *arena,
                             const void **outp, size_t *outlenp, void **allocp,
                             char *errstr, size_t errstr_size)
{
        brook_serde_out_t out;
        brook_err_t err;

        memset(&out, 0, sizeof(out));
        out.arena = arena;
        out.errstr = errstr;
        out.errstr_size = errstr_size;
        out.ptr = NULL;
        err = (serialize ? s->ser : s->deser)(&out, in, len, s->opaque);
        if (allocp)
                *allocp = out.alloc;
        else
                free(out.alloc);
        if (err) {
                if (!out.failed)
                        brook__errstr(errstr, errstr_size, "%s: %s %s", s->name,
                                      serialize ? "serializer" : "deserializer",
                                      brook_err2str(err));
                return err;
        }
        if (!out.ptr && len) {
                brook__errstr(errstr, errstr_size, "%s: %s produced no output",
                              s->name,
                              serialize ? "serializer" : "deserializer");
                return BROOK_ERR_DECODE;
        }
        *outp = out.ptr ? out.ptr : in;
        *outlenp = out.ptr ? out.len : 0;
        return BROOK_OK;
}

brook_err_t brook_serde_deserialize(const brook_serde_t *serde,
                                    const void *data, size_t len,
                                    const void **objp, size_t *lenp,
                                    void **resultp, char *errstr,
                                    size_t errstr_size)
{
        if (resultp)
                *resultp = NULL;
        if (!serde || !data || !objp || !lenp || !resultp)
                return BROOK_ERR_INVALID_ARG;
        return brook__serde_run(serde, 0, data, len, NULL, objp, lenp, resultp,
                                errstr, errstr_size);
}

brook_err_t brook_serde_serialize(const brook_serde_t *serde, const void *obj,
                                  size_t len, const void **datap, size_t *lenp,
                                  void **resultp, char *errstr,
                                  size_t errstr_size)
{
        if (resultp)
                *resultp = NULL;
        if (!serde || !obj || !datap || !lenp || !resultp)
                return BROOK_ERR_INVALID_ARG;
        return brook__serde_run(serde, 1, obj, len, NULL, datap, lenp, resultp,
                                errstr, errstr_size);
}

void brook_serde_result_free(void *result)
{
        free(result);
}
