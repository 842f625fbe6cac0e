/* temp_file.c — fresh temporary files beside an output path (temp_file.h). */
#include "temp_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>

FILE *temp_file_open(const char *path, char *tmp, size_t cap) {
    static atomic_uint counter;
    for (int attempt = 0; attempt < 100; attempt++) {
        unsigned k = atomic_fetch_add(&counter, 1u);
        if (snprintf(tmp, cap, "%s.tmp.%ld.%u", path, (long)getpid(), k) >= (int)cap) {
            errno = ENAMETOOLONG;
            return NULL;
        }
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0) {
            FILE *f = fdopen(fd, "wb");
            if (!f) {
                int e = errno;
                close(fd);
                remove(tmp);
                errno = e;
            }
            return f;
        }
        if (errno != EEXIST) return NULL;
    }
    return NULL;
}

