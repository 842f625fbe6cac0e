/* score_cam.c — Score-CAM (Wang et al.; DESIGN.md §4): M_k = minmax of A_k
 * upsampled (bilinear, half-pixel centres) to the input size; w_k =
 * S(x o M_k) - S(x_b) with x_b the zero (normalised) input and o applied to
 * the normalised input; a constant A_k gives w_k = 0. K full forward passes,
 * in batches of the engine's size. */
#include <math.h>
#include <stdlib.h>

#include "cam.h"
#include "error.h"
#include "preprocess.cuh"

pixab_status cam_scorecam(const cam_ctx *c, float *w) {
    const int S = c->size, K = c->K, batch = pixab_engine_max_batch(c->e);
    const size_t pixels = (size_t)S * S;
    float *x = malloc(sizeof(float) * pixels * 3 * (size_t)batch), *mask = malloc(sizeof(float) * pixels);
    float *logits = malloc(sizeof(float) * (size_t)c->classes * batch);
    int *channel = malloc(sizeof(int) * (size_t)batch);
    pixab_status s = PIXAB_OK;
    if (!x || !mask || !logits || !channel) {
        s = pixab_fail(PIXAB_ERR_NOMEM, "out of memory for Score-CAM");
        goto done;
    }
    for (int k = 0; k < K; k++) w[k] = 0.0f;
    /* S(x_b): the zero input. */
    for (size_t i = 0; i < pixels * 3; i++) x[i] = 0.0f;
    if ((s = pixab_engine_forward(c->e, x, 1, logits))) goto done;
    const float y_base = cam_score(logits, c->classes, c->cls, c->score);
    for (int k0 = 0; k0 < K;) {
        int n = 0;
        for (; k0 < K && n < batch; k0++) {
            float lo = INFINITY, hi = -INFINITY;
            for (int oy = 0; oy < S; oy++) {
                bilinear_tap ty = bilinear_axis(oy, c->H, S);
                for (int ox = 0; ox < S; ox++) {
                    float v = bilinear_sample_f32(c->act + k0, (ptrdiff_t)c->W * K, K, ty, bilinear_axis(ox, c->W, S));
                    mask[(size_t)oy * S + ox] = v;
                    lo = v < lo ? v : lo;
                    hi = v > hi ? v : hi;
                }
            }
            if (!(hi > lo)) continue; /* constant A_k: w_k = 0 */
            float *xi = x + (size_t)n * pixels * 3;
            for (size_t p = 0; p < pixels; p++) {
                float m = (mask[p] - lo) / (hi - lo);
                for (int ch = 0; ch < 3; ch++) xi[p * 3 + ch] = c->input[p * 3 + ch] * m;
            }
            channel[n++] = k0;
        }
        if (!n) continue;
        if ((s = pixab_engine_forward(c->e, x, n, logits))) goto done;
        for (int i = 0; i < n; i++)
            w[channel[i]] = cam_score(logits + (size_t)i * c->classes, c->classes, c->cls, c->score) - y_base;
    }
done:
    free(x);
    free(mask);
    free(logits);
    free(channel);
    return s;
}
