/* onnx_import.c — an ONNX model (parsed by the protobuf-c code generated at
 * build time from Debian's onnx.proto) imported into pixab's NHWC op list.
 * Values (ONNX tensor names) map to pixab tensors; BatchNormalization folds
 * into the convolutions that produce its input, Relu too where it can (else
 * an activation op), a zero Pad into the Conv that reads it (else a padding
 * op), a Concat redirects its inputs' producers into channel slices of one
 * tensor, Flatten / Reshape / Dropout / Identity alias; Add, Mul and the
 * activations (Clip, Sigmoid, HardSigmoid, HardSwish) are ops of their own.
 * Every count, index, dtype, shape and attribute is checked; errors are one
 * line naming the node. See onnx_import.h. */
#include "onnx_import.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "eltwise.cuh"
#include "error.h"
#include "onnx.pb-c.h"
#include "safetensors.h"

#define ONNX_MAX_FILE ((size_t)2 << 30) /* protobuf's own limit: 2 GiB */
#define ONNX_MAX_VALUES 1000000         /* tensor names in one graph */
#define ONNX_MAX_CHANNELS 65536
#define ONNX_MAX_KERNEL 255
#define ONNX_MAX_STRIDE 64
#define ONNX_MAX_PAD 255
#define ONNX_MAX_NUMEL ((int64_t)1 << 31) /* elements of one initializer */
#define ONNX_OPSET_MIN 11
#define ONNX_OPSET_MAX 17

struct onnx_model {
    Onnx__ModelProto *m;
};

static const char *str(const char *s) { return s ? s : ""; }

/* ---- the file -------------------------------------------------------------- */

pixab_status onnx_parse(const void *buf, size_t size, onnx_model **out) {
    *out = NULL;
    if (!size) return pixab_fail(PIXAB_ERR_FORMAT, "ONNX: the file is empty");
    if (size > ONNX_MAX_FILE) return pixab_fail(PIXAB_ERR_FORMAT, "ONNX: %zu bytes is over protobuf's 2 GiB", size);
    Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, size, buf);
    if (!m) return pixab_fail(PIXAB_ERR_FORMAT, "ONNX: not a valid ModelProto (truncated or corrupt protobuf)");
    pixab_status s = PIXAB_OK;
    int64_t opset = -1;
    for (size_t i = 0; i < m->n_opset_import; i++) {
        const Onnx__OperatorSetIdProto *o = m->opset_import[i];
        if (!strcmp(str(o->domain), "") || !strcmp(o->domain, "ai.onnx")) opset = o->has_version ? o->version : -1;
    }
    if (!m->graph)
        s = pixab_fail(PIXAB_ERR_FORMAT, "ONNX: the model has no graph");
    else if (opset < 0)
        s = pixab_fail(PIXAB_ERR_FORMAT, "ONNX: the model imports no version of the default (ai.onnx) opset");
    else if (opset < ONNX_OPSET_MIN || opset > ONNX_OPSET_MAX)
        s = pixab_fail(PIXAB_ERR_UNSUPPORTED, "ONNX: opset %lld is not supported (%d to %d are)", (long long)opset,
                       ONNX_OPSET_MIN, ONNX_OPSET_MAX);
    if (s) {
        onnx__model_proto__free_unpacked(m, NULL);
        return s;
    }
    if (!(*out = malloc(sizeof **out))) {
        onnx__model_proto__free_unpacked(m, NULL);
        return pixab_fail(PIXAB_ERR_NOMEM, "out of memory");
    }
    (*out)->m = m;
    return PIXAB_OK;
}

pixab_status onnx_open(const char *path, onnx_model **out) {
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return pixab_fail(PIXAB_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return pixab_fail(PIXAB_ERR_IO, "'%s' is not a regular file", path);
    }
    size_t size = (size_t)sb.st_size, got = 0;
    if ((uint64_t)sb.st_size > ONNX_MAX_FILE) {
        close(fd);
        return pixab_fail(PIXAB_ERR_FORMAT, "%s: ONNX: %lld bytes is over protobuf's 2 GiB", path,
                          (long long)sb.st_size);
    }
    unsigned char *buf = malloc(size ? size : 1);
    if (!buf) {
        close(fd);
        return pixab_fail(PIXAB_ERR_NOMEM, "out of memory for '%s' (%zu bytes)", path, size);
    }
    while (got < size) {
        ssize_t r = read(fd, buf + got, size - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += (size_t)r;
    }
    close(fd);
    pixab_status s = got == size ? onnx_parse(buf, size, out)
                                 : pixab_fail(PIXAB_ERR_IO, "cannot read '%s': %s", path, strerror(errno));
    free(buf);
    return s && got == size ? pixab_fail_context(s, "%s", path) : s;
}

void onnx_close(onnx_model *om) {
    if (!om) return;
    onnx__model_proto__free_unpacked(om->m, NULL);
    free(om);
}

const char *onnx_meta(const onnx_model *om, const char *key) {
    for (size_t i = 0; i < om->m->n_metadata_props; i++)
        if (!strcmp(str(om->m->metadata_props[i]->key), key)) return str(om->m->metadata_props[i]->value);
    return NULL;
}

/* ---- values: ONNX tensor names --------------------------------------------- */

typedef enum { V_CONST, V_ACT } value_kind;

typedef struct {
    const char *name;
    value_kind kind;
    const Onnx__TensorProto *t; /* V_CONST */
    int tensor;                 /* V_ACT: pixab tensor (shared by aliases) */
    int c, rank;                /* channels; 4 (N, C, H, W) or 2 (N, C) */
    int pooled;                 /* 1x1 at every input size (after global pooling) */
    int flat;                   /* a spatial tensor flattened to (N, C H W): only a Gemm / MatMul reads it */
    int pad[4];                 /* a zero Pad not yet folded into its reader: top, left, bottom, right */
    const char *pad_node;       /* that Pad's name */
    int uses;                   /* node inputs and graph outputs naming it (aliases add theirs) */
} value;

/* Names -> indices, open addressing (slot -1: empty). */
typedef struct {
    int *slot;
    size_t mask;
    const char **names; /* (cap) */
    int n, cap;
} name_index;

typedef struct {
    graph *g;
    const Onnx__GraphProto *gp;
    value *v;          /* (vals.cap): v[i].name == vals.names[i] */
    name_index vals;   /* defined so far */
    name_index counts; /* every name a node reads or the graph outputs */
    int *readers;      /* (counts.cap): how often */
    size_t params_cap;           /* floats allocated in g->params */
    const char **tensor_name;    /* per pixab tensor: the ONNX name that last finished it */
    int tensor_name_cap;
    const Onnx__NodeProto *node; /* being imported (for messages) */
    char *done;                  /* per node: folded into an earlier one */
    pixab_status err;
} importer;

static uint64_t hash_name(const char *s) {
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static pixab_status index_init(name_index *x, size_t cap) {
    size_t slots = 16;
    while (slots < 2 * cap) slots *= 2;
    x->mask = slots - 1;
    x->n = 0;
    x->cap = (int)cap;
    x->slot = malloc(sizeof(int) * slots);
    x->names = malloc(sizeof(char *) * (cap + 1));
    if (!x->slot || !x->names) return pixab_fail(PIXAB_ERR_NOMEM, "out of memory");
    memset(x->slot, -1, sizeof(int) * slots);
    return PIXAB_OK;
}

static void index_free(name_index *x) {
    free(x->slot);
    free(x->names);
}

/* Index of name, or -1; with add, entered when absent (-1 when full). */
static int index_find(name_index *x, const char *name, int add) {
    size_t i = hash_name(name) & x->mask;
    for (; x->slot[i] >= 0; i = (i + 1) & x->mask)
        if (!strcmp(x->names[x->slot[i]], name)) return x->slot[i];
    if (!add || x->n >= x->cap) return -1;
    x->names[x->n] = name;
    return x->slot[i] = x->n++;
}

static int find(importer *im, const char *name) { return index_find(&im->vals, name, 0); }

/* How many node inputs and graph outputs name it. */
static int readers_of(importer *im, const char *name) {
    int k = index_find(&im->counts, name, 0);
    return k < 0 ? 0 : im->readers[k];
}

/* One-line error about the current node: "node 'NAME' (Conv): ...". */
static pixab_status fail(importer *im, pixab_status s, const char *fmt, ...) PIXAB_PRINTF(3, 4);
static pixab_status fail(importer *im, pixab_status s, const char *fmt, ...) {
    char why[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    if (im->err) return im->err; /* keep the first reason */
    if (im->node)
        im->err = pixab_fail(s, "ONNX node '%.100s' (%.40s): %s", str(im->node->name), str(im->node->op_type), why);
    else
        im->err = pixab_fail(s, "ONNX: %s", why);
    return im->err;
}

static value *define(importer *im, const char *name) {
    if (!name || !*name) {
        fail(im, PIXAB_ERR_FORMAT, "an output has no name");
        return NULL;
    }
    if (find(im, name) >= 0) {
        fail(im, PIXAB_ERR_FORMAT, "tensor '%.100s' is defined twice", name);
        return NULL;
    }
    int k = index_find(&im->vals, name, 1);
    if (k < 0) {
        fail(im, PIXAB_ERR_FORMAT, "more tensors than names");
        return NULL;
    }
    value *v = &im->v[k];
    memset(v, 0, sizeof *v);
    v->name = name;
    v->tensor = -1;
    v->uses = readers_of(im, name);
    return v;
}

static int new_tensor(importer *im, const char *name);

/* v's pending zero Pad as an op of its own (read by other than a Conv, which
 * folds it): v then names the padded tensor. */
static void materialize_pad(importer *im, value *v) {
    if (im->err) return;
    const int t = new_tensor(im, v->name);
    if (t < 0) return;
    graph_op op = {.kind = OP_PAD, .src = v->tensor, .dst = t, .c_in = v->c, .c_out = v->c, .k_h = 1, .k_w = 1,
                   .s_h = 1, .s_w = 1, .p_h = v->pad[0], .p_w = v->pad[1], .e_h = v->pad[2] - v->pad[0],
                   .e_w = v->pad[3] - v->pad[1]};
    snprintf(op.name, sizeof op.name, "%s", str(v->pad_node));
    if (graph_add_op(im->g, &op) < 0) {
        fail(im, PIXAB_ERR_NOMEM, "out of memory building the graph");
        return;
    }
    v->tensor = t;
    memset(v->pad, 0, sizeof v->pad);
}

static const Onnx__AttributeProto *attr(importer *im, const char *name, Onnx__AttributeProto__AttributeType type);

/* Whether the current node takes a pending zero Pad of its input as its own
 * padding: a Conv, or an AveragePool that counts its padding (or has none),
 * as ONNX counts the Pad's zeros (what torch.onnx writes for avg_pool2d(...,
 * padding=1)). */
static int pad_folds(importer *im) {
    const char *op = str(im->node->op_type);
    if (!strcmp(op, "Conv")) return 1;
    if (strcmp(op, "AveragePool")) return 0;
    const Onnx__AttributeProto *inc = attr(im, "count_include_pad", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
    const Onnx__AttributeProto *pads = attr(im, "pads", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
    int own = 0;
    for (size_t i = 0; pads && i < pads->n_ints; i++) own |= pads->ints[i] != 0;
    return (inc && inc->i) || !own;
}

/* Input k of the current node: defined before it, of the kind wanted. */
static value *input(importer *im, int k, value_kind kind) {
    const Onnx__NodeProto *n = im->node;
    if (im->err) return NULL;
    if ((size_t)k >= n->n_input || !*str(n->input[k])) {
        fail(im, PIXAB_ERR_FORMAT, "input %d is missing", k);
        return NULL;
    }
    int i = find(im, n->input[k]);
    if (i < 0) {
        fail(im, PIXAB_ERR_FORMAT, "input '%.100s' is not defined before the node (nodes must be in topological "
                                   "order)", n->input[k]);
        return NULL;
    }
    value *v = &im->v[i];
    if (v->kind == V_ACT && kind == V_ACT && (v->pad[0] || v->pad[1] || v->pad[2] || v->pad[3]) && !pad_folds(im))
        materialize_pad(im, v);
    if (v->flat && strcmp(str(n->op_type), "Gemm") && strcmp(str(n->op_type), "MatMul") &&
        strcmp(str(n->op_type), "Dropout") && strcmp(str(n->op_type), "Identity")) {
        fail(im, PIXAB_ERR_UNSUPPORTED, "reads '%.100s', a flattened tensor with spatial extent (only a Gemm or a "
                                        "MatMul can)", v->name);
        return NULL;
    }
    if (v->kind != kind) {
        fail(im, PIXAB_ERR_UNSUPPORTED, "input '%.100s' must be %s", v->name,
             kind == V_CONST ? "an initializer or a Constant (weights computed in the graph are not supported)"
                             : "computed by the graph, not a constant");
        return NULL;
    }
    return im->err ? NULL : v;
}

/* The node's only output (more outputs are an error unless unnamed or unused). */
static value *output(importer *im) {
    const Onnx__NodeProto *n = im->node;
    if (im->err) return NULL;
    if (n->n_output < 1) {
        fail(im, PIXAB_ERR_FORMAT, "has no output");
        return NULL;
    }
    for (size_t k = 1; k < n->n_output; k++) /* an optional output nobody reads (Dropout's mask) */
        if (*str(n->output[k]) && readers_of(im, n->output[k])) {
            fail(im, PIXAB_ERR_UNSUPPORTED, "its output %zu ('%.100s') is used: not supported", k, n->output[k]);
            return NULL;
        }
    return define(im, n->output[0]);
}

/* out = an alias of v's tensor, inheriting v's other readers (so a fold into
 * the producers stays safe). */
static void alias(importer *im, value *out, const value *v, int rank) {
    if (!out || !v) return;
    out->kind = V_ACT;
    out->tensor = v->tensor;
    out->c = v->c;
    out->rank = rank;
    out->pooled = v->pooled;
    out->flat = v->flat;
    memcpy(out->pad, v->pad, sizeof out->pad);
    out->pad_node = v->pad_node;
    out->uses += v->uses - 1;
}

/* ---- attributes ------------------------------------------------------------ */

static const Onnx__AttributeProto *attr(importer *im, const char *name, Onnx__AttributeProto__AttributeType type) {
    const Onnx__NodeProto *n = im->node;
    for (size_t i = 0; i < n->n_attribute; i++) {
        const Onnx__AttributeProto *a = n->attribute[i];
        if (strcmp(str(a->name), name)) continue;
        if (!a->has_type || a->type != type) {
            fail(im, PIXAB_ERR_FORMAT, "attribute '%s' has the wrong type", name);
            return NULL;
        }
        return a;
    }
    return NULL;
}

static int64_t attr_int(importer *im, const char *name, int64_t def) {
    const Onnx__AttributeProto *a = attr(im, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
    return a ? a->i : def;
}

static float attr_float(importer *im, const char *name, float def) {
    const Onnx__AttributeProto *a = attr(im, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
    return a ? a->f : def;
}

/* INTS attribute of exactly n entries into out (left as is when absent). */
static void attr_ints(importer *im, const char *name, size_t n, int64_t *out) {
    const Onnx__AttributeProto *a = attr(im, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
    if (!a) return;
    if (a->n_ints != n) {
        fail(im, PIXAB_ERR_UNSUPPORTED, "attribute '%s' has %zu values, expected %zu (2-D images)", name, a->n_ints, n);
        return;
    }
    memcpy(out, a->ints, n * sizeof *out);
}

/* STRING attribute equal to one of the accepted values (the first is the default). */
static int attr_is(importer *im, const char *name, const char *ok1, const char *ok2) {
    const Onnx__AttributeProto *a = attr(im, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING);
    if (!a) return 1;
    size_t len = a->s.len;
    if ((len == strlen(ok1) && !memcmp(a->s.data, ok1, len)) ||
        (ok2 && len == strlen(ok2) && !memcmp(a->s.data, ok2, len)))
        return 1;
    fail(im, PIXAB_ERR_UNSUPPORTED, "%s = '%.*s' is not supported", name, (int)(len < 40 ? len : 40),
         (const char *)a->s.data);
    return 0;
}

/* ---- initializers ---------------------------------------------------------- */

/* Elements of t (its dims checked), or -1 after an error. */
static int64_t numel(importer *im, const Onnx__TensorProto *t) {
    int64_t n = 1;
    if (t->n_dims > 8) {
        fail(im, PIXAB_ERR_FORMAT, "tensor '%.100s' has %zu dimensions", str(t->name), t->n_dims);
        return -1;
    }
    for (size_t i = 0; i < t->n_dims; i++) {
        if (t->dims[i] < 0 || t->dims[i] > ONNX_MAX_NUMEL || (t->dims[i] && n > ONNX_MAX_NUMEL / t->dims[i])) {
            fail(im, PIXAB_ERR_FORMAT, "tensor '%.100s' has a bad size (dimension %zu = %lld)", str(t->name), i,
                 (long long)t->dims[i]);
            return -1;
        }
        n *= t->dims[i];
    }
    return n;
}

/* Its data where the proto holds it: raw bytes of `size` each, or n typed entries. */
static pixab_status check_data(importer *im, const Onnx__TensorProto *t) {
    if (t->has_data_location && t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL)
        return fail(im, PIXAB_ERR_UNSUPPORTED, "tensor '%.100s' keeps its data in an external file: not supported "
                                               "(save the model with all tensors inside the .onnx file)",
                    str(t->name));
    if (t->segment) return fail(im, PIXAB_ERR_UNSUPPORTED, "tensor '%.100s' is segmented", str(t->name));
    int64_t n = numel(im, t);
    if (n < 0) return im->err;
    size_t elem = 0, typed = 0;
    switch (t->has_data_type ? t->data_type : 0) {
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT: elem = 4, typed = t->n_float_data; break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16: elem = 2, typed = t->n_int32_data; break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT64: elem = 8, typed = t->n_int64_data; break;
    default: return PIXAB_OK; /* other dtypes: refused where a node reads them */
    }
    int has_raw = t->has_raw_data && t->raw_data.len > 0;
    if (has_raw ? typed || t->raw_data.len != (size_t)n * elem : typed != (size_t)n)
        return fail(im, PIXAB_ERR_FORMAT, "tensor '%.100s' holds %zu bytes / %zu values for %lld elements",
                    str(t->name), has_raw ? t->raw_data.len : 0, typed, (long long)n);
    return PIXAB_OK;
}

/* A float tensor (FLOAT or FLOAT16, checked by check_data) of n elements into
 * out, finite. */
static pixab_status read_floats(importer *im, const value *v, int64_t n, float *out) {
    const Onnx__TensorProto *t = v->t;
    int dtype = t->has_data_type ? t->data_type : 0;
    if (dtype != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT && dtype != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16)
        return fail(im, PIXAB_ERR_UNSUPPORTED, "tensor '%.100s' has data type %d (float32 or float16 expected)",
                    v->name, dtype);
    if (numel(im, t) != n) return fail(im, PIXAB_ERR_FORMAT, "tensor '%.100s' has the wrong size", v->name);
    const int raw = t->has_raw_data && t->raw_data.len > 0;
    for (int64_t i = 0; i < n; i++) {
        if (dtype == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT) {
            if (raw) memcpy(&out[i], t->raw_data.data + 4 * i, 4); /* little-endian, unaligned */
            else out[i] = t->float_data[i];
        } else {
            uint16_t h;
            if (raw) memcpy(&h, t->raw_data.data + 2 * i, 2);
            else h = (uint16_t)t->int32_data[i];
            out[i] = safetensors_f16_to_f32(h);
        }
        if (!isfinite(out[i]))
            return fail(im, PIXAB_ERR_FORMAT, "tensor '%.100s' holds a non-finite value at index %lld", v->name,
                        (long long)i);
    }
    return PIXAB_OK;
}

/* An INT64 tensor of exactly n elements into out. */
static pixab_status read_ints(importer *im, const value *v, int64_t n, int64_t *out) {
    const Onnx__TensorProto *t = v->t;
    if (!t->has_data_type || t->data_type != ONNX__TENSOR_PROTO__DATA_TYPE__INT64 || numel(im, t) != n)
        return fail(im, PIXAB_ERR_UNSUPPORTED, "tensor '%.100s' must be %lld int64 values", v->name, (long long)n);
    for (int64_t i = 0; i < n; i++) {
        if (t->has_raw_data && t->raw_data.len) memcpy(&out[i], t->raw_data.data + 8 * i, 8);
        else out[i] = t->int64_data[i];
    }
    return PIXAB_OK;
}

/* dims of a constant against an expected shape (-1: any). */
static int dims_are(const Onnx__TensorProto *t, size_t nd, const int64_t *want) {
    if (t->n_dims != nd) return 0;
    for (size_t i = 0; i < nd; i++)
        if (want[i] >= 0 && t->dims[i] != want[i]) return 0;
    return 1;
}

/* ---- building ops ---------------------------------------------------------- */

static int new_tensor(importer *im, const char *name) {
    if (im->err) return -1;
    int t = graph_add_tensor(im->g, 0);
    if (t >= im->tensor_name_cap) {
        int cap = im->tensor_name_cap ? 2 * im->tensor_name_cap : 256;
        const char **p = realloc(im->tensor_name, sizeof *p * (size_t)cap);
        if (!p) t = -1;
        else im->tensor_name = p, im->tensor_name_cap = cap;
    }
    if (t < 0) {
        fail(im, PIXAB_ERR_NOMEM, "out of memory building the graph");
        return -1;
    }
    im->tensor_name[t] = name;
    return t;
}

/* Room for n floats in g->params at an aligned offset (the gaps stay zero). */
static float *params(importer *im, size_t n, size_t *off) {
    graph *g = im->g;
    if (im->err) return NULL;
    if (n > ((size_t)1 << 32) || g->n_params > ((size_t)1 << 33)) {
        fail(im, PIXAB_ERR_FORMAT, "too many weights");
        return NULL;
    }
    *off = graph_reserve_params(g, n);
    if (g->n_params + 1 > im->params_cap) {
        size_t cap = im->params_cap ? im->params_cap : 1 << 16;
        while (cap < g->n_params + 1) cap *= 2;
        float *p = realloc(g->params, sizeof(float) * cap);
        if (!p) {
            fail(im, PIXAB_ERR_NOMEM, "out of memory for %zu weights", g->n_params);
            return NULL;
        }
        memset(p + im->params_cap, 0, sizeof(float) * (cap - im->params_cap));
        g->params = p;
        im->params_cap = cap;
    }
    return g->params + *off;
}

static void add_op(importer *im, graph_op *op) {
    if (im->err) return;
    const char *name = *str(im->node->name) ? im->node->name : str(im->node->op_type);
    snprintf(op->name, sizeof op->name, "%s", name);
    if (graph_add_op(im->g, op) < 0) fail(im, PIXAB_ERR_NOMEM, "out of memory building the graph");
}

/* Room for op's weights (nw) and bias (c_out) in g->params, and the weight
 * constant w read into a malloc'd buffer of nw floats, its layout as in the
 * file; NULL after an error. */
static float *op_weights(importer *im, graph_op *op, const value *w, size_t nw) {
    const int dtype = w->t->has_data_type ? w->t->data_type : 0;
    if (dtype != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT && dtype != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16) {
        /* (only these have their size checked against their data, by check_data) */
        fail(im, PIXAB_ERR_UNSUPPORTED, "weight '%.100s' has data type %d (float32 or float16 expected)", w->name,
             dtype);
        return NULL;
    }
    float *tmp = malloc(sizeof(float) * (nw + 1));
    if (!tmp) {
        fail(im, PIXAB_ERR_NOMEM, "out of memory for %zu weights", nw);
        return NULL;
    }
    if (!params(im, nw, &op->w_off) || !params(im, (size_t)op->c_out, &op->b_off) ||
        read_floats(im, w, (int64_t)nw, tmp)) {
        free(tmp);
        return NULL;
    }
    return tmp;
}

/* A window attribute pair within [lo, hi]. */
static int in_range(importer *im, const char *what, const int64_t *v, int64_t lo, int64_t hi) {
    for (int i = 0; i < 2; i++)
        if (v[i] < lo || v[i] > hi) {
            fail(im, PIXAB_ERR_UNSUPPORTED, "%s %lld is out of range (%lld to %lld)", what, (long long)v[i],
                 (long long)lo, (long long)hi);
            return 0;
        }
    return 1;
}

/* strides, pads (top, left; bottom - top, right - left in extra) and
 * dilations (a Conv's; pools: 1) of a Conv or a pool, a pending Pad folded
 * in (Conv); kernel: the window. Returns 0 after an error. */
static int window(importer *im, const value *x, const int64_t *kernel, int64_t *stride, int64_t *pad, int64_t *extra,
                  int64_t *dil) {
    int64_t pads[4] = {0, 0, 0, 0};
    stride[0] = stride[1] = 1;
    dil[0] = dil[1] = 1;
    attr_ints(im, "strides", 2, stride);
    attr_ints(im, "pads", 4, pads);
    attr_ints(im, "dilations", 2, dil);
    if (!attr_is(im, "auto_pad", "NOTSET", "VALID") || im->err) return 0;
    if ((dil[0] != 1 || dil[1] != 1) && strcmp(str(im->node->op_type), "Conv"))
        return fail(im, PIXAB_ERR_UNSUPPORTED, "dilations other than 1 (only a Conv can have them)"), 0;
    if (!in_range(im, "padding", pads, 0, ONNX_MAX_PAD) || !in_range(im, "padding", pads + 2, 0, ONNX_MAX_PAD) ||
        !in_range(im, "dilation", dil, 1, ONNX_MAX_KERNEL))
        return 0;
    int64_t end[2];
    for (int k = 0; k < 2; k++) { /* a Pad before it: at most ONNX_MAX_PAD per node */
        pad[k] = pads[k] + x->pad[k];
        end[k] = pads[k + 2] + x->pad[k + 2];
        extra[k] = end[k] - pad[k];
    }
    return in_range(im, "kernel size", kernel, 1, ONNX_MAX_KERNEL) &&
           in_range(im, "stride", stride, 1, ONNX_MAX_STRIDE) && in_range(im, "padding", pad, 0, ONNX_MAX_PAD) &&
           in_range(im, "padding", end, 0, ONNX_MAX_PAD);
}

/* A spatial (N, C, H, W) activation, or one after global pooling when the op
 * is pointwise there. */
static int needs_4d(importer *im, const value *x) {
    if (!x) return 0;
    if (x->rank != 4) return fail(im, PIXAB_ERR_UNSUPPORTED, "input '%.100s' is not 4-D (N, C, H, W)", x->name), 0;
    return 1;
}

static void import_conv(importer *im) {
    value *x = input(im, 0, V_ACT), *w = input(im, 1, V_CONST), *b = NULL;
    if (im->node->n_input > 2 && *str(im->node->input[2])) b = input(im, 2, V_CONST);
    if (!needs_4d(im, x) || !w || im->err) return;
    const int64_t group = attr_int(im, "group", 1);
    if (group < 1 || x->c % group) {
        fail(im, PIXAB_ERR_FORMAT, "group %lld does not divide %d input channels", (long long)group, x->c);
        return;
    }
    if (!dims_are(w->t, 4, (int64_t[]){-1, x->c / group, -1, -1}) || w->t->dims[0] < 1 ||
        w->t->dims[0] > ONNX_MAX_CHANNELS || w->t->dims[0] % group) {
        fail(im, PIXAB_ERR_FORMAT, "weight '%.100s' is not (M, %lld, kH, kW) with M a multiple of %lld", w->name,
             (long long)(x->c / group), (long long)group);
        return;
    }
    const int64_t *d = w->t->dims;
    int64_t kernel[2] = {d[2], d[3]}, ks[2] = {d[2], d[3]}, stride[2], pad[2], extra[2], dil[2];
    attr_ints(im, "kernel_shape", 2, ks);
    if (ks[0] != kernel[0] || ks[1] != kernel[1]) {
        fail(im, PIXAB_ERR_FORMAT, "kernel_shape does not match the weight's");
        return;
    }
    if (!window(im, x, kernel, stride, pad, extra, dil)) return;
    if (x->pooled && (kernel[0] != 1 || kernel[1] != 1 || pad[0] || pad[1] || extra[0] || extra[1])) {
        fail(im, PIXAB_ERR_UNSUPPORTED, "a convolution wider than 1x1 after global pooling");
        return;
    }
    if (b && !dims_are(b->t, 1, (int64_t[]){d[0]})) {
        fail(im, PIXAB_ERR_FORMAT, "bias '%.100s' is not (%lld)", b->name, (long long)d[0]);
        return;
    }
    value *y = output(im);
    if (!y) return;
    const int cout = (int)d[0], cin = (int)(x->c / group), kh = (int)kernel[0], kw = (int)kernel[1];
    graph_op op = {.kind = OP_CONV, .src = x->tensor, .dst = new_tensor(im, y->name), .c_in = x->c, .c_out = cout,
                   .k_h = kh, .k_w = kw, .s_h = (int)stride[0], .s_w = (int)stride[1], .p_h = (int)pad[0],
                   .p_w = (int)pad[1], .e_h = (int)extra[0], .e_w = (int)extra[1], .d_h = (int)dil[0],
                   .d_w = (int)dil[1], .group = (int)group};
    const size_t nw = (size_t)cout * (size_t)(kh * kw) * (size_t)cin;
    float *tmp = op_weights(im, &op, w, nw);
    if (tmp) {
        float *pw = im->g->params + op.w_off, *pb = im->g->params + op.b_off;
        const int kk = kh * kw; /* (M, C / group, kH, kW) -> (M, kH, kW, C / group) */
        for (int co = 0; co < cout; co++)
            for (int ci = 0; ci < cin; ci++)
                for (int k = 0; k < kk; k++)
                    pw[((size_t)co * kk + k) * cin + ci] = tmp[((size_t)co * cin + ci) * kk + k];
        if (b) read_floats(im, b, cout, pb);
    }
    free(tmp);
    add_op(im, &op);
    y->kind = V_ACT, y->tensor = op.dst, y->c = cout, y->rank = 4, y->pooled = x->pooled;
}

static void import_pool(importer *im, op_kind kind) {
    value *x = input(im, 0, V_ACT);
    if (!needs_4d(im, x) || im->err) return;
    if (x->pooled) {
        fail(im, PIXAB_ERR_UNSUPPORTED, "a pool after global pooling");
        return;
    }
    int64_t kernel[2] = {0, 0}, stride[2], pad[2], extra[2], dil[2];
    if (!attr(im, "kernel_shape", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS)) {
        fail(im, PIXAB_ERR_FORMAT, "no kernel_shape");
        return;
    }
    attr_ints(im, "kernel_shape", 2, kernel);
    if (!window(im, x, kernel, stride, pad, extra, dil)) return;
    const int64_t ceil_mode = attr_int(im, "ceil_mode", 0), include_pad = attr_int(im, "count_include_pad", 0);
    if (kind == OP_MAXPOOL && attr_int(im, "storage_order", 0) != 0) {
        fail(im, PIXAB_ERR_UNSUPPORTED, "storage_order=1 is not supported");
        return;
    }
    if (pad[0] >= kernel[0] || pad[1] >= kernel[1] || pad[0] + extra[0] >= kernel[0] ||
        pad[1] + extra[1] >= kernel[1]) {
        fail(im, PIXAB_ERR_UNSUPPORTED, "padding as wide as the window");
        return;
    }
    value *y = output(im);
    if (!y) return;
    graph_op op = {.kind = kind, .src = x->tensor, .dst = new_tensor(im, y->name), .c_in = x->c, .c_out = x->c,
                   .k_h = (int)kernel[0], .k_w = (int)kernel[1], .s_h = (int)stride[0], .s_w = (int)stride[1],
                   .p_h = (int)pad[0], .p_w = (int)pad[1], .e_h = (int)extra[0], .e_w = (int)extra[1],
                   .ceil_mode = ceil_mode != 0,
                   /* a folded Pad's zeros count (pad_folds: then the pool has no padding of its own, or counts it) */
                   .exclude_pad = kind == OP_AVGPOOL && !include_pad && !(x->pad[0] | x->pad[1] | x->pad[2] | x->pad[3])};
    add_op(im, &op);
    y->kind = V_ACT, y->tensor = op.dst, y->c = x->c, y->rank = 4;
}

/* GlobalAveragePool, or ReduceMean over (H, W). */
static void import_gap(importer *im, int reduce_mean) {
    value *x = input(im, 0, V_ACT);
    if (!needs_4d(im, x) || im->err) return;
    int rank = 4;
    if (reduce_mean) {
        const Onnx__AttributeProto *a = attr(im, "axes", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
        int mask = 0;
        for (size_t i = 0; a && i < a->n_ints; i++)
            mask |= a->ints[i] == 2 || a->ints[i] == -2 ? 1 : a->ints[i] == 3 || a->ints[i] == -1 ? 2 : 4;
        if (!a || a->n_ints != 2 || mask != 3 || im->node->n_input > 1) {
            fail(im, PIXAB_ERR_UNSUPPORTED, "ReduceMean over other axes than (H, W)");
            return;
        }
        rank = attr_int(im, "keepdims", 1) ? 4 : 2;
    }
    value *y = output(im);
    if (!y) return;
    graph_op op = {.kind = OP_GAP, .src = x->tensor, .dst = new_tensor(im, y->name), .c_in = x->c, .c_out = x->c,
                   .k_h = 1, .k_w = 1, .s_h = 1, .s_w = 1};
    add_op(im, &op);
    y->kind = V_ACT, y->tensor = op.dst, y->c = x->c, y->rank = rank, y->pooled = 1;
}

/* Flatten(axis 1) or Reshape to (N, -1) of a pooled tensor: the same memory. */
static void import_flatten(importer *im, int reshape) {
    value *x = input(im, 0, V_ACT);
    if (!x || im->err) return;
    if (reshape) {
        const value *s = input(im, 1, V_CONST);
        int64_t shape[2];
        if (!s || read_ints(im, s, 2, shape)) return;
        if (attr_int(im, "allowzero", 0) || !(shape[0] == 1 || shape[0] == 0 || shape[0] == -1) ||
            !(shape[1] == -1 || shape[1] == x->c) || (shape[0] == -1 && shape[1] == -1)) {
            fail(im, PIXAB_ERR_UNSUPPORTED, "Reshape to (%lld, %lld): only (N, -1) is supported", (long long)shape[0],
                 (long long)shape[1]);
            return;
        }
    } else {
        int64_t axis = attr_int(im, "axis", 1);
        if (axis != 1 && !(axis == -3 && x->rank == 4) && !(axis == -1 && x->rank == 2)) {
            fail(im, PIXAB_ERR_UNSUPPORTED, "Flatten axis %lld (only 1 is supported)", (long long)axis);
            return;
        }
    }
    value *y = output(im);
    alias(im, y, x, 2);
    if (y && !x->pooled) y->flat = 1; /* VGG's classifier: its Gemm becomes a convolution over the whole map */
}

/* Gemm, or MatMul (with the Add of its bias when the next reader is one):
 * a fully connected layer (N, K) -> (N, M) on a pooled tensor. */
static void import_fc(importer *im, int matmul, int node_index) {
    value *x = input(im, 0, V_ACT), *w = input(im, 1, V_CONST), *b = NULL;
    if (!x || !w || im->err) return;
    float alpha = 1.0f, beta = 1.0f;
    int trans_b = 0;
    const Onnx__NodeProto *add = NULL;
    if (!matmul) {
        if (im->node->n_input > 2 && *str(im->node->input[2])) b = input(im, 2, V_CONST);
        alpha = attr_float(im, "alpha", 1.0f);
        beta = attr_float(im, "beta", 1.0f);
        trans_b = (int)attr_int(im, "transB", 0);
        if (attr_int(im, "transA", 0)) {
            fail(im, PIXAB_ERR_UNSUPPORTED, "transA=1 is not supported");
            return;
        }
    }
    if (x->rank != 2 || !(x->pooled || x->flat)) {
        fail(im, PIXAB_ERR_UNSUPPORTED, "input '%.100s' is not a 2-D (N, C) tensor after Flatten", x->name);
        return;
    }
    const int64_t *d = w->t->dims;
    /* flattened (C, s, s) features: k = C s s, the window s x s (square inputs) */
    const int64_t k = w->t->n_dims == 2 ? d[trans_b ? 1 : 0] : -1, cells = k > 0 && k % x->c == 0 ? k / x->c : 0;
    int64_t side = 1;
    while (x->flat && side * side < cells) side++;
    if (w->t->n_dims != 2 || (x->flat ? side * side != cells || side > ONNX_MAX_KERNEL : k != x->c) ||
        d[trans_b ? 0 : 1] < 1 || d[trans_b ? 0 : 1] > 1000000) {
        fail(im, PIXAB_ERR_FORMAT, "weight '%.100s' does not match %d input %s", w->name, x->c,
             x->flat ? "channels of square flattened features" : "features");
        return;
    }
    const int64_t m = d[trans_b ? 0 : 1];
    /* MatMul read by nothing but an Add of a constant: that is its bias. */
    size_t add_index = 0;
    if (matmul && im->node->n_output == 1 && readers_of(im, str(im->node->output[0])) == 1) {
        for (size_t j = (size_t)node_index + 1; j < im->gp->n_node && !add; j++) {
            const Onnx__NodeProto *n = im->gp->node[j];
            if (strcmp(str(n->op_type), "Add") || n->n_input != 2) continue;
            for (int q = 0; q < 2; q++)
                if (!strcmp(str(n->input[q]), str(im->node->output[0]))) {
                    int other = find(im, str(n->input[1 - q]));
                    if (other >= 0 && im->v[other].kind == V_CONST) add = n, b = &im->v[other], add_index = j;
                }
        }
    }
    if (b && !dims_are(b->t, 1, (int64_t[]){m}) && !dims_are(b->t, 2, (int64_t[]){1, m})) {
        fail(im, PIXAB_ERR_UNSUPPORTED, "bias '%.100s' is not (%lld)", b->name, (long long)m);
        return;
    }
    const Onnx__NodeProto *self = im->node;
    if (add) im->done[add_index] = 1, im->node = add; /* the op's output is the Add's */
    value *y = output(im);
    im->node = self;
    if (!y) return;
    graph_op op = {.kind = x->flat ? OP_CONV : OP_FC, .src = x->tensor, .c_in = x->c, .c_out = (int)m,
                   .k_h = (int)side, .k_w = (int)side, .s_h = 1, .s_w = 1, .flat = x->flat};
    const size_t nw = (size_t)m * (size_t)k;
    float *tmp = op_weights(im, &op, w, nw);
    if (tmp) {
        float *pw = im->g->params + op.w_off, *pb = im->g->params + op.b_off;
        const int64_t ss = side * side;
        for (int64_t o = 0; o < m; o++) /* (M, K) <- B^T (transB) or B (K, M); feature i = (c, y, x) -> (y, x, c) */
            for (int64_t i = 0; i < k; i++)
                pw[o * k + (i % ss) * x->c + i / ss] = alpha * (trans_b ? tmp[o * k + i] : tmp[i * m + o]);
        if (b && !read_floats(im, b, m, pb))
            for (int64_t o = 0; o < m; o++) pb[o] *= beta;
    }
    free(tmp);
    op.dst = new_tensor(im, y->name);
    add_op(im, &op);
    y->kind = V_ACT, y->tensor = op.dst, y->c = (int)m, y->rank = 2, y->pooled = 1;
}

/* The ops that write value x's tensor, all of one of the kinds wanted; x read
 * by this node alone. Returns how many (0 after an error). */
static int producers(importer *im, const value *x, int allow_fc, const char *what) {
    if (!x || im->err) return 0;
    if (x->uses != 1) return fail(im, PIXAB_ERR_UNSUPPORTED, "cannot fold %s: its input '%.100s' is also read "
                                                              "elsewhere", what, x->name), 0;
    int n = 0;
    for (int i = 0; i < im->g->n_ops; i++) {
        const graph_op *o = &im->g->ops[i];
        if (o->dst != x->tensor) continue;
        if (!(o->kind == OP_CONV || (allow_fc && o->kind == OP_FC)) || o->relu)
            return fail(im, PIXAB_ERR_UNSUPPORTED, "%s is only supported after a Conv or a Gemm (folded into it)",
                        what), 0;
        n++;
    }
    if (!n) fail(im, PIXAB_ERR_UNSUPPORTED, "%s of the graph input is not supported", what);
    return n;
}

/* An activation op y = act(x) of its own (a new tensor). */
static void add_act(importer *im, value *x, int act, float a, float b) {
    value *y = output(im);
    if (!x || !y) return;
    graph_op op = {.kind = OP_ACT, .src = x->tensor, .dst = new_tensor(im, y->name), .c_in = x->c, .c_out = x->c,
                   .k_h = 1, .k_w = 1, .s_h = 1, .s_w = 1, .act = act, .act_a = a, .act_b = b};
    add_op(im, &op);
    y->kind = V_ACT, y->tensor = op.dst, y->c = x->c, y->rank = x->rank, y->pooled = x->pooled;
}

/* Whether a Relu on x folds into the ops that write x: Conv, Gemm or Add
 * without a ReLU yet, x read by the Relu alone. */
static int relu_folds(importer *im, const value *x) {
    int n = 0;
    for (int i = 0; i < im->g->n_ops; i++) {
        const graph_op *o = &im->g->ops[i];
        if (o->dst != x->tensor) continue;
        if (!(o->kind == OP_CONV || o->kind == OP_FC || o->kind == OP_ADD) || o->relu) return 0;
        n++;
    }
    return n > 0 && x->uses == 1;
}

static void import_relu(importer *im) {
    value *x = input(im, 0, V_ACT);
    if (!x || im->err) return;
    if (!relu_folds(im, x)) {
        add_act(im, x, NN_ACT_CLIP, 0.0f, INFINITY);
        return;
    }
    for (int i = 0; i < im->g->n_ops; i++) {
        graph_op *o = &im->g->ops[i];
        if (o->dst != x->tensor) continue;
        o->relu = 1;
        if (o->kind == OP_FC) o->kind = OP_CONV; /* with a ReLU: a 1x1 convolution of the pooled pixel */
    }
    value *y = output(im);
    alias(im, y, x, x->rank);
    if (y) im->tensor_name[y->tensor] = y->name;
}

/* Clip (min and max: optional constant inputs), Sigmoid, HardSigmoid, HardSwish. */
static void import_activation(importer *im, int act) {
    value *x = input(im, 0, V_ACT);
    float p[2] = {-INFINITY, INFINITY};
    if (!x || im->err) return;
    if (act == NN_ACT_CLIP) {
        for (int k = 1; k <= 2; k++) {
            if (im->node->n_input <= (size_t)k || !*str(im->node->input[k])) continue;
            const value *v = input(im, k, V_CONST);
            if (!v || numel(im, v->t) != 1 || read_floats(im, v, 1, &p[k - 1])) {
                if (!im->err) fail(im, PIXAB_ERR_UNSUPPORTED, "Clip bounds must be scalar constants");
                return;
            }
        }
        if (!(p[0] <= p[1])) {
            fail(im, PIXAB_ERR_FORMAT, "Clip min %g is above max %g", p[0], p[1]);
            return;
        }
    } else if (act == NN_ACT_HARDSIGMOID) {
        p[0] = attr_float(im, "alpha", 0.2f), p[1] = attr_float(im, "beta", 0.5f);
        if (!isfinite(p[0]) || !isfinite(p[1])) {
            fail(im, PIXAB_ERR_FORMAT, "alpha %g, beta %g", p[0], p[1]);
            return;
        }
    }
    add_act(im, x, act, p[0], p[1]);
}

/* Add or Mul of two computed tensors: the same shape, or (Mul) a per-channel
 * scale (N, C, 1, 1) of a spatial tensor, which becomes src2. */
static void import_binary(importer *im, op_kind kind) {
    if (im->node->n_input != 2) {
        fail(im, PIXAB_ERR_FORMAT, "%zu inputs (2 expected)", im->node->n_input);
        return;
    }
    value *a = input(im, 0, V_ACT), *b = input(im, 1, V_ACT);
    if (!a || !b || im->err) return;
    if (a->pooled && !b->pooled) {
        value *t = a;
        a = b, b = t;
    }
    const int per_channel = kind == OP_MUL && b->pooled && !a->pooled && b->rank == 4;
    if (a->c != b->c || a->rank != b->rank || (a->pooled != b->pooled && !per_channel)) {
        fail(im, PIXAB_ERR_UNSUPPORTED, "inputs '%.100s' and '%.100s' differ in shape (%s)", a->name, b->name,
             kind == OP_ADD ? "only same-shape Adds are supported"
                            : "only the same shape or a per-channel (N, C, 1, 1) scale are supported");
        return;
    }
    value *y = output(im);
    if (!y) return;
    graph_op op = {.kind = kind, .src = a->tensor, .src2 = b->tensor, .dst = new_tensor(im, y->name), .c_in = a->c,
                   .c_out = a->c, .k_h = 1, .k_w = 1, .s_h = 1, .s_w = 1};
    add_op(im, &op);
    y->kind = V_ACT, y->tensor = op.dst, y->c = a->c, y->rank = a->rank, y->pooled = a->pooled;
}

/* BatchNormalization (inference) folded into the convolutions that make its input. */
static void import_batchnorm(importer *im) {
    value *x = input(im, 0, V_ACT), *p[4] = {NULL};
    for (int k = 0; k < 4; k++) p[k] = input(im, k + 1, V_CONST);
    if (!x || im->err) return;
    if (attr_int(im, "training_mode", 0)) {
        fail(im, PIXAB_ERR_UNSUPPORTED, "training_mode=1");
        return;
    }
    const double eps = attr_float(im, "epsilon", 1e-5f);
    if (!(eps >= 0.0)) {
        fail(im, PIXAB_ERR_FORMAT, "epsilon %g", eps);
        return;
    }
    const int c = x->c;
    float *bn = malloc(sizeof(float) * 4 * (size_t)c + 1);
    if (!bn) {
        fail(im, PIXAB_ERR_NOMEM, "out of memory");
        return;
    }
    for (int k = 0; k < 4 && !im->err; k++) /* scale, B, mean, var */
        if (!dims_are(p[k]->t, 1, (int64_t[]){c})) fail(im, PIXAB_ERR_FORMAT, "'%.100s' is not (%d)", p[k]->name, c);
        else read_floats(im, p[k], c, bn + (size_t)k * c);
    for (int ch = 0; ch < c && !im->err; ch++)
        if (!(bn[3 * c + ch] + eps > 0.0)) fail(im, PIXAB_ERR_FORMAT, "variance + epsilon is not positive");
    if (!im->err && producers(im, x, 1, "a BatchNormalization")) {
        graph *g = im->g;
        for (int i = 0; i < g->n_ops; i++) {
            const graph_op *o = &g->ops[i];
            if (o->dst != x->tensor) continue;
            const size_t row = graph_op_weights(o) / (size_t)o->c_out;
            for (int co = 0; co < o->c_out; co++) {
                const int ch = o->dst_c0 + co;
                const double scale = bn[ch] / sqrt((double)bn[3 * c + ch] + eps);
                float *w = g->params + o->w_off + (size_t)co * row, *b = g->params + o->b_off + co;
                for (size_t k = 0; k < row; k++) w[k] = (float)(w[k] * scale);
                *b = (float)(((double)*b - bn[2 * c + ch]) * scale + bn[c + ch]);
            }
        }
        value *y = output(im);
        alias(im, y, x, x->rank);
        if (y) im->tensor_name[y->tensor] = y->name;
    }
    free(bn);
}

/* Pad (constant zeros, H and W only): kept pending for its reader, which
 * folds it (pad_folds) or makes it an op (materialize_pad). */
static void import_pad(importer *im) {
    value *x = input(im, 0, V_ACT), *pv = input(im, 1, V_CONST);
    int64_t pads[8];
    if (!needs_4d(im, x) || !pv || read_ints(im, pv, 8, pads) || !attr_is(im, "mode", "constant", NULL)) return;
    if (im->node->n_input > 2 && *str(im->node->input[2])) {
        const value *cv = input(im, 2, V_CONST);
        float zero = 1.0f;
        if (!cv || numel(im, cv->t) != 1 || read_floats(im, cv, 1, &zero)) return;
        if (zero != 0.0f) {
            fail(im, PIXAB_ERR_UNSUPPORTED, "a Pad with the constant %g (only zeros are supported)", zero);
            return;
        }
    }
    if (pads[0] || pads[1] || pads[4] || pads[5]) {
        fail(im, PIXAB_ERR_UNSUPPORTED, "only zero padding of H and W is supported (not of N or C)");
        return;
    }
    if (x->pooled) {
        fail(im, PIXAB_ERR_UNSUPPORTED, "padding after global pooling");
        return;
    }
    const int64_t p4[4] = {pads[2], pads[3], pads[6], pads[7]}; /* top, left, bottom, right */
    for (int k = 0; k < 4; k++)
        if (p4[k] < 0 || p4[k] + x->pad[k] > ONNX_MAX_PAD) {
            fail(im, PIXAB_ERR_UNSUPPORTED, "padding %lld (0 to %d are supported)", (long long)p4[k], ONNX_MAX_PAD);
            return;
        }
    value *y = output(im);
    alias(im, y, x, 4);
    if (!y) return;
    for (int k = 0; k < 4; k++) y->pad[k] += (int)p4[k];
    y->pad_node = *str(im->node->name) ? im->node->name : "Pad";
}

/* Concat on channels: its inputs' producers write slices of one new tensor. */
static void import_concat(importer *im) {
    const Onnx__NodeProto *n = im->node;
    int64_t axis = attr_int(im, "axis", 1);
    if (!attr(im, "axis", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT) && !im->err)
        fail(im, PIXAB_ERR_FORMAT, "no axis");
    if (im->err) return;
    if (axis != 1 && axis != -3) {
        fail(im, PIXAB_ERR_UNSUPPORTED, "concatenation along axis %lld (only channels, axis 1)", (long long)axis);
        return;
    }
    if (n->n_input < 1) {
        fail(im, PIXAB_ERR_FORMAT, "no inputs");
        return;
    }
    int64_t c = 0;
    int pooled = -1;
    for (size_t k = 0; k < n->n_input; k++) {
        const value *x = input(im, (int)k, V_ACT);
        if (!needs_4d(im, x) || im->err) return;
        int written = 0;
        for (int i = 0; i < im->g->n_ops; i++) written |= im->g->ops[i].dst == x->tensor;
        if (!written || x->uses != 1) {
            fail(im, PIXAB_ERR_UNSUPPORTED, "input '%.100s' %s", x->name,
                 written ? "is also read elsewhere (it cannot be written into a slice of the concatenation)"
                         : "is not computed by an op");
            return;
        }
        if (pooled >= 0 && x->pooled != pooled) {
            fail(im, PIXAB_ERR_UNSUPPORTED, "inputs of different spatial extent");
            return;
        }
        pooled = x->pooled;
        c += x->c;
    }
    if (c > ONNX_MAX_CHANNELS) {
        fail(im, PIXAB_ERR_UNSUPPORTED, "%lld channels", (long long)c);
        return;
    }
    value *y = output(im);
    int t = y ? new_tensor(im, y->name) : -1;
    if (t < 0) return;
    int c0 = 0;
    for (size_t k = 0; k < n->n_input; k++) {
        const value *x = &im->v[find(im, n->input[k])];
        for (int i = 0; i < im->g->n_ops; i++)
            if (im->g->ops[i].dst == x->tensor) im->g->ops[i].dst = t, im->g->ops[i].dst_c0 += c0;
        im->g->tensors[x->tensor].c = 0; /* now unused: dropped at the end */
        c0 += x->c;
    }
    im->g->tensors[t].c = c0;
    y->kind = V_ACT, y->tensor = t, y->c = c0, y->rank = 4, y->pooled = pooled;
}

/* ---- the whole graph ------------------------------------------------------- */

/* The graph input (the one not an initializer): (N, 3, S, S) float. */
static void import_input(importer *im, int *input_size) {
    const Onnx__GraphProto *gp = im->gp;
    const Onnx__ValueInfoProto *in = NULL;
    for (size_t i = 0; i < gp->n_input; i++) {
        if (find(im, str(gp->input[i]->name)) >= 0) continue; /* an initializer listed as an input */
        if (in) {
            fail(im, PIXAB_ERR_UNSUPPORTED, "the graph has more than one input ('%.100s', '%.100s')", str(in->name),
                 str(gp->input[i]->name));
            return;
        }
        in = gp->input[i];
    }
    if (!in) {
        fail(im, PIXAB_ERR_FORMAT, "the graph has no input");
        return;
    }
    const Onnx__TypeProto *tp = in->type;
    const Onnx__TypeProto__Tensor *tt =
        tp && tp->value_case == ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE ? tp->tensor_type : NULL;
    if (!tt || !tt->has_elem_type || tt->elem_type != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT || !tt->shape ||
        tt->shape->n_dim != 4) {
        fail(im, PIXAB_ERR_UNSUPPORTED, "the input '%.100s' is not a 4-D (N, 3, H, W) float32 tensor", str(in->name));
        return;
    }
    int64_t d[4];
    for (int k = 0; k < 4; k++) {
        const Onnx__TensorShapeProto__Dimension *dim = tt->shape->dim[k];
        d[k] = dim->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE ? dim->dim_value : -1;
    }
    if (d[1] != 3 && d[1] != -1) {
        fail(im, PIXAB_ERR_UNSUPPORTED, "the input has %lld channels (pixab feeds RGB images: 3)", (long long)d[1]);
        return;
    }
    if (d[2] != d[3] && d[2] >= 0 && d[3] >= 0) {
        fail(im, PIXAB_ERR_UNSUPPORTED, "the input is %lldx%lld: only square inputs are supported", (long long)d[2],
             (long long)d[3]);
        return;
    }
    *input_size = 0;
    if (d[2] > 0) {
        if (d[2] > PIXAB_IMAGE_MAX_SIDE) {
            fail(im, PIXAB_ERR_UNSUPPORTED, "input size %lld", (long long)d[2]);
            return;
        }
        *input_size = (int)d[2];
    }
    value *x = define(im, str(in->name));
    int t = new_tensor(im, x ? x->name : NULL);
    if (!x || t != 0) return;
    im->g->tensors[0].c = 3;
    x->kind = V_ACT, x->tensor = 0, x->c = 3, x->rank = 4;
}

/* Readers of every name: node inputs and graph outputs. */
static void count_readers(importer *im) {
    const Onnx__GraphProto *gp = im->gp;
    for (size_t j = 0; j < gp->n_node; j++)
        for (size_t q = 0; q < gp->node[j]->n_input; q++)
            if (*str(gp->node[j]->input[q])) im->readers[index_find(&im->counts, gp->node[j]->input[q], 1)]++;
    for (size_t j = 0; j < gp->n_output; j++) im->readers[index_find(&im->counts, str(gp->output[j]->name), 1)]++;
}

static void import_node(importer *im, size_t j) {
    const Onnx__NodeProto *n = im->gp->node[j];
    im->node = n;
    const char *op = str(n->op_type);
    if (*str(n->domain) && strcmp(n->domain, "ai.onnx")) {
        fail(im, PIXAB_ERR_UNSUPPORTED, "op domain '%.60s' is not supported", n->domain);
        return;
    }
    if (!strcmp(op, "Conv")) import_conv(im);
    else if (!strcmp(op, "MaxPool")) import_pool(im, OP_MAXPOOL);
    else if (!strcmp(op, "AveragePool")) import_pool(im, OP_AVGPOOL);
    else if (!strcmp(op, "GlobalAveragePool")) import_gap(im, 0);
    else if (!strcmp(op, "ReduceMean")) import_gap(im, 1);
    else if (!strcmp(op, "Flatten")) import_flatten(im, 0);
    else if (!strcmp(op, "Reshape")) import_flatten(im, 1);
    else if (!strcmp(op, "Gemm")) import_fc(im, 0, (int)j);
    else if (!strcmp(op, "MatMul")) import_fc(im, 1, (int)j);
    else if (!strcmp(op, "Relu")) import_relu(im);
    else if (!strcmp(op, "BatchNormalization")) import_batchnorm(im);
    else if (!strcmp(op, "Pad")) import_pad(im);
    else if (!strcmp(op, "Concat")) import_concat(im);
    else if (!strcmp(op, "Add")) import_binary(im, OP_ADD);
    else if (!strcmp(op, "Mul")) import_binary(im, OP_MUL);
    else if (!strcmp(op, "Clip")) import_activation(im, NN_ACT_CLIP);
    else if (!strcmp(op, "Sigmoid")) import_activation(im, NN_ACT_SIGMOID);
    else if (!strcmp(op, "HardSigmoid")) import_activation(im, NN_ACT_HARDSIGMOID);
    else if (!strcmp(op, "HardSwish")) import_activation(im, NN_ACT_HARDSWISH);
    else if (!strcmp(op, "Dropout") || !strcmp(op, "Identity")) {
        int k = n->n_input ? find(im, str(n->input[0])) : -1;
        if (k >= 0 && im->v[k].kind == V_CONST) { /* a shared weight (torch.onnx writes these) */
            const Onnx__TensorProto *t = im->v[k].t;
            value *y = output(im);
            if (y) y->kind = V_CONST, y->t = t;
            return;
        }
        value *x = input(im, 0, V_ACT);
        if (!strcmp(op, "Dropout") && n->n_input > 2 && *str(n->input[2]))
            fail(im, PIXAB_ERR_UNSUPPORTED, "Dropout with a training_mode input");
        else
            alias(im, output(im), x, x ? x->rank : 4);
    } else if (!strcmp(op, "Constant")) {
        const Onnx__AttributeProto *a = attr(im, "value", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR);
        if (!a || !a->t || n->n_attribute != 1) {
            fail(im, PIXAB_ERR_UNSUPPORTED, "only a Constant with a tensor 'value' is supported");
            return;
        }
        if (check_data(im, a->t)) return;
        value *y = output(im);
        if (y) y->kind = V_CONST, y->t = a->t;
    } else {
        fail(im, PIXAB_ERR_UNSUPPORTED, "op type '%.40s' is not supported", op);
    }
}

/* Drop the tensors no op touches (concatenation inputs), renumbering. */
static void compact(importer *im) {
    graph *g = im->g;
    int *map = malloc(sizeof(int) * (size_t)g->n_tensors + 1), n = 0;
    if (!map) {
        fail(im, PIXAB_ERR_NOMEM, "out of memory");
        return;
    }
    for (int t = 0; t < g->n_tensors; t++) map[t] = t == 0 ? 0 : -1;
    for (int i = 0; i < g->n_ops; i++) {
        map[g->ops[i].src] = map[g->ops[i].dst] = 0;
        if (graph_op_inputs(&g->ops[i]) > 1) map[g->ops[i].src2] = 0;
    }
    for (int t = 0; t < g->n_tensors; t++)
        if (map[t] == 0) {
            g->tensors[n] = g->tensors[t];
            im->tensor_name[n] = im->tensor_name[t];
            map[t] = n++;
        }
    for (int i = 0; i < g->n_ops; i++) {
        graph_op *o = &g->ops[i];
        o->src = map[o->src], o->dst = map[o->dst];
        if (graph_op_inputs(o) > 1) o->src2 = map[o->src2];
    }
    g->n_tensors = n;
    free(map);
}

/* Layers: every spatial tensor, by name, complete before the classifier's
 * global pooling (the last GAP after which the graph can be cut, i.e. the
 * ops after it read only its output or what they make: a
 * squeeze-excitation's pooling is not); then the pooled tensor and the
 * logits. A layer's head may read tensors that bypass it (the engine keeps
 * them: graph_head_split). */
static void make_layers(importer *im, int logits) {
    graph *g = im->g;
    const int n = g->n_ops, nt = g->n_tensors;
    int *first_w = malloc(sizeof(int) * (size_t)nt), *last_w = malloc(sizeof(int) * (size_t)nt);
    int *readers = calloc((size_t)nt, sizeof(int)), *open = calloc((size_t)n + 1, sizeof(int));
    char *pooled_t = calloc((size_t)nt + 1, 1);
    if (!first_w || !last_w || !readers || !open || !pooled_t) {
        fail(im, PIXAB_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (int t = 0; t < nt; t++) first_w[t] = n, last_w[t] = -1;
    for (int i = 0; i < n; i++) {
        int t = g->ops[i].dst;
        if (i < first_w[t]) first_w[t] = i;
        last_w[t] = i;
    }
    first_w[0] = -1; /* the input exists from the start */
    for (int i = 0; i < n; i++) {
        const graph_op *o = &g->ops[i];
        for (int k = 0; k < graph_op_inputs(o); k++) {
            const int src = k ? o->src2 : o->src;
            if (o->dst == 0 || last_w[src] >= i || src == o->dst) {
                im->node = NULL;
                fail(im, PIXAB_ERR_UNSUPPORTED, "op '%.60s' reads a tensor before it is complete", o->name);
                goto done;
            }
            readers[src]++;
            /* op i reads src: a cut after any op in [first_w[src], i) leaves it reading the body */
            open[first_w[src] > 0 ? first_w[src] : 0]++;
            open[i]--;
        }
        /* 1x1 at every input size: after global pooling or a classifier over flattened features, and what only
         * such tensors make */
        pooled_t[o->dst] = o->kind == OP_GAP || o->kind == OP_FC || o->flat || pooled_t[o->src];
    }
    int gap = -1, crossing = 0;
    for (int i = 0; i < n; i++) {
        crossing += open[i]; /* reads after op i of tensors first written at or before i */
        const int t = g->ops[i].dst;
        /* the classifier's first op: to 1x1 features, a cut after it */
        if (last_w[t] == i && crossing == readers[t] && pooled_t[t] && !pooled_t[g->ops[i].src]) gap = i;
    }
    for (int i = 0; i < gap && !im->err; i++) { /* every spatial tensor, complete after op i */
        const int t = g->ops[i].dst;
        if (last_w[t] != i || pooled_t[t]) continue;
        const char *name = im->tensor_name[t];
        if (strlen(name) >= GRAPH_LAYER_NAME) continue; /* not addressable by name */
        if (graph_add_layer(g, name, t) < 0) fail(im, PIXAB_ERR_NOMEM, "out of memory");
        g->layers[g->n_layers - 1].end_op = i + 1;
    }
    im->node = NULL;
    if (im->err) goto done;
    if (gap < 0 || gap == n - 1 || !g->n_layers) {
        fail(im, PIXAB_ERR_UNSUPPORTED, "the graph is not a CNN classifier with global average pooling before its "
                                        "classifier (no GlobalAveragePool, or Flatten + Gemm, that everything after it reads)");
        goto done;
    }
    if (g->ops[n - 1].dst != logits || last_w[logits] != n - 1 || first_w[logits] != n - 1) {
        fail(im, PIXAB_ERR_UNSUPPORTED, "the graph output is not made by its last op");
        goto done;
    }
    g->default_layer = g->n_layers - 1;
    char name[GRAPH_LAYER_NAME];
    const int pooled = g->ops[gap].dst;
    snprintf(name, sizeof name, "%s", im->tensor_name[pooled]);
    if (graph_add_layer(g, name, pooled) < 0) goto nomem;
    g->layers[g->n_layers - 1].end_op = gap + 1;
    snprintf(name, sizeof name, "%s", im->tensor_name[logits]);
    if (graph_add_layer(g, name, logits) < 0) goto nomem;
    goto done;
nomem:
    fail(im, PIXAB_ERR_NOMEM, "out of memory");
done:
    free(first_w);
    free(last_w);
    free(readers);
    free(open);
    free(pooled_t);
}

static void import_graph(importer *im, int *input_size) {
    const Onnx__GraphProto *gp = im->gp;
    for (size_t i = 0; i < gp->n_initializer && !im->err; i++) {
        const Onnx__TensorProto *t = gp->initializer[i];
        value *v = define(im, str(t->name));
        if (v && !check_data(im, t)) v->kind = V_CONST, v->t = t;
    }
    if (!im->err) import_input(im, input_size);
    for (size_t j = 0; j < gp->n_node && !im->err; j++)
        if (!im->done[j]) import_node(im, j);
    if (im->err) return;
    im->node = NULL;
    if (gp->n_output != 1) {
        fail(im, PIXAB_ERR_UNSUPPORTED, "the graph has %zu outputs (one, the logits, is supported)", gp->n_output);
        return;
    }
    int k = find(im, str(gp->output[0]->name));
    if (k < 0 || im->v[k].kind != V_ACT || !im->v[k].pooled) {
        fail(im, PIXAB_ERR_UNSUPPORTED, "the graph output '%.100s' is not a vector of class scores",
             str(gp->output[0]->name));
        return;
    }
    im->tensor_name[im->v[k].tensor] = im->v[k].name;
    compact(im);
    int logits = -1;
    for (int i = 0; i < im->g->n_ops; i++) /* the output's tensor after compaction */
        if (!strcmp(str(im->tensor_name[im->g->ops[i].dst]), im->v[k].name)) logits = im->g->ops[i].dst;
    if (!im->err) make_layers(im, logits);
}

pixab_status onnx_build(const onnx_model *om, graph *g, int *input_size) {
    memset(g, 0, sizeof *g);
    *input_size = 0;
    const Onnx__GraphProto *gp = om->m->graph;
    importer im = {.g = g, .gp = gp};
    size_t names = gp->n_initializer + gp->n_input, reads = gp->n_output;
    for (size_t j = 0; j < gp->n_node; j++) names += gp->node[j]->n_output, reads += gp->node[j]->n_input;
    if (names > ONNX_MAX_VALUES || reads > ONNX_MAX_VALUES)
        return pixab_fail(PIXAB_ERR_FORMAT, "ONNX: more than %d tensors", ONNX_MAX_VALUES);
    im.v = malloc(sizeof(value) * (names + 1));
    im.readers = calloc(reads + 1, sizeof(int));
    im.done = calloc(gp->n_node + 1, 1);
    if (!(im.err = index_init(&im.vals, names)) && !(im.err = index_init(&im.counts, reads))) {
        if (!im.v || !im.readers || !im.done) im.err = pixab_fail(PIXAB_ERR_NOMEM, "out of memory");
        else count_readers(&im), import_graph(&im, input_size);
    }
    index_free(&im.vals);
    index_free(&im.counts);
    free(im.v);
    free(im.readers);
    free(im.done);
    free(im.tensor_name);
    if (im.err) graph_free(g);
    return im.err;
}
