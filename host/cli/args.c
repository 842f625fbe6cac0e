/* args.c — the command line of a subcommand: one parser that walks argv with
 * the command's option tables, the help printed from them, and the value
 * parsers behind the kinds of option. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "cli.h"

/* "pixab, ablation, ..." for error messages. */
static void method_names(char *buf, size_t cap) {
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

int cli_methods(const char *cmd, const char *text, cli_method_list *l) {
    pixab_method *methods = l->v;
    int *n = &l->n;
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
                method_names(list, sizeof list);
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

/* ---- the parser ------------------------------------------------------------------ */

/* The name an option's value messages use: "-n" for "-n, --count". */
static const char *option_flag(const cli_option *o) { return o->short_name ? o->short_name : o->long_name; }

/* The value of option o into dst; -1 after printing why it is bad. */
static int option_set(const char *cmd, const cli_option *o, void *dst, const char *value) {
    switch (o->kind) {
    case CLI_FLAG: *(int *)dst = 1; return 0;
    case CLI_STRING: *(const char **)dst = value; return 0;
    case CLI_INT: return cli_int(option_flag(o), value, o->lo, o->hi, dst);
    case CLI_SIZE: return cli_size(option_flag(o), value, dst);
    case CLI_TRIPLE: {
        cli_triple *t = dst;
        if (cli_floats3(option_flag(o), value, t->v)) return -1;
        t->set = 1;
        return 0;
    }
    case CLI_SCORE: return cli_score(cmd, value, dst);
    case CLI_METHODS: return cli_methods(cmd, value, dst);
    case CLI_BOXES: {
        if (!pixab_parse_boxes(value, dst)) return 0;
        char context[64]; /* "explain: --boxes" */
        const char *word = strrchr(cmd, ' ');
        snprintf(context, sizeof context, "%s: %s", word ? word + 1 : cmd, option_flag(o));
        cli_error(context);
        return -1;
    }
    case CLI_CUSTOM: return o->parse(cmd, value, dst);
    default: return 0;
    }
}

/* The option of c that argument a names, and where its value goes (*dst) and
 * comes from (*value: after '=' in "--long=VALUE", else NULL); NULL if none. */
static const cli_option *option_find(const cli_command *c, void *opts, const char *a, void **dst,
                                     const char **value) {
    for (int t = 0; t < 2; t++)
        for (const cli_option *o = c->tables[t].options; o && o->kind != CLI_END; o++) {
            if (o->kind == CLI_LINE) continue;
            size_t n = o->long_name ? strlen(o->long_name) : 0;
            *value = NULL;
            if (o->kind != CLI_FLAG && n && !strncmp(a, o->long_name, n) && a[n] == '=')
                *value = a + n + 1;
            else if (!(o->short_name && !strcmp(a, o->short_name)) && !(n && !strcmp(a, o->long_name)))
                continue;
            *dst = (char *)opts + c->tables[t].at + o->at;
            return o;
        }
    return NULL;
}

int cli_parse(const cli_command *c, int argc, char **argv, void *opts, char **args, int *n_args) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *value;
        void *dst;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            cli_usage(c, stdout);
            return 0;
        }
        const cli_option *o = option_find(c, opts, a, &dst, &value);
        if (o) {
            if (o->kind != CLI_FLAG && !value) {
                if (i + 1 >= argc) {
                    fprintf(stderr, "pixab: option %s needs a value\n", a);
                    return -1;
                }
                value = argv[++i];
            }
            if (option_set(c->name, o, dst, value)) return -1;
        } else if (c->takes_args && !strcmp(a, "--")) {
            while (++i < argc) args[(*n_args)++] = argv[i];
        } else if (c->takes_args && !(a[0] == '-' && a[1])) {
            args[(*n_args)++] = argv[i];
        } else {
            fprintf(stderr, "%s: %s '%s' (see %s --help)\n", c->name,
                    c->takes_args ? "unknown option" : "unexpected argument", a, c->name);
            return -1;
        }
    }
    return 1;
}

/* ---- the help ------------------------------------------------------------------- */

/* "  -w, --weights FILE   help", the help's further lines under its first. */
static void usage_option(const cli_option *o, FILE *f) {
    enum { NAMES_W = 21 };
    const char *s = o->short_name, *l = o->long_name, *meta = o->meta;
    char names[64];
    snprintf(names, sizeof names, "%s%s%s%s%s", s ? s : "", s && l ? ", " : "", l ? l : "",
             meta && (s || l) ? " " : "", meta ? meta : "");
    fprintf(f, "  %-*s", NAMES_W, names);
    for (const char *p = o->help;;) {
        const char *nl = strchr(p, '\n');
        fprintf(f, "%.*s\n", (int)(nl ? nl - p : (long)strlen(p)), p);
        if (!nl) break;
        fprintf(f, "  %*s", NAMES_W, "");
        p = nl + 1;
    }
}

void cli_usage(const cli_command *c, FILE *f) {
    fputs(c->synopsis, f);
    for (int t = 0; t < 2; t++)
        for (const cli_option *o = c->tables[t].options; o && o->kind != CLI_END; o++)
            if (o->help) usage_option(o, f);
    if (c->epilogue) fputs(c->epilogue, f);
}

int cli_wsol_threshold(const char *cmd, const char *value, void *dst) {
    char *end;
    errno = 0;
    double v = strtod(value, &end);
    if (end == value || *end || errno || !(v >= 0.0 && v <= 1.0)) {
        fprintf(stderr, "%s: --wsol-threshold: '%s' is not a number in [0, 1]\n", cmd, value);
        return -1;
    }
    *(float *)dst = (float)v;
    return 0;
}
