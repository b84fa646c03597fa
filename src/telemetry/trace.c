/*
 * telemetry/trace.c: W3C trace context (https://www.w3.org/TR/trace-context/)
 * of consumed records: `tracestate` next to the `traceparent` accessor of
 * kafka/msg.c, and the span links of a batch (the messages' traceparents) for
 * the span hooks.
 *
 * Records brook produces keep their source's trace context: the
 * dead-letter path copies every header of the original record (consumer/dlq.c),
 * so `traceparent` and `tracestate` reach the dead-letter topic unchanged.
 */
#include <stdlib.h>

#include "core/core.h"
#include "telemetry/telemetry.h"

const char *brook_msg_tracestate(const brook_msg_t *msg, size_t *lenp)
{
        const void *val;
        size_t size;

        if (lenp)
                *lenp = 0;
        if (!msg || !brook_msg_traceparent(msg) ||
            brook_msg_header_find(msg, "tracestate", &val, &size) || !val ||
            !size)
                return NULL;
        if (lenp)
                *lenp = size;
        return val;
}

const char **brook__trace_links(const brook_batch_t *b, size_t *cntp)
{
        size_t i, n = 0, cnt = brook_batch_count(b);
        const char **links;

        *cntp = 0;
        if (!cnt || !(links = malloc(cnt * sizeof(*links))))
                return NULL;
        for (i = 0; i < cnt; i++) {
                const char *tp = brook_msg_traceparent(brook_batch_msg(b, i));

                if (tp)
                        links[n++] = tp;
        }
        if (!n) {
                free(links);
                return NULL;
        }
        *cntp = n;
        return links;
}
