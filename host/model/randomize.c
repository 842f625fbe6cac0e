/* randomize.c — pixab_model_randomize, the cascading randomisation of the
 * sanity check (pixab.h): a deep copy of the model, then Gaussian redraws of
 * the top layers' weights, as the model holds them (BN folded). */
#include <math.h>

#include "error.h"
#include "model.h"
#include "rng.h"

/* v (n) <- N(mean(v), std(v)^2) draws from stream r. */
static void redraw(float *v, size_t n, rng *r) {
    if (!n) return;
    double sum = 0.0, sq = 0.0;
    for (size_t i = 0; i < n; i++) sum += v[i];
    const double mean = sum / (double)n;
    for (size_t i = 0; i < n; i++) sq += (v[i] - mean) * (v[i] - mean);
    const double sd = sqrt(sq / (double)n);
    for (size_t i = 0; i < n; i++) v[i] = (float)(mean + sd * rng_gauss(r));
}

pixab_status pixab_model_randomize(const pixab_model *m, int from_layer, uint64_t seed, pixab_model **out) {
    *out = NULL;
    const graph *g = &m->g;
    if (from_layer < 0 || from_layer > g->n_layers)
        return pixab_fail(PIXAB_ERR_ARG, "randomisation from layer %d: out of range (0 to %d)", from_layer,
                          g->n_layers);
    pixab_model *c;
    pixab_status s = model_copy(m, &c);
    if (s) return s;
    const int first = from_layer < g->n_layers ? graph_layer_begin(g, from_layer) : g->n_ops;
    for (int i = first; i < g->n_ops; i++) {
        const graph_op *o = &c->g.ops[i];
        if (o->kind != OP_CONV && o->kind != OP_FC) continue;
        rng w = rng_make(seed, 2 * (uint64_t)i), b = rng_make(seed, 2 * (uint64_t)i + 1);
        redraw(c->g.params + o->w_off, graph_op_weights(o), &w);
        redraw(c->g.params + o->b_off, (size_t)o->c_out, &b);
    }
    *out = c;
    return PIXAB_OK;
}
