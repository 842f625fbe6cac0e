/* gradient_cams.c — the three gradient methods (DESIGN.md §4): g = dS/dA through the
 * head's backward pass, then per channel
 *   Grad-CAM:   w_k = mean_ij g_kij
 *   Grad-CAM++: w_k = sum_ij a_kij ReLU(g_kij),
 *               a = g^2 / (2 g^2 + (sum_uv A_kuv) g^3 + 1e-6), a = 0 where g = 0
 *   XGrad-CAM:  w_k = sum_ij g_kij A_kij / (sum_uv A_kuv + 1e-7)
 * and map = sum_k w_k A_k. The gradient g is one batched backward pass for
 * all images of an explain batch (cam_gradients), shared by the three. */
#include <stdlib.h>

#include "cam.h"
#include "error.h"

typedef struct {
    const int *cls;     /* (n) each image's class */
    pixab_score kind;
} seed_ctx;

/* dS/dlogits of image i: one-hot for a logit; p_c (delta_cj - p_j) for a softmax probability. */
static void score_seed(void *ctx, int image, const float *logits, int classes, float *d) {
    const seed_ctx *s = ctx;
    const int cls = s->cls[image];
    if (s->kind == PIXAB_SCORE_LOGIT) {
        for (int j = 0; j < classes; j++) d[j] = j == cls ? 1.0f : 0.0f;
        return;
    }
    float pc = cam_score(logits, classes, cls, PIXAB_SCORE_SOFTMAX);
    for (int j = 0; j < classes; j++) {
        float pj = cam_score(logits, classes, j, PIXAB_SCORE_SOFTMAX);
        d[j] = pc * ((j == cls ? 1.0f : 0.0f) - pj);
    }
}

pixab_status cam_gradients(pixab_engine *e, int layer, const float *act, int n, const int *cls, pixab_score score,
                           int guided, float *g) {
    float *logits = malloc(sizeof(float) * (size_t)pixab_engine_num_classes(e) * (size_t)n);
    if (!logits) return pixab_fail(PIXAB_ERR_NOMEM, "out of memory for gradients");
    seed_ctx sc = {cls, score};
    pixab_status s = engine_gradient_batch(e, layer, guided, act, n, score_seed, &sc, logits, g);
    free(logits);
    return s;
}

pixab_status cam_gradient(const cam_ctx *c, pixab_method m, float *wf) {
    const int HW = c->H * c->W, K = c->K;
    float *own = c->grad ? NULL : malloc(sizeof(float) * (size_t)HW * K);
    const float *g = c->grad ? c->grad : own;
    double *w = calloc((size_t)K, sizeof(double)), *sum_a = calloc((size_t)K, sizeof(double));
    pixab_status s = PIXAB_OK;
    if (!g || !w || !sum_a) {
        s = pixab_fail(PIXAB_ERR_NOMEM, "out of memory for gradients");
        goto done;
    }
    if (own && (s = cam_gradients(c->e, c->layer, c->act, 1, &c->cls, c->score, 0, own))) goto done;
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
    free(own);
    free(w);
    free(sum_a);
    return s;
}

static pixab_status gradcam(const cam_ctx *c, float *w) { return cam_gradient(c, PIXAB_METHOD_GRADCAM, w); }
static pixab_status gradcampp(const cam_ctx *c, float *w) { return cam_gradient(c, PIXAB_METHOD_GRADCAMPP, w); }
static pixab_status xgradcam(const cam_ctx *c, float *w) { return cam_gradient(c, PIXAB_METHOD_XGRADCAM, w); }

const cam_method cam_method_gradcam = {PIXAB_METHOD_GRADCAM, PIXAB_SCORE_LOGIT, 1, gradcam, 1, NULL};
const cam_method cam_method_gradcampp = {PIXAB_METHOD_GRADCAMPP, PIXAB_SCORE_LOGIT, 1, gradcampp, 1, NULL};
const cam_method cam_method_xgradcam = {PIXAB_METHOD_XGRADCAM, PIXAB_SCORE_LOGIT, 1, xgradcam, 1, NULL};
