/* parity.h — what the parts of the GPU parity suite share: the table of
 * checks (each row printed as it is measured, so that a log cut short by a
 * time limit still holds every row so far), error measures, deterministic
 * inputs and the tolerances with why they are what they are.
 *
 * A row passes when err <= tol ("ok"); tol < err <= 2 tol is "warn" (printed
 * and counted, not a failure: close enough to the limit to look at); beyond
 * 2 tol, or NaN, or a failed call (err = inf) is a "MISS". */
#ifndef PIXAB_PARITY_H
#define PIXAB_PARITY_H

#include <stddef.h>

#include "backend.h"
#include "error.h"
#include "graph.h"
#include "pixab.h"

/* Tolerances of fp32 CUDA vs the fp32 CPU backend, from what two independent
 * fp32 implementations were measured to differ by (README, "Correctness":
 * pixab's CPU vs PyTorch), with margin:
 * - TOL_OP: one op, relative to the op's max |output|: sums of at most a few
 *   thousand products in another order (about sqrt(n) * 2^-24 * sum|xw|/max|y|).
 * - TOL_MODEL: whole layers and logits relative to their max |value|: CPU vs
 *   PyTorch measured 6.5e-5 (Mixed_7c, reduced width) and 5.6e-5 (full).
 * - TOL_MAP: maps in [0, 1]: CPU vs PyTorch measured up to 5.7e-4.
 * - TOL_SCORECAM: Score-CAM's min-max of each upsampled channel amplifies the
 *   rounding of near-constant channels: CPU vs PyTorch measured 1.4e-3. */
#define TOL_OP 1e-5
#define TOL_MODEL 1e-4
#define TOL_MAP 1e-3
#define TOL_SCORECAM 5e-3

/* Record one check; returns err. Prints "row: ..." at once. */
double parity_record(const char *what, double err, double tol);
/* printf-style `what`. */
double parity_recordf(double err, double tol, const char *fmt, ...) PIXAB_PRINTF(3, 4);
/* Print the table and the counts; returns the number of misses. */
int parity_report(void);

/* max|a - b| / max|ref| (ref: what was computed, e.g. the CPU's result);
 * NaN or inf anywhere -> inf. */
double parity_rel_err(const float *a, const float *b, const float *ref, size_t n);
/* max|a - b|; NaN -> inf. */
double parity_max_abs(const float *a, const float *b, size_t n);
/* Spearman rank correlation of a and b (average ranks for ties); 1 when both are constant. */
double parity_spearman(const float *a, const float *b, size_t n);

/* Deterministic pseudo-random values uniform in [-1, 1). */
void parity_seed(unsigned long long s);
float parity_rand(void);
void parity_fill(float *v, size_t n);

/* A one-op graph: tensor 0 (h, w, c_in) -> tensor 1 of pre + c_out + post
 * channels, the op writing [pre, pre + c_out); random weights. */
typedef struct {
    const char *name;
    op_kind kind;
    int c_in, c_out;            /* pools and GAP: c_out = c_in */
    int k_h, k_w, s_h, s_w, p_h, p_w, relu;
    int h, w;                   /* input size */
    int pre, post;              /* dst channels before and after the op's slice */
    int ties;                   /* input mostly zeros: max pool windows full of equal maxima */
} op_case;

/* What ONNX models add to a case (all 0: nothing): the ops of eltwise.cuh
 * and the window variants of the direct kernels. */
typedef struct {
    int group, dil, e_h, e_w;   /* conv groups, dilation; bottom / right padding minus top / left */
    int ceil_mode, exclude_pad; /* pools */
    int act;                    /* OP_ACT: nn_act_kind, parameters act_a, act_b */
    float act_a, act_b;
    int in2;                    /* OP_ADD, OP_MUL: a second input, tensor 2 of c_in channels, of the
                                 * input's size (1) or one pixel (2: a per-channel scale) */
} op_variant;

typedef struct {
    op_case c;
    op_variant v;
} variant_case;

/* v: NULL for none. */
int parity_build_graph(graph *g, const op_case *t, const op_variant *v);
/* The one-op cases of parity_ops.c (convolutions, pools, GAP, FC), and
 * those of ONNX models' ops and variants. */
extern const op_case parity_op_cases[];
extern const int parity_n_op_cases;
extern const variant_case parity_variant_cases[];
extern const int parity_n_variant_cases;

/* Buffers of one op run: forward y = y0, then op 0; backward dx = dx0, then
 * += the op's backward for dy, given the forward's output y_fwd. */
typedef struct {
    int n;
    size_t xf, yf;              /* floats of x and y for n images */
    float *x, *y0, *y_fwd, *dy, *dx0;
    size_t x2f;                 /* a second input's floats (0: none); x2 and its gradient: dx2 = dx2_0 + ... */
    float *x2, *dx2_0, *dx2_out;
} op_io;

/* Run op 0 of g on a backend at a pixab_precision; y_out (yf) and dx_out
 * (xf) on the host. A create with fewer images than n (max_batch 3 for n =
 * 8) makes the CUDA backend plan again for a larger batch. */
pixab_status parity_run_op(const backend_ops *be, int device, int precision, const graph *g, const op_io *io,
                           float *y_out, float *dx_out);
/* The CPU's fp32 results for io, y (yf) and dx (xf): its forward first, then
 * io->y_fwd = that forward, so every backend's backward masks with the same y. */
pixab_status parity_cpu_reference(const graph *g, op_io *io, float *y, float *dx);

/* A deterministic input (n, S, S, 3) in about [-2, 2], different per image. */
float *parity_model_input(int S, int n);

/* The backend under test and its engine device name: the CUDA backend and
 * "cuda:0", or with --self-test the CPU backend and "cpu", so that CI runs
 * the harness itself end to end (CPU against CPU; the checks of raw CUDA
 * kernels, precisions below fp32 and allocation failures left out) before a GPU's
 * time is spent on it. */
extern const backend_ops *parity_gpu;
extern int parity_gpu_index;
extern const char *parity_gpu_device;
extern int parity_self_test;

/* The parts of the suite (each records its rows). */
void check_preprocess(void);
void check_ops(void);
void check_xops(void);
/* BOP_GUIDED_RELU on the ReLU convolution cases (guided backpropagation). */
void check_guided_relu(void);
void check_upsample(void);
void check_direct_conv_backward(void);
void check_precision_ops(void);
void check_model(const char *path, const char *tag, int full);
/* Batches of 8-bit images preprocessed on the device, one after another
 * (staged uploads; parity_stage.c), on the model at path. */
void check_staged_images(const char *path);
/* The precision rows of whole maps, on a trained checkpoint (the demo
 * model) and an image (NULL: a synthetic input). */
void check_precision_model(const char *path, const char *image);

#endif
