/* overlay.h — what the CLI draws besides the heat-map overlay itself
 * (pixab_map_overlay in pixab.h): localisation boxes and the rendering of
 * guided maps (overlay.c). */
#ifndef PIXAB_CLI_OVERLAY_H
#define PIXAB_CLI_OVERLAY_H

#include <stddef.h>

/* The outline of box [x0, x1) x [y0, y1) (clipped) drawn in colour on rgb
 * (h, w, 3): `thick` pixels wide, inside the box. */
void cli_draw_box(unsigned char *rgb, int w, int h, const int box[4], int thick, const unsigned char colour[3]);

/* out (n bytes) = a guided map g (n floats: (S, S, 3)) as 8-bit RGB, the usual
 * rendering (pytorch-grad-cam's deprocess_image): v = (g - mean) / (std +
 * 1e-5) * 0.1 + 0.5 over all n values (population std), clipped to [0, 1],
 * times 255 and truncated. */
void cli_guided_render(const float *g, size_t n, unsigned char *out);

#endif
