/* cli.h — what every pixab subcommand speaks in (cli.c): exit codes, error
 * lines on stderr, a monotonic clock. Only the CLI prints and
 * chooses exit codes. */
#ifndef PIXAB_CLI_H
#define PIXAB_CLI_H

#include <stdio.h>

/* Exit codes: 0 success, 1 some input failed (others completed), 2 usage or
 * fatal error. */
enum { CLI_OK = 0, CLI_PARTIAL = 1, CLI_FATAL = 2 };

/* Print the last library error as one line "pixab: CONTEXT: reason". */
void cli_error(const char *context);
/* s for a message on stderr: its control bytes (a newline, an escape
 * sequence in a file name) escaped as \xNN. One of four per-thread buffers,
 * reused in turn: up to four in one message. */
const char *cli_shown(const char *s);

/* Seconds on a monotonic clock (for timings and rates). */
double cli_now_s(void);

#endif
