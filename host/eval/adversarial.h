/* adversarial.h — the evaluation suite's adversarial patches (Pixab-CAM paper
 * §5.2.3, DESIGN.md §7): targeted FGSM restricted to square patches, and the
 * two patch sets the DAP1/DAP2 tasks score Pointing Game and Object
 * Localisation against.
 *
 * Images are preprocessed inputs (S, S, 3), NHWC, in normalised units
 * (x - mean) / std. The "zero image" is all zeros in those units, i.e. the
 * per-channel mean colour. Every random choice (patch count, sizes, positions,
 * AE2 classes) is a function of the seed alone (rng.h).
 *
 * FGSM: with g = d CE(logits(x), target) / dx, repeat
 *   x <- clip(x - eps / std_c * sign(g))   inside the patches only,
 * clip = the valid pixel range [(0 - mean_c)/std_c, (1 - mean_c)/std_c],
 * until argmax logits(x) == target (checked before every step and after the
 * last) or max_steps steps. Pixels outside the patches are never written.
 *
 * AE1: n patches (all for one target class) attacked together on a zero image,
 * then pasted at the same places into a real image (its pixels in the boxes
 * replaced). Success is reported on both.
 * AE2: four patches of four different classes. Patch i is attacked on its own
 * zero image (only patch i present) until t_i is top-1 there (the four
 * attacks run together, adv_fgsm_patches); then the four
 * are composed into one zero image. Per-patch success, and on the composite
 * how many of the four targets are among its top-4 classes. */
#ifndef PIXAB_EVAL_ADVERSARIAL_H
#define PIXAB_EVAL_ADVERSARIAL_H

#include <stdint.h>

#include "metrics.h" /* metrics_box: the patches' boxes */
#include "pixab.h"

#define ADV_MAX_PATCHES 9 /* AE1: 1 to 9 patches */
#define ADV_AE2_PATCHES 4

typedef struct {
    float eps;          /* step in pixel units ([0,1] scale); 0: 4/255 */
    int max_steps;      /* 0: 100 */
} adv_fgsm_opts;

typedef struct {
    int steps;          /* FGSM steps taken (0 for an image that was only classified) */
    int success;        /* the target is top-1 at the end */
    int top1;           /* the final top-1 class */
    float target_prob;  /* final softmax probability of the target */
} adv_result;

/* Targeted FGSM on x (S, S, 3), modified in place inside the union of the
 * boxes (n_boxes >= 1, each inside the image). o: NULL for the defaults.
 * pre must be the preprocessing the engine's model uses. */
pixab_status adv_fgsm_patch(pixab_engine *e, const pixab_preproc *pre, float *x, const metrics_box *boxes, int n_boxes,
                            int target, const adv_fgsm_opts *o, adv_result *r);

/* One of several independent FGSM attacks run together: x (S, S, 3)
 * attacked in place inside its boxes for its target; r its result. */
typedef struct {
    float *x;
    const metrics_box *boxes;
    int n_boxes;
    int target;
    adv_result r;
} adv_attack;

/* adv_fgsm_patch on n attacks at once: each round, one batched gradient of
 * every unfinished attack (the engine's batch at a time), then a step of
 * each. Each attack's result is the one adv_fgsm_patch gives it alone, up to
 * the rounding of batched gradients. */
pixab_status adv_fgsm_patches(pixab_engine *e, const pixab_preproc *pre, adv_attack *a, int n, const adv_fgsm_opts *o);

/* n (1..ADV_MAX_PATCHES) random non-overlapping squares inside an S x S
 * image, side in [ceil(0.15 S), floor(0.20 S)] pixels each. Boxes may touch
 * but share no pixel. PIXAB_ERR_ARG when S is too small for that. */
pixab_status adv_random_boxes(int size, int n, uint64_t seed, metrics_box *boxes);

typedef struct {
    int target;
    int n;                           /* patches */
    metrics_box boxes[ADV_MAX_PATCHES];
    adv_result on_zero;              /* the attack on the zero image */
    adv_result on_real;              /* the real image with the patches pasted in */
} adv_ae1;

/* AE1 for a real image (S, S, 3): n_patches in 1..9, or 0 to draw it from the
 * seed. out (S, S, 3): the real image with the patches pasted; patch_image
 * (S, S, 3, or NULL): the attacked zero image. */
pixab_status adv_make_ae1(pixab_engine *e, const pixab_preproc *pre, const float *real, int target, int n_patches,
                          uint64_t seed, const adv_fgsm_opts *o, float *out, float *patch_image, adv_ae1 *r);

typedef struct {
    int targets[ADV_AE2_PATCHES];    /* distinct classes; patch i is attacked for targets[i] */
    metrics_box boxes[ADV_AE2_PATCHES];
    adv_result patch[ADV_AE2_PATCHES]; /* patch i alone on a zero image */
    adv_result composite[ADV_AE2_PATCHES]; /* the composite, scored for each target (steps 0) */
    int in_top4;                     /* how many targets are among the composite's top 4 classes */
} adv_ae2;

/* AE2: targets (4 distinct classes) or NULL to draw them from the seed (the
 * model needs at least 4 classes). out (S, S, 3): the composite. */
pixab_status adv_make_ae2(pixab_engine *e, const pixab_preproc *pre, const int *targets, uint64_t seed,
                          const adv_fgsm_opts *o, float *out, adv_ae2 *r);

#endif
