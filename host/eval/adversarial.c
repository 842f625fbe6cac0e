/* adversarial.c — targeted patch FGSM and the AE1/AE2 patch sets (see
 * adversarial.h; the gradient reaches the input through
 * pixab_engine_gradient_batch with layer -1, one batch for all the attacks
 * that run together). */
#include "adversarial.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "rng.h"

/* Seed streams: one per kind of random choice, so they do not shift each other. */
enum { STREAM_COUNT, STREAM_BOXES, STREAM_TARGETS };

static pixab_status check_setup(const pixab_engine *e, const pixab_preproc *pre) {
    const int s = pixab_engine_input_size(e);
    if (pre->size != s)
        return pixab_fail(PIXAB_ERR_ARG, "preprocessing is for %d x %d inputs, the engine's model takes %d x %d",
                          pre->size, pre->size, s, s);
    return PIXAB_OK;
}

static pixab_status check_target(const pixab_engine *e, int target) {
    if (target < 0 || target >= pixab_engine_num_classes(e))
        return pixab_fail(PIXAB_ERR_ARG, "target class %d out of range (the model has %d)", target, pixab_engine_num_classes(e));
    return PIXAB_OK;
}

/* top1, success and target_prob of r from one logit row (classes). */
static void judge(float *logits, int classes, int target, adv_result *r) {
    int top = 0;
    for (int j = 1; j < classes; j++)
        if (logits[j] > logits[top]) top = j;
    pixab_softmax(logits, 1, classes);
    r->top1 = top;
    r->success = top == target;
    r->target_prob = logits[target];
}

/* Classify x (S, S, 3) for each of n targets: r[i] with steps = 0. probs
 * (classes): the softmax. */
static pixab_status classify(pixab_engine *e, const float *x, const int *targets, int n, adv_result *r, float *probs) {
    const int classes = pixab_engine_num_classes(e);
    float *logits = malloc(sizeof(float) * (size_t)classes);
    if (!logits) return pixab_fail(PIXAB_ERR_NOMEM, "out of memory");
    pixab_status s = pixab_engine_forward(e, x, 1, logits);
    for (int i = 0; i < n && !s; i++) {
        memcpy(probs, logits, sizeof(float) * (size_t)classes);
        r[i] = (adv_result){0};
        judge(probs, classes, targets[i], &r[i]);
    }
    free(logits);
    return s;
}

/* d CE(logits, target) / d logits = softmax(logits) - onehot(target) of
 * image i, targets (the attacks' targets) = ctx. */
static void ce_seed(void *ctx, int image, const float *logits, int classes, float *d) {
    const int target = ((const int *)ctx)[image];
    memcpy(d, logits, sizeof(float) * (size_t)classes);
    pixab_softmax(d, 1, classes);
    d[target] -= 1.0f;
}

/* The step range of pixel values: eps, lo, hi per channel, in normalised units. */
typedef struct {
    float eps[3], lo[3], hi[3];
    int max_steps;
} fgsm_step;

/* One FGSM step on x (S, S, 3) inside mask (S, S) against gradient g. */
static void fgsm_apply(const fgsm_step *f, float *x, const float *g, const unsigned char *mask, int S) {
    for (size_t p = 0; p < (size_t)S * S; p++) {
        if (!mask[p]) continue;
        for (int c = 0; c < 3; c++) {
            float gv = g[p * 3 + c], v = x[p * 3 + c];
            v -= gv > 0.0f ? f->eps[c] : gv < 0.0f ? -f->eps[c] : 0.0f;
            x[p * 3 + c] = v < f->lo[c] ? f->lo[c] : v > f->hi[c] ? f->hi[c] : v;
        }
    }
}

/* Every attack's patches inside the image and its target a class. */
static pixab_status check_attacks(const pixab_engine *e, int S, const adv_attack *a, int n) {
    pixab_status s = PIXAB_OK;
    for (int i = 0; i < n && !s; i++) {
        if ((s = check_target(e, a[i].target))) break;
        if (a[i].n_boxes < 1) return pixab_fail(PIXAB_ERR_ARG, "FGSM needs at least one patch");
        for (int b = 0; b < a[i].n_boxes; b++) {
            const metrics_box *bx = &a[i].boxes[b];
            if (bx->x0 < 0 || bx->y0 < 0 || bx->x1 > S || bx->y1 > S || bx->x0 >= bx->x1 || bx->y0 >= bx->y1)
                return pixab_fail(PIXAB_ERR_ARG, "patch [%d,%d)x[%d,%d) is empty or outside the %d x %d image",
                                  bx->x0, bx->x1, bx->y0, bx->y1, S, S);
        }
    }
    return s;
}

pixab_status adv_fgsm_patches(pixab_engine *e, const pixab_preproc *pre, adv_attack *a, int n, const adv_fgsm_opts *o) {
    pixab_status s = check_setup(e, pre);
    if (s || (s = check_attacks(e, pre->size, a, n))) return s;
    const int S = pre->size, classes = pixab_engine_num_classes(e), mb = pixab_engine_max_batch(e);
    fgsm_step f = {.max_steps = o && o->max_steps > 0 ? o->max_steps : 100};
    const float eps_pix = o && o->eps > 0.0f ? o->eps : 4.0f / 255.0f;
    for (int c = 0; c < 3; c++) {
        f.eps[c] = eps_pix / pre->std[c];
        f.lo[c] = (0.0f - pre->mean[c]) / pre->std[c];
        f.hi[c] = (1.0f - pre->mean[c]) / pre->std[c];
    }
    const size_t image = (size_t)S * S * 3, chunk = (size_t)(n < mb ? n : mb);
    unsigned char *mask = calloc((size_t)S * S * (size_t)n, 1); /* (n, S, S): each attack's union of boxes */
    float *x = malloc(sizeof(float) * image * chunk), *g = malloc(sizeof(float) * image * chunk),
          *logits = malloc(sizeof(float) * (size_t)classes * chunk);
    int *active = malloc(sizeof(int) * (size_t)n), *targets = malloc(sizeof(int) * chunk), n_active = n;
    if (!mask || !x || !g || !logits || !active || !targets) {
        s = pixab_fail(PIXAB_ERR_NOMEM, "out of memory for FGSM on %d %d x %d images", n, S, S);
        goto done;
    }
    for (int i = 0; i < n; i++) {
        active[i] = i;
        a[i].r = (adv_result){0};
        for (int b = 0; b < a[i].n_boxes; b++)
            for (int y = a[i].boxes[b].y0; y < a[i].boxes[b].y1; y++)
                memset(mask + ((size_t)i * S + y) * S + a[i].boxes[b].x0, 1,
                       (size_t)(a[i].boxes[b].x1 - a[i].boxes[b].x0));
    }
    /* Rounds: the gradient of every unfinished attack, the engine's batch at a
     * time, then a step for each one not yet done (an attack ends as adv_fgsm_patch says). */
    while (n_active && !s) {
        int still = 0;
        for (int j0 = 0; j0 < n_active && !s; j0 += (int)chunk) {
            const int m = n_active - j0 < (int)chunk ? n_active - j0 : (int)chunk;
            for (int j = 0; j < m; j++) {
                memcpy(x + image * j, a[active[j0 + j]].x, sizeof(float) * image);
                targets[j] = a[active[j0 + j]].target;
            }
            if ((s = pixab_engine_gradient_batch(e, -1, x, m, ce_seed, targets, logits, g))) break;
            for (int j = 0; j < m; j++) {
                adv_attack *t = &a[active[j0 + j]];
                judge(logits + (size_t)classes * j, classes, t->target, &t->r);
                if (t->r.success || t->r.steps == f.max_steps) continue;
                fgsm_apply(&f, t->x, g + image * j, mask + (size_t)active[j0 + j] * S * S, S);
                t->r.steps++;
                active[still++] = active[j0 + j];
            }
        }
        n_active = still;
    }
done:
    free(mask);
    free(x);
    free(g);
    free(logits);
    free(active);
    free(targets);
    return s;
}

pixab_status adv_fgsm_patch(pixab_engine *e, const pixab_preproc *pre, float *x, const metrics_box *boxes, int n_boxes,
                            int target, const adv_fgsm_opts *o, adv_result *r) {
    adv_attack a = {.x = x, .boxes = boxes, .n_boxes = n_boxes, .target = target};
    pixab_status s = adv_fgsm_patches(e, pre, &a, 1, o);
    if (!s) *r = a.r;
    return s;
}

static int overlap(const metrics_box *a, const metrics_box *b) {
    return a->x0 < b->x1 && b->x0 < a->x1 && a->y0 < b->y1 && b->y0 < a->y1;
}

pixab_status adv_random_boxes(int size, int n, uint64_t seed, metrics_box *boxes) {
    if (n < 1 || n > ADV_MAX_PATCHES)
        return pixab_fail(PIXAB_ERR_ARG, "patch count %d out of range (1 to %d)", n, ADV_MAX_PATCHES);
    if (size < 1 || size > PIXAB_IMAGE_MAX_SIDE) return pixab_fail(PIXAB_ERR_ARG, "image size %d out of range", size);
    const int lo = (15 * size + 99) / 100, hi = 20 * size / 100; /* side in [15 %, 20 %] of S */
    if (lo > hi)
        return pixab_fail(PIXAB_ERR_ARG, "a %d x %d image has no patch side in [15%%, 20%%] of it", size, size);
    rng r = rng_make(seed, STREAM_BOXES);
    /* Rejection sampling, restarting the whole set when a patch finds no room. */
    for (int attempt = 0; attempt < 1000; attempt++) {
        int placed = 0;
        for (int tries = 0; placed < n && tries < 1000; tries++) {
            int side = rng_int(&r, lo, hi), x0 = rng_int(&r, 0, size - side), y0 = rng_int(&r, 0, size - side);
            metrics_box b = {x0, y0, x0 + side, y0 + side};
            int ok = 1;
            for (int i = 0; i < placed && ok; i++) ok = !overlap(&b, &boxes[i]);
            if (ok) boxes[placed++] = b;
        }
        if (placed == n) return PIXAB_OK;
    }
    return pixab_fail(PIXAB_ERR_ARG, "no room for %d non-overlapping patches in a %d x %d image", n, size, size);
}

/* dst's pixels in box b = src's (both (S, S, 3)). */
static void copy_box(float *dst, const float *src, int S, const metrics_box *b) {
    for (int y = b->y0; y < b->y1; y++) {
        size_t off = ((size_t)y * S + b->x0) * 3;
        memcpy(dst + off, src + off, sizeof(float) * 3 * (size_t)(b->x1 - b->x0));
    }
}

pixab_status adv_make_ae1(pixab_engine *e, const pixab_preproc *pre, const float *real, int target, int n_patches,
                          uint64_t seed, const adv_fgsm_opts *o, float *out, float *patch_image, adv_ae1 *r) {
    pixab_status s = check_setup(e, pre);
    if (s || (s = check_target(e, target))) return s;
    if (n_patches < 0 || n_patches > ADV_MAX_PATCHES)
        return pixab_fail(PIXAB_ERR_ARG, "patch count %d out of range (1 to %d, or 0 for random)", n_patches,
                          ADV_MAX_PATCHES);
    if (!n_patches) {
        rng count = rng_make(seed, STREAM_COUNT);
        n_patches = rng_int(&count, 1, ADV_MAX_PATCHES);
    }
    memset(r, 0, sizeof *r);
    r->target = target;
    r->n = n_patches;
    if ((s = adv_random_boxes(pre->size, n_patches, seed, r->boxes))) return s;
    const size_t n = (size_t)pre->size * pre->size * 3;
    float *zero = patch_image ? patch_image : malloc(sizeof(float) * n);
    if (!zero) return pixab_fail(PIXAB_ERR_NOMEM, "out of memory");
    memset(zero, 0, sizeof(float) * n);
    s = adv_fgsm_patch(e, pre, zero, r->boxes, r->n, target, o, &r->on_zero);
    float *probs = s ? NULL : malloc(sizeof(float) * (size_t)pixab_engine_num_classes(e));
    if (!s && !probs) s = pixab_fail(PIXAB_ERR_NOMEM, "out of memory");
    if (!s) {
        memcpy(out, real, sizeof(float) * n);
        for (int i = 0; i < r->n; i++) copy_box(out, zero, pre->size, &r->boxes[i]);
        s = classify(e, out, &target, 1, &r->on_real, probs);
    }
    free(probs);
    if (zero != patch_image) free(zero);
    return s;
}

pixab_status adv_make_ae2(pixab_engine *e, const pixab_preproc *pre, const int *targets, uint64_t seed,
                          const adv_fgsm_opts *o, float *out, adv_ae2 *r) {
    pixab_status s = check_setup(e, pre);
    if (s) return s;
    const int classes = pixab_engine_num_classes(e), K = ADV_AE2_PATCHES;
    if (classes < K) return pixab_fail(PIXAB_ERR_ARG, "AE2 needs %d classes, the model has %d", K, classes);
    memset(r, 0, sizeof *r);
    rng tr = rng_make(seed, STREAM_TARGETS);
    for (int i = 0; i < K; i++) {
        int t, dup;
        do {
            t = targets ? targets[i] : rng_int(&tr, 0, classes - 1);
            dup = 0;
            for (int j = 0; j < i; j++) dup |= r->targets[j] == t;
        } while (dup && !targets);
        if (dup) return pixab_fail(PIXAB_ERR_ARG, "AE2 targets must be distinct (class %d twice)", t);
        if ((s = check_target(e, t))) return s;
        r->targets[i] = t;
    }
    if ((s = adv_random_boxes(pre->size, K, seed, r->boxes))) return s;
    const size_t n = (size_t)pre->size * pre->size * 3;
    float *work = calloc(n * K, sizeof(float)), *probs = malloc(sizeof(float) * (size_t)classes);
    if (!work || !probs) {
        s = pixab_fail(PIXAB_ERR_NOMEM, "out of memory");
        goto done;
    }
    memset(out, 0, sizeof(float) * n);
    adv_attack at[ADV_AE2_PATCHES]; /* patch i on its own zero image work + i n */
    for (int i = 0; i < K; i++)
        at[i] = (adv_attack){.x = work + n * i, .boxes = &r->boxes[i], .n_boxes = 1, .target = r->targets[i]};
    s = adv_fgsm_patches(e, pre, at, K, o);
    for (int i = 0; i < K && !s; i++) {
        r->patch[i] = at[i].r;
        copy_box(out, at[i].x, pre->size, &r->boxes[i]);
    }
    if (!s) s = classify(e, out, r->targets, K, r->composite, probs);
    for (int i = 0; i < K && !s; i++) {
        int above = 0; /* classes strictly more probable than target i: its rank */
        for (int j = 0; j < classes; j++) above += probs[j] > probs[r->targets[i]];
        r->in_top4 += above < 4;
    }
done:
    free(work);
    free(probs);
    return s;
}
