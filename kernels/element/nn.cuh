/* nn.cuh — per-element logic of the network ops the CUDA backend runs in its
 * own kernels (kernels/nn_kernels.cu): bias + ReLU after a convolution or the
 * FC GEMM, the ReLU mask of the backward pass (plain and guided), global average pooling, the
 * backward of max and average pools (also the CPU backend's) and a direct
 * convolution backward-data (the fallback where cuDNN has no algorithm).
 * PIXAB_HD functions, so host C code (the CPU backend, tests) can call the
 * very same code. The formulas are the CPU backend's
 * (host/backends/cpu/cpu_backend.c). */
#ifndef PIXAB_NN_CUH
#define PIXAB_NN_CUH

#include <stddef.h>

#include "pixab_hd.h"

/* Output of a conv / FC element: v + b, then ReLU when relu (NaN -> 0, as on the CPU). */
PIXAB_HD float nn_bias_act(float v, float b, int relu) {
    float z = v + b;
    return relu ? (z > 0.0f ? z : 0.0f) : z;
}

/* Backward of y = ReLU(z): dz = dy where y > 0, else 0. */
PIXAB_HD float nn_relu_mask(float dy, float y) { return y > 0.0f ? dy : 0.0f; }

/* Guided backpropagation's ReLU backward (Springenberg et al.): dz = dy where
 * both y > 0 and dy > 0, else 0. */
PIXAB_HD float nn_guided_relu_mask(float dy, float y) { return y > 0.0f && dy > 0.0f ? dy : 0.0f; }

/* Mean of channel k over hw pixels of one image x (hw, ld), summed in pixel
 * order (the CPU's order), then divided by hw. */
PIXAB_HD float nn_gap_channel(const float *x, size_t hw, int ld, int k) {
    float s = 0.0f;
    for (size_t p = 0; p < hw; p++) s += x[p * (size_t)ld + k];
    return s / (float)hw;
}

/* Windows of a pooling or convolution axis that read input position i:
 * outputs [*lo, *hi] (empty when lo > hi) of n, for window k, stride s, pad p. */
PIXAB_HD void nn_windows_over(int i, int n, int k, int s, int p, int *lo, int *hi) {
    const int first = i + p - k + 1; /* smallest o * s that still reaches i */
    *lo = first <= 0 ? 0 : (first + s - 1) / s;
    *hi = (i + p) / s;
    if (*hi > n - 1) *hi = n - 1;
}

/* Backward of a max or average pool (average: the padding counted, as
 * torchvision) at one input element (iy, ix) of one channel: dx plus the dy
 * of every window that covers it, windows in row-major order. A max window
 * gives its gradient to its first element (row-major) equal to its output y:
 * PyTorch's rule, and one that does not depend on a library's undocumented
 * choice among ties (post-ReLU zeros make all-equal windows common). A
 * gather: one caller per dx element, no atomics, and the sum runs in the
 * order a scatter over the windows would. x (h, w) of the image at the
 * element's channel, pixel stride ldx; y, dy (oh, ow) likewise, stride ldy. */
PIXAB_HD float nn_pool_backward_at(float dx, const float *x, int ldx, int h, int w, const float *y, const float *dy,
                                   int ldy, int oh, int ow, int iy, int ix, int k_h, int k_w, int s_h, int s_w,
                                   int p_h, int p_w, int is_max) {
    const float inv = 1.0f / (float)(k_h * k_w);
    int oy0, oy1, ox0, ox1;
    nn_windows_over(iy, oh, k_h, s_h, p_h, &oy0, &oy1);
    nn_windows_over(ix, ow, k_w, s_w, p_w, &ox0, &ox1);
    for (int oy = oy0; oy <= oy1; oy++)
        for (int ox = ox0; ox <= ox1; ox++) {
            const size_t out = ((size_t)oy * ow + ox) * (size_t)ldy;
            if (!is_max) {
                dx += dy[out] * inv;
                continue;
            }
            /* The window's first maximum: is it (iy, ix)? */
            int hit = 0, done = 0;
            for (int ky = 0; ky < k_h && !done; ky++) {
                const int yy = oy * s_h - p_h + ky;
                if (yy < 0 || yy >= h) continue;
                for (int kx = 0; kx < k_w && !done; kx++) {
                    const int xx = ox * s_w - p_w + kx;
                    if (xx < 0 || xx >= w) continue;
                    if (x[((size_t)yy * w + xx) * (size_t)ldx] == y[out]) done = 1, hit = yy == iy && xx == ix;
                }
            }
            if (hit) dx += dy[out];
        }
    return dx;
}

/* Backward-data of a convolution (cross-correlation, weights (c_out, k_h,
 * k_w, c_in)) at one input element (iy, ix, ci): the sum over the outputs
 * that read it of dz * w. dz (oh, ow, c_out) packed, of one image. Direct
 * and slow: the CUDA backend's fallback when cuDNN offers no algorithm. */
PIXAB_HD float nn_conv_backward_data_at(const float *dz, int oh, int ow, int c_out, const float *wt, int c_in,
                                        int k_h, int k_w, int s_h, int s_w, int p_h, int p_w, int iy, int ix,
                                        int ci) {
    float sum = 0.0f;
    for (int ky = 0; ky < k_h; ky++) {
        const int ty = iy + p_h - ky;
        if (ty < 0 || ty % s_h) continue;
        const int oy = ty / s_h;
        if (oy >= oh) continue;
        for (int kx = 0; kx < k_w; kx++) {
            const int tx = ix + p_w - kx;
            if (tx < 0 || tx % s_w) continue;
            const int ox = tx / s_w;
            if (ox >= ow) continue;
            const float *d = dz + ((size_t)oy * ow + ox) * (size_t)c_out;
            const float *wk = wt + ((size_t)ky * k_w + kx) * (size_t)c_in + ci;
            for (int co = 0; co < c_out; co++) sum += d[co] * wk[(size_t)co * k_h * k_w * c_in];
        }
    }
    return sum;
}

#endif /* PIXAB_NN_CUH */
