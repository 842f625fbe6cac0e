/* eltwise.cuh — per-element logic of the elementwise ops that ONNX CNNs bring
 * (residual Add, Mul incl. squeeze-excitation's per-channel scaling, the
 * activations Clip / Sigmoid / HardSigmoid / HardSwish) and of zero padding,
 * forward and backward. PIXAB_HD functions: the CPU backend
 * (host/backends/cpu/cpu_eltwise.c) and the CUDA kernels
 * (kernels/eltwise_kernels.cu) run the very same code. The gradients are
 * PyTorch's (hardtanh, sigmoid, hardsigmoid, hardswish backward). */
#ifndef PIXAB_ELTWISE_CUH
#define PIXAB_ELTWISE_CUH

#include <math.h>
#include <stddef.h>

#include "pixab_hd.h"

/* An activation op's function (graph_op.act) and its parameters a, b. */
typedef enum {
    NN_ACT_CLIP,        /* min(max(x, a), b): ReLU6 is (0, 6), Relu (0, inf) */
    NN_ACT_SIGMOID,     /* 1 / (1 + exp(-x)) */
    NN_ACT_HARDSIGMOID, /* max(0, min(1, a x + b)) (ONNX: alpha, beta) */
    NN_ACT_HARDSWISH,   /* x max(0, min(1, x / 6 + 1 / 2)) */
    NN_ACT_COUNT
} nn_act_kind;

PIXAB_HD float nn_sigmoid(float x) { return 1.0f / (1.0f + expf(-x)); }

PIXAB_HD float nn_act(float x, int act, float a, float b) {
    switch (act) {
    case NN_ACT_CLIP: return x < a ? a : x > b ? b : x;
    case NN_ACT_SIGMOID: return nn_sigmoid(x);
    case NN_ACT_HARDSIGMOID: {
        const float t = a * x + b;
        return t < 0.0f ? 0.0f : t > 1.0f ? 1.0f : t;
    }
    default: { /* NN_ACT_HARDSWISH */
        const float t = x / 6.0f + 0.5f;
        return x * (t < 0.0f ? 0.0f : t > 1.0f ? 1.0f : t);
    }
    }
}

/* d act / dx at x times dy. Clip and HardSigmoid pass the gradient strictly
 * inside their linear part (PyTorch's hardtanh and hardsigmoid). */
PIXAB_HD float nn_act_backward(float dy, float x, int act, float a, float b) {
    switch (act) {
    case NN_ACT_CLIP: return x > a && x < b ? dy : 0.0f;
    case NN_ACT_SIGMOID: {
        const float s = nn_sigmoid(x);
        return dy * s * (1.0f - s);
    }
    case NN_ACT_HARDSIGMOID: {
        const float t = a * x + b;
        return t > 0.0f && t < 1.0f ? dy * a : 0.0f;
    }
    default: /* NN_ACT_HARDSWISH, as torch: 0 below -3, x / 3 + 1/2 up to 3, 1 above */
        return x < -3.0f ? 0.0f : x <= 3.0f ? dy * (x / 3.0f + 0.5f) : dy;
    }
}

/* Element (r, k) of a binary op's second input b: the same element, or
 * channel k of r's image when b is per channel (one pixel, hw rows per image). */
PIXAB_HD size_t nn_b_index(size_t r, int k, int ldb, size_t hw, int per_channel) {
    return (per_channel ? r / hw : r) * (size_t)ldb + (size_t)k;
}

/* Gradient of a per-channel scale b[k] of y = a * b over one image: the sum
 * of dy * a over its hw pixels, in pixel order; dy (hw, ldy), a (hw, lda). */
PIXAB_HD float nn_mul_scale_grad(const float *dy, int ldy, const float *a, int lda, size_t hw, int k) {
    float s = 0.0f;
    for (size_t p = 0; p < hw; p++) s += dy[p * (size_t)ldy + k] * a[p * (size_t)lda + k];
    return s;
}

/* Source pixel of output pixel (oy, ox) of a zero padding by (top, left):
 * -1 when it is padding. */
PIXAB_HD long nn_pad_source(int oy, int ox, int h, int w, int top, int left) {
    const int iy = oy - top, ix = ox - left;
    return iy < 0 || iy >= h || ix < 0 || ix >= w ? -1 : (long)iy * w + ix;
}

#endif /* PIXAB_ELTWISE_CUH */
