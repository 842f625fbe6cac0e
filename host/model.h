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

#endif
