/* graph.h — a CNN as a flat list of ops over NHWC tensors, in forward order,
 * with named layers (torchvision names) that split it into body and head.
 * Concatenation is free: an op writes its output into a channel slice of its
 * destination tensor (dst_c0 ...), so a block's branches share one tensor.
 * The graph owns the (BN-folded) weights in one allocation. */
#ifndef PIXAB_GRAPH_H
#define PIXAB_GRAPH_H

#include <stddef.h>

#include "pixab.h"

typedef enum {
    OP_CONV, OP_MAXPOOL, OP_AVGPOOL, OP_GAP, OP_FC,
    /* ---- ops of ONNX models (per-element logic: kernels/element/eltwise.cuh) */
    OP_ADD, /* dst = src + src2 (same shape), then ReLU when relu: residuals */
    OP_MUL, /* dst = src * src2, src2 the same shape or one pixel per image (per-channel scaling) */
    OP_ACT, /* dst = act(src): nn_act_kind act with act_a, act_b */
    OP_PAD  /* dst = src zero-padded by p_h, p_w (top, left) and p_h + e_h, p_w + e_w (bottom, right) */
} op_kind;

typedef struct { int c, h, w; } tshape; /* per image; tensors are (N, h, w, c) */

typedef struct {
    op_kind kind;
    int src, dst;                 /* tensor ids */
    int dst_c0;                   /* first channel of this op's slice of dst */
    int c_in, c_out;              /* pools: c_out == c_in */
    int k_h, k_w, s_h, s_w, p_h, p_w; /* window; GAP and FC: 1 */
    int relu;                     /* conv, FC, add: ReLU after bias */
    int src2;                     /* OP_ADD, OP_MUL: the second input tensor (graph_op_inputs) */
    int e_h, e_w;                 /* bottom / right padding minus top / left (asymmetric pads; 0: symmetric) */
    int d_h, d_w;                 /* conv: dilation (graph_add_op: 0 -> 1) */
    int group;                    /* conv: groups (graph_add_op: 0 -> 1); weights (c_out, k_h, k_w, c_in / group) */
    int ceil_mode;                /* pools: output sizes rounded up (PyTorch's rule: no window starts in the padding) */
    int exclude_pad;              /* average pool: divide by the elements inside the image (count_include_pad=0) */
    int flat;                     /* conv: a fully connected layer over flattened (h, w, c) features: its window
                                   * is its whole input (graph_infer_shapes checks the output is 1x1) */
    int act;                      /* OP_ACT: an nn_act_kind */
    float act_a, act_b;           /* OP_ACT: its parameters (Clip: min, max; HardSigmoid: alpha, beta) */
    size_t w_off, b_off;          /* into graph.params: w (c_out, k_h, k_w, c_in), b (c_out) */
    char name[64];                /* module prefix, e.g. "Mixed_5b.branch1x1" */
} graph_op;

/* Bytes of a layer name with its NUL (ONNX tensor names can be long). */
#define GRAPH_LAYER_NAME 128

typedef struct {
    char name[GRAPH_LAYER_NAME];  /* "Conv2d_1a_3x3", "Mixed_5b", "fc", an ONNX tensor name ... */
    int end_op;                   /* ops [previous layer's end_op, end_op) */
    int out;                      /* tensor the layer produces */
} graph_layer;

typedef struct {
    graph_op *ops;       int n_ops, cap_ops;
    tshape *tensors;     int n_tensors, cap_tensors; /* tensor 0: the input image */
    graph_layer *layers; int n_layers, cap_layers;
    float *params;       size_t n_params; /* every w_off / b_off a multiple of GRAPH_PARAM_ALIGN */
    int input_size;      /* S the shapes were inferred for */
    int default_layer;   /* the usual CAM target: the last spatial layer before global pooling */
} graph;

/* Weight and bias offsets are multiples of this many floats: 512 bytes in
 * fp32 and 256 bytes in the CUDA backend's 16-bit copy, the alignment cuDNN
 * and cuBLAS want for their fastest kernels (the gaps stay zero). */
#define GRAPH_PARAM_ALIGN 128

/* Building (used by model builders such as inception_v3.c). */
/* Room for n params, at the next aligned offset: returns it and advances n_params. */
size_t graph_reserve_params(graph *g, size_t n);
int graph_add_tensor(graph *g, int channels);               /* -1 on NOMEM */
int graph_add_op(graph *g, const graph_op *op);              /* appends to dst's channels; -1 on NOMEM */
/* Input tensors op o reads: 1, or 2 (src, src2) for OP_ADD and OP_MUL. */
int graph_op_inputs(const graph_op *o);
/* Whether op o's output is a ReLU's: fused into it (relu), or a standalone
 * ReLU (OP_ACT clipping to [0, inf), an ONNX Relu that could not be fused). */
int graph_op_is_relu(const graph_op *o);
/* Whether op o is a convolution with groups, dilation or asymmetric pads. */
int graph_conv_is_general(const graph_op *o);
int graph_add_layer(graph *g, const char *name, int out);   /* ends at the current op */
void graph_free(graph *g);
/* dst = an independent deep copy of src (ops, shapes, layers, params). */
pixab_status graph_copy(graph *dst, const graph *src);

/* Spatial sizes of every tensor for an S x S input; error if any size < 1. */
pixab_status graph_infer_shapes(graph *g, int input_size);
/* Weights of a convolution or FC op, (c_out, k_h, k_w, c_in) floats; 0 for
 * the other ops (its bias: c_out more). */
size_t graph_op_weights(const graph_op *o);
/* Floats per image of tensor t. */
size_t graph_tensor_floats(const graph *g, int t);
/* First op of layer l (the body of l is ops [0, layers[l].end_op)). */
int graph_layer_begin(const graph *g, int l);

/* Memory plan for running ops [first_op, n_ops) on `batch` images: an offset
 * in floats for every tensor those ops touch, such that tensors alive at the
 * same time never overlap (reuse = 0: no tensor shares memory, as a backward
 * pass needs). Tensors the ops do not touch get no memory (offset 0, unusable).
 * Returns the arena size in floats (0 when out of memory). offsets: n_tensors. */
size_t graph_plan_memory(const graph *g, int batch, int first_op, int reuse, size_t *offsets);
/* The same for the ops i >= first_op with run[i] (run: n_ops flags; NULL:
 * all). A tensor those ops read that an op outside them writes (an input)
 * lives from the start. */
size_t graph_plan_memory_ops(const graph *g, int batch, int first_op, const unsigned char *run, int reuse,
                             size_t *offsets);

/* The head of layer l on a graph with skip connections: run[i] = 1 for the
 * ops i >= layers[l].end_op that depend on the layer's output (those of
 * its head), 0 for every other op; side[0 .. *n_side) = the tensors, other
 * than the layer's output, that those ops read and that are not made by them
 * alone: what the body computes and the head needs unchanged (a residual
 * skip that bypasses the layer, a concatenation's other branches), in
 * ascending order; side_ready[k] = the last op writing side[k] (-1: the
 * input). The layer is a plain cut when *n_side == 0 and every op after it
 * runs. run: n_ops; side, side_ready: n_tensors. -1 when out of memory. */
int graph_head_split(const graph *g, int l, unsigned char *run, int *side, int *side_ready, int *n_side);

#endif
