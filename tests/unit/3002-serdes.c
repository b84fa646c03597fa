/*
 * 3002: built-in serdes: int32/int64 are big-endian on the wire (Kafka's
 * IntegerSerializer/LongSerializer bytes), round-trip, and reject wrong
 * lengths; the string serde rejects invalid UTF-8; a user serde is called
 * with its opaque and may allocate.
 */
#include <string.h>

#include "test.h"

static brook_err_t upper_ser(brook_serde_out_t *out, const void *obj,
                             size_t len, void *opaque)
{
        char *b = brook_serde_out_alloc(out, len);
        size_t i;

        (*(int *)opaque)++;
        if (!b)
                return BROOK_ERR_NO_MEM;
        for (i = 0; i < len; i++)
                b[i] = (char)(((const char *)obj)[i] & ~0x20);
        return BROOK_OK;
}

static brook_err_t never_deser(brook_serde_out_t *out, const void *data,
                               size_t len, void *opaque)
{
        (void)data;
        (void)len;
        (*(int *)opaque)++;
        return brook_serde_out_fail(out, "never decodes");
}

int main(void)
{
        const unsigned char be64[8] = {0x01, 0x02, 0x03, 0x04,
                                       0x05, 0x06, 0x07, 0x08};
        const unsigned char be32[4] = {0xff, 0xff, 0xff, 0xfe};
        const void *obj, *data;
        size_t len;
        void *res;
        char es[256];
        int64_t v64;
        int32_t v32;
        int calls = 0;
        brook_serde_t *u;

        /* int64: wire -> host -> wire */
        TEST_ASSERT(!brook_serde_deserialize(brook_serde_int64(), be64, 8, &obj,
                                             &len, &res, es, sizeof(es)),
                    "%s", es);
        memcpy(&v64, obj, 8);
        TEST_ASSERT(len == 8 && v64 == 0x0102030405060708LL, "int64 %llx",
                    (unsigned long long)v64);
        brook_serde_result_free(res);
        TEST_ASSERT(!brook_serde_serialize(brook_serde_int64(), &v64, 8, &data,
                                           &len, &res, es, sizeof(es)),
                    "%s", es);
        TEST_ASSERT(len == 8 && !memcmp(data, be64, 8), "int64 bytes");
        brook_serde_result_free(res);
        TEST_ASSERT(brook_serde_deserialize(brook_serde_int64(), be64, 7, &obj,
                                            &len, &res, es,
                                            sizeof(es)) == BROOK_ERR_DECODE,
                    "7-byte int64 accepted");
        TEST_ASSERT(strstr(es, "int64"), "reason: %s", es);
        brook_serde_result_free(res);

        /* int32: -2 */
        TEST_ASSERT(!brook_serde_deserialize(brook_serde_int32(), be32, 4, &obj,
                                             &len, &res, es, sizeof(es)),
                    "%s", es);
        memcpy(&v32, obj, 4);
        TEST_ASSERT(v32 == -2, "int32 %d", v32);
        brook_serde_result_free(res);
        TEST_ASSERT(!brook_serde_serialize(brook_serde_int32(), &v32, 4, &data,
                                           &len, &res, es, sizeof(es)),
                    "%s", es);
        TEST_ASSERT(len == 4 && !memcmp(data, be32, 4), "int32 bytes");
        brook_serde_result_free(res);
        v64 = -1;
        brook_int64_to_be(v64, es);
        TEST_ASSERT(brook_int64_from_be(es) == -1, "be helpers");

        /* string: UTF-8 checked, zero copy */
        TEST_ASSERT(!brook_serde_deserialize(brook_serde_string(),
                                             "h\xc3\xa9llo \xe2\x82\xac", 10,
                                             &obj, &len, &res, es, sizeof(es)),
                    "%s", es);
        TEST_ASSERT(len == 10 && res == NULL, "string is zero copy");
        {
                static const char *bad[] = {"\xc3", "\xc0\xaf", "\xed\xa0\x80",
                                            "\xf5\x80\x80\x80", "a\xffz"};
                size_t i;

                for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                        TEST_ASSERT(brook_serde_deserialize(
                                        brook_serde_string(), bad[i],
                                        strlen(bad[i]), &obj, &len, &res, es,
                                        sizeof(es)) == BROOK_ERR_DECODE,
                                    "invalid UTF-8 %zu accepted", i);
                        brook_serde_result_free(res);
                }
        }
        TEST_ASSERT(!strcmp(brook_serde_name(brook_serde_bytes()), "bytes"),
                    "name");

        /* user serde */
        u = brook_serde_new("upper", upper_ser, never_deser, &calls);
        TEST_ASSERT(!brook_serde_serialize(u, "abc", 3, &data, &len, &res, es,
                                           sizeof(es)),
                    "%s", es);
        TEST_ASSERT(len == 3 && !memcmp(data, "ABC", 3), "user serializer");
        brook_serde_result_free(res);
        TEST_ASSERT(brook_serde_deserialize(u, "x", 1, &obj, &len, &res, es,
                                            sizeof(es)) == BROOK_ERR_DECODE &&
                        !strcmp(es, "never decodes"),
                    "user deserializer: %s", es);
        brook_serde_result_free(res);
        TEST_ASSERT(calls == 2, "calls %d", calls);
        brook_serde_destroy(u);
        brook_serde_destroy((brook_serde_t *)brook_serde_int64()); /* no-op */
        brook_serde_destroy(NULL);
        TEST_SAY("serdes ok");
        return 0;
}
