/* synth.c — `pixab synth`: a labelled synthetic multi-object data set in the
 * manner of the Pixab-CAM paper's "MOD" set. Each image holds 1-3 objects of
 * different classes; a class is a shape filled with a two-colour texture (pairs
 * of classes share similar shapes or textures, so both must be seen). Objects
 * have random position, scale (15-40 % of the image side), rotation and colours,
 * overlap little, and sit on a cluttered background (smooth colour noise, soft
 * blobs, thin lines, pixel noise) that contains none of the class textures.
 *
 * Outputs in OUTDIR: NNNNN.png (size x size RGB), annotations.jsonl (one line
 * per image, boxes = tight bounding box of the object's full drawn extent,
 * x1/y1 exclusive) and classes.txt. Every file appears atomically. Image i is a
 * function of (seed, i) alone — its own PRNG stream, no rand(), no clock — so a
 * seed gives byte-identical files, and -n N gives the first N images of any
 * larger run. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>


#include "args.h"
#include "cli.h"
#include "commands.h"
#include "outputs.h"
#include "rng.h"

#define PI 3.14159265358979323846

typedef struct {
    const char *outdir;     /* -o */
    long count, seed, size; /* -n, --seed, --size */
} synth_args;

static const cli_option synth_options[] = {
    {"-o", "--outdir", CLI_STRING, offsetof(synth_args, outdir), "DIR",
     "output directory (created if missing)", 0, 0, NULL},
    {"-n", "--count", CLI_INT, offsetof(synth_args, count), "N",
     "number of images, 1..99999 (default 100)", 1, 99999, NULL},
    {NULL, "--seed", CLI_INT, offsetof(synth_args, seed), "S", "random seed, a non-negative integer (default 0)", 0,
     LONG_MAX, NULL},
    {NULL, "--size", CLI_INT, offsetof(synth_args, size), "S",
     "image side in pixels, 64..4096 (default 299)", 64, 4096, NULL},
    {"-h", "--help", CLI_LINE, 0, NULL, "this text", 0, 0, NULL},
    {0},
};

static const cli_command synth_command = {
    "pixab synth",
    "usage: pixab synth -o OUTDIR [-n N] [--seed S] [--size S]\n"
    "\n"
    "Write a labelled synthetic multi-object data set: OUTDIR/NNNNN.png (S x S RGB),\n"
    "OUTDIR/annotations.jsonl ({\"image\",\"objects\":[{\"class\",\"name\",\"box\":[x0,y0,x1,y1]}]},\n"
    "box in pixels, x1/y1 exclusive) and OUTDIR/classes.txt (one name per line).\n"
    "Same seed, same bytes; image i depends only on (seed, i).\n"
    "\n",
    NULL,
    {{synth_options, 0}, {NULL, 0}},
    0,
};

/* ---- PRNG: splitmix64 (rng.h) ------------------------------------------------ */

static double rng_range(rng *r, double lo, double hi) { return lo + (hi - lo) * rng_u01(r); }
/* Uniform integer in [0, n). */
static int rng_below(rng *r, int n) { return rng_int(r, 0, n - 1); }

/* A hash of integer coordinates to [0, 1) (value noise, speckle). */
static double hash01(uint64_t key, int64_t x, int64_t y) {
    return (double)(rng_mix64(key ^ rng_mix64((uint64_t)x * 0x9e3779b97f4a7c15ULL + (uint64_t)y)) >> 11) *
           (1.0 / 9007199254740992.0);
}

/* ---- classes ------------------------------------------------------------------ */

typedef enum { SH_CIRCLE, SH_SQUARE, SH_TRIANGLE, SH_STAR, SH_HEXAGON, SH_RING, SH_CROSS, SH_ELLIPSE } shape_kind;
typedef enum { TX_STRIPES, TX_CHECKERS, TX_DOTS, TX_WAVES, TX_GRID, TX_NOISE, TX_DIAGONAL, TX_RINGS } texture_kind;

/* Similar pairs on purpose: stripes / diagonal stripes / waves; circle /
 * ellipse / ring; checkers / grid; dots / noise. */
static const struct {
    const char *name;
    shape_kind shape;
    texture_kind texture;
} classes[] = {
    {"circle_stripes", SH_CIRCLE, TX_STRIPES},     {"square_checkers", SH_SQUARE, TX_CHECKERS},
    {"triangle_dots", SH_TRIANGLE, TX_DOTS},       {"star_waves", SH_STAR, TX_WAVES},
    {"hexagon_grid", SH_HEXAGON, TX_GRID},         {"ring_noise", SH_RING, TX_NOISE},
    {"cross_diagonal", SH_CROSS, TX_DIAGONAL},     {"ellipse_rings", SH_ELLIPSE, TX_RINGS},
};
enum { N_CLASSES = (int)(sizeof classes / sizeof classes[0]), MAX_OBJECTS = 3 };

/* A five-pointed star, outer radius 1, inner 0.45 (vertex k at angle 90 + 36k degrees). */
static double star_x[10], star_y[10];

static void star_init(void) {
    for (int k = 0; k < 10; k++) {
        double a = PI / 2 + k * PI / 5, r = k % 2 ? 0.45 : 1.0;
        star_x[k] = r * cos(a);
        star_y[k] = r * sin(a);
    }
}

/* Inside test in the object's frame: (u, v) in units of its radius (every
 * shape lies within the unit disc). */
static int shape_inside(shape_kind s, double u, double v) {
    const double au = fabs(u), av = fabs(v), r2 = u * u + v * v;
    switch (s) {
    case SH_CIRCLE: return r2 <= 1.0;
    case SH_SQUARE: return au <= 0.72 && av <= 0.72;
    case SH_TRIANGLE: return v >= -0.5 && 1.7320508 * u + v <= 1.0 && -1.7320508 * u + v <= 1.0;
    case SH_STAR: {
        int in = 0; /* even-odd rule */
        for (int i = 0, j = 9; i < 10; j = i++)
            if ((star_y[i] > v) != (star_y[j] > v) &&
                u < (star_x[j] - star_x[i]) * (v - star_y[i]) / (star_y[j] - star_y[i]) + star_x[i])
                in = !in;
        return in;
    }
    case SH_HEXAGON: return av <= 0.8660254 && 1.7320508 * au + av <= 1.7320508;
    case SH_RING: return r2 <= 1.0 && r2 >= 0.3;
    case SH_CROSS: return (au <= 1.0 && av <= 0.3) || (au <= 0.3 && av <= 1.0);
    case SH_ELLIPSE: return u * u + v * v / 0.36 <= 1.0;
    }
    return 0;
}

static double fract(double x) { return x - floor(x); }

/* Which of the two colours (0/1) the texture has at (u, v); p: its period in
 * the object's frame, key: the object's hash key. */
static int texture_at(texture_kind t, double u, double v, double p, uint64_t key) {
    switch (t) {
    case TX_STRIPES: return fract(u / p) < 0.5;
    case TX_CHECKERS: return ((int64_t)floor(u / p) + (int64_t)floor(v / p)) & 1;
    case TX_DOTS: {
        double du = fract(u / p) - 0.5, dv = fract(v / p) - 0.5;
        return du * du + dv * dv < 0.09;
    }
    case TX_WAVES: return fract((v + 0.1 * sin(2 * PI * u / 0.55)) / p) < 0.5;
    case TX_GRID: return fract(u / p) < 0.25 || fract(v / p) < 0.25;
    case TX_NOISE: return hash01(key, (int64_t)floor(u / (0.3 * p)), (int64_t)floor(v / (0.3 * p))) < 0.5;
    case TX_DIAGONAL: return fract((u + v) / (0.75 * p)) < 0.3;
    case TX_RINGS: return fract(sqrt(u * u + v * v) / p) < 0.5;
    }
    return 0;
}

/* ---- one image ---------------------------------------------------------------- */

typedef struct {
    int cls;
    double cx, cy, radius, cos_a, sin_a, period;
    unsigned char color[2][3];
    uint64_t key;
    int box[4]; /* x0, y0, x1, y1 (exclusive) */
} object;

static double luma(const unsigned char c[3]) { return 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2]; }

static void random_color(rng *r, unsigned char c[3]) {
    for (int k = 0; k < 3; k++) c[k] = (unsigned char)rng_below(r, 256);
}

/* Smooth colour noise: a coarse random grid (cells x cells, at most 16)
 * interpolated bilinearly (smoothstep), added to out with weight w. */
static void add_value_noise(rng *r, float *out, int size, int cells, double w) {
    double grid[17][17][3];
    for (int y = 0; y <= cells; y++)
        for (int x = 0; x <= cells; x++)
            for (int c = 0; c < 3; c++) grid[y][x][c] = rng_u01(r);
    for (int y = 0; y < size; y++) {
        double gy = (double)y * cells / size;
        int iy = (int)gy;
        double fy = gy - iy;
        fy = fy * fy * (3 - 2 * fy);
        for (int x = 0; x < size; x++) {
            double gx = (double)x * cells / size;
            int ix = (int)gx;
            double fx = gx - ix;
            fx = fx * fx * (3 - 2 * fx);
            for (int c = 0; c < 3; c++) {
                double top = grid[iy][ix][c] + (grid[iy][ix + 1][c] - grid[iy][ix][c]) * fx;
                double bot = grid[iy + 1][ix][c] + (grid[iy + 1][ix + 1][c] - grid[iy + 1][ix][c]) * fx;
                out[3 * ((size_t)y * size + x) + c] += (float)(w * (top + (bot - top) * fy));
            }
        }
    }
}

/* The cluttered background, as floats in [0, 255]. */
static void draw_background(rng *r, float *bg, int size) {
    const size_t n = (size_t)size * size * 3;
    for (size_t i = 0; i < n; i++) bg[i] = 0.0f;
    add_value_noise(r, bg, size, 3, 170.0);
    add_value_noise(r, bg, size, 9, 60.0);
    /* Soft blobs: discs with a smooth edge, blended in. */
    for (int b = 0, nb = 3 + rng_below(r, 6); b < nb; b++) {
        double cx = rng_range(r, 0, size), cy = rng_range(r, 0, size), rad = rng_range(r, 0.04, 0.18) * size;
        double alpha = rng_range(r, 0.25, 0.6);
        unsigned char col[3];
        random_color(r, col);
        int x0 = (int)fmax(0, cx - rad), x1 = (int)fmin(size, cx + rad + 1);
        int y0 = (int)fmax(0, cy - rad), y1 = (int)fmin(size, cy + rad + 1);
        for (int y = y0; y < y1; y++)
            for (int x = x0; x < x1; x++) {
                double d = hypot(x + 0.5 - cx, y + 0.5 - cy) / rad;
                if (d >= 1.0) continue;
                double a = alpha * (1.0 - d * d);
                float *p = bg + 3 * ((size_t)y * size + x);
                for (int c = 0; c < 3; c++) p[c] = (float)(p[c] * (1 - a) + col[c] * a);
            }
    }
    /* Thin straight lines in random directions (never parallel families). */
    for (int l = 0, nl = 2 + rng_below(r, 4); l < nl; l++) {
        double x0 = rng_range(r, 0, size), y0 = rng_range(r, 0, size), ang = rng_range(r, 0, PI);
        double dx = cos(ang), dy = sin(ang), half = rng_range(r, 0.5, 1.5), alpha = rng_range(r, 0.4, 0.8);
        unsigned char col[3];
        random_color(r, col);
        for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++) {
                double d = fabs((x + 0.5 - x0) * dy - (y + 0.5 - y0) * dx); /* distance to the line */
                if (d >= half + 1.0) continue;
                double a = alpha * fmin(1.0, half + 1.0 - d);
                float *p = bg + 3 * ((size_t)y * size + x);
                for (int c = 0; c < 3; c++) p[c] = (float)(p[c] * (1 - a) + col[c] * a);
            }
    }
}

/* Choose 1-3 objects of distinct classes that overlap little; returns how many
 * were placed (at least 1). */
static int place_objects(rng *r, int size, object *obj) {
    int want = 1 + rng_below(r, MAX_OBJECTS), order[N_CLASSES], n = 0;
    for (int k = 0; k < N_CLASSES; k++) order[k] = k;
    for (int k = N_CLASSES - 1; k > 0; k--) { /* Fisher-Yates */
        int j = rng_below(r, k + 1), t = order[k];
        order[k] = order[j];
        order[j] = t;
    }
    for (int k = 0; k < want; k++) {
        object *o = &obj[n];
        int placed = 0;
        for (int attempt = 0; attempt < 64 && !placed; attempt++) {
            o->radius = rng_range(r, 0.15, 0.40) * size / 2;
            o->cx = rng_range(r, o->radius, size - o->radius);
            o->cy = rng_range(r, o->radius, size - o->radius);
            placed = 1;
            for (int j = 0; j < n; j++) /* centres at least 85 % of the radii apart */
                if (hypot(o->cx - obj[j].cx, o->cy - obj[j].cy) < 0.85 * (o->radius + obj[j].radius)) placed = 0;
        }
        if (!placed) continue; /* no room: fewer objects */
        o->cls = order[k];
        double a = rng_range(r, 0, 2 * PI);
        o->cos_a = cos(a);
        o->sin_a = sin(a);
        o->period = rng_range(r, 0.28, 0.4);
        random_color(r, o->color[0]);
        for (int attempt = 0; attempt < 32; attempt++) { /* a second colour of clearly other brightness */
            random_color(r, o->color[1]);
            if (fabs(luma(o->color[0]) - luma(o->color[1])) >= 90) break;
        }
        if (fabs(luma(o->color[0]) - luma(o->color[1])) < 90) /* rare: force it */
            for (int c = 0; c < 3; c++) o->color[1][c] = luma(o->color[0]) < 128 ? 255 : 0;
        o->key = rng_next(r);
        n++;
    }
    return n;
}

/* Draw o over img (floats) with 2 x 2 supersampling; sets o->box. */
static void draw_object(object *o, float *img, int size) {
    static const double sub[2] = {0.25, 0.75};
    const shape_kind sh = classes[o->cls].shape;
    const texture_kind tx = classes[o->cls].texture;
    int x0 = (int)fmax(0, floor(o->cx - o->radius - 1)), x1 = (int)fmin(size, ceil(o->cx + o->radius + 1));
    int y0 = (int)fmax(0, floor(o->cy - o->radius - 1)), y1 = (int)fmin(size, ceil(o->cy + o->radius + 1));
    int bx0 = size, by0 = size, bx1 = 0, by1 = 0;
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++) {
            double sum[3] = {0, 0, 0};
            int hits = 0;
            for (int sy = 0; sy < 2; sy++)
                for (int sx = 0; sx < 2; sx++) {
                    double px = (x + sub[sx] - o->cx) / o->radius, py = (y + sub[sy] - o->cy) / o->radius;
                    double u = o->cos_a * px + o->sin_a * py, v = -o->sin_a * px + o->cos_a * py;
                    if (!shape_inside(sh, u, v)) continue;
                    const unsigned char *c = o->color[texture_at(tx, u, v, o->period, o->key)];
                    for (int k = 0; k < 3; k++) sum[k] += c[k];
                    hits++;
                }
            if (!hits) continue;
            float *p = img + 3 * ((size_t)y * size + x);
            for (int k = 0; k < 3; k++) p[k] = (float)(p[k] * (4 - hits) / 4.0 + sum[k] / 4.0);
            if (x < bx0) bx0 = x;
            if (y < by0) by0 = y;
            if (x + 1 > bx1) bx1 = x + 1;
            if (y + 1 > by1) by1 = y + 1;
        }
    o->box[0] = bx0, o->box[1] = by0, o->box[2] = bx1, o->box[3] = by1;
}

/* Render image `index` of the run into rgb (size x size x 3); returns the
 * number of objects written to obj. bg: scratch of size*size*3 floats. */
static int render(uint64_t seed, int index, int size, float *bg, unsigned char *rgb, object *obj) {
    rng r = {rng_mix64(seed) ^ rng_mix64((uint64_t)index + 0x5851f42d4c957f2dULL)};
    draw_background(&r, bg, size);
    int n = place_objects(&r, size, obj);
    for (int k = 0; k < n; k++) draw_object(&obj[k], bg, size);
    rng noise = {rng_next(&r)}; /* pixel noise, +-6, over everything */
    for (size_t i = 0, m = (size_t)size * size * 3; i < m; i++) {
        double v = bg[i] + 12.0 * (rng_u01(&noise) - 0.5);
        rgb[i] = (unsigned char)(v <= 0 ? 0 : v >= 255 ? 255 : (int)(v + 0.5));
    }
    return n;
}

/* ---- output ------------------------------------------------------------------- */

static char *join(const char *dir, const char *name) {
    size_t n = strlen(dir);
    char *s = malloc(n + strlen(name) + 2);
    if (s) sprintf(s, "%s%s%s", dir, n && dir[n - 1] == '/' ? "" : "/", name);
    return s;
}

/* ---- the command -------------------------------------------------------------- */

int cmd_synth(int argc, char **argv) {
    synth_args a = {.count = 100, .seed = 0, .size = 299};
    int r = cli_parse(&synth_command, argc, argv, &a, NULL, NULL);
    if (r <= 0) return r < 0 ? CLI_FATAL : CLI_OK;
    const char *outdir = a.outdir;
    const long count = a.count, seed = a.seed, size = a.size;
    if (!outdir || !outdir[0]) {
        fprintf(stderr, "pixab synth: no output directory given (-o OUTDIR)\n");
        return CLI_FATAL;
    }
    int e = cli_make_dirs(outdir);
    if (e) {
        fprintf(stderr, "pixab synth: cannot create '%s': %s\n", outdir, strerror(e));
        return CLI_FATAL;
    }
    star_init();
    const int S = (int)size;
    float *bg = malloc(sizeof(float) * 3 * (size_t)S * S);
    unsigned char *rgb = malloc(3 * (size_t)S * S);
    char *ann = NULL;
    size_t ann_len = 0;
    FILE *af = open_memstream(&ann, &ann_len);
    int rc = CLI_OK, objects = 0;
    const double t0 = cli_now_s();
    if (!bg || !rgb || !af) {
        fprintf(stderr, "pixab synth: out of memory\n");
        rc = CLI_FATAL;
    }
    for (int i = 0; i < count && rc == CLI_OK; i++) {
        object obj[MAX_OBJECTS];
        int n = render((uint64_t)seed, i, S, bg, rgb, obj);
        char name[32];
        snprintf(name, sizeof name, "%05d.png", i);
        char *path = join(outdir, name), why[512];
        if (!path || cli_write_png(path, rgb, S, S, why, sizeof why)) {
            fprintf(stderr, "pixab synth: %s\n", path ? why : "out of memory");
            rc = CLI_FATAL;
        }
        free(path);
        fprintf(af, "{\"image\":\"%s\",\"objects\":[", name);
        for (int k = 0; k < n; k++)
            fprintf(af, "%s{\"class\":%d,\"name\":\"%s\",\"box\":[%d,%d,%d,%d]}", k ? "," : "", obj[k].cls,
                    classes[obj[k].cls].name, obj[k].box[0], obj[k].box[1], obj[k].box[2], obj[k].box[3]);
        fputs("]}\n", af);
        objects += n;
    }
    if (af && fclose(af) && rc == CLI_OK) {
        fprintf(stderr, "pixab synth: out of memory\n");
        rc = CLI_FATAL;
    }
    if (rc == CLI_OK) {
        char names[512] = "";
        size_t used = 0;
        for (int k = 0; k < N_CLASSES; k++)
            used += (size_t)snprintf(names + used, sizeof names - used, "%s\n", classes[k].name);
        const char *files[2] = {"classes.txt", "annotations.jsonl"};
        const char *data[2] = {names, ann};
        const size_t lens[2] = {used, ann_len};
        for (int f = 0; f < 2 && rc == CLI_OK; f++) {
            char *path = join(outdir, files[f]), why[512];
            if (!path || cli_write_file(path, data[f], lens[f], why, sizeof why)) {
                fprintf(stderr, "pixab synth: %s\n", path ? why : "out of memory");
                rc = CLI_FATAL;
            }
            free(path);
        }
    }
    if (rc == CLI_OK) {
        double s = cli_now_s() - t0;
        printf("pixab synth: %ld images, %d objects, %d classes in %s (%.2f s, %.1f images/s)\n", count, objects,
               N_CLASSES, outdir, s, count / fmax(s, 1e-9));
    }
    free(ann);
    free(rgb);
    free(bg);
    return rc;
}
