/* args.c — the command line of a subcommand: flags and their values. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "cli.h"

/* "pixab, ablation, ..." for error messages. */
static void cli_method_list(char *buf, size_t cap) {
    size_t used = 0;
    buf[0] = '\0';
    for (int k = 0; k < PIXAB_METHOD_COUNT && used < cap; k++)
        used += (size_t)snprintf(buf + used, cap - used, "%s%s", k ? ", " : "", pixab_method_name((pixab_method)k));
}

/* Append method k unless it is there already. */
static void cli_method_add(pixab_method *methods, int *n, int k) {
    for (int i = 0; i < *n; i++)
        if (methods[i] == (pixab_method)k) return;
    methods[(*n)++] = (pixab_method)k;
}

int cli_methods(const char *cmd, const char *text, pixab_method *methods, int *n) {
    *n = 0;
    for (const char *p = text;;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char name[64] = "";
        if (len < sizeof name) memcpy(name, p, len), name[len] = '\0';
        if (!strcmp(name, "all")) { /* every method, in the enum's order */
            for (int k = 0; k < PIXAB_METHOD_COUNT; k++) cli_method_add(methods, n, k);
        } else {
            int k = name[0] ? pixab_method_from_name(name) : -1;
            if (k < 0) {
                char list[256];
                cli_method_list(list, sizeof list);
                fprintf(stderr, "%s: unknown method '%.*s' (methods: %s, or all)\n", cmd, (int)(len < 64 ? len : 64),
                        p, list);
                return -1;
            }
            cli_method_add(methods, n, k);
        }
        if (!end) return 0;
        p = end + 1;
    }
}

int cli_flag(int argc, char **argv, int *i, const char *short_name, const char *long_name, const char **value) {
    const char *a = argv[*i];
    size_t n = long_name ? strlen(long_name) : 0;
    if (long_name && !strncmp(a, long_name, n) && a[n] == '=') {
        *value = a + n + 1;
        return 1;
    }
    if (!((short_name && !strcmp(a, short_name)) || (long_name && !strcmp(a, long_name)))) return 0;
    if (*i + 1 >= argc) {
        fprintf(stderr, "pixab: option %s needs a value\n", a);
        return -1;
    }
    *value = argv[++*i];
    return 1;
}

int cli_int(const char *flag, const char *value, long lo, long hi, long *out) {
    char *end;
    errno = 0;
    long v = strtol(value, &end, 10);
    if (end == value || *end || errno || v < lo || v > hi) {
        fprintf(stderr, "pixab: %s: '%s' is not an integer in [%ld, %ld]\n", flag, value, lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

int cli_size(const char *flag, const char *value, size_t *out) {
    char *end;
    errno = 0;
    double v = value[0] >= '0' && value[0] <= '9' ? strtod(value, &end) : -1.0;
    int shift = 0;
    if (v >= 0.0 && !errno) {
        const char *units = "KMGT", *u = *end ? strchr(units, *end & ~0x20) : NULL;
        if (u && *end) shift = 10 * (int)(u - units + 1), end++;
        if ((*end & ~0x20) == 'I' && shift) end++;
        if ((*end & ~0x20) == 'B') end++;
        double bytes = v * (double)(1ULL << shift);
        if (!*end && bytes >= 1.0 && bytes <= (double)(1ULL << 50)) {
            *out = (size_t)bytes;
            return 0;
        }
    }
    fprintf(stderr, "pixab: %s: '%s' is not a memory size such as 512M or 2G (bytes, K, M, G, T; at most 1P)\n", flag,
            value);
    return -1;
}

int cli_floats3(const char *flag, const char *value, float v[3]) {
    if (!pixab_parse_triple(flag, value, v)) return 0;
    cli_error(NULL);
    return -1;
}

int cli_score(const char *cmd, const char *text, pixab_score *out) {
    int s = pixab_score_from_name(text);
    if (s < 0) {
        fprintf(stderr, "%s: --score: %s\n", cmd, pixab_last_error());
        return -1;
    }
    *out = (pixab_score)s;
    return 0;
}
