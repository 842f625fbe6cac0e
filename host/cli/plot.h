/* plot.h — line plots as PNG files for `pixab eval` (deletion/insertion curves
 * averaged per method, the sanity check's Spearman correlation per
 * randomisation step): one coloured polyline with markers per series, axes with
 * numeric or category ticks, a legend, a title. Drawn on a canvas (canvas.h). */
#ifndef PIXAB_CLI_PLOT_H
#define PIXAB_CLI_PLOT_H

#include <stddef.h>

/* Smallest and largest width and height plot_write accepts. */
enum { PLOT_MIN_SIDE = 160, PLOT_MAX_SIDE = 8192 };

typedef struct {
    const char *name; /* in the legend (NULL: none) */
    const float *y;   /* (n_points); NaN or infinite: a gap in the line */
} plot_series;

typedef struct {
    const char *title, *x_label, *y_label; /* each may be NULL */
    const float *x;                        /* (n_points) finite x positions; NULL: 0 .. n_points-1 */
    const char *const *x_ticks;            /* (n_points) category labels at the points, or NULL: numeric
                                            * ticks; labels wider than their spacing are turned to read
                                            * upwards (and thinned where even that does not fit) */
    int n_points;                          /* >= 1 */
    float y_min, y_max;                    /* y range; y_min == y_max: the data's, plus 5% each side */
} plot_axes;

/* Where plot_write puts the data: pixel rows and columns (pixel centres) of the
 * axes' frame, and the data ranges they span: x_lo at column x0, x_hi at x1,
 * y_lo at row y1 (the bottom), y_hi at row y0. */
typedef struct {
    int x0, y0, x1, y1;
    float x_lo, x_hi, y_lo, y_hi;
} plot_frame;

/* Draw the series over the axes into a width x height RGB image (white
 * background; series in matplotlib's tab10 colours, in order, cycling after
 * ten; markers at the points unless they are too close together to tell apart,
 * and always at a point with gaps on both sides) and write it to `path` as a
 * PNG with cli_write_png (atomically). Points outside an explicit y range are
 * cut at the frame. Returns -1 with a one-line reason naming the path in
 * why[cap] for bad arguments (a size outside [PLOT_MIN_SIDE, PLOT_MAX_SIDE], no
 * points, a series without y, a non-finite or inverted y range, a non-finite
 * x), out of memory, or a failed write. */
int plot_write(const char *path, const plot_axes *ax, const plot_series *s, int n_series, int width, int height,
               char *why, size_t cap);
/* The frame plot_write would use for the same arguments; -1 (with the reason
 * in why[cap]) where plot_write would refuse them. */
int plot_frame_of(const plot_axes *ax, const plot_series *s, int n_series, int width, int height, plot_frame *f,
                  char *why, size_t cap);

#endif
