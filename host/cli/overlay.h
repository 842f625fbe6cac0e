/* overlay.h — heat-map overlays of explanation maps (overlay.c): the map
 * upsampled to the image's size, coloured with matplotlib's "jet" and blended
 * over the image, as pixels; and the rendering of guided maps. */
#ifndef PIXAB_CLI_OVERLAY_H
#define PIXAB_CLI_OVERLAY_H

#include <stddef.h>

#include "pixab.h"

/* matplotlib's "jet" colormap at v in [0,1] (clamped; NaN is 0), quantised to
 * 256 levels as matplotlib does; rgb: (3). */
void cli_jet(float v, unsigned char rgb[3]);
/* out (img->height, img->width, 3) = alpha * jet(upsampled map) + (1 - alpha) *
 * image, rounded. map: (h, w) in [0,1], upsampled bilinearly (half-pixel centres)
 * to the image's size. Returns a pixab status (pixab_last_error has the reason). */
pixab_status cli_overlay(const pixab_image *img, const float *map, int h, int w, float alpha, unsigned char *out);

/* The outline of box [x0, x1) x [y0, y1) (clipped) drawn in colour on rgb
 * (h, w, 3): `thick` pixels wide, inside the box. */
void cli_draw_box(unsigned char *rgb, int w, int h, const int box[4], int thick, const unsigned char colour[3]);

/* out (n bytes) = a guided map g (n floats: (S, S, 3)) as 8-bit RGB, the usual
 * rendering (pytorch-grad-cam's deprocess_image): v = (g - mean) / (std +
 * 1e-5) * 0.1 + 0.5 over all n values (population std), clipped to [0, 1],
 * times 255 and truncated. */
void cli_guided_render(const float *g, size_t n, unsigned char *out);

#endif
