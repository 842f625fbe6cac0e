/* explain_compare.h — pixab_explain_batch against pixab_explain of each image
 * alone, for the Criterion tests that check batched explanations against the
 * per-image path (test_methods.c, test_gradient_batch.c). */
#ifndef PIXAB_TESTS_EXPLAIN_COMPARE_H
#define PIXAB_TESTS_EXPLAIN_COMPARE_H

#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

#include "pixab.h"

/* inputs (n, S, S, 3) explained with methods ms (m) and options o in one
 * pixab_explain_batch on `batched` (classes cls, n of them) and one
 * pixab_explain per image on `alone` (o->cls = cls[i]). Every map pair must
 * agree in method, class, score kind and size. err (n * m, image-major):
 * max |batched - alone| of each map; top (n * m, or NULL): max of the alone
 * map (1 unless the map is all zeros). */
static inline void explain_batch_vs_alone(pixab_engine *batched, pixab_engine *alone, const float *inputs, int n,
                                          const pixab_method *ms, int m, const pixab_explain_opts *o, const int *cls,
                                          float *err, float *top) {
    const size_t pixels = (size_t)pixab_engine_input_size(alone) * pixab_engine_input_size(alone) * 3;
    pixab_map *b = malloc(sizeof *b * (size_t)n * m), *a = malloc(sizeof *a * (size_t)m);
    cr_assert(b && a);
    cr_assert_eq(pixab_explain_batch(batched, inputs, n, ms, m, o, cls, b), PIXAB_OK, "%s", pixab_last_error());
    pixab_explain_opts one = *o;
    for (int i = 0; i < n; i++) {
        one.cls = cls[i];
        cr_assert_eq(pixab_explain(alone, inputs + pixels * i, ms, m, &one, a), PIXAB_OK, "%s", pixab_last_error());
        for (int j = 0; j < m; j++) {
            const pixab_map *x = &b[i * m + j], *y = &a[j];
            float d = 0.0f, mx = 0.0f;
            cr_assert(x->method == ms[j] && y->method == ms[j] && x->cls == y->cls && x->score_kind == y->score_kind &&
                          x->h == y->h && x->w == y->w,
                      "image %d %s: the batched map is not of the same kind", i, pixab_method_name(ms[j]));
            for (int p = 0; p < y->h * y->w; p++) d = fmaxf(d, fabsf(x->map[p] - y->map[p])), mx = fmaxf(mx, y->map[p]);
            err[i * m + j] = d;
            if (top) top[i * m + j] = mx;
            pixab_map_free(&a[j]);
        }
    }
    for (int i = 0; i < n * m; i++) pixab_map_free(&b[i]);
    free(a);
    free(b);
}

#endif
