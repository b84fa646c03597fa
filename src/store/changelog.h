/*
 * store/changelog.h: logging a store's writes to its changelog topic partition.
 * Not API.
 *
 * Every write batch of the store is produced as one produce batch (puts
 * as values, deletes as tombstones) on the stream thread's producer. The
 * delivery reports advance the changelog offset that the checkpoint
 * records: the local store holds every changelog record before it.
 *
 * @locality the stream thread that owns the store and the producer.
 */
#ifndef BROOK__STORE_CHANGELOG_H
#define BROOK__STORE_CHANGELOG_H

#include "kafka/producer.h"

typedef struct brook__changelog_s brook__changelog_t;

brook__changelog_t *brook__changelog_new(brook__producer_t *p,
                                         const char *topic, int32_t partition);

/* Free, or (with reports outstanding) free once the last report arrived. */
void brook__changelog_destroy(brook__changelog_t *cl);

/* Produce a write batch (values[i] NULL: tombstone). */
brook_err_t brook__changelog_log(brook__changelog_t *cl, size_t cnt,
                                 const void *const *keys, const size_t *klens,
                                 const void *const *vals, const size_t *vlens,
                                 char *errstr, size_t errstr_size);

/*
 * The offset to checkpoint: one past the last delivered record, or what
 * restoration reached (brook__changelog_set_offset()), -1 when unknown.
 */
int64_t brook__changelog_offset(const brook__changelog_t *cl);
void brook__changelog_set_offset(brook__changelog_t *cl, int64_t offset);

int64_t brook__changelog_failed(const brook__changelog_t *cl);

#endif /* BROOK__STORE_CHANGELOG_H */
