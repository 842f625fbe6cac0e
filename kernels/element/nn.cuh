/* nn.cuh — per-element logic of the network ops the CUDA backend runs in its
 * own kernels (kernels/nn_kernels.cu): bias + ReLU after a convolution or the
 * FC GEMM, the ReLU mask of the backward pass (plain and guided), global
 * average pooling, the pools (forward where cuDNN has no equivalent: ceil
 * mode, asymmetric pads, padding left out of the average; backward always,
 * also the CPU backend's) and a direct convolution (grouped, depthwise,
 * dilated, asymmetric pads; forward and backward-data, the latter also the
 * fallback where cuDNN has no algorithm). PIXAB_HD functions, so host C code
 * (the CPU backend, tests) can call the very same code. The formulas are the CPU backend's
 * (host/backends/cpu/cpu_backend.c). */
#ifndef PIXAB_NN_CUH
#define PIXAB_NN_CUH

#include <stddef.h>

#include "pixab_hd.h"

/* A pooling or convolution window: size, stride, top / left padding; the
 * output size is given, so bottom / right padding matters only to average
 * pools (what their divisor counts). */
typedef struct {
    int k_h, k_w, s_h, s_w, p_h, p_w;
    int e_h, e_w;    /* bottom / right padding minus top / left (0: symmetric) */
    int d_h, d_w;    /* convolutions: dilation (0 counts as 1) */
    int exclude_pad; /* average pools: divide by the elements inside the image (count_include_pad=0) */
} nn_window;

PIXAB_HD int nn_dilation(int d) { return d > 1 ? d : 1; }

/* Elements an average pool's window (oy, ox) divides by, as PyTorch: the
 * window clipped to the padded image (the declared padding counts, a ceil
 * mode overhang does not), or to the image itself with exclude_pad. */
PIXAB_HD int nn_pool_divisor(int h, int w, int oy, int ox, nn_window win) {
    int y0 = oy * win.s_h - win.p_h, x0 = ox * win.s_w - win.p_w;
    int y1 = y0 + win.k_h, x1 = x0 + win.k_w;
    const int yend = h + win.p_h + win.e_h, xend = w + win.p_w + win.e_w;
    y1 = y1 < yend ? y1 : yend, x1 = x1 < xend ? x1 : xend;
    if (win.exclude_pad) {
        y0 = y0 > 0 ? y0 : 0, x0 = x0 > 0 ? x0 : 0;
        y1 = y1 < h ? y1 : h, x1 = x1 < w ? x1 : w;
    }
    const int n = (y1 - y0) * (x1 - x0);
    return n > 0 ? n : 1;
}

/* Output (oy, ox) of a max or average pool at one channel of one image x
 * (h, w), pixel stride ldx: the maximum of the window inside the image, or
 * its sum times 1 / nn_pool_divisor; windows in row-major order (the CPU's). */
PIXAB_HD float nn_pool_at(const float *x, int ldx, int h, int w, int oy, int ox, nn_window win, int is_max) {
    float acc = is_max ? -3.402823466e38f : 0.0f;
    for (int ky = 0; ky < win.k_h; ky++) {
        const int iy = oy * win.s_h - win.p_h + ky;
        if (iy < 0 || iy >= h) continue;
        for (int kx = 0; kx < win.k_w; kx++) {
            const int ix = ox * win.s_w - win.p_w + kx;
            if (ix < 0 || ix >= w) continue;
            const float v = x[((size_t)iy * w + ix) * (size_t)ldx];
            if (is_max) acc = v > acc ? v : acc;
            else acc += v;
        }
    }
    return is_max ? acc : acc * (1.0f / (float)nn_pool_divisor(h, w, oy, ox, win));
}

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

/* Backward of a max or average pool at one input element (iy, ix) of one
 * channel: dx plus the dy of every window that covers it, windows in
 * row-major order; an average window's share is 1 / nn_pool_divisor. A max
 * window gives its gradient to its first element (row-major) equal to its
 * output y: PyTorch's rule, and one that does not depend on a library's
 * undocumented choice among ties (post-ReLU zeros make all-equal windows
 * common). A gather: one caller per dx element, no atomics, and the sum runs
 * in the order a scatter over the windows would. x (h, w) of the image at the
 * element's channel, pixel stride ldx; y, dy (oh, ow) likewise, stride ldy. */
PIXAB_HD float nn_pool_backward_at(float dx, const float *x, int ldx, int h, int w, const float *y, const float *dy,
                                   int ldy, int oh, int ow, int iy, int ix, nn_window win, int is_max) {
    int oy0, oy1, ox0, ox1;
    nn_windows_over(iy, oh, win.k_h, win.s_h, win.p_h, &oy0, &oy1);
    nn_windows_over(ix, ow, win.k_w, win.s_w, win.p_w, &ox0, &ox1);
    for (int oy = oy0; oy <= oy1; oy++)
        for (int ox = ox0; ox <= ox1; ox++) {
            const size_t out = ((size_t)oy * ow + ox) * (size_t)ldy;
            if (!is_max) {
                dx += dy[out] * (1.0f / (float)nn_pool_divisor(h, w, oy, ox, win));
                continue;
            }
            /* The window's first maximum: is it (iy, ix)? */
            int hit = 0, done = 0;
            for (int ky = 0; ky < win.k_h && !done; ky++) {
                const int yy = oy * win.s_h - win.p_h + ky;
                if (yy < 0 || yy >= h) continue;
                for (int kx = 0; kx < win.k_w && !done; kx++) {
                    const int xx = ox * win.s_w - win.p_w + kx;
                    if (xx < 0 || xx >= w) continue;
                    if (x[((size_t)yy * w + xx) * (size_t)ldx] == y[out]) done = 1, hit = yy == iy && xx == ix;
                }
            }
            if (hit) dx += dy[out];
        }
    return dx;
}

/* Output (oy, ox, co) of a convolution (cross-correlation) of one image x
 * (h, w, ldx) before its bias: weights (c_out, k_h, k_w, c_in / group), input
 * channels of co's group, dilated window, zero outside the image. Direct: the
 * grouped and depthwise convolutions (both backends) and the ones cuDNN
 * cannot express (asymmetric pads) run it. */
PIXAB_HD float nn_conv_at(const float *x, int ldx, int h, int w, const float *wt, int c_in, int c_out, int group,
                          nn_window win, int oy, int ox, int co) {
    const int cig = c_in / group, g = co / (c_out / group), dh = nn_dilation(win.d_h), dw = nn_dilation(win.d_w);
    const float *wk = wt + (size_t)co * win.k_h * win.k_w * cig;
    float sum = 0.0f;
    for (int ky = 0; ky < win.k_h; ky++) {
        const int iy = oy * win.s_h - win.p_h + ky * dh;
        if (iy < 0 || iy >= h) continue;
        for (int kx = 0; kx < win.k_w; kx++) {
            const int ix = ox * win.s_w - win.p_w + kx * dw;
            if (ix < 0 || ix >= w) continue;
            const float *xp = x + ((size_t)iy * w + ix) * (size_t)ldx + (size_t)g * cig;
            const float *wp = wk + ((size_t)ky * win.k_w + kx) * (size_t)cig;
            for (int ci = 0; ci < cig; ci++) sum += xp[ci] * wp[ci];
        }
    }
    return sum;
}

/* Backward-data of a convolution (cross-correlation, weights (c_out, k_h,
 * k_w, c_in / group), dilated window) at one input element (iy, ix, ci): the
 * sum over the outputs of ci's group that read it of dz * w. dz (oh, ow,
 * c_out) packed, of one image. Direct: the CPU backend's for grouped
 * convolutions, the CUDA backend's for those and where cuDNN offers no
 * algorithm. */
PIXAB_HD float nn_conv_backward_data_at(const float *dz, int oh, int ow, int c_out, const float *wt, int c_in,
                                        int group, nn_window win, int iy, int ix, int ci) {
    const int cig = c_in / group, cog = c_out / group, g = ci / cig, dh = nn_dilation(win.d_h),
              dw = nn_dilation(win.d_w);
    const size_t kk = (size_t)win.k_h * win.k_w * cig;
    float sum = 0.0f;
    for (int ky = 0; ky < win.k_h; ky++) {
        const int ty = iy + win.p_h - ky * dh;
        if (ty < 0 || ty % win.s_h) continue;
        const int oy = ty / win.s_h;
        if (oy >= oh) continue;
        for (int kx = 0; kx < win.k_w; kx++) {
            const int tx = ix + win.p_w - kx * dw;
            if (tx < 0 || tx % win.s_w) continue;
            const int ox = tx / win.s_w;
            if (ox >= ow) continue;
            const float *d = dz + ((size_t)oy * ow + ox) * (size_t)c_out;
            const float *wk = wt + ((size_t)ky * win.k_w + kx) * (size_t)cig + (ci - g * cig);
            for (int co = g * cog; co < (g + 1) * cog; co++) sum += d[co] * wk[(size_t)co * kk];
        }
    }
    return sum;
}

#endif /* PIXAB_NN_CUH */
