/* test_wsol.c — weakly supervised localisation (host/eval/wsol.c): boxes of
 * maps against tools/make_wsol_goldens.py (scipy.ndimage.label, 8-connected;
 * a constant and an all-zero map, two equal components, a component on the
 * border, diagonal neighbours, thresholds, a map upsampled to 53 x 37), and
 * IoU on hand-computed boxes. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>

#include "golden.h"
#include "safetensors.h"
#include "wsol.h"

#define DATA PIXAB_TEST_DATA "/"

static safetensors *gold;
static void setup(void) {
    cr_assert_eq(safetensors_open(DATA "wsol_goldens.safetensors", &gold), PIXAB_OK, "%s", pixab_last_error());
}
static void teardown(void) { safetensors_close(gold); }
TestSuite(wsol, .init = setup, .fini = teardown);

static void expect_box(const char *what, metrics_box got, const float want[4]) {
    cr_expect(got.x0 == (int)want[0] && got.y0 == (int)want[1] && got.x1 == (int)want[2] && got.y1 == (int)want[3],
              "%s: box [%d,%d,%d,%d], scipy [%g,%g,%g,%g]", what, got.x0, got.y0, got.x1, got.y1, want[0], want[1],
              want[2], want[3]);
}

Test(wsol, boxes_match_scipy) {
    static const char *cases[] = {"constant", "zeros", "tie", "tie_later_row", "border", "diagonal", "threshold_05",
                                  "threshold_02"};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char key[64];
        snprintf(key, sizeof key, "case/%s/sal", cases[i]);
        const st_tensor *t = safetensors_find(gold, key);
        cr_assert(t && t->ndim == 2, "%s", key);
        const int h = (int)t->shape[0], w = (int)t->shape[1];
        float sal[128], thr, want[4];
        cr_assert(h * w <= 128);
        golden_read(gold, key, sal, (int64_t)h * w);
        snprintf(key, sizeof key, "case/%s/t", cases[i]), golden_read(gold, key, &thr, 1);
        snprintf(key, sizeof key, "case/%s/box", cases[i]), golden_read(gold, key, want, 4);
        metrics_box b;
        cr_assert_eq(wsol_box_of(sal, w, h, thr, &b), PIXAB_OK, "%s", pixab_last_error());
        expect_box(cases[i], b, want);
    }
}

/* Two equal components: the one whose first pixel comes first in raster
 * order, whichever is further left. */
Test(wsol, tie_goes_to_the_first_component_in_raster_order) {
    float sal[4 * 5] = {0};
    sal[2 * 5 + 0] = 1.0f; /* row 2, left */
    sal[0 * 5 + 4] = 1.0f; /* row 0, right: first in raster order */
    metrics_box b;
    cr_assert_eq(wsol_box_of(sal, 5, 4, 0.5f, &b), PIXAB_OK);
    cr_expect(b.x0 == 4 && b.y0 == 0 && b.x1 == 5 && b.y1 == 1, "[%d,%d,%d,%d]", b.x0, b.y0, b.x1, b.y1);
}

Test(wsol, upsampled_map_boxes_match_scipy) {
    float map[64], want[4];
    golden_read(gold, "up/map", map, 64);
    static const float ts[2] = {0.3f, 0.6f};
    for (int i = 0; i < 2; i++) {
        char key[32];
        snprintf(key, sizeof key, "up/box/%g", ts[i]);
        golden_read(gold, key, want, 4);
        metrics_box b;
        cr_assert_eq(wsol_map_box(map, 8, 8, 53, 37, ts[i], &b), PIXAB_OK, "%s", pixab_last_error());
        expect_box(key, b, want);
    }
}

Test(wsol, bad_arguments_fail_with_a_reason) {
    float v = 1.0f;
    metrics_box b;
    cr_expect_eq(wsol_box_of(&v, 1, 1, 1.5f, &b), PIXAB_ERR_ARG);
    cr_expect_eq(wsol_box_of(&v, 0, 1, 0.2f, &b), PIXAB_ERR_ARG);
    cr_expect_eq(wsol_map_box(&v, 1, 1, 0, 5, 0.2f, &b), PIXAB_ERR_ARG);
    cr_expect_eq(wsol_box_of(&v, 1, 1, 0.2f, &b), PIXAB_OK);
    cr_expect(b.x0 == 0 && b.y0 == 0 && b.x1 == 1 && b.y1 == 1);
}

/* By hand: [0,4)x[0,4) and [2,6)x[2,6) meet in 2 x 2 = 4 of 16 + 16 - 4 = 28. */
Test(wsol, iou_by_hand) {
    const metrics_box a = {0, 0, 4, 4}, b = {2, 2, 6, 6}, c = {4, 0, 8, 4}, e = {3, 3, 3, 5};
    cr_expect(fabs(wsol_iou(a, b) - 4.0 / 28.0) < 1e-12);
    cr_expect_eq(wsol_iou(a, a), 1.0);
    cr_expect_eq(wsol_iou(a, c), 0.0, "touching boxes share no pixel");
    cr_expect_eq(wsol_iou(a, e), 0.0, "an empty box");
    cr_expect_eq(wsol_iou(e, e), 0.0, "two empty boxes: no union");
    const metrics_box gts[2] = {b, {0, 0, 4, 2}};
    cr_expect(fabs(wsol_best_iou(a, gts, 2) - 0.5) < 1e-12, "8 of 16: the second box");
    cr_expect_eq(wsol_best_iou(a, gts, 0), 0.0);
}

/* loc_acc, mIoU and MaxBoxAcc by hand on 10 x 10 maps:
 *  A: 1 on [2,6)^2 inside a ring of 0.42 on [1,7)^2, ground truth [2,6)^2:
 *     t <= 0.40 keeps the ring (IoU 16/36, a miss), t >= 0.45 the core (IoU 1);
 *  B: 1 on [0,3)^2, ground truth [5,9)^2: IoU 0 at every threshold;
 *  C: 0.32 everywhere but a peak of 1 at (5,5), ground truth the whole image:
 *     t <= 0.30 keeps everything (IoU 1), t >= 0.35 the peak (IoU 1/100).
 * At t = 0.2: IoU 0.444, 0 and 1. MaxBoxAcc over A, B: 1/2 at 0.45; with C
 * too, 1/3 at both 0.05..0.30 and 0.45..0.95: the lowest, 0.05. */
Test(wsol, tally_by_hand) {
    float a[100], b[100], c[100];
    for (int y = 0; y < 10; y++)
        for (int x = 0; x < 10; x++) {
            const int core = x >= 2 && x < 6 && y >= 2 && y < 6, ring = x >= 1 && x < 7 && y >= 1 && y < 7;
            a[y * 10 + x] = core ? 1.0f : ring ? 0.42f : 0.0f;
            b[y * 10 + x] = x < 3 && y < 3 ? 1.0f : 0.0f;
            c[y * 10 + x] = x == 5 && y == 5 ? 1.0f : 0.32f;
        }
    const metrics_box ga = {2, 2, 6, 6}, gb = {5, 5, 9, 9}, gc = {0, 0, 10, 10};
    wsol_tally t = {0};
    double iou;
    float best;
    cr_assert_eq(wsol_observe(a, 10, 10, 0.2f, &ga, 1, &t, &iou), PIXAB_OK);
    cr_expect(fabs(iou - 16.0 / 36.0) < 1e-12, "A: IoU %g", iou);
    cr_assert_eq(wsol_observe(b, 10, 10, 0.2f, &gb, 1, &t, &iou), PIXAB_OK);
    cr_expect_eq(iou, 0.0);
    for (int i = 0; i < WSOL_N_THRESHOLDS; i++) cr_expect_eq(t.hits[i], i >= 8, "threshold %g", wsol_threshold_at(i));
    cr_expect_eq(wsol_max_box_acc(&t, &best), 0.5);
    cr_expect(fabsf(best - 0.45f) < 1e-6f, "best threshold %g", best);
    cr_assert_eq(wsol_observe(c, 10, 10, 0.2f, &gc, 1, &t, &iou), PIXAB_OK);
    cr_expect_eq(iou, 1.0);
    cr_expect_eq(t.n, 3);
    for (int i = 0; i < WSOL_N_THRESHOLDS; i++)
        cr_expect_eq(t.hits[i], (i <= 5) + (i >= 8), "threshold %g", wsol_threshold_at(i));
    cr_expect(fabs(wsol_max_box_acc(&t, &best) - 1.0 / 3.0) < 1e-12);
    cr_expect(fabsf(best - 0.05f) < 1e-6f, "best threshold %g", best);
    const wsol_tally empty = {0};
    cr_expect_eq(wsol_max_box_acc(&empty, NULL), 0.0);
}
