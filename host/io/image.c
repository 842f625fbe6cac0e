/* image.c — decoding image files into 8-bit RGB (JPEG with libjpeg-turbo, the
 * other formats with stb_image; gray -> RGB, alpha dropped) with a size check
 * before any pixel is decoded, and the CPU preprocessing to the network input,
 * which runs the same per-element code as the CUDA kernel
 * (kernels/element/preprocess.cuh). */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jpeglib.h>
/* after jpeglib.h: */
#include <jerror.h>
#include <stb_image.h>

#include "error.h"
#include "image_check.h"
#include "pixab.h"
#include "preprocess.cuh"

/* Files of this size or more are refused unread: an uncompressed 16-bit RGBA PNG
 * or a 32-bit BMP at PIXAB_IMAGE_MAX_PIXELS stays well below it, and stb takes
 * an int length. */
#define IMAGE_MAX_FILE_BYTES ((size_t)1 << 30)

/* ---- guards for stb_image 2.27 (Debian's libstb-dev) --------------------------
 * Fuzzing found memory-safety bugs in this stb_image version that stb 2.28+
 * fixes. Files that would reach them are refused here, before stb reads them;
 * the walker follows stb's own parsing rules, so it sees what stb sees. The
 * worst of them, an out-of-bounds read in stbi__jpeg_huff_decode on corrupt
 * entropy-coded data, could not be guarded from outside: JPEG is decoded with
 * libjpeg-turbo instead (below), and stb is built without its JPEG decoder. */

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
    return PIXAB_OK;
}

/* Dimensions from the header of a PNG, GIF, BMP or PNM file, read without
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
    image_bmp b;
    if (image_bmp_header(d, n, &b)) { /* a negative height means top-down rows */
        *w = b.w < 0 ? -b.w : b.w;
        *h = b.h < 0 ? -b.h : b.h;
        return 1;
    }
    if (n >= 2 && d[0] == 'P' && (d[1] == '5' || d[1] == '6')) {
        image_pnm p = image_pnm_header(d, n);
        if (p.overflow) return 0; /* image_stb_guard reports it */
        *w = p.w;
        *h = p.h;
        return 1;
    }
    return 0;
}

static int image_too_large(long long w, long long h) {
    return w > PIXAB_IMAGE_MAX_SIDE || h > PIXAB_IMAGE_MAX_SIDE || w * h > PIXAB_IMAGE_MAX_PIXELS;
}

/* ---- JPEG: libjpeg-turbo ---------------------------------------------------------
 * The classic libjpeg API on the file already in memory. libjpeg reports errors
 * through error_exit, which must not return: it formats the library's message
 * and longjmps back to image_jpeg_run. Warnings (corrupt or missing entropy-
 * coded data, which libjpeg would otherwise paint gray, extraneous bytes, bad
 * markers) are errors too: no half-decoded image is explained. Nothing is
 * printed. Gray, YCbCr and RGB files come out as RGB; CMYK and YCCK files are
 * converted here (Adobe files store inverted CMYK, as Photoshop writes it). */

/* Progressive files with more scans than this are refused: each scan walks the
 * whole coefficient buffer, so a small file with thousands of tiny scans would
 * take minutes (TurboJPEG's TJFLAG_LIMITSCANS uses the same limit). */
#define IMAGE_JPEG_MAX_SCANS 500

typedef struct {
    struct jpeg_error_mgr pub; /* first: libjpeg's cinfo->err points here */
    jmp_buf jump;
    pixab_status status;       /* of the error that longjmp'd */
    char msg[JMSG_LENGTH_MAX]; /* its message */
} image_jpeg_error;

/* Everything image_jpeg_run changes between setjmp and a longjmp lives here, in
 * its caller's frame, so it is still valid after the jump. */
typedef struct {
    struct jpeg_decompress_struct cinfo;
    image_jpeg_error err;
    struct jpeg_progress_mgr progress;
    unsigned char *rgb, *row; /* the output, and one CMYK row */
} image_jpeg;

static void image_jpeg_error_exit(j_common_ptr c) {
    image_jpeg_error *e = (image_jpeg_error *)c->err;
    (*c->err->format_message)(c, e->msg);
    e->status = c->err->msg_code == JERR_OUT_OF_MEMORY ? PIXAB_ERR_NOMEM : PIXAB_ERR_FORMAT;
    longjmp(e->jump, 1);
}

static void image_jpeg_emit_message(j_common_ptr c, int level) {
    if (level < 0) image_jpeg_error_exit(c); /* a warning: corrupt data */
    /* level >= 0: trace messages, ignored */
}

static void image_jpeg_output_message(j_common_ptr c) { (void)c; }

static void image_jpeg_progress(j_common_ptr c) {
    if (c->is_decompressor && ((j_decompress_ptr)c)->input_scan_number > IMAGE_JPEG_MAX_SCANS) {
        image_jpeg_error *e = (image_jpeg_error *)c->err;
        snprintf(e->msg, sizeof e->msg, "more than %d progressive scans", IMAGE_JPEG_MAX_SCANS);
        e->status = PIXAB_ERR_FORMAT;
        longjmp(e->jump, 1);
    }
}

/* One row of CMYK to RGB: R = (255 - C)(255 - K) / 255, and so on. Adobe files
 * store 255 - C etc. (inverted), the others C itself. */
static void image_cmyk_to_rgb(unsigned char *rgb, const unsigned char *cmyk, size_t w, int inverted) {
    for (size_t x = 0; x < w; x++, cmyk += 4, rgb += 3) {
        unsigned k = inverted ? cmyk[3] : 255u - cmyk[3];
        for (int c = 0; c < 3; c++) {
            unsigned v = inverted ? cmyk[c] : 255u - cmyk[c];
            rgb[c] = (unsigned char)((v * k + 127) / 255);
        }
    }
}

/* The decoding proper. A libjpeg error or warning longjmps to the setjmp and
 * returns its message; image_decode_jpeg frees what is left either way. */
static pixab_status image_jpeg_run(image_jpeg *j, const unsigned char *data, size_t size,
                                   const char *label, const char *jlabel, pixab_image *out) {
    struct jpeg_decompress_struct *c = &j->cinfo;
    c->err = jpeg_std_error(&j->err.pub);
    j->err.pub.error_exit = image_jpeg_error_exit;
    j->err.pub.emit_message = image_jpeg_emit_message;
    j->err.pub.output_message = image_jpeg_output_message;
    if (setjmp(j->err.jump)) {
        if (j->err.status == PIXAB_ERR_NOMEM)
            return pixab_fail(PIXAB_ERR_NOMEM, "%s: out of memory decoding (libjpeg: %s)", label,
                              j->err.msg);
        return pixab_fail(PIXAB_ERR_FORMAT, "corrupt %s: %s", jlabel, j->err.msg);
    }
    jpeg_create_decompress(c);
    j->progress.progress_monitor = image_jpeg_progress;
    c->progress = &j->progress;
    jpeg_mem_src(c, data, (unsigned long)size);
    if (jpeg_read_header(c, TRUE) != JPEG_HEADER_OK) /* cannot suspend on a memory source */
        return pixab_fail(PIXAB_ERR_FORMAT, "corrupt %s: no image", jlabel);

    int cmyk = 0;
    switch (c->jpeg_color_space) {
    case JCS_GRAYSCALE:
    case JCS_YCbCr:
    case JCS_RGB:
        c->out_color_space = JCS_RGB;
        break;
    case JCS_CMYK:
    case JCS_YCCK: /* libjpeg converts YCCK to CMYK */
        c->out_color_space = JCS_CMYK;
        cmyk = 1;
        break;
    default:
        return pixab_fail(PIXAB_ERR_FORMAT, "%s has an unsupported colour space (%d components)",
                          label, c->num_components);
    }
    /* Size limits from the header, before libjpeg allocates anything per pixel. */
    long long w = c->image_width, h = c->image_height;
    if (w == 0 || h == 0)
        return pixab_fail(PIXAB_ERR_FORMAT, "%s has zero size (%lldx%lld)", label, w, h);
    if (image_too_large(w, h))
        return pixab_fail(PIXAB_ERR_FORMAT,
                          "%s is too large: %lldx%lld (limit %d pixels per side, %d pixels)", label,
                          w, h, PIXAB_IMAGE_MAX_SIDE, PIXAB_IMAGE_MAX_PIXELS);

    jpeg_start_decompress(c);
    if (c->output_width != c->image_width || c->output_height != c->image_height ||
        c->output_components != (cmyk ? 4 : 3))
        return pixab_fail(PIXAB_ERR_FORMAT, "corrupt %s: header says %lldx%lld, decoder %ux%ux%d",
                          jlabel, w, h, (unsigned)c->output_width, (unsigned)c->output_height,
                          c->output_components);
    size_t W = (size_t)w, H = (size_t)h;
    if (W > SIZE_MAX / 4 / H) /* cannot happen within the limits */
        return pixab_fail(PIXAB_ERR_NOMEM, "%s: %lldx%lld pixels do not fit in memory", label, w, h);
    j->rgb = malloc(W * H * 3);
    if (cmyk) j->row = malloc(W * 4);
    if (!j->rgb || (cmyk && !j->row))
        return pixab_fail(PIXAB_ERR_NOMEM, "%s: out of memory decoding %lldx%lld pixels", label, w, h);
    while (c->output_scanline < c->output_height) {
        size_t y = c->output_scanline;
        JSAMPROW row = cmyk ? j->row : j->rgb + y * W * 3;
        if (jpeg_read_scanlines(c, &row, 1) != 1)
            return pixab_fail(PIXAB_ERR_FORMAT, "corrupt %s: decoding stopped at row %zu", jlabel, y);
        if (cmyk) image_cmyk_to_rgb(j->rgb + y * W * 3, j->row, W, c->saw_Adobe_marker);
    }
    jpeg_finish_decompress(c); /* reads up to EOI: a warning there is an error too */
    out->width = (int)w;
    out->height = (int)h;
    out->rgb = j->rgb;
    j->rgb = NULL;
    return PIXAB_OK;
}

static pixab_status image_decode_jpeg(const unsigned char *data, size_t size, const char *label,
                                      const char *jlabel, pixab_image *out) {
    image_jpeg j;
    memset(&j, 0, sizeof j); /* cinfo.mem == NULL: destroy is a no-op if create failed */
    pixab_status s = image_jpeg_run(&j, data, size, label, jlabel, out);
    jpeg_destroy_decompress(&j.cinfo);
    free(j.row);
    free(j.rgb);
    return s;
}

/* ---- all formats ------------------------------------------------------------------ */

/* Decode data[0..size) into out. `label` names the source in errors ("image
 * 'cat.jpg'"), `jlabel` the same as a JPEG ("JPEG 'cat.jpg'"). JPEG (SOI first)
 * goes to libjpeg, everything else to stb. The header is read first and its
 * dimensions are checked against the limits before anything is allocated or
 * decoded. */
static pixab_status image_decode(const unsigned char *data, size_t size, const char *label,
                                 const char *jlabel, pixab_image *out) {
    if (size == 0) return pixab_fail(PIXAB_ERR_FORMAT, "%s is empty", label);
    if (size >= IMAGE_MAX_FILE_BYTES)
        return pixab_fail(PIXAB_ERR_FORMAT, "%s is too large (%zu bytes, limit %zu)", label, size,
                          IMAGE_MAX_FILE_BYTES);
    if (size >= 2 && data[0] == 0xFF && data[1] == 0xD8)
        return image_decode_jpeg(data, size, label, jlabel, out);

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
    if (s != PIXAB_OK || (s = image_check_complete(data, size, label))) return s;
    int w = 0, h = 0, comp = 0;
    if (!stbi_info_from_memory(data, (int)size, &w, &h, &comp))
        return pixab_fail(PIXAB_ERR_FORMAT,
                          "%s is not a supported image (JPEG, PNG, BMP, GIF, TGA, PNM) or its "
                          "header is corrupt",
                          label);
    if (h < 0 && data[0] == 'B') h = -h; /* stb 2.27's info gives a top-down BMP's height as stored */
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

/* ---- memory of a decode, from the header -------------------------------------------
 * What pixab_image_load holds at its peak: the file's bytes plus, per pixel,
 * what the decoder allocates at once. The figures follow the decoders: stb
 * 2.27 inflates a PNG whole (`raw`, a filter byte a row), unfilters it into
 * an image of its own channels and depth (interlaced: a pass image beside
 * it), then converts to 3 channels and 16 to 8 bits in separate steps, each a
 * new buffer; its GIF decoder keeps the frame (4 bytes), background (4) and
 * history (1); TGA its own channels (<= 4) then 3; BMP and PNM at most 4.
 * libjpeg keeps whole-image coefficient buffers for multi-scan files (2 bytes
 * per sample; counted for every JPEG) beside the 3-byte output. */

#define IMAGE_HEADER_BYTES 4096

/* The SOF of a JPEG (read from f, past skipped segments): size and components. 0 when not found. */
static int image_jpeg_sof(FILE *f, long long *w, long long *h, int *comps) {
    if (fseek(f, 2, SEEK_SET)) return 0;
    for (int k = 0; k < 4096; k++) { /* segments before the frame: APPn, DQT, DHT, COM, ... */
        int m = fgetc(f);
        if (m != 0xFF) return 0;
        while ((m = fgetc(f)) == 0xFF) {}
        if (m == EOF) return 0;
        if (m == 0x01 || (m >= 0xD0 && m <= 0xD8)) continue; /* no length */
        unsigned char seg[8];
        if (fread(seg, 1, 2, f) != 2 || BE16(seg) < 2) return 0;
        if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) {
            if (fread(seg + 2, 1, 6, f) != 6) return 0;
            *h = BE16(seg + 3), *w = BE16(seg + 5), *comps = seg[7];
            return 1;
        }
        if (fseek(f, (long)BE16(seg) - 2, SEEK_CUR)) return 0;
    }
    return 0;
}

/* Bytes per pixel at a PNG decode's peak (IHDR at d + 16), beside the file. */
static double image_png_peak(const unsigned char *d, long long w, long long h) {
    static const int channels[7] = {1, 0, 3, 1, 2, 0, 4}; /* by colour type; 3: palette indices */
    const int depth = d[24], type = d[25] <= 6 ? d[25] : 6, ch = channels[type] ? channels[type] : 4;
    const int bps = depth == 16 ? 2 : 1, palette = type == 3, out_n = palette ? 1 : ch == 2 ? 3 : ch;
    const double wh = (double)w * (double)h;
    const double raw = (double)h * (1.0 + ceil((double)w * ch * depth / 8.0)) + 8.0 * (double)h;
    const double out = wh * out_n * bps;
    double peak = raw + out * (d[28] ? 2.0 : 1.0);                        /* inflated data + image (+ pass) */
    peak = fmax(peak, palette ? wh * (1 + 3) : 0.0);                       /* palette expanded to RGB */
    peak = fmax(peak, out_n != 3 ? out + wh * 3 * bps : 0.0);              /* to 3 channels */
    peak = fmax(peak, bps == 2 ? wh * 3 * 2 + wh * 3 : 0.0);               /* 16 to 8 bits */
    return peak / wh;
}

pixab_status pixab_image_memory(const char *path, size_t *bytes) {
    if (!path || !bytes) return pixab_fail(PIXAB_ERR_ARG, "pixab_image_memory: NULL %s", path ? "bytes" : "path");
    *bytes = 0;
    FILE *f = fopen(path, "rb");
    struct stat st;
    if (!f || fstat(fileno(f), &st)) {
        int e = errno;
        if (f) fclose(f);
        return pixab_fail(PIXAB_ERR_IO, "cannot open image '%s': %s", path, strerror(e));
    }
    unsigned char d[IMAGE_HEADER_BYTES];
    const size_t n = fread(d, 1, sizeof d, f);
    const double file = S_ISREG(st.st_mode) && st.st_size > 0 ? (double)st.st_size : (double)n;
    long long w = 0, h = 0;
    int comps = 0, jpeg = n >= 2 && d[0] == 0xFF && d[1] == 0xD8;
    double per_pixel = 0.0;
    if (jpeg && image_jpeg_sof(f, &w, &h, &comps))
        per_pixel = 3.0 + 2.0 * (comps > 0 ? comps : 4); /* rounded up to whole 16x16 blocks below */
    else if (jpeg)
        w = h = 0;
    else if (image_sniff_size(d, n, &w, &h))
        per_pixel = d[0] == 0x89 ? image_png_peak(d, w, h) : d[0] == 'G' ? 9.0 : 4.0; /* PNG, GIF, BMP or PNM */
    else if (image_is_tga(d, n))
        w = LE16(d + 12), h = LE16(d + 14), per_pixel = 4.0 + 3.0;
    fclose(f);
    if (w <= 0 || h <= 0 || image_too_large(w, h)) per_pixel = 0.0; /* refused before decoding */
    const double pad = jpeg ? 16.0 : 0.0;
    const double total = file + per_pixel * ((double)w + pad) * ((double)h + pad);
    *bytes = total >= (double)SIZE_MAX ? SIZE_MAX : (size_t)total;
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

    char label[300], jlabel[300];
    snprintf(label, sizeof label, "image '%s'", path);
    snprintf(jlabel, sizeof jlabel, "JPEG '%s'", path);
    s = image_decode(data, size, label, jlabel, out);
    free(data);
    return s;
}

pixab_status pixab_image_load_memory(const unsigned char *data, size_t size, pixab_image *out) {
    if (!out) return pixab_fail(PIXAB_ERR_ARG, "pixab_image_load_memory: out is NULL");
    out->width = out->height = 0;
    out->rgb = NULL;
    if (!data && size > 0) return pixab_fail(PIXAB_ERR_ARG, "pixab_image_load_memory: data is NULL");
    return image_decode(data, size, "image in memory", "JPEG in memory", out);
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
