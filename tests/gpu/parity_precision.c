/* parity_precision.c — the GPU parity suite below fp32, op by op:
 * - the fp32 -> fp16 / bf16 cast kernel against a CPU emulation of
 *   round-to-nearest-even (exact: every bit), on random values of every
 *   magnitude, exact ties, subnormals, overflow and signed zeros;
 * - the bias + ReLU pass from 16-bit results against the same emulation (exact);
 * - every convolution and FC case of parity_ops.c at tf32, fp16 and bf16
 *   (cuDNN with tensor-op math, cublasGemmEx, and the tf32 fallback of a
 *   convolution cuDNN has no 16-bit algorithm for), forward and backward,
 *   against the fp32 CPU backend.
 * Tolerances of the last group are error bounds, not guesses: each input of
 * a product rounded with relative error at most u, the product and the fp32
 * sum then exact to 2^-24, so |y - y_fp32| <= (2u + u^2) sum|x||w| (+ u |y|
 * when the result is stored in 16 bits too), whatever order the kernel sums
 * in. The error is measured per element against that sum, sum|x||w| (the CPU
 * backend on |x|, |w|, without bias or ReLU, which only shrink differences):
 *   tf32: u = 2^-10 (the tensor cores may truncate to 10 mantissa bits):
 *         2u + u^2 = 1.96e-3 -> 2e-3;
 *   fp16: u = 2^-11, inputs and the 16-bit result: 3u = 1.5e-3, but a
 *         convolution may run in tf32 instead: 2e-3;
 *   bf16: u = 2^-8: 3u = 1.2e-2.
 * The backward pass keeps fp32 data on TF32 math below fp32: 2e-3 at every
 * reduced precision. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cuda_runtime.h>

#include "cuda_backend.h"
#include "nn.cuh"
#include "parity.h"
#include "precision.h"

#define BOUND_TF32 2e-3
#define BOUND_FP16 2e-3
#define BOUND_BF16 1.2e-2

/* ---- CPU emulation of the conversions --------------------------------------- */

static uint32_t bits_of(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static float float_of(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* Round to nearest, ties to even, of the low `drop` bits of m: m >> drop, rounded. */
static uint32_t round_shift(uint32_t m, int drop) {
    const uint32_t rest = m & ((1u << drop) - 1), half = 1u << (drop - 1);
    uint32_t r = m >> drop;
    return r + (rest > half || (rest == half && (r & 1)));
}

/* fp32 -> IEEE half, round to nearest even (NaN: a quiet NaN). */
static uint16_t emulate_f16(float f) {
    const uint32_t x = bits_of(f), sign = (x >> 16) & 0x8000, ax = x & 0x7FFFFFFF;
    if (ax > 0x7F800000) return (uint16_t)(sign | 0x7E00);
    if (ax >= 0x477FF000) return (uint16_t)(sign | 0x7C00); /* >= 65520: rounds to infinity */
    if (ax <= 0x33000000) return (uint16_t)sign;           /* <= 2^-25: half the smallest subnormal, ties to 0 */
    const int e = (int)(ax >> 23);
    const uint32_t m = (ax & 0x7FFFFF) | 0x800000;
    if (e < 113) return (uint16_t)(sign | round_shift(m, 126 - e)); /* subnormal: m 2^(e-150) in units of 2^-24 */
    /* normal: exponent e - 112, 10 of the 23 mantissa bits; a carry moves into the exponent */
    return (uint16_t)(sign | round_shift(((uint32_t)(e - 112) << 23) | (ax & 0x7FFFFF), 13));
}

/* fp32 -> bfloat16, round to nearest even (NaN: a quiet NaN). */
static uint16_t emulate_bf16(float f) {
    const uint32_t x = bits_of(f);
    if ((x & 0x7FFFFFFF) > 0x7F800000) return (uint16_t)((x >> 16) | 0x40);
    return (uint16_t)((x + 0x7FFF + ((x >> 16) & 1)) >> 16);
}

static float f16_value(uint16_t h) {
    const uint32_t sign = (uint32_t)(h & 0x8000) << 16, e = (h >> 10) & 0x1F, m = h & 0x3FF;
    if (e == 0) return (sign ? -1.0f : 1.0f) * (float)m * 0x1p-24f;
    if (e == 31) return float_of(sign | 0x7F800000 | (m << 13));
    return float_of(sign | ((e + 112) << 23) | (m << 13));
}

static float bf16_value(uint16_t b) { return float_of((uint32_t)b << 16); }

/* ---- the cast and bias + ReLU kernels --------------------------------------- */

/* n values that exercise every rounding case of both formats. */
static void cast_inputs(float *v, size_t n) {
    size_t k = 0;
    static const float special[] = {0.0f, -0.0f, 1.0f, -1.0f, 65504.0f, 65519.0f, 65520.0f, -65520.0f, 1e6f,
                                    0x1p-14f, 0x1p-24f, 0x1p-25f, 0x1.8p-25f, 0x1p-26f, 3.0e38f, 1.17549435e-38f};
    for (size_t i = 0; i < sizeof special / sizeof special[0] && k < n; i++) v[k++] = special[i];
    for (int e = -30; e <= 17 && k + 4 <= n; e++) { /* exact ties of fp16 (13 dropped bits) and bf16 (16) */
        v[k++] = ldexpf(1.0f + 0x1p-11f, e), v[k++] = ldexpf(1.0f + 0x1p-10f + 0x1p-11f, e);
        v[k++] = ldexpf(1.0f + 0x1p-8f, e), v[k++] = -ldexpf(1.0f + 0x1p-7f + 0x1p-8f, e);
    }
    for (; k < n; k++) /* random mantissas over magnitudes 2^-30 .. 2^17 */
        v[k] = ldexpf(parity_rand(), (int)((parity_rand() + 1.0f) * 24.0f) - 30);
}

/* Both kernels, one format: bits that differ from the emulation. */
static void check_cast_format(int bf16) {
    const size_t rows = 64, c = 48, ld = 64; /* a channel slice: 48 of 64 channels per row */
    float *src = calloc(rows * ld, sizeof(float)), *bias = malloc(sizeof(float) * c), *vals = malloc(sizeof(float) * rows * c);
    float *act = malloc(sizeof(float) * rows * ld), *want_act = malloc(sizeof(float) * rows * ld);
    uint16_t *got = malloc(2 * rows * c);
    float *dsrc = NULL, *dbias = NULL, *dact = NULL;
    void *dlp = NULL;
    double cast_miss = INFINITY, act_miss = INFINITY;
    parity_seed(bf16 ? 31 : 30);
    if (!src || !bias || !vals || !act || !want_act || !got) goto done;
    cast_inputs(vals, rows * c);
    for (size_t r = 0; r < rows; r++) memcpy(src + r * ld, vals + r * c, sizeof(float) * c);
    parity_fill(bias, c);
    if (cudaMalloc((void **)&dsrc, sizeof(float) * rows * ld) || cudaMalloc(&dlp, 2 * rows * c) ||
        cudaMalloc((void **)&dbias, sizeof(float) * c) || cudaMalloc((void **)&dact, sizeof(float) * rows * ld) ||
        cudaMemcpy(dsrc, src, sizeof(float) * rows * ld, cudaMemcpyHostToDevice) ||
        cudaMemcpy(dbias, bias, sizeof(float) * c, cudaMemcpyHostToDevice) ||
        cudaMemset(dact, 0, sizeof(float) * rows * ld) ||
        precision_cast_cuda(dlp, bf16, dsrc, (int)ld, rows, (int)c, NULL) ||
        precision_bias_act_cuda(dact, (int)ld, dlp, bf16, dbias, rows, (int)c, 1, NULL) ||
        cudaMemcpy(got, dlp, 2 * rows * c, cudaMemcpyDeviceToHost) ||
        cudaMemcpy(act, dact, sizeof(float) * rows * ld, cudaMemcpyDeviceToHost)) {
        fprintf(stderr, "gpu_parity: %s cast: %s\n", bf16 ? "bf16" : "fp16",
                pixab_last_error()[0] ? pixab_last_error() : cudaGetErrorString(cudaGetLastError()));
        goto done;
    }
    cast_miss = act_miss = 0.0;
    for (size_t r = 0; r < rows; r++)
        for (size_t k = 0; k < ld; k++) {
            const size_t i = r * ld + k;
            if (k >= c) { /* outside the slice: untouched */
                want_act[i] = 0.0f;
                act_miss += act[i] != 0.0f;
                continue;
            }
            const uint16_t h = bf16 ? emulate_bf16(src[i]) : emulate_f16(src[i]);
            cast_miss += got[r * c + k] != h;
            want_act[i] = nn_bias_act(bf16 ? bf16_value(h) : f16_value(h), bias[k], 1);
            act_miss += memcmp(&act[i], &want_act[i], sizeof(float)) != 0;
        }
done:
    parity_recordf(cast_miss, 0.0, "cast fp32 -> %s, slice: values != RNE emulation", bf16 ? "bf16" : "fp16");
    parity_recordf(act_miss, 0.0, "bias + ReLU from %s: values != emulation", bf16 ? "bf16" : "fp16");
    (void)cudaFree(dsrc), (void)cudaFree(dlp), (void)cudaFree(dbias), (void)cudaFree(dact);
    free(src), free(bias), free(vals), free(act), free(want_act), free(got);
}

/* ---- convolutions and FC at reduced precision -------------------------------- */

/* max over elements of |a - b| / (bound + 2^-20 |b|): the last term for the
 * fp32 rounding of what is added to (dx0) or around (bias) the products. */
static double bounded_err(const float *a, const float *b, const float *bound, size_t n) {
    double worst = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]), den = (double)bound[i] + 0x1p-20 * fabs((double)b[i]) + 1e-30;
        double e = d / den;
        if (!(e <= worst)) worst = e;
    }
    return isnan(worst) ? INFINITY : worst;
}

/* Forward and backward of one case at one precision, relative to the bounds. */
static void check_case(const op_case *t, int precision, double tol) {
    const char *pname = pixab_precision_name((pixab_precision)precision);
    graph g, ga;
    const int n = 3;
    double fwd = INFINITY, bwd = INFINITY;
    float *buf = NULL;
    parity_seed(5000 + (unsigned long long)(t - parity_op_cases));
    if (parity_build_graph(&g, t, NULL)) {
        fprintf(stderr, "gpu_parity: %s: out of memory\n", t->name);
        goto record;
    }
    if (graph_copy(&ga, &g)) goto free_g;
    /* |w|, no bias, no ReLU: the CPU then computes the bounds' sums */
    for (size_t i = 0; i < ga.n_params; i++) ga.params[i] = fabsf(ga.params[i]);
    memset(ga.params + ga.ops[0].b_off, 0, sizeof(float) * (size_t)ga.ops[0].c_out);
    ga.ops[0].relu = 0;
    op_io io = {n, graph_tensor_floats(&g, 0) * (size_t)n, graph_tensor_floats(&g, 1) * (size_t)n,
                NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL, NULL};
    op_io ia = io;
    const size_t X = io.xf, Y = io.yf;
    /* x, y0, y_fwd, dy, dx0 | |x|, zeros (y0, dx0), |dy| | cpu y, dx | gpu y, dx | bound y, dx */
    if (!(buf = calloc(5 * X + 4 * Y + 2 * (X + Y) + 2 * (X + Y), sizeof(float)))) goto free_both;
    float *p = buf;
    io.x = p, p += X, io.y0 = p, p += Y, io.y_fwd = p, p += Y, io.dy = p, p += Y, io.dx0 = p, p += X;
    ia.x = p, p += X, ia.y0 = ia.y_fwd = p, p += Y, ia.dy = p, p += Y, ia.dx0 = p, p += X;
    float *cy = p, *cdx = p + Y, *gy = p + Y + X, *gdx = p + 2 * Y + X, *by = p + 2 * (X + Y), *bdx = by + Y;
    parity_fill(io.x, X), parity_fill(io.y0, Y), parity_fill(io.dy, Y), parity_fill(io.dx0, X);
    for (size_t i = 0; i < X; i++) ia.x[i] = fabsf(io.x[i]);
    for (size_t i = 0; i < Y; i++) ia.dy[i] = fabsf(io.dy[i]);
    if (parity_cpu_reference(&g, &io, cy, cdx) ||
        parity_run_op(&cpu_backend, -1, PIXAB_PRECISION_FP32, &ga, &ia, by, bdx) ||
        parity_run_op(parity_gpu, parity_gpu_index, precision, &g, &io, gy, gdx))
        goto fail;
    /* Outside the op's slice y keeps y0 on both: their bound is 0 and so must be the difference. */
    fwd = bounded_err(gy, cy, by, Y);
    bwd = bounded_err(gdx, cdx, bdx, X);
    goto free_both;
fail:
    fprintf(stderr, "gpu_parity: %s at %s: %s\n", t->name, pname, pixab_last_error());
free_both:
    graph_free(&ga);
free_g:
    graph_free(&g);
record:
    parity_recordf(fwd, tol, "%s, %s, n=%d / bound", t->name, pname, n);
    parity_recordf(bwd, BOUND_TF32, "%s, %s, n=%d, bwd / bound", t->name, pname, n);
    free(buf);
}

void check_precision_ops(void) {
    check_cast_format(0);
    check_cast_format(1);
    static const int precisions[] = {PIXAB_PRECISION_TF32, PIXAB_PRECISION_FP16, PIXAB_PRECISION_BF16};
    static const double bounds[] = {BOUND_TF32, BOUND_FP16, BOUND_BF16};
    for (int pi = 0; pi < 3; pi++)
        for (int i = 0; i < parity_n_op_cases; i++)
            if (parity_op_cases[i].kind == OP_CONV || parity_op_cases[i].kind == OP_FC)
                check_case(&parity_op_cases[i], precisions[pi], bounds[pi]);
}
