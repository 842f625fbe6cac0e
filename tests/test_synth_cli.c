/* test_synth_cli.c — `pixab synth` end to end: PNGs that decode at the size,
 * annotations.jsonl (1-3 objects of distinct classes per image, boxes inside the
 * image, something drawn in each box), classes.txt, byte-identical output for a
 * seed (and a prefix property: -n N gives the first N images of a larger run),
 * every class over 40 images, usage errors and uncreatable output directories
 * (exit 2, one line). Runs the built CLI binary. */
#define _POSIX_C_SOURCE 200809L

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli_run.h"
#include "json.h"
#include "pixab.h"

#define N_CLASSES 8

static void setup(void) { scratch_make("synth"); }
static void teardown(void) { scratch_remove(); }

static int same_file(const char *a, const char *b) {
    size_t la = 0, lb = 0;
    char *x = read_file(a, &la), *y = read_file(b, &lb);
    cr_assert(x && y, "%s / %s unreadable", a, b);
    int same = la == lb && !memcmp(x, y, la);
    free(x);
    free(y);
    return same;
}

static void synth(const char *dir, int n, int seed, int size) {
    run_result r = runf("synth -o '%s' -n %d --seed %d --size %d", tp(dir), n, seed, size);
    cr_assert_eq(r.status, 0, "synth: %s", r.err);
    cr_expect_eq(count_lines(r.out), 1, "%s", r.out);
}

typedef struct {
    json_value *v[64];
    int n;
} jsonl;

/* annotations.jsonl of dir: every line valid JSON with "image" and "objects". */
static jsonl read_annotations(const char *dir) {
    char rel[256];
    snprintf(rel, sizeof rel, "%s/annotations.jsonl", dir);
    char *text = read_file(tp(rel), NULL);
    cr_assert(text, "no %s", rel);
    jsonl a = {0};
    for (char *line = text, *nl; (nl = strchr(line, '\n')); line = nl + 1) {
        char err[128];
        cr_assert(a.n < 64);
        cr_assert_eq(json_parse(line, (size_t)(nl - line), &a.v[a.n], err, sizeof err), JSON_OK, "%s", err);
        cr_assert(json_string(json_object_get(a.v[a.n], "image"), NULL));
        cr_assert(json_is(json_object_get(a.v[a.n], "objects"), JSON_ARRAY));
        a.n++;
    }
    free(text);
    return a;
}

static void free_annotations(jsonl *a) {
    for (int i = 0; i < a->n; i++) json_free(a->v[i]);
}

static int64_t jint(const json_value *v) {
    int64_t x;
    cr_assert(json_get_i64(v, &x), "not an integer");
    return x;
}

/* Fraction of horizontally or vertically adjacent pixel pairs in [x0, x1) x
 * [y0, y1) whose colours differ strongly (sum of channel differences > 60:
 * beyond the +-6 pixel noise and the smooth background, typical of texture
 * edges), optionally only pairs where mask is 0. */
static double edge_density(const pixab_image *im, int x0, int y0, int x1, int y1, const unsigned char *mask) {
    long edges = 0, n = 0;
    const int w = im->width;
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++)
            for (int dir = 0; dir < 2; dir++) {
                int x2 = x + !dir, y2 = y + dir;
                if (x2 >= x1 || y2 >= y1) continue;
                if (mask && (mask[y * w + x] || mask[y2 * w + x2])) continue;
                const unsigned char *p = im->rgb + 3 * ((size_t)y * w + x), *q = im->rgb + 3 * ((size_t)y2 * w + x2);
                int d = 0;
                for (int c = 0; c < 3; c++) d += abs((int)p[c] - (int)q[c]);
                edges += d > 60;
                n++;
            }
    return n ? (double)edges / n : 0;
}

/* ---- tests ---------------------------------------------------------------------- */

TestSuite(synth, .init = setup, .fini = teardown, .timeout = 60);

Test(synth, images_and_annotations) {
    const int size = 299;
    synth("a", 12, 42, size);
    char *classes = read_file(tp("a/classes.txt"), NULL);
    cr_assert(classes);
    cr_expect_eq(count_lines(classes), N_CLASSES, "%s", classes);
    cr_expect(!strncmp(classes, "circle_stripes\n", 15), "%s", classes);

    jsonl a = read_annotations("a");
    cr_assert_eq(a.n, 12);
    for (int i = 0; i < a.n; i++) {
        char want[32], rel[64];
        snprintf(want, sizeof want, "%05d.png", i);
        cr_expect_str_eq(json_string(json_object_get(a.v[i], "image"), NULL), want);
        snprintf(rel, sizeof rel, "a/%s", want);
        pixab_image im;
        cr_assert_eq(pixab_image_load(tp(rel), &im), PIXAB_OK, "%s: %s", rel, pixab_last_error());
        cr_assert(im.width == size && im.height == size, "%s: %dx%d", rel, im.width, im.height);

        const json_value *objs = json_object_get(a.v[i], "objects");
        size_t n = json_count(objs);
        cr_expect(n >= 1 && n <= 3, "%s: %zu objects", want, n);
        unsigned char *mask = calloc((size_t)size * size, 1);
        int seen[N_CLASSES] = {0};
        for (size_t k = 0; k < n; k++) {
            const json_value *o = json_array_get(objs, k), *box = json_object_get(o, "box");
            int64_t cls = jint(json_object_get(o, "class"));
            cr_assert(cls >= 0 && cls < N_CLASSES, "class %lld", (long long)cls);
            cr_expect(!seen[cls]++, "%s: class %lld twice", want, (long long)cls);
            const char *name = json_string(json_object_get(o, "name"), NULL);
            cr_assert(name && strstr(classes, name), "%s: name %s", want, name ? name : "(none)");
            cr_assert_eq(json_count(box), 4);
            int b[4];
            for (int j = 0; j < 4; j++) b[j] = (int)jint(json_array_get(box, (size_t)j));
            cr_expect(0 <= b[0] && b[0] < b[2] && b[2] <= size && 0 <= b[1] && b[1] < b[3] && b[3] <= size,
                      "%s: box [%d,%d,%d,%d]", want, b[0], b[1], b[2], b[3]);
            /* 15-40 % of the side: never a sliver. */
            cr_expect(b[2] - b[0] >= 0.05 * size && b[3] - b[1] >= 0.05 * size, "%s: tiny box", want);
            for (int y = b[1]; y < b[3]; y++) memset(mask + (size_t)y * size + b[0], 1, (size_t)(b[2] - b[0]));
        }
        /* Something textured was drawn in each box: far more strong edges than
         * in the background outside all boxes. */
        double outside = edge_density(&im, 0, 0, size, size, mask);
        for (size_t k = 0; k < n; k++) {
            const json_value *box = json_object_get(json_array_get(objs, k), "box");
            int b[4];
            for (int j = 0; j < 4; j++) b[j] = (int)jint(json_array_get(box, (size_t)j));
            double inside = edge_density(&im, b[0], b[1], b[2], b[3], NULL);
            cr_expect(inside > 3 * outside + 0.01, "%s object %zu: edge density %.3f in box vs %.3f outside", want,
                      k, inside, outside);
        }
        free(mask);
        pixab_image_free(&im);
    }
    free_annotations(&a);
    free(classes);
}

Test(synth, deterministic_for_a_seed) {
    synth("s1", 5, 7, 128);
    synth("s2", 5, 7, 128);
    synth("s3", 5, 8, 128);
    synth("long", 8, 7, 128);
    const char *files[] = {"00000.png", "00001.png", "00004.png", "annotations.jsonl", "classes.txt"};
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        char a[64], b[64];
        snprintf(a, sizeof a, "s1/%s", files[f]);
        snprintf(b, sizeof b, "s2/%s", files[f]);
        cr_expect(same_file(tp(a), tp(b)), "%s differs between two runs with the same seed", files[f]);
        if (strcmp(files[f], "annotations.jsonl")) { /* -n 8 begins with the same images */
            snprintf(b, sizeof b, "long/%s", files[f]);
            cr_expect(same_file(tp(a), tp(b)), "%s: -n 5 and -n 8 differ", files[f]);
        }
    }
    int differ = 0;
    for (int i = 0; i < 5; i++) {
        char a[64], b[64];
        snprintf(a, sizeof a, "s1/%05d.png", i);
        snprintf(b, sizeof b, "s3/%05d.png", i);
        differ += !same_file(tp(a), tp(b));
    }
    cr_expect_eq(differ, 5, "only %d of 5 images differ with another seed", differ);
    cr_expect(!same_file(tp("s1/annotations.jsonl"), tp("s3/annotations.jsonl")));
}

Test(synth, every_class_appears) {
    synth("c", 40, 1, 96);
    jsonl a = read_annotations("c");
    cr_assert_eq(a.n, 40);
    int seen[N_CLASSES] = {0}, objects = 0, counts[4] = {0};
    for (int i = 0; i < a.n; i++) {
        const json_value *objs = json_object_get(a.v[i], "objects");
        size_t n = json_count(objs);
        if (n <= 3) counts[n]++;
        for (size_t k = 0; k < n; k++, objects++) {
            int64_t c = jint(json_object_get(json_array_get(objs, k), "class"));
            cr_assert(c >= 0 && c < N_CLASSES);
            seen[c]++;
        }
    }
    for (int c = 0; c < N_CLASSES; c++) cr_expect(seen[c] > 0, "class %d never appears in 40 images", c);
    cr_expect(counts[1] && counts[2] && counts[3], "object counts 1/2/3: %d/%d/%d", counts[1], counts[2], counts[3]);
    free_annotations(&a);
}

Test(synth, usage_errors) {
    static const char *bad[] = {
        "synth",                         /* no -o */
        "synth -o %s/x -n 0",            /* count out of range */
        "synth -o %s/x -n abc",          /* not a number */
        "synth -o %s/x --seed -1",       /* negative seed */
        "synth -o %s/x --size 10",       /* too small */
        "synth -o %s/x --bogus",         /* unknown flag */
        "synth -o %s/x extra",           /* stray argument */
        "synth -o",                      /* missing value */
        "synth -o %s/file/sub",          /* a path through a regular file */
        "synth -o %s/ro/sub",            /* an unwritable parent */
    };
    FILE *f = fopen(tp("file"), "w");
    cr_assert(f);
    fclose(f);
    cr_assert_eq(mkdir(tp("ro"), 0500), 0);
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        if (k == 9 && geteuid() == 0) continue; /* root writes anywhere */
        run_result r = runf(bad[k], tmp);
        cr_expect_eq(r.status, 2, "'%s': exit %d", bad[k], r.status);
        cr_expect_eq(count_lines(r.err), 1, "'%s': stderr %s", bad[k], r.err);
        cr_expect(!strncmp(r.err, "pixab", 5), "'%s': %s", bad[k], r.err);
    }
    cr_expect(access(tp("x"), F_OK), "a failed run created its output directory");
    run_result h = run("synth --help");
    cr_expect_eq(h.status, 0);
    cr_expect(strstr(h.out, "--seed"), "%s", h.out);
    h = run("--help");
    cr_expect(strstr(h.out, "synth"), "%s", h.out);
}
