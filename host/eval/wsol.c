/* wsol.c — localisation boxes of maps and their IoU (see wsol.h): threshold,
 * the largest 8-connected component by an iterative flood fill in raster
 * order, its bounding box; loc_acc, mIoU and MaxBoxAcc observations. */
#include "wsol.h"

#include <stdlib.h>

#include "error.h"

float wsol_threshold_at(int i) { return 0.05f * (float)(i + 1); }

pixab_status wsol_box_of(const float *sal, int w, int h, float t, metrics_box *box) {
    if (!sal || !box || w < 1 || h < 1) return pixab_fail(PIXAB_ERR_ARG, "a localisation box of a %d x %d map", w, h);
    if (!(t >= 0.0f && t <= 1.0f)) return pixab_fail(PIXAB_ERR_ARG, "localisation threshold %g outside [0, 1]", t);
    const size_t n = (size_t)w * h;
    float mx = sal[0];
    for (size_t p = 1; p < n; p++) mx = sal[p] > mx ? sal[p] : mx;
    const float thr = t * mx;
    unsigned char *seen = calloc(n, 1);
    size_t *stack = malloc(sizeof(size_t) * n);
    if (!seen || !stack) {
        free(seen), free(stack);
        return pixab_fail(PIXAB_ERR_NOMEM, "out of memory for a %d x %d localisation box", w, h);
    }
    size_t best = 0;
    *box = (metrics_box){0, 0, w, h}; /* no pixel kept (a NaN max): the whole image */
    for (size_t start = 0; start < n; start++) {
        if (seen[start] || !(sal[start] >= thr)) continue;
        size_t top = 0, size = 0;
        metrics_box b = {w, h, 0, 0};
        seen[start] = 1, stack[top++] = start;
        while (top) {
            const size_t p = stack[--top];
            const int x = (int)(p % (size_t)w), y = (int)(p / (size_t)w);
            size++;
            b.x0 = x < b.x0 ? x : b.x0, b.x1 = x + 1 > b.x1 ? x + 1 : b.x1;
            b.y0 = y < b.y0 ? y : b.y0, b.y1 = y + 1 > b.y1 ? y + 1 : b.y1;
            for (int dy = -1; dy <= 1; dy++)
                for (int dx = -1; dx <= 1; dx++) {
                    const int xx = x + dx, yy = y + dy;
                    if (xx < 0 || xx >= w || yy < 0 || yy >= h) continue;
                    const size_t q = (size_t)yy * w + xx;
                    if (!seen[q] && sal[q] >= thr) seen[q] = 1, stack[top++] = q;
                }
        }
        if (size > best) best = size, *box = b; /* strictly larger: ties keep the first */
    }
    free(seen), free(stack);
    return PIXAB_OK;
}

pixab_status wsol_map_box(const float *map, int mh, int mw, int img_w, int img_h, float t, metrics_box *box) {
    if (img_w < 1 || img_h < 1) return pixab_fail(PIXAB_ERR_ARG, "a localisation box in a %d x %d image", img_w, img_h);
    float *sal = malloc(sizeof(float) * (size_t)img_w * img_h);
    if (!sal) return pixab_fail(PIXAB_ERR_NOMEM, "out of memory for a %d x %d map", img_w, img_h);
    pixab_status s = pixab_map_upsample(map, mh, mw, img_h, img_w, sal);
    if (!s) s = wsol_box_of(sal, img_w, img_h, t, box);
    free(sal);
    return s;
}

double wsol_iou(metrics_box a, metrics_box b) {
    const long iw = (long)(a.x1 < b.x1 ? a.x1 : b.x1) - (a.x0 > b.x0 ? a.x0 : b.x0);
    const long ih = (long)(a.y1 < b.y1 ? a.y1 : b.y1) - (a.y0 > b.y0 ? a.y0 : b.y0);
    const double inter = iw > 0 && ih > 0 ? (double)iw * ih : 0.0;
    const long aw = a.x1 - a.x0, ah = a.y1 - a.y0, bw = b.x1 - b.x0, bh = b.y1 - b.y0;
    const double uni = (aw > 0 && ah > 0 ? (double)aw * ah : 0.0) + (bw > 0 && bh > 0 ? (double)bw * bh : 0.0) - inter;
    return uni > 0.0 ? inter / uni : 0.0;
}

double wsol_best_iou(metrics_box a, const metrics_box *boxes, int n) {
    double best = 0.0;
    for (int i = 0; i < n; i++) {
        const double v = wsol_iou(a, boxes[i]);
        best = v > best ? v : best;
    }
    return best;
}

pixab_status wsol_observe(const float *sal, int w, int h, float t, const metrics_box *gt, int n_gt, wsol_tally *tally,
                          double *iou) {
    metrics_box b;
    pixab_status s = wsol_box_of(sal, w, h, t, &b);
    if (s) return s;
    *iou = wsol_best_iou(b, gt, n_gt);
    if (!tally) return PIXAB_OK;
    long hits[WSOL_N_THRESHOLDS];
    for (int i = 0; i < WSOL_N_THRESHOLDS; i++) {
        if ((s = wsol_box_of(sal, w, h, wsol_threshold_at(i), &b))) return s;
        hits[i] = wsol_best_iou(b, gt, n_gt) >= WSOL_IOU_HIT;
    }
    for (int i = 0; i < WSOL_N_THRESHOLDS; i++) tally->hits[i] += hits[i];
    tally->n++;
    return PIXAB_OK;
}

double wsol_max_box_acc(const wsol_tally *tally, float *best) {
    int at = 0;
    for (int i = 1; i < WSOL_N_THRESHOLDS; i++) at = tally->hits[i] > tally->hits[at] ? i : at;
    if (best) *best = wsol_threshold_at(at);
    return tally->n ? (double)tally->hits[at] / (double)tally->n : 0.0;
}
