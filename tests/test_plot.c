/* test_plot.c — the line-plot writer of `pixab eval` (host/cli/plot.c): the
 * PNG it writes is read back and checked where the data must be (colours in the
 * frame, values on the right rows, gaps at NaN), and bad arguments and paths
 * fail with a reason and leave no file. */
#define _XOPEN_SOURCE 700 /* mkdtemp */

#include <criterion/criterion.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <stb_image.h>

#include "plot.h"

/* matplotlib's tab10, the first two */
static const unsigned char blue[3] = {31, 119, 180}, orange[3] = {255, 127, 14};

static char tmpdir[] = "/tmp/pixab_test_plot_XXXXXX";

static void make_tmp(void) { cr_assert_not_null(mkdtemp(tmpdir)); }

static void remove_tmp(void) {
    DIR *d = opendir(tmpdir);
    if (!d) return;
    struct dirent *e;
    char p[512];
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            snprintf(p, sizeof p, "%s/%s", tmpdir, e->d_name);
            remove(p);
        }
    closedir(d);
    rmdir(tmpdir);
}

TestSuite(plot, .init = make_tmp, .fini = remove_tmp);

static int files_in_tmp(void) {
    DIR *d = opendir(tmpdir);
    cr_assert_not_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));) n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    closedir(d);
    return n;
}

typedef struct {
    unsigned char *rgb;
    int w, h;
} image;

/* Write the plot to tmpdir/name and read it back as RGB. */
static image write_and_read(const char *name, const plot_axes *ax, const plot_series *s, int n, int w, int h) {
    char path[512], why[256] = "";
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    cr_assert_eq(plot_write(path, ax, s, n, w, h, why, sizeof why), 0, "plot_write: %s", why);
    image im;
    int ch;
    im.rgb = stbi_load(path, &im.w, &im.h, &ch, 3);
    cr_assert_not_null(im.rgb, "cannot read %s back: %s", path, stbi_failure_reason());
    cr_assert_eq(ch, 3);
    return im;
}

static int is(const image *im, int x, int y, const unsigned char rgb[3]) {
    const unsigned char *p = im->rgb + ((size_t)y * im->w + x) * 3;
    return p[0] == rgb[0] && p[1] == rgb[1] && p[2] == rgb[2];
}

/* Rows of column x within the frame holding exactly rgb: how many, and the
 * first and last. */
static int rows_with(const image *im, const plot_frame *f, int x, const unsigned char rgb[3], int *first, int *last) {
    int n = 0;
    *first = *last = -1;
    for (int y = f->y0 + 1; y < f->y1; y++)
        if (is(im, x, y, rgb)) {
            if (!n++) *first = y;
            *last = y;
        }
    return n;
}

static int column_of(const plot_frame *f, float v) {
    return (int)lroundf(f->x0 + (v - f->x_lo) / (f->x_hi - f->x_lo) * (f->x1 - f->x0));
}

static int row_of(const plot_frame *f, float v) {
    return (int)lroundf(f->y1 - (v - f->y_lo) / (f->y_hi - f->y_lo) * (f->y1 - f->y0));
}

Test(plot, size_colours_and_rows) {
    enum { N = 11 };
    float x[N], a[N], b[N];
    for (int i = 0; i < N; i++) x[i] = i / 10.0f, a[i] = 0.5f, b[i] = 0.25f;
    plot_series s[2] = {{"a", a}, {"b", b}};
    plot_axes ax = {.title = "t", .x_label = "x", .y_label = "y", .x = x, .n_points = N, .y_min = 0.0f, .y_max = 1.0f};
    image im = write_and_read("rows.png", &ax, s, 2, 640, 400);
    cr_assert_eq(im.w, 640);
    cr_assert_eq(im.h, 400);
    plot_frame f;
    char why[256];
    cr_assert_eq(plot_frame_of(&ax, s, 2, 640, 400, &f, why, sizeof why), 0, "%s", why);
    cr_assert(f.x0 > 0 && f.x1 < 639 && f.y0 > 0 && f.y1 < 399 && f.x1 - f.x0 > 300 && f.y1 - f.y0 > 200);
    cr_assert_eq(f.y_lo, 0.0f);
    cr_assert_eq(f.y_hi, 1.0f);
    cr_assert(f.x_lo < 0.0f && f.x_hi > 1.0f, "x range padded: [%g, %g]", f.x_lo, f.x_hi);
    /* both lines, across the frame, on their rows; nowhere else in the column */
    for (float v = 0.05f; v < 1.0f; v += 0.1f) {
        int col = column_of(&f, v), first, last;
        cr_assert_gt(rows_with(&im, &f, col, blue, &first, &last), 0, "no blue in column %d", col);
        cr_assert(abs(first - row_of(&f, 0.5f)) <= 2 && abs(last - row_of(&f, 0.5f)) <= 2,
                  "blue at rows %d..%d, expected %d", first, last, row_of(&f, 0.5f));
        cr_assert_gt(rows_with(&im, &f, col, orange, &first, &last), 0, "no orange in column %d", col);
        cr_assert(abs(first - row_of(&f, 0.25f)) <= 2 && abs(last - row_of(&f, 0.25f)) <= 2,
                  "orange at rows %d..%d, expected %d", first, last, row_of(&f, 0.25f));
    }
    /* the frame is black, the background white */
    cr_assert(is(&im, f.x0, (f.y0 + f.y1) / 2, (const unsigned char[3]){0, 0, 0}));
    cr_assert(is(&im, 1, 1, (const unsigned char[3]){255, 255, 255}));
    stbi_image_free(im.rgb);
}

Test(plot, nan_breaks_the_line) {
    enum { N = 7 };
    const float nan = NAN;
    float a[N] = {0.5f, 0.5f, 0.5f, nan, nan, 0.5f, 0.5f};
    float b[N] = {nan, nan, nan, nan, 0.25f, nan, nan}; /* a lone point: its marker */
    plot_series s[2] = {{"with gap", a}, {"lone", b}};
    plot_axes ax = {.n_points = N, .y_min = 0.0f, .y_max = 1.0f}; /* x: 0 .. 6 */
    image im = write_and_read("gap.png", &ax, s, 2, 640, 400);
    plot_frame f;
    char why[256];
    cr_assert_eq(plot_frame_of(&ax, s, 2, 640, 400, &f, why, sizeof why), 0, "%s", why);
    int first, last;
    cr_assert_gt(rows_with(&im, &f, column_of(&f, 1.5f), blue, &first, &last), 0);
    cr_assert_gt(rows_with(&im, &f, column_of(&f, 5.5f), blue, &first, &last), 0);
    for (float v = 2.3f; v < 4.75f; v += 0.1f)
        cr_assert_eq(rows_with(&im, &f, column_of(&f, v), blue, &first, &last), 0, "blue at x = %g in the gap", v);
    cr_assert_gt(rows_with(&im, &f, column_of(&f, 4.0f), orange, &first, &last), 0, "no marker at the lone point");
    cr_assert(abs(first - row_of(&f, 0.25f)) <= 4 && abs(last - row_of(&f, 0.25f)) <= 4);
    cr_assert_eq(rows_with(&im, &f, column_of(&f, 3.5f), orange, &first, &last), 0);
    stbi_image_free(im.rgb);
}

Test(plot, automatic_y_range_and_categories) {
    const char *ticks[4] = {"trained", "a.rather.long.layer.name", "another.long.layer.name", "conv1"};
    float a[4] = {2.0f, 3.0f, 4.0f, 3.5f};
    plot_series s[1] = {{"only", a}};
    plot_axes ax = {.x_ticks = ticks, .n_points = 4}; /* y_min == y_max: from the data */
    plot_frame f;
    char why[256];
    cr_assert_eq(plot_frame_of(&ax, s, 1, 400, 300, &f, why, sizeof why), 0, "%s", why);
    cr_assert_float_eq(f.y_lo, 1.9f, 1e-5f);
    cr_assert_float_eq(f.y_hi, 4.1f, 1e-5f);
    image im = write_and_read("cat.png", &ax, s, 1, 400, 300);
    cr_assert_eq(im.w, 400);
    cr_assert_eq(im.h, 300);
    int first, last;
    cr_assert_gt(rows_with(&im, &f, column_of(&f, 1.5f), blue, &first, &last), 0);
    cr_assert(abs((first + last) / 2 - row_of(&f, 3.5f)) <= 2);
    stbi_image_free(im.rgb);
}

Test(plot, failures_give_a_reason_and_no_file) {
    float a[3] = {0.0f, 1.0f, 0.5f};
    plot_series s[1] = {{"a", a}};
    plot_axes ax = {.n_points = 3};
    char why[256], path[512];
    snprintf(path, sizeof path, "%s/no/such/dir/p.png", tmpdir);
    why[0] = '\0';
    cr_assert_eq(plot_write(path, &ax, s, 1, 640, 400, why, sizeof why), -1);
    cr_assert(strstr(why, path) && !strchr(why, '\n'), "reason: '%s'", why);

    snprintf(path, sizeof path, "%s/p.png", tmpdir);
    struct {
        plot_axes ax;
        int n_series, w, h;
    } bad[] = {
        {ax, 1, PLOT_MIN_SIDE - 1, 400},
        {ax, 1, 640, PLOT_MAX_SIDE + 1},
        {{.n_points = 0}, 1, 640, 400},
        {{.n_points = 3, .y_min = 1.0f, .y_max = 0.0f}, 1, 640, 400},
        {{.n_points = 3, .y_min = 0.0f, .y_max = INFINITY}, 1, 640, 400},
        {{.n_points = 3, .x = (const float[3]){0.0f, NAN, 1.0f}}, 1, 640, 400},
        {ax, -1, 640, 400},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        why[0] = '\0';
        cr_assert_eq(plot_write(path, &bad[i].ax, s, bad[i].n_series, bad[i].w, bad[i].h, why, sizeof why), -1,
                     "case %zu", i);
        cr_assert(why[0] && !strchr(why, '\n'), "case %zu: reason '%s'", i, why);
    }
    plot_series no_y[1] = {{"a", NULL}};
    cr_assert_eq(plot_write(path, &ax, no_y, 1, 640, 400, why, sizeof why), -1);
    cr_assert_eq(files_in_tmp(), 0, "a failed write left a file behind");
}

Test(plot, no_series_and_huge_values) {
    float a[3] = {0.0f, 3e38f, -3e38f};
    plot_series s[1] = {{"huge", a}};
    plot_axes ax = {.n_points = 3, .y_min = 0.0f, .y_max = 1.0f};
    image im = write_and_read("empty.png", &ax, NULL, 0, 320, 240);
    stbi_image_free(im.rgb);
    im = write_and_read("huge.png", &ax, s, 1, 320, 240); /* lines cut at the frame */
    stbi_image_free(im.rgb);
    plot_axes autorange = {.n_points = 3};
    char why[256], path[512];
    snprintf(path, sizeof path, "%s/toolarge.png", tmpdir);
    cr_assert_eq(plot_write(path, &autorange, s, 1, 320, 240, why, sizeof why), -1);
    cr_assert(strstr(why, "too large"), "reason: '%s'", why);
}
