/*
 * store/checkpoint.h: a task's checkpoint file: for each logged store, the
 * changelog offset up to which the local store holds the changelog. Not
 * API.
 *
 * Text, one entry a line, ended by a CRC-32 of everything before it:
 *
 *   brook-checkpoint 1
 *   <count>
 *   <store> <changelog topic> <partition> <offset>
 *   ...
 *   crc32 <8 hex digits>
 *
 * Written atomically: a temporary file in the same directory, fsync, rename
 * over the old file, fsync of the directory. A file that does not parse or
 * whose CRC does not match is BROOK_ERR_CORRUPT: the runtime then wipes the
 * stores and restores them from the changelog's beginning.
 */
#ifndef BROOK__STORE_CHECKPOINT_H
#define BROOK__STORE_CHECKPOINT_H

#include "core/core.h"

typedef struct brook__ckpt_entry_s {
        char store[256];
        char topic[256];
        int32_t partition;
        int64_t offset;
} brook__ckpt_entry_t;

/* Write @p cnt entries to @p path atomically. */
brook_err_t brook__checkpoint_write(const char *path,
                                    const brook__ckpt_entry_t *entries,
                                    size_t cnt, char *errstr,
                                    size_t errstr_size);

/*
 * Read @p path. *entriesp (free()) and *cntp on success. BROOK_ERR_NOT_FOUND
 * when the file does not exist, BROOK_ERR_CORRUPT when it does not parse,
 * BROOK_ERR_IO on read errors.
 */
brook_err_t brook__checkpoint_read(const char *path,
                                   brook__ckpt_entry_t **entriesp, size_t *cntp,
                                   char *errstr, size_t errstr_size);

/* Delete the file (missing is fine). */
brook_err_t brook__checkpoint_delete(const char *path);

/* The entry of @p store, or NULL. */
const brook__ckpt_entry_t *
brook__checkpoint_find(const brook__ckpt_entry_t *entries, size_t cnt,
                       const char *store);

uint32_t brook__crc32(uint32_t crc, const void *data, size_t len);

#endif /* BROOK__STORE_CHECKPOINT_H */
