/* ablate.cuh — per-element logic of the ablation methods, shared by the CPU
 * backend (host/backends/cpu/cpu_head_ops.c) and the CUDA kernels:
 * which elements a box keeps in each perspective, box sums, the layout of an
 * ablation batch, the logits of its items through a GAP + FC head (the fast
 * path) and the reduction of its scores to Pixab-CAM's p(i, j)
 * (DESIGN.md §4). Activations are (H, W, K), channels last. */
#ifndef PIXAB_ABLATE_CUH
#define PIXAB_ABLATE_CUH

#include "pixab.h"
#include "pixab_hd.h"

enum { ABLATE_ORIGINAL = 0, ABLATE_ZERO = 1, ABLATE_DELETE = 2, ABLATE_PRESERVE = 3 };

/* Region of box (bh x bw) anchored at (i, j) in an H x W grid: rows [*r0, *r1),
 * cols [*c0, *c1), cut at the bottom/right edge (stride 1, so every box gives an
 * H x W grid of anchors). */
PIXAB_HD void ablate_region(int bh, int bw, int i, int j, int H, int W, int *r0, int *r1, int *c0, int *c1) {
    *r0 = i;
    *r1 = i + bh < H ? i + bh : H;
    *c0 = j;
    *c1 = j + bw < W ? j + bw : W;
}

PIXAB_HD int ablate_inside(int y, int x, int r0, int r1, int c0, int c1) {
    return y >= r0 && y < r1 && x >= c0 && x < c1;
}

/* Whether element (y, x) keeps its activation: deletion zeroes the region,
 * preservation zeroes everything else. */
PIXAB_HD int ablate_keeps(int kind, int y, int x, int r0, int r1, int c0, int c1) {
    int in = ablate_inside(y, x, r0, r1, c0, c1);
    return kind == ABLATE_ORIGINAL || (kind == ABLATE_DELETE && !in) || (kind == ABLATE_PRESERVE && in);
}

/* Pixab-CAM batch layout: item 0 = the original A, 1 = the zero tensor Z, then
 * for box b, anchor (i, j): item 2 + 2 (b H W + i W + j) = deletion D_b(i, j),
 * the next one = preservation P_b(i, j). Total 2 + 2 n_boxes H W. */
PIXAB_HD int ablate_batch_size(int n_boxes, int H, int W) { return 2 + 2 * n_boxes * H * W; }

PIXAB_HD int ablate_decode(int item, int H, int W, int *box, int *i, int *j) {
    if (item < 2) return item; /* ABLATE_ORIGINAL or ABLATE_ZERO */
    int k = (item - 2) / 2, pos = k % (H * W);
    *box = k / (H * W);
    *i = pos / W;
    *j = pos % W;
    return (item - 2) % 2 ? ABLATE_PRESERVE : ABLATE_DELETE;
}

/* Sum of channel k of a (H, W, K) activation over rows [r0, r1), cols [c0, c1). */
PIXAB_HD float ablate_box_sum(const float *a, int W, int K, int k, int r0, int r1, int c0, int c1) {
    float s = 0.0f;
    for (int y = r0; y < r1; y++)
        for (int x = c0; x < c1; x++) s += a[((long)y * W + x) * K + k];
    return s;
}

/* The box list of a batch, by value (a kernel argument): n boxes of h[b] x w[b]. */
typedef struct {
    int n;
    int h[PIXAB_MAX_BOXES], w[PIXAB_MAX_BOXES];
} ablate_box_set;

/* Element (y, x, k) of item `item` of a box ablation batch of a (H, W, K):
 * a's value where the item keeps it, else 0. */
PIXAB_HD float ablate_box_element(const float *a, const ablate_box_set *b, int item, int H, int W, int K, int y, int x,
                                  int k) {
    int box = 0, i = 0, j = 0, r0 = 0, r1 = 0, c0 = 0, c1 = 0;
    int kind = ablate_decode(item, H, W, &box, &i, &j);
    if (kind == ABLATE_ZERO) return 0.0f;
    if (kind >= ABLATE_DELETE) ablate_region(b->h[box], b->w[box], i, j, H, W, &r0, &r1, &c0, &c1);
    return ablate_keeps(kind, y, x, r0, r1, c0, c1) ? a[((long)y * W + x) * K + k] : 0.0f;
}

/* Logit j of item `item` of a box ablation batch through a head that is GAP
 * then a linear (FC) layer: exact, from the FC of each pixel alone,
 * q (H, W, classes) with q[p, j] = (W a_p)_j + bias_j. GAP(D) = GAP(A) -
 * boxsum / HW and GAP(P) = boxsum / HW (DESIGN.md §4's fast path), so through
 * the FC: deletion = logit_j(A) - s, preservation = bias_j + s with
 * s = sum over the box of (q[p, j] - bias_j) / HW; the original is logit_j,
 * the zero tensor bias_j. */
PIXAB_HD float ablate_box_logit(const float *q, const ablate_box_set *b, int item, int H, int W, int classes, int j,
                                float logit_j, float bias_j) {
    int box = 0, i = 0, x = 0, r0 = 0, r1 = 0, c0 = 0, c1 = 0;
    int kind = ablate_decode(item, H, W, &box, &i, &x);
    if (kind == ABLATE_ORIGINAL) return logit_j;
    if (kind == ABLATE_ZERO) return bias_j;
    ablate_region(b->h[box], b->w[box], i, x, H, W, &r0, &r1, &c0, &c1);
    float s = (ablate_box_sum(q, W, classes, j, r0, r1, c0, c1) - (float)((r1 - r0) * (c1 - c0)) * bias_j) /
              (float)(H * W);
    return kind == ABLATE_DELETE ? logit_j - s : bias_j + s;
}

/* Channel ablation (Ablation-CAM) batch: item 0 = a, item 1 + k = a with
 * channel k zeroed. Element k of pixel p's channels of item `item`. */
PIXAB_HD float ablate_channel_element(const float *a, int item, int K, long p, int k) {
    return k == item - 1 ? 0.0f : a[p * K + k];
}

/* Mean of channel k of a (HW, K) in double, summed in pixel order. */
PIXAB_HD double ablate_channel_mean(const float *a, int HW, int K, int k) {
    double s = 0.0;
    for (int p = 0; p < HW; p++) s += a[(long)p * K + k];
    return s / HW;
}

/* Logit j of the channel-k ablation through a linear (FC) head: zeroing pooled
 * channel k changes logit j by exactly -W[j, k] pooled_k. */
PIXAB_HD float ablate_channel_logit(float logit_j, float w_jk, double pooled_k) {
    return (float)(logit_j - w_jk * pooled_k);
}

/* p(i, j) = mean_b [Y - S(D_b)] + mean_b [S(P_b) - Ybar], given
 * sum_b S(D_b(i, j)) and sum_b S(P_b(i, j)) over n_boxes boxes. */
PIXAB_HD float ablate_pixab_point(float y, float y_zero, float sum_deleted, float sum_preserved, int n_boxes) {
    return (y - sum_deleted / (float)n_boxes) + (sum_preserved / (float)n_boxes - y_zero);
}

/* p at position pos (of HW) from the batch's scores s (2 + 2 n_boxes HW, the
 * layout above): the boxes summed in order. */
PIXAB_HD float ablate_pixab_reduce(const float *s, int n_boxes, int HW, int pos) {
    float sum_d = 0.0f, sum_p = 0.0f;
    for (int b = 0; b < n_boxes; b++) {
        long item = 2 + 2 * ((long)b * HW + pos);
        sum_d += s[item];
        sum_p += s[item + 1];
    }
    return ablate_pixab_point(s[0], s[1], sum_d, sum_p, n_boxes);
}

#endif /* PIXAB_ABLATE_CUH */
