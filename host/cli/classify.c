/* classify.c — `pixab classify`: top-K classes per image as JSON lines, and
 * optionally all logits as a float32 .npy (one row per input, NaN rows for
 * inputs that failed). */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "cli.h"
#include "commands.h"
#include "json.h"
#include "model_opts.h"
#include "npy.h"

typedef struct {
    cli_model_opts mo;
    long top;                /* --top */
    const char *logits_path; /* --logits */
} classify_args;

static const cli_option classify_options[] = {
    {NULL, "--top", CLI_INT, offsetof(classify_args, top), "K", "classes to list (default 5)", 1, 1000000, NULL},
    {NULL, "--logits", CLI_STRING, offsetof(classify_args, logits_path), "OUT.npy",
     "write all logits, float32 [N, classes]; rows of failed images are NaN", 0, 0, NULL},
    {0},
};

static const cli_command classify_command = {
    "pixab classify",
    "usage: pixab classify -w MODEL [--device D] [--top K] [--logits OUT.npy] IMAGE...\n"
    "Prints one JSON line per image: {\"image\": PATH, \"top\": [[class, probability], ...]}\n"
    "(plus \"labels\" when the checkpoint names its classes).\n",
    "A bad image is reported on stderr and skipped; the exit status is then 1.\n",
    {{classify_options, 0}, {cli_model_options, offsetof(classify_args, mo)}},
    1,
};

static void print_top(const pixab_model *m, const char *path, const float *prob, int classes, int top) {
    int *idx = malloc(sizeof(int) * (size_t)top);
    if (!idx) return;
    for (int k = 0; k < top; k++) { /* partial selection: top is small */
        int best = -1;
        for (int c = 0; c < classes; c++) {
            int used = 0;
            for (int j = 0; j < k; j++) used |= idx[j] == c;
            if (!used && (best < 0 || prob[c] > prob[best])) best = c;
        }
        idx[k] = best;
    }
    printf("{\"image\":");
    json_write_string(stdout, path);
    printf(",\"top\":[");
    for (int k = 0; k < top; k++) /* JSON has no NaN or infinity: null */
        printf(isfinite(prob[idx[k]]) ? "%s[%d,%.6g]" : "%s[%d,null]", k ? "," : "", idx[k], prob[idx[k]]);
    printf("]");
    if (pixab_model_class_name(m, 0)) {
        printf(",\"labels\":[");
        for (int k = 0; k < top; k++) {
            if (k) putchar(',');
            json_write_string(stdout, pixab_model_class_name(m, idx[k]));
        }
        printf("]");
    }
    printf("}\n");
    free(idx);
}

int cmd_classify(int argc, char **argv) {
    classify_args a = {.top = 5};
    char **images = calloc((size_t)argc, sizeof(char *));
    int n_images = 0;
    if (!images) return CLI_FATAL;
    int r = cli_parse(&classify_command, argc, argv, &a, images, &n_images);
    if (r <= 0) {
        free(images);
        return r < 0 ? CLI_FATAL : CLI_OK;
    }
    if (!n_images) {
        fprintf(stderr, "pixab classify: no images given (see pixab classify --help)\n");
        free(images);
        return CLI_FATAL;
    }

    int status = CLI_FATAL;
    pixab_model *m = cli_load_model(&a.mo);
    pixab_engine *e = m ? cli_create_engine(m, &a.mo) : NULL;
    float *input = NULL, *logits = NULL, *all = NULL;
    int *slot = NULL;
    if (!e) goto done;
    const pixab_preproc *pre = pixab_model_preproc(m);
    const int classes = pixab_model_num_classes(m), batch = pixab_engine_max_batch(e);
    const size_t image_floats = (size_t)pre->size * pre->size * 3;
    if (a.top > classes) a.top = classes;
    input = malloc(sizeof(float) * image_floats * (size_t)batch);
    logits = malloc(sizeof(float) * (size_t)classes * (size_t)batch);
    slot = malloc(sizeof(int) * (size_t)batch);
    if (a.logits_path) all = malloc(sizeof(float) * (size_t)classes * (size_t)n_images);
    if (!input || !logits || !slot || (a.logits_path && !all)) {
        fprintf(stderr, "pixab classify: out of memory\n");
        goto done;
    }
    if (all)
        for (size_t k = 0; k < (size_t)classes * n_images; k++) all[k] = NAN;
    int failed = 0;
    double t0 = cli_now_s();
    for (int next = 0; next < n_images;) {
        int n = 0; /* fill a batch with the images that decode */
        for (; next < n_images && n < batch; next++) {
            pixab_image img;
            pixab_status s = pixab_image_load(images[next], &img);
            if (!s) {
                s = pixab_image_preprocess(&img, pre, input + (size_t)n * image_floats);
                pixab_image_free(&img);
            }
            if (s) {
                cli_error(NULL);
                failed++;
                continue;
            }
            slot[n++] = next;
        }
        if (!n) continue;
        if (pixab_engine_forward(e, input, n, logits)) {
            cli_error(NULL);
            goto done;
        }
        if (all)
            for (int k = 0; k < n; k++)
                memcpy(all + (size_t)slot[k] * classes, logits + (size_t)k * classes, sizeof(float) * classes);
        pixab_softmax(logits, n, classes);
        for (int k = 0; k < n; k++) print_top(m, images[slot[k]], logits + (size_t)k * classes, classes, (int)a.top);
        fflush(stdout);
    }
    if (a.mo.verbose)
        fprintf(stderr, "pixab classify: %d image(s), %d failed, %.3f s\n", n_images, failed, cli_now_s() - t0);
    if (all && npy_write_f32(a.logits_path, all, 2, (int64_t[]){n_images, classes})) {
        cli_error(NULL);
        goto done;
    }
    status = failed ? CLI_PARTIAL : CLI_OK;
done:
    free(input);
    free(logits);
    free(slot);
    free(all);
    pixab_engine_destroy(e);
    pixab_model_free(m);
    free(images);
    return status;
}
