/* temp_file.h — how every output pixab writes reaches its path. A regular file
 * (or a new one) appears atomically: written under a fresh temporary name
 * beside it ("NAME.tmp.PID.N", O_EXCL, mode 0666 & ~umask), renamed over it
 * when complete, removed on failure. A symlink is followed: the file it names
 * (existing or not) is replaced in its own directory and the link is kept. An
 * existing character device or FIFO is written directly (/dev/null,
 * /dev/stdout); any other non-regular target is refused. */
#ifndef PIXAB_TEMP_FILE_H
#define PIXAB_TEMP_FILE_H

#include <stddef.h>
#include <stdio.h>

#define TEMP_FILE_PATH_MAX (4096 + 64)

typedef struct {
    FILE *f;                        /* write here */
    char target[TEMP_FILE_PATH_MAX]; /* the file written: path, or what its links name */
    char tmp[TEMP_FILE_PATH_MAX];    /* the temporary name; "" when writing directly */
} temp_file;

/* Open the output for `path`: 0, or an errno (EISDIR, ENOTSUP for a block
 * device or socket, ELOOP, ...). */
int temp_file_open(temp_file *t, const char *path);
/* Close it and, when e (an errno of the writes) is 0, rename the temporary
 * file onto the target; else remove it. 0, or the first errno. */
int temp_file_close(temp_file *t, int e);
/* Remove the temporary files in dir that runs no longer alive left behind
 * (SIGKILL, a second SIGINT): regular files named exactly as temp_file_open
 * names them, "NAME.tmp.PID.N", whose PID is no process (kill(PID, 0) fails
 * with ESRCH), so a concurrent run's are never touched. 0, or an errno when
 * dir cannot be read (a file that cannot be removed is left). */
int temp_file_sweep(const char *dir);

#endif
