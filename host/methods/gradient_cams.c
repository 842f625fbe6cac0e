/* gradient_cams.c — the three gradient methods (DESIGN.md §4): g = dS/dA through the
 * head's backward pass, then per channel
 *   Grad-CAM:   w_k = mean_ij g_kij
 *   Grad-CAM++: w_k = sum_ij a_kij ReLU(g_kij),
 *               a = g^2 / (2 g^2 + (sum_uv A_kuv) g^3 + 1e-6), a = 0 where g = 0
 *   XGrad-CAM:  w_k = sum_ij g_kij A_kij / (sum_uv A_kuv + 1e-7)
 * and map = sum_k w_k A_k. */
#include <stdlib.h>

#include "cam.h"
#include "error.h"

typedef struct {
    int cls;
    pixab_score kind;
} seed_ctx;

/* dS/dlogits: one-hot for a logit; p_c (delta_cj - p_j) for a softmax probability. */
static void score_seed(void *ctx, const float *logits, int classes, float *d) {
    const seed_ctx *s = ctx;
    if (s->kind == PIXAB_SCORE_LOGIT) {
        for (int j = 0; j < classes; j++) d[j] = j == s->cls ? 1.0f : 0.0f;
        return;
    }
    float pc = cam_score(logits, classes, s->cls, PIXAB_SCORE_SOFTMAX);
    for (int j = 0; j < classes; j++) {
        float pj = cam_score(logits, classes, j, PIXAB_SCORE_SOFTMAX);
        d[j] = pc * ((j == s->cls ? 1.0f : 0.0f) - pj);
    }
}

pixab_status cam_gradient(const cam_ctx *c, pixab_method m, float *wf) {
    const int HW = c->H * c->W, K = c->K;
    float *g = malloc(sizeof(float) * (size_t)HW * K), *logits = malloc(sizeof(float) * (size_t)c->classes);
    double *w = calloc((size_t)K, sizeof(double)), *sum_a = calloc((size_t)K, sizeof(double));
    pixab_status s = PIXAB_OK;
    if (!g || !logits || !w || !sum_a) {
        s = pixab_fail(PIXAB_ERR_NOMEM, "out of memory for gradients");
        goto done;
    }
    seed_ctx sc = {c->cls, c->score};
    if ((s = pixab_engine_gradient(c->e, c->layer, c->act, score_seed, &sc, logits, g))) goto done;
    for (int p = 0; p < HW; p++)
        for (int k = 0; k < K; k++) sum_a[k] += c->act[(size_t)p * K + k];
    for (int p = 0; p < HW; p++)
        for (int k = 0; k < K; k++) {
            double gv = g[(size_t)p * K + k], a = c->act[(size_t)p * K + k];
            if (m == PIXAB_METHOD_GRADCAM) {
                w[k] += gv / HW;
            } else if (m == PIXAB_METHOD_GRADCAMPP) {
                if (gv != 0.0) {
                    double g2 = gv * gv, alpha = g2 / (2.0 * g2 + sum_a[k] * g2 * gv + 1e-6);
                    w[k] += alpha * (gv > 0.0 ? gv : 0.0);
                }
            } else { /* XGrad-CAM */
                w[k] += gv * a / (sum_a[k] + 1e-7);
            }
        }
    for (int k = 0; k < K; k++) wf[k] = (float)w[k];
done:
    free(g);
    free(logits);
    free(w);
    free(sum_a);
    return s;
}

static pixab_status gradcam(const cam_ctx *c, float *w) { return cam_gradient(c, PIXAB_METHOD_GRADCAM, w); }
static pixab_status gradcampp(const cam_ctx *c, float *w) { return cam_gradient(c, PIXAB_METHOD_GRADCAMPP, w); }
static pixab_status xgradcam(const cam_ctx *c, float *w) { return cam_gradient(c, PIXAB_METHOD_XGRADCAM, w); }

const cam_method cam_method_gradcam = {PIXAB_METHOD_GRADCAM, PIXAB_SCORE_LOGIT, 1, gradcam};
const cam_method cam_method_gradcampp = {PIXAB_METHOD_GRADCAMPP, PIXAB_SCORE_LOGIT, 1, gradcampp};
const cam_method cam_method_xgradcam = {PIXAB_METHOD_XGRADCAM, PIXAB_SCORE_LOGIT, 1, xgradcam};
