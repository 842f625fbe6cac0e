/* safetensors.c — validate a safetensors file (mmap or memory buffer) and hand
 * out its tensors as pointers into the mapping. Every rule of the format is
 * checked before anything is trusted; see safetensors.h and REFERENCE.md. */
#define _POSIX_C_SOURCE 200809L

#include "safetensors.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "json.h"

/* The format is little-endian; tensors are handed out and converted in place. */
#if defined(__BYTE_ORDER__) && defined(__ORDER_LITTLE_ENDIAN__)
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "pixab's safetensors reader assumes a little-endian host"
#endif
#endif

struct safetensors {
    void *map;                  /* mmap'ed file, NULL for safetensors_parse */
    size_t map_size;
    const unsigned char *data;  /* the byte buffer after the header */
    size_t data_size;
    int count;
    st_tensor *tensors;         /* (count) in header order */
    const st_tensor **by_name;  /* (count) sorted by name, for binary search */
    int nmeta;
    const char **meta;          /* (nmeta, 2): key, value */
    char *pool;                 /* every name, metadata key and value */
};

static const struct {
    const char *name;
    size_t size;
} dtypes[] = {
    [ST_BOOL] = {"BOOL", 1},       [ST_U8] = {"U8", 1},     [ST_I8] = {"I8", 1},
    [ST_I16] = {"I16", 2},         [ST_U16] = {"U16", 2},   [ST_F16] = {"F16", 2},
    [ST_BF16] = {"BF16", 2},       [ST_I32] = {"I32", 4},   [ST_U32] = {"U32", 4},
    [ST_F32] = {"F32", 4},         [ST_F64] = {"F64", 8},   [ST_I64] = {"I64", 8},
    [ST_U64] = {"U64", 8},         [ST_F8_E4M3] = {"F8_E4M3", 1},
    [ST_F8_E5M2] = {"F8_E5M2", 1},
};
#define NUM_DTYPES ((int)(sizeof dtypes / sizeof dtypes[0]))

const char *safetensors_dtype_name(st_dtype d) {
    return ((int)d >= 0 && (int)d < NUM_DTYPES) ? dtypes[d].name : "?";
}

size_t safetensors_dtype_size(st_dtype d) {
    return ((int)d >= 0 && (int)d < NUM_DTYPES) ? dtypes[d].size : 0;
}

int64_t safetensors_numel(const st_tensor *t) {
    if (!t) return 0;
    int64_t n = 1;
    for (int i = 0; i < t->ndim; i++) {
        if (t->shape[i] == 0) return 0;
        n *= t->shape[i]; /* validated at parse: the non-zero dims' product fits */
    }
    return n;
}

/* ---- messages --------------------------------------------------------------- */

#define QN 96
/* A name (tensor key, dtype, metadata key) for a one-line message: at most ~70
 * bytes, cut on a UTF-8 boundary, control characters shown as '?'. */
static const char *qn(char dst[QN], const char *s, size_t n) {
    size_t lim = n, o = 0;
    bool cut = false;
    if (lim > 70) {
        lim = 70;
        while (lim > 0 && ((unsigned char)s[lim] & 0xC0) == 0x80) lim--;
        cut = true;
    }
    for (size_t i = 0; i < lim; i++) {
        unsigned char c = (unsigned char)s[i];
        dst[o++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    if (cut) {
        memcpy(dst + o, "...", 3);
        o += 3;
    }
    dst[o] = '\0';
    return dst;
}

static const char *qs(char dst[QN], const char *s) { return qn(dst, s, strlen(s)); }

/* "[a, b, c]"; negative entries (wildcards) print as '*'. */
static const char *fmt_shape(char *dst, size_t cap, int ndim, const int64_t *shape) {
    size_t o = 0;
    o += (size_t)snprintf(dst, cap, "[");
    for (int i = 0; i < ndim && o < cap; i++) {
        if (shape[i] < 0) o += (size_t)snprintf(dst + o, cap - o, "%s*", i ? ", " : "");
        else o += (size_t)snprintf(dst + o, cap - o, "%s%lld", i ? ", " : "", (long long)shape[i]);
    }
    if (o < cap) snprintf(dst + o, cap - o, "]");
    return dst;
}

/* ---- header validation ------------------------------------------------------ */

static bool is_key(const json_member *m, const char *k) {
    size_t n = strlen(k);
    return m->key_len == n && memcmp(m->key, k, n) == 0;
}

static bool host_is_little_endian(void) {
    const uint16_t one = 1;
    unsigned char b;
    memcpy(&b, &one, 1);
    return b == 1;
}

/* Fill t from one header entry (name already checked and copied). */
static pixab_status parse_entry(const json_member *m, st_tensor *t) {
    char q[QN], q2[QN];
    const char *name = qn(q, m->key, m->key_len);
    const json_value *v = &m->value;
    if (!json_is(v, JSON_OBJECT))
        return pixab_fail(PIXAB_ERR_FORMAT, "safetensors: tensor '%s': entry is a %s, expected an object",
                          name, json_type_name(json_type_of(v)));
    const json_value *dtype = NULL, *shape = NULL, *offsets = NULL;
    for (size_t i = 0; i < json_count(v); i++) {
        const json_member *f = json_object_member(v, i);
        if (is_key(f, "dtype")) dtype = &f->value;
        else if (is_key(f, "shape")) shape = &f->value;
        else if (is_key(f, "data_offsets")) offsets = &f->value;
        else
            return pixab_fail(PIXAB_ERR_FORMAT, "safetensors: tensor '%s': unexpected field '%s'", name,
                              qn(q2, f->key, f->key_len));
    }
    if (!dtype || !shape || !offsets)
        return pixab_fail(PIXAB_ERR_FORMAT, "safetensors: tensor '%s': missing field '%s'", name,
                          !dtype ? "dtype" : !shape ? "shape" : "data_offsets");

    /* dtype */
    size_t dlen;
    const char *ds = json_string(dtype, &dlen);
    if (!ds)
        return pixab_fail(PIXAB_ERR_FORMAT, "safetensors: tensor '%s': dtype is a %s, expected a string",
                          name, json_type_name(json_type_of(dtype)));
    int d = 0;
    while (d < NUM_DTYPES && !(strlen(dtypes[d].name) == dlen && memcmp(dtypes[d].name, ds, dlen) == 0)) d++;
    if (d == NUM_DTYPES)
        return pixab_fail(PIXAB_ERR_FORMAT, "safetensors: unknown dtype '%s' for tensor '%s'",
                          qn(q2, ds, dlen), name);
    t->dtype = (st_dtype)d;

    /* shape: exact non-negative integers; the product of the non-zero dims must
     * fit in int64, so numel and any partial product never overflow later. */
    if (!json_is(shape, JSON_ARRAY))
        return pixab_fail(PIXAB_ERR_FORMAT, "safetensors: tensor '%s': shape is a %s, expected an array",
                          name, json_type_name(json_type_of(shape)));
    size_t nd = json_count(shape);
    if (nd > SAFETENSORS_MAX_DIMS)
        return pixab_fail(PIXAB_ERR_FORMAT, "safetensors: tensor '%s' has %zu dims, at most %d supported",
                          name, nd, SAFETENSORS_MAX_DIMS);
    t->ndim = (int)nd;
    uint64_t prod = 1;
    bool zero = false;
    for (size_t i = 0; i < nd; i++) {
        uint64_t dim;
        if (!json_get_u64(json_array_get(shape, i), &dim)) {
            const json_value *e = json_array_get(shape, i);
            return pixab_fail(PIXAB_ERR_FORMAT,
                              "safetensors: tensor '%s': shape[%zu] = %s is not an integer in [0, 2^63)",
                              name, i, json_is(e, JSON_NUMBER) ? qs(q2, e->u.number.text)
                                                               : json_type_name(json_type_of(e)));
        }
        t->shape[i] = (int64_t)dim;
        if (dim == 0) {
            zero = true;
        } else {
            if (prod > (uint64_t)INT64_MAX / dim)
                return pixab_fail(PIXAB_ERR_FORMAT, "safetensors: tensor '%s': numel of shape overflows",
                                  name);
            prod *= dim;
        }
    }
    uint64_t numel = zero ? 0 : prod;

    /* data_offsets: [begin, end], begin <= end */
    uint64_t begin, end;
    if (!json_is(offsets, JSON_ARRAY) || json_count(offsets) != 2 ||
        !json_get_u64(json_array_get(offsets, 0), &begin) || !json_get_u64(json_array_get(offsets, 1), &end))
        return pixab_fail(PIXAB_ERR_FORMAT,
                          "safetensors: tensor '%s': data_offsets must be [begin, end] of integers in [0, 2^63)",
                          name);
    if (begin > end)
        return pixab_fail(PIXAB_ERR_FORMAT, "safetensors: tensor '%s': data_offsets begin %llu > end %llu",
                          name, (unsigned long long)begin, (unsigned long long)end);
    if (end > SIZE_MAX)
        return pixab_fail(PIXAB_ERR_FORMAT, "safetensors: tensor '%s': data_offsets end %llu is not addressable",
                          name, (unsigned long long)end);
    size_t dsize = dtypes[d].size;
    if (numel > (uint64_t)SIZE_MAX / dsize)
        return pixab_fail(PIXAB_ERR_FORMAT, "safetensors: tensor '%s': byte size numel %llu x %zu overflows",
                          name, (unsigned long long)numel, dsize);
    if (end - begin != numel * dsize)
        return pixab_fail(PIXAB_ERR_FORMAT,
                          "safetensors: tensor '%s': data size %llu bytes != numel %llu x %zu bytes (%s)", name,
                          (unsigned long long)(end - begin), (unsigned long long)numel, dsize, dtypes[d].name);
    t->begin = (size_t)begin;
    t->end = (size_t)end;
    return PIXAB_OK;
}

typedef struct {
    size_t begin, end;
    int idx;
} span;

static int span_cmp(const void *a, const void *b) {
    const span *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return (x->idx > y->idx) - (x->idx < y->idx);
}

static int name_cmp(const void *a, const void *b) {
    return strcmp((*(const st_tensor *const *)a)->name, (*(const st_tensor *const *)b)->name);
}

/* Sorted by begin, the tensors must tile [0, data_size) exactly. */
static pixab_status check_tiling(const safetensors *st) {
    char q[QN], q2[QN];
    int n = st->count;
    if (n == 0) {
        if (st->data_size)
            return pixab_fail(PIXAB_ERR_FORMAT, "safetensors: no tensors but the data buffer has %zu bytes",
                              st->data_size);
        return PIXAB_OK;
    }
    span *sp = malloc((size_t)n * sizeof *sp);
    if (!sp) return pixab_fail(PIXAB_ERR_NOMEM, "safetensors: out of memory (%d tensors)", n);
    for (int i = 0; i < n; i++) sp[i] = (span){st->tensors[i].begin, st->tensors[i].end, i};
    qsort(sp, (size_t)n, sizeof *sp, span_cmp);
    pixab_status s = PIXAB_OK;
    size_t pos = 0;
    const char *prev = NULL;
    for (int i = 0; i < n && s == PIXAB_OK; i++) {
        const st_tensor *t = &st->tensors[sp[i].idx];
        if (t->begin != pos) {
            if (!prev)
                s = pixab_fail(PIXAB_ERR_FORMAT,
                               "safetensors: hole at byte 0: first tensor '%s' starts at byte %zu, not 0",
                               qs(q, t->name), t->begin);
            else if (t->begin > pos)
                s = pixab_fail(PIXAB_ERR_FORMAT, "safetensors: hole in the data at bytes [%zu, %zu) between "
                               "tensors '%s' and '%s'", pos, t->begin, qs(q, prev), qs(q2, t->name));
            else
                s = pixab_fail(PIXAB_ERR_FORMAT, "safetensors: tensors '%s' and '%s' overlap at byte %zu",
                               qs(q, prev), qs(q2, t->name), t->begin);
        } else if (t->end > st->data_size) {
            s = pixab_fail(PIXAB_ERR_FORMAT, "safetensors: tensor '%s' ends at byte %zu, past the end of "
                           "the %zu-byte data buffer (file truncated?)", qs(q, t->name), t->end, st->data_size);
        }
        pos = t->end;
        prev = t->name;
    }
    if (s == PIXAB_OK && pos != st->data_size)
        s = pixab_fail(PIXAB_ERR_FORMAT, "safetensors: %zu trailing bytes after the last tensor '%s' "
                       "(tensors end at byte %zu, the data buffer has %zu)",
                       st->data_size - pos, qs(q, prev), pos, st->data_size);
    free(sp);
    return s;
}

static pixab_status build(safetensors *st, const json_value *root) {
    char q[QN];
    size_t nm = json_count(root), pool_size = 0;
    const json_value *meta = NULL;
    /* Pass 1: count, validate names and metadata, size the string pool. */
    for (size_t i = 0; i < nm; i++) {
        const json_member *m = json_object_member(root, i);
        if (memchr(m->key, '\0', m->key_len))
            return pixab_fail(PIXAB_ERR_FORMAT, "safetensors: key '%s' contains a NUL byte",
                              qn(q, m->key, m->key_len));
        if (is_key(m, "__metadata__")) {
            meta = &m->value;
            continue;
        }
        if (st->count == INT_MAX) return pixab_fail(PIXAB_ERR_FORMAT, "safetensors: too many tensors");
        st->count++;
        pool_size += m->key_len + 1; /* each key <= header size <= 1e8: no overflow */
    }
    if (meta) {
        if (!json_is(meta, JSON_OBJECT))
            return pixab_fail(PIXAB_ERR_FORMAT, "safetensors: __metadata__ is a %s, expected an object",
                              json_type_name(json_type_of(meta)));
        if (json_count(meta) > INT_MAX) return pixab_fail(PIXAB_ERR_FORMAT, "safetensors: too many metadata keys");
        for (size_t i = 0; i < json_count(meta); i++) {
            const json_member *m = json_object_member(meta, i);
            size_t vlen;
            const char *v = json_string(&m->value, &vlen);
            if (!v)
                return pixab_fail(PIXAB_ERR_FORMAT, "safetensors: __metadata__ value for '%s' is a %s, "
                                  "expected a string", qn(q, m->key, m->key_len),
                                  json_type_name(json_type_of(&m->value)));
            if (memchr(m->key, '\0', m->key_len) || memchr(v, '\0', vlen))
                return pixab_fail(PIXAB_ERR_FORMAT, "safetensors: __metadata__ entry '%s' contains a NUL byte",
                                  qn(q, m->key, m->key_len));
            pool_size += m->key_len + vlen + 2;
        }
        st->nmeta = (int)json_count(meta);
    }

    size_t nt = (size_t)st->count, nmt = (size_t)st->nmeta;
    st->tensors = calloc(nt ? nt : 1, sizeof *st->tensors);
    st->by_name = calloc(nt ? nt : 1, sizeof *st->by_name);
    st->meta = calloc(nmt ? 2 * nmt : 1, sizeof *st->meta);
    st->pool = malloc(pool_size ? pool_size : 1);
    if (!st->tensors || !st->by_name || !st->meta || !st->pool)
        return pixab_fail(PIXAB_ERR_NOMEM, "safetensors: out of memory (%d tensors)", st->count);

    /* Pass 2: copy strings, validate each entry. */
    char *w = st->pool;
    for (size_t i = 0; i < nmt; i++) {
        const json_member *m = json_object_member(meta, i);
        size_t vlen;
        const char *v = json_string(&m->value, &vlen);
        st->meta[2 * i] = memcpy(w, m->key, m->key_len + 1);
        w += m->key_len + 1;
        st->meta[2 * i + 1] = memcpy(w, v, vlen + 1);
        w += vlen + 1;
    }
    int k = 0;
    for (size_t i = 0; i < nm; i++) {
        const json_member *m = json_object_member(root, i);
        if (is_key(m, "__metadata__")) continue;
        st_tensor *t = &st->tensors[k];
        t->name = memcpy(w, m->key, m->key_len + 1);
        w += m->key_len + 1;
        pixab_status s = parse_entry(m, t);
        if (s != PIXAB_OK) return s;
        st->by_name[k] = t;
        k++;
    }
    pixab_status s = check_tiling(st);
    if (s != PIXAB_OK) return s;
    for (int i = 0; i < st->count; i++) /* in bounds now that the tiling holds */
        st->tensors[i].data = st->data + st->tensors[i].begin;
    qsort(st->by_name, nt, sizeof *st->by_name, name_cmp);
    return PIXAB_OK;
}

/* ---- public ------------------------------------------------------------------ */

pixab_status safetensors_parse(const void *buf, size_t size, safetensors **out) {
    if (!out) return pixab_fail(PIXAB_ERR_ARG, "safetensors_parse: out is NULL");
    *out = NULL;
    if (!buf && size) return pixab_fail(PIXAB_ERR_ARG, "safetensors_parse: NULL buffer of %zu bytes", size);
    if (!host_is_little_endian())
        return pixab_fail(PIXAB_ERR_UNSUPPORTED, "safetensors: a big-endian host is not supported");
    const unsigned char *b = buf;
    if (size < 8)
        return pixab_fail(PIXAB_ERR_FORMAT, "safetensors: file is truncated: %zu bytes, need at least 8 "
                          "for the header length", size);
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--) n = (n << 8) | b[i];
    if (n > SAFETENSORS_MAX_HEADER)
        return pixab_fail(PIXAB_ERR_FORMAT, "safetensors: header length %llu exceeds the limit of %u bytes",
                          (unsigned long long)n, SAFETENSORS_MAX_HEADER);
    if (n > size - 8)
        return pixab_fail(PIXAB_ERR_FORMAT,
                          "safetensors: header length %llu exceeds the %zu bytes after the length field "
                          "(file size %zu; truncated file?)", (unsigned long long)n, size - 8, size);
    const char *hdr = (const char *)b + 8;
    if (n == 0 || hdr[0] != '{')
        return pixab_fail(PIXAB_ERR_FORMAT, "safetensors: invalid JSON header: %s",
                          n == 0 ? "the header is empty" : "it does not start with '{'");

    json_value *root;
    char err[160];
    json_status js = json_parse(hdr, (size_t)n, &root, err, sizeof err);
    if (js == JSON_ERR_NOMEM)
        return pixab_fail(PIXAB_ERR_NOMEM, "safetensors: out of memory parsing a %llu-byte header",
                          (unsigned long long)n);
    if (js == JSON_ERR_DUPLICATE) return pixab_fail(PIXAB_ERR_FORMAT, "safetensors: %s", err);
    if (js != JSON_OK) return pixab_fail(PIXAB_ERR_FORMAT, "safetensors: invalid JSON header: %s", err);

    safetensors *st = calloc(1, sizeof *st);
    if (!st) {
        json_free(root);
        return pixab_fail(PIXAB_ERR_NOMEM, "safetensors: out of memory");
    }
    st->data = b + 8 + n;
    st->data_size = size - 8 - (size_t)n;
    pixab_status s = json_is(root, JSON_OBJECT)
                         ? build(st, root)
                         : pixab_fail(PIXAB_ERR_FORMAT, "safetensors: invalid JSON header: not an object");
    json_free(root);
    if (s != PIXAB_OK) {
        safetensors_close(st);
        return s;
    }
    *out = st;
    return PIXAB_OK;
}

pixab_status safetensors_open(const char *path, safetensors **out) {
    if (!out) return pixab_fail(PIXAB_ERR_ARG, "safetensors_open: out is NULL");
    *out = NULL;
    if (!path) return pixab_fail(PIXAB_ERR_ARG, "safetensors_open: path is NULL");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return pixab_fail(PIXAB_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        int e = errno;
        close(fd);
        return pixab_fail(PIXAB_ERR_IO, "cannot stat '%s': %s", path, strerror(e));
    }
    if (!S_ISREG(sb.st_mode)) {
        close(fd);
        return pixab_fail(PIXAB_ERR_IO, "cannot map '%s': not a regular file", path);
    }
    if (sb.st_size < 0 || (uintmax_t)sb.st_size > SIZE_MAX) {
        close(fd);
        return pixab_fail(PIXAB_ERR_IO, "cannot map '%s': file too large", path);
    }
    size_t size = (size_t)sb.st_size;
    void *map = NULL;
    if (size > 0) { /* an empty file cannot be mapped; it fails the parse as truncated */
        map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map == MAP_FAILED) {
            int e = errno;
            close(fd);
            return pixab_fail(PIXAB_ERR_IO, "cannot mmap '%s': %s", path, strerror(e));
        }
    }
    close(fd); /* the mapping stays valid */
    safetensors *st;
    pixab_status s = safetensors_parse(map, size, &st);
    if (s != PIXAB_OK) {
        if (map) munmap(map, size);
        return pixab_fail_context(s, "%s", path);
    }
    st->map = map;
    st->map_size = size;
    *out = st;
    return PIXAB_OK;
}

void safetensors_close(safetensors *st) {
    if (!st) return;
    if (st->map) munmap(st->map, st->map_size);
    free(st->tensors);
    free(st->by_name);
    free(st->meta);
    free(st->pool);
    free(st);
}

int safetensors_count(const safetensors *st) { return st ? st->count : 0; }

const st_tensor *safetensors_at(const safetensors *st, int i) {
    if (!st || i < 0 || i >= st->count) return NULL;
    return &st->tensors[i];
}

const st_tensor *safetensors_find(const safetensors *st, const char *name) {
    if (!st || !name) return NULL;
    int lo = 0, hi = st->count - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        int c = strcmp(name, st->by_name[mid]->name);
        if (c == 0) return st->by_name[mid];
        if (c < 0) hi = mid - 1;
        else lo = mid + 1;
    }
    return NULL;
}

const char *safetensors_meta(const safetensors *st, const char *key) {
    if (!st || !key) return NULL;
    for (int i = 0; i < st->nmeta; i++)
        if (strcmp(st->meta[2 * i], key) == 0) return st->meta[2 * i + 1];
    return NULL;
}

pixab_status safetensors_get(const safetensors *st, const char *name, int ndim, const int64_t *shape,
                             const st_tensor **out) {
    char q[QN], got[256], want[256];
    if (out) *out = NULL;
    if (!st || !name || ndim < 0 || ndim > SAFETENSORS_MAX_DIMS || (ndim > 0 && !shape))
        return pixab_fail(PIXAB_ERR_ARG, "safetensors_get: bad argument");
    const st_tensor *t = safetensors_find(st, name);
    if (!t) return pixab_fail(PIXAB_ERR_SHAPE, "missing tensor '%s'", qs(q, name));
    bool ok = t->ndim == ndim;
    for (int i = 0; ok && i < ndim; i++) ok = shape[i] < 0 || shape[i] == t->shape[i];
    if (!ok)
        return pixab_fail(PIXAB_ERR_SHAPE, "tensor '%s' has shape %s, expected %s", qs(q, name),
                          fmt_shape(got, sizeof got, t->ndim, t->shape), fmt_shape(want, sizeof want, ndim, shape));
    if (out) *out = t;
    return PIXAB_OK;
}

float safetensors_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h >> 15) << 31, e = (h >> 10) & 0x1F, m = h & 0x3FF, bits;
    if (e == 0) {
        float f = (float)m * 0x1p-24f; /* zero or subnormal: m * 2^-24, exact */
        memcpy(&bits, &f, 4);
        bits |= sign;
    } else if (e == 31) {
        bits = sign | 0x7F800000u | (m << 13);
    } else {
        bits = sign | ((e + 112) << 23) | (m << 13); /* rebias 15 -> 127 */
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

pixab_status safetensors_to_f32(const st_tensor *t, float *out) {
    char q[QN];
    if (!t || !t->name) return pixab_fail(PIXAB_ERR_ARG, "safetensors_to_f32: tensor is NULL");
    size_t n = (size_t)safetensors_numel(t);
    if (n && (!out || !t->data)) return pixab_fail(PIXAB_ERR_ARG, "safetensors_to_f32: NULL buffer");
    const unsigned char *p = t->data;
    switch (t->dtype) {
    case ST_F32:
        if (n) memcpy(out, p, n * 4);
        return PIXAB_OK;
    case ST_F16:
        for (size_t i = 0; i < n; i++) {
            uint16_t h;
            memcpy(&h, p + 2 * i, 2);
            out[i] = safetensors_f16_to_f32(h);
        }
        return PIXAB_OK;
    case ST_BF16:
        for (size_t i = 0; i < n; i++) {
            uint16_t h;
            memcpy(&h, p + 2 * i, 2);
            uint32_t bits = (uint32_t)h << 16;
            memcpy(&out[i], &bits, 4);
        }
        return PIXAB_OK;
    default:
        return pixab_fail(PIXAB_ERR_FORMAT, "safetensors: tensor '%s' has dtype %s, expected F32, F16 or BF16",
                          qs(q, t->name), safetensors_dtype_name(t->dtype));
    }
}
