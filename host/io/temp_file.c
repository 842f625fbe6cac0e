/* temp_file.c — the one rule for writing an output path (temp_file.h):
 * symlinks followed to the file they name, regular files replaced atomically,
 * character devices and FIFOs written directly. */
#include "temp_file.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_LINKS 40               /* as the kernel's ELOOP limit */
#define TEMP_SUFFIX ".tmp.%ld.%u" /* after the target's name */

/* Follow the symlinks at out[cap] (initially the path) to the name they end
 * at, which may not exist; a relative link is read from the link's directory. */
static int follow_links(char *out, size_t cap) {
    char link[TEMP_FILE_PATH_MAX];
    for (int hop = 0; hop < MAX_LINKS; hop++) {
        ssize_t n = readlink(out, link, sizeof link - 1);
        if (n < 0) return errno == EINVAL || errno == ENOENT ? 0 : errno; /* not a link: the end */
        link[n] = '\0';
        const char *slash = strrchr(out, '/');
        size_t dir = link[0] == '/' || !slash ? 0 : (size_t)(slash - out) + 1;
        if (dir + (size_t)n >= cap) return ENAMETOOLONG;
        memcpy(out + dir, link, (size_t)n + 1);
    }
    return ELOOP;
}

/* A character device or FIFO, opened as it is (never truncated or replaced). */
static int open_direct(temp_file *t, const char *path) {
    int fd = open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC);
    struct stat st;
    if (fd < 0) return errno;
    if (fstat(fd, &st) || !(S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode))) { /* changed since stat */
        close(fd);
        return EAGAIN;
    }
    if (!(t->f = fdopen(fd, "wb"))) {
        int e = errno;
        close(fd);
        return e;
    }
    return 0;
}

/* A fresh "TARGET.tmp.PID.N" beside t->target. */
static int open_temp(temp_file *t) {
    static atomic_uint counter;
    for (int attempt = 0; attempt < 100; attempt++) {
        unsigned k = atomic_fetch_add(&counter, 1u);
        if (snprintf(t->tmp, sizeof t->tmp, "%s" TEMP_SUFFIX, t->target, (long)getpid(), k) >= (int)sizeof t->tmp)
            return ENAMETOOLONG;
        int fd = open(t->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno == EEXIST) continue;
        if (fd < 0) return errno;
        if (!(t->f = fdopen(fd, "wb"))) {
            int e = errno;
            close(fd);
            remove(t->tmp);
            return e;
        }
        return 0;
    }
    return EEXIST;
}

int temp_file_open(temp_file *t, const char *path) {
    struct stat st, end;
    t->f = NULL;
    t->tmp[0] = '\0';
    if (snprintf(t->target, sizeof t->target, "%s", path) >= (int)sizeof t->target) return ENAMETOOLONG;
    int exists = !stat(path, &st);
    if (!exists && errno != ENOENT) return errno;
    if (exists && S_ISDIR(st.st_mode)) return EISDIR;
    if (exists && (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode))) return open_direct(t, path);
    if (exists && !S_ISREG(st.st_mode)) return ENOTSUP; /* a block device, a socket */
    int e = follow_links(t->target, sizeof t->target);
    if (e) return e;
    /* A link the kernel follows but readlink cannot name (/proc/self/fd/N of
     * a deleted file): refused rather than guessed at. */
    if (exists && (stat(t->target, &end) || end.st_dev != st.st_dev || end.st_ino != st.st_ino)) return ENOTSUP;
    return open_temp(t);
}

int temp_file_close(temp_file *t, int e) {
    errno = 0;
    if (fclose(t->f) && !e) e = errno ? errno : EIO; /* a full disk often shows only here */
    t->f = NULL;
    if (t->tmp[0] && !e && rename(t->tmp, t->target)) e = errno;
    if (t->tmp[0] && e) remove(t->tmp);
    return e;
}

/* The PID in a name temp_file_open makes ("NAME" TEMP_SUFFIX, NAME not
 * empty), or 0 when the name is not exactly one. */
static long temp_name_pid(const char *name) {
    const char *p = name[0] ? strstr(name + 1, ".tmp.") : NULL, *last = p;
    while (last && (p = strstr(last + 1, ".tmp."))) last = p; /* NAME may hold ".tmp." too */
    if (!last || !isdigit((unsigned char)last[5])) return 0;
    char *dot, *end, again[64];
    long pid = strtol(last + 5, &dot, 10);
    if (*dot != '.' || !isdigit((unsigned char)dot[1])) return 0;
    unsigned long n = strtoul(dot + 1, &end, 10);
    if (*end || pid <= 0 || n > 0xffffffffu) return 0;
    snprintf(again, sizeof again, TEMP_SUFFIX, pid, (unsigned)n);
    return strcmp(again, last) ? 0 : pid; /* no leading zeros, no overflow */
}

/* An orphan: one of our names, a regular file, its process gone. */
static int is_orphan(int dir, const char *name) {
    long pid = temp_name_pid(name);
    struct stat st;
    return pid > 0 && (pid_t)pid == pid && kill((pid_t)pid, 0) && errno == ESRCH &&
           !fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) && S_ISREG(st.st_mode);
}

int temp_file_sweep(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return errno;
    for (struct dirent *e; (e = readdir(d));)
        if (is_orphan(dirfd(d), e->d_name)) unlinkat(dirfd(d), e->d_name, 0);
    closedir(d);
    return 0;
}
