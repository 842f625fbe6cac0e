/* model.c — pixab_model: a checkpoint loaded into a graph plus what its
 * metadata says about preprocessing and class names (public API, pixab.h). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "graph.h"
#include "inception_v3.h"
#include "model.h"
#include "preprocess.cuh"
#include "safetensors.h"

static pixab_status check_preproc(const pixab_preproc *p, const char *where) {
    char why[192];
    if (preprocess_check(why, sizeof why, 1, 1, p)) return pixab_fail(PIXAB_ERR_ARG, "%s: %s", where, why);
    return PIXAB_OK;
}

pixab_status pixab_parse_triple(const char *what, const char *text, float v[3]) {
    const char *p = text;
    int n = 0;
    while (n < 3) {
        char *end;
        errno = 0;
        float x = strtof(p, &end);
        if (end == p) break;
        if (errno || !isfinite(x)) /* overflow, underflow to a denormal or zero, inf, nan */
            return pixab_fail(PIXAB_ERR_FORMAT, "'%s' = \"%s\": %.*s is not a usable float32 number", what, text,
                              (int)(end - p), p);
        v[n++] = x;
        while (*end == ' ') end++;
        if (*end != ',') { p = end; break; }
        p = end + 1;
    }
    while (*p == ' ') p++;
    if (*p || (n != 1 && n != 3))
        return pixab_fail(PIXAB_ERR_FORMAT, "'%s' = \"%s\": expected 1 or 3 comma-separated numbers", what,
                          text);
    if (n == 1) v[1] = v[2] = v[0];
    return PIXAB_OK;
}

static pixab_status read_metadata(pixab_model *m, const safetensors *st) {
    pixab_preproc *p = &m->pre;
    *p = (pixab_preproc){.size = 299, .mean = {0.5f, 0.5f, 0.5f}, .std = {0.5f, 0.5f, 0.5f}};
    const char *v;
    pixab_status s;
    if ((v = safetensors_meta(st, "pixab.mean")) && (s = pixab_parse_triple("pixab.mean", v, p->mean))) return s;
    if ((v = safetensors_meta(st, "pixab.std")) && (s = pixab_parse_triple("pixab.std", v, p->std))) return s;
    if ((v = safetensors_meta(st, "pixab.input_size"))) {
        char *end;
        long n = strtol(v, &end, 10);
        if (end == v || *end || n < 1 || n > PIXAB_IMAGE_MAX_SIDE)
            return pixab_fail(PIXAB_ERR_FORMAT, "metadata 'pixab.input_size' = \"%s\" is not a valid size", v);
        p->size = (int)n;
    }
    if ((s = check_preproc(p, "metadata"))) return pixab_fail_context(PIXAB_ERR_FORMAT, "checkpoint");
    if ((v = safetensors_meta(st, "pixab.classes"))) {
        int classes = pixab_model_num_classes(m), n = 1;
        for (const char *c = v; *c; c++) n += *c == ',';
        if (n != classes)
            return pixab_fail(PIXAB_ERR_FORMAT, "metadata 'pixab.classes' has %d names for %d classes", n, classes);
        m->class_text = malloc(strlen(v) + 1);
        m->class_names = malloc(sizeof(char *) * (size_t)n);
        if (!m->class_text || !m->class_names) return pixab_fail(PIXAB_ERR_NOMEM, "out of memory for class names");
        strcpy(m->class_text, v);
        char *c = m->class_text;
        for (int i = 0; i < n; i++) {
            m->class_names[i] = c;
            c = strchr(c, ',');
            if (c) *c++ = '\0';
        }
    }
    return PIXAB_OK;
}

pixab_status pixab_model_load(const char *path, pixab_model **out) {
    *out = NULL;
    safetensors *st;
    pixab_status s = safetensors_open(path, &st);
    if (s) return s;
    pixab_model *m = calloc(1, sizeof *m);
    if (!m) {
        safetensors_close(st);
        return pixab_fail(PIXAB_ERR_NOMEM, "out of memory");
    }
    if ((s = inception_v3_build(st, &m->g)) || (s = read_metadata(m, st)) ||
        (s = graph_infer_shapes(&m->g, m->pre.size))) {
        pixab_fail_context(s, "%s", path);
        safetensors_close(st);
        pixab_model_free(m);
        return s;
    }
    safetensors_close(st);
    *out = m;
    return PIXAB_OK;
}

void pixab_model_free(pixab_model *m) {
    if (!m) return;
    graph_free(&m->g);
    free(m->class_text);
    free(m->class_names);
    free(m);
}

pixab_status model_copy(const pixab_model *m, pixab_model **out) {
    *out = NULL;
    pixab_model *c = calloc(1, sizeof *c);
    if (!c) return pixab_fail(PIXAB_ERR_NOMEM, "out of memory");
    pixab_status s = graph_copy(&c->g, &m->g);
    if (s) {
        free(c);
        return s;
    }
    c->pre = m->pre;
    if (m->class_text) {
        /* The names are consecutive NUL-terminated strings in class_text. */
        int n = pixab_model_num_classes(m);
        size_t bytes = (size_t)(m->class_names[n - 1] - m->class_text) + strlen(m->class_names[n - 1]) + 1;
        c->class_text = malloc(bytes);
        c->class_names = malloc(sizeof(char *) * (size_t)n);
        if (!c->class_text || !c->class_names) {
            pixab_model_free(c);
            return pixab_fail(PIXAB_ERR_NOMEM, "out of memory for class names");
        }
        memcpy(c->class_text, m->class_text, bytes);
        for (int i = 0; i < n; i++) c->class_names[i] = c->class_text + (m->class_names[i] - m->class_text);
    }
    *out = c;
    return PIXAB_OK;
}

int pixab_model_num_classes(const pixab_model *m) {
    const graph_layer *fc = &m->g.layers[m->g.n_layers - 1];
    return m->g.tensors[fc->out].c;
}

const pixab_preproc *pixab_model_preproc(const pixab_model *m) { return &m->pre; }

pixab_status pixab_model_set_preproc(pixab_model *m, const pixab_preproc *p) {
    pixab_status s = check_preproc(p, "preprocessing");
    if (s) return s;
    if ((s = graph_infer_shapes(&m->g, p->size))) {
        graph_infer_shapes(&m->g, m->pre.size); /* keep the model as it was */
        return s;
    }
    m->pre = *p;
    return PIXAB_OK;
}

const char *pixab_model_class_name(const pixab_model *m, int cls) {
    if (!m->class_names || cls < 0 || cls >= pixab_model_num_classes(m)) return NULL;
    return m->class_names[cls];
}

int pixab_model_num_layers(const pixab_model *m) { return m->g.n_layers; }

const char *pixab_model_layer_name(const pixab_model *m, int layer) {
    return layer >= 0 && layer < m->g.n_layers ? m->g.layers[layer].name : NULL;
}

int pixab_model_find_layer(const pixab_model *m, const char *name) {
    for (int l = 0; l < m->g.n_layers; l++)
        if (!strcmp(m->g.layers[l].name, name)) return l;
    pixab_fail(PIXAB_ERR_ARG, "unknown layer '%s' (expected Conv2d_1a_3x3 ... maxpool2, Mixed_5b ... Mixed_7c, "
                              "avgpool or fc)", name);
    return -1;
}

size_t pixab_model_layer_num_params(const pixab_model *m, int layer) {
    if (layer < 0 || layer >= m->g.n_layers) return 0;
    size_t n = 0;
    for (int i = graph_layer_begin(&m->g, layer); i < m->g.layers[layer].end_op; i++) {
        const size_t w = graph_op_weights(&m->g.ops[i]);
        n += w ? w + (size_t)m->g.ops[i].c_out : 0;
    }
    return n;
}

pixab_status pixab_model_layer_shape(const pixab_model *m, int layer, int *c, int *h, int *w) {
    if (layer < 0 || layer >= m->g.n_layers) return pixab_fail(PIXAB_ERR_ARG, "layer index %d out of range", layer);
    const tshape *t = &m->g.tensors[m->g.layers[layer].out];
    *c = t->c;
    *h = t->h;
    *w = t->w;
    return PIXAB_OK;
}
