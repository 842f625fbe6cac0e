/* npy.c — float32 .npy writer (numpy 1.24's exact bytes, through temp_file.h) and a
 * strict reader (see npy.h). Format: numpy/lib/format.py (NEP 1). */
#define _POSIX_C_SOURCE 200809L

#include "npy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "temp_file.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "npy.c writes and reads '<f4' data as native floats: little-endian hosts only"
#endif

#define NPY_MAGIC "\x93NUMPY"
#define NPY_MAGIC_LEN 6
#define NPY_ALIGN 64               /* numpy's ARRAY_ALIGN */
#define NPY_GROWTH_DIGITS 21       /* numpy's GROWTH_AXIS_MAX_DIGITS (>= 1.23) */
#define NPY_MAX_HEADER (1u << 20)  /* a float32 header is < 1 KiB; refuse absurd lengths */
#define NPY_MAX_ELEMENTS ((int64_t)1 << 40)

/* ---- shared ---------------------------------------------------------------- */

/* Python's repr of the shape tuple: "()", "(3,)", "(2, 3)". Returns the length
 * (snprintf style: may exceed cap). */
static int npy_shape_repr(char *buf, size_t cap, int ndim, const int64_t *shape) {
    int n = snprintf(buf, cap, "(");
    for (int i = 0; i < ndim; i++) {
        size_t used = (size_t)n < cap ? (size_t)n : cap;
        n += snprintf(buf + used, cap - used, "%s%lld", i ? ", " : "", (long long)shape[i]);
    }
    size_t used = (size_t)n < cap ? (size_t)n : cap;
    n += snprintf(buf + used, cap - used, ndim == 1 ? ",)" : ")");
    return n;
}

/* numel of a shape, or -1 when a dimension is negative or the product exceeds
 * NPY_MAX_ELEMENTS. */
static int64_t npy_numel(int ndim, const int64_t *shape) {
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0 || shape[i] > NPY_MAX_ELEMENTS) return -1;
        if (shape[i] == 0) n = 0;
        else if (n > NPY_MAX_ELEMENTS / shape[i]) return -1;
        else n *= shape[i];
    }
    return n;
}

/* ---- writer ---------------------------------------------------------------- */

/* The complete preamble + header for a C-order '<f4' array, as numpy 1.24's
 * _write_array_header builds it: sorted dict repr, spare spaces so the first
 * axis can grow to 21 digits, then spaces up to a multiple of 64 bytes and '\n'.
 * Returns the byte count, 0 when cap is too small. */
static size_t npy_header(unsigned char *buf, size_t cap, int ndim, const int64_t *shape) {
    char shape_s[NPY_MAX_DIMS * 24 + 8];
    npy_shape_repr(shape_s, sizeof shape_s, ndim, shape);
    char dict[sizeof shape_s + 128];
    int n = snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, 'shape': %s, }",
                     shape_s);
    size_t dlen = (size_t)n;
    if (ndim > 0) {
        char first[24];
        int digits = snprintf(first, sizeof first, "%lld", (long long)shape[0]);
        for (int i = digits; i < NPY_GROWTH_DIGITS; i++) dict[dlen++] = ' ';
    }
    size_t hlen = dlen + 1; /* + '\n' */
    size_t pad = NPY_ALIGN - (NPY_MAGIC_LEN + 2 + 2 + hlen) % NPY_ALIGN;
    size_t total = NPY_MAGIC_LEN + 2 + 2 + hlen + pad;
    if (total > cap || hlen + pad > 65535) return 0;
    memcpy(buf, NPY_MAGIC, NPY_MAGIC_LEN);
    buf[6] = 1; /* version 1.0 */
    buf[7] = 0;
    buf[8] = (unsigned char)((hlen + pad) & 0xff);
    buf[9] = (unsigned char)((hlen + pad) >> 8);
    memcpy(buf + 10, dict, dlen);
    memset(buf + 10 + dlen, ' ', pad);
    buf[total - 1] = '\n';
    return total;
}

pixab_status npy_write_f32(const char *path, const float *data, int ndim, const int64_t *shape) {
    if (!path) return pixab_fail(PIXAB_ERR_ARG, "npy_write_f32: path is NULL");
    if (ndim < 0 || ndim > NPY_MAX_DIMS || (ndim > 0 && !shape))
        return pixab_fail(PIXAB_ERR_ARG, "cannot write '%s': %d dimensions (0..%d)", path, ndim,
                          NPY_MAX_DIMS);
    int64_t numel = npy_numel(ndim, shape);
    if (numel < 0)
        return pixab_fail(PIXAB_ERR_ARG, "cannot write '%s': negative or too large shape", path);
    if (numel > 0 && !data) return pixab_fail(PIXAB_ERR_ARG, "cannot write '%s': data is NULL", path);

    unsigned char head[2048];
    size_t hsize = npy_header(head, sizeof head, ndim, shape);
    if (!hsize) return pixab_fail(PIXAB_ERR_ARG, "cannot write '%s': header too long", path);

    temp_file t;
    int e = temp_file_open(&t, path);
    if (e) return pixab_fail(PIXAB_ERR_IO, "cannot write '%s': %s", path, strerror(e));
    int ok = fwrite(head, 1, hsize, t.f) == hsize;
    if (ok && numel > 0) ok = fwrite(data, sizeof(float), (size_t)numel, t.f) == (size_t)numel;
    if ((e = temp_file_close(&t, ok ? 0 : errno ? errno : EIO)))
        return pixab_fail(PIXAB_ERR_IO, "cannot write '%s': %s", path, strerror(e));
    return PIXAB_OK;
}

/* ---- reader ---------------------------------------------------------------- */

typedef struct {
    const char *s, *end;
    const char *begin; /* for positions in errors */
} npy_cursor;

static void npy_skip_ws(npy_cursor *c) {
    while (c->s < c->end && (*c->s == ' ' || *c->s == '\t' || *c->s == '\n' || *c->s == '\r')) c->s++;
}

static int npy_accept(npy_cursor *c, char ch) {
    npy_skip_ws(c);
    if (c->s < c->end && *c->s == ch) {
        c->s++;
        return 1;
    }
    return 0;
}

/* A Python string literal in ' or " without escapes, copied to out. */
static int npy_string(npy_cursor *c, char *out, size_t cap) {
    npy_skip_ws(c);
    if (c->s >= c->end || (*c->s != '\'' && *c->s != '"')) return 0;
    char q = *c->s++;
    size_t n = 0;
    while (c->s < c->end && *c->s != q) {
        if (*c->s == '\\' || n + 1 >= cap) return 0;
        out[n++] = *c->s++;
    }
    if (c->s >= c->end) return 0;
    c->s++;
    out[n] = '\0';
    return 1;
}

static int npy_word(npy_cursor *c, const char *w) {
    npy_skip_ws(c);
    size_t n = strlen(w);
    if ((size_t)(c->end - c->s) < n || memcmp(c->s, w, n) != 0) return 0;
    c->s += n;
    return 1;
}

/* A Python tuple of non-negative decimal ints: "()", "(3,)", "(2, 3)", "(2, 3,)". */
static int npy_tuple(npy_cursor *c, npy_array *a) {
    if (!npy_accept(c, '(')) return 0;
    a->ndim = 0;
    if (npy_accept(c, ')')) return 1;
    for (;;) {
        npy_skip_ws(c);
        if (c->s >= c->end || *c->s < '0' || *c->s > '9' || a->ndim == NPY_MAX_DIMS) return 0;
        int64_t v = 0;
        while (c->s < c->end && *c->s >= '0' && *c->s <= '9') {
            if (v > NPY_MAX_ELEMENTS) return 0;
            v = v * 10 + (*c->s++ - '0');
        }
        a->shape[a->ndim++] = v;
        int comma = npy_accept(c, ',');
        if (npy_accept(c, ')')) return a->ndim > 1 || comma; /* "(3)" is an int, not a tuple */
        if (!comma) return 0;
    }
}

/* Parse the header dict (h, hlen bytes) into a's shape. */
static pixab_status npy_dict(const char *h, size_t hlen, const char *label, npy_array *a) {
    npy_cursor c = {h, h + hlen, h};
    int have_descr = 0, have_order = 0, have_shape = 0;
    char key[32], val[32];
    if (hlen == 0 || h[hlen - 1] != '\n')
        return pixab_fail(PIXAB_ERR_FORMAT, "%s: .npy header does not end in a newline", label);
    if (!npy_accept(&c, '{')) goto bad;
    while (!npy_accept(&c, '}')) {
        if (!npy_string(&c, key, sizeof key) || !npy_accept(&c, ':')) goto bad;
        if (strcmp(key, "descr") == 0 && !have_descr) {
            if (!npy_string(&c, val, sizeof val)) goto bad;
            if (strcmp(val, "<f4") != 0)
                return pixab_fail(PIXAB_ERR_FORMAT,
                                  "%s: .npy dtype is '%s', expected '<f4' (little-endian float32)",
                                  label, val);
            have_descr = 1;
        } else if (strcmp(key, "fortran_order") == 0 && !have_order) {
            if (npy_word(&c, "True"))
                return pixab_fail(PIXAB_ERR_FORMAT,
                                  "%s: .npy array is in Fortran order; only C order is supported",
                                  label);
            if (!npy_word(&c, "False")) goto bad;
            have_order = 1;
        } else if (strcmp(key, "shape") == 0 && !have_shape) {
            if (!npy_tuple(&c, a)) goto bad;
            have_shape = 1;
        } else {
            return pixab_fail(PIXAB_ERR_FORMAT, "%s: .npy header has an unexpected or repeated key '%s'",
                              label, key);
        }
        if (!npy_accept(&c, ',')) {
            if (!npy_accept(&c, '}')) goto bad;
            break;
        }
    }
    npy_skip_ws(&c);
    if (c.s != c.end) goto bad;
    if (!have_descr || !have_order || !have_shape)
        return pixab_fail(PIXAB_ERR_FORMAT, "%s: .npy header lacks '%s'", label,
                          !have_descr ? "descr" : !have_order ? "fortran_order" : "shape");
    a->numel = npy_numel(a->ndim, a->shape);
    if (a->numel < 0)
        return pixab_fail(PIXAB_ERR_FORMAT, "%s: .npy shape is too large", label);
    return PIXAB_OK;
bad:
    return pixab_fail(PIXAB_ERR_FORMAT, "%s: malformed .npy header at header byte %d", label,
                      (int)(c.s - c.begin));
}

/* Magic and version from the first 8 bytes; sets the preamble size (10 or 12). */
static pixab_status npy_version(const unsigned char *p, const char *label, size_t *pre) {
    if (memcmp(p, NPY_MAGIC, NPY_MAGIC_LEN) != 0)
        return pixab_fail(PIXAB_ERR_FORMAT, "%s is not a .npy file (bad magic)", label);
    if ((p[6] != 1 && p[6] != 2) || p[7] != 0)
        return pixab_fail(PIXAB_ERR_FORMAT, "%s: unsupported .npy version %d.%d (need 1.0 or 2.0)",
                          label, p[6], p[7]);
    *pre = p[6] == 1 ? 10 : 12;
    return PIXAB_OK;
}

static size_t npy_header_len(const unsigned char *p, size_t pre) {
    return pre == 10 ? (size_t)p[8] | (size_t)p[9] << 8
                     : (size_t)p[8] | (size_t)p[9] << 8 | (size_t)p[10] << 16 | (size_t)p[11] << 24;
}

/* Data size check: exactly numel floats after the header. */
static pixab_status npy_check_size(const npy_array *a, size_t data_bytes, const char *label) {
    if ((uint64_t)a->numel * sizeof(float) != (uint64_t)data_bytes) {
        char s[NPY_MAX_DIMS * 24 + 8];
        npy_shape_repr(s, sizeof s, a->ndim, a->shape);
        return pixab_fail(PIXAB_ERR_FORMAT,
                          "%s: .npy data is %zu bytes, shape %s needs %llu", label, data_bytes, s,
                          (unsigned long long)a->numel * sizeof(float));
    }
    return PIXAB_OK;
}

static pixab_status npy_alloc(npy_array *a, const char *label) {
    size_t n = a->numel > 0 ? (size_t)a->numel : 1;
    a->data = malloc(n * sizeof(float));
    if (!a->data)
        return pixab_fail(PIXAB_ERR_NOMEM, "%s: out of memory for %lld floats", label,
                          (long long)a->numel);
    return PIXAB_OK;
}

static void npy_reset(npy_array *a) { memset(a, 0, sizeof *a); }

pixab_status npy_parse_f32(const void *buf, size_t size, npy_array *out) {
    if (!out) return pixab_fail(PIXAB_ERR_ARG, "npy_parse_f32: out is NULL");
    npy_reset(out);
    if (!buf && size) return pixab_fail(PIXAB_ERR_ARG, "npy_parse_f32: buffer is NULL");
    const char *label = ".npy buffer";
    const unsigned char *p = buf;
    size_t pre = 0;
    if (size < 10) return pixab_fail(PIXAB_ERR_FORMAT, "%s is too short (%zu bytes)", label, size);
    pixab_status s = npy_version(p, label, &pre);
    if (s != PIXAB_OK) return s;
    if (size < pre) return pixab_fail(PIXAB_ERR_FORMAT, "%s is too short (%zu bytes)", label, size);
    size_t hlen = npy_header_len(p, pre);
    if (hlen > NPY_MAX_HEADER || hlen > size - pre)
        return pixab_fail(PIXAB_ERR_FORMAT, "%s: .npy header length %zu runs past the end", label, hlen);
    if ((s = npy_dict((const char *)p + pre, hlen, label, out)) != PIXAB_OK ||
        (s = npy_check_size(out, size - pre - hlen, label)) != PIXAB_OK ||
        (s = npy_alloc(out, label)) != PIXAB_OK) {
        npy_reset(out);
        return s;
    }
    if (out->numel > 0) memcpy(out->data, p + pre + hlen, (size_t)out->numel * sizeof(float));
    return PIXAB_OK;
}

pixab_status npy_read_f32(const char *path, npy_array *out) {
    if (!out) return pixab_fail(PIXAB_ERR_ARG, "npy_read_f32: out is NULL");
    npy_reset(out);
    if (!path) return pixab_fail(PIXAB_ERR_ARG, "npy_read_f32: path is NULL");
    char label[300];
    snprintf(label, sizeof label, "'%s'", path);

    FILE *f = fopen(path, "rb");
    if (!f) return pixab_fail(PIXAB_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
    pixab_status s = PIXAB_OK;
    char *head = NULL;
    long fsize = -1;
    if (fseek(f, 0, SEEK_END) != 0 || (fsize = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        s = pixab_fail(PIXAB_ERR_IO, "cannot read '%s': %s", path, strerror(errno));
        goto done;
    }
    unsigned char pre_b[12];
    size_t pre = 0;
    if (fsize < 10 || fread(pre_b, 1, 10, f) != 10) {
        s = ferror(f) ? pixab_fail(PIXAB_ERR_IO, "cannot read '%s': %s", path, strerror(errno))
                      : pixab_fail(PIXAB_ERR_FORMAT, "%s is too short for a .npy file (%ld bytes)",
                                   label, fsize);
        goto done;
    }
    if ((s = npy_version(pre_b, label, &pre)) != PIXAB_OK) goto done;
    if (pre == 12 && fread(pre_b + 10, 1, 2, f) != 2) {
        s = pixab_fail(PIXAB_ERR_FORMAT, "%s is too short for a .npy file", label);
        goto done;
    }
    size_t hlen = npy_header_len(pre_b, pre);
    if (hlen > NPY_MAX_HEADER || hlen > (size_t)fsize - pre) {
        s = pixab_fail(PIXAB_ERR_FORMAT, "%s: .npy header length %zu runs past the end", label, hlen);
        goto done;
    }
    head = malloc(hlen ? hlen : 1);
    if (!head) {
        s = pixab_fail(PIXAB_ERR_NOMEM, "%s: out of memory", label);
        goto done;
    }
    if (fread(head, 1, hlen, f) != hlen) {
        s = pixab_fail(PIXAB_ERR_IO, "cannot read '%s': %s", path,
                       ferror(f) ? strerror(errno) : "unexpected end of file");
        goto done;
    }
    if ((s = npy_dict(head, hlen, label, out)) != PIXAB_OK ||
        (s = npy_check_size(out, (size_t)fsize - pre - hlen, label)) != PIXAB_OK ||
        (s = npy_alloc(out, label)) != PIXAB_OK)
        goto done;
    if (out->numel > 0 && fread(out->data, sizeof(float), (size_t)out->numel, f) != (size_t)out->numel) {
        s = pixab_fail(PIXAB_ERR_IO, "cannot read '%s': %s", path,
                       ferror(f) ? strerror(errno) : "file shrank while reading");
        goto done;
    }
done:
    free(head);
    fclose(f);
    if (s != PIXAB_OK) {
        free(out->data);
        npy_reset(out);
    }
    return s;
}

void npy_free(npy_array *a) {
    if (!a) return;
    free(a->data);
    npy_reset(a);
}
