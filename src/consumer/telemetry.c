/*
 * consumer/telemetry.c: the batch consumer's telemetry entry points
 * (brook_consumer_telemetry() and its conveniences). The consumer owns
 * one brook__tel_t, created with it (consumer/consumer.c) and reported to from
 * consumer/dispatch.c, consumer/ack.c, consumer/dlq.c and the run loop.
 */
#include "consumer/consumer.h"

brook_telemetry_t *brook_consumer_telemetry(brook_consumer_t *c)
{
        return c ? c->tel : NULL;
}

int64_t brook_consumer_event_attach(brook_consumer_t *c, const char *name,
                                    brook_event_cb_t *cb, void *opaque)
{
        return brook_telemetry_event_attach(brook_consumer_telemetry(c), name,
                                            cb, opaque);
}

brook_err_t brook_consumer_event_detach(brook_consumer_t *c, int64_t id)
{
        return brook_telemetry_event_detach(brook_consumer_telemetry(c), id);
}

brook_err_t brook_consumer_set_span_hooks(brook_consumer_t *c,
                                          brook_span_start_cb_t *start,
                                          brook_span_end_cb_t *end,
                                          void *opaque)
{
        return brook_telemetry_set_span_hooks(brook_consumer_telemetry(c),
                                              start, end, opaque);
}

char *brook_consumer_metrics_text(brook_consumer_t *c, size_t *lenp)
{
        return brook_telemetry_metrics_text(brook_consumer_telemetry(c), lenp);
}
