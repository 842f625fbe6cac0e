/* guided_backprop.c — guided backpropagation (Springenberg et al.) and the
 * guided maps of the CAM methods (Guided Grad-CAM's product, docs/evaluation.md):
 * GB(x) = d logit_c / dx with every ReLU's backward guided (the engine's
 * gradient path with its guided flag), G = GB(x) times the upsampled map. */
#include <stdlib.h>

#include "cam.h"
#include "error.h"

pixab_status pixab_guided_backprop(pixab_engine *e, const float *inputs, int n, const int *cls, float *gb) {
    if (!e || !inputs || !cls || !gb) return pixab_fail(PIXAB_ERR_ARG, "guided backpropagation: NULL argument");
    const int classes = pixab_engine_num_classes(e);
    for (int i = 0; i < n; i++)
        if (cls[i] < 0 || cls[i] >= classes)
            return pixab_fail(PIXAB_ERR_ARG, "class %d out of range (the model has %d)", cls[i], classes);
    return cam_gradients(e, -1, inputs, n, cls, PIXAB_SCORE_LOGIT, 1, gb);
}

pixab_status pixab_guided_map(const float *gb, int size, const float *map, int h, int w, float *out) {
    if (!gb || !map || !out || size < 1) return pixab_fail(PIXAB_ERR_ARG, "guided map: NULL argument or size < 1");
    const size_t pixels = (size_t)size * size;
    float *up = malloc(sizeof(float) * pixels);
    if (!up) return pixab_fail(PIXAB_ERR_NOMEM, "out of memory for a %d x %d guided map", size, size);
    pixab_status s = pixab_map_upsample(map, h, w, size, size, up);
    for (size_t p = 0; !s && p < pixels; p++)
        for (int c = 0; c < 3; c++) out[p * 3 + c] = gb[p * 3 + c] * up[p];
    free(up);
    return s;
}
