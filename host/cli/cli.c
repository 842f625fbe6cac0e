/* cli.c — what every subcommand speaks in: error lines, names shown in them, the clock. */
#include <time.h>

#include "cli.h"
#include "error.h"
#include "pixab.h"

double cli_now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

const char *cli_shown(const char *s) {
    static _Thread_local char buf[4][4 * 4096 + 1];
    static _Thread_local int next;
    char *b = buf[next++ & 3];
    return pixab_escape_controls(b, sizeof buf[0], s);
}

void cli_error(const char *context) {
    if (context)
        fprintf(stderr, "pixab: %s: %s\n", cli_shown(context), pixab_last_error());
    else
        fprintf(stderr, "pixab: %s\n", pixab_last_error());
}

