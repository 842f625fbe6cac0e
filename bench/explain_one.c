/* explain_one.c — the C side of bench/python_overhead.py: the time of one
 * image's explanation through the public API, as the Python package makes it
 * (decode + pixab_explain_images, or a preprocessed input + pixab_explain),
 * median of the runs after a warm-up, as one JSON line.
 * usage: explain_one MODEL IMAGE [--device D] [-l LAYER] [-m METHOD] [--input file|array] [--runs N] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pixab.h"
#include "timing.h"

/* One explanation of the image: from the file (x NULL) or from x (S, S, 3). */
static pixab_status explain_once(pixab_engine *e, const pixab_model *m, const char *image, const float *x,
                                 pixab_method method, const pixab_explain_opts *o) {
    pixab_map map;
    pixab_status s;
    if (x) {
        s = pixab_explain(e, x, &method, 1, o, &map);
    } else {
        pixab_image img;
        if ((s = pixab_image_load(image, &img))) return s;
        s = pixab_explain_images(e, &img, 1, pixab_model_preproc(m), &method, 1, o, NULL, &map);
        pixab_image_free(&img);
    }
    if (!s) pixab_map_free(&map);
    return s;
}

int main(int argc, char **argv) {
    const char *model = NULL, *image = NULL, *device = "cpu", *layer = NULL, *method = "pixab", *input = "file";
    int runs = 20;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--device") && i + 1 < argc) device = argv[++i];
        else if (!strcmp(argv[i], "-l") && i + 1 < argc) layer = argv[++i];
        else if (!strcmp(argv[i], "-m") && i + 1 < argc) method = argv[++i];
        else if (!strcmp(argv[i], "--input") && i + 1 < argc) input = argv[++i];
        else if (!strcmp(argv[i], "--runs") && i + 1 < argc) runs = atoi(argv[++i]);
        else if (!model) model = argv[i];
        else image = argv[i];
    }
    if (!model || !image || runs < 1 || (strcmp(input, "file") && strcmp(input, "array"))) {
        fprintf(stderr, "usage: explain_one MODEL IMAGE [--device D] [-l LAYER] [-m METHOD] [--input file|array] "
                        "[--runs N]\n");
        return 2;
    }
    pixab_model *m = NULL;
    pixab_engine *e = NULL;
    pixab_image img = {0};
    float *x = NULL;
    double *t = malloc(sizeof(double) * (size_t)runs);
    pixab_explain_opts o = {.cls = -1};
    int meth = pixab_method_from_name(method);
    if (!t || meth < 0 || pixab_model_load(model, &m) || pixab_engine_create(m, device, 1, &e)) goto fail;
    o.layer = layer ? pixab_model_find_layer(m, layer) : pixab_model_default_layer(m);
    if (o.layer < 0) goto fail;
    if (!strcmp(input, "array")) {
        const int S = pixab_model_preproc(m)->size;
        if (!(x = malloc(sizeof(float) * (size_t)S * S * 3)) || pixab_image_load(image, &img) ||
            pixab_image_preprocess(&img, pixab_model_preproc(m), x))
            goto fail;
    }
    if (explain_once(e, m, image, x, (pixab_method)meth, &o)) goto fail; /* warm-up: plans, pools */
    for (int r = 0; r < runs; r++) {
        double t0 = bench_now_s();
        if (explain_once(e, m, image, x, (pixab_method)meth, &o)) goto fail;
        t[r] = bench_now_s() - t0;
    }
    printf("{\"device\":\"%s\",\"layer\":\"%s\",\"method\":\"%s\",\"input\":\"%s\",\"runs\":%d,\"ms\":%.4f}\n",
           pixab_engine_device(e), pixab_model_layer_name(m, o.layer), method, input, runs, 1e3 * bench_median(t, runs));
    pixab_image_free(&img);
    free(x), free(t);
    pixab_engine_destroy(e);
    pixab_model_free(m);
    return 0;
fail:
    fprintf(stderr, "explain_one: %s\n", pixab_last_error());
    return 2;
}
