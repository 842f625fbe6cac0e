/* activation_cam.c — Activation-CAM (DESIGN.md §4): every channel weighted
 * 1, map = minmax(ReLU(sum_k A_k)); no head runs. */
#include "cam.h"

static pixab_status run(const cam_ctx *c, float *map) { return cam_weighted_map(c, NULL, map); }

const cam_method cam_method_activation = {PIXAB_METHOD_ACTIVATION, PIXAB_SCORE_SOFTMAX, 0, run, 0, NULL};
