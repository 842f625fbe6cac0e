/* args.c — option parsing and the model/engine flags shared by subcommands. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

double cli_now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

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

/* A layer a CAM can be made at: its output has more than one position. */
static int cli_layer_spatial(const pixab_model *m, int l) {
    int c, h, w;
    return !pixab_model_layer_shape(m, l, &c, &h, &w) && h * w > 1;
}

int cli_layer(const char *cmd, const pixab_model *m, const char *name) {
    int l = pixab_model_find_layer(m, name);
    if (l >= 0 && cli_layer_spatial(m, l)) return l;
    size_t cap = 64, used = 0;
    for (int k = 0; k < pixab_model_num_layers(m); k++) cap += strlen(pixab_model_layer_name(m, k)) + 2;
    char *list = malloc(cap);
    if (list) {
        list[0] = '\0';
        for (int k = 0; k < pixab_model_num_layers(m); k++)
            if (cli_layer_spatial(m, k))
                used += (size_t)snprintf(list + used, cap - used, "%s%s", used ? ", " : "", pixab_model_layer_name(m, k));
    }
    if (l < 0)
        fprintf(stderr, "%s: unknown layer '%s' (layers: %s)\n", cmd, name, list ? list : "?");
    else
        fprintf(stderr, "%s: layer '%s' has no spatial extent at this input size (layers: %s)\n", cmd, name,
                list ? list : "?");
    free(list);
    return -1;
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

const char cli_model_help[] =
    "  -w, --weights FILE   Inception-V3 checkpoint (.safetensors, torchvision/timm names)\n"
    "  --device D           cpu, cuda, cuda:K or auto (default: auto)\n"
    "  --batch N            images per forward pass (default 8)\n"
    "  --size S             input size S x S (default: checkpoint metadata, else 299)\n"
    "  --mean a,b,c         normalisation mean (default: checkpoint metadata, else 0.5)\n"
    "  --std a,b,c          normalisation std (default: checkpoint metadata, else 0.5)\n"
    "  --precision P        fp32, tf32, fp16 or bf16: arithmetic of the convolutions and GEMMs\n"
    "                       (default fp32; the others need --device cuda)\n"
    "  -v, --verbose        say which device runs, and timings, on stderr\n";

int cli_model_flag(int argc, char **argv, int *i, cli_model_opts *o) {
    const char *v;
    int r;
    if (!strcmp(argv[*i], "-v") || !strcmp(argv[*i], "--verbose")) return o->verbose = 1;
    if ((r = cli_flag(argc, argv, i, "-w", "--weights", &v))) return r < 0 ? -1 : (o->weights = v, 1);
    if ((r = cli_flag(argc, argv, i, NULL, "--device", &v))) return r < 0 ? -1 : (o->device = v, 1);
    if ((r = cli_flag(argc, argv, i, NULL, "--precision", &v))) return r < 0 ? -1 : (o->precision = v, 1);
    if ((r = cli_flag(argc, argv, i, NULL, "--batch", &v)))
        return r < 0 || cli_int("--batch", v, 1, 4096, &o->batch) ? -1 : 1;
    if ((r = cli_flag(argc, argv, i, NULL, "--size", &v)))
        return r < 0 || cli_int("--size", v, 75, PIXAB_IMAGE_MAX_SIDE, &o->size) ? -1 : 1;
    if ((r = cli_flag(argc, argv, i, NULL, "--mean", &v)))
        return r < 0 || cli_floats3("--mean", v, o->mean) ? -1 : (o->have_mean = 1);
    if ((r = cli_flag(argc, argv, i, NULL, "--std", &v)))
        return r < 0 || cli_floats3("--std", v, o->std) ? -1 : (o->have_std = 1);
    return 0;
}

void cli_error(const char *context) {
    if (context)
        fprintf(stderr, "pixab: %s: %s\n", context, pixab_last_error());
    else
        fprintf(stderr, "pixab: %s\n", pixab_last_error());
}

pixab_model *cli_load_model(const cli_model_opts *o) {
    pixab_model *m;
    if (!o->weights) {
        fprintf(stderr, "pixab: no model given (-w MODEL.safetensors)\n");
        return NULL;
    }
    if (pixab_model_load(o->weights, &m)) {
        cli_error(NULL);
        return NULL;
    }
    pixab_preproc p = *pixab_model_preproc(m);
    if (o->size) p.size = (int)o->size;
    if (o->have_mean) memcpy(p.mean, o->mean, sizeof p.mean);
    if (o->have_std) memcpy(p.std, o->std, sizeof p.std);
    if (pixab_model_set_preproc(m, &p)) {
        cli_error(NULL);
        pixab_model_free(m);
        return NULL;
    }
    return m;
}

/* -v: the library's diagnostics (algorithms chosen, fallbacks) on stderr. */
static void log_to_stderr(const char *line, void *user) {
    (void)user;
    fprintf(stderr, "pixab: %s\n", line);
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

int cli_set_precision(pixab_engine *e, pixab_precision p) {
    pixab_status s = pixab_engine_set_precision(e, p);
    if (!s) return 0;
    if (s == PIXAB_ERR_UNSUPPORTED && !strcmp(pixab_engine_device(e), "cpu"))
        fprintf(stderr, "pixab: --precision %s needs --device cuda (the CPU backend is fp32 only)\n",
                pixab_precision_name(p));
    else
        cli_error(NULL);
    return -1;
}

pixab_engine *cli_create_engine(const pixab_model *m, const cli_model_opts *o) {
    pixab_engine *e;
    if (o->verbose) pixab_set_log(log_to_stderr, NULL);
    int precision = o->precision ? pixab_precision_from_name(o->precision) : PIXAB_PRECISION_FP32;
    if (precision < 0) {
        cli_error(NULL);
        return NULL;
    }
    if (pixab_engine_create(m, o->device ? o->device : "auto", (int)o->batch, &e)) {
        cli_error(NULL);
        return NULL;
    }
    if (precision != PIXAB_PRECISION_FP32 && cli_set_precision(e, (pixab_precision)precision)) {
        pixab_engine_destroy(e);
        return NULL;
    }
    if (o->verbose)
        fprintf(stderr, "pixab: running on %s, %s\n", pixab_engine_device(e),
                pixab_precision_name(pixab_engine_precision(e)));
    return e;
}

void cli_json_string(FILE *f, const char *s) {
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p == '\n')
            fputs("\\n", f);
        else if (*p == '\t')
            fputs("\\t", f);
        else if (*p < 0x20)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}
