/* model_opts.c — the options of the subcommands that run a model, and the
 * model and engine they make; the target layer by name. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "cli.h"
#include "model_opts.h"
#include "preprocess.cuh"

/* A layer a CAM can be made at: its output has more than one position. */
static int cli_layer_spatial(const pixab_model *m, int l) {
    int c, h, w;
    return !pixab_model_layer_shape(m, l, &c, &h, &w) && h * w > 1;
}

int cli_layer(const char *cmd, const pixab_model *m, const char *name) {
    /* The subcommands' documented default, Inception-V3's Mixed_7c, means the
     * model's own default layer on a model without one of that name (ONNX). */
    int l = !strcmp(name, CLI_DEFAULT_LAYER) && pixab_model_find_layer(m, name) < 0 ? pixab_model_default_layer(m)
                                                                                   : pixab_model_find_layer(m, name);
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

const cli_option cli_model_options[] = {
    {"-w", "--weights", CLI_STRING, offsetof(cli_model_opts, weights), "FILE",
     "Inception-V3 checkpoint (.safetensors, torchvision/timm names)\n"
     "or a CNN classifier in ONNX (.onnx; README.md lists the ops)", 0, 0, NULL},
    {NULL, "--device", CLI_STRING, offsetof(cli_model_opts, device), "D",
     "cpu, cuda, cuda:K or auto (default: auto)", 0, 0, NULL},
    {NULL, "--batch", CLI_INT, offsetof(cli_model_opts, batch), "N",
     "images per forward pass (default 8 on the CPU, 32 on CUDA)", 1, 4096, NULL},
    {NULL, "--size", CLI_INT, offsetof(cli_model_opts, size), "S",
     "input size S x S (default: checkpoint metadata, else 299)", 75, PREPROCESS_MAX_SIZE, NULL},
    {NULL, "--mean", CLI_TRIPLE, offsetof(cli_model_opts, mean), "a,b,c",
     "normalisation mean (default: checkpoint metadata, else 0.5)", 0, 0, NULL},
    {NULL, "--std", CLI_TRIPLE, offsetof(cli_model_opts, std), "a,b,c",
     "normalisation std (default: checkpoint metadata, else 0.5)", 0, 0, NULL},
    {NULL, "--precision", CLI_STRING, offsetof(cli_model_opts, precision), "P",
     "fp32, tf32, fp16 or bf16: arithmetic of the convolutions and GEMMs\n"
     "(default fp32; the others need --device cuda)", 0, 0, NULL},
    {"-v", "--verbose", CLI_FLAG, offsetof(cli_model_opts, verbose), NULL,
     "say which device runs, and timings, on stderr", 0, 0, NULL},
    {0},
};

pixab_model *cli_load_model(const cli_model_opts *o) {
    pixab_model *m;
    if (!o->weights) {
        fprintf(stderr, "pixab: no model given (-w MODEL.safetensors or MODEL.onnx)\n");
        return NULL;
    }
    if (pixab_model_load(o->weights, &m)) {
        cli_error(NULL);
        return NULL;
    }
    pixab_preproc p = *pixab_model_preproc(m);
    if (o->size) p.size = (int)o->size;
    if (o->mean.set) memcpy(p.mean, o->mean.v, sizeof p.mean);
    if (o->std.set) memcpy(p.std, o->std.v, sizeof p.std);
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

/* --batch's default per device: on the CPU 8 amortises the GEMMs of the late
 * 8x8 layers (more gains nothing on a few cores); a GPU needs dozens of
 * images per pass to fill its SMs, and 32 fits an 8 GB card at 299 x 299. */
#define CLI_BATCH_CPU 8
#define CLI_BATCH_CUDA 32

static int default_batch(const char *device) {
    const int cuda = !strcmp(device, "auto") ? pixab_cuda_device_count() > 0 : !strncmp(device, "cuda", 4);
    return cuda ? CLI_BATCH_CUDA : CLI_BATCH_CPU; /* "auto" resolved as the engine resolves it */
}

pixab_engine *cli_create_engine(const pixab_model *m, const cli_model_opts *o) {
    pixab_engine *e;
    const char *device = o->device ? o->device : "auto";
    if (o->verbose) pixab_set_log(log_to_stderr, NULL);
    int precision = o->precision ? pixab_precision_from_name(o->precision) : PIXAB_PRECISION_FP32;
    if (precision < 0) {
        cli_error(NULL);
        return NULL;
    }
    if (pixab_engine_create(m, device, o->batch ? (int)o->batch : default_batch(device), &e)) {
        cli_error(NULL);
        return NULL;
    }
    if (precision != PIXAB_PRECISION_FP32 && cli_set_precision(e, (pixab_precision)precision)) {
        pixab_engine_destroy(e);
        return NULL;
    }
    if (o->verbose)
        fprintf(stderr, "pixab: running on %s, %s, batch %d; CPU kernels: OpenBLAS %s\n", pixab_engine_device(e),
                pixab_precision_name(pixab_engine_precision(e)), pixab_engine_max_batch(e), pixab_cpu_kernels());
    return e;
}
