/* gpu_parity.c — the GPU parity suite: every CUDA op and the whole engine
 * against the CPU backend, at fp32 and below, each row printed as it is
 * measured and a table of all of them last; exit status 1 on any miss, 2
 * without a usable CUDA device or on a usage error. Plain C, no Criterion,
 * so it runs on a lent GPU machine that has nothing but the binary and the
 * CUDA libraries (tools/gpu_check.sh runs it there):
 *     gpu_parity [--bench] [--self-test] [--demo MODEL [--image IMAGE]] [--full FULL_MODEL] [W8_MODEL]
 * --self-test: the harness alone, the CPU backend standing in for CUDA (CI
 * runs it, see parity.h).
 * W8_MODEL: the reduced-width test checkpoint (tests/data/inception_v3_w8.safetensors):
 * every op-level check, then every model check on it; --full: a full-width
 * checkpoint (tools/make_goldens.py --width-div 1), the model checks that
 * stay affordable on the CPU side (parity_model.c), alone when no W8_MODEL;
 * --demo: a trained checkpoint (models/pixab-demo.safetensors) for the
 * precision rows of whole maps, explained on --image (else a synthetic input).
 * --bench prints CUDA forward images/s at batch 1, 8 and 64 (before the table).
 * The parts: parity_ops.c (fp32, op by op), parity_precision.c (tf32, fp16,
 * bf16, op by op), parity_model.c (whole engines), parity_stage.c (batches of
 * 8-bit images preprocessed on the device); tolerances in parity.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cuda_backend.h"
#include "cuda_device.h"
#include "parity.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Forward images/s at batch 1, 8, 64: wall clock around pixab_engine_forward,
 * which returns after downloading the logits (the stream has drained). */
static void bench(const char *path) {
    static const int batches[] = {1, 8, 64};
    pixab_model *m = NULL;
    pixab_engine *e = NULL;
    float *input = NULL, *logits = NULL;
    if (pixab_model_load(path, &m) || pixab_engine_create(m, parity_gpu_device, 64, &e)) {
        fprintf(stderr, "gpu_parity: bench (%s): %s\n", path, pixab_last_error());
        goto done;
    }
    input = parity_model_input(pixab_model_preproc(m)->size, 64);
    logits = malloc(sizeof(float) * 64 * (size_t)pixab_model_num_classes(m));
    if (!input || !logits) goto done;
    printf("bench: %s on %s, fp32, input %d\n", path, pixab_engine_device(e), pixab_model_preproc(m)->size);
    for (int b = 0; b < 3; b++) {
        int n = batches[b], iters = 0;
        if (pixab_engine_forward(e, input, n, logits) || pixab_engine_forward(e, input, n, logits)) { /* warm-up */
            fprintf(stderr, "gpu_parity: bench: %s\n", pixab_last_error());
            goto done;
        }
        double t0 = now_s(), t = 0.0;
        while (t < 1.0 || iters < 5) {
            if (pixab_engine_forward(e, input, n, logits)) {
                fprintf(stderr, "gpu_parity: bench: %s\n", pixab_last_error());
                goto done;
            }
            iters++;
            t = now_s() - t0;
        }
        printf("bench: forward batch %2d: %9.1f images/s (%.3f ms per batch, %d runs)\n", n, n * iters / t,
               1e3 * t / iters, iters);
    }
done:
    free(input), free(logits);
    pixab_engine_destroy(e);
    pixab_model_free(m);
}

/* -v style diagnostics (algorithms chosen, fallbacks) into the log. */
static void log_line(const char *line, void *user) {
    (void)user;
    printf("log: %s\n", line);
}

int main(int argc, char **argv) {
    const char *w8 = NULL, *full = NULL, *demo = NULL, *image = NULL;
    int do_bench = 0, bad = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--bench"))
            do_bench = 1;
        else if (!strcmp(argv[i], "--full") && i + 1 < argc)
            full = argv[++i];
        else if (!strcmp(argv[i], "--demo") && i + 1 < argc)
            demo = argv[++i];
        else if (!strcmp(argv[i], "--image") && i + 1 < argc)
            image = argv[++i];
        else if (!strcmp(argv[i], "--self-test"))
            parity_self_test = 1;
        else if (!w8 && argv[i][0] != '-')
            w8 = argv[i];
        else
            bad = 1;
    }
    if (bad || (!w8 && !full) || (parity_self_test && !w8)) {
        fprintf(stderr, "usage: gpu_parity [--bench] [--self-test] [--demo MODEL [--image IMAGE]] [--full FULL_MODEL] "
                        "[W8_MODEL]\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    pixab_set_log(log_line, NULL);
    if (parity_self_test) { /* the harness, CPU against CPU: see parity.h */
        parity_gpu = &cpu_backend, parity_gpu_index = -1, parity_gpu_device = "cpu";
        check_ops();
        check_xops();
        check_guided_relu();
        check_model(w8, "w8", 1); /* the shorter "full" plan: the CPU is slow on both sides */
        check_staged_images(w8);
        if (demo) check_precision_model(demo, image);
        return parity_report() ? 1 : 0;
    }
    int dnn_rt, dnn_hdr, blas_rt;
    cuda_backend_versions(&dnn_rt, &dnn_hdr, &blas_rt);
    printf("cuDNN %d (built against %d%s), cuBLAS %d\n", dnn_rt, dnn_hdr, dnn_rt < dnn_hdr ? ", OLDER" : "", blas_rt);
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
    if (w8) { /* the ops, then the small model: everything that is quick */
        check_preprocess();
        check_ops();
        check_xops();
        check_guided_relu();
        check_upsample();
        check_direct_conv_backward();
        check_precision_ops();
        check_model(w8, "w8", 0);
        check_staged_images(w8);
    }
    if (demo)
        check_precision_model(demo, image);
    else
        printf("gpu_parity: no --demo model: the precision rows of whole maps are left out\n");
    if (full) check_model(full, "full", 1);
    if (do_bench) bench(full ? full : w8);
    return parity_report() ? 1 : 0;
}
