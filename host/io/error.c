/* error.c — per-thread last-error string and the diagnostics callback (see
 * error.h); status names are in names.c. */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char last_error[512];

char *pixab_escape_controls(char *dst, size_t cap, const char *src) {
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (; *src && o + 1 < cap; src++) {
        const unsigned char c = (unsigned char)*src;
        if (c >= 0x20 && c != 0x7f) {
            dst[o++] = (char)c;
        } else if (o + 4 < cap) {
            dst[o++] = '\\', dst[o++] = 'x', dst[o++] = hex[c >> 4], dst[o++] = hex[c & 15];
        } else {
            break;
        }
    }
    if (cap) dst[o] = '\0';
    return dst;
}

/* buf (cap) with its control bytes escaped, in place. */
static void escape_in_place(char *buf, size_t cap) {
    char raw[1024];
    snprintf(raw, sizeof raw, "%s", buf);
    pixab_escape_controls(buf, cap, raw);
}

const char *pixab_last_error(void) { return last_error; }

void pixab_clear_error(void) { last_error[0] = '\0'; }

pixab_status pixab_fail(pixab_status s, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    escape_in_place(last_error, sizeof last_error);
    return s;
}

pixab_status pixab_fail_context(pixab_status s, const char *fmt, ...) {
    char prefix[256], old[sizeof last_error];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    escape_in_place(prefix, sizeof prefix);
    memcpy(old, last_error, sizeof old);
    size_t n = strlen(prefix);
    memcpy(last_error, prefix, n); /* n < 256 < sizeof last_error - 2 */
    memcpy(last_error + n, ": ", 2);
    n += 2;
    size_t rest = strlen(old);
    if (rest > sizeof last_error - n - 1) rest = sizeof last_error - n - 1;
    memcpy(last_error + n, old, rest);
    last_error[n + rest] = '\0';
    return s;
}

static pixab_log_fn log_fn;
static void *log_user;

void pixab_set_log(pixab_log_fn fn, void *user) {
    log_fn = fn;
    log_user = user;
}

void pixab_log(const char *fmt, ...) {
    if (!log_fn) return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    escape_in_place(line, sizeof line);
    log_fn(line, log_user);
}
