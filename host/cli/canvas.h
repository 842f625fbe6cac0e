/* canvas.h — an RGB raster for the CLI's figures (the contact sheet, the
 * evaluation plots): filled rectangles, anti-aliased lines and dots, and text in
 * stb_easy_font's bitmap font (printable ASCII), horizontal or rotated to read
 * upwards. Everything drawn is clipped to the canvas. */
#ifndef PIXAB_CLI_CANVAS_H
#define PIXAB_CLI_CANVAS_H

#include <stddef.h>

/* Largest width and height canvas_init accepts. */
enum { CANVAS_MAX_SIDE = 1 << 15 };
/* Text metrics in font units (times the scale in pixels): capitals and digits
 * are CANVAS_TEXT_H high from the top of the text, descenders reach
 * CANVAS_TEXT_DESC. */
enum { CANVAS_TEXT_H = 7, CANVAS_TEXT_DESC = 9 };

typedef struct {
    unsigned char *rgb; /* (h, w, 3) */
    int w, h;
} canvas;

/* A w x h canvas filled with grey level `grey`. Returns -1 (and rgb NULL) for
 * a size outside [1, CANVAS_MAX_SIDE] or out of memory. */
int canvas_init(canvas *cv, int w, int h, unsigned char grey);
void canvas_free(canvas *cv);

/* Fill the pixels x0 <= x < x1, y0 <= y < y1 with rgb (3). */
void canvas_fill(canvas *cv, int x0, int y0, int x1, int y1, const unsigned char rgb[3]);
/* Blend rgb over pixel (x, y) with weight alpha in [0, 1] (1: replace). */
void canvas_blend(canvas *cv, int x, int y, const unsigned char rgb[3], float alpha);
/* A segment `width` px thick with round caps, anti-aliased; coordinates in
 * pixels with pixel (x, y) centred at (x, y). A zero-length segment is a dot of
 * diameter `width`. Pixels within width/2 - 0.5 of the segment get rgb exactly. */
void canvas_line(canvas *cv, float x0, float y0, float x1, float y1, float width, const unsigned char rgb[3]);

/* Width in pixels of text at `scale` (non-printable characters count as '?'). */
int canvas_text_width(const char *text, int scale);
/* Copy `in` to out[cap] with non-printable characters as '?', cut with "..."
 * to at most max_w pixels at `scale`. */
void canvas_fit_text(const char *in, char *out, size_t cap, int max_w, int scale);
/* Text in rgb, its top-left corner at (x, y), `scale` px per font unit, fitted
 * to max_w px (canvas_fit_text) and clipped there. */
void canvas_text(canvas *cv, int x, int y, const char *text, int scale, int max_w, const unsigned char rgb[3]);
/* The same rotated a quarter turn anticlockwise, reading upwards: the text
 * starts at row y and runs up to row y - max_w at most; its top (the tops of
 * the capitals) is column x, and it spans columns x .. x + CANVAS_TEXT_DESC * scale. */
void canvas_text_up(canvas *cv, int x, int y, const char *text, int scale, int max_w, const unsigned char rgb[3]);

#endif
