/* pixab.h — the public C API of pixab, a C11 + CUDA engine for CAM explanations
 * (Pixab-CAM and its baselines) of CNN image classifiers; first model Inception-V3.
 *
 * Use:
 *   pixab_model *m;   pixab_model_load("model.safetensors", &m);
 *   pixab_engine *e;  pixab_engine_create(m, "cpu", 8, &e);
 *   pixab_image img;  pixab_image_load("cat.jpg", &img);
 *   float *x = malloc(...);  pixab_image_preprocess(&img, pixab_model_preproc(m), x);
 *   pixab_engine_forward(e, x, 1, logits);
 * Every call returns a pixab_status; on failure pixab_last_error() holds a one-line
 * reason (per thread). The library never prints and never exits.
 *
 * Layout: images and activations are NHWC float32, batch first:
 * input (N, S, S, 3), activation at a layer (N, H, W, C), logits (N, classes). */
#ifndef PIXAB_H
#define PIXAB_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    PIXAB_OK = 0,
    PIXAB_ERR_ARG,       /* bad argument: unknown name, out-of-range value */
    PIXAB_ERR_IO,        /* cannot open, read, map or write a file */
    PIXAB_ERR_FORMAT,    /* malformed file: safetensors, image, ... */
    PIXAB_ERR_SHAPE,     /* a tensor is missing or has the wrong shape */
    PIXAB_ERR_NOMEM,     /* allocation failed or a size overflowed */
    PIXAB_ERR_DEVICE,    /* no CUDA device, or a CUDA/cuDNN/cuBLAS failure */
    PIXAB_ERR_UNSUPPORTED, /* a capability this build does not have */
    PIXAB_ERR_CANCELLED  /* pixab_cancel was called: the work was abandoned, nothing partial returned */
} pixab_status;

/* Ask every engine to stop: the running call (and every later one, until
 * pixab_cancel_reset) returns PIXAB_ERR_CANCELLED at its next check, between
 * two ops of a forward or backward pass or two chunks of a head, so within
 * about one op's time. Async-signal-safe: a SIGINT handler may call it. */
void pixab_cancel(void);
void pixab_cancel_reset(void);

/* One-line reason for the last failure on this thread ("" if none). */
const char *pixab_last_error(void);
/* Short name of a status code ("io error", ...). */
const char *pixab_status_name(pixab_status s);

/* Diagnostics that are not errors (the cuDNN algorithm each convolution got,
 * a fallback taken): the library calls fn with one line (no newline). NULL,
 * the default, drops them. Process-wide; set it before creating engines. */
typedef void (*pixab_log_fn)(const char *line, void *user);
void pixab_set_log(pixab_log_fn fn, void *user);

/* ---- images and preprocessing ------------------------------------------ */

typedef struct {
    int width, height;
    unsigned char *rgb; /* (height, width, 3), 8-bit RGB */
} pixab_image;

/* Largest accepted image side and pixel count (decompression-bomb guard). */
#define PIXAB_IMAGE_MAX_SIDE 16384
#define PIXAB_IMAGE_MAX_PIXELS (1 << 26)

typedef struct {
    int size;       /* S: the network input is S x S */
    float mean[3];  /* per channel, applied to [0,1] values */
    float std[3];
} pixab_preproc;

/* Decode a JPEG/PNG/BMP/TGA/GIF/... file; gray becomes RGB, alpha is dropped. */
pixab_status pixab_image_load(const char *path, pixab_image *out);
pixab_status pixab_image_load_memory(const unsigned char *data, size_t size, pixab_image *out);
void pixab_image_free(pixab_image *img);
/* An upper bound of the memory pixab_image_load takes at its peak for the
 * file at path (the file's bytes, the decoder's buffers, the RGB result),
 * from its size and header alone, without decoding: e.g. a 16-bit RGBA PNG
 * needs about 16 bytes per pixel, a JPEG at most 3 + 2 per component. Files
 * pixab_image_load refuses from their header cost their size. */
pixab_status pixab_image_memory(const char *path, size_t *bytes);
/* [0,1] -> bilinear resize to S x S (half-pixel centres; identity when already
 * S x S) -> (x - mean)/std.  out: (S, S, 3). */
pixab_status pixab_image_preprocess(const pixab_image *img, const pixab_preproc *p, float *out);

/* ---- model --------------------------------------------------------------- */

typedef struct pixab_model pixab_model;

/* Load an Inception-V3 checkpoint (safetensors, torchvision/timm names;
 * F32/F16/BF16), or, for a path ending in .onnx, an ONNX CNN classifier
 * (opset 11-17; the ops README.md lists; float32/float16 weights inside the
 * file). Channel counts and classes come from the tensor shapes; BN is folded
 * into the convolutions. */
pixab_status pixab_model_load(const char *path, pixab_model **out);
void pixab_model_free(pixab_model *m);

int pixab_model_num_classes(const pixab_model *m);
/* Preprocessing the checkpoint asks for (metadata pixab.mean/std/input_size,
 * else mean = std = 0.5, S = 299; for ONNX, else torchvision's ImageNet mean
 * and std and the input's static size, else 224). */
const pixab_preproc *pixab_model_preproc(const pixab_model *m);
/* Override it (CLI flags); layer shapes follow the new input size. Engines
 * created before keep the old one. */
pixab_status pixab_model_set_preproc(pixab_model *m, const pixab_preproc *p);
/* Class name from metadata "pixab.classes" (comma separated), or NULL. */
const char *pixab_model_class_name(const pixab_model *m, int cls);

/* Addressable layers, in forward order: Conv2d_1a_3x3 ... maxpool2, Mixed_5b ...
 * Mixed_7c, avgpool, fc; for ONNX, the ONNX names of the tensors where the
 * graph can be cut (what follows reads only that tensor), then the globally
 * pooled tensor and the logits. */
int pixab_model_num_layers(const pixab_model *m);
/* The usual CAM target: the last spatial layer before global pooling
 * (Mixed_7c for Inception-V3). */
int pixab_model_default_layer(const pixab_model *m);
const char *pixab_model_layer_name(const pixab_model *m, int layer);
/* Index of a layer by name, or -1 (and an error naming it) if unknown. */
int pixab_model_find_layer(const pixab_model *m, const char *name);
/* Per-image output shape of a layer for the model's input size. */
pixab_status pixab_model_layer_shape(const pixab_model *m, int layer, int *c, int *h, int *w);
/* What produces a layer's output: "concat" when several ops write channel
 * slices of it (an Inception block, an ONNX Concat), else its op: "conv",
 * "maxpool", "avgpool", "gap" or "fc"; NULL when out of range. */
const char *pixab_model_layer_op(const pixab_model *m, int layer);
/* Weights and biases of a layer's ops (0 for a pooling layer), BN folded. */
size_t pixab_model_layer_num_params(const pixab_model *m, int layer);
/* Cascading randomisation (Adebayo et al., "Sanity Checks for Saliency
 * Maps"): *out = an independent copy of m (free with pixab_model_free) whose
 * layers [from_layer, num_layers) have random weights: each weight tensor and
 * bias of their convolutions and FC replaced by i.i.d. Gaussian draws with
 * its own mean and (population) standard deviation, BN folded. The draws of
 * an op depend only on (seed, the op), so along a cascade (fc, then Mixed_7c
 * and fc, ...) a layer keeps its random weights once randomised.
 * from_layer = num_layers gives an unchanged copy. */
pixab_status pixab_model_randomize(const pixab_model *m, int from_layer, uint64_t seed, pixab_model **out);
/* "a,b,c" (or one value for all three) into v[3], as the checkpoint's
 * pixab.mean / pixab.std metadata; errors name `what`. */
pixab_status pixab_parse_triple(const char *what, const char *text, float v[3]);

/* ---- engine: a model on a device, buffers planned for a maximum batch ------ */

typedef struct pixab_engine pixab_engine;

/* device: "cpu", "cuda", "cuda:K" or "auto" (CUDA when usable, else CPU).
 * The engine shares the model's weights and graph: the model must outlive
 * every engine made from it. */
pixab_status pixab_engine_create(const pixab_model *m, const char *device, int max_batch,
                                 pixab_engine **out);
void pixab_engine_destroy(pixab_engine *e);
/* "cpu" or "cuda:K". */
const char *pixab_engine_device(const pixab_engine *e);
/* The model's classes and input size S, and the most images per body forward. */
int pixab_engine_num_classes(const pixab_engine *e);
int pixab_engine_input_size(const pixab_engine *e);
int pixab_engine_max_batch(const pixab_engine *e);

/* Arithmetic of the heavy ops (convolutions, GEMMs). FP32 (the default) is
 * plain fp32 everywhere; TF32 runs fp32 data on TF32 tensor cores; FP16 and
 * BF16 convert weights and inputs of the convolutions and GEMMs to half
 * precision with fp32 accumulation (activations between ops stay fp32). The
 * CPU backend has FP32 only (PIXAB_ERR_UNSUPPORTED otherwise). */
typedef enum {
    PIXAB_PRECISION_FP32,
    PIXAB_PRECISION_TF32,
    PIXAB_PRECISION_FP16,
    PIXAB_PRECISION_BF16,
    PIXAB_PRECISION_COUNT
} pixab_precision;

/* "fp32", "tf32", "fp16", "bf16". */
const char *pixab_precision_name(pixab_precision p);
/* -1 (and an error naming it) when unknown. */
int pixab_precision_from_name(const char *name);
pixab_status pixab_engine_set_precision(pixab_engine *e, pixab_precision p);
pixab_precision pixab_engine_precision(const pixab_engine *e);

/* Memory for the explanation batches (the ablated copies of one image's
 * activation run through the head, DESIGN.md §4): chunks of as many items as
 * fit in `bytes` of activations (at least one item, at most 4096). 0, the
 * default, is automatic: 256 MiB on the CPU; on CUDA half the device memory
 * free when the first explanation is planned (after the body's buffers),
 * capped at 8 GiB. The plan is rebuilt on the next explanation when the budget
 * changes. When the backend cannot allocate the budget, the chunks shrink
 * (halving) before an explanation fails with PIXAB_ERR_NOMEM. The maps depend
 * on the budget only through rounding (a GEMM may round a row by its place in
 * the call: about 3e-6 on the CPU with OpenBLAS's AVX2 kernels). */
pixab_status pixab_engine_set_head_budget(pixab_engine *e, size_t bytes);

/* Host memory for inputs that the engine uploads fastest: page-locked on a
 * CUDA engine (the copy to the device is DMA, not staged through the
 * driver's buffers), plain memory on the CPU. Free with
 * pixab_engine_host_free on the same engine, before destroying it. Worth it
 * for a buffer that is filled and uploaded again and again (a batch). */
pixab_status pixab_engine_host_alloc(pixab_engine *e, size_t bytes, void **out);
void pixab_engine_host_free(pixab_engine *e, void *p);

/* input (n, S, S, 3) -> logits (n, classes). n <= max_batch. */
pixab_status pixab_engine_forward(pixab_engine *e, const float *input, int n, float *logits);
/* Body: input (n, S, S, 3) -> activation of `layer` (n, H, W, C). */
pixab_status pixab_engine_body(pixab_engine *e, const float *input, int n, int layer, float *act);
/* Head: activation of `layer` (n, H, W, C) -> logits (n, classes).
 * PIXAB_ERR_UNSUPPORTED for a layer whose head also reads tensors that
 * bypass it (inside a residual or Inception block): those run through
 * pixab_explain, which keeps them. */
pixab_status pixab_engine_head(pixab_engine *e, const float *act, int n, int layer, float *logits);
/* d(score)/d(logits) of one image: dlogits (classes) from its logits. */
typedef void (*pixab_seed_fn)(void *user, const float *logits, int classes, float *dlogits);
/* One image: runs the network from `layer` (-1: the input image) on x, its
 * activation there (x's shape: the layer's, or (S, S, 3)), writes the logits
 * (classes) and dx = d(seed . logits)/dx (x's shape). The input gradient of
 * FGSM-style attacks is layer -1. The case n = 1 of pixab_engine_gradient_batch. */
pixab_status pixab_engine_gradient(pixab_engine *e, int layer, const float *x, pixab_seed_fn seed, void *user,
                                   float *logits, float *dx);
/* d(score)/d(logits) of image `image` (0 to n - 1) of a batch: dlogits
 * (classes) from that image's logits. */
typedef void (*pixab_seed_batch_fn)(void *user, int image, const float *logits, int classes, float *dlogits);
/* n independent images (1 <= n <= max_batch) at once: x (n, the layer's shape
 * or (S, S, 3)) -> logits (n, classes) and dx (x's shape), where image i's dx
 * is d(seed_i . logits_i)/dx_i with seed_i its own seed (seed is called once
 * per image, after the forward pass of its chunk). Each image's result is the
 * one pixab_engine_gradient gives it alone, up to rounding (the CPU's GEMMs
 * round a batch's rows differently: about 1e-7 relative). The images run in
 * chunks whose backward memory (every activation of the ops after `layer`,
 * and their gradients) fits the head budget (pixab_engine_set_head_budget),
 * at least one image per chunk. At a layer whose head also reads tensors
 * that bypass it (a skip connection), the images must be the first n of
 * the ones pixab_explain's forward kept there (their skips are kept with
 * them): PIXAB_ERR_ARG otherwise. */
pixab_status pixab_engine_gradient_batch(pixab_engine *e, int layer, const float *x, int n, pixab_seed_batch_fn seed,
                                         void *user, float *logits, float *dx);

/* ---- explanations (DESIGN.md §4) ------------------------------------------- */

typedef enum {
    PIXAB_METHOD_PIXAB,      /* Pixab-CAM (default) */
    PIXAB_METHOD_ABLATION,   /* Ablation-CAM */
    PIXAB_METHOD_ACTIVATION, /* Activation-CAM */
    PIXAB_METHOD_GRADCAM,
    PIXAB_METHOD_GRADCAMPP,
    PIXAB_METHOD_XGRADCAM,
    PIXAB_METHOD_SCORECAM,
    PIXAB_METHOD_COUNT
} pixab_method;

typedef enum {
    PIXAB_SCORE_DEFAULT,     /* the method's own: softmax for pixab, ablation, scorecam; logit for gradients */
    PIXAB_SCORE_SOFTMAX,
    PIXAB_SCORE_LOGIT
} pixab_score;

#define PIXAB_MAX_BOXES 16

typedef struct {
    int layer;               /* target layer index (pixab_model_find_layer) */
    int cls;                 /* target class, or -1 for the top-1 prediction */
    pixab_score score;
    int n_boxes;             /* Pixab-CAM boxes; 0 = the default 1x1,1x2,2x1,2x2 */
    int box_h[PIXAB_MAX_BOXES], box_w[PIXAB_MAX_BOXES];
} pixab_explain_opts;

typedef struct {
    pixab_method method;
    int h, w;                /* layer resolution */
    float *map;              /* (h, w), ReLU'd and min-max normalised to [0,1] */
    int cls;                 /* the class explained */
    float score;             /* S of that class for the unmodified input, in the score used */
    pixab_score score_kind;  /* softmax or logit: the score used */
    double ms;               /* time this method took, without the shared body forward */
    float *weights;          /* (k) channel weights w_k of the channel-weight methods (ablation,
                                gradcam, gradcampp, xgradcam, scorecam): map = minmax(ReLU(sum_k w_k A_k));
                                NULL for pixab (pixel-wise) and activation (all ones) */
    int k;                   /* channels of the layer */
} pixab_map;

/* "pixab", "ablation", "activation", "gradcam", "gradcampp", "xgradcam", "scorecam". */
const char *pixab_method_name(pixab_method m);
/* -1 (and an error naming it) when unknown. */
int pixab_method_from_name(const char *name);
/* "softmax" or "logit" ("default" for PIXAB_SCORE_DEFAULT). */
const char *pixab_score_name(pixab_score s);
/* PIXAB_SCORE_SOFTMAX or PIXAB_SCORE_LOGIT; -1 (and an error naming it) when unknown. */
int pixab_score_from_name(const char *name);
/* Parse "1x1,1x2,2x1,2x2" into opts->boxes. */
pixab_status pixab_parse_boxes(const char *text, pixab_explain_opts *opts);

/* Explain one preprocessed image (S, S, 3) with several methods, sharing one
 * body forward. maps: n_methods entries, filled in order; free each with
 * pixab_map_free. */
pixab_status pixab_explain(pixab_engine *e, const float *input, const pixab_method *methods, int n_methods,
                           const pixab_explain_opts *opts, pixab_map *maps);
/* Explain n preprocessed images (n, S, S, 3) with several methods: one body
 * forward for each group of up to the engine's batch of images, then every
 * method on each image. cls: n target classes (-1: that image's top-1), or
 * NULL for opts->cls on every image. maps: n * n_methods entries, image-major
 * (maps[i * n_methods + j] = image i, method j); on failure none is left
 * allocated. pixab_explain is the case n = 1, cls = NULL. */
pixab_status pixab_explain_batch(pixab_engine *e, const float *inputs, int n, const pixab_method *methods,
                                 int n_methods, const pixab_explain_opts *opts, const int *cls, pixab_map *maps);
/* pixab_explain_batch from n decoded 8-bit images of any sizes, each resized
 * and normalised with p (p->size: the engine's input size, as
 * pixab_engine_input_size) on the engine's backend: on a GPU only the 8-bit
 * pixels are uploaded (a quarter of the bytes of a float input at the same
 * size) and preprocessed there. The maps are those of pixab_explain_batch of
 * the inputs pixab_image_preprocess makes (the same per-pixel code). */
pixab_status pixab_explain_images(pixab_engine *e, const pixab_image *images, int n, const pixab_preproc *p,
                                  const pixab_method *methods, int n_methods, const pixab_explain_opts *opts,
                                  const int *cls, pixab_map *maps);
void pixab_map_free(pixab_map *m);
/* Bilinear (half-pixel centres) resize of a map (h, w) to (out_h, out_w). */
pixab_status pixab_map_upsample(const float *map, int h, int w, int out_h, int out_w, float *out);
/* The heat-map overlay of a map on its image (the pixels of pixab explain's
 * .png): out (img->height, img->width, 3) = alpha * jet(map upsampled to the
 * image's size) + (1 - alpha) * image, rounded to 8 bits, jet being
 * matplotlib's colormap quantised to 256 levels as matplotlib does. map: (h,
 * w) in [0,1]; alpha in [0,1]. */
pixab_status pixab_map_overlay(const pixab_image *img, const float *map, int h, int w, float alpha,
                               unsigned char *out);

/* ---- guided backpropagation (Springenberg et al.; docs/evaluation.md) ------ */

/* GB of n preprocessed images (n, S, S, 3), 1 <= n <= the engine's batch:
 * gb (n, S, S, 3) = the gradient of class cls[i]'s logit with respect to
 * image i's input, where every ReLU's backward passes the gradient only where
 * both its output and the incoming gradient are positive; max pools route to
 * the first maximum and the other ops are as in pixab_engine_gradient_batch. */
pixab_status pixab_guided_backprop(pixab_engine *e, const float *inputs, int n, const int *cls, float *gb);
/* A method's guided map: out (S, S, 3) = gb (S, S, 3) times map (h, w)
 * upsampled to S x S (pixab_map_upsample), the same factor on all 3 channels. */
pixab_status pixab_guided_map(const float *gb, int size, const float *map, int h, int w, float *out);

/* In-place softmax over each row of x (rows, cols). */
void pixab_softmax(float *x, int rows, int cols);

/* ---- CPU ------------------------------------------------------------------ */

/* The GEMM kernels the CPU backend runs: OpenBLAS's kernel family ("Haswell",
 * "SkylakeX", "Zen", ... "Prescott"). */
const char *pixab_cpu_kernels(void);
/* The family this CPU's features call for when the running one falls short,
 * else NULL. OpenBLAS picks its kernels when it loads, from a table of CPU
 * models, and a model newer than its table gets its oldest (SSE3) kernels;
 * on AMD's AVX-512 (512-bit ops in two halves) its AVX2 family is the faster.
 * It reads OPENBLAS_CORETYPE then: a program sets that variable to this
 * value before OpenBLAS loads (the pixab command re-runs itself once with
 * it), and never to a family the CPU or the OS cannot run. */
const char *pixab_cpu_kernels_wanted(void);

/* ---- CUDA ---------------------------------------------------------------- */

/* Number of usable CUDA devices (0 when none, or when built without CUDA). */
int pixab_cuda_device_count(void);
/* 1 when this build includes the CUDA backend. */
int pixab_built_with_cuda(void);

#ifdef __cplusplus
}
#endif
#endif /* PIXAB_H */
