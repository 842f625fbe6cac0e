/* nn_kernels.h — launchers of the CUDA backend's own network kernels
 * (nn_kernels.cu): the elementwise work around cuDNN and cuBLAS. Callable from
 * C; only built with PIXAB_WITH_CUDA. All pointers are device memory; tensors
 * are rows of channels (NHWC pixels), a row of a channel slice being `c`
 * floats at a stride of `ld` floats (ld >= c). Each launcher checks its
 * arguments (PIXAB_ERR_ARG), queues on `stream` (a cudaStream_t; NULL = the
 * default stream) and returns once queued. */
#ifndef PIXAB_NN_KERNELS_H
#define PIXAB_NN_KERNELS_H

#include <stddef.h>

#include "nn.cuh" /* nn_window */
#include "pixab.h"

#ifdef __cplusplus
extern "C" {
#endif

/* dst[r, k] = nn_bias_act(src[r, k], bias ? bias[k] : 0, relu) for rows x c;
 * dst (rows, ldd), src (rows, lds), bias (c) or NULL. src may be dst (same
 * ld): in place. bias NULL and relu 0: a copy between slices. */
pixab_status nn_bias_act_cuda(float *dst, int ldd, const float *src, int lds, const float *bias, size_t rows, int c,
                              int relu, void *stream);

/* dz[r, k] = nn_relu_mask(dy[r, k], y[r, k]); dz (rows, ldz), dy (rows, ldy),
 * y (rows, ldyy). dz may be dy (same ld): in place. */
pixab_status nn_relu_mask_cuda(float *dz, int ldz, const float *dy, int ldy, const float *y, int ldyy, size_t rows,
                               int c, void *stream);

/* Guided backpropagation's ReLU backward, in place: dy[r, k] =
 * nn_guided_relu_mask(dy[r, k], y[r, k]); dy (rows, ldy), y (rows, ldyy). */
pixab_status nn_guided_relu_mask_cuda(float *dy, int ldy, const float *y, int ldyy, size_t rows, int c, void *stream);

/* Global average pooling of n images: y[i, k] = mean over hw pixels of
 * x[i, p, k]; x (n, hw, ldx), y (n, ldy): y points at the op's first channel. */
pixab_status nn_gap_cuda(float *y, int ldy, const float *x, int ldx, int n, size_t hw, int c, void *stream);

/* Its backward: dx[i, p, k] += dy[i, k] / hw; dx (n, hw, ldx), dy (n, ldy). */
pixab_status nn_gap_backward_cuda(float *dx, int ldx, const float *dy, int ldy, int n, size_t hw, int c,
                                  void *stream);

/* A max (is_max) or average pool of n images where cuDNN has no equivalent
 * (ceil mode, asymmetric pads, padding left out of the average):
 * y[i, oy, ox, k] = nn_pool_at(...); x (n, h, w, ldx), y (n, oh, ow, ldy)
 * pointing at the op's first channel. */
pixab_status nn_pool_cuda(float *y, int ldy, const float *x, int ldx, int n, int h, int w, int oh, int ow, int c,
                          nn_window win, int is_max, void *stream);

/* Backward of a max (is_max) or average pool of n images:
 * dx[i, p, k] = nn_pool_backward_at(...) for every element of dx (n, h, w,
 * ldx)'s first c channels; x its forward input (same layout), y and dy its
 * output and output gradient (n, oh, ow, ldy), pointing at the op's first
 * channel. Max: the first maximum of a window takes its gradient. */
pixab_status nn_pool_backward_cuda(float *dx, int ldx, const float *x, const float *y, const float *dy, int ldy,
                                   int n, int h, int w, int oh, int ow, int c, nn_window win, int is_max,
                                   void *stream);

/* Direct convolution of n images: y (n, oh, ow, ldy)[.., :c_out] =
 * nn_bias_act(nn_conv_at(...), bias, relu), y pointing at the op's first
 * channel; x (n, h, w, ldx), wt (c_out, k_h, k_w, c_in / group). One thread
 * per output element: for grouped / depthwise convolutions and those cuDNN
 * cannot express (dilated, asymmetric pads). */
pixab_status nn_conv_direct_cuda(float *y, int ldy, const float *x, int ldx, const float *wt, const float *bias, int n,
                                 int h, int w, int c_in, int oh, int ow, int c_out, int group, nn_window win, int relu,
                                 void *stream);

/* Direct convolution backward-data of n images: dx (n, h, w, ldx)[.., :c_in]
 * += conv_transpose(dz, wt); dz (n, oh, ow, c_out) packed, wt (c_out, k_h,
 * k_w, c_in / group). One thread per dx element (nn_conv_backward_data_at):
 * for the direct convolutions and those cuDNN has no backward-data algorithm for. */
pixab_status nn_conv_backward_data_cuda(float *dx, int ldx, const float *dz, const float *wt, int n, int h, int w,
                                        int c_in, int oh, int ow, int c_out, int group, nn_window win, void *stream);

#ifdef __cplusplus
}
#endif
#endif /* PIXAB_NN_KERNELS_H */
