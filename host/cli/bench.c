/* bench.c — `pixab bench`: images/s of the full forward pass (at the batch size)
 * and of each explanation method (one image, including the body forward the
 * method needs), as one JSON object; medians of --runs after one warm-up. */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

static const char usage[] =
    "usage: pixab bench -w MODEL [--device D] [-l LAYER] [--batch N] [-m METHODS] [--runs N] [IMAGE]\n"
    "Prints one JSON object: {\"device\", \"model\", \"layer\", \"batch\", \"size\", \"threads\", \"runs\",\n"
    "\"input\", \"date\", \"images_per_s\": {\"forward\": F, \"pixab\": P, ...}}\n"
    "  forward: full forward passes at the batch size, images/s;\n"
    "  each method: pixab explain of one image with that method alone, images/s (its body forward\n"
    "  included); null when this build cannot run the method (also reported on stderr, exit status 1).\n"
    "Each figure is the median of --runs timed runs after one warm-up run.\n"
    "  IMAGE                input image (preprocessed as for explain); default: a fixed synthetic input\n"
    "  -m, --method LIST    comma-separated methods, or all (default all)\n"
    "  -l, --layer NAME     target layer of the methods (default Mixed_7c)\n"
    "  --score KIND         softmax or logit (default: each method's own)\n"
    "  --boxes LIST         Pixab-CAM boxes HxW (default 1x1,1x2,2x1,2x2)\n"
    "  --runs N             timed runs per figure (default 3)\n"
    "%s";

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

/* Seconds of one single-method explanation; < 0 on failure (status in *s). */
static double time_method(pixab_engine *e, const float *x, pixab_method method, const pixab_explain_opts *eo,
                          pixab_status *s) {
    pixab_map map;
    memset(&map, 0, sizeof map);
    double t0 = cli_now_s();
    *s = pixab_explain(e, x, &method, 1, eo, &map);
    double t = cli_now_s() - t0;
    pixab_map_free(&map);
    return *s ? -1.0 : t;
}

int cmd_bench(int argc, char **argv) {
    cli_model_opts mo = {.batch = 8};
    const char *layer_name = "Mixed_7c", *methods_text = "all", *image = NULL, *score = NULL, *boxes = NULL, *v;
    long runs = 3;
    int r;
    pixab_explain_opts eo;
    memset(&eo, 0, sizeof eo);
    eo.cls = -1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            printf(usage, cli_model_help);
            return CLI_OK;
        }
        if ((r = cli_model_flag(argc, argv, &i, &mo))) {
            if (r < 0) return CLI_FATAL;
        } else if ((r = cli_flag(argc, argv, &i, "-m", "--method", &v)) ||
                   (r = cli_flag(argc, argv, &i, NULL, "--methods", &v))) {
            if (r < 0) return CLI_FATAL;
            methods_text = v;
        } else if ((r = cli_flag(argc, argv, &i, "-l", "--layer", &v))) {
            if (r < 0) return CLI_FATAL;
            layer_name = v;
        } else if ((r = cli_flag(argc, argv, &i, NULL, "--score", &v))) {
            if (r < 0) return CLI_FATAL;
            score = v;
        } else if ((r = cli_flag(argc, argv, &i, NULL, "--boxes", &v))) {
            if (r < 0) return CLI_FATAL;
            boxes = v;
        } else if ((r = cli_flag(argc, argv, &i, NULL, "--runs", &v))) {
            if (r < 0 || cli_int("--runs", v, 1, 100000, &runs)) return CLI_FATAL;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "pixab bench: unknown option '%s' (see pixab bench --help)\n", argv[i]);
            return CLI_FATAL;
        } else if (image) {
            fprintf(stderr, "pixab bench: one IMAGE at most ('%s', '%s')\n", image, argv[i]);
            return CLI_FATAL;
        } else {
            image = argv[i];
        }
    }
    pixab_method methods[PIXAB_METHOD_COUNT];
    int n_methods;
    if (cli_methods("pixab bench", methods_text, methods, &n_methods)) return CLI_FATAL;
    if (score) {
        if (!strcmp(score, "softmax") || !strcmp(score, "logit")) {
            eo.score = !strcmp(score, "softmax") ? PIXAB_SCORE_SOFTMAX : PIXAB_SCORE_LOGIT;
        } else {
            fprintf(stderr, "pixab bench: --score: '%s' is not softmax or logit\n", score);
            return CLI_FATAL;
        }
    }
    if (boxes && pixab_parse_boxes(boxes, &eo)) {
        cli_error("bench: --boxes");
        return CLI_FATAL;
    }

    int status = CLI_FATAL;
    pixab_model *m = cli_load_model(&mo);
    pixab_engine *e = NULL;
    float *x = NULL, *logits = NULL;
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
    if (!(e = cli_create_engine(m, &mo))) goto done;

    double fwd;
    if (time_forward(e, x, batch, logits) < 0) goto done; /* warm-up */
    for (int k = 0; k < runs; k++)
        if ((t[k] = time_forward(e, x, batch, logits)) < 0) goto done;
    fwd = batch / median(t, (int)runs);
    if (mo.verbose) fprintf(stderr, "pixab bench: forward %.3f images/s\n", fwd);

    int unsupported = 0;
    for (int j = 0; j < n_methods; j++) {
        pixab_status s;
        ips[j] = NAN;
        if (time_method(e, x, methods[j], &eo, &s) < 0) {
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
            if ((t[k] = time_method(e, x, methods[j], &eo, &s)) < 0) {
                fprintf(stderr, "pixab bench: %s: %s\n", pixab_method_name(methods[j]), pixab_last_error());
                goto done;
            }
        ips[j] = 1.0 / median(t, (int)runs);
        if (mo.verbose) fprintf(stderr, "pixab bench: %s %.3f images/s\n", pixab_method_name(methods[j]), ips[j]);
    }

    char date[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", &tm);
    printf("{\"device\":");
    cli_json_string(stdout, pixab_engine_device(e));
    printf(",\"model\":");
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
    printf("}}\n");
    status = fflush(stdout) ? CLI_FATAL : unsupported ? CLI_PARTIAL : CLI_OK;
done:
    free(t);
    free(x);
    free(logits);
    pixab_engine_destroy(e);
    pixab_model_free(m);
    return status;
}
