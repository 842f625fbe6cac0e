/* cpu_eltwise.h — the CPU backend's elementwise ops (OP_ADD, OP_MUL, OP_ACT)
 * and zero padding (OP_PAD), forward and backward (cpu_eltwise.c). */
#ifndef PIXAB_CPU_ELTWISE_H
#define PIXAB_CPU_ELTWISE_H

#include "graph.h"

/* Op o on n images: x (and x2, the second input of OP_ADD / OP_MUL) whole
 * tensors, y o's whole dst tensor, of which it writes its channel slice. */
void cpu_eltwise_forward(const graph *g, const graph_op *o, int n, const float *x, const float *x2, float *y);
/* dx (and dx2) += the gradient through o of dy's slice (masked in place by a
 * ReLU of OP_ADD); x, x2, y as in the forward. */
void cpu_eltwise_backward(const graph *g, const graph_op *o, int n, const float *x, const float *x2, const float *y,
                          float *dx, float *dx2, float *dy);

#endif
