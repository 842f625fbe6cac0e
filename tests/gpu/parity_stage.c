/* parity_stage.c — the GPU parity suite's rows for 8-bit images preprocessed
 * on the device (engine_forward_keep_images: each image staged and copied on
 * the backend's copy stream, backend.h's stage) against the CPU backend given
 * the host's preprocessing (pixab_image_preprocess, engine_forward_keep): the
 * activation at Mixed_7c and the logits of several batches in a row, of
 * different counts and sizes (more images than staging slots, slots regrown
 * inside a batch), a batch that fails part-way (after others were staged)
 * and, on CUDA, one whose staging allocation fails, each followed by a batch
 * that must come out right. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda_backend.h"
#include "engine.h"
#include "parity.h"

#define STAGE_MAX_BATCH 6

/* One image of a batch: its size and the seed of its pixels; w = 0: an image
 * without pixels (the batch fails at it). */
typedef struct {
    int w, h;
    unsigned long long seed;
} image_spec;

typedef struct {
    const char *what;
    int n;
    image_spec img[STAGE_MAX_BATCH];
    int fail_alloc;            /* CUDA only: the batch's first device allocation fails (a slot regrown) */
} batch_spec;

/* In order: every batch after the first reuses the slots the one before
 * filled. Slot i % BACKEND_STAGE_SLOTS takes image i. */
static const batch_spec batches[] = {
    {"3 images (one 299x299: no resize)", 3, {{299, 299, 1}, {640, 480, 2}, {33, 17, 3}}, 0},
    {"6 images (slots reused and regrown inside the batch)", 6,
     {{100, 80, 4}, {299, 299, 5}, {512, 384, 6}, {64, 64, 7}, {800, 600, 8}, {1, 1, 9}}, 0},
    {"6 images, the last without pixels", 6,
     {{300, 200, 10}, {299, 299, 11}, {90, 120, 12}, {640, 480, 13}, {1024, 768, 14}, {0, 0, 0}}, 0},
    {"2 images after the failed batch", 2, {{299, 299, 15}, {1024, 768, 16}}, 0},
    {"1 image whose slot's allocation fails", 1, {{1500, 1100, 17}}, 1},
    {"2 images after the failed allocation", 2, {{1500, 1100, 18}, {7, 300, 19}}, 0},
    {"3 images again (the first batch's)", 3, {{299, 299, 1}, {640, 480, 2}, {33, 17, 3}}, 0},
};

/* Deterministic pixels of spec sp into img (rgb NULL for w = 0); 0 on success. */
static int make_image(const image_spec *sp, pixab_image *img) {
    *img = (pixab_image){sp->w, sp->h, NULL};
    if (!sp->w) return 0;
    const size_t bytes = (size_t)sp->w * sp->h * 3;
    if (!(img->rgb = malloc(bytes))) return -1;
    parity_seed(sp->seed);
    for (size_t i = 0; i < bytes; i++) img->rgb[i] = (unsigned char)(127.5f * (parity_rand() + 1.0f));
    return 0;
}

/* Batch b on both engines: the status of the device path, its act and logits
 * against the CPU's given inputs preprocessed on the host. */
static void check_batch(const batch_spec *b, pixab_model *m, pixab_engine *ec, pixab_engine *eg, int layer,
                        size_t act_floats, int classes) {
    const pixab_preproc *pre = pixab_model_preproc(m);
    const size_t pixels = (size_t)pre->size * pre->size * 3;
    const int n = b->n, fails = b->img[n - 1].w == 0 || b->fail_alloc;
    pixab_image img[STAGE_MAX_BATCH];
    memset(img, 0, sizeof img);
    float *input = malloc(sizeof(float) * pixels * n), *ac = malloc(sizeof(float) * act_floats * n),
          *ag = malloc(sizeof(float) * act_floats * n), *lc = malloc(sizeof(float) * (size_t)classes * n),
          *lg = malloc(sizeof(float) * (size_t)classes * n);
    int bad = !input || !ac || !ag || !lc || !lg;
    for (int i = 0; i < n && !bad; i++) bad = make_image(&b->img[i], &img[i]);
    if (bad) {
        parity_recordf(INFINITY, 0.0, "staged images: %s: out of memory", b->what);
        goto done;
    }
    if (fails) { /* the status alone, then the next batch shows that nothing was left broken */
        if (b->fail_alloc && parity_self_test) goto done; /* no allocation failures on the CPU */
        if (b->fail_alloc) cuda_backend_fail_alloc(1);
        const pixab_status s = engine_forward_keep_images(eg, img, n, pre, layer, ag, lg);
        const int fired = b->fail_alloc ? cuda_backend_fail_alloc(0) : 0;
        const pixab_status want = b->fail_alloc ? PIXAB_ERR_NOMEM : PIXAB_ERR_ARG;
        if (s != want || (b->fail_alloc && fired != 1))
            fprintf(stderr, "gpu_parity: staged images: %s: %s (%s), %d allocation failure(s) injected\n", b->what,
                    pixab_status_name(s), pixab_last_error(), fired);
        parity_recordf(s == want && (!b->fail_alloc || fired == 1) ? 0.0 : INFINITY, 0.0,
                       "staged images: %s: %s", b->what, pixab_status_name(want));
        goto done;
    }
    for (int i = 0; i < n && !bad; i++) bad = pixab_image_preprocess(&img[i], pre, input + pixels * i) != PIXAB_OK;
    if (bad || engine_forward_keep(ec, input, n, layer, ac, lc)) {
        fprintf(stderr, "gpu_parity: staged images: %s: CPU reference: %s\n", b->what, pixab_last_error());
        parity_recordf(INFINITY, TOL_MODEL, "staged images: %s: CPU reference", b->what);
        goto done;
    }
    double ea = INFINITY, el = INFINITY;
    if (!engine_forward_keep_images(eg, img, n, pre, layer, ag, lg)) {
        ea = parity_rel_err(ag, ac, ac, act_floats * n);
        el = parity_rel_err(lg, lc, lc, (size_t)classes * n);
    } else {
        fprintf(stderr, "gpu_parity: staged images: %s: %s\n", b->what, pixab_last_error());
    }
    parity_recordf(ea, TOL_MODEL, "staged images: %s: Mixed_7c", b->what);
    parity_recordf(el, TOL_MODEL, "staged images: %s: logits", b->what);
done:
    for (int i = 0; i < n; i++) free(img[i].rgb);
    free(input), free(ac), free(ag), free(lc), free(lg);
}

void check_staged_images(const char *path) {
    pixab_model *m = NULL;
    pixab_engine *ec = NULL, *eg = NULL;
    int layer = -1, c = 0, h = 0, w = 0;
    if (pixab_model_load(path, &m) || pixab_engine_create(m, "cpu", STAGE_MAX_BATCH, &ec) ||
        pixab_engine_create(m, parity_gpu_device, STAGE_MAX_BATCH, &eg) ||
        (layer = pixab_model_find_layer(m, "Mixed_7c")) < 0 || pixab_model_layer_shape(m, layer, &c, &h, &w)) {
        fprintf(stderr, "gpu_parity: staged images (%s): %s\n", path, pixab_last_error());
        parity_recordf(INFINITY, 0.0, "staged images: engines");
        goto done;
    }
    for (size_t i = 0; i < sizeof batches / sizeof batches[0]; i++)
        check_batch(&batches[i], m, ec, eg, layer, (size_t)c * h * w, pixab_model_num_classes(m));
done:
    pixab_engine_destroy(ec);
    pixab_engine_destroy(eg);
    pixab_model_free(m);
}
