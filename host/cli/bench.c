/* bench.c — `pixab bench`: images/s of the full forward pass (at the batch size)
 * and of each explanation method (one image, including the body forward the
 * method needs), as one JSON object per precision; medians of --runs after one
 * warm-up. Below fp32 it also reports how far each method's map moves from the
 * fp32 map of the same engine (max |d| and Spearman's rank correlation). */
#include <math.h>
#include <stddef.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "args.h"
#include "cli.h"
#include "commands.h"
#include "model_opts.h"

typedef struct {
    cli_model_opts mo;
    cli_method_list methods; /* -m */
    const char *layer;       /* -l */
    pixab_explain_opts eo;   /* --score, --boxes */
    long runs;               /* --runs */
} bench_args;

static const cli_option bench_options[] = {
    {NULL, NULL, CLI_LINE, 0, "IMAGE",
     "input image (preprocessed as for explain); default: a fixed synthetic input", 0, 0, NULL},
    {"-m", "--method", CLI_METHODS, offsetof(bench_args, methods), "LIST",
     "comma-separated methods, or all (default all)", 0, 0, NULL},
    {NULL, "--methods", CLI_METHODS, offsetof(bench_args, methods), NULL, NULL, 0, 0, NULL},
    {"-l", "--layer", CLI_STRING, offsetof(bench_args, layer), "NAME",
     "target layer of the methods (default Mixed_7c)", 0, 0, NULL},
    {NULL, "--score", CLI_SCORE, offsetof(bench_args, eo.score), "KIND",
     "softmax or logit (default: each method's own)", 0, 0, NULL},
    {NULL, "--boxes", CLI_BOXES, offsetof(bench_args, eo), "LIST",
     "Pixab-CAM boxes HxW (default 1x1,1x2,2x1,2x2)", 0, 0, NULL},
    {NULL, "--runs", CLI_INT, offsetof(bench_args, runs), "N", "timed runs per figure (default 3)", 1, 100000, NULL},
    {NULL, "--precision", CLI_LINE, 0, "LIST",
     "as below, or several (fp32,bf16) or all: one JSON object each", 0, 0, NULL},
    {0},
};

static const cli_command bench_command = {
    "pixab bench",
    "usage: pixab bench -w MODEL [--device D] [--precision P[,P...]|all] [-l LAYER] [--batch N] [-m METHODS]\n"
    "                   [--runs N] [IMAGE]\n"
    "Prints one JSON object per precision: {\"device\", \"precision\", \"model\", \"layer\", \"batch\", \"size\",\n"
    "\"threads\", \"runs\", \"input\", \"date\", \"images_per_s\": {\"forward\": F, \"pixab\": P, ...}}; below fp32\n"
    "also \"agreement_with_fp32\": {METHOD: {\"max_abs_diff\": D, \"spearman\": R}} (maps of the same image).\n"
    "  forward: full forward passes at the batch size, images/s;\n"
    "  each method: pixab explain of one image with that method alone, images/s (its body forward\n"
    "  included); null when this build cannot run the method (also reported on stderr, exit status 1).\n"
    "Each figure is the median of --runs timed runs after one warm-up run.\n",
    NULL,
    {{bench_options, 0}, {cli_model_options, offsetof(bench_args, mo)}},
    1,
};

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *t, int n) {
    qsort(t, (size_t)n, sizeof(double), cmp_double);
    return n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
}

/* Seconds of one forward pass of `batch` inputs; < 0 on failure (printed). */
static double time_forward(pixab_engine *e, const float *x, int batch, float *logits) {
    double t0 = cli_now_s();
    if (pixab_engine_forward(e, x, batch, logits)) {
        cli_error("bench: forward");
        return -1.0;
    }
    return cli_now_s() - t0;
}

/* Seconds of one single-method explanation; < 0 on failure (status in *s).
 * keep (H * W floats, or NULL): the map. */
static double time_method(pixab_engine *e, const float *x, pixab_method method, const pixab_explain_opts *eo,
                          pixab_status *s, float *keep) {
    pixab_map map;
    memset(&map, 0, sizeof map);
    double t0 = cli_now_s();
    *s = pixab_explain(e, x, &method, 1, eo, &map);
    double t = cli_now_s() - t0;
    if (!*s && keep) memcpy(keep, map.map, sizeof(float) * (size_t)map.h * map.w);
    pixab_map_free(&map);
    return *s ? -1.0 : t;
}

/* Ranks of v (n) into r, ties sharing their mean rank. idx: n ints of scratch. */
static const float *rank_keys;
static int cmp_rank(const void *a, const void *b) {
    float x = rank_keys[*(const int *)a], y = rank_keys[*(const int *)b];
    return (x > y) - (x < y);
}
static void ranks(const float *v, int n, int *idx, double *r) {
    for (int i = 0; i < n; i++) idx[i] = i;
    rank_keys = v;
    qsort(idx, (size_t)n, sizeof(int), cmp_rank);
    for (int i = 0; i < n;) {
        int j = i;
        while (j + 1 < n && v[idx[j + 1]] == v[idx[i]]) j++;
        for (int k = i; k <= j; k++) r[idx[k]] = 0.5 * (i + j);
        i = j + 1;
    }
}

/* Spearman's rank correlation of a and b (n); NaN when either is constant. */
static double spearman(const float *a, const float *b, int n) {
    int *idx = malloc(sizeof(int) * (size_t)n);
    double *ra = malloc(sizeof(double) * (size_t)n), *rb = malloc(sizeof(double) * (size_t)n), r = NAN;
    if (idx && ra && rb) {
        ranks(a, n, idx, ra);
        ranks(b, n, idx, rb);
        double ma = 0.0, mb = 0.0, sab = 0.0, saa = 0.0, sbb = 0.0;
        for (int i = 0; i < n; i++) ma += ra[i] / n, mb += rb[i] / n;
        for (int i = 0; i < n; i++) {
            sab += (ra[i] - ma) * (rb[i] - mb);
            saa += (ra[i] - ma) * (ra[i] - ma);
            sbb += (rb[i] - mb) * (rb[i] - mb);
        }
        if (saa > 0.0 && sbb > 0.0) r = sab / sqrt(saa * sbb);
    }
    free(idx), free(ra), free(rb);
    return r;
}

/* Parse --precision: NULL = fp32, "all", or a comma list; -1 (printed) when bad. */
static int parse_precisions(const char *text, int *list, int *n) {
    *n = 0;
    if (!text) return list[(*n)++] = PIXAB_PRECISION_FP32, 0;
    if (!strcmp(text, "all")) {
        for (int p = 0; p < PIXAB_PRECISION_COUNT; p++) list[(*n)++] = p;
        return 0;
    }
    for (const char *p = text;;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char name[16] = "";
        if (len < sizeof name) memcpy(name, p, len), name[len] = '\0';
        int k = pixab_precision_from_name(name);
        if (k < 0 || *n == PIXAB_PRECISION_COUNT) {
            fprintf(stderr, "pixab bench: --precision: '%s' is not fp32, tf32, fp16, bf16 or all\n", text);
            return -1;
        }
        list[(*n)++] = k;
        if (!end) return 0;
        p = end + 1;
    }
}

int cmd_bench(int argc, char **argv) {
    bench_args a = {.mo = {.batch = 8}, .layer = "Mixed_7c", .eo = {.cls = -1}, .runs = 3};
    cli_methods(bench_command.name, "all", &a.methods);
    char **images = calloc((size_t)argc, sizeof(char *));
    int n_images = 0;
    if (!images) return CLI_FATAL;
    int r = cli_parse(&bench_command, argc, argv, &a, images, &n_images);
    const char *image = n_images ? images[0] : NULL;
    if (r > 0 && n_images > 1) {
        fprintf(stderr, "pixab bench: one IMAGE at most ('%s', '%s')\n", images[0], images[1]);
        r = -1;
    }
    free(images);
    if (r <= 0) return r < 0 ? CLI_FATAL : CLI_OK;
    cli_model_opts mo = a.mo;
    const char *layer_name = a.layer;
    const long runs = a.runs;
    pixab_explain_opts eo = a.eo;
    const pixab_method *methods = a.methods.v;
    const int n_methods = a.methods.n;

    int status = CLI_FATAL;
    pixab_model *m = cli_load_model(&mo);
    pixab_engine *e = NULL;
    float *x = NULL, *logits = NULL, *ref = NULL, *cur = NULL;
    double *t = malloc(sizeof(double) * (size_t)runs); /* (runs) seconds */
    double ips[PIXAB_METHOD_COUNT];                    /* images/s per method, NaN: unsupported */
    if (!m || !t) goto done;
    if ((eo.layer = cli_layer("pixab bench", m, layer_name)) < 0) goto done;
    const pixab_preproc *pre = pixab_model_preproc(m);
    const int batch = (int)mo.batch, classes = pixab_model_num_classes(m);
    const size_t floats = (size_t)pre->size * pre->size * 3;
    x = malloc(sizeof(float) * floats * (size_t)batch);
    logits = malloc(sizeof(float) * (size_t)classes * (size_t)batch);
    if (!x || !logits) {
        fprintf(stderr, "pixab bench: out of memory\n");
        goto done;
    }
    if (image) {
        pixab_image img;
        if (pixab_image_load(image, &img)) {
            cli_error(NULL);
            goto done;
        }
        pixab_status s = pixab_image_preprocess(&img, pre, x);
        pixab_image_free(&img);
        if (s) {
            cli_error(image);
            goto done;
        }
    } else {
        /* The same fixed pattern as bench/forward_bench.c, values in [-1, 1). */
        for (size_t i = 0; i < floats; i++) x[i] = (float)((i * 2654435761u) % 1000) / 500.0f - 1.0f;
    }
    for (int b = 1; b < batch; b++) memcpy(x + (size_t)b * floats, x, sizeof(float) * floats);
    int precisions[PIXAB_PRECISION_COUNT], n_prec;
    if (parse_precisions(mo.precision, precisions, &n_prec)) goto done;
    mo.precision = NULL; /* created at fp32; switched below */
    if (!(e = cli_create_engine(m, &mo))) goto done;
    int L_c, L_h, L_w, unsupported = 0, any_below = 0;
    pixab_model_layer_shape(m, eo.layer, &L_c, &L_h, &L_w);
    for (int p = 0; p < n_prec; p++) any_below |= precisions[p] != PIXAB_PRECISION_FP32;
    const size_t hw = (size_t)L_h * L_w;
    /* (n_methods, H, W): fp32 maps (the reference) and the current precision's */
    ref = calloc((size_t)n_methods * hw, sizeof(float)), cur = calloc((size_t)n_methods * hw, sizeof(float));
    if (!ref || !cur) {
        fprintf(stderr, "pixab bench: out of memory\n");
        goto done;
    }
    for (int p = 0; p <= n_prec; p++) /* every precision asked for is there (then back to fp32) */
        if (cli_set_precision(e, p < n_prec ? (pixab_precision)precisions[p] : PIXAB_PRECISION_FP32)) goto done;
    if (any_below) /* the fp32 maps of every method, before any switch */
        for (int j = 0; j < n_methods; j++) {
            pixab_status s;
            if (time_method(e, x, methods[j], &eo, &s, ref + j * hw) < 0 && s != PIXAB_ERR_UNSUPPORTED) {
                fprintf(stderr, "pixab bench: %s: %s\n", pixab_method_name(methods[j]), pixab_last_error());
                goto done;
            }
        }
    for (int pi = 0; pi < n_prec; pi++) {
        const pixab_precision prec = (pixab_precision)precisions[pi];
        if (cli_set_precision(e, prec)) goto done;
        double fwd;
        if (time_forward(e, x, batch, logits) < 0) goto done; /* warm-up */
        for (int k = 0; k < runs; k++)
            if ((t[k] = time_forward(e, x, batch, logits)) < 0) goto done;
        fwd = batch / median(t, (int)runs);
        if (mo.verbose) fprintf(stderr, "pixab bench: %s forward %.3f images/s\n", pixab_precision_name(prec), fwd);

        for (int j = 0; j < n_methods; j++) {
            pixab_status s;
            ips[j] = NAN;
            if (time_method(e, x, methods[j], &eo, &s, cur + j * hw) < 0) { /* warm-up, and the map */
                if (s != PIXAB_ERR_UNSUPPORTED) {
                    fprintf(stderr, "pixab bench: %s: %s\n", pixab_method_name(methods[j]), pixab_last_error());
                    goto done;
                }
                fprintf(stderr, "pixab bench: %s: %s (reported as null)\n", pixab_method_name(methods[j]),
                        pixab_last_error());
                unsupported++;
                continue;
            }
            for (int k = 0; k < runs; k++)
                if ((t[k] = time_method(e, x, methods[j], &eo, &s, NULL)) < 0) {
                    fprintf(stderr, "pixab bench: %s: %s\n", pixab_method_name(methods[j]), pixab_last_error());
                    goto done;
                }
            ips[j] = 1.0 / median(t, (int)runs);
            if (mo.verbose)
                fprintf(stderr, "pixab bench: %s %s %.3f images/s\n", pixab_precision_name(prec),
                        pixab_method_name(methods[j]), ips[j]);
        }

        char date[32];
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", &tm);
        printf("{\"device\":");
        cli_json_string(stdout, pixab_engine_device(e));
        printf(",\"precision\":\"%s\",\"model\":", pixab_precision_name(prec));
        cli_json_string(stdout, mo.weights);
        printf(",\"layer\":");
        cli_json_string(stdout, layer_name);
        printf(",\"batch\":%d,\"size\":%d,\"threads\":%d,\"runs\":%ld,\"input\":", batch, pre->size,
               omp_get_max_threads(), runs);
        cli_json_string(stdout, image ? image : "synthetic");
        printf(",\"date\":\"%s\",\"images_per_s\":{\"forward\":%.4g", date, fwd);
        for (int j = 0; j < n_methods; j++) {
            printf(",\"%s\":", pixab_method_name(methods[j]));
            if (isnan(ips[j]))
                printf("null");
            else
                printf("%.4g", ips[j]);
        }
        printf("}");
        if (prec != PIXAB_PRECISION_FP32) {
            printf(",\"agreement_with_fp32\":{");
            for (int j = 0, first = 1; j < n_methods; j++) {
                if (isnan(ips[j])) continue;
                double d = 0.0, rho = spearman(ref + j * hw, cur + j * hw, (int)hw);
                for (size_t i = 0; i < hw; i++) d = fmax(d, fabs((double)ref[j * hw + i] - cur[j * hw + i]));
                printf("%s\"%s\":{\"max_abs_diff\":%.4g,\"spearman\":", first ? "" : ",",
                       pixab_method_name(methods[j]), d);
                if (isnan(rho))
                    printf("null}");
                else
                    printf("%.6f}", rho);
                first = 0;
            }
            printf("}");
        }
        printf("}\n");
    }
    status = fflush(stdout) ? CLI_FATAL : unsupported ? CLI_PARTIAL : CLI_OK;
done:
    free(t);
    free(x);
    free(logits);
    free(ref);
    free(cur);
    pixab_engine_destroy(e);
    pixab_model_free(m);
    return status;
}
