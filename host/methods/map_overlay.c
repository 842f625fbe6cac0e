/* map_overlay.c — pixab_map_overlay (public API, pixab.h): heat-map overlays
 * of explanation maps, the map upsampled to the image's own size (bilinear,
 * half-pixel centres), coloured with matplotlib's "jet" and blended over the
 * image, as pixels (the CLI's .png overlays, the Python package's overlay). */
#include <stdlib.h>

#include "error.h"

/* matplotlib's _jet_data: (x, y) knots of each channel, piecewise linear. */
typedef struct {
    int n;
    double x[6], y[6];
} jet_channel;

static const jet_channel jet_data[3] = {
    {5, {0.0, 0.35, 0.66, 0.89, 1.0}, {0.0, 0.0, 1.0, 1.0, 0.5}},             /* red */
    {6, {0.0, 0.125, 0.375, 0.64, 0.91, 1.0}, {0.0, 0.0, 1.0, 1.0, 0.0, 0.0}}, /* green */
    {5, {0.0, 0.11, 0.34, 0.65, 1.0}, {0.5, 1.0, 1.0, 0.0, 0.0}},             /* blue */
};

/* Entry i of matplotlib's 256-entry table of channel c, computed as its
 * _create_lookup_table does (in float64, knots scaled to table indices), as a
 * byte the way Colormap(..., bytes=True) makes it: int(255 * value). */
static unsigned char jet_entry(const jet_channel *c, int i) {
    double v = c->y[c->n - 1];
    for (int k = 1; k < c->n; k++) {
        double x0 = c->x[k - 1] * 255.0, x1 = c->x[k] * 255.0;
        if ((double)i <= x1) {
            v = i == 0 ? c->y[0] : ((double)i - x0) / (x1 - x0) * (c->y[k] - c->y[k - 1]) + c->y[k - 1];
            break;
        }
    }
    return (unsigned char)(v * 255.0);
}

/* matplotlib's "jet" colormap at v in [0,1] (clamped; NaN is 0), quantised to
 * 256 levels as matplotlib does; rgb: (3). */
static void jet(float v, unsigned char rgb[3]) {
    /* matplotlib looks the table up at int(v * 256), v = 1 giving 255. */
    if (!(v > 0.0f)) v = 0.0f; /* NaN too */
    int i = (int)(v * 256.0f);
    if (i > 255) i = 255;
    for (int c = 0; c < 3; c++) rgb[c] = jet_entry(&jet_data[c], i);
}

pixab_status pixab_map_overlay(const pixab_image *img, const float *map, int h, int w, float alpha,
                               unsigned char *out) {
    if (!img || !img->rgb || !map || !out) return pixab_fail(PIXAB_ERR_ARG, "pixab_map_overlay: NULL argument");
    if (!(alpha >= 0.0f && alpha <= 1.0f)) return pixab_fail(PIXAB_ERR_ARG, "overlay alpha %g is not in [0,1]", alpha);
    if (img->width < 1 || img->height < 1 || img->width > PIXAB_IMAGE_MAX_SIDE || img->height > PIXAB_IMAGE_MAX_SIDE ||
        (size_t)img->width * (size_t)img->height > PIXAB_IMAGE_MAX_PIXELS)
        return pixab_fail(PIXAB_ERR_ARG, "cannot overlay a map on a %dx%d image", img->width, img->height);
    const size_t pixels = (size_t)img->width * (size_t)img->height;
    float *up = malloc(sizeof(float) * pixels);
    if (!up) return pixab_fail(PIXAB_ERR_NOMEM, "overlay of a %dx%d image: out of memory", img->width, img->height);
    pixab_status s = pixab_map_upsample(map, h, w, img->height, img->width, up);
    if (s) {
        free(up);
        return s;
    }
    unsigned char lut[256][3];
    for (int i = 0; i < 256; i++) jet((float)i / 256.0f, lut[i]);
    for (size_t p = 0; p < pixels; p++) {
        float v = up[p];
        int i = v > 0.0f ? (int)(v * 256.0f) : 0;
        if (i > 255) i = 255;
        for (int c = 0; c < 3; c++)
            out[3 * p + c] = (unsigned char)(alpha * lut[i][c] + (1.0f - alpha) * img->rgb[3 * p + c] + 0.5f);
    }
    free(up);
    return PIXAB_OK;
}
