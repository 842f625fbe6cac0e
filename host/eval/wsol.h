/* wsol.h — weakly supervised object localisation (wsol.c): the box of a map
 * (Zhou et al.'s CAM protocol) and the scores of boxes against ground truth,
 * loc_acc, mIoU and MaxBoxAcc (Choe et al., CVPR 2020). Definitions pinned in
 * docs/evaluation.md:
 *  - box of a map: upsample it to the image's own size (pixab_map_upsample,
 *    bilinear, half-pixel centres), keep the pixels >= t * max (an all-zero
 *    map keeps every pixel), take the largest 8-connected component of them,
 *    and its bounding box [x0, y0, x1, y1), x1/y1 exclusive, image pixels;
 *    of equal components, the one whose first pixel in raster order comes
 *    first (scipy.ndimage.label's lowest label);
 *  - IoU of half-open boxes; 0 when the union is empty;
 *  - per (image, class) observation, against that class's annotated boxes:
 *    loc_acc = [best IoU of the box at t >= 0.5], mIoU = that best IoU;
 *    MaxBoxAcc = max over the thresholds 0.05, 0.10, ..., 0.95 of the share
 *    of observations whose box at that threshold has best IoU >= 0.5 (Choe
 *    et al.'s BoxAcc at delta = 0.5, one box per map: the largest component). */
#ifndef PIXAB_EVAL_WSOL_H
#define PIXAB_EVAL_WSOL_H

#include "metrics.h"
#include "pixab.h"

#define WSOL_THRESHOLD_DEFAULT 0.2f
/* MaxBoxAcc's thresholds: 0.05, 0.10, ..., 0.95 (WSOL_N_THRESHOLDS of them). */
#define WSOL_N_THRESHOLDS 19
#define WSOL_IOU_HIT 0.5
float wsol_threshold_at(int i);

/* The box of sal (h, w), a map already at the image's size, at threshold t
 * (a fraction of the map's max, in [0, 1]). */
pixab_status wsol_box_of(const float *sal, int w, int h, float t, metrics_box *box);
/* The box of a map (mh, mw) at layer resolution for an image of img_w x
 * img_h: upsampled, then wsol_box_of. */
pixab_status wsol_map_box(const float *map, int mh, int mw, int img_w, int img_h, float t, metrics_box *box);
/* Intersection over union of two half-open boxes, in [0, 1]. */
double wsol_iou(metrics_box a, metrics_box b);
/* The best IoU of a against boxes (n); 0 when n < 1. */
double wsol_best_iou(metrics_box a, const metrics_box *boxes, int n);

/* One method's tally of observations for MaxBoxAcc. */
typedef struct {
    long n;                          /* observations */
    long hits[WSOL_N_THRESHOLDS];    /* whose box at wsol_threshold_at(i) has best IoU >= 0.5 */
} wsol_tally;

/* One observation: sal (h, w) at the image's size, gt (n_gt) the class's
 * boxes. *iou = the best IoU of the box at threshold t; the tally (may be
 * NULL) counts the hits at every MaxBoxAcc threshold. */
pixab_status wsol_observe(const float *sal, int w, int h, float t, const metrics_box *gt, int n_gt, wsol_tally *tally,
                          double *iou);
/* MaxBoxAcc of a tally (0 when empty); *best (may be NULL) its threshold, the
 * lowest of equal ones. */
double wsol_max_box_acc(const wsol_tally *tally, float *best);

#endif
