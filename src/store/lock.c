/*
 * store/lock.c: the state directory lock. An exclusive, non-blocking
 * flock() on `<dir>/.lock`: flock locks belong to the open file
 * description, so two handles conflict whether they are in one process
 * (two stream threads) or in two (two instances sharing state.dir).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "store/store.h"

struct brook_state_lock_s {
        int fd;
};

brook_state_lock_t *brook_state_dir_lock(const char *dir, brook_err_t *errp,
                                         char *errstr, size_t errstr_size)
{
        brook_state_lock_t *l;
        char path[4096];
        int fd;

        if (errp)
                *errp = BROOK_OK;
        if (!dir || !*dir) {
                if (errp)
                        *errp = BROOK_ERR_INVALID_ARG;
                brook__errstr(errstr, errstr_size,
                              "brook_state_dir_lock: dir is required");
                return NULL;
        }
        if (brook__mkdirs(dir)) {
                if (errp)
                        *errp = BROOK_ERR_IO;
                brook__errstr(errstr, errstr_size, "cannot create %s: %s", dir,
                              strerror(errno));
                return NULL;
        }
        snprintf(path, sizeof(path), "%s/.lock", dir);
        if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) < 0) {
                if (errp)
                        *errp = BROOK_ERR_IO;
                brook__errstr(errstr, errstr_size, "cannot open %s: %s", path,
                              strerror(errno));
                return NULL;
        }
        if (flock(fd, LOCK_EX | LOCK_NB)) {
                int e = errno;

                close(fd);
                if (errp)
                        *errp =
                            e == EWOULDBLOCK ? BROOK_ERR_LOCKED : BROOK_ERR_IO;
                brook__errstr(
                    errstr, errstr_size, "state directory %s is %s", dir,
                    e == EWOULDBLOCK ? "locked by another instance or thread "
                                       "(same application.id and state.dir)"
                                     : strerror(e));
                return NULL;
        }
        if (!(l = malloc(sizeof(*l)))) {
                close(fd);
                if (errp)
                        *errp = BROOK_ERR_NO_MEM;
                brook__errstr(errstr, errstr_size, "out of memory");
                return NULL;
        }
        l->fd = fd;
        return l;
}

void brook_state_dir_unlock(brook_state_lock_t *lock)
{
        if (!lock)
                return;
        flock(lock->fd, LOCK_UN);
        close(lock->fd);
        free(lock);
}
