/* cli_run.h — running the built `pixab` binary from Criterion tests: the exit
 * status, stdout and stderr of one command line, and a scratch directory per
 * test with small file helpers (the test_*_cli.c suites). */
#ifndef PIXAB_TESTS_CLI_RUN_H
#define PIXAB_TESTS_CLI_RUN_H

#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct {
    int status; /* exit status, -1 when killed by a signal */
    char out[8192], err[4096];
} run_result;

/* Run `pixab ARGS` through the shell; capture stdout and stderr (truncated to
 * the buffers). */
static inline run_result run(const char *args) {
    run_result r = {0};
    char errpath[] = "/tmp/pixab_cli_err_XXXXXX", cmd[8192];
    int fd = mkstemp(errpath);
    cr_assert(fd >= 0);
    close(fd);
    cr_assert((size_t)snprintf(cmd, sizeof cmd, "OPENBLAS_CORETYPE=Haswell '%s' %s 2>'%s'", PIXAB_CLI_PATH, args,
                               errpath) < sizeof cmd);
    FILE *p = popen(cmd, "r");
    cr_assert(p);
    size_t n = fread(r.out, 1, sizeof r.out - 1, p);
    r.out[n] = '\0';
    char sink[4096]; /* drain the rest so the child never blocks on a full pipe */
    while (fread(sink, 1, sizeof sink, p) > 0) {}
    int st = pclose(p);
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    FILE *e = fopen(errpath, "r");
    cr_assert(e);
    n = fread(r.err, 1, sizeof r.err - 1, e);
    r.err[n] = '\0';
    fclose(e);
    unlink(errpath);
    return r;
}

/* run() with printf-style arguments. */
static inline run_result runf(const char *fmt, ...) {
    char args[6144];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    cr_assert(n >= 0 && (size_t)n < sizeof args);
    return run(args);
}

static inline int count_lines(const char *s) {
    int n = 0;
    for (; *s; s++) n += *s == '\n';
    return n;
}

/* ---- a scratch directory per test (make it in .init, remove it in .fini) ---- */

static char tmp[64];

static inline void scratch_make(const char *name) {
    snprintf(tmp, sizeof tmp, "/tmp/pixab_%s_XXXXXX", name);
    cr_assert(mkdtemp(tmp));
}

static inline void scratch_remove(void) {
    char cmd[256];
    chmod(tmp, 0700);
    snprintf(cmd, sizeof cmd, "chmod -R u+w '%s' 2>/dev/null; rm -rf '%s'", tmp, tmp);
    cr_expect_eq(system(cmd), 0);
}

/* tmp/rel (in a rotating static buffer, so a few can be live at once). */
static inline const char *tp(const char *rel) {
    static char buf[8][512];
    static int k;
    char *b = buf[k++ % 8];
    snprintf(b, sizeof buf[0], "%s/%s", tmp, rel);
    return b;
}

static inline void mkdirs(const char *rel) {
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", tp(rel));
    cr_assert_eq(system(cmd), 0);
}

static inline void copy_file(const char *src, const char *dst) {
    FILE *in = fopen(src, "rb"), *out = fopen(dst, "wb");
    cr_assert(in && out, "copy %s -> %s", src, dst);
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0) cr_assert_eq(fwrite(buf, 1, n, out), n);
    fclose(in);
    cr_assert_eq(fclose(out), 0);
}

static inline void write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    cr_assert(f);
    fputs(text, f);
    cr_assert_eq(fclose(f), 0);
}

/* Whole file (malloc'd, NUL-terminated) and its length (len may be NULL);
 * NULL if it cannot be read. */
static inline char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0, k;
    char *s = malloc(cap);
    while (s && (k = fread(s + n, 1, cap - n - 1, f)) > 0)
        if ((n += k) + 1 == cap) s = realloc(s, cap *= 2);
    fclose(f);
    if (s) s[n] = '\0';
    if (len) *len = n;
    return s;
}

static inline int exists(const char *path) { return access(path, F_OK) == 0; }

#endif
