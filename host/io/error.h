/* error.h — the library's one error mechanism: set a status and a one-line,
 * per-thread reason that pixab_last_error() returns; and its diagnostics,
 * handed to the pixab_set_log callback. Only the CLI prints. */
#ifndef PIXAB_ERROR_H
#define PIXAB_ERROR_H

#include <stddef.h>

#include "pixab.h"

#if defined(__GNUC__)
#define PIXAB_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define PIXAB_PRINTF(a, b)
#endif

/* Record `fmt` as the reason and return `s`, so callers write
 * `return pixab_fail(PIXAB_ERR_IO, "cannot open '%s'", path);` */
pixab_status pixab_fail(pixab_status s, const char *fmt, ...) PIXAB_PRINTF(2, 3);
/* Prefix the current reason with "context: " (keeps the status). */
pixab_status pixab_fail_context(pixab_status s, const char *fmt, ...) PIXAB_PRINTF(2, 3);
void pixab_clear_error(void);
/* One diagnostic line to the pixab_set_log callback, if any. */
void pixab_log(const char *fmt, ...) PIXAB_PRINTF(1, 2);
/* src into dst (cap bytes, always terminated) with every control byte (below
 * 0x20, and 0x7f) written as \xNN, so a file name with a newline or an escape
 * sequence stays one plain line on a terminal. The reasons and diagnostics
 * above are escaped so. Returns dst. */
char *pixab_escape_controls(char *dst, size_t cap, const char *src);

#endif
