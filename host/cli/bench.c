/* bench.c — `pixab bench`: images/s of the full forward pass (at the batch size)
 * and of each explanation method (one image, including the body forward the
 * method needs), as one JSON object per precision; medians of --runs after one
 * warm-up. Below fp32 it also reports how far each method's map moves from the
 * fp32 map of the same engine (max |d| and Spearman's rank correlation).
 * A run goes parse → plan → run → report: bench_parse, bench_plan,
 * run_reference and run_precision, bench_report. */
#include <math.h>
#include <stddef.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "args.h"
#include "cli.h"
#include "commands.h"
#include "json.h"
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
     "target layer of the methods (default Mixed_7c;\nONNX: the last spatial layer before global pooling)", 0, 0, NULL},
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

/* ---- a run ---------------------------------------------------------------------- */

/* Everything a run holds. */
typedef struct {
    bench_args a;
    const char *image;  /* IMAGE, or NULL: the synthetic input */
    pixab_model *m;
    pixab_engine *e;
    int batch;
    float *x;           /* (batch, S, S, 3) the input, once per batch slot */
    float *logits;      /* (batch, classes) */
    size_t hw;          /* H * W of the layer */
    float *ref, *cur;   /* (n_methods, H, W) the fp32 maps, the current precision's */
    double *t;          /* (runs) seconds of the timed runs */
    int precisions[PIXAB_PRECISION_COUNT], n_prec;
    int unsupported;    /* methods reported as null */
} bench_run;

/* The figures of one precision. */
typedef struct {
    pixab_precision prec;
    double forward;                 /* images/s */
    double ips[PIXAB_METHOD_COUNT]; /* images/s per method; NaN: unsupported */
} bench_figures;

static int bench_out_of_memory(void) {
    fprintf(stderr, "pixab bench: out of memory\n");
    return -1;
}

/* The arguments into r (zeroed first). Returns 1 when parsed, 0 after --help,
 * -1 on a usage error (printed). */
static int bench_parse(int argc, char **argv, bench_run *r) {
    *r = (bench_run){.a = {.layer = "Mixed_7c", .eo = {.cls = -1}, .runs = 3}};
    cli_methods(bench_command.name, "all", &r->a.methods);
    char **images = calloc((size_t)argc, sizeof(char *));
    int n_images = 0;
    if (!images) return bench_out_of_memory();
    int rc = cli_parse(&bench_command, argc, argv, &r->a, images, &n_images);
    r->image = n_images ? images[0] : NULL;
    if (rc > 0 && n_images > 1) {
        fprintf(stderr, "pixab bench: one IMAGE at most ('%s', '%s')\n", images[0], images[1]);
        rc = -1;
    }
    free(images);
    return rc;
}

/* ---- plan ------------------------------------------------------------------------ */

/* IMAGE, or a fixed pattern, preprocessed into every batch slot of r->x. */
static int plan_input(bench_run *r) {
    const pixab_preproc *pre = pixab_model_preproc(r->m);
    const size_t floats = (size_t)pre->size * pre->size * 3;
    if (r->image) {
        pixab_image img;
        if (pixab_image_load(r->image, &img)) return cli_error(NULL), -1;
        pixab_status s = pixab_image_preprocess(&img, pre, r->x);
        pixab_image_free(&img);
        if (s) return cli_error(r->image), -1;
    } else {
        /* The same fixed pattern as bench/forward_bench.c, values in [-1, 1). */
        for (size_t i = 0; i < floats; i++) r->x[i] = (float)((i * 2654435761u) % 1000) / 500.0f - 1.0f;
    }
    for (int b = 1; b < r->batch; b++) memcpy(r->x + (size_t)b * floats, r->x, sizeof(float) * floats);
    return 0;
}

/* The model, the layer, the input, the precisions, the engine (at fp32, each
 * precision asked for checked once) and the buffers. */
static int bench_plan(bench_run *r) {
    bench_args *a = &r->a;
    if (!(r->m = cli_load_model(&a->mo))) return -1;
    if (!(r->t = malloc(sizeof(double) * (size_t)a->runs))) return -1;
    if ((a->eo.layer = cli_layer(bench_command.name, r->m, a->layer)) < 0) return -1;
    const int S = pixab_model_preproc(r->m)->size, classes = pixab_model_num_classes(r->m);
    if (parse_precisions(a->mo.precision, r->precisions, &r->n_prec)) return -1;
    a->mo.precision = NULL; /* created at fp32; switched per precision */
    if (!(r->e = cli_create_engine(r->m, &a->mo))) return -1;
    r->batch = pixab_engine_max_batch(r->e);
    r->x = malloc(sizeof(float) * (size_t)S * S * 3 * (size_t)r->batch);
    r->logits = malloc(sizeof(float) * (size_t)classes * (size_t)r->batch);
    if (!r->x || !r->logits) return bench_out_of_memory();
    if (plan_input(r)) return -1;
    int L_c, L_h, L_w;
    pixab_model_layer_shape(r->m, a->eo.layer, &L_c, &L_h, &L_w);
    r->hw = (size_t)L_h * L_w;
    r->ref = calloc((size_t)a->methods.n * r->hw, sizeof(float));
    r->cur = calloc((size_t)a->methods.n * r->hw, sizeof(float));
    if (!r->ref || !r->cur) return bench_out_of_memory();
    for (int p = 0; p <= r->n_prec; p++) /* every precision asked for is there (then back to fp32) */
        if (cli_set_precision(r->e, p < r->n_prec ? (pixab_precision)r->precisions[p] : PIXAB_PRECISION_FP32))
            return -1;
    return 0;
}

/* ---- run ------------------------------------------------------------------------- */

/* Method j at the current precision, its map into r->cur: images/s, NaN when
 * the build cannot run it (reported). -1 on a failure (printed). */
static int run_method(bench_run *r, int j, double *ips) {
    const pixab_method method = r->a.methods.v[j];
    pixab_status s;
    *ips = NAN;
    if (time_method(r->e, r->x, method, &r->a.eo, &s, r->cur + j * r->hw) < 0) { /* warm-up, and the map */
        if (s != PIXAB_ERR_UNSUPPORTED) goto failed;
        fprintf(stderr, "pixab bench: %s: %s (reported as null)\n", pixab_method_name(method), pixab_last_error());
        r->unsupported++;
        return 0;
    }
    for (int k = 0; k < r->a.runs; k++)
        if ((r->t[k] = time_method(r->e, r->x, method, &r->a.eo, &s, NULL)) < 0) goto failed;
    *ips = 1.0 / median(r->t, (int)r->a.runs);
    return 0;
failed:
    fprintf(stderr, "pixab bench: %s: %s\n", pixab_method_name(method), pixab_last_error());
    return -1;
}

/* The fp32 map of every method, before any switch, when a precision below it is asked for. */
static int run_reference(bench_run *r) {
    int below = 0;
    for (int p = 0; p < r->n_prec; p++) below |= r->precisions[p] != PIXAB_PRECISION_FP32;
    for (int j = 0; below && j < r->a.methods.n; j++) {
        pixab_status s;
        if (time_method(r->e, r->x, r->a.methods.v[j], &r->a.eo, &s, r->ref + j * r->hw) < 0 &&
            s != PIXAB_ERR_UNSUPPORTED) {
            fprintf(stderr, "pixab bench: %s: %s\n", pixab_method_name(r->a.methods.v[j]), pixab_last_error());
            return -1;
        }
    }
    return 0;
}

/* The figures of precision f->prec: the forward pass at the batch size, then each method. */
static int run_precision(bench_run *r, bench_figures *f) {
    const char *prec = pixab_precision_name(f->prec);
    if (cli_set_precision(r->e, f->prec)) return -1;
    if (time_forward(r->e, r->x, r->batch, r->logits) < 0) return -1; /* warm-up */
    for (int k = 0; k < r->a.runs; k++)
        if ((r->t[k] = time_forward(r->e, r->x, r->batch, r->logits)) < 0) return -1;
    f->forward = r->batch / median(r->t, (int)r->a.runs);
    if (r->a.mo.verbose) fprintf(stderr, "pixab bench: %s forward %.3f images/s\n", prec, f->forward);
    for (int j = 0; j < r->a.methods.n; j++) {
        if (run_method(r, j, &f->ips[j])) return -1;
        if (r->a.mo.verbose && !isnan(f->ips[j]))
            fprintf(stderr, "pixab bench: %s %s %.3f images/s\n", prec, pixab_method_name(r->a.methods.v[j]),
                    f->ips[j]);
    }
    return 0;
}

/* ---- report ---------------------------------------------------------------------- */

/* "agreement_with_fp32": each method's map against its fp32 map. */
static void report_agreement(const bench_run *r, const bench_figures *f) {
    const size_t hw = r->hw;
    printf(",\"agreement_with_fp32\":{");
    for (int j = 0, first = 1; j < r->a.methods.n; j++) {
        if (isnan(f->ips[j])) continue;
        const float *ref = r->ref + j * hw, *cur = r->cur + j * hw;
        double d = 0.0, rho = spearman(ref, cur, (int)hw);
        for (size_t i = 0; i < hw; i++) d = fmax(d, fabs((double)ref[i] - cur[i]));
        printf("%s\"%s\":{\"max_abs_diff\":%.4g,\"spearman\":", first ? "" : ",",
               pixab_method_name(r->a.methods.v[j]), d);
        if (isnan(rho))
            printf("null}");
        else
            printf("%.6f}", rho);
        first = 0;
    }
    printf("}");
}

/* One JSON object for the figures of one precision. */
static void bench_report(const bench_run *r, const bench_figures *f) {
    const bench_args *a = &r->a;
    char date[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", &tm);
    printf("{\"device\":");
    json_write_string(stdout, pixab_engine_device(r->e));
    printf(",\"precision\":\"%s\",\"model\":", pixab_precision_name(f->prec));
    json_write_string(stdout, a->mo.weights);
    printf(",\"layer\":"); /* its name in the model (-l left out on ONNX: the model's default) */
    json_write_string(stdout, pixab_model_layer_name(r->m, a->eo.layer));
    printf(",\"batch\":%d,\"size\":%d,\"threads\":%d,\"runs\":%ld,\"input\":", r->batch,
           pixab_model_preproc(r->m)->size, omp_get_max_threads(), a->runs);
    json_write_string(stdout, r->image ? r->image : "synthetic");
    printf(",\"date\":\"%s\",\"images_per_s\":{\"forward\":%.4g", date, f->forward);
    for (int j = 0; j < a->methods.n; j++) {
        printf(",\"%s\":", pixab_method_name(a->methods.v[j]));
        if (isnan(f->ips[j]))
            printf("null");
        else
            printf("%.4g", f->ips[j]);
    }
    printf("}");
    if (f->prec != PIXAB_PRECISION_FP32) report_agreement(r, f);
    printf("}\n");
}

static int bench_finish(bench_run *r, int status) {
    free(r->t);
    free(r->x);
    free(r->logits);
    free(r->ref);
    free(r->cur);
    pixab_engine_destroy(r->e);
    pixab_model_free(r->m);
    return status;
}

int cmd_bench(int argc, char **argv) {
    bench_run r;
    int rc = bench_parse(argc, argv, &r);
    if (rc <= 0) return bench_finish(&r, rc < 0 ? CLI_FATAL : CLI_OK);
    if (bench_plan(&r) || run_reference(&r)) return bench_finish(&r, CLI_FATAL);
    for (int p = 0; p < r.n_prec; p++) {
        bench_figures f = {.prec = (pixab_precision)r.precisions[p]};
        if (run_precision(&r, &f)) return bench_finish(&r, CLI_FATAL);
        bench_report(&r, &f);
    }
    return bench_finish(&r, fflush(stdout) ? CLI_FATAL : r.unsupported ? CLI_PARTIAL : CLI_OK);
}
