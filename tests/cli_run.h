/* cli_run.h — running the built `pixab` binary from Criterion tests: the exit
 * status, stdout and stderr of one command line (test_cli.c, test_explain_cli.c). */
#ifndef PIXAB_TESTS_CLI_RUN_H
#define PIXAB_TESTS_CLI_RUN_H

#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

#endif
