/*
 * streams/serde.h: the structure behind brook_serde_t and the call used by the
 * streams runtime. Not API.
 */
#ifndef BROOK__STREAMS_SERDE_H
#define BROOK__STREAMS_SERDE_H

#include "core/core.h"
#include "brook/serde.h"
#include "core/util.h"

struct brook_serde_s {
        char name[48];
        brook_serializer_t *ser;
        brook_deserializer_t *deser;
        void *opaque;
        int builtin; /* static: never freed */
};

/*
 * Run the serializer (@p serialize) or deserializer of @p s over @p in.
 * Memory the serde asks for comes from @p arena (NULL: malloc, returned in
 * *@p allocp for the caller to free). On failure @p errstr has the reason.
 */
/* Built-in serdes the runtime runs inline (no call through the table). */
enum {
        BROOK__SERDE_CUSTOM = 0,
        BROOK__SERDE_BYTES,
        BROOK__SERDE_STRING,
        BROOK__SERDE_INT64
};

/* Which built-in @p s is (a copy of), BROOK__SERDE_CUSTOM for others. */
int brook__serde_kind(const brook_serde_t *s);

/* Strict UTF-8 (no overlongs, no surrogates, <= U+10FFFF), with a fast
 * path for ASCII. */
int brook__utf8_valid(const void *s, size_t n);

brook_err_t brook__serde_run(const brook_serde_t *s, int serialize,
                             const void *in, size_t len, brook__arena_t *arena,
                             const void **outp, size_t *outlenp, void **allocp,
                             char *errstr, size_t errstr_size);

#endif /* BROOK__STREAMS_SERDE_H */
