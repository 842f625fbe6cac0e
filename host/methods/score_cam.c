/* score_cam.c — Score-CAM (Wang et al.; DESIGN.md §4): M_k = minmax of A_k
 * upsampled (bilinear, half-pixel centres) to the input size; w_k =
 * S(x o M_k) - S(x_b) with x_b the zero (normalised) input and o applied to
 * the normalised input; a constant A_k gives w_k = 0. The masks are made on
 * the engine's backend (score_mask.cuh): first their ranges, then one
 * generated batch — x_b, then x o M_k for every channel that is not constant —
 * through the whole network. */
#include <stdlib.h>

#include "cam.h"
#include "error.h"

pixab_status cam_scorecam(const cam_ctx *c, float *w) {
    const int K = c->K;
    float *ranges = malloc(sizeof(float) * 2 * (size_t)K), *scores = malloc(sizeof(float) * (size_t)(K + 1));
    int *channels = malloc(sizeof(int) * (size_t)K), n = 0;
    pixab_status s = PIXAB_OK;
    if (!ranges || !scores || !channels) {
        s = pixab_fail(PIXAB_ERR_NOMEM, "out of memory for Score-CAM");
        goto done;
    }
    const head_desc r = {.image = c->image, .items = HEAD_ITEMS_NONE, .output = HEAD_OUT_MASK_RANGES};
    if ((s = engine_run_head(c->e, &r, ranges))) goto done;
    for (int k = 0; k < K; k++) {
        w[k] = 0.0f;
        if (ranges[2 * k + 1] > ranges[2 * k]) channels[n++] = k; /* constant A_k: w_k = 0 */
    }
    const head_desc h = {.image = c->image, .items = HEAD_ITEMS_MASKED, .n_channels = n, .channels = channels, .cls = c->cls,
                         .score = c->score, .output = HEAD_OUT_SCORES};
    if ((s = engine_run_head(c->e, &h, scores))) goto done;
    for (int i = 0; i < n; i++) w[channels[i]] = scores[1 + i] - scores[0];
done:
    free(ranges);
    free(scores);
    free(channels);
    return s;
}

const cam_method cam_method_scorecam = {PIXAB_METHOD_SCORECAM, PIXAB_SCORE_SOFTMAX, 1, cam_scorecam, 0, NULL};
