/* overlay.c — heat-map overlays of explanation maps: the map upsampled to the
 * image's own size (bilinear, half-pixel centres), coloured with matplotlib's
 * "jet" and blended over the image, as pixels (the caller writes them); and
 * guided maps rendered as 8-bit RGB. */
#include <math.h>
#include <stdlib.h>

#include "overlay.h"

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

void cli_jet(float v, unsigned char rgb[3]) {
    /* matplotlib looks the table up at int(v * 256), v = 1 giving 255. */
    if (!(v > 0.0f)) v = 0.0f; /* NaN too */
    int i = (int)(v * 256.0f);
    if (i > 255) i = 255;
    for (int c = 0; c < 3; c++) rgb[c] = jet_entry(&jet_data[c], i);
}

pixab_status cli_overlay(const pixab_image *img, const float *map, int h, int w, float alpha, unsigned char *out) {
    const size_t pixels = (size_t)img->width * (size_t)img->height;
    float *up = malloc(sizeof(float) * pixels);
    if (!up) return PIXAB_ERR_NOMEM;
    pixab_status s = pixab_map_upsample(map, h, w, img->height, img->width, up);
    if (s) {
        free(up);
        return s;
    }
    unsigned char lut[256][3];
    for (int i = 0; i < 256; i++) cli_jet((float)i / 256.0f, lut[i]);
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

void cli_guided_render(const float *g, size_t n, unsigned char *out) {
    double sum = 0.0, sq = 0.0;
    for (size_t i = 0; i < n; i++) sum += g[i];
    const double mean = n ? sum / (double)n : 0.0;
    for (size_t i = 0; i < n; i++) sq += (g[i] - mean) * (g[i] - mean);
    const double scale = 0.1 / ((n ? sqrt(sq / (double)n) : 0.0) + 1e-5);
    for (size_t i = 0; i < n; i++) {
        double v = (g[i] - mean) * scale + 0.5;
        out[i] = (unsigned char)((v > 0.0 ? (v < 1.0 ? v : 1.0) : 0.0) * 255.0);
    }
}

void cli_draw_box(unsigned char *rgb, int w, int h, const int box[4], int thick, const unsigned char colour[3]) {
    const int x0 = box[0] > 0 ? box[0] : 0, y0 = box[1] > 0 ? box[1] : 0;
    const int x1 = box[2] < w ? box[2] : w, y1 = box[3] < h ? box[3] : h;
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++) {
            if (x >= x0 + thick && x < x1 - thick && y >= y0 + thick && y < y1 - thick) continue;
            for (int c = 0; c < 3; c++) rgb[((size_t)y * w + x) * 3 + c] = colour[c];
        }
}
