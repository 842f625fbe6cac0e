/* overlay.c — what the CLI draws besides the heat-map overlay itself
 * (pixab_map_overlay, host/methods/map_overlay.c): localisation boxes on an
 * overlay, and guided maps rendered as 8-bit RGB. */
#include <math.h>
#include <stddef.h>

#include "overlay.h"

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
