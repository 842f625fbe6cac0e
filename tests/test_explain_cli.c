/* test_explain_cli.c — `pixab explain` and `pixab bench` end to end with the
 * bundled reduced-width model: outputs per image x method (.npy shape and range,
 * .png at the image's size showing the jet overlay, results.jsonl lines), maps
 * equal to the library's, directory walks, stem collisions, bad images skipped,
 * usage errors and unwritable output directories (exit 2, one line, nothing
 * left behind), --no-png / --resume / --shard (also from the environment),
 * SIGINT mid-run then --resume, --max-memory, the decode/write pipeline against
 * a serial run. Runs the built CLI binary. */
#define _POSIX_C_SOURCE 200809L

#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__has_include)
#if __has_include(<stb_image.h>)
#include <stb_image.h>
#else
#include <stb/stb_image.h>
#endif
#else
#include <stb/stb_image.h>
#endif

#include "cli_run.h"
#include "json.h"
#include "npy.h"
#include "pixab.h"
#include "wsol.h"

#define DATA PIXAB_TEST_DATA "/"
#define MODEL DATA "inception_v3_w8.safetensors"

/* ---- helpers ---------------------------------------------------------------- */

static void setup(void) { scratch_make("explain"); }
static void teardown(void) { scratch_remove(); }

/* Entries of a directory (without . and ..), and how many contain `part`. */
static int count_entries(const char *dir, const char *part) {
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && (!part || strstr(e->d_name, part))) n++;
    closedir(d);
    return n;
}

/* A .npy map: float32 (h, w), finite, in [0,1], min-max normalised (max 1, or
 * all zeros). */
static void check_npy(const char *path, int h, int w) {
    npy_array a;
    cr_assert_eq(npy_read_f32(path, &a), PIXAB_OK, "%s: %s", path, pixab_last_error());
    cr_assert(a.ndim == 2 && a.shape[0] == h && a.shape[1] == w, "%s: shape (%lld, %lld), want (%d, %d)", path,
              (long long)a.shape[0], (long long)(a.ndim > 1 ? a.shape[1] : -1), h, w);
    float lo = 1.0f, hi = 0.0f;
    for (int64_t i = 0; i < a.numel; i++) {
        cr_assert(isfinite(a.data[i]) && a.data[i] >= 0.0f && a.data[i] <= 1.0f, "%s[%lld] = %g", path,
                  (long long)i, a.data[i]);
        lo = fminf(lo, a.data[i]);
        hi = fmaxf(hi, a.data[i]);
    }
    cr_expect(hi == 1.0f || hi == 0.0f, "%s: max %g", path, hi);
    cr_expect(lo == 0.0f, "%s: min %g", path, lo);
    npy_free(&a);
}

static void check_png_size(const char *path, int w, int h) {
    int x, y, comp;
    cr_assert(stbi_info(path, &x, &y, &comp), "%s is not a readable image", path);
    cr_expect(x == w && y == h && comp == 3, "%s: %dx%d (%d channels), want %dx%d RGB", path, x, y, comp, w, h);
}

/* The lines of results.jsonl, parsed; every one must have all the keys. */
typedef struct {
    json_value *v[64];
    int n;
} jsonl;

static jsonl read_results(const char *outdir_rel) {
    jsonl r = {{0}, 0};
    char rel[256];
    snprintf(rel, sizeof rel, "%s/results.jsonl", outdir_rel);
    char *text = read_file(tp(rel), NULL);
    cr_assert(text, "no %s", rel);
    for (char *line = text; *line;) {
        char *nl = strchr(line, '\n');
        cr_assert(nl, "results.jsonl ends in a torn line: %s", line);
        cr_assert(r.n < 64);
        char err[128];
        cr_assert_eq(json_parse(line, (size_t)(nl - line), &r.v[r.n], err, sizeof err), JSON_OK, "%s: %.*s", err,
                     (int)(nl - line), line);
        static const char *keys[] = {"image", "method", "layer", "class", "score", "score_kind", "map", "ms"};
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
            cr_expect(json_object_get(r.v[r.n], keys[k]), "line %d lacks \"%s\": %.*s", r.n + 1, keys[k],
                      (int)(nl - line), line);
        r.n++;
        line = nl + 1;
    }
    free(text);
    return r;
}

static void jsonl_free(jsonl *r) {
    for (int i = 0; i < r->n; i++) json_free(r->v[i]);
    r->n = 0;
}

static const char *jstr(const json_value *line, const char *key) {
    const char *s = json_string(json_object_get(line, key), NULL);
    cr_assert(s, "\"%s\" is not a string", key);
    return s;
}

static double jnum(const json_value *line, const char *key) {
    double d;
    cr_assert(json_number(json_object_get(line, key), &d), "\"%s\" is not a number", key);
    return d;
}

/* The line for (image, method), or NULL. */
static const json_value *find_line(const jsonl *r, const char *image, const char *method) {
    for (int i = 0; i < r->n; i++)
        if (!strcmp(jstr(r->v[i], "image"), image) && !strcmp(jstr(r->v[i], "method"), method)) return r->v[i];
    return NULL;
}

/* ---- explain: outputs ----------------------------------------------------------- */

TestSuite(explain, .init = setup, .fini = teardown);

Test(explain, directory_with_a_bad_image_completes_the_others) {
    mkdirs("in/sub");
    mkdirs("out");
    copy_file(DATA "test299.png", tp("in/test299.png"));
    copy_file(DATA "small53x37.png", tp("in/sub/small53x37.png"));
    write_text(tp("in/corrupt.png"), "\x89PNG\r\n\x1a\nthis is not a png");
    write_text(tp("in/notes.txt"), "not an image: never opened");
    write_text(tp("in/.hidden.png"), "hidden: never opened");
    run_result r = runf("explain -w %s -m activation -o %s %s", MODEL, tp("out"), tp("in"));
    cr_expect_eq(r.status, 1, "a bad image: exit status 1, got %d (%s)", r.status, r.err);
    cr_expect_eq(count_lines(r.err), 1, "one line for the bad image: %s", r.err);
    cr_expect(strstr(r.err, "corrupt.png"), "%s", r.err);
    cr_expect_str_empty(r.out);

    check_npy(tp("out/test299.activation.npy"), 8, 8);
    check_npy(tp("out/small53x37.activation.npy"), 8, 8);
    check_png_size(tp("out/test299.activation.png"), 299, 299);
    check_png_size(tp("out/small53x37.activation.png"), 53, 37);
    cr_expect_eq(count_entries(tp("out"), NULL), 7, "2 .npy, 2 .png, results.jsonl, runs.jsonl, contact sheet");
    cr_expect_eq(count_entries(tp("out"), ".tmp"), 0, "no temporary files left");

    jsonl res = read_results("out");
    cr_assert_eq(res.n, 2, "one line per good image x method");
    /* Sorted walk: in/sub/small53x37.png before in/test299.png. */
    cr_expect_str_eq(jstr(res.v[0], "image"), tp("in/sub/small53x37.png"));
    cr_expect_str_eq(jstr(res.v[1], "image"), tp("in/test299.png"));
    for (int i = 0; i < 2; i++) {
        cr_expect_str_eq(jstr(res.v[i], "method"), "activation");
        cr_expect_str_eq(jstr(res.v[i], "layer"), "Mixed_7c");
        double cls = jnum(res.v[i], "class"), score = jnum(res.v[i], "score");
        cr_expect(cls >= 0 && cls < 10 && cls == floor(cls), "class %g", cls);
        cr_expect(score > 0 && score <= 1, "softmax score %g", score);
        cr_expect_str_eq(jstr(res.v[i], "score_kind"), "softmax");
        cr_expect(exists(jstr(res.v[i], "map")), "\"map\" names the .npy: %s", jstr(res.v[i], "map"));
        cr_expect(jnum(res.v[i], "ms") >= 0);
    }
    cr_expect_str_eq(jstr(res.v[1], "map"), tp("out/test299.activation.npy"));
    jsonl_free(&res);
}

Test(explain, several_methods_in_one_run) {
    run_result r = runf("explain -w %s -m activation,pixab -o %s %stest299.png %ssmall53x37.png", MODEL, tp("out"),
                        DATA, DATA);
    cr_assert_eq(r.status, 0, "stderr: %s", r.err);
    cr_expect_str_empty(r.err);
    static const char *methods[] = {"activation", "pixab"}, *stems[] = {"test299", "small53x37"};
    for (int s = 0; s < 2; s++)
        for (int m = 0; m < 2; m++) {
            char rel[128];
            snprintf(rel, sizeof rel, "out/%s.%s.npy", stems[s], methods[m]);
            check_npy(tp(rel), 8, 8);
            snprintf(rel, sizeof rel, "out/%s.%s.png", stems[s], methods[m]);
            check_png_size(tp(rel), s ? 53 : 299, s ? 37 : 299);
        }
    jsonl res = read_results("out");
    cr_assert_eq(res.n, 4);
    /* Image by image, methods in the order asked. */
    cr_expect_str_eq(jstr(res.v[0], "method"), "activation");
    cr_expect_str_eq(jstr(res.v[1], "method"), "pixab");
    cr_expect_str_eq(jstr(res.v[0], "image"), DATA "test299.png");
    cr_expect_str_eq(jstr(res.v[1], "image"), DATA "test299.png");
    cr_expect_eq(jnum(res.v[0], "class"), jnum(res.v[1], "class"), "one top-1 class for both methods");
    cr_expect_str_eq(jstr(res.v[1], "score_kind"), "softmax", "Pixab-CAM's default score");
    cr_expect_str_eq(jstr(res.v[3], "map"), tp("out/small53x37.pixab.npy"));
    jsonl_free(&res);
    cr_expect_eq(count_entries(tp("out"), ".tmp"), 0);
}

Test(explain, contact_sheet) {
    run_result r = runf("explain -v -w %s -m activation,pixab -o %s %stest299.png %ssmall53x37.png", MODEL,
                        tp("out"), DATA, DATA);
    cr_assert_eq(r.status, 0, "stderr: %s", r.err);
    cr_expect(strstr(r.err, tp("out/contact_sheet.png")), "-v names the sheet: %s", r.err);
    /* host/cli/cli.h: header 28 px, rows 160 + 4 px, label column 200 px, then
     * 3 columns (image + 2 methods) each as wide as the widest thumbnail (53x37 at
     * 160 px high: 160 * 53 / 37 = 229) + 4 px. */
    check_png_size(tp("out/contact_sheet.png"), 200 + 3 * (229 + 4), 28 + 2 * (160 + 4));
    cr_expect_eq(count_entries(tp("out"), ".tmp"), 0);

    r = runf("explain -w %s -m activation,pixab --no-png -o %s %stest299.png %ssmall53x37.png", MODEL, tp("nopng"),
             DATA, DATA);
    cr_assert_eq(r.status, 0, "stderr: %s", r.err);
    cr_expect(!exists(tp("nopng/contact_sheet.png")), "--no-png: no contact sheet");
}

/* The bundled model on a CPU engine, and `image` preprocessed for it (malloc'd). */
static float *library_input(const char *image, pixab_model **m, pixab_engine **e) {
    pixab_image img;
    cr_assert_eq(pixab_model_load(MODEL, m), PIXAB_OK);
    cr_assert_eq(pixab_engine_create(*m, "cpu", 8, e), PIXAB_OK);
    cr_assert_eq(pixab_image_load(image, &img), PIXAB_OK);
    float *x = malloc(sizeof(float) * 299 * 299 * 3);
    cr_assert(x);
    cr_assert_eq(pixab_image_preprocess(&img, pixab_model_preproc(*m), x), PIXAB_OK);
    pixab_image_free(&img);
    return x;
}

Test(explain, maps_are_the_librarys) {
    run_result r = runf("explain -w %s -m pixab,activation --no-png -o %s %stest299.png", MODEL, tp("out"), DATA);
    cr_assert_eq(r.status, 0, "stderr: %s", r.err);
    cr_expect_eq(count_entries(tp("out"), ".png"), 0, "--no-png");

    pixab_model *m;
    pixab_engine *e;
    float *x = library_input(DATA "test299.png", &m, &e);
    pixab_method methods[2] = {PIXAB_METHOD_PIXAB, PIXAB_METHOD_ACTIVATION};
    pixab_explain_opts o = {.layer = pixab_model_find_layer(m, "Mixed_7c"), .cls = -1};
    pixab_map maps[2];
    cr_assert_eq(pixab_explain(e, x, methods, 2, &o, maps), PIXAB_OK, "%s", pixab_last_error());
    jsonl res = read_results("out");
    cr_assert_eq(res.n, 2);
    for (int k = 0; k < 2; k++) {
        npy_array a;
        cr_assert_eq(npy_read_f32(jstr(res.v[k], "map"), &a), PIXAB_OK);
        cr_assert_eq(a.numel, maps[k].h * maps[k].w);
        float err = 0.0f;
        for (int i = 0; i < a.numel; i++) err = fmaxf(err, fabsf(a.data[i] - maps[k].map[i]));
        /* Same code; the tolerance covers another OpenBLAS kernel when this process
         * runs without ctest's OPENBLAS_CORETYPE. */
        cr_expect(err <= 1e-4f, "%s: max |cli - library| = %g", pixab_method_name(methods[k]), err);
        cr_expect_eq((int)jnum(res.v[k], "class"), maps[k].cls);
        cr_expect(fabs(jnum(res.v[k], "score") - maps[k].score) <= 1e-4 * fabs(maps[k].score), "score %g vs %g",
                  jnum(res.v[k], "score"), maps[k].score);
        npy_free(&a);
        pixab_map_free(&maps[k]);
    }
    jsonl_free(&res);
    free(x);
    pixab_engine_destroy(e);
    pixab_model_free(m);
}

/* matplotlib's jet, continuous (the CLI quantises to 256 levels as matplotlib
 * does: within 4/255 of this). */
static float jet_ref(const float *xs, const float *ys, int n, float v) {
    for (int k = 1; k < n; k++)
        if (v <= xs[k]) return ys[k - 1] + (ys[k] - ys[k - 1]) * (v - xs[k - 1]) / (xs[k] - xs[k - 1]);
    return ys[n - 1];
}

Test(explain, png_is_the_jet_overlay_at_half_alpha) {
    run_result r = runf("explain -w %s -m activation -o %s %ssmall53x37.png", MODEL, tp("out"), DATA);
    cr_assert_eq(r.status, 0, "stderr: %s", r.err);
    npy_array a;
    cr_assert_eq(npy_read_f32(tp("out/small53x37.activation.npy"), &a), PIXAB_OK);
    pixab_image src, png;
    cr_assert_eq(pixab_image_load(DATA "small53x37.png", &src), PIXAB_OK);
    cr_assert_eq(pixab_image_load(tp("out/small53x37.activation.png"), &png), PIXAB_OK);
    cr_assert(png.width == 53 && png.height == 37);
    float up[53 * 37];
    cr_assert_eq(pixab_map_upsample(a.data, 8, 8, 37, 53, up), PIXAB_OK);
    static const float rx[] = {0, 0.35f, 0.66f, 0.89f, 1}, ry[] = {0, 0, 1, 1, 0.5f};
    static const float gx[] = {0, 0.125f, 0.375f, 0.64f, 0.91f, 1}, gy[] = {0, 0, 1, 1, 0, 0};
    static const float bx[] = {0, 0.11f, 0.34f, 0.65f, 1}, by[] = {0.5f, 1, 1, 0, 0};
    float worst = 0.0f;
    for (int p = 0; p < 53 * 37; p++) {
        float jet[3] = {jet_ref(rx, ry, 5, up[p]), jet_ref(gx, gy, 6, up[p]), jet_ref(bx, by, 5, up[p])};
        for (int c = 0; c < 3; c++) {
            float want = 0.5f * 255.0f * jet[c] + 0.5f * src.rgb[3 * p + c];
            worst = fmaxf(worst, fabsf(png.rgb[3 * p + c] - want));
        }
    }
    cr_expect(worst <= 3.0f, "overlay differs from 0.5 jet + 0.5 image by %g levels", worst);
    npy_free(&a);
    pixab_image_free(&src);
    pixab_image_free(&png);
}

/* --guided: OUTDIR/<stem>.<method>.guided.npy is the library's guided map
 * (float32 (299, 299, 3)) of the image's top-1 class, .guided.png its
 * rendering (G - mean)/(std + 1e-5) * 0.1 + 0.5, clipped, times 255. */
Test(explain, guided_maps_are_the_librarys_and_rendered) {
    run_result r = runf("explain -w %s -m gradcam,pixab --guided -o %s %ssmall53x37.png", MODEL, tp("out"), DATA);
    cr_assert_eq(r.status, 0, "stderr: %s", r.err);
    pixab_model *m;
    pixab_engine *e;
    const size_t n = 299 * 299 * 3;
    float *x = library_input(DATA "small53x37.png", &m, &e), *gb = malloc(sizeof(float) * n),
          *g = malloc(sizeof(float) * n);
    cr_assert(gb && g);
    pixab_method methods[2] = {PIXAB_METHOD_GRADCAM, PIXAB_METHOD_PIXAB};
    pixab_explain_opts o = {.layer = pixab_model_find_layer(m, "Mixed_7c"), .cls = -1};
    pixab_map maps[2];
    cr_assert_eq(pixab_explain(e, x, methods, 2, &o, maps), PIXAB_OK, "%s", pixab_last_error());
    cr_assert_eq(pixab_guided_backprop(e, x, 1, &maps[0].cls, gb), PIXAB_OK, "%s", pixab_last_error());
    for (int k = 0; k < 2; k++) {
        char path[256];
        npy_array a;
        snprintf(path, sizeof path, "%s/small53x37.%s.guided.npy", tp("out"), pixab_method_name(methods[k]));
        cr_assert_eq(npy_read_f32(path, &a), PIXAB_OK, "%s", pixab_last_error());
        cr_assert(a.ndim == 3 && a.shape[0] == 299 && a.shape[1] == 299 && a.shape[2] == 3, "%s: shape", path);
        cr_assert_eq(pixab_guided_map(gb, 299, maps[k].map, maps[k].h, maps[k].w, g), PIXAB_OK);
        double err = 0.0, big = 0.0, sum = 0.0, sq = 0.0;
        for (size_t i = 0; i < n; i++) {
            err = fmax(err, fabs(a.data[i] - g[i]));
            big = fmax(big, fabs(g[i]));
            sum += a.data[i];
        }
        cr_expect(big > 0.0 && err <= 1e-4 * big, "%s: max |cli - library| %g of %g", path, err, big);
        const double mean = sum / (double)n;
        for (size_t i = 0; i < n; i++) sq += (a.data[i] - mean) * (a.data[i] - mean);
        const double sd = sqrt(sq / (double)n);
        pixab_image png;
        snprintf(path, sizeof path, "%s/small53x37.%s.guided.png", tp("out"), pixab_method_name(methods[k]));
        cr_assert_eq(pixab_image_load(path, &png), PIXAB_OK, "%s", pixab_last_error());
        cr_assert(png.width == 299 && png.height == 299);
        int worst = 0;
        for (size_t i = 0; i < n; i++) {
            double v = (a.data[i] - mean) / (sd + 1e-5) * 0.1 + 0.5;
            int want = (int)(fmin(fmax(v, 0.0), 1.0) * 255.0), d = abs(png.rgb[i] - want);
            worst = d > worst ? d : worst;
        }
        cr_expect(worst <= 1, "%s differs from the rendering by %d levels", path, worst);
        pixab_image_free(&png);
        npy_free(&a);
        pixab_map_free(&maps[k]);
    }
    free(x), free(gb), free(g);
    pixab_engine_destroy(e);
    pixab_model_free(m);
}

/* --wsol: each line's "wsol_box" is wsol_map_box of its map at the image's
 * size and threshold (0.2, then --wsol-threshold 0.6), and the overlay shows
 * its white outline; a threshold outside [0, 1] is a usage error. */
Test(explain, wsol_boxes_in_the_lines_and_on_the_overlays) {
    static const float ts[2] = {0.2f, 0.6f};
    for (int k = 0; k < 2; k++) {
        run_result r = runf("explain -w %s -m gradcam,pixab --wsol%s -o %s %ssmall53x37.png", MODEL,
                            k ? " --wsol-threshold 0.6" : "", tp(k ? "out2" : "out1"), DATA);
        cr_assert_eq(r.status, 0, "stderr: %s", r.err);
        jsonl res = read_results(k ? "out2" : "out1");
        cr_assert_eq(res.n, 2);
        for (int i = 0; i < res.n; i++) {
            const json_value *b = json_object_get(res.v[i], "wsol_box");
            cr_assert(b, "no wsol_box");
            int got[4];
            for (int c = 0; c < 4; c++) {
                int64_t v = -1;
                cr_assert(json_get_i64(json_array_get(b, (size_t)c), &v));
                got[c] = (int)v;
            }
            npy_array a;
            cr_assert_eq(npy_read_f32(jstr(res.v[i], "map"), &a), PIXAB_OK);
            metrics_box want;
            cr_assert_eq(wsol_map_box(a.data, (int)a.shape[0], (int)a.shape[1], 53, 37, ts[k], &want), PIXAB_OK);
            cr_expect(got[0] == want.x0 && got[1] == want.y0 && got[2] == want.x1 && got[3] == want.y1,
                      "box [%d,%d,%d,%d] vs [%d,%d,%d,%d]", got[0], got[1], got[2], got[3], want.x0, want.y0,
                      want.x1, want.y1);
            pixab_image png;
            cr_assert_eq(pixab_image_load(jstr(res.v[i], "png"), &png), PIXAB_OK);
            for (int x = want.x0; x < want.x1; x++) /* the top edge */
                for (int c = 0; c < 3; c++) cr_expect_eq(png.rgb[((size_t)want.y0 * 53 + x) * 3 + c], 255);
            pixab_image_free(&png);
            npy_free(&a);
        }
        jsonl_free(&res);
    }
    run_result r = runf("explain -w %s --wsol --wsol-threshold 1.5 -o %s %ssmall53x37.png", MODEL, tp("bad"), DATA);
    cr_expect_eq(r.status, 2);
    cr_expect(strstr(r.err, "--wsol-threshold"), "%s", r.err);
}

/* --randomize LAYER --seed S: the maps of pixab_model_randomize(m, LAYER, S)
 * (the eval sanity check's models); an unknown layer is a usage error. */
Test(explain, randomize_explains_the_randomised_model) {
    run_result r = runf("explain -w %s -m gradcam --randomize Mixed_7c --seed 7 --no-png -o %s %stest299.png", MODEL,
                        tp("out"), DATA);
    cr_assert_eq(r.status, 0, "stderr: %s", r.err);
    pixab_model *m, *rm;
    pixab_engine *e;
    pixab_image img;
    cr_assert_eq(pixab_model_load(MODEL, &m), PIXAB_OK);
    cr_assert_eq(pixab_model_randomize(m, pixab_model_find_layer(m, "Mixed_7c"), 7, &rm), PIXAB_OK);
    cr_assert_eq(pixab_engine_create(rm, "cpu", 1, &e), PIXAB_OK);
    cr_assert_eq(pixab_image_load(DATA "test299.png", &img), PIXAB_OK);
    float *x = malloc(sizeof(float) * 299 * 299 * 3);
    cr_assert_eq(pixab_image_preprocess(&img, pixab_model_preproc(rm), x), PIXAB_OK);
    const pixab_method g = PIXAB_METHOD_GRADCAM;
    pixab_explain_opts o = {.layer = pixab_model_find_layer(rm, "Mixed_7c"), .cls = -1};
    pixab_map map;
    cr_assert_eq(pixab_explain(e, x, &g, 1, &o, &map), PIXAB_OK, "%s", pixab_last_error());
    npy_array a;
    cr_assert_eq(npy_read_f32(tp("out/test299.gradcam.npy"), &a), PIXAB_OK);
    cr_assert_eq(a.numel, map.h * map.w);
    float err = 0.0f;
    for (int i = 0; i < a.numel; i++) err = fmaxf(err, fabsf(a.data[i] - map.map[i]));
    cr_expect(err <= 1e-4f, "max |cli - library| = %g", err);
    npy_free(&a);
    pixab_map_free(&map);
    free(x);
    pixab_image_free(&img);
    pixab_engine_destroy(e);
    pixab_model_free(rm);
    pixab_model_free(m);
    r = runf("explain -w %s --randomize nope -o %s %stest299.png", MODEL, tp("bad"), DATA);
    cr_expect_eq(r.status, 2);
    cr_expect(strstr(r.err, "--randomize") && strstr(r.err, "nope"), "%s", r.err);
}

Test(explain, layer_mixed_6e_gives_17x17) {
    run_result r = runf("explain -w %s -m activation -l Mixed_6e -o %s %stest299.png", MODEL, tp("out"), DATA);
    cr_assert_eq(r.status, 0, "stderr: %s", r.err);
    check_npy(tp("out/test299.activation.npy"), 17, 17);
    jsonl res = read_results("out");
    cr_assert_eq(res.n, 1);
    cr_expect_str_eq(jstr(res.v[0], "layer"), "Mixed_6e");
    jsonl_free(&res);
}

Test(explain, colliding_stems_get_suffixes_in_input_order) {
    mkdirs("in/a");
    mkdirs("in/b");
    mkdirs("in/c");
    copy_file(DATA "small53x37.png", tp("in/a/x.png"));
    copy_file(DATA "small53x37.png", tp("in/b/x.png"));
    copy_file(DATA "small53x37.png", tp("in/c/X.PNG"));
    copy_file(DATA "test299.png", tp("named.dat")); /* a named file is taken whatever its extension */
    run_result r = runf("explain -w %s -m activation -c 3 -o %s %s %s", MODEL, tp("out"), tp("in"), tp("named.dat"));
    cr_assert_eq(r.status, 0, "stderr: %s", r.err);
    jsonl res = read_results("out");
    cr_assert_eq(res.n, 4);
    static const char *images[] = {"in/a/x.png", "in/b/x.png", "in/c/X.PNG", "named.dat"};
    static const char *maps[] = {"out/x.activation.npy", "out/x-2.activation.npy", "out/X-3.activation.npy",
                                 "out/named.activation.npy"};
    for (int k = 0; k < 4; k++) {
        const json_value *line = find_line(&res, tp(images[k]), "activation");
        cr_assert(line, "no line for %s", images[k]);
        cr_expect_str_eq(jstr(line, "map"), tp(maps[k]));
        cr_expect_eq(jnum(line, "class"), 3.0, "-c 3");
        check_npy(tp(maps[k]), 8, 8);
    }
    jsonl_free(&res);
}

Test(explain, resume_and_shards) {
    mkdirs("in");
    copy_file(DATA "test299.png", tp("in/a.png"));
    copy_file(DATA "small53x37.png", tp("in/b.png"));
    copy_file(DATA "small53x37.png", tp("in/c.png"));
    /* Shards 0/2 and 1/2 together make the whole run. */
    run_result r = runf("explain -w %s -m activation --shard 0/2 -o %s %s", MODEL, tp("out"), tp("in"));
    cr_assert_eq(r.status, 0, "stderr: %s", r.err);
    jsonl res = read_results("out");
    cr_expect_eq(res.n, 2, "a.png and c.png");
    jsonl_free(&res);
    r = runf("explain -w %s -m activation --shard 1/2 -o %s %s", MODEL, tp("out"), tp("in"));
    cr_assert_eq(r.status, 0, "stderr: %s", r.err);
    res = read_results("out");
    cr_expect_eq(res.n, 3);
    jsonl_free(&res);
    /* --resume: nothing left to do; then only what is missing is done: a new
     * method, and a method whose file was deleted. */
    r = runf("explain -w %s -m activation --resume -o %s %s", MODEL, tp("out"), tp("in"));
    cr_assert_eq(r.status, 0, "stderr: %s", r.err);
    res = read_results("out");
    cr_expect_eq(res.n, 3, "--resume redid nothing");
    jsonl_free(&res);
    unlink(tp("out/b.activation.npy"));
    r = runf("explain -w %s -m activation,pixab --resume -o %s %s", MODEL, tp("out"), tp("in"));
    cr_assert_eq(r.status, 0, "stderr: %s", r.err);
    res = read_results("out");
    cr_expect_eq(res.n, 3 + 3 + 1, "pixab for all three images, activation again for b only: %d", res.n);
    cr_expect(find_line(&res, tp("in/b.png"), "pixab") && exists(tp("out/b.activation.npy")));
    jsonl_free(&res);
    r = runf("explain -w %s -m pixab,activation --resume -o %s %s", MODEL, tp("out"), tp("in"));
    cr_assert_eq(r.status, 0, "stderr: %s", r.err);
    res = read_results("out");
    cr_expect_eq(res.n, 7, "complete: nothing redone");
    jsonl_free(&res);
    /* Another layer is another job (the file names do not say the layer). */
    r = runf("explain -w %s -m activation -l Mixed_6e --resume -o %s %s", MODEL, tp("out"), tp("in"));
    cr_assert_eq(r.status, 0, "stderr: %s", r.err);
    res = read_results("out");
    cr_expect_eq(res.n, 10);
    jsonl_free(&res);
    check_npy(tp("out/a.activation.npy"), 17, 17);
    cr_expect_eq(count_entries(tp("out"), ".tmp"), 0);
}

Test(explain, verbose_shows_progress_ending_in_a_newline) {
    run_result r = runf("explain -w %s -m activation -v -o %s %stest299.png %ssmall53x37.png", MODEL, tp("out"), DATA,
                        DATA);
    cr_assert_eq(r.status, 0, "stderr: %s", r.err);
    cr_expect(strstr(r.err, "\rpixab: 2/2 images, "), "%s", r.err);
    cr_expect(strstr(r.err, " images/s, ETA "), "%s", r.err);
    const char *last = strrchr(r.err, '\r');
    cr_expect(last && strchr(last, '\n'), "the progress line is ended: %s", r.err);
    r = runf("explain -w %s -m activation -o %s %stest299.png %ssmall53x37.png", MODEL, tp("out2"), DATA, DATA);
    cr_expect_str_empty(r.err, "no progress when stderr is not a terminal");
}

/* ---- explain: errors -------------------------------------------------------------- */

Test(explain, usage_errors_exit_2_with_one_line_and_write_nothing) {
    mkdirs("empty");
    char img[256], out[256], empty[256];
    snprintf(img, sizeof img, "%stest299.png", DATA);
    snprintf(out, sizeof out, "%s", tp("out"));
    snprintf(empty, sizeof empty, "%s", tp("empty"));
    static const char *cases[][3] = {
        {"-m frobcam", "unknown method 'frobcam'", "scorecam"},
        {"-m activation,", "unknown method", "pixab"},
        {"-l Mixed_9z", "unknown layer 'Mixed_9z'", "Mixed_7c"},
        {"-l fc", "'fc'", "Mixed_6e"},
        {"-c 10", "-c 10", "0..9"},
        {"-c -1", "-c -1", "0..9"},
        {"-c dog", "-c dog", "class"},
        {"--score probability", "--score", "softmax"},
        {"--boxes 0x1", "boxes", "HxW"},
        {"--shard 2/2", "--shard", "I/N"},
        {"--shard 1", "--shard", "I/N"},
        {"--frobnicate", "unknown option '--frobnicate'", "--help"},
        {"--device tpu", "tpu", "device"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        run_result r = runf("explain -w %s %s -o %s %s", MODEL, cases[i][0], out, img);
        cr_expect_eq(r.status, 2, "'%s': status %d", cases[i][0], r.status);
        cr_expect_eq(count_lines(r.err), 1, "'%s': one line, got: %s", cases[i][0], r.err);
        cr_expect(strstr(r.err, cases[i][1]) && strstr(r.err, cases[i][2]), "'%s': error lacks '%s' / '%s': %s",
                  cases[i][0], cases[i][1], cases[i][2], r.err);
        cr_expect(!exists(out) || count_entries(out, NULL) == 0, "'%s': wrote into OUTDIR", cases[i][0]);
    }
    static const char *more[][2] = {
        {"explain -w " MODEL, "no inputs"},
        {"explain " DATA "test299.png", "no model"},
        {"explain -w /nonexistent.safetensors " DATA "test299.png", "/nonexistent.safetensors"},
        {"explain -w " MODEL " -o '' " DATA "test299.png", "empty directory name"},
    };
    for (size_t i = 0; i < sizeof more / sizeof more[0]; i++) {
        run_result r = run(more[i][0]);
        cr_expect_eq(r.status, 2, "'%s': status %d", more[i][0], r.status);
        cr_expect_eq(count_lines(r.err), 1, "'%s': %s", more[i][0], r.err);
        cr_expect(strstr(r.err, more[i][1]), "'%s': error lacks '%s': %s", more[i][0], more[i][1], r.err);
    }
    run_result r = runf("explain -w %s -m activation -o %s %s", MODEL, out, empty);
    cr_expect_eq(r.status, 2, "a directory without images");
    cr_expect_eq(count_lines(r.err), 1, "%s", r.err);
    cr_expect(strstr(r.err, "no image"), "%s", r.err);
    r = runf("explain -w %s -m activation -o %s /nonexistent-dir", MODEL, out);
    cr_expect_eq(r.status, 1, "only a missing input: reported, status 1");
    cr_expect(strstr(r.err, "/nonexistent-dir"), "%s", r.err);
}

Test(explain, unwritable_outdir_fails_cleanly) {
    write_text(tp("file"), "a regular file");
    char bad[3][256];
    snprintf(bad[0], sizeof bad[0], "%s", tp("file/out")); /* under a regular file: cannot be created */
    snprintf(bad[1], sizeof bad[1], "%s", tp("file"));     /* a regular file */
    snprintf(bad[2], sizeof bad[2], "/proc/pixab-test-out"); /* read-only, even for root */
    for (int i = 0; i < 3; i++) {
        run_result r = runf("explain -w %s -m activation -o %s %stest299.png", MODEL, bad[i], DATA);
        cr_expect_eq(r.status, 2, "'%s': status %d", bad[i], r.status);
        cr_expect_eq(count_lines(r.err), 1, "'%s': %s", bad[i], r.err);
        cr_expect(strstr(r.err, bad[i]), "'%s': error does not name it: %s", bad[i], r.err);
    }
    char *text = read_file(tp("file"), NULL);
    cr_expect_str_eq(text, "a regular file");
    free(text);
    if (geteuid() == 0) return; /* root writes into read-only directories */
    mkdirs("ro");
    cr_assert_eq(chmod(tp("ro"), 0555), 0);
    run_result r = runf("explain -w %s -m activation -o %s %stest299.png", MODEL, tp("ro"), DATA);
    cr_expect_eq(r.status, 2);
    cr_expect_eq(count_lines(r.err), 1, "%s", r.err);
    cr_expect_eq(count_entries(tp("ro"), NULL), 0);
}

Test(explain, help_documents_every_flag) {
    run_result r = run("explain --help");
    cr_expect_eq(r.status, 0);
    static const char *flags[] = {"-w", "-m", "-l", "-c", "--score", "--boxes", "--device", "-o", "--batch",
                                  "--no-png", "--shard", "--resume", "-v", "results.jsonl", "scorecam",
                                  "--guided", "--wsol", "--wsol-threshold", "--randomize"};
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
        cr_expect(strstr(r.out, flags[i]), "explain --help lacks %s", flags[i]);
    r = run("--help");
    cr_expect(strstr(r.out, "explain") && strstr(r.out, "bench"), "%s", r.out);
    cr_expect(!strstr(r.out, "Planned, not in this version yet: explain"), "%s", r.out);
}

/* ---- bench ---------------------------------------------------------------------- */

Test(bench, prints_one_json_object) {
    run_result r = run("bench -w " MODEL " -m activation,pixab --runs 1 --batch 2 " DATA "test299.png");
    cr_assert_eq(r.status, 0, "stderr: %s", r.err);
    cr_assert_eq(count_lines(r.out), 1, "%s", r.out);
    json_value *v;
    char err[128];
    cr_assert_eq(json_parse(r.out, strlen(r.out), &v, err, sizeof err), JSON_OK, "%s: %s", err, r.out);
    static const char *keys[] = {"device", "model", "layer", "batch", "threads", "date", "images_per_s"};
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
        cr_expect(json_object_get(v, keys[k]), "lacks \"%s\": %s", keys[k], r.out);
    double d;
    cr_expect(json_number(json_object_get(v, "batch"), &d) && d == 2);
    const json_value *ips = json_object_get(v, "images_per_s");
    cr_expect_eq(json_count(ips), 3, "forward + the two methods: %s", r.out);
    static const char *figs[] = {"forward", "activation", "pixab"};
    for (int k = 0; k < 3; k++)
        cr_expect(json_number(json_object_get(ips, figs[k]), &d) && d > 0, "%s: %s", figs[k], r.out);
    json_free(v);
}

Test(bench, errors_exit_2_with_one_line) {
    static const char *cases[][2] = {
        {"bench -w " MODEL " -m frobcam", "unknown method 'frobcam'"},
        {"bench -w " MODEL " -l nope", "unknown layer 'nope'"},
        {"bench -w " MODEL " --runs 0", "--runs"},
        {"bench -w " MODEL " -m activation /nonexistent.png", "/nonexistent.png"},
        {"bench", "no model"},
        {"bench -w " MODEL " --device cpu --precision bf16", "--precision bf16 needs --device cuda"},
        {"bench -w " MODEL " --precision fp8", "fp8"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        run_result r = run(cases[i][0]);
        cr_expect_eq(r.status, 2, "'%s': status %d", cases[i][0], r.status);
        cr_expect_eq(count_lines(r.err), 1, "'%s': %s", cases[i][0], r.err);
        cr_expect(strstr(r.err, cases[i][1]), "'%s': error lacks '%s': %s", cases[i][0], cases[i][1], r.err);
        cr_expect_str_empty(r.out);
    }
    run_result r = run("bench --help");
    cr_expect_eq(r.status, 0);
    cr_expect(strstr(r.out, "--runs") && strstr(r.out, "images_per_s") && strstr(r.out, "--batch"));
}

/* ---- explain at scale: interruption, shards from the environment, memory, pipeline ---- */

TestSuite(explain_scale, .init = setup, .fini = teardown);

#define DEMO_MODEL PIXAB_TEST_DATA "/../../models/pixab-demo.safetensors"
#define DEMO_IMAGE PIXAB_TEST_DATA "/../../examples/images/00000.png"

/* n copies of src as tmp/in/imgNN.png. */
static void copies(const char *src, int n) {
    mkdirs("in");
    for (int k = 0; k < n; k++) {
        char rel[64];
        snprintf(rel, sizeof rel, "in/img%02d.png", k);
        copy_file(src, tp(rel));
    }
}

/* Lines of results.jsonl with no limit on their number: (image, method)
 * pairs, checked to parse and to name existing, valid .npy files of one
 * shape. Returns the count; pairs[k] "IMAGE\tMETHOD" (malloc'd) when asked. */
static int check_results(const char *outdir_rel, char ***pairs) {
    char rel[256];
    snprintf(rel, sizeof rel, "%s/results.jsonl", outdir_rel);
    char *text = read_file(tp(rel), NULL);
    cr_assert(text, "no %s", rel);
    int n = 0, cap = 0;
    char **v = NULL;
    int64_t h = -1, w = -1;
    for (char *line = text; *line;) {
        char *nl = strchr(line, '\n');
        cr_assert(nl, "torn last line: %s", line);
        json_value *j;
        char err[128];
        cr_assert_eq(json_parse(line, (size_t)(nl - line), &j, err, sizeof err), JSON_OK, "%s: %.*s", err,
                     (int)(nl - line), line);
        const char *map = jstr(j, "map");
        npy_array a;
        cr_assert_eq(npy_read_f32(map, &a), PIXAB_OK, "%s: %s", map, pixab_last_error());
        if (h < 0) h = a.shape[0], w = a.shape[1];
        cr_expect(a.ndim == 2 && a.shape[0] == h && a.shape[1] == w && a.numel == h * w, "%s: bad shape", map);
        npy_free(&a);
        const json_value *png = json_object_get(j, "png");
        if (png) cr_expect(exists(json_string(png, NULL)), "%s is missing", json_string(png, NULL));
        if (n == cap) v = realloc(v, sizeof(char *) * (size_t)(cap = cap ? 2 * cap : 64));
        size_t len = strlen(jstr(j, "image")) + strlen(jstr(j, "method")) + 2;
        v[n] = malloc(len);
        snprintf(v[n++], len, "%s\t%s", jstr(j, "image"), jstr(j, "method"));
        json_free(j);
        line = nl + 1;
    }
    free(text);
    if (pairs) *pairs = v;
    else {
        for (int k = 0; k < n; k++) free(v[k]);
        free(v);
    }
    return n;
}

static int cmp_cstr(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Sorts pairs; 1 when two are equal. */
static int has_duplicates(char **pairs, int n) {
    qsort(pairs, (size_t)n, sizeof(char *), cmp_cstr);
    for (int k = 1; k < n; k++)
        if (!strcmp(pairs[k - 1], pairs[k])) return 1;
    return 0;
}

static void free_pairs(char **pairs, int n) {
    for (int k = 0; k < n; k++) free(pairs[k]);
    free(pairs);
}

/* Every .npy in the directory is a complete float32 array of h x w values. */
static void check_all_npy(const char *dir) {
    DIR *d = opendir(dir);
    cr_assert(d);
    for (struct dirent *e; (e = readdir(d));) {
        size_t len = strlen(e->d_name);
        if (len < 4 || strcmp(e->d_name + len - 4, ".npy")) continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        npy_array a;
        cr_expect_eq(npy_read_f32(path, &a), PIXAB_OK, "%s: %s", path, pixab_last_error());
        if (a.data) {
            cr_expect(a.ndim == 2 && a.numel == a.shape[0] * a.shape[1], "%s", path);
            npy_free(&a);
        }
    }
    closedir(d);
}

/* pixab with argv in a child with the default signal actions, stdout to
 * /dev/null and stderr to errpath. */
static pid_t spawn_pixab(const char *errpath, char *const argv[]) {
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid) return pid;
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    int fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0644), null = open("/dev/null", O_WRONLY);
    if (fd < 0 || null < 0) _exit(99);
    dup2(fd, 2), dup2(null, 1);
    setenv("OPENBLAS_CORETYPE", "Haswell", 1);
    execv(PIXAB_CLI_PATH, argv);
    _exit(98);
}

Test(explain_scale, sigint_stops_cleanly_and_resume_finishes, .timeout = 600) {
    enum { N = 30 };
    copies(DEMO_IMAGE, N);
    const char *errpath = tp("stderr.txt");
    pid_t pid = spawn_pixab(errpath, (char *const[]){"pixab", "explain", "-w", DEMO_MODEL, "-m", "pixab,activation",
                                                     "-o", (char *)tp("out"), (char *)tp("in"), NULL});
    /* SIGINT once the first line is there: the run is under way. */
    const char *results = tp("out/results.jsonl");
    int lines = 0, st = 0;
    pid_t w = 0;
    for (int tries = 0; tries < 120000 && !lines && !(w = waitpid(pid, &st, WNOHANG)); tries++) {
        char *text = read_file(results, NULL);
        lines = text ? count_lines(text) : 0;
        free(text);
        if (!lines) nanosleep(&(struct timespec){0, 2000000}, NULL);
    }
    cr_assert(!w, "the run ended before it was interrupted (status %d)", st);
    cr_assert(lines > 0, "no results line after 4 minutes");
    cr_assert_eq(kill(pid, SIGINT), 0);
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    char *err = read_file(errpath, NULL);
    cr_assert(err);
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
        /* The signal came after the last image was taken: nothing to resume. */
        cr_expect_str_empty(err);
    } else {
        cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 130, "exit status 130 after SIGINT, got 0x%x: %s", st, err);
        cr_expect_eq(count_lines(err), 1, "one line: %s", err);
        int done = -1, total = -1;
        cr_expect_eq(sscanf(err, "pixab explain: interrupted after %d of %d images; run again with --resume to finish",
                            &done, &total),
                     2, "%s", err);
        cr_expect(total == N && done >= 1 && done < N, "%d of %d", done, total);
    }
    free(err);
    /* Nothing partial: no temporary files, every .npy complete, every line whole
     * and naming existing files, each (image, method) once. */
    cr_expect_eq(count_entries(tp("out"), ".tmp"), 0, "temporary files left behind");
    check_all_npy(tp("out"));
    char **pairs;
    int n = check_results("out", &pairs);
    cr_expect(n >= 1 && n <= 2 * N);
    cr_expect(!has_duplicates(pairs, n), "an image x method written twice");
    free_pairs(pairs, n);
    cr_expect_eq(count_entries(tp("out"), ".npy"), n, "a .npy per line, no more");

    run_result r = runf("explain -w %s -m pixab,activation --resume -o %s %s", DEMO_MODEL, tp("out"), tp("in"));
    cr_assert_eq(r.status, 0, "stderr: %s", r.err);
    n = check_results("out", &pairs);
    cr_expect_eq(n, 2 * N, "every image x method once: %d lines", n);
    cr_expect(!has_duplicates(pairs, n), "--resume redid an image");
    free_pairs(pairs, n);
    cr_expect_eq(count_entries(tp("out"), ".npy"), 2 * N);
    cr_expect_eq(count_entries(tp("out"), ".tmp"), 0);
}

static void clear_shard_env(void) {
    static const char *vars[] = {"JOB_COMPLETION_INDEX", "JOB_COMPLETION_COUNT",   "PIXAB_SHARD_COUNT",
                                 "SLURM_ARRAY_TASK_ID",  "SLURM_ARRAY_TASK_COUNT", "SLURM_ARRAY_TASK_MIN",
                                 "SLURM_ARRAY_TASK_STEP"};
    for (size_t k = 0; k < sizeof vars / sizeof vars[0]; k++) unsetenv(vars[k]);
}

/* The union of three runs covers every input exactly once. */
static void check_union(const char *outdir_rel, int n_inputs) {
    char **pairs;
    int n = check_results(outdir_rel, &pairs);
    cr_expect_eq(n, n_inputs, "%s: %d lines for %d inputs", outdir_rel, n, n_inputs);
    cr_expect(!has_duplicates(pairs, n), "%s: an input done twice", outdir_rel);
    free_pairs(pairs, n);
}

Test(explain_scale, shard_from_the_environment) {
    mkdirs("in");
    for (int k = 0; k < 7; k++) {
        char rel[64];
        snprintf(rel, sizeof rel, "in/i%d.png", k);
        copy_file(DATA "small53x37.png", tp(rel));
    }
    clear_shard_env();
    setenv("PIXAB_SHARD_COUNT", "3", 1);
    for (int i = 0; i < 3; i++) {
        char v[8];
        snprintf(v, sizeof v, "%d", i);
        setenv("JOB_COMPLETION_INDEX", v, 1);
        run_result r = runf("explain -v -w %s -m activation --no-png -o %s %s", MODEL, tp("k8s"), tp("in"));
        cr_assert_eq(r.status, 0, "stderr: %s", r.err);
        char want[96];
        snprintf(want, sizeof want, "shard %d/3 from the environment (JOB_COMPLETION_INDEX=%d", i, i);
        cr_expect(strstr(r.err, want), "-v says where the shard came from: %s", r.err);
    }
    check_union("k8s", 7);

    clear_shard_env();
    setenv("SLURM_ARRAY_TASK_COUNT", "3", 1);
    setenv("SLURM_ARRAY_TASK_MIN", "1", 1);
    for (int i = 1; i <= 3; i++) {
        char v[8];
        snprintf(v, sizeof v, "%d", i);
        setenv("SLURM_ARRAY_TASK_ID", v, 1);
        run_result r = runf("explain -w %s -m activation --no-png -o %s %s", MODEL, tp("slurm"), tp("in"));
        cr_assert_eq(r.status, 0, "stderr: %s", r.err);
    }
    check_union("slurm", 7);

    /* --shard wins over the environment. */
    setenv("SLURM_ARRAY_TASK_ID", "1", 1);
    run_result r = runf("explain -w %s -m activation --no-png --shard 0/1 -o %s %s", MODEL, tp("flag"), tp("in"));
    cr_assert_eq(r.status, 0, "stderr: %s", r.err);
    check_union("flag", 7);

    /* Bad or incomplete settings: exit 2, one line naming the variable, nothing written. */
    static const char *bad[][2] = {
        {"JOB_COMPLETION_INDEX=x PIXAB_SHARD_COUNT=3", "JOB_COMPLETION_INDEX"},
        {"JOB_COMPLETION_INDEX=3 PIXAB_SHARD_COUNT=3", "JOB_COMPLETION_INDEX=3"},
        {"JOB_COMPLETION_INDEX=0", "PIXAB_SHARD_COUNT"},
        {"JOB_COMPLETION_INDEX=0 PIXAB_SHARD_COUNT=zero", "PIXAB_SHARD_COUNT"},
        {"JOB_COMPLETION_INDEX=0 PIXAB_SHARD_COUNT=3 JOB_COMPLETION_COUNT=4", "disagree"},
        {"SLURM_ARRAY_TASK_ID=0 SLURM_ARRAY_TASK_COUNT=3 SLURM_ARRAY_TASK_MIN=1", "SLURM_ARRAY_TASK_ID=0"},
        {"SLURM_ARRAY_TASK_ID=4 SLURM_ARRAY_TASK_COUNT=3 SLURM_ARRAY_TASK_MIN=1", "SLURM_ARRAY_TASK_ID=4"},
        {"SLURM_ARRAY_TASK_ID=1", "SLURM_ARRAY_TASK_COUNT"},
        {"SLURM_ARRAY_TASK_ID=-1 SLURM_ARRAY_TASK_COUNT=3", "SLURM_ARRAY_TASK_ID"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        clear_shard_env();
        char env[256];
        snprintf(env, sizeof env, "%s", bad[k][0]);
        for (char *save = NULL, *kv = strtok_r(env, " ", &save); kv; kv = strtok_r(NULL, " ", &save)) {
            char *eq = strchr(kv, '=');
            *eq = '\0';
            setenv(kv, eq + 1, 1);
        }
        r = runf("explain -w %s -m activation -o %s %s", MODEL, tp("bad"), tp("in"));
        cr_expect_eq(r.status, 2, "%s: status %d", bad[k][0], r.status);
        cr_expect_eq(count_lines(r.err), 1, "%s: %s", bad[k][0], r.err);
        cr_expect(strstr(r.err, bad[k][1]), "%s: the line lacks '%s': %s", bad[k][0], bad[k][1], r.err);
        cr_expect(!exists(tp("bad")), "%s: wrote outputs", bad[k][0]);
    }
    clear_shard_env();
}

/* The bytes of a file equal another's. */
static void expect_same_file(const char *a, const char *b) {
    size_t la = 0, lb = 0;
    char *x = read_file(a, &la), *y = read_file(b, &lb);
    cr_assert(x && y, "%s / %s", a, b);
    cr_expect(la == lb && !memcmp(x, y, la), "%s and %s differ", a, b);
    free(x);
    free(y);
}

Test(explain_scale, max_memory) {
    static const char *bad[] = {"abc", "0", "12X", "-5M", "1.5Q", "", "3P"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        run_result r = runf("explain -w %s --max-memory '%s' -o %s %stest299.png", MODEL, bad[k], tp("bad"), DATA);
        cr_expect_eq(r.status, 2, "'%s': status %d", bad[k], r.status);
        cr_expect_eq(count_lines(r.err), 1, "'%s': %s", bad[k], r.err);
        cr_expect(strstr(r.err, "--max-memory"), "'%s': %s", bad[k], r.err);
        cr_expect(!exists(tp("bad")), "'%s': wrote outputs", bad[k]);
    }
    /* Mixed_6e: the head is Mixed_7a..fc, its batches thousands of items: 64K
     * and 8M cut them into many chunks, the default into two, 2G into one.
     * Same maps up to rounding: every op computes an item the same way in any
     * chunk except the FC layer, whose rows OpenBLAS's AVX2 (Haswell) sgemm,
     * pinned for the tests, rounds by their place in the call (measured
     * 2.9e-6 here; 0 with the AVX-512 kernels). */
    run_result r = runf("explain -w %s -l Mixed_6e -m pixab,ablation --no-png -o %s %stest299.png", MODEL, tp("def"),
                        DATA);
    cr_assert_eq(r.status, 0, "stderr: %s", r.err);
    static const char *budgets[] = {"8M", "64K", "2G"};
    for (int b = 0; b < 3; b++) {
        char out[32];
        snprintf(out, sizeof out, "b%d", b);
        r = runf("explain -w %s -l Mixed_6e -m pixab,ablation --no-png --max-memory %s -o %s %stest299.png", MODEL,
                 budgets[b], tp(out), DATA);
        cr_assert_eq(r.status, 0, "%s: stderr: %s", budgets[b], r.err);
        static const char *files[] = {"test299.pixab.npy", "test299.ablation.npy"};
        for (int f = 0; f < 2; f++) {
            char a[64], c[64];
            snprintf(a, sizeof a, "def/%s", files[f]);
            snprintf(c, sizeof c, "%s/%s", out, files[f]);
            npy_array x, y;
            cr_assert_eq(npy_read_f32(tp(a), &x), PIXAB_OK);
            cr_assert_eq(npy_read_f32(tp(c), &y), PIXAB_OK);
            cr_assert(x.ndim == 2 && y.ndim == 2 && x.shape[0] == 17 && x.shape[1] == 17 && y.numel == x.numel);
            float err = 0.0f;
            for (int64_t i = 0; i < x.numel; i++) err = fmaxf(err, fabsf(x.data[i] - y.data[i]));
            cr_expect(err <= 2e-5f, "--max-memory %s: %s differs by %g", budgets[b], files[f], err);
            npy_free(&x);
            npy_free(&y);
        }
    }
}

/* results.jsonl without its timings ("ms", "shared_ms"), which differ run to run. */
static char *results_without_times(const char *outdir_rel) {
    char rel[256];
    snprintf(rel, sizeof rel, "%s/results.jsonl", outdir_rel);
    char *text = read_file(tp(rel), NULL);
    cr_assert(text);
    char *o = text;
    for (char *p = text; *p;) {
        char *t = strstr(p, ",\"ms\":");
        char *nl = strchr(p, '\n');
        if (t && nl && t < nl) {
            memmove(o, p, (size_t)(t - p)), o += t - p;
            p = nl;
        } else {
            size_t n = nl ? (size_t)(nl - p) + 1 : strlen(p);
            memmove(o, p, n), o += n, p += n;
        }
    }
    *o = '\0';
    return text;
}

/* in/a.png ... in/e.png, c.png broken. */
static void five_inputs_one_broken(void) {
    mkdirs("in");
    copy_file(DATA "test299.png", tp("in/a.png"));
    copy_file(DATA "small53x37.png", tp("in/b.png"));
    write_text(tp("in/c.png"), "\x89PNG\r\n\x1a\nbroken");
    copy_file(DATA "small53x37.png", tp("in/d.png"));
    copy_file(DATA "test299.png", tp("in/e.png"));
}

Test(explain_scale, pipeline_writes_what_a_serial_run_writes) {
    five_inputs_one_broken();
    run_result r0 = runf("explain -w %s -m activation,pixab --io-threads 0 -o %s %s", MODEL, tp("outA"), tp("in"));
    run_result r3 = runf("explain -v -w %s -m activation,pixab --io-threads 3 -o %s %s", MODEL, tp("outB"), tp("in"));
    cr_expect_eq(r0.status, 1, "%s", r0.err);
    cr_expect_eq(r3.status, 1, "%s", r3.err);
    cr_expect(strstr(r3.err, "c.png") && strstr(r0.err, "c.png"));
    cr_expect(strstr(r3.err, "pixab explain: decode ") && strstr(r3.err, " ms/img (3 threads), explain ") &&
                  strstr(r3.err, "engine idle waiting for input "),
              "-v prints the stages: %s", r3.err);
    cr_expect(strstr(r3.err, " %; ") && strstr(r3.err, " images/s\n"), "-v prints the images/s: %s", r3.err);
    char *a = results_without_times("outA"), *b = results_without_times("outB");
    /* The lines name their own directory (outA: serial, outB: pipelined). */
    for (char *p = b; (p = strstr(p, "/outB/"));) p[4] = 'A';
    cr_expect_str_eq(a, b, "same lines in the same order");
    free(a);
    free(b);
    static const char *files[] = {"a.activation.npy", "a.pixab.npy",  "b.activation.png", "b.pixab.png",
                                  "d.pixab.npy",      "e.pixab.png",  "contact_sheet.png"};
    for (size_t k = 0; k < sizeof files / sizeof files[0]; k++) {
        char x[64], y[64];
        snprintf(x, sizeof x, "outA/%s", files[k]);
        snprintf(y, sizeof y, "outB/%s", files[k]);
        expect_same_file(tp(x), tp(y));
    }
    cr_expect_eq(count_entries(tp("outB"), NULL), count_entries(tp("outA"), NULL));
}

/* --batch N explains N images per body pass: the same files and lines, in
 * the same order, as one image at a time; a broken image inside a batch is
 * skipped and the rest of the batch explained. Maps and scores are the same
 * bit for bit (the CPU backend computes an image the same way at every batch
 * size). */
Test(explain_scale, batch_writes_what_one_image_at_a_time_writes) {
    five_inputs_one_broken();
    run_result r1 = runf("explain -w %s -m pixab,ablation,gradcam --batch 1 --no-png -o %s %s", MODEL, tp("out1"),
                         tp("in"));
    run_result r3 = runf("explain -w %s -m pixab,ablation,gradcam --batch 3 --no-png -o %s %s", MODEL, tp("out3"),
                         tp("in"));
    cr_expect_eq(r1.status, 1, "%s", r1.err);
    cr_expect_eq(r3.status, 1, "%s", r3.err);
    cr_expect(strstr(r3.err, "c.png"), "the broken image is reported: %s", r3.err);
    jsonl a = read_results("out1"), b = read_results("out3");
    cr_assert_eq(a.n, 4 * 3, "4 images x 3 methods");
    cr_assert_eq(b.n, a.n);
    for (int i = 0; i < a.n; i++) {
        const char *ia = jstr(a.v[i], "image"), *ib = jstr(b.v[i], "image");
        cr_expect_str_eq(ia, ib, "line %d", i);
        cr_expect_str_eq(jstr(a.v[i], "method"), jstr(b.v[i], "method"), "line %d", i);
        cr_expect_eq(jnum(a.v[i], "class"), jnum(b.v[i], "class"), "line %d", i);
        const double sa = jnum(a.v[i], "score"), sb = jnum(b.v[i], "score");
        cr_expect(sa == sb, "line %d: score %g vs %g", i, sa, sb);
        npy_array x, y;
        cr_assert_eq(npy_read_f32(jstr(a.v[i], "map"), &x), PIXAB_OK);
        cr_assert_eq(npy_read_f32(jstr(b.v[i], "map"), &y), PIXAB_OK);
        float err = 0.0f;
        for (int64_t k = 0; k < x.numel && x.numel == y.numel; k++) err = fmaxf(err, fabsf(x.data[k] - y.data[k]));
        cr_expect(x.numel == y.numel && err == 0.0f, "%s %s: --batch 3 vs 1 max|d| = %g", ia,
                  jstr(a.v[i], "method"), err);
        npy_free(&x);
        npy_free(&y);
    }
    jsonl_free(&a);
    jsonl_free(&b);
}

/* An output directory inside the input tree is never read back as input: a
 * rerun with --resume finds nothing new to do. */
Test(explain_scale, outdir_inside_the_inputs_is_not_an_input) {
    mkdirs("in");
    copy_file(DATA "test299.png", tp("in/a.png"));
    char out[512];
    snprintf(out, sizeof out, "%s", tp("in/out"));
    run_result r = runf("explain -w %s -m activation -o %s %s", MODEL, out, tp("in"));
    cr_assert_eq(r.status, 0, "%s", r.err);
    r = runf("explain -w %s -m activation --resume -o %s %s", MODEL, out, tp("in"));
    cr_assert_eq(r.status, 0, "%s", r.err);
    jsonl res = read_results("in/out");
    cr_expect_eq(res.n, 1, "one image, one line: the overlays in in/out are not inputs");
    for (int i = 0; i < res.n; i++) cr_expect_null(strstr(jstr(res.v[i], "image"), "/out/"));
    jsonl_free(&res);
}

/* Inputs that are not regular files (a FIFO would block the run for ever)
 * and dangling symbolic links are reported, one line each, and skipped. */
Test(explain_scale, fifos_and_dangling_links_are_skipped) {
    mkdirs("in");
    copy_file(DATA "test299.png", tp("in/a.png"));
    cr_assert_eq(mkfifo(tp("in/f.png"), 0600), 0);
    cr_assert_eq(symlink(tp("in/missing.png"), tp("in/d.png")), 0);
    char fifo[512];
    snprintf(fifo, sizeof fifo, "%s", tp("named.png"));
    cr_assert_eq(mkfifo(fifo, 0600), 0);
    run_result r = runf("explain -w %s -m activation --no-png -o %s %s %s", MODEL, tp("out"), tp("in"), fifo);
    cr_expect_eq(r.status, 1, "%s", r.err);
    cr_expect(strstr(r.err, "f.png' is not a regular file") && strstr(r.err, "named.png' is not a regular file"),
              "%s", r.err);
    cr_expect(strstr(r.err, "d.png' is a dangling symbolic link"), "%s", r.err);
    jsonl res = read_results("out");
    cr_expect_eq(res.n, 1, "a.png explained");
    jsonl_free(&res);
}

/* A file name with a newline and an escape sequence is printed escaped: its
 * error stays one plain line. */
Test(explain_scale, control_bytes_in_names_are_escaped) {
    mkdirs("in");
    copy_file(DATA "test299.png", tp("in/a.png"));
    write_text(tp("in/b\n\x1b[31mred.png"), "not an image");
    run_result r = runf("explain -w %s -m activation --no-png -o %s %s", MODEL, tp("out"), tp("in"));
    cr_expect_eq(r.status, 1, "%s", r.err);
    cr_expect_eq(count_lines(r.err), 1, "one line: %s", r.err);
    cr_expect(strstr(r.err, "b\\x0a\\x1b[31mred.png"), "escaped: %s", r.err);
    cr_expect_null(strchr(r.err, '\x1b'), "no raw escape byte: %s", r.err);
}

/* A legal file name whose outputs would not fit in a file name (a 250-byte
 * stem) gets a shortened stem, the same on every run: its outputs are
 * written, its line names the real input and --resume finds it done. */
Test(explain_scale, long_file_names_get_short_stems) {
    mkdirs("in");
    char name[300] = "in/";
    memset(name + 3, 'a', 250);
    strcpy(name + 253, ".png");
    copy_file(DATA "test299.png", tp(name));
    copy_file(DATA "small53x37.png", tp("in/b.png"));
    run_result r = runf("explain -w %s -m activation,gradcampp -o %s %s", MODEL, tp("out"), tp("in"));
    cr_assert_eq(r.status, 0, "%s", r.err);
    jsonl res = read_results("out");
    cr_assert_eq(res.n, 4);
    const char *img = jstr(res.v[0], "image"), *map = jstr(res.v[0], "map");
    cr_expect(strstr(img, name + 3), "the line names the real input: %s", img);
    const char *base = strrchr(map, '/') + 1;
    cr_expect(strlen(base) < 200 && strstr(base, "~") && !strncmp(base, "aaaa", 4), "short stem: %s", base);
    check_npy(map, 8, 8);
    jsonl_free(&res);
    r = runf("explain -w %s -m activation,gradcampp --resume -o %s %s", MODEL, tp("out"), tp("in"));
    cr_assert_eq(r.status, 0, "%s", r.err);
    res = read_results("out");
    cr_expect_eq(res.n, 4, "--resume finds the long name done");
    jsonl_free(&res);
}

/* SIGTERM during an image's long head (Pixab-CAM at the first layer: 177 k
 * head items) stops the run within seconds, exit 143, nothing partial. */
Test(explain_scale, sigterm_in_a_long_head_is_prompt, .timeout = 120) {
    mkdirs("in");
    copy_file(DATA "test299.png", tp("in/a.png"));
    char out[512];
    snprintf(out, sizeof out, "%s", tp("out"));
    pid_t pid = spawn_pixab("/dev/null", (char *const[]){"pixab", "explain", "-w", MODEL, "-m", "pixab", "-l",
                                                         "Conv2d_1a_3x3", "--no-png", "-o", out, (char *)tp("in"), NULL});
    nanosleep(&(struct timespec){1, 500000000}, NULL); /* well inside the image's head */
    int st = 0;
    cr_assert_eq(waitpid(pid, &st, WNOHANG), 0, "the run ended before the signal");
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    cr_assert_eq(kill(pid, SIGTERM), 0);
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    const double s = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 143, "exit status 143, got 0x%x", st);
    cr_expect(s < 10.0, "stopped %.1f s after SIGTERM", s);
    cr_expect_eq(count_entries(tp("out"), ".npy"), 0, "nothing partial");
    cr_expect_eq(count_entries(tp("out"), ".tmp"), 0, "no temporary file left");
}

Test(explain_scale, help_documents_the_new_flags) {
    run_result r = run("explain --help");
    cr_expect_eq(r.status, 0);
    static const char *words[] = {"--max-memory", "--io-threads", "JOB_COMPLETION_INDEX", "PIXAB_SHARD_COUNT",
                                  "SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_MIN", "SIGINT", "130"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        cr_expect(strstr(r.out, words[i]), "explain --help lacks %s", words[i]);
}
