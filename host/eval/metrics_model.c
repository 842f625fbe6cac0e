/* metrics_model.c — the evaluation metrics that run the network on modified
 * inputs (DESIGN.md §7): Average Drop / Increase in Confidence (the image and
 * the image times its map) and the Deletion / Insertion games of Petsiuk et al.
 * (RISE's evaluation.py), all forwards batched up to the engine's max batch.
 * Rules in metrics.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "metrics.h"

/* Write the generated inputs first .. first+count-1 into dst (count, S, S, 3). */
typedef void (*gen_fn)(void *ctx, int first, int count, float *dst);

/* prob[j] = softmax probability of class cls[j / per] for generated input j,
 * j < n, in chunks of the engine's max batch. */
static pixab_status forward_probs(pixab_engine *e, int n, gen_fn gen, void *ctx, const int *cls, int per,
                                  float *prob) {
    const int size = pixab_engine_input_size(e), classes = pixab_engine_num_classes(e), mb = pixab_engine_max_batch(e);
    const size_t image = (size_t)size * size * 3;
    const int chunk = n < mb ? n : mb;
    float *x = malloc(sizeof(float) * image * (size_t)chunk), *logits = malloc(sizeof(float) * (size_t)classes * chunk);
    pixab_status s = PIXAB_OK;
    if (!x || !logits) {
        s = pixab_fail(PIXAB_ERR_NOMEM, "out of memory for a batch of %d inputs of %dx%d", chunk, size, size);
        goto done;
    }
    for (int first = 0; first < n; first += chunk) {
        int count = n - first < chunk ? n - first : chunk;
        gen(ctx, first, count, x);
        if ((s = pixab_engine_forward(e, x, count, logits))) goto done;
        pixab_softmax(logits, count, classes);
        for (int j = 0; j < count; j++) prob[first + j] = logits[(size_t)j * classes + cls[(first + j) / per]];
    }
done:
    free(x);
    free(logits);
    return s;
}

static pixab_status check_class(const pixab_engine *e, int cls) {
    int classes = pixab_engine_num_classes(e);
    if (cls < 0 || cls >= classes)
        return pixab_fail(PIXAB_ERR_ARG, "class %d out of range (the model has %d classes: 0 to %d)", cls, classes,
                          classes - 1);
    return PIXAB_OK;
}

/* ---- Average Drop / Increase in Confidence ------------------------------------ */

typedef struct {
    const float *input, *sal; /* (n, S, S, 3), (n, S, S) */
    size_t pixels;            /* S * S */
} confidence_ctx;

/* Input 2i is image i, input 2i+1 is image i times its map. */
static void gen_confidence(void *vctx, int first, int count, float *dst) {
    const confidence_ctx *c = vctx;
    for (int j = 0; j < count; j++) {
        size_t img = (size_t)(first + j) / 2;
        const float *x = c->input + img * c->pixels * 3, *m = c->sal + img * c->pixels;
        float *d = dst + (size_t)j * c->pixels * 3;
        if ((first + j) % 2 == 0) {
            memcpy(d, x, sizeof(float) * c->pixels * 3);
            continue;
        }
        for (size_t p = 0; p < c->pixels; p++)
            for (int ch = 0; ch < 3; ch++) d[p * 3 + ch] = x[p * 3 + ch] * m[p];
    }
}

pixab_status metrics_confidence(pixab_engine *e, const float *input, const float *sal, const int *cls, int n,
                                float *y, float *o) {
    if (n < 1 || n > (1 << 29)) return pixab_fail(PIXAB_ERR_ARG, "confidence: %d images (need 1 or more)", n);
    for (int i = 0; i < n; i++)
        if (check_class(e, cls[i])) return pixab_fail_context(PIXAB_ERR_ARG, "confidence: image %d", i);
    const int size = pixab_engine_input_size(e);
    float *prob = malloc(sizeof(float) * 2 * (size_t)n);
    if (!prob) return pixab_fail(PIXAB_ERR_NOMEM, "out of memory for %d scores", 2 * n);
    confidence_ctx c = {input, sal, (size_t)size * size};
    pixab_status s = forward_probs(e, 2 * n, gen_confidence, &c, cls, 2, prob);
    for (int i = 0; i < n && !s; i++) {
        y[i] = prob[2 * i];
        o[i] = prob[2 * i + 1];
    }
    free(prob);
    return s;
}

/* ---- RISE's blur ---------------------------------------------------------------- */

/* 1-D factor of RISE's gkern(klen, sigma): scipy.ndimage.gaussian_filter of an
 * odd-length delta (at klen/2) with truncate 4 and mode 'reflect' (d c b a | a b
 * c d | d c b a). The 2-D kernel is its outer product. k1 (klen). */
static void rise_kernel(double *k1, int klen, double sigma) {
    const int radius = (int)(4.0 * sigma + 0.5), centre = klen / 2;
    double sum = 0.0;
    for (int j = -radius; j <= radius; j++) sum += exp(-0.5 * j * j / (sigma * sigma));
    for (int i = 0; i < klen; i++) {
        k1[i] = 0.0;
        for (int j = -radius; j <= radius; j++) {
            int p = (i + j) % (2 * klen); /* reflect into [0, klen) */
            if (p < 0) p += 2 * klen;
            if (p >= klen) p = 2 * klen - 1 - p;
            if (p == centre) k1[i] += exp(-0.5 * j * j / (sigma * sigma)) / sum;
        }
    }
}

void metrics_blur(const float *input, int size, float *out) {
    enum { K = METRICS_BLUR_KLEN, R = METRICS_BLUR_KLEN / 2 };
    double k1[K];
    float k2[K][K]; /* float32, as RISE's kernel tensor */
    rise_kernel(k1, K, METRICS_BLUR_SIGMA);
    for (int a = 0; a < K; a++)
        for (int b = 0; b < K; b++) k2[a][b] = (float)(k1[a] * k1[b]);
    for (int y = 0; y < size; y++)
        for (int x = 0; x < size; x++)
            for (int ch = 0; ch < 3; ch++) {
                double acc = 0.0; /* conv2d(padding = klen/2): zeros outside */
                for (int a = 0; a < K; a++) {
                    int yy = y + a - R;
                    if (yy < 0 || yy >= size) continue;
                    for (int b = 0; b < K; b++) {
                        int xx = x + b - R;
                        if (xx >= 0 && xx < size) acc += (double)k2[a][b] * input[((size_t)yy * size + xx) * 3 + ch];
                    }
                }
                out[((size_t)y * size + x) * 3 + ch] = (float)acc;
            }
}

/* ---- Deletion / Insertion --------------------------------------------------------- */

typedef struct {
    float v;
    int i;
} ranked;

/* Descending value, ties by ascending index, NaN last: a total order. */
static int ranked_cmp(const void *pa, const void *pb) {
    const ranked *a = pa, *b = pb;
    int na = a->v != a->v, nb = b->v != b->v;
    if (na != nb) return na - nb;
    if (!na && a->v != b->v) return a->v > b->v ? -1 : 1;
    return (a->i > b->i) - (a->i < b->i);
}

typedef struct {
    const float *start, *finish; /* (S, S, 3) */
    const int *order;            /* (S*S) pixels, most salient first */
    long long pixels, step;
} curve_ctx;

/* Pixels order[from .. to) of dst take finish's values. */
static void apply_pixels(const curve_ctx *c, float *dst, long long from, long long to) {
    for (long long t = from; t < to; t++) {
        size_t p = (size_t)c->order[t] * 3;
        dst[p] = c->finish[p];
        dst[p + 1] = c->finish[p + 1];
        dst[p + 2] = c->finish[p + 2];
    }
}

/* State s has the first min(s * step, pixels) pixels of the order changed;
 * each state after the first of a chunk is built from the one before it. */
static void gen_curve(void *vctx, int first, int count, float *dst) {
    const curve_ctx *c = vctx;
    const size_t image = (size_t)c->pixels * 3;
    for (int j = 0; j < count; j++) {
        long long s = first + j, to = s * c->step < c->pixels ? s * c->step : c->pixels, from = 0;
        float *d = dst + (size_t)j * image;
        if (j == 0) {
            memcpy(d, c->start, sizeof(float) * image);
        } else {
            memcpy(d, d - image, sizeof(float) * image);
            from = (s - 1) * c->step < c->pixels ? (s - 1) * c->step : c->pixels;
        }
        apply_pixels(c, d, from, to);
    }
}

/* The game from start to finish in n_steps steps; insertion: start = blur(x). */
static pixab_status causal_curve(pixab_engine *e, const float *input, const float *sal, int cls, int n_steps,
                                 int insertion, float *curve, double *auc) {
    const char *name = insertion ? "insertion" : "deletion";
    const int size = pixab_engine_input_size(e);
    const long long pixels = (long long)size * size;
    if (n_steps < 1 || n_steps > pixels)
        return pixab_fail(PIXAB_ERR_ARG, "%s: %d steps (need 1 to %lld, the input's pixels)", name, n_steps, pixels);
    if (check_class(e, cls)) return pixab_fail_context(PIXAB_ERR_ARG, "%s", name);
    const size_t image = (size_t)pixels * 3;
    ranked *keys = malloc(sizeof *keys * (size_t)pixels);
    int *order = malloc(sizeof *order * (size_t)pixels);
    float *substrate = malloc(sizeof(float) * image);
    pixab_status s = PIXAB_OK;
    if (!keys || !order || !substrate) {
        s = pixab_fail(PIXAB_ERR_NOMEM, "%s: out of memory for a %dx%d input", name, size, size);
        goto done;
    }
    for (long long p = 0; p < pixels; p++) keys[p] = (ranked){sal[p], (int)p};
    qsort(keys, (size_t)pixels, sizeof *keys, ranked_cmp);
    for (long long p = 0; p < pixels; p++) order[p] = keys[p].i;
    if (insertion) metrics_blur(input, size, substrate);
    else memset(substrate, 0, sizeof(float) * image); /* zeros of the normalised input */
    curve_ctx c = {.start = insertion ? substrate : input, .finish = insertion ? input : substrate, .order = order,
                   .pixels = pixels, .step = (pixels + n_steps - 1) / n_steps};
    if ((s = forward_probs(e, n_steps + 1, gen_curve, &c, &cls, n_steps + 1, curve))) {
        pixab_fail_context(s, "%s", name);
        goto done;
    }
    if (auc) *auc = metrics_auc(curve, n_steps);
done:
    free(keys);
    free(order);
    free(substrate);
    return s;
}

pixab_status metrics_deletion(pixab_engine *e, const float *input, const float *sal, int cls, int n_steps,
                              float *curve, double *auc) {
    return causal_curve(e, input, sal, cls, n_steps, 0, curve, auc);
}

pixab_status metrics_insertion(pixab_engine *e, const float *input, const float *sal, int cls, int n_steps,
                               float *curve, double *auc) {
    return causal_curve(e, input, sal, cls, n_steps, 1, curve, auc);
}
