/* test_ablate_shared.c — the per-element logic the CPU backend and the CUDA
 * kernels share (kernels/element/ablate.cuh, map.cuh, preprocess.cuh's bilinear taps),
 * on the CPU against small hand-computed cases: box regions at the edges, the
 * batch layout, the fast path's box logits, Pixab-CAM's reduction, class
 * scores, channel ablation, ReLU + min-max (constant maps too) and bilinear
 * weights. The GPU runs the same functions (tests/gpu/gpu_parity.c). */
#include <criterion/criterion.h>
#include <math.h>

#include "ablate.cuh"
#include "map.cuh"
#include "preprocess.cuh"

Test(ablate_shared, region_is_cut_at_the_bottom_right_edge) {
    int r0, r1, c0, c1;
    ablate_region(2, 2, 2, 3, 3, 4, &r0, &r1, &c0, &c1); /* 2x2 box at the last cell of a 3x4 grid */
    cr_expect(r0 == 2 && r1 == 3 && c0 == 3 && c1 == 4);
    ablate_region(1, 2, 0, 2, 3, 4, &r0, &r1, &c0, &c1);
    cr_expect(r0 == 0 && r1 == 1 && c0 == 2 && c1 == 4);
    ablate_region(3, 1, 1, 0, 3, 4, &r0, &r1, &c0, &c1); /* taller than what is left */
    cr_expect(r0 == 1 && r1 == 3 && c0 == 0 && c1 == 1);
    cr_expect(ablate_inside(1, 0, 1, 3, 0, 1) && !ablate_inside(1, 1, 1, 3, 0, 1) && !ablate_inside(0, 0, 1, 3, 0, 1));
}

Test(ablate_shared, batch_layout_decodes_in_order) {
    const int H = 2, W = 3;
    int box = -1, i = -1, j = -1;
    cr_expect_eq(ablate_batch_size(2, H, W), 26);
    cr_expect_eq(ablate_decode(0, H, W, &box, &i, &j), ABLATE_ORIGINAL);
    cr_expect_eq(ablate_decode(1, H, W, &box, &i, &j), ABLATE_ZERO);
    cr_expect_eq(ablate_decode(2, H, W, &box, &i, &j), ABLATE_DELETE);
    cr_expect(box == 0 && i == 0 && j == 0);
    cr_expect_eq(ablate_decode(3, H, W, &box, &i, &j), ABLATE_PRESERVE);
    cr_expect(box == 0 && i == 0 && j == 0);
    /* box 1, anchor (1, 1): item 2 + 2 (1*6 + 1*3 + 1) = 22, then 23 */
    cr_expect_eq(ablate_decode(22, H, W, &box, &i, &j), ABLATE_DELETE);
    cr_expect(box == 1 && i == 1 && j == 1);
    cr_expect_eq(ablate_decode(23, H, W, &box, &i, &j), ABLATE_PRESERVE);
    cr_expect(box == 1 && i == 1 && j == 1);
    cr_expect_eq(ablate_decode(25, H, W, &box, &i, &j), ABLATE_PRESERVE);
    cr_expect(box == 1 && i == 1 && j == 2);
}

/* a (2, 3, 2): a[y, x, k] = 10 y + x + 0.5 k + 1 */
static void small_act(float a[12]) {
    for (int y = 0; y < 2; y++)
        for (int x = 0; x < 3; x++)
            for (int k = 0; k < 2; k++) a[(y * 3 + x) * 2 + k] = 10.0f * y + x + 0.5f * k + 1.0f;
}

Test(ablate_shared, box_elements_delete_and_preserve_the_region) {
    float a[12];
    small_act(a);
    ablate_box_set b = {2, {1, 1}, {1, 2}};
    const int item_d = 2 + 2 * (1 * 6 + 1 * 3 + 1); /* box 1 (1x2) at (1, 1): cells (1,1), (1,2) */
    for (int y = 0; y < 2; y++)
        for (int x = 0; x < 3; x++)
            for (int k = 0; k < 2; k++) {
                float v = a[(y * 3 + x) * 2 + k];
                int in = y == 1 && x >= 1;
                cr_expect_eq(ablate_box_element(a, &b, item_d, 2, 3, 2, y, x, k), in ? 0.0f : v);
                cr_expect_eq(ablate_box_element(a, &b, item_d + 1, 2, 3, 2, y, x, k), in ? v : 0.0f);
                cr_expect_eq(ablate_box_element(a, &b, 0, 2, 3, 2, y, x, k), v);
                cr_expect_eq(ablate_box_element(a, &b, 1, 2, 3, 2, y, x, k), 0.0f);
            }
}

/* The fast path: an item's logits from the pixel logits equal the FC of the
 * mean of the materialised item, for every item of a small batch. */
Test(ablate_shared, box_logits_match_the_fc_of_the_materialised_tensor) {
    float a[12];
    small_act(a);
    ablate_box_set b = {2, {2, 1}, {2, 2}};
    const float fc_w[3][2] = {{0.5f, -1.0f}, {2.0f, 0.25f}, {-0.75f, 1.5f}}, bias[3] = {0.1f, -2.0f, 3.0f};
    float q[6 * 3], logits0[3];
    for (int p = 0; p < 6; p++) /* the FC of each pixel alone */
        for (int j = 0; j < 3; j++) q[p * 3 + j] = fc_w[j][0] * a[p * 2] + fc_w[j][1] * a[p * 2 + 1] + bias[j];
    /* GAP(a) = (7, 7.5): the logits of a */
    for (int j = 0; j < 3; j++) logits0[j] = fc_w[j][0] * 7.0f + fc_w[j][1] * 7.5f + bias[j];
    /* deletion of box 0 (2x2) at (0, 1): box sums (30, 32), GAP (7 - 30/6, 7.5 - 32/6) = (2, 13/6) */
    cr_expect_float_eq(ablate_box_logit(q, &b, 2 + 2 * 1, 2, 3, 3, 0, logits0[0], bias[0]),
                       0.5f * 2.0f - 13.0f / 6.0f + 0.1f, 1e-5f);
    for (int item = 0; item < ablate_batch_size(2, 2, 3); item++)
        for (int j = 0; j < 3; j++) {
            double logit = bias[j];
            for (int k = 0; k < 2; k++) {
                double mean = 0.0;
                for (int y = 0; y < 2; y++)
                    for (int x = 0; x < 3; x++) mean += ablate_box_element(a, &b, item, 2, 3, 2, y, x, k) / 6.0;
                logit += fc_w[j][k] * mean;
            }
            cr_expect_float_eq(ablate_box_logit(q, &b, item, 2, 3, 3, j, logits0[j], bias[j]), (float)logit, 1e-5f,
                               "item %d class %d", item, j);
        }
}

Test(ablate_shared, pixab_reduction_averages_boxes_and_perspectives) {
    /* Y = 1, Ybar = 0.25, two boxes, one position: items 2, 3 (box 0: D, P), 4, 5 (box 1) */
    const float s[6] = {1.0f, 0.25f, 0.5f, 0.75f, 0.25f, 0.5f};
    /* (1 - (0.5 + 0.25)/2) + ((0.75 + 0.5)/2 - 0.25) = 0.625 + 0.375 */
    cr_expect_float_eq(ablate_pixab_reduce(s, 2, 1, 0), 1.0f, 1e-6f);
    cr_expect_float_eq(ablate_pixab_point(1.0f, 0.25f, 0.75f, 1.25f, 2), 1.0f, 1e-6f);
    /* two positions, one box: position 1 reads items 4, 5 */
    const float t[6] = {0.5f, 0.0f, 0.5f, 0.0f, 0.125f, 0.375f};
    cr_expect_float_eq(ablate_pixab_reduce(t, 1, 2, 0), 0.0f, 1e-6f);
    cr_expect_float_eq(ablate_pixab_reduce(t, 1, 2, 1), 0.75f, 1e-6f);
}

Test(ablate_shared, channel_ablation) {
    float a[12];
    small_act(a);
    cr_expect_eq(ablate_channel_element(a, 0, 2, 4, 1), a[4 * 2 + 1]);
    cr_expect_eq(ablate_channel_element(a, 2, 2, 4, 1), 0.0f); /* item 2 = channel 1 zeroed */
    cr_expect_eq(ablate_channel_element(a, 2, 2, 4, 0), a[4 * 2]);
    cr_expect(fabs(ablate_channel_mean(a, 6, 2, 1) - 7.5) < 1e-12);
    cr_expect_float_eq(ablate_channel_logit(3.0f, 0.5f, 7.5), -0.75f, 1e-6f);
}

Test(ablate_shared, class_scores) {
    const float l[3] = {0.0f, logf(3.0f), -INFINITY};
    cr_expect_float_eq(map_class_score(l, 3, 1, 1), 0.75f, 1e-6f);
    cr_expect_float_eq(map_class_score(l, 3, 0, 1), 0.25f, 1e-6f);
    cr_expect_eq(map_class_score(l, 3, 1, 0), logf(3.0f));
    const float big[2] = {1000.0f, 1000.0f}; /* max-shifted: no overflow */
    cr_expect_float_eq(map_class_score(big, 2, 0, 1), 0.5f, 1e-6f);
    const float a[4] = {1.0f, 2.0f, 3.0f, 4.0f}, w[4] = {1.0f, -1.0f, 0.5f, 0.0f};
    cr_expect_float_eq(map_pixel_sum(a, w, 4), 0.5f, 1e-6f);
    cr_expect_float_eq(map_pixel_sum(a, NULL, 4), 10.0f, 1e-6f);
}

Test(ablate_shared, relu_and_minmax) {
    float m[4] = {-1.0f, 0.0f, 2.0f, 4.0f};
    map_normalize(m, 4);
    cr_expect(m[0] == 0.0f && m[1] == 0.0f && m[2] == 0.5f && m[3] == 1.0f);
    float c[3] = {3.0f, 3.0f, 3.0f}; /* constant: all zeros */
    map_normalize(c, 3);
    cr_expect(c[0] == 0.0f && c[1] == 0.0f && c[2] == 0.0f);
    float neg[2] = {-1.0f, -2.0f}; /* constant after the ReLU */
    map_normalize(neg, 2);
    cr_expect(neg[0] == 0.0f && neg[1] == 0.0f);
    float one[1] = {5.0f};
    map_normalize(one, 1);
    cr_expect_eq(one[0], 0.0f);
    cr_expect_eq(map_minmax(-3.0f, 1.0f, 5.0f), -0.25f); /* ReLU first: (0 - 1) / 4 */
}

Test(ablate_shared, bilinear_weights) {
    bilinear_tap t = bilinear_axis(0, 2, 4); /* src = 0.5 * 0.5 - 0.5 < 0: clamped */
    cr_expect(t.i0 == 0 && t.i1 == 1 && t.w0 == 1.0f && t.w1 == 0.0f);
    t = bilinear_axis(1, 2, 4); /* src = 0.25 */
    cr_expect(t.i0 == 0 && t.i1 == 1 && t.w0 == 0.75f && t.w1 == 0.25f);
    t = bilinear_axis(3, 2, 4); /* src = 1.25: the last sample, i1 = i0 */
    cr_expect(t.i0 == 1 && t.i1 == 1);
    t = bilinear_axis(5, 8, 8); /* identity */
    cr_expect(t.i0 == 5 && t.i1 == 5 && t.w0 == 1.0f && t.w1 == 0.0f);
    const float map[4] = {0.0f, 1.0f, 2.0f, 3.0f}; /* 2x2 -> 4x4, sample (1, 1): taps 0.75/0.25 both ways */
    bilinear_tap ty = bilinear_axis(1, 2, 4), tx = bilinear_axis(1, 2, 4);
    cr_expect_float_eq(bilinear_sample_f32(map, 2, 1, ty, tx), 0.25f + 0.5f, 1e-6f);
}
