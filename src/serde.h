/*
 * serde.h: the structure behind brook_serde_t and the call used by the
 * streams runtime. Not API.
 */
#ifndef BROOK_SERDE_INT_H
#define BROOK_SERDE_INT_H

#include "brook_int.h"
#include "brook/serde.h"
#include "streams_util.h"

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
brook_err_t brook__serde_run(const brook_serde_t *s, int serialize,
                             const void *in, size_t len, brook__arena_t *arena,
                             const void **outp, size_t *outlenp, void **allocp,
                             char *errstr, size_t errstr_size);

#endif /* BROOK_SERDE_INT_H */
