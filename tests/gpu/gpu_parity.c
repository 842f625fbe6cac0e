/* gpu_parity.c — the GPU parity suite: every CUDA op against the CPU path on
 * fresh inputs, a table of max errors printed last, exit status 1 on any miss
 * (2 when no CUDA device is usable). Plain C, no Criterion, so it runs on a
 * lent GPU machine that has nothing but the binary and the CUDA libraries:
 *     build/gpu_parity
 * Today's CUDA code is the device query and the preprocessing kernel; the
 * network backend and the Pixab-CAM kernels add their rows here. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device.h"
#include "pixab.h"
#include "preprocess.h"

typedef struct {
    char what[96];
    double err, tol;
} row;

static row rows[64];
static int n_rows;

static void record(const char *what, double err, double tol) {
    if (n_rows < 64) {
        snprintf(rows[n_rows].what, sizeof rows[n_rows].what, "%s", what);
        rows[n_rows].err = err;
        rows[n_rows++].tol = tol;
    }
}

/* A deterministic image with every byte value represented. */
static pixab_image make_image(int w, int h, unsigned seed) {
    pixab_image img = {w, h, malloc((size_t)w * h * 3)};
    for (size_t i = 0; i < (size_t)w * h * 3; i++) img.rgb[i] = (unsigned char)((i * 2654435761u + seed) >> 7);
    return img;
}

/* Preprocessing: CUDA kernel vs CPU for odd sizes, a size of 1, down- and
 * upsampling and the identity; the two run the same per-pixel code, so the
 * tolerance is 0. */
static void check_preprocess(void) {
    static const struct { int w, h, s; } cases[] = {
        {1, 1, 1}, {1, 1, 7}, {53, 37, 31}, {53, 37, 71}, {299, 299, 299}, {640, 480, 299}, {17, 301, 299},
    };
    const pixab_preproc base = {.size = 0, .mean = {0.485f, 0.456f, 0.406f}, .std = {0.229f, 0.224f, 0.225f}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pixab_preproc p = base;
        p.size = cases[i].s;
        pixab_image img = make_image(cases[i].w, cases[i].h, (unsigned)i);
        size_t n = (size_t)p.size * p.size * 3;
        float *cpu = malloc(sizeof(float) * n), *gpu = malloc(sizeof(float) * n);
        char what[96];
        snprintf(what, sizeof what, "preprocess %dx%d -> %d", cases[i].w, cases[i].h, p.size);
        double err = INFINITY;
        if (!pixab_image_preprocess(&img, &p, cpu) && !preprocess_image_cuda(gpu, &img, &p)) {
            err = 0.0;
            for (size_t k = 0; k < n; k++) {
                double d = fabs((double)cpu[k] - gpu[k]);
                if (!(d <= err)) err = d;
            }
        } else {
            fprintf(stderr, "gpu_parity: %s: %s\n", what, pixab_last_error());
        }
        record(what, err, 0.0);
        free(cpu), free(gpu), free(img.rgb);
    }
}

int main(void) {
    int count = cuda_device_count();
    if (count < 1) {
        fprintf(stderr, "gpu_parity: no CUDA device (%s)\n", pixab_last_error());
        return 2;
    }
    for (int d = 0; d < count; d++) {
        cuda_device_info info;
        if (!cuda_device_query(d, &info))
            printf("device %d: %s, sm_%d%d, %zu MiB, %d SMs, runtime %d, driver %d\n", d, info.name, info.major,
                   info.minor, info.total_mem >> 20, info.multiprocessors, info.runtime_version, info.driver_version);
    }
    if (cuda_select_device(0)) {
        fprintf(stderr, "gpu_parity: %s\n", pixab_last_error());
        return 2;
    }
    check_preprocess();
    int misses = 0;
    printf("\n%-40s %12s %12s  %s\n", "check (CUDA vs CPU)", "max|d|", "tolerance", "result");
    for (int i = 0; i < n_rows; i++) {
        int ok = rows[i].err <= rows[i].tol;
        misses += !ok;
        printf("%-40s %12.3g %12.3g  %s\n", rows[i].what, rows[i].err, rows[i].tol, ok ? "ok" : "MISS");
    }
    printf("%d check(s), %d miss(es)\n", n_rows, misses);
    return misses ? 1 : 0;
}
