/* nn.cuh — per-element logic of the network ops the CUDA backend runs in its
 * own kernels (kernels/nn_kernels.cu): bias + ReLU after a convolution or the
 * FC GEMM, the ReLU mask of the backward pass and global average pooling.
 * PIXAB_HD functions, so host C code (the CPU backend, tests) can call the
 * very same code. The formulas are the CPU backend's (host/cpu_backend.c). */
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

/* Mean of channel k over hw pixels of one image x (hw, ld), summed in pixel
 * order (the CPU's order), then divided by hw. */
PIXAB_HD float nn_gap_channel(const float *x, size_t hw, int ld, int k) {
    float s = 0.0f;
    for (size_t p = 0; p < hw; p++) s += x[p * (size_t)ld + k];
    return s / (float)hw;
}

#endif /* PIXAB_NN_CUH */
