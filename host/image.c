/* image.c — decoding image files into 8-bit RGB (stb_image; gray -> RGB, alpha
 * dropped) with a size check before any pixel is decoded, and the CPU
 * preprocessing to the network input, which runs the same per-element code as
 * the CUDA kernel (kernels/preprocess.cuh). */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stb_image.h>

#include "error.h"
#include "pixab.h"
#include "preprocess.cuh"

/* Files of this size or more are refused unread: an uncompressed 16-bit RGBA PNG
 * or a 32-bit BMP at PIXAB_IMAGE_MAX_PIXELS stays well below it, and stb takes
 * an int length. */
#define IMAGE_MAX_FILE_BYTES ((size_t)1 << 30)

/* Big- and little-endian integers of a header, as long long. */
#define BE16(p) (((long long)(p)[0] << 8) | (long long)(p)[1])
#define LE16(p) (((long long)(p)[1] << 8) | (long long)(p)[0])
#define BE32(p) ((BE16(p) << 16) | BE16((p) + 2))
#define LE32(p) ((LE16((p) + 2) << 16) | LE16(p))

/* ---- guards for stb_image 2.27 (Debian's libstb-dev) --------------------------
 * Fuzzing found memory-safety bugs in this stb_image version that later upstream
 * versions fix. Files that would reach them are refused here, before stb reads
 * them; each walker follows stb's own parsing rules, so it sees what stb sees. */

typedef struct {
    long long w, h, maxval; /* the three header integers */
    size_t data;            /* offset of the pixel data */
    int overflow;           /* an integer did not fit in an int */
} image_pnm;

/* A binary PNM header (P5/P6) read exactly as stbi__pnm_info reads it: the same
 * whitespace, comment and end-of-data rules, so the same tokens. */
static image_pnm image_pnm_header(const unsigned char *d, size_t n) {
    image_pnm r = {0, 0, 0, 0, 0};
    long long *v[3] = {&r.w, &r.h, &r.maxval};
    size_t pos = 2; /* after "P5" / "P6" */
#define PNM_GET8() (pos < n ? d[pos++] : 0)
#define PNM_EOF() (pos >= n)
#define PNM_SPACE(ch) ((ch) == ' ' || ((ch) >= '\t' && (ch) <= '\r'))
    unsigned char c = PNM_GET8();
    for (int k = 0; k < 3; k++) {
        for (;;) { /* stbi__pnm_skip_whitespace */
            while (!PNM_EOF() && PNM_SPACE(c)) c = PNM_GET8();
            if (PNM_EOF() || c != '#') break;
            while (!PNM_EOF() && c != '\n' && c != '\r') c = PNM_GET8();
        }
        while (!PNM_EOF() && c >= '0' && c <= '9') { /* stbi__pnm_getinteger */
            *v[k] = *v[k] * 10 + (c - '0');
            if (*v[k] > INT_MAX) {
                r.overflow = 1;
                return r;
            }
            c = PNM_GET8();
        }
    }
#undef PNM_GET8
#undef PNM_EOF
#undef PNM_SPACE
    r.data = pos; /* stb has consumed the one whitespace byte after maxval */
    return r;
}

/* stbi__process_marker's DHT reading, from just after the length field, with
 * stb's get8 returning 0 past the end: 1 when every table has at most 256 codes
 * (stb 2.27 writes past its 256-entry tables otherwise). */
static int image_jpeg_dht_ok(const unsigned char *d, size_t n, size_t pos, long long len) {
    long long L = len - 2;
    while (L > 0) {
        pos++; /* table class / id: stb rejects bad ones itself */
        long long codes = 0;
        for (int i = 0; i < 16; i++, pos++) codes += pos < n ? d[pos] : 0;
        if (codes > 256) return 0;
        pos += (size_t)codes;
        L -= 17 + codes;
    }
    return 1;
}

/* Every DHT segment stb could read: segments are walked by their lengths (stb
 * skips or parses exactly that much, or fails), stray bytes between them are
 * skipped one by one (stb's resynchronisation), and after a SOS header the
 * entropy-coded data runs to the first marker that is not a stuffed 0xFF00 or a
 * restart marker, as stb's decoder reads it. Stops at EOI, as stb does. */
static int image_jpeg_ok(const unsigned char *d, size_t n) {
    size_t i = 2; /* after SOI */
    int in_scan = 0;
    while (i < n) {
        if (d[i] != 0xFF) {
            i++;
            continue;
        }
        size_t j = i + 1;
        while (j < n && d[j] == 0xFF) j++; /* fill bytes */
        if (j >= n) break;
        unsigned m = d[j];
        if (in_scan && (m == 0x00 || (m >= 0xD0 && m <= 0xD7))) { /* still entropy data */
            i = j + 1;
            continue;
        }
        in_scan = 0;
        if (m == 0xD9) break; /* EOI */
        if (m == 0x00 || m == 0x01 || (m >= 0xD0 && m <= 0xD8)) { /* no length field */
            i = j + 1;
            continue;
        }
        if (j + 2 >= n) break;
        long long len = BE16(d + j + 1);
        if (m == 0xC4 && !image_jpeg_dht_ok(d, n, j + 3, len)) return 0;
        if (m == 0xDA) in_scan = 1;
        i = j + 1 + (size_t)len;
    }
    return 1;
}

/* Refuse files that would reach a known stb_image 2.27 bug. */
static pixab_status image_stb_guard(const unsigned char *d, size_t n, const char *label) {
    if (n >= 2 && d[0] == 'P' && (d[1] == '5' || d[1] == '6')) {
        image_pnm h = image_pnm_header(d, n);
        if (h.overflow) /* stb's int parser would overflow */
            return pixab_fail(PIXAB_ERR_FORMAT,
                              "%s has a corrupt header (a size does not fit in 32 bits)", label);
        if (h.maxval > 255) /* stb 2.27 mishandles 16-bit gray PNM */
            return pixab_fail(PIXAB_ERR_FORMAT, "%s: 16-bit PNM (maxval %lld) is not supported",
                              label, h.maxval);
        long long need = h.w * h.h * (d[1] == '6' ? 3 : 1); /* sizes already checked */
        if ((long long)(n - h.data) < need) /* stb would return uninitialised pixels */
            return pixab_fail(PIXAB_ERR_FORMAT, "%s is truncated (%zu of %lld pixel bytes)", label,
                              n - h.data, need);
    }
    if (n >= 2 && d[0] == 0xFF && d[1] == 0xD8 && !image_jpeg_ok(d, n))
        return pixab_fail(PIXAB_ERR_FORMAT,
                          "%s is corrupt (a Huffman table declares more than 256 codes)", label);
    return PIXAB_OK;
}

/* Dimensions from the header of a PNG, GIF, BMP, JPEG or PNM file, read without
 * stb: stb's own header scan refuses some huge images without saying how big
 * they are, and a size limit should be reported as one. Returns 1 when found,
 * 0 when not one of these formats. */
static int image_sniff_size(const unsigned char *d, size_t n, long long *w, long long *h) {
    if (n >= 24 && memcmp(d, "\x89PNG\r\n\x1a\n", 8) == 0 && memcmp(d + 12, "IHDR", 4) == 0) {
        *w = BE32(d + 16);
        *h = BE32(d + 20);
        return 1;
    }
    if (n >= 10 && (memcmp(d, "GIF87a", 6) == 0 || memcmp(d, "GIF89a", 6) == 0)) {
        *w = LE16(d + 6);
        *h = LE16(d + 8);
        return 1;
    }
    if (n >= 26 && d[0] == 'B' && d[1] == 'M') {
        long long hsz = LE32(d + 14);
        if (hsz == 12) { /* OS/2 BITMAPCOREHEADER: 16-bit sizes */
            *w = LE16(d + 18);
            *h = LE16(d + 20);
        } else { /* signed 32-bit; a negative height means top-down rows */
            *w = (int32_t)(uint32_t)LE32(d + 18);
            *h = (int32_t)(uint32_t)LE32(d + 22);
            if (*w < 0) *w = -*w;
            if (*h < 0) *h = -*h;
        }
        return 1;
    }
    if (n >= 2 && d[0] == 'P' && (d[1] == '5' || d[1] == '6')) {
        image_pnm p = image_pnm_header(d, n);
        if (p.overflow) return 0; /* image_stb_guard reports it */
        *w = p.w;
        *h = p.h;
        return 1;
    }
    if (n >= 4 && d[0] == 0xFF && d[1] == 0xD8) { /* JPEG: walk the markers up to a SOFn */
        size_t i = 2;
        while (i + 4 <= n && d[i] == 0xFF) {
            unsigned m = d[i + 1];
            if (m == 0xFF) { /* fill byte */
                i++;
                continue;
            }
            if (m == 0x01 || (m >= 0xD0 && m <= 0xD8)) { /* markers without a length */
                i += 2;
                continue;
            }
            size_t len = (size_t)BE16(d + i + 2);
            if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) {
                if (i + 9 > n) return 0;
                *h = BE16(d + i + 5);
                *w = BE16(d + i + 7);
                return 1;
            }
            if (len < 2) return 0;
            i += 2 + len;
        }
    }
    return 0;
}

static int image_too_large(long long w, long long h) {
    return w > PIXAB_IMAGE_MAX_SIDE || h > PIXAB_IMAGE_MAX_SIDE || w * h > PIXAB_IMAGE_MAX_PIXELS;
}

/* Decode data[0..size) into out. `label` names the source in errors
 * ("image 'cat.jpg'"). The header is read first (stbi_info) and its dimensions
 * are checked against the limits before stb allocates or decodes anything. */
static pixab_status image_decode(const unsigned char *data, size_t size, const char *label,
                                 pixab_image *out) {
    if (size == 0) return pixab_fail(PIXAB_ERR_FORMAT, "%s is empty", label);
    if (size >= IMAGE_MAX_FILE_BYTES)
        return pixab_fail(PIXAB_ERR_FORMAT, "%s is too large (%zu bytes, limit %zu)", label, size,
                          IMAGE_MAX_FILE_BYTES);

    /* Size limits first, from the header alone: nothing is allocated or decoded
     * for an image that is too large (decompression bombs). */
    long long sw = 0, sh = 0;
    if (image_sniff_size(data, size, &sw, &sh)) {
        if (sw == 0 || sh == 0)
            return pixab_fail(PIXAB_ERR_FORMAT, "%s has zero size (%lldx%lld)", label, sw, sh);
        if (image_too_large(sw, sh))
            return pixab_fail(PIXAB_ERR_FORMAT,
                              "%s is too large: %lldx%lld (limit %d pixels per side, %d pixels)",
                              label, sw, sh, PIXAB_IMAGE_MAX_SIDE, PIXAB_IMAGE_MAX_PIXELS);
    }
    pixab_status s = image_stb_guard(data, size, label);
    if (s != PIXAB_OK) return s;
    int w = 0, h = 0, comp = 0;
    if (!stbi_info_from_memory(data, (int)size, &w, &h, &comp))
        return pixab_fail(PIXAB_ERR_FORMAT,
                          "%s is not a supported image (JPEG, PNG, BMP, GIF, TGA, PNM) or its "
                          "header is corrupt",
                          label);
    if (w <= 0 || h <= 0) return pixab_fail(PIXAB_ERR_FORMAT, "%s has zero size (%dx%d)", label, w, h);
    if (image_too_large(w, h))
        return pixab_fail(PIXAB_ERR_FORMAT,
                          "%s is too large: %dx%d (limit %d pixels per side, %d pixels)", label, w,
                          h, PIXAB_IMAGE_MAX_SIDE, PIXAB_IMAGE_MAX_PIXELS);

    int dw = 0, dh = 0, dcomp = 0;
    unsigned char *rgb = stbi_load_from_memory(data, (int)size, &dw, &dh, &dcomp, 3);
    if (!rgb) {
        const char *why = stbi_failure_reason();
        if (why && strcmp(why, "outofmem") == 0)
            return pixab_fail(PIXAB_ERR_NOMEM, "%s: out of memory decoding %dx%d pixels", label, w, h);
        return pixab_fail(PIXAB_ERR_FORMAT, "%s is corrupt or truncated (stb_image: %s)", label,
                          why ? why : "decoder error");
    }
    if (dw != w || dh != h) { /* header and decoder disagree: never trust either */
        stbi_image_free(rgb);
        return pixab_fail(PIXAB_ERR_FORMAT, "%s is corrupt (header says %dx%d, data %dx%d)", label, w,
                          h, dw, dh);
    }
    out->width = w;
    out->height = h;
    out->rgb = rgb; /* malloc'd by stb (STBI_MALLOC = malloc) */
    return PIXAB_OK;
}

/* Read a whole file into a malloc'd buffer (no size hint needed: works for
 * pipes too), refusing more than IMAGE_MAX_FILE_BYTES. */
static pixab_status image_read_file(const char *path, unsigned char **data, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return pixab_fail(PIXAB_ERR_IO, "cannot open image '%s': %s", path, strerror(errno));
    size_t cap = 0, n = 0;
    unsigned char *buf = NULL;
    for (;;) {
        if (n == cap) {
            if (cap >= IMAGE_MAX_FILE_BYTES) {
                free(buf);
                fclose(f);
                return pixab_fail(PIXAB_ERR_FORMAT, "image '%s' is too large (limit %zu bytes)", path,
                                  IMAGE_MAX_FILE_BYTES);
            }
            size_t ncap = cap ? cap * 2 : (size_t)1 << 16; /* reaches the limit exactly */
            unsigned char *nbuf = realloc(buf, ncap);
            if (!nbuf) {
                free(buf);
                fclose(f);
                return pixab_fail(PIXAB_ERR_NOMEM, "cannot read image '%s': out of memory", path);
            }
            buf = nbuf;
            cap = ncap;
        }
        size_t want = cap - n, got = fread(buf + n, 1, want, f);
        n += got;
        if (got < want) { /* end of file or error */
            if (ferror(f)) {
                int e = errno;
                free(buf);
                fclose(f);
                return pixab_fail(PIXAB_ERR_IO, "cannot read image '%s': %s", path,
                                  e ? strerror(e) : "read error");
            }
            break;
        }
    }
    fclose(f);
    *data = buf;
    *size = n;
    return PIXAB_OK;
}

pixab_status pixab_image_load(const char *path, pixab_image *out) {
    if (!out) return pixab_fail(PIXAB_ERR_ARG, "pixab_image_load: out is NULL");
    out->width = out->height = 0;
    out->rgb = NULL;
    if (!path) return pixab_fail(PIXAB_ERR_ARG, "pixab_image_load: path is NULL");

    unsigned char *data = NULL;
    size_t size = 0;
    errno = 0;
    pixab_status s = image_read_file(path, &data, &size);
    if (s != PIXAB_OK) return s;

    char label[300];
    snprintf(label, sizeof label, "image '%s'", path);
    s = image_decode(data, size, label, out);
    free(data);
    return s;
}

pixab_status pixab_image_load_memory(const unsigned char *data, size_t size, pixab_image *out) {
    if (!out) return pixab_fail(PIXAB_ERR_ARG, "pixab_image_load_memory: out is NULL");
    out->width = out->height = 0;
    out->rgb = NULL;
    if (!data && size > 0) return pixab_fail(PIXAB_ERR_ARG, "pixab_image_load_memory: data is NULL");
    return image_decode(data, size, "image in memory", out);
}

void pixab_image_free(pixab_image *img) {
    if (!img) return;
    free(img->rgb);
    img->rgb = NULL;
    img->width = img->height = 0;
}

pixab_status pixab_image_preprocess(const pixab_image *img, const pixab_preproc *p, float *out) {
    if (!img || !img->rgb || !p || !out)
        return pixab_fail(PIXAB_ERR_ARG, "pixab_image_preprocess: NULL %s",
                          !img ? "image" : !img->rgb ? "pixels" : !p ? "preproc" : "output");
    char why[160];
    if (preprocess_check(why, sizeof why, img->width, img->height, p))
        return pixab_fail(PIXAB_ERR_ARG, "pixab_image_preprocess: %s", why);

    const int S = p->size, in_w = img->width, in_h = img->height;
    const unsigned char *rgb = img->rgb; /* (in_h, in_w, 3) */
    /* out: (S, S, 3). Rows are independent; the taps of a row are cheap enough
     * to recompute per pixel (the same call the CUDA kernel makes). */
#pragma omp parallel for schedule(static)
    for (int oy = 0; oy < S; oy++)
        for (int ox = 0; ox < S; ox++)
            preprocess_pixel(out + ((size_t)oy * S + ox) * 3, rgb, in_h, in_w, S, oy, ox, p->mean,
                             p->std);
    return PIXAB_OK;
}
