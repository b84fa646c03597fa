/*
 * store/changelog.c: a store's changelog writer. See store/changelog.h.
 */
#include <stdlib.h>
#include <string.h>

#include "store/changelog.h"

struct brook__changelog_s {
        brook__dr_tracker_t tracker; /* first: the DR opaque */
        brook__producer_t *prod;
        rd_kafka_topic_t *rkt;
        char *topic;
        int32_t partition;
        int64_t offset; /* checkpointable offset, -1 unknown */
        int64_t outstanding;
        int64_t failed;
        int closing;
};

static void cl_free(brook__changelog_t *cl)
{
        free(cl->topic);
        free(cl);
}

static void on_dr(brook__dr_tracker_t *t, const rd_kafka_message_t *rkm)
{
        brook__changelog_t *cl = (brook__changelog_t *)t;

        cl->outstanding--;
        if (rkm->err)
                cl->failed++;
        else if (rkm->offset >= 0 && rkm->offset + 1 > cl->offset)
                cl->offset = rkm->offset + 1;
        if (cl->closing && cl->outstanding == 0)
                cl_free(cl);
}

brook__changelog_t *brook__changelog_new(brook__producer_t *p,
                                         const char *topic, int32_t partition)
{
        brook__changelog_t *cl = calloc(1, sizeof(*cl));

        if (!cl || !(cl->topic = strdup(topic)) ||
            !(cl->rkt = brook__producer_topic(p, topic))) {
                if (cl)
                        free(cl->topic);
                free(cl);
                return NULL;
        }
        cl->tracker.on_dr = on_dr;
        cl->prod = p;
        cl->partition = partition;
        cl->offset = -1;
        return cl;
}

void brook__changelog_destroy(brook__changelog_t *cl)
{
        if (!cl)
                return;
        if (cl->outstanding > 0) {
                cl->closing = 1; /* the last report frees it */
                return;
        }
        cl_free(cl);
}

brook_err_t brook__changelog_log(brook__changelog_t *cl, size_t cnt,
                                 const void *const *keys, const size_t *klens,
                                 const void *const *vals, const size_t *vlens,
                                 char *errstr, size_t errstr_size)
{
        brook_err_t err;
        size_t queued = 0;

        if (!cnt)
                return BROOK_OK;
        /* Count first: reports may arrive while the batch is queued. */
        cl->outstanding += (int64_t)cnt;
        err = brook__producer_send_batch(cl->prod, cl->rkt, cl->partition, cnt,
                                         keys, klens, vals, vlens, &cl->tracker,
                                         &queued, errstr, errstr_size);
        if (err) {
                /* Those not queued get no report. The batch counts as
                 * failed: the commit cycle will not commit past it. */
                cl->failed++;
                cl->outstanding -= (int64_t)(cnt - queued);
        }
        return err;
}

int64_t brook__changelog_offset(const brook__changelog_t *cl)
{
        return cl->offset;
}

void brook__changelog_set_offset(brook__changelog_t *cl, int64_t offset)
{
        cl->offset = offset;
}

int64_t brook__changelog_failed(const brook__changelog_t *cl)
{
        return cl->failed;
}
