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
#ifdef PIXAB_WITH_ONNX
#include "onnx_import.h"
#endif
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

/* A metadata value by key (safetensors __metadata__, ONNX metadata_props), or NULL. */
typedef const char *(*meta_fn)(const void *file, const char *key);

/* m->pre from the file's metadata over the defaults in m->pre; class names. */
static pixab_status read_metadata(pixab_model *m, meta_fn meta, const void *file) {
    pixab_preproc *p = &m->pre;
    const char *v;
    pixab_status s;
    if ((v = meta(file, "pixab.mean")) && (s = pixab_parse_triple("pixab.mean", v, p->mean))) return s;
    if ((v = meta(file, "pixab.std")) && (s = pixab_parse_triple("pixab.std", v, p->std))) return s;
    if ((v = meta(file, "pixab.input_size"))) {
        char *end;
        long n = strtol(v, &end, 10);
        if (end == v || *end || n < 1 || n > PIXAB_IMAGE_MAX_SIDE)
            return pixab_fail(PIXAB_ERR_FORMAT, "metadata 'pixab.input_size' = \"%s\" is not a valid size", v);
        p->size = (int)n;
    }
    if ((s = check_preproc(p, "metadata"))) return pixab_fail_context(PIXAB_ERR_FORMAT, "checkpoint");
    if ((v = meta(file, "pixab.classes"))) {
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

static const char *st_meta(const void *st, const char *key) { return safetensors_meta(st, key); }

/* The loaders: the opener's errors name the file already, the others get it as context. */
static pixab_status load_safetensors(pixab_model *m, const char *path) {
    safetensors *st;
    pixab_status s = safetensors_open(path, &st);
    if (s) return s;
    m->pre = (pixab_preproc){.size = 299, .mean = {0.5f, 0.5f, 0.5f}, .std = {0.5f, 0.5f, 0.5f}};
    if (!(s = inception_v3_build(st, &m->g))) s = read_metadata(m, st_meta, st);
    safetensors_close(st);
    return s ? pixab_fail_context(s, "%s", path) : s;
}

#ifdef PIXAB_WITH_ONNX
static const char *onnx_meta_fn(const void *om, const char *key) { return onnx_meta(om, key); }

/* Defaults: torchvision's ImageNet mean and std; the input's static side, else 224. */
static pixab_status load_onnx(pixab_model *m, const char *path) {
    onnx_model *om;
    int size = 0;
    pixab_status s = onnx_open(path, &om);
    if (s) return s;
    if (!(s = onnx_build(om, &m->g, &size))) {
        m->pre = (pixab_preproc){.size = size ? size : 224, .mean = {0.485f, 0.456f, 0.406f},
                                 .std = {0.229f, 0.224f, 0.225f}};
        s = read_metadata(m, onnx_meta_fn, om);
    }
    onnx_close(om);
    return s ? pixab_fail_context(s, "%s", path) : s;
}
#else
static pixab_status load_onnx(pixab_model *m, const char *path) {
    return pixab_fail_context(
        pixab_fail(PIXAB_ERR_UNSUPPORTED, "this build of pixab reads no ONNX models (built with PIXAB_ONNX=OFF)"),
        "%s", path);
}
#endif

/* A name ending in .onnx (any case) is an ONNX model, anything else safetensors. */
static int is_onnx(const char *path) {
    size_t n = strlen(path);
    if (n < 5) return 0;
    const char *e = path + n - 5, *want = ".onnx";
    for (int i = 0; i < 5; i++)
        if ((e[i] | 0x20) != want[i] && e[i] != want[i]) return 0;
    return 1;
}

pixab_status pixab_model_load(const char *path, pixab_model **out) {
    *out = NULL;
    if (!path) return pixab_fail(PIXAB_ERR_ARG, "pixab_model_load: path is NULL");
    pixab_model *m = calloc(1, sizeof *m);
    if (!m) return pixab_fail(PIXAB_ERR_NOMEM, "out of memory");
    pixab_status s = is_onnx(path) ? load_onnx(m, path) : load_safetensors(m, path);
    if (!s && (s = graph_infer_shapes(&m->g, m->pre.size))) pixab_fail_context(s, "%s", path);
    if (s) {
        pixab_model_free(m);
        return s;
    }
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

const char *pixab_model_layer_op(const pixab_model *m, int layer) {
    static const char *const kinds[] = {[OP_CONV] = "conv", [OP_MAXPOOL] = "maxpool", [OP_AVGPOOL] = "avgpool",
                                        [OP_ADD] = "add", [OP_MUL] = "mul", [OP_ACT] = "activation", [OP_PAD] = "pad",
                                        [OP_GAP] = "gap", [OP_FC] = "fc"};
    if (layer < 0 || layer >= m->g.n_layers) return NULL;
    const graph_layer *l = &m->g.layers[layer];
    int writers = 0, last = -1;
    for (int i = 0; i < l->end_op; i++) /* a concatenation's slices may be written before the previous layer */
        if (m->g.ops[i].dst == l->out) writers++, last = i;
    return writers > 1 ? "concat" : last < 0 ? NULL : kinds[m->g.ops[last].kind];
}

int pixab_model_find_layer(const pixab_model *m, const char *name) {
    for (int l = 0; l < m->g.n_layers; l++)
        if (!strcmp(m->g.layers[l].name, name)) return l;
    const graph *g = &m->g;
    pixab_fail(PIXAB_ERR_ARG, "unknown layer '%s' (expected %s ... %s, %s or %s)", name, g->layers[0].name,
               g->layers[g->default_layer].name, g->layers[g->n_layers - 2].name, g->layers[g->n_layers - 1].name);
    return -1;
}

int pixab_model_default_layer(const pixab_model *m) { return m->g.default_layer; }

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
