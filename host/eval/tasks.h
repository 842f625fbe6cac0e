/* tasks.h — the evaluation suite's tasks (DESIGN.md §7, the paper's §2 and
 * §5), one image (or one generated example) at a time, adding their
 * observations to an eval_table; the CLI (host/cli/eval.c) loads the data,
 * loops, and writes metrics.csv, the markdown tables and the plots.
 *
 * Tasks (the table's task column):
 *   MOD   the annotated multi-object set. Faithfulness of the top-1 class's
 *         map: AD, IIC (Chattopadhay et al.), compactness, deletion and
 *         insertion AUC (Petsiuk et al.); localisation of every class present,
 *         each against its own boxes: PG (pointing game) and OL (energy inside
 *         the boxes / total).
 *   DAP1  AE1 examples (an FGSM patch of a target class absent from the image,
 *         made on a zero image and pasted into the image): PG and OL of the
 *         target class's map against the patch boxes.
 *   DAP2  AE2 examples (four patches of four target classes on a zero image):
 *         PG and OL of each target's map against its own patch; DOA (cosine
 *         distance to Activation-CAM's map) and #COP (top-100 weighted channels
 *         covering both the target's and another patch; channel-weight methods).
 *   sanity  cascading randomisation (Adebayo et al.): Spearman correlation of
 *         each method's map with the trained model's, per randomised layer.
 *   wsol  the annotated set: every class present, its map's localisation box
 *         (wsol.h) against that class's boxes: loc_acc, mIoU, MaxBoxAcc.
 * The generators' own success goes in under the method "fgsm". */
#ifndef PIXAB_EVAL_TASKS_H
#define PIXAB_EVAL_TASKS_H

#include <stdint.h>

#include "metrics.h"
#include "pixab.h"
#include "table.h"
#include "wsol.h"

typedef struct {
    pixab_engine *e;
    const pixab_model *m;
    const pixab_method *methods;
    int n_methods;
    pixab_explain_opts opts;  /* layer, score, boxes; cls is set per call */
    int n_steps;              /* deletion / insertion steps */
    int fgsm_steps;           /* FGSM iteration limit */
    eval_table *table;
    /* Deletion and insertion curves (n_methods, n_steps + 1), summed over
     * images (curve_n of them), for the plots. Allocated by eval_ctx_init. */
    double *deletion, *insertion;
    long curve_n;
    float wsol_threshold;     /* the localisation boxes' t for loc_acc and mIoU */
    wsol_tally *wsol;         /* (n_methods) MaxBoxAcc's counts; allocated by eval_ctx_init */
} eval_ctx;

pixab_status eval_ctx_init(eval_ctx *c);
void eval_ctx_free(eval_ctx *c);

/* MOD on one preprocessed image (S, S, 3); boxes/classes of its objects. */
pixab_status eval_mod(eval_ctx *c, const float *input, const metrics_box *boxes, const int *classes, int n_objects);
/* WSOL on one preprocessed image of img_w x img_h; boxes (image pixels) and
 * classes of its objects. Adds loc_acc and miou observations per method and
 * class present, and counts MaxBoxAcc's hits (eval_wsol_finish). */
pixab_status eval_wsol(eval_ctx *c, const float *input, int img_w, int img_h, const metrics_box *boxes,
                       const int *classes, int n_objects);
/* MaxBoxAcc of every method into the table (maxboxacc: one observation per
 * (image, class), 1 when a hit at the best threshold; maxboxacc_threshold:
 * that threshold, one observation). */
pixab_status eval_wsol_finish(eval_ctx *c);
/* DAP1 on one preprocessed image: an AE1 whose target avoids the classes present. */
pixab_status eval_dap1(eval_ctx *c, const float *input, const int *classes, int n_objects, uint64_t seed);
/* DAP2 on one AE2 example generated from seed. */
pixab_status eval_dap2(eval_ctx *c, uint64_t seed);

/* The cascading randomisation steps: layer indices from the logits down
 * ("fc", "Mixed_7c", ..., "Mixed_5b"); at most EVAL_MAX_SANITY. */
#define EVAL_MAX_SANITY 16
int eval_sanity_steps(const pixab_model *m, int *layers, int cap);
/* Sanity check on n preprocessed images: for every step, a model randomised
 * from that layer up, maps of each image's top-1 class (of the trained
 * model) compared with the trained model's maps (Spearman). device/batch:
 * for the engines of the randomised models. */
pixab_status eval_sanity(eval_ctx *c, const float *inputs, int n, const char *device, int batch, uint64_t seed);

#endif
