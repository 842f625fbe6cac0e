/* forward_bench.c — Inception-V3 forward images/s of pixab on one device, for
 * the batch sizes given; one JSON line per batch size (median of the runs),
 * with the CPU kernels that ran. Like any program using the library (README),
 * it runs itself again once with the kernels pixab_cpu_kernels_wanted()
 * names when OPENBLAS_CORETYPE is unset: what a new user of pixab gets.
 * usage: forward_bench MODEL [--device D] [--batch 1,8] [--runs N] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pixab.h"
#include "timing.h"

int main(int argc, char **argv) {
    const char *want = getenv("OPENBLAS_CORETYPE") ? NULL : pixab_cpu_kernels_wanted();
    if (want && !setenv("OPENBLAS_CORETYPE", want, 1)) {
        execv("/proc/self/exe", argv);
        unsetenv("OPENBLAS_CORETYPE");
    }
    const char *model = NULL, *device = "cpu", *batches = "1,8";
    int runs = 7;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--device") && i + 1 < argc) device = argv[++i];
        else if (!strcmp(argv[i], "--batch") && i + 1 < argc) batches = argv[++i];
        else if (!strcmp(argv[i], "--runs") && i + 1 < argc) runs = atoi(argv[++i]);
        else model = argv[i];
    }
    if (!model || runs < 1) {
        fprintf(stderr, "usage: forward_bench MODEL [--device D] [--batch 1,8] [--runs N]\n");
        return 2;
    }
    pixab_model *m;
    if (pixab_model_load(model, &m)) {
        fprintf(stderr, "forward_bench: %s\n", pixab_last_error());
        return 2;
    }
    const int S = pixab_model_preproc(m)->size, K = pixab_model_num_classes(m);
    for (const char *p = batches; *p;) {
        int batch = (int)strtol(p, (char **)&p, 10);
        if (*p == ',') p++;
        pixab_engine *e;
        if (batch < 1 || pixab_engine_create(m, device, batch, &e)) {
            fprintf(stderr, "forward_bench: batch %d: %s\n", batch, pixab_last_error());
            return 2;
        }
        size_t n = (size_t)batch * S * S * 3;
        float *x = malloc(sizeof(float) * n), *y = malloc(sizeof(float) * (size_t)batch * K);
        double *t = malloc(sizeof(double) * (size_t)runs);
        for (size_t i = 0; i < n; i++) x[i] = (float)((i * 2654435761u) % 1000) / 500.0f - 1.0f;
        pixab_engine_forward(e, x, batch, y); /* warm-up */
        for (int r = 0; r < runs; r++) {
            double t0 = bench_now_s();
            if (pixab_engine_forward(e, x, batch, y)) {
                fprintf(stderr, "forward_bench: %s\n", pixab_last_error());
                return 2;
            }
            t[r] = bench_now_s() - t0;
        }
        double med = bench_median(t, runs);
        printf("{\"impl\":\"pixab\",\"device\":\"%s\",\"cpu_kernels\":\"%s\",\"batch\":%d,\"images_per_s\":%.3f,"
               "\"s_per_image\":%.4f}\n",
               pixab_engine_device(e), pixab_cpu_kernels(), batch, batch / med, med / batch);
        fflush(stdout);
        free(x), free(y), free(t);
        pixab_engine_destroy(e);
    }
    pixab_model_free(m);
    return 0;
}
