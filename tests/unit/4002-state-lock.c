/*
 * 4002: the state directory lock: a second lock on the same directory
 * fails with BROOK_ERR_LOCKED, from this process (another thread's handle)
 * and from another process; after unlock (or the holder's death) it can be
 * taken again.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"

int main(void)
{
        char dir[] = "/tmp/brook-4002-XXXXXX", sub[600], es[512];
        brook_state_lock_t *a, *b;
        brook_err_t err;
        int pfd[2], st;
        pid_t pid;
        char c;

        TEST_ASSERT(mkdtemp(dir), "mkdtemp");
        snprintf(sub, sizeof(sub), "%s/app/0_1", dir);
        a = brook_state_dir_lock(sub, &err, es, sizeof(es));
        TEST_ASSERT(a && !err, "first lock: %s", es);
        b = brook_state_dir_lock(sub, &err, es, sizeof(es));
        TEST_ASSERT(!b && err == BROOK_ERR_LOCKED, "second lock: %s",
                    brook_err2name(err));
        TEST_SAY("same process: %s", es);
        brook_state_dir_unlock(a);
        b = brook_state_dir_lock(sub, &err, es, sizeof(es));
        TEST_ASSERT(b, "lock after unlock: %s", es);
        brook_state_dir_unlock(b);

        /* Another process holds it, then dies (SIGKILL). */
        TEST_ASSERT(!pipe(pfd), "pipe");
        if (!(pid = fork())) {
                brook_state_lock_t *l =
                    brook_state_dir_lock(sub, NULL, NULL, 0);

                if (write(pfd[1], l ? "y" : "n", 1) != 1)
                        _exit(2);
                pause();
                _exit(0);
        }
        TEST_ASSERT(read(pfd[0], &c, 1) == 1 && c == 'y', "child lock");
        b = brook_state_dir_lock(sub, &err, es, sizeof(es));
        TEST_ASSERT(!b && err == BROOK_ERR_LOCKED,
                    "lock held by another process was granted");
        TEST_SAY("other process: %s", es);
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
        b = brook_state_dir_lock(sub, &err, es, sizeof(es));
        TEST_ASSERT(b, "lock after the holder died: %s", es);
        brook_state_dir_unlock(b);
        brook_state_dir_unlock(NULL);
        snprintf(sub, sizeof(sub), "rm -rf %s", dir);
        TEST_ASSERT(system(sub) == 0, "cleanup");
        return 0;
}
