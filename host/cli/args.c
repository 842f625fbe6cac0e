/* args.c — option parsing and the model/engine flags shared by subcommands. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

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

int cli_floats3(const char *flag, const char *value, float v[3]) {
    const char *p = value;
    int n = 0;
    for (; n < 3; n++) {
        char *end;
        errno = 0;
        v[n] = strtof(p, &end);
        if (end == p || errno) break;
        p = end;
        if (*p != ',') { n++; break; }
        p++;
    }
    if (*p || (n != 1 && n != 3)) {
        fprintf(stderr, "pixab: %s: '%s' is not 1 or 3 comma-separated numbers\n", flag, value);
        return -1;
    }
    if (n == 1) v[1] = v[2] = v[0];
    return 0;
}

const char cli_model_help[] =
    "  -w, --weights FILE   Inception-V3 checkpoint (.safetensors, torchvision/timm names)\n"
    "  --device D           cpu, cuda, cuda:K or auto (default: auto)\n"
    "  --batch N            images per forward pass (default 8)\n"
    "  --size S             input size S x S (default: checkpoint metadata, else 299)\n"
    "  --mean a,b,c         normalisation mean (default: checkpoint metadata, else 0.5)\n"
    "  --std a,b,c          normalisation std (default: checkpoint metadata, else 0.5)\n"
    "  -v, --verbose        say which device runs, and timings, on stderr\n";

int cli_model_flag(int argc, char **argv, int *i, cli_model_opts *o) {
    const char *v;
    int r;
    if (!strcmp(argv[*i], "-v") || !strcmp(argv[*i], "--verbose")) return o->verbose = 1;
    if ((r = cli_flag(argc, argv, i, "-w", "--weights", &v))) return r < 0 ? -1 : (o->weights = v, 1);
    if ((r = cli_flag(argc, argv, i, NULL, "--device", &v))) return r < 0 ? -1 : (o->device = v, 1);
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

pixab_engine *cli_create_engine(const pixab_model *m, const cli_model_opts *o) {
    pixab_engine *e;
    if (pixab_engine_create(m, o->device ? o->device : "auto", (int)o->batch, &e)) {
        cli_error(NULL);
        return NULL;
    }
    if (o->verbose) fprintf(stderr, "pixab: running on %s\n", pixab_engine_device(e));
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
