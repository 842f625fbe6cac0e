/* classify.c — `pixab classify`: top-K classes per image as JSON lines, and
 * optionally all logits as a float32 .npy (one row per input, NaN rows for
 * inputs that failed). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "args.h"
#include "cli.h"
#include "commands.h"
#include "model_opts.h"
#include "npy.h"

static const char usage[] =
    "usage: pixab classify -w MODEL [--device D] [--top K] [--logits OUT.npy] IMAGE...\n"
    "Prints one JSON line per image: {\"image\": PATH, \"top\": [[class, probability], ...]}\n"
    "(plus \"labels\" when the checkpoint names its classes).\n"
    "  --top K              classes to list (default 5)\n"
    "  --logits OUT.npy     write all logits, float32 [N, classes]; rows of failed images are NaN\n"
    "%s"
    "A bad image is reported on stderr and skipped; the exit status is then 1.\n";

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

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
    cli_json_string(stdout, path);
    printf(",\"top\":[");
    for (int k = 0; k < top; k++) printf("%s[%d,%.6g]", k ? "," : "", idx[k], prob[idx[k]]);
    printf("]");
    if (pixab_model_class_name(m, 0)) {
        printf(",\"labels\":[");
        for (int k = 0; k < top; k++) {
            if (k) putchar(',');
            cli_json_string(stdout, pixab_model_class_name(m, idx[k]));
        }
        printf("]");
    }
    printf("}\n");
    free(idx);
}

int cmd_classify(int argc, char **argv) {
    cli_model_opts mo = {.batch = 8};
    long top = 5;
    const char *logits_path = NULL, *v;
    const char **images = calloc((size_t)argc, sizeof(char *));
    int n_images = 0, r;
    if (!images) return CLI_FATAL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            printf(usage, cli_model_help);
            free(images);
            return CLI_OK;
        }
        if ((r = cli_model_flag(argc, argv, &i, &mo))) {
            if (r < 0) goto usage_error;
        } else if ((r = cli_flag(argc, argv, &i, NULL, "--top", &v))) {
            if (r < 0 || cli_int("--top", v, 1, 1000000, &top)) goto usage_error;
        } else if ((r = cli_flag(argc, argv, &i, NULL, "--logits", &v))) {
            if (r < 0) goto usage_error;
            logits_path = v;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "pixab classify: unknown option '%s' (see pixab classify --help)\n", argv[i]);
            goto usage_error;
        } else {
            images[n_images++] = argv[i];
        }
    }
    if (!n_images) {
        fprintf(stderr, "pixab classify: no images given (see pixab classify --help)\n");
        goto usage_error;
    }

    int status = CLI_FATAL;
    pixab_model *m = cli_load_model(&mo);
    pixab_engine *e = m ? cli_create_engine(m, &mo) : NULL;
    float *input = NULL, *logits = NULL, *all = NULL;
    int *slot = NULL;
    if (!e) goto done;
    const pixab_preproc *pre = pixab_model_preproc(m);
    const int classes = pixab_model_num_classes(m), batch = (int)mo.batch;
    const size_t image_floats = (size_t)pre->size * pre->size * 3;
    if (top > classes) top = classes;
    input = malloc(sizeof(float) * image_floats * (size_t)batch);
    logits = malloc(sizeof(float) * (size_t)classes * (size_t)batch);
    slot = malloc(sizeof(int) * (size_t)batch);
    if (logits_path) all = malloc(sizeof(float) * (size_t)classes * (size_t)n_images);
    if (!input || !logits || !slot || (logits_path && !all)) {
        fprintf(stderr, "pixab classify: out of memory\n");
        goto done;
    }
    if (all)
        for (size_t k = 0; k < (size_t)classes * n_images; k++) all[k] = NAN;
    int failed = 0;
    double t0 = now_s();
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
        for (int k = 0; k < n; k++) print_top(m, images[slot[k]], logits + (size_t)k * classes, classes, (int)top);
        fflush(stdout);
    }
    if (mo.verbose)
        fprintf(stderr, "pixab classify: %d image(s), %d failed, %.3f s\n", n_images, failed, now_s() - t0);
    if (all && npy_write_f32(logits_path, all, 2, (int64_t[]){n_images, classes})) {
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
usage_error:
    free(images);
    return CLI_FATAL;
}
