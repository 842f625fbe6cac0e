/* model.h — the inside of pixab_model, shared by the engine and the methods. */
#ifndef PIXAB_MODEL_H
#define PIXAB_MODEL_H

#include "graph.h"
#include "pixab.h"

struct pixab_model {
    graph g;              /* shapes inferred for pre.size */
    pixab_preproc pre;
    char *class_text;     /* owns the names */
    char **class_names;   /* (classes) or NULL */
};

/* *out = an independent deep copy of m (graph and weights, preprocessing,
 * class names), freed with pixab_model_free. */
pixab_status model_copy(const pixab_model *m, pixab_model **out);

#endif
