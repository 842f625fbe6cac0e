/* test_image.c — image decoding (formats, channel conversion, corrupt, empty,
 * missing and oversized files), the shared bilinear / preprocessing functions
 * of kernels/element/preprocess.cuh (the code the CUDA kernel runs), and
 * pixab_image_preprocess against PyTorch goldens. Test images are written by the
 * tests themselves (stb_image_write) except the committed goldens' sources and
 * the JPEGs, which are embedded (made with PIL 9.4 / libjpeg-turbo 2.1.5, with
 * PIL's decoding of each as the expected pixels). */
#define _POSIX_C_SOURCE 200809L

#include <criterion/criterion.h>
#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if defined(__has_include)
#if __has_include(<stb_image_write.h>)
#include <stb_image_write.h>
#else
#include <stb/stb_image_write.h>
#endif
#else
#include <stb/stb_image_write.h>
#endif

#include "error.h"
#include "pixab.h"
#include "preprocess.cuh"
#include "safetensors.h"

#ifndef PIXAB_TEST_DATA
#define PIXAB_TEST_DATA "tests/data"
#endif

/* ---- helpers ---------------------------------------------------------------- */

static char tmpdir[64];

static void setup(void) {
    strcpy(tmpdir, "/tmp/pixab_image_XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir));
}

static void teardown(void) {
    DIR *d = opendir(tmpdir);
    if (!d) return;
    struct dirent *e;
    char p[512];
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        snprintf(p, sizeof p, "%s/%s", tmpdir, e->d_name);
        unlink(p);
    }
    closedir(d);
    rmdir(tmpdir);
}

TestSuite(image, .init = setup, .fini = teardown);
TestSuite(bilinear);
TestSuite(preprocess);

static const char *tpath(char *buf, const char *name) {
    snprintf(buf, 256, "%s/%s", tmpdir, name);
    return buf;
}

static void write_bytes(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "cannot create %s", path);
    cr_assert_eq(fwrite(data, 1, n, f), n);
    cr_assert_eq(fclose(f), 0);
}

static unsigned char *read_bytes(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)sz + 1);
    cr_assert_eq(fread(b, 1, (size_t)sz, f), (size_t)sz);
    fclose(f);
    *n = (size_t)sz;
    return b;
}

/* A status and an error message containing every needle given. */
static void expect_fail(pixab_status got, pixab_status want, const char *n1, const char *n2) {
    const char *msg = pixab_last_error();
    cr_assert_eq(got, want, "status %d (%s), expected %d; message: %s", got, pixab_status_name(got),
                 want, msg);
    cr_assert(strchr(msg, '\n') == NULL, "message is not one line: %s", msg);
    if (n1) cr_assert(strstr(msg, n1), "message lacks '%s': %s", n1, msg);
    if (n2) cr_assert(strstr(msg, n2), "message lacks '%s': %s", n2, msg);
}

/* Deterministic pseudo-random bytes (xorshift32). */
static void fill_random(unsigned char *b, size_t n, uint32_t seed) {
    uint32_t x = seed ? seed : 1;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        b[i] = (unsigned char)(x >> 24);
    }
}

static void put_be32(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static void put_le32(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

static uint32_t crc32_png(const unsigned char *p, size_t n) {
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
    }
    return c ^ 0xffffffffu;
}

/* A PNG with a valid IHDR claiming w x h RGB, then IEND: no pixel data at all,
 * so decoding it could only fail as corrupt. Returns its length (45). */
static size_t png_header_only(unsigned char *b, uint32_t w, uint32_t h) {
    memcpy(b, "\x89PNG\r\n\x1a\n", 8);
    put_be32(b + 8, 13);
    memcpy(b + 12, "IHDR", 4);
    put_be32(b + 16, w);
    put_be32(b + 20, h);
    b[24] = 8; /* bit depth */
    b[25] = 2; /* RGB */
    b[26] = b[27] = b[28] = 0;
    put_be32(b + 29, crc32_png(b + 12, 17));
    put_be32(b + 33, 0);
    memcpy(b + 37, "IEND", 4);
    put_be32(b + 41, crc32_png(b + 37, 4));
    return 45;
}

/* A 24-bit BMP header (BITMAPINFOHEADER) claiming w x h, no pixel data. */
static size_t bmp_header_only(unsigned char *b, uint32_t w, uint32_t h) {
    memset(b, 0, 54);
    b[0] = 'B';
    b[1] = 'M';
    put_le32(b + 2, 54);
    put_le32(b + 10, 54);
    put_le32(b + 14, 40);
    put_le32(b + 18, w);
    put_le32(b + 22, h);
    b[26] = 1;  /* planes */
    b[28] = 24; /* bits per pixel */
    return 54;
}

/* A baseline JPEG claiming w x h (16-bit sizes) with ncomp components: APP0,
 * SOF0, a SOS header and EOI; no tables and no scan data, so libjpeg reads the
 * header (up to the SOS) and fails only when it starts decoding. */
static size_t jpeg_header_n(unsigned char *b, unsigned w, unsigned h, int ncomp) {
    static const unsigned char app0[] = {0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 'J',  'F',  'I',
                                         'F',  0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01,
                                         0x00, 0x00};
    size_t n = sizeof app0;
    memcpy(b, app0, n);
    const unsigned char sof[] = {0xFF, 0xC0, 0x00, (unsigned char)(8 + 3 * ncomp), 0x08,
                                 (unsigned char)(h >> 8), (unsigned char)h, (unsigned char)(w >> 8),
                                 (unsigned char)w, (unsigned char)ncomp};
    memcpy(b + n, sof, sizeof sof);
    n += sizeof sof;
    for (int c = 0; c < ncomp; c++) { /* id, sampling 1x1 (2x2 for the first of 3), table */
        b[n++] = (unsigned char)(c + 1);
        b[n++] = ncomp == 3 && c == 0 ? 0x22 : 0x11;
        b[n++] = c ? 1 : 0;
    }
    const unsigned char sos[] = {0xFF, 0xDA, 0x00, (unsigned char)(6 + 2 * ncomp), (unsigned char)ncomp};
    memcpy(b + n, sos, sizeof sos);
    n += sizeof sos;
    for (int c = 0; c < ncomp; c++) {
        b[n++] = (unsigned char)(c + 1);
        b[n++] = c ? 0x11 : 0x00;
    }
    b[n++] = 0x00; /* spectral selection 0..63, no approximation */
    b[n++] = 0x3F;
    b[n++] = 0x00;
    b[n++] = 0xFF;
    b[n++] = 0xD9;
    return n;
}

static size_t jpeg_header_only(unsigned char *b, unsigned w, unsigned h) {
    return jpeg_header_n(b, w, h, 3);
}

/* w x h x comp pixels with a pattern that uses every channel differently. */
static unsigned char *pattern(int w, int h, int comp) {
    unsigned char *p = malloc((size_t)w * h * comp);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < comp; c++)
                p[((size_t)y * w + x) * comp + c] = (unsigned char)(x * 37 + y * 11 + c * 71 + x * y);
    return p;
}

/* ---- decoding ------------------------------------------------------------------ */

Test(image, png_rgb_exact) {
    char p[256];
    unsigned char *px = pattern(13, 7, 3);
    cr_assert(stbi_write_png(tpath(p, "rgb.png"), 13, 7, 3, px, 13 * 3));
    pixab_image img;
    cr_assert_eq(pixab_image_load(p, &img), PIXAB_OK, "%s", pixab_last_error());
    cr_assert_eq(img.width, 13);
    cr_assert_eq(img.height, 7);
    cr_assert_arr_eq(img.rgb, px, 13 * 7 * 3);
    pixab_image_free(&img);
    cr_assert_null(img.rgb);
    cr_assert_eq(img.width, 0);
    free(px);
}

Test(image, gray_becomes_rgb) {
    char p[256];
    unsigned char *px = pattern(9, 5, 1);
    cr_assert(stbi_write_png(tpath(p, "gray.png"), 9, 5, 1, px, 9));
    pixab_image img;
    cr_assert_eq(pixab_image_load(p, &img), PIXAB_OK, "%s", pixab_last_error());
    cr_assert_eq(img.width, 9);
    cr_assert_eq(img.height, 5);
    for (int i = 0; i < 9 * 5; i++)
        for (int c = 0; c < 3; c++) cr_assert_eq(img.rgb[i * 3 + c], px[i], "pixel %d channel %d", i, c);
    pixab_image_free(&img);
    free(px);
}

Test(image, gray_alpha_drops_alpha) {
    char p[256];
    unsigned char *px = pattern(6, 4, 2);
    cr_assert(stbi_write_png(tpath(p, "ga.png"), 6, 4, 2, px, 6 * 2));
    pixab_image img;
    cr_assert_eq(pixab_image_load(p, &img), PIXAB_OK, "%s", pixab_last_error());
    for (int i = 0; i < 6 * 4; i++)
        for (int c = 0; c < 3; c++) cr_assert_eq(img.rgb[i * 3 + c], px[i * 2], "pixel %d", i);
    pixab_image_free(&img);
    free(px);
}

Test(image, rgba_drops_alpha) {
    char p[256];
    unsigned char *px = pattern(8, 3, 4);
    px[3] = 0; /* fully transparent pixel: colour kept, not composited */
    cr_assert(stbi_write_png(tpath(p, "rgba.png"), 8, 3, 4, px, 8 * 4));
    pixab_image img;
    cr_assert_eq(pixab_image_load(p, &img), PIXAB_OK, "%s", pixab_last_error());
    for (int i = 0; i < 8 * 3; i++)
        for (int c = 0; c < 3; c++) cr_assert_eq(img.rgb[i * 3 + c], px[i * 4 + c], "pixel %d", i);
    pixab_image_free(&img);
    free(px);
}

Test(image, bmp_and_tga_exact) {
    char p[256];
    unsigned char *px = pattern(5, 6, 3);
    const char *names[] = {"a.bmp", "a.tga"};
    for (int k = 0; k < 2; k++) {
        int ok = k == 0 ? stbi_write_bmp(tpath(p, names[k]), 5, 6, 3, px)
                        : stbi_write_tga(tpath(p, names[k]), 5, 6, 3, px);
        cr_assert(ok);
        pixab_image img;
        cr_assert_eq(pixab_image_load(p, &img), PIXAB_OK, "%s: %s", names[k], pixab_last_error());
        cr_assert_eq(img.width, 5);
        cr_assert_eq(img.height, 6);
        cr_assert_arr_eq(img.rgb, px, 5 * 6 * 3, "%s", names[k]);
        pixab_image_free(&img);
    }
    free(px);
}

/* A JPEG made by PIL (libjpeg) — 9.4.0: 16x12 RGB, pixel (x, y) = (100 + 4x, 50 + 5y, 200), JPEG quality 95 */
static const unsigned char jpeg_16x12[672] = {
    0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01,
    0x00, 0x01, 0x00, 0x00, 0xff, 0xdb, 0x00, 0x43, 0x00, 0x02, 0x01, 0x01, 0x01, 0x01, 0x01, 0x02,
    0x01, 0x01, 0x01, 0x02, 0x02, 0x02, 0x02, 0x02, 0x04, 0x03, 0x02, 0x02, 0x02, 0x02, 0x05, 0x04,
    0x04, 0x03, 0x04, 0x06, 0x05, 0x06, 0x06, 0x06, 0x05, 0x06, 0x06, 0x06, 0x07, 0x09, 0x08, 0x06,
    0x07, 0x09, 0x07, 0x06, 0x06, 0x08, 0x0b, 0x08, 0x09, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x06, 0x08,
    0x0b, 0x0c, 0x0b, 0x0a, 0x0c, 0x09, 0x0a, 0x0a, 0x0a, 0xff, 0xdb, 0x00, 0x43, 0x01, 0x02, 0x02,
    0x02, 0x02, 0x02, 0x02, 0x05, 0x03, 0x03, 0x05, 0x0a, 0x07, 0x06, 0x07, 0x0a, 0x0a, 0x0a, 0x0a,
    0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a,
    0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a,
    0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0xff, 0xc0,
    0x00, 0x11, 0x08, 0x00, 0x0c, 0x00, 0x10, 0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11,
    0x01, 0xff, 0xc4, 0x00, 0x1f, 0x00, 0x00, 0x01, 0x05, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09,
    0x0a, 0x0b, 0xff, 0xc4, 0x00, 0xb5, 0x10, 0x00, 0x02, 0x01, 0x03, 0x03, 0x02, 0x04, 0x03, 0x05,
    0x05, 0x04, 0x04, 0x00, 0x00, 0x01, 0x7d, 0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21,
    0x31, 0x41, 0x06, 0x13, 0x51, 0x61, 0x07, 0x22, 0x71, 0x14, 0x32, 0x81, 0x91, 0xa1, 0x08, 0x23,
    0x42, 0xb1, 0xc1, 0x15, 0x52, 0xd1, 0xf0, 0x24, 0x33, 0x62, 0x72, 0x82, 0x09, 0x0a, 0x16, 0x17,
    0x18, 0x19, 0x1a, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a,
    0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a,
    0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a,
    0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99,
    0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7,
    0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5,
    0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf1,
    0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa, 0xff, 0xc4, 0x00, 0x1f, 0x01, 0x00, 0x03,
    0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0xff, 0xc4, 0x00, 0xb5, 0x11, 0x00,
    0x02, 0x01, 0x02, 0x04, 0x04, 0x03, 0x04, 0x07, 0x05, 0x04, 0x04, 0x00, 0x01, 0x02, 0x77, 0x00,
    0x01, 0x02, 0x03, 0x11, 0x04, 0x05, 0x21, 0x31, 0x06, 0x12, 0x41, 0x51, 0x07, 0x61, 0x71, 0x13,
    0x22, 0x32, 0x81, 0x08, 0x14, 0x42, 0x91, 0xa1, 0xb1, 0xc1, 0x09, 0x23, 0x33, 0x52, 0xf0, 0x15,
    0x62, 0x72, 0xd1, 0x0a, 0x16, 0x24, 0x34, 0xe1, 0x25, 0xf1, 0x17, 0x18, 0x19, 0x1a, 0x26, 0x27,
    0x28, 0x29, 0x2a, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49,
    0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69,
    0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88,
    0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6,
    0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4,
    0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe2,
    0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9,
    0xfa, 0xff, 0xda, 0x00, 0x0c, 0x03, 0x01, 0x00, 0x02, 0x11, 0x03, 0x11, 0x00, 0x3f, 0x00, 0xf0,
    0x1d, 0x27, 0xc1, 0x3d, 0x07, 0x93, 0xfa, 0x57, 0x4d, 0xa4, 0xf8, 0x2b, 0xee, 0x9f, 0x27, 0xf4,
    0xae, 0xab, 0x49, 0xd2, 0x6c, 0xb2, 0xbf, 0xba, 0xed, 0x5d, 0x2e, 0x93, 0xa4, 0xd9, 0x60, 0x0f,
    0x2a, 0xbf, 0xb2, 0xb1, 0x99, 0xc5, 0x53, 0xed, 0xf8, 0x6b, 0x3e, 0xaf, 0xee, 0x9f, 0xff, 0xd9,
};
/* (Not written with stbi_write_jpg: its encoder shifts negative ints, which
 * UBSan rejects.) */

static const unsigned char jpeg_16x12_pil[576] = {
    0x63, 0x33, 0xc5, 0x65, 0x33, 0xc6, 0x69, 0x33, 0xc5, 0x6e, 0x34, 0xc7, 0x73, 0x33, 0xc7, 0x77,
    0x33, 0xc6, 0x7b, 0x33, 0xc7, 0x7e, 0x32, 0xc6, 0x82, 0x34, 0xc6, 0x86, 0x34, 0xc6, 0x89, 0x34,
    0xc7, 0x8d, 0x33, 0xc6, 0x92, 0x33, 0xc5, 0x96, 0x32, 0xc6, 0x9b, 0x33, 0xc6, 0x9d, 0x33, 0xc7,
    0x64, 0x37, 0xc6, 0x67, 0x37, 0xc7, 0x6b, 0x37, 0xc8, 0x6f, 0x38, 0xc9, 0x75, 0x37, 0xca, 0x78,
    0x37, 0xc9, 0x7c, 0x37, 0xc8, 0x80, 0x36, 0xc7, 0x85, 0x37, 0xc9, 0x87, 0x38, 0xc9, 0x8b, 0x38,
    0xc8, 0x8f, 0x38, 0xc7, 0x94, 0x36, 0xc8, 0x98, 0x36, 0xc7, 0x9d, 0x37, 0xc9, 0x9f, 0x38, 0xc8,
    0x66, 0x3b, 0xc8, 0x68, 0x3b, 0xc9, 0x6c, 0x3b, 0xca, 0x71, 0x3c, 0xca, 0x76, 0x3b, 0xcb, 0x7a,
    0x3b, 0xca, 0x7e, 0x3b, 0xc9, 0x80, 0x3b, 0xc9, 0x84, 0x3b, 0xc8, 0x89, 0x3c, 0xc8, 0x8d, 0x3c,
    0xc9, 0x90, 0x3c, 0xc8, 0x96, 0x3a, 0xc9, 0x99, 0x3a, 0xc8, 0x9e, 0x3b, 0xca, 0xa1, 0x3c, 0xca,
    0x66, 0x40, 0xc7, 0x69, 0x41, 0xc8, 0x6c, 0x40, 0xc9, 0x70, 0x40, 0xca, 0x76, 0x40, 0xca, 0x7a,
    0x40, 0xca, 0x7e, 0x3f, 0xcb, 0x80, 0x40, 0xca, 0x84, 0x40, 0xc9, 0x88, 0x40, 0xc8, 0x8d, 0x41,
    0xc8, 0x91, 0x40, 0xc9, 0x96, 0x40, 0xc9, 0x9a, 0x3f, 0xca, 0x9e, 0x40, 0xca, 0xa1, 0x40, 0xcb,
    0x65, 0x46, 0xc8, 0x67, 0x46, 0xc9, 0x6b, 0x46, 0xc9, 0x6f, 0x46, 0xca, 0x75, 0x46, 0xca, 0x79,
    0x46, 0xc9, 0x7d, 0x45, 0xca, 0x81, 0x45, 0xc9, 0x84, 0x45, 0xc8, 0x87, 0x46, 0xc8, 0x8c, 0x47,
    0xc8, 0x8f, 0x46, 0xc9, 0x95, 0x45, 0xc8, 0x98, 0x45, 0xc9, 0x9d, 0x46, 0xc9, 0xa0, 0x46, 0xca,
    0x65, 0x4b, 0xc8, 0x68, 0x4b, 0xc9, 0x6b, 0x4b, 0xc8, 0x6f, 0x4b, 0xc9, 0x74, 0x4a, 0xc8, 0x79,
    0x4b, 0xc8, 0x7d, 0x4a, 0xc9, 0x7f, 0x4b, 0xc9, 0x83, 0x4b, 0xc8, 0x87, 0x4b, 0xc7, 0x8c, 0x4b,
    0xc9, 0x90, 0x4b, 0xc8, 0x95, 0x4b, 0xc8, 0x99, 0x4a, 0xc9, 0x9c, 0x4a, 0xc8, 0xa0, 0x4b, 0xca,
    0x64, 0x51, 0xc7, 0x66, 0x51, 0xc8, 0x6a, 0x51, 0xc7, 0x6e, 0x51, 0xc8, 0x73, 0x50, 0xc8, 0x78,
    0x51, 0xc8, 0x7c, 0x50, 0xc9, 0x80, 0x50, 0xc8, 0x83, 0x50, 0xc7, 0x86, 0x51, 0xc7, 0x8b, 0x51,
    0xc9, 0x8e, 0x51, 0xc8, 0x94, 0x50, 0xc7, 0x97, 0x50, 0xc8, 0x9b, 0x50, 0xc7, 0x9e, 0x50, 0xc8,
    0x64, 0x56, 0xc7, 0x67, 0x56, 0xc8, 0x6a, 0x56, 0xc7, 0x6e, 0x56, 0xc8, 0x73, 0x54, 0xc9, 0x78,
    0x55, 0xc9, 0x7c, 0x55, 0xc8, 0x80, 0x55, 0xc8, 0x82, 0x56, 0xc7, 0x86, 0x55, 0xc8, 0x8b, 0x56,
    0xc8, 0x8f, 0x56, 0xc7, 0x94, 0x55, 0xc8, 0x98, 0x55, 0xc8, 0x9b, 0x55, 0xc9, 0x9e, 0x55, 0xc8,
    0x63, 0x5a, 0xc5, 0x67, 0x5b, 0xc7, 0x6c, 0x5c, 0xc9, 0x6e, 0x5b, 0xc7, 0x74, 0x5a, 0xc8, 0x77,
    0x5a, 0xc8, 0x7c, 0x5a, 0xc8, 0x80, 0x5a, 0xc7, 0x82, 0x5b, 0xc6, 0x86, 0x5b, 0xc7, 0x8a, 0x5a,
    0xc7, 0x8f, 0x5b, 0xc7, 0x94, 0x5a, 0xc8, 0x98, 0x5a, 0xc7, 0x9c, 0x5a, 0xc8, 0x9e, 0x5a, 0xc9,
    0x65, 0x5e, 0xc6, 0x67, 0x60, 0xc7, 0x6b, 0x60, 0xc9, 0x6f, 0x60, 0xc9, 0x74, 0x5e, 0xca, 0x78,
    0x5e, 0xc9, 0x7c, 0x5f, 0xc9, 0x80, 0x5f, 0xc8, 0x83, 0x5e, 0xc7, 0x85, 0x5f, 0xc6, 0x8a, 0x5f,
    0xc8, 0x8f, 0x60, 0xc8, 0x94, 0x5f, 0xc9, 0x98, 0x5f, 0xc8, 0x9c, 0x5e, 0xc9, 0x9e, 0x5f, 0xc8,
    0x68, 0x63, 0xc9, 0x69, 0x64, 0xc8, 0x6d, 0x65, 0xcc, 0x70, 0x64, 0xca, 0x75, 0x63, 0xc9, 0x7a,
    0x64, 0xc9, 0x7f, 0x64, 0xcb, 0x80, 0x64, 0xca, 0x84, 0x64, 0xc9, 0x88, 0x64, 0xc8, 0x8d, 0x64,
    0xca, 0x91, 0x64, 0xc9, 0x96, 0x63, 0xca, 0x9a, 0x63, 0xc9, 0x9d, 0x63, 0xca, 0xa0, 0x63, 0xca,
    0x68, 0x66, 0xc9, 0x6c, 0x67, 0xcb, 0x6e, 0x68, 0xcc, 0x72, 0x68, 0xcb, 0x76, 0x65, 0xcb, 0x7b,
    0x66, 0xcb, 0x80, 0x67, 0xcc, 0x83, 0x67, 0xcb, 0x85, 0x67, 0xcb, 0x89, 0x66, 0xca, 0x8d, 0x67,
    0xca, 0x91, 0x67, 0xcb, 0x96, 0x66, 0xca, 0x9a, 0x66, 0xcb, 0x9f, 0x67, 0xcc, 0xa0, 0x66, 0xcc,
};

static const unsigned char jpeg_gray_16x8[250] = {
    0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01,
    0x00, 0x01, 0x00, 0x00, 0xff, 0xdb, 0x00, 0x43, 0x00, 0x03, 0x02, 0x02, 0x03, 0x02, 0x02, 0x03,
    0x03, 0x03, 0x03, 0x04, 0x03, 0x03, 0x04, 0x05, 0x08, 0x05, 0x05, 0x04, 0x04, 0x05, 0x0a, 0x07,
    0x07, 0x06, 0x08, 0x0c, 0x0a, 0x0c, 0x0c, 0x0b, 0x0a, 0x0b, 0x0b, 0x0d, 0x0e, 0x12, 0x10, 0x0d,
    0x0e, 0x11, 0x0e, 0x0b, 0x0b, 0x10, 0x16, 0x10, 0x11, 0x13, 0x14, 0x15, 0x15, 0x15, 0x0c, 0x0f,
    0x17, 0x18, 0x16, 0x14, 0x18, 0x12, 0x14, 0x15, 0x14, 0xff, 0xc0, 0x00, 0x0b, 0x08, 0x00, 0x08,
    0x00, 0x10, 0x01, 0x01, 0x11, 0x00, 0xff, 0xc4, 0x00, 0x15, 0x00, 0x01, 0x01, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x06, 0xff, 0xc4, 0x00,
    0x25, 0x10, 0x00, 0x02, 0x02, 0x01, 0x03, 0x01, 0x09, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x02, 0x04, 0x01, 0x03, 0x06, 0x05, 0x07, 0x11, 0x08, 0x12, 0x13, 0x21, 0x22, 0x24,
    0x41, 0x42, 0x81, 0x91, 0xff, 0xda, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3f, 0x00, 0x0e, 0xc4,
    0xf4, 0xc9, 0xa5, 0x27, 0xa0, 0x2f, 0xe9, 0x13, 0x26, 0x49, 0x68, 0xf8, 0x85, 0x86, 0x66, 0x61,
    0xfa, 0x12, 0x33, 0x3f, 0x5c, 0x7b, 0xf3, 0xe5, 0xa8, 0xdc, 0xde, 0xaa, 0x71, 0x6d, 0x85, 0xc8,
    0x31, 0xdc, 0x4b, 0x16, 0xc2, 0xda, 0x63, 0x50, 0x79, 0x1b, 0x9a, 0x61, 0xdc, 0x8f, 0x41, 0x69,
    0x0e, 0xee, 0x66, 0xbb, 0x81, 0x39, 0x0a, 0x99, 0x85, 0xed, 0x20, 0x26, 0x42, 0xb9, 0xb6, 0xcf,
    0x01, 0x1a, 0x86, 0xc1, 0x0e, 0xd9, 0xf3, 0x21, 0xff, 0xd9,
};
static const unsigned char jpeg_gray_16x8_pil[128] = {
    0x00, 0x0e, 0x17, 0x25, 0x35, 0x3e, 0x50, 0x5a, 0x6a, 0x76, 0x7f, 0x8f, 0x9e, 0xaa, 0xb5, 0xc4,
    0x17, 0x20, 0x40, 0x58, 0x6a, 0x7d, 0x94, 0x6a, 0x83, 0x94, 0xb0, 0xc6, 0xd6, 0xe9, 0xce, 0xdb,
    0x23, 0x40, 0x60, 0x79, 0x61, 0x7e, 0xa2, 0x7b, 0x9d, 0xbc, 0xd4, 0xc5, 0xde, 0xf4, 0xdc, 0xf4,
    0x2f, 0x61, 0x83, 0x6f, 0x94, 0x78, 0xa3, 0x90, 0xb7, 0xdf, 0xcd, 0xe5, 0xd7, 0x03, 0xe8, 0x12,
    0x47, 0x74, 0x64, 0x98, 0x8f, 0xbc, 0xb4, 0x9b, 0xd1, 0xbb, 0xf4, 0xe6, 0x16, 0x06, 0xf9, 0x2b,
    0x53, 0x93, 0x8a, 0x85, 0xb9, 0xb9, 0xb3, 0xaf, 0xed, 0xe6, 0xe1, 0x19, 0x18, 0x0e, 0x0e, 0x42,
    0x65, 0xa9, 0xac, 0xb2, 0xbb, 0xbc, 0xb6, 0xc7, 0x00, 0x0a, 0x09, 0x17, 0x0d, 0x1c, 0x18, 0x65,
    0x77, 0x87, 0x8f, 0x9f, 0xaa, 0xb5, 0xc6, 0xd0, 0xe1, 0xf1, 0xf7, 0x05, 0x16, 0x1c, 0x30, 0x38,
};

static const unsigned char jpeg_cmyk_8x8[213] = {
    0xff, 0xd8, 0xff, 0xee, 0x00, 0x0e, 0x41, 0x64, 0x6f, 0x62, 0x65, 0x00, 0x64, 0x00, 0x00, 0x00,
    0x00, 0x00, 0xff, 0xdb, 0x00, 0x43, 0x00, 0x02, 0x01, 0x01, 0x01, 0x01, 0x01, 0x02, 0x01, 0x01,
    0x01, 0x02, 0x02, 0x02, 0x02, 0x02, 0x04, 0x03, 0x02, 0x02, 0x02, 0x02, 0x05, 0x04, 0x04, 0x03,
    0x04, 0x06, 0x05, 0x06, 0x06, 0x06, 0x05, 0x06, 0x06, 0x06, 0x07, 0x09, 0x08, 0x06, 0x07, 0x09,
    0x07, 0x06, 0x06, 0x08, 0x0b, 0x08, 0x09, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x06, 0x08, 0x0b, 0x0c,
    0x0b, 0x0a, 0x0c, 0x09, 0x0a, 0x0a, 0x0a, 0xff, 0xc0, 0x00, 0x14, 0x08, 0x00, 0x08, 0x00, 0x08,
    0x04, 0x43, 0x11, 0x00, 0x4d, 0x11, 0x00, 0x59, 0x11, 0x00, 0x4b, 0x11, 0x00, 0xff, 0xc4, 0x00,
    0x15, 0x00, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x07, 0x09, 0xff, 0xc4, 0x00, 0x23, 0x10, 0x00, 0x01, 0x01, 0x05, 0x09, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x09, 0x07, 0x0a, 0x1a, 0x25, 0x43,
    0x34, 0x45, 0x52, 0x66, 0x81, 0x83, 0xa4, 0xc1, 0xe1, 0xff, 0xda, 0x00, 0x0e, 0x04, 0x43, 0x00,
    0x4d, 0x00, 0x59, 0x00, 0x4b, 0x00, 0x00, 0x3f, 0x00, 0x58, 0x78, 0x8e, 0xfd, 0xdc, 0xec, 0x58,
    0x88, 0x8f, 0x3c, 0xf2, 0x7d, 0x16, 0x14, 0x45, 0x44, 0x6d, 0xd3, 0xdc, 0x55, 0x0a, 0x2c, 0xd6,
    0xea, 0xea, 0x7f, 0xff, 0xd9,
};
static const unsigned char jpeg_cmyk_8x8_pil[192] = {
    0xd7, 0xd7, 0xd7, 0xb9, 0xd2, 0xc6, 0x9d, 0xcd, 0xb5, 0x81, 0xc8, 0xa5, 0x68, 0xc3, 0x95, 0x4e,
    0xbe, 0x86, 0x36, 0xb9, 0x78, 0x20, 0xb4, 0x6a, 0xd7, 0xbe, 0xca, 0xb9, 0xb9, 0xba, 0x9d, 0xb5,
    0xa9, 0x81, 0xb0, 0x9a, 0x68, 0xac, 0x8a, 0x4e, 0xa8, 0x7c, 0x36, 0xa3, 0x6d, 0x20, 0x9f, 0x60,
    0xd7, 0xa5, 0xbd, 0xb9, 0xa1, 0xad, 0x9d, 0x9e, 0x9c, 0x81, 0x9a, 0x8d, 0x68, 0x96, 0x7d, 0x4e,
    0x92, 0x70, 0x36, 0x8e, 0x61, 0x20, 0x8a, 0x55, 0xd7, 0x8b, 0xb1, 0xb9, 0x88, 0xa1, 0x9d, 0x85,
    0x91, 0x81, 0x81, 0x82, 0x68, 0x7e, 0x73, 0x4e, 0x7b, 0x65, 0x36, 0x78, 0x57, 0x20, 0x74, 0x4b,
    0xd7, 0x72, 0xa4, 0xb9, 0x6f, 0x94, 0x9d, 0x6d, 0x84, 0x81, 0x6a, 0x76, 0x68, 0x67, 0x66, 0x4e,
    0x65, 0x59, 0x36, 0x62, 0x4b, 0x20, 0x5f, 0x40, 0xd7, 0x59, 0x98, 0xb9, 0x56, 0x89, 0x9d, 0x54,
    0x79, 0x81, 0x52, 0x6b, 0x68, 0x50, 0x5c, 0x4e, 0x4e, 0x4f, 0x36, 0x4c, 0x41, 0x20, 0x4a, 0x36,
    0xd7, 0x3f, 0x8a, 0xb9, 0x3e, 0x7c, 0x9d, 0x3c, 0x6c, 0x81, 0x3b, 0x5e, 0x68, 0x39, 0x50, 0x4e,
    0x38, 0x43, 0x36, 0x36, 0x36, 0x20, 0x35, 0x2a, 0xd7, 0x26, 0x7e, 0xb9, 0x25, 0x6f, 0x9d, 0x24,
    0x60, 0x81, 0x23, 0x52, 0x68, 0x22, 0x45, 0x4e, 0x22, 0x38, 0x36, 0x21, 0x2c, 0x20, 0x20, 0x20,
};

static const unsigned char jpeg_progressive_16x12[567] = {
    0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01,
    0x00, 0x01, 0x00, 0x00, 0xff, 0xdb, 0x00, 0x43, 0x00, 0x02, 0x01, 0x01, 0x01, 0x01, 0x01, 0x02,
    0x01, 0x01, 0x01, 0x02, 0x02, 0x02, 0x02, 0x02, 0x04, 0x03, 0x02, 0x02, 0x02, 0x02, 0x05, 0x04,
    0x04, 0x03, 0x04, 0x06, 0x05, 0x06, 0x06, 0x06, 0x05, 0x06, 0x06, 0x06, 0x07, 0x09, 0x08, 0x06,
    0x07, 0x09, 0x07, 0x06, 0x06, 0x08, 0x0b, 0x08, 0x09, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x06, 0x08,
    0x0b, 0x0c, 0x0b, 0x0a, 0x0c, 0x09, 0x0a, 0x0a, 0x0a, 0xff, 0xdb, 0x00, 0x43, 0x01, 0x02, 0x02,
    0x02, 0x02, 0x02, 0x02, 0x05, 0x03, 0x03, 0x05, 0x0a, 0x07, 0x06, 0x07, 0x0a, 0x0a, 0x0a, 0x0a,
    0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a,
    0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a,
    0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0xff, 0xc2,
    0x00, 0x11, 0x08, 0x00, 0x0c, 0x00, 0x10, 0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11,
    0x01, 0xff, 0xc4, 0x00, 0x15, 0x00, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x06, 0xff, 0xc4, 0x00, 0x15, 0x01, 0x01, 0x01, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x07, 0xff,
    0xda, 0x00, 0x0c, 0x03, 0x01, 0x00, 0x02, 0x10, 0x03, 0x10, 0x00, 0x00, 0x01, 0x80, 0x4d, 0x54,
    0xac, 0xad, 0xff, 0x00, 0xff, 0xc4, 0x00, 0x17, 0x10, 0x01, 0x01, 0x01, 0x01, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x02, 0x04, 0xff, 0xda, 0x00,
    0x08, 0x01, 0x01, 0x00, 0x01, 0x05, 0x02, 0x2e, 0x28, 0xb8, 0xa2, 0x2c, 0x44, 0x58, 0xbf, 0xff,
    0xc4, 0x00, 0x18, 0x11, 0x00, 0x02, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x04, 0x05, 0x21, 0xff, 0xda, 0x00, 0x08, 0x01, 0x03, 0x01,
    0x01, 0x3f, 0x01, 0xad, 0x9e, 0xf8, 0x7f, 0xff, 0xc4, 0x00, 0x17, 0x11, 0x00, 0x03, 0x01, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0x04,
    0xff, 0xda, 0x00, 0x08, 0x01, 0x02, 0x01, 0x01, 0x3f, 0x01, 0xb6, 0xc6, 0x3f, 0xff, 0xc4, 0x00,
    0x15, 0x10, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x31, 0xff, 0xda, 0x00, 0x08, 0x01, 0x01, 0x00, 0x06, 0x3f, 0x02, 0x88, 0x88,
    0xff, 0xc4, 0x00, 0x17, 0x10, 0x01, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x21, 0x31, 0xff, 0xda, 0x00, 0x08, 0x01, 0x01, 0x00,
    0x01, 0x3f, 0x21, 0x7c, 0x9a, 0xd0, 0xcf, 0xff, 0xda, 0x00, 0x0c, 0x03, 0x01, 0x00, 0x02, 0x00,
    0x03, 0x00, 0x00, 0x00, 0x10, 0x17, 0xff, 0xc4, 0x00, 0x14, 0x11, 0x01, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xda, 0x00, 0x08,
    0x01, 0x03, 0x01, 0x01, 0x3f, 0x10, 0x57, 0xff, 0xc4, 0x00, 0x14, 0x11, 0x01, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xda, 0x00,
    0x08, 0x01, 0x02, 0x01, 0x01, 0x3f, 0x10, 0x1f, 0xff, 0xc4, 0x00, 0x19, 0x10, 0x00, 0x02, 0x03,
    0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x11,
    0x31, 0xb1, 0x61, 0xff, 0xda, 0x00, 0x08, 0x01, 0x01, 0x00, 0x01, 0x3f, 0x10, 0xa1, 0x60, 0xb5,
    0x82, 0x4f, 0x12, 0x0a, 0x47, 0xff, 0xd9,
};

static const unsigned char jpeg_fuzz_huff_crash[338] = {
    0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x32, 0x00, 0x01,
    0x00, 0x01, 0x00, 0x00, 0xff, 0xdb, 0x00, 0x43, 0x00, 0x08, 0x06, 0x06, 0x07, 0x06, 0x05, 0x08,
    0x07, 0x07, 0x07, 0x09, 0x09, 0x08, 0x0a, 0x0c, 0x14, 0x0d, 0x0c, 0x0b, 0x0b, 0x0c, 0x19, 0x12,
    0x13, 0x0f, 0x14, 0x1d, 0x1a, 0x1f, 0x1e, 0x1d, 0x1a, 0x1c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x32, 0x32, 0x32, 0x32, 0x32, 0x32, 0x32, 0x32, 0x32, 0x32, 0x32, 0x32, 0x32, 0x32, 0xff, 0xc2,
    0x00, 0x11, 0x08, 0x04, 0x06, 0x00, 0x08, 0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11,
    0x01, 0xff, 0xc4, 0x00, 0x15, 0x00, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xda, 0x00, 0x08, 0x01, 0x02, 0x01, 0x01,
    0x3f, 0xc3, 0x01, 0x7f, 0xff, 0xc4, 0x00, 0x1a, 0x10, 0x00, 0x02, 0x02, 0x03, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0xff, 0xda, 0x00, 0x08,
    0x01, 0x01, 0x00, 0x06, 0x3f, 0x02, 0xc4, 0xab, 0x4d, 0x01, 0xc3, 0x3f, 0xff, 0xc4, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0xe7, 0xef, 0xfe, 0xff, 0xf5, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x11, 0x01, 0x00, 0x03, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x11, 0x00, 0x41, 0x61, 0xff, 0xda,
    0x00, 0x08, 0x01, 0x01, 0x00, 0x01, 0x3f, 0x10, 0x3d, 0xe4, 0x3a, 0xb4, 0x09, 0x21, 0xaa, 0xdc,
    0xff, 0xd9,
};

/* Decoded pixels within `tol` of PIL's decoding of the same file. */
static void expect_near(const unsigned char *got, const unsigned char *want, size_t n, int tol,
                        const char *what) {
    for (size_t i = 0; i < n; i++)
        cr_assert(abs(got[i] - want[i]) <= tol, "%s: byte %zu: %d vs PIL %d", what, i, got[i], want[i]);
}

Test(image, jpeg_decodes) {
    char p[256];
    write_bytes(tpath(p, "a.jpg"), jpeg_16x12, sizeof jpeg_16x12);
    pixab_image img;
    cr_assert_eq(pixab_image_load(p, &img), PIXAB_OK, "%s", pixab_last_error());
    cr_assert_eq(img.width, 16);
    cr_assert_eq(img.height, 12);
    for (int y = 0; y < 12; y++)
        for (int x = 0; x < 16; x++) {
            const unsigned char *q = img.rgb + (y * 16 + x) * 3;
            int want[3] = {100 + 4 * x, 50 + 5 * y, 200};
            for (int c = 0; c < 3; c++)
                cr_assert(abs(q[c] - want[c]) <= 8, "(%d,%d) channel %d: %d vs %d", x, y, c, q[c],
                          want[c]);
        }
    expect_near(img.rgb, jpeg_16x12_pil, sizeof jpeg_16x12_pil, 2, "baseline RGB");
    pixab_image_free(&img);
}

Test(image, jpeg_gray_becomes_rgb) {
    pixab_image img;
    cr_assert_eq(pixab_image_load_memory(jpeg_gray_16x8, sizeof jpeg_gray_16x8, &img), PIXAB_OK,
                 "%s", pixab_last_error());
    cr_assert(img.width == 16 && img.height == 8, "%dx%d", img.width, img.height);
    for (int i = 0; i < 16 * 8; i++) {
        cr_assert(img.rgb[i * 3] == img.rgb[i * 3 + 1] && img.rgb[i * 3] == img.rgb[i * 3 + 2],
                  "pixel %d is not gray", i);
        cr_assert(abs(img.rgb[i * 3] - jpeg_gray_16x8_pil[i]) <= 2, "pixel %d: %d vs PIL %d", i,
                  img.rgb[i * 3], jpeg_gray_16x8_pil[i]);
    }
    pixab_image_free(&img);
}

Test(image, jpeg_adobe_cmyk_becomes_rgb) {
    /* PIL writes CMYK with an Adobe marker and inverted values, as Photoshop
     * does; PIL's RGB is (255 - C)(255 - K) / 255 etc. */
    pixab_image img;
    cr_assert_eq(pixab_image_load_memory(jpeg_cmyk_8x8, sizeof jpeg_cmyk_8x8, &img), PIXAB_OK, "%s",
                 pixab_last_error());
    cr_assert(img.width == 8 && img.height == 8, "%dx%d", img.width, img.height);
    expect_near(img.rgb, jpeg_cmyk_8x8_pil, sizeof jpeg_cmyk_8x8_pil, 2, "Adobe CMYK");
    pixab_image_free(&img);
}

Test(image, jpeg_progressive) {
    pixab_image img;
    cr_assert_eq(pixab_image_load_memory(jpeg_progressive_16x12, sizeof jpeg_progressive_16x12, &img),
                 PIXAB_OK, "%s", pixab_last_error());
    cr_assert(img.width == 16 && img.height == 12, "%dx%d", img.width, img.height);
    /* the same pixels as jpeg_16x12, encoded progressively */
    expect_near(img.rgb, jpeg_16x12_pil, sizeof jpeg_16x12_pil, 8, "progressive vs baseline");
    pixab_image_free(&img);
}

/* libjpeg would fill a truncated image with gray and only warn: here any
 * corrupt-data warning is an error, with libjpeg's message. */
Test(image, jpeg_truncated) {
    char p[256];
    pixab_image img = {1, 1, (unsigned char *)&img};
    write_bytes(tpath(p, "cut.jpg"), jpeg_16x12, sizeof jpeg_16x12 - 40); /* inside the scan */
    expect_fail(pixab_image_load(p, &img), PIXAB_ERR_FORMAT, "corrupt JPEG '",
                "cut.jpg': Premature end of JPEG file");
    cr_assert_null(img.rgb);
    cr_assert_eq(img.width, 0);
    /* all the scan data, only the EOI marker missing */
    expect_fail(pixab_image_load_memory(jpeg_16x12, sizeof jpeg_16x12 - 2, &img), PIXAB_ERR_FORMAT,
                "corrupt JPEG in memory: Premature end of JPEG file", NULL);
    /* inside the tables, and right after SOI */
    expect_fail(pixab_image_load_memory(jpeg_16x12, 100, &img), PIXAB_ERR_FORMAT,
                "corrupt JPEG in memory", NULL);
    expect_fail(pixab_image_load_memory(jpeg_16x12, 2, &img), PIXAB_ERR_FORMAT,
                "corrupt JPEG in memory", NULL);
    /* the progressive file cut after its first scans */
    expect_fail(pixab_image_load_memory(jpeg_progressive_16x12, sizeof jpeg_progressive_16x12 / 2, &img),
                PIXAB_ERR_FORMAT, "corrupt JPEG in memory", NULL);
    cr_assert_null(img.rgb);
}

Test(image, jpeg_warnings_are_errors) {
    /* 3 stray bytes between APP0 and DQT: libjpeg skips them with a warning */
    unsigned char b[sizeof jpeg_16x12 + 3];
    memcpy(b, jpeg_16x12, 20);
    memcpy(b + 20, "abc", 3);
    memcpy(b + 23, jpeg_16x12 + 20, sizeof jpeg_16x12 - 20);
    pixab_image img;
    expect_fail(pixab_image_load_memory(b, sizeof b, &img), PIXAB_ERR_FORMAT,
                "corrupt JPEG in memory: Corrupt JPEG data: 3 extraneous bytes before marker 0xdb",
                NULL);
    cr_assert_null(img.rgb);
}

/* Bytes of the scan data changed: libjpeg either decodes some image or reports
 * corrupt data; never a crash or a sanitizer report (stb_image 2.27 read out
 * of bounds on such files). */
Test(image, jpeg_corrupt_scan_data) {
    const size_t scan = 623; /* first byte after the SOS header */
    cr_assert(jpeg_16x12[scan - 14] == 0xFF && jpeg_16x12[scan - 13] == 0xDA);
    unsigned char b[sizeof jpeg_16x12];
    int failed = 0;
    for (uint32_t seed = 1; seed <= 300; seed++) {
        memcpy(b, jpeg_16x12, sizeof b);
        unsigned char r[4];
        fill_random(r, sizeof r, seed);
        size_t span = sizeof b - 2 - scan; /* keep EOI */
        if (seed % 3 == 0) { /* the whole scan replaced by random bytes */
            fill_random(b + scan, span, seed * 7919u);
        } else { /* 1-2 bytes changed */
            b[scan + r[0] % span] ^= (unsigned char)(r[1] | 1);
            if (seed % 2) b[scan + r[2] % span] = r[3];
        }
        pixab_image img;
        pixab_status s = pixab_image_load_memory(b, sizeof b, &img);
        if (s == PIXAB_OK) {
            cr_assert(img.width == 16 && img.height == 12);
            pixab_image_free(&img);
        } else {
            expect_fail(s, PIXAB_ERR_FORMAT, "corrupt JPEG in memory: ", NULL);
            cr_assert_null(img.rgb);
            failed++;
        }
    }
    cr_log_info("corrupt scan data: %d of 300 refused", failed);
    cr_assert(failed >= 100, "only %d of 300 corrupted files refused", failed);
}

/* Inputs that crashed stb_image 2.27's JPEG decoder under the fuzzer: a clean
 * FORMAT error now. */
Test(image, jpeg_fuzz_regressions) {
    pixab_image img;
    /* SEGV (out-of-bounds read) in stbi__jpeg_huff_decode, progressive AC scan */
    expect_fail(pixab_image_load_memory(jpeg_fuzz_huff_crash, sizeof jpeg_fuzz_huff_crash, &img),
                PIXAB_ERR_FORMAT, "corrupt JPEG in memory: ", NULL);
    cr_assert_null(img.rgb);

    /* a DHT table declaring 300 codes: stb 2.27 wrote past its 256-entry arrays */
    unsigned char jpg[128] = {0xFF, 0xD8, 0xFF, 0xC4, 0x00, 0x13, 0x00, 255, 45};
    size_t n = 6 + 17;
    jpg[n++] = 0xFF;
    jpg[n++] = 0xD9;
    expect_fail(pixab_image_load_memory(jpg, n, &img), PIXAB_ERR_FORMAT,
                "corrupt JPEG in memory: Bogus Huffman table definition", NULL);
    /* the same table after a scan (progressive JPEGs define tables between scans) */
    size_t m = jpeg_header_only(jpg, 8, 8) - 2; /* drop EOI */
    const unsigned char sos[] = {0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56};
    memcpy(jpg + m, sos, sizeof sos);
    m += sizeof sos;
    const unsigned char dht[] = {0xFF, 0xC4, 0x00, 0x13, 0x10, 200, 200}; /* 14 more zeros */
    memset(jpg + m, 0, 6 + 17);
    memcpy(jpg + m, dht, sizeof dht);
    m += 6 + 17;
    expect_fail(pixab_image_load_memory(jpg, m, &img), PIXAB_ERR_FORMAT, "corrupt JPEG in memory: ",
                NULL);
    /* fill bytes before SOI, which stb accepted and libjpeg does not: not a JPEG */
    unsigned char fill[sizeof jpeg_16x12 + 2] = {0xFF, 0xFF};
    memcpy(fill + 2, jpeg_16x12, sizeof jpeg_16x12);
    expect_fail(pixab_image_load_memory(fill, sizeof fill, &img), PIXAB_ERR_FORMAT,
                "not a supported image", NULL);
}

/* A valid 8x8 gray progressive JPEG with as many scans as a scan script can
 * have: a DC scan then, coefficient by coefficient, a first scan (Al = 13) and
 * 13 refinement scans, up to `max_scans` scans. Every block is empty (one
 * 1-bit Huffman code, symbol 0). Returns the length; *scans gets the count. */
static size_t jpeg_many_scans(unsigned char *b, int max_scans, int *scans) {
    static const unsigned char head[] = {0xFF, 0xD8, 0xFF, 0xDB, 0x00, 0x43, 0x00};
    size_t n = sizeof head;
    memcpy(b, head, n);
    memset(b + n, 1, 64); /* quantisation table 0: all ones */
    n += 64;
    const unsigned char sof2[] = {0xFF, 0xC2, 0x00, 0x0B, 0x08, 0x00, 0x08, /* 8x8, */
                                  0x00, 0x08, 0x01, 0x01, 0x11, 0x00};       /* one component */
    memcpy(b + n, sof2, sizeof sof2);
    n += sizeof sof2;
    for (int cls = 0; cls < 2; cls++) { /* DC and AC table 0: the one code "0" for symbol 0 */
        const unsigned char dht[] = {0xFF, 0xC4, 0x00, 0x14, (unsigned char)(cls << 4), 1};
        memcpy(b + n, dht, sizeof dht);
        n += sizeof dht;
        memset(b + n, 0, 16); /* 15 more counts, then the symbol */
        n += 16;
    }
    int k = 0;
    for (int coef = 0; coef < 64 && k < max_scans; coef++)
        for (int al = 13; al >= 0 && k < max_scans; al--, k++) {
            int ah = al == 13 ? 0 : al + 1;
            const unsigned char sos[] = {0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01, 0x00, (unsigned char)coef,
                                         (unsigned char)coef, (unsigned char)(ah << 4 | al), 0x7F};
            memcpy(b + n, sos, sizeof sos);
            n += sizeof sos;
        }
    b[n++] = 0xFF;
    b[n++] = 0xD9;
    *scans = k;
    return n;
}

Test(image, jpeg_scan_limit) {
    /* each scan walks all the coefficients: a small file of many scans would
     * take minutes at the size limit, so more than 500 are refused */
    unsigned char *b = malloc(16384);
    int scans;
    pixab_image img;
    size_t n = jpeg_many_scans(b, 112, &scans);
    cr_assert_eq(pixab_image_load_memory(b, n, &img), PIXAB_OK, "%d scans: %s", scans,
                 pixab_last_error());
    cr_assert(img.width == 8 && img.height == 8);
    for (int i = 0; i < 8 * 8 * 3; i++) /* all coefficients zero: mid-gray */
        cr_assert_eq(img.rgb[i], 128, "byte %d", i);
    pixab_image_free(&img);
    n = jpeg_many_scans(b, 500, &scans);
    cr_assert_eq(pixab_image_load_memory(b, n, &img), PIXAB_OK, "%d scans: %s", scans,
                 pixab_last_error());
    pixab_image_free(&img);
    n = jpeg_many_scans(b, 1000, &scans);
    cr_assert_eq(scans, 64 * 14);
    expect_fail(pixab_image_load_memory(b, n, &img), PIXAB_ERR_FORMAT,
                "corrupt JPEG in memory: more than 500 progressive scans", NULL);
    free(b);
}

Test(image, jpeg_header_limits) {
    unsigned char b[128];
    pixab_image img;
    /* 100000 x 100000 does not fit a SOF (16-bit sizes): the largest that
     * libjpeg reads (65500) is refused by the size check before decoding */
    size_t n = jpeg_header_only(b, 65500, 65500);
    expect_fail(pixab_image_load_memory(b, n, &img), PIXAB_ERR_FORMAT, "too large: 65500x65500", NULL);
    n = jpeg_header_only(b, 65535, 65535); /* libjpeg's own limit */
    expect_fail(pixab_image_load_memory(b, n, &img), PIXAB_ERR_FORMAT,
                "corrupt JPEG in memory: Maximum supported image dimension is 65500 pixels", NULL);
    n = jpeg_header_only(b, PIXAB_IMAGE_MAX_SIDE + 1, 1);
    expect_fail(pixab_image_load_memory(b, n, &img), PIXAB_ERR_FORMAT, "too large: 16385x1", NULL);
    n = jpeg_header_only(b, PIXAB_IMAGE_MAX_SIDE, PIXAB_IMAGE_MAX_PIXELS / PIXAB_IMAGE_MAX_SIDE + 1);
    expect_fail(pixab_image_load_memory(b, n, &img), PIXAB_ERR_FORMAT, "too large: 16384x4097", NULL);
    /* at the limits exactly the header passes and decoding is what fails (no tables) */
    n = jpeg_header_only(b, PIXAB_IMAGE_MAX_SIDE, PIXAB_IMAGE_MAX_PIXELS / PIXAB_IMAGE_MAX_SIDE);
    expect_fail(pixab_image_load_memory(b, n, &img), PIXAB_ERR_FORMAT, "corrupt JPEG in memory: ",
                NULL);
    /* zero height (a DNL marker would give it; libjpeg does not support that) */
    n = jpeg_header_only(b, 10, 0);
    expect_fail(pixab_image_load_memory(b, n, &img), PIXAB_ERR_FORMAT, "corrupt JPEG in memory: ",
                NULL);
    /* two components: no colour space to convert from */
    n = jpeg_header_n(b, 8, 8, 2);
    expect_fail(pixab_image_load_memory(b, n, &img), PIXAB_ERR_FORMAT,
                "unsupported colour space (2 components)", NULL);
    /* gray and CMYK headers pass the colour check and fail later (no tables) */
    n = jpeg_header_n(b, 8, 8, 1);
    expect_fail(pixab_image_load_memory(b, n, &img), PIXAB_ERR_FORMAT, "corrupt JPEG in memory: ",
                NULL);
    n = jpeg_header_n(b, 8, 8, 4);
    expect_fail(pixab_image_load_memory(b, n, &img), PIXAB_ERR_FORMAT, "corrupt JPEG in memory: ",
                NULL);
}

Test(image, memory_matches_file) {
    char p[256];
    unsigned char *px = pattern(11, 4, 3);
    cr_assert(stbi_write_png(tpath(p, "m.png"), 11, 4, 3, px, 11 * 3));
    size_t n;
    unsigned char *bytes = read_bytes(p, &n);
    pixab_image img;
    cr_assert_eq(pixab_image_load_memory(bytes, n, &img), PIXAB_OK, "%s", pixab_last_error());
    cr_assert_eq(img.width, 11);
    cr_assert_arr_eq(img.rgb, px, 11 * 4 * 3);
    pixab_image_free(&img);
    free(bytes);
    free(px);
}

Test(image, committed_test_images) {
    pixab_image img;
    cr_assert_eq(pixab_image_load(PIXAB_TEST_DATA "/small53x37.png", &img), PIXAB_OK, "%s",
                 pixab_last_error());
    cr_assert_eq(img.width, 53);
    cr_assert_eq(img.height, 37);
    pixab_image_free(&img);
    cr_assert_eq(pixab_image_load(PIXAB_TEST_DATA "/test299.png", &img), PIXAB_OK, "%s",
                 pixab_last_error());
    cr_assert_eq(img.width, 299);
    cr_assert_eq(img.height, 299);
    pixab_image_free(&img);
}

/* ---- bad files -------------------------------------------------------------------- */

Test(image, missing_file) {
    pixab_image img = {1, 1, (unsigned char *)&img};
    char p[256];
    expect_fail(pixab_image_load(tpath(p, "nope.png"), &img), PIXAB_ERR_IO, "nope.png",
                "No such file or directory");
    cr_assert_null(img.rgb); /* out is reset on failure */
    cr_assert_eq(img.width, 0);
}

Test(image, directory_is_io_error) {
    pixab_image img;
    expect_fail(pixab_image_load(tmpdir, &img), PIXAB_ERR_IO, tmpdir, "Is a directory");
}

Test(image, empty_file) {
    char p[256];
    write_bytes(tpath(p, "empty.png"), "", 0);
    pixab_image img;
    expect_fail(pixab_image_load(p, &img), PIXAB_ERR_FORMAT, "empty.png", "empty");
    expect_fail(pixab_image_load_memory((const unsigned char *)"", 0, &img), PIXAB_ERR_FORMAT, "empty",
                NULL);
}

Test(image, random_bytes) {
    char p[256];
    unsigned char junk[1000];
    fill_random(junk, sizeof junk, 12345);
    junk[1] = 0x7f; /* an impossible TGA colour-map type: TGA has no magic number */
    write_bytes(tpath(p, "junk.jpg"), junk, sizeof junk);
    pixab_image img;
    expect_fail(pixab_image_load(p, &img), PIXAB_ERR_FORMAT, "junk.jpg", "not a supported image");
    cr_assert_null(img.rgb);
}

Test(image, truncated_png) {
    char p[256];
    unsigned char *px = malloc(64 * 64 * 3);
    fill_random(px, 64 * 64 * 3, 99); /* incompressible: the IDAT is most of the file */
    cr_assert(stbi_write_png(tpath(p, "full.png"), 64, 64, 3, px, 64 * 3));
    size_t n;
    unsigned char *bytes = read_bytes(p, &n);
    write_bytes(tpath(p, "cut.png"), bytes, n / 2);
    pixab_image img;
    expect_fail(pixab_image_load(p, &img), PIXAB_ERR_FORMAT, "cut.png", "corrupt");
    cr_assert_null(img.rgb);
    /* cut inside the signature: not recognisable at all */
    write_bytes(tpath(p, "cut8.png"), bytes, 5);
    expect_fail(pixab_image_load(p, &img), PIXAB_ERR_FORMAT, "cut8.png", "not a supported image");
    free(bytes);
    free(px);
}

/* Every strict prefix of `bytes` (from `from` bytes on) fails to load with an
 * error naming what is missing; the whole file loads. */
static void every_prefix_refused(const unsigned char *bytes, size_t n, size_t from, const char *what) {
    pixab_image img;
    cr_assert_eq(pixab_image_load_memory(bytes, n, &img), PIXAB_OK, "%s: %s", what, pixab_last_error());
    pixab_image_free(&img);
    for (size_t k = from; k < n; k++) {
        cr_expect_neq(pixab_image_load_memory(bytes, k, &img), PIXAB_OK, "%s cut to %zu of %zu bytes loads", what, k,
                      n);
        cr_expect_null(img.rgb);
    }
}

/* stb_image fills a truncated BMP, TGA or GIF with zeros: each is refused. */
Test(image, truncated_bmp_tga_gif_refused) {
    char p[256];
    size_t n;
    unsigned char *px = pattern(7, 5, 3), *bytes;
    cr_assert(stbi_write_bmp(tpath(p, "a.bmp"), 7, 5, 3, px));
    bytes = read_bytes(p, &n);
    every_prefix_refused(bytes, n, 26, "BMP");
    pixab_image img;
    expect_fail(pixab_image_load_memory(bytes, n - 1, &img), PIXAB_ERR_FORMAT, "truncated", "bytes)");
    free(bytes);
    for (int rle = 0; rle < 2; rle++) { /* raw and run-length TGA */
        stbi_write_tga_with_rle = rle;
        cr_assert(stbi_write_tga(tpath(p, "a.tga"), 7, 5, 3, px));
        bytes = read_bytes(p, &n);
        every_prefix_refused(bytes, n, 18, rle ? "RLE TGA" : "TGA");
        free(bytes);
    }
    stbi_write_tga_with_rle = 1;
    /* A 2x2 GIF89a: global colour table of 2, a graphic control extension, the image. */
    static const unsigned char gif[] = {'G', 'I', 'F', '8', '9', 'a', 2, 0, 2, 0, 0x80, 0, 0, 0, 0, 0, 255, 255,
                                        255, 0x21, 0xF9, 4, 0, 0, 0, 0, 0, 0x2C, 0, 0, 0, 0, 2, 0, 2, 0, 0, 2,
                                        3, 0x84, 0x1D, 0x05, 0, 0x3B};
    every_prefix_refused(gif, sizeof gif - 1, 13, "GIF"); /* without the trailer: the image is complete */
    free(px);
}

/* A top-down BMP (negative height) decodes; an RLE BMP is named as such. */
Test(image, bmp_top_down_and_rle) {
    char p[256];
    size_t n;
    unsigned char *px = pattern(7, 5, 3);
    cr_assert(stbi_write_bmp(tpath(p, "a.bmp"), 7, 5, 3, px));
    unsigned char *bytes = read_bytes(p, &n);
    const size_t off = bytes[10] | bytes[11] << 8, row = (7 * 3 + 3) / 4 * 4;
    unsigned char *flipped = malloc(n);
    memcpy(flipped, bytes, off);
    for (int y = 0; y < 5; y++) memcpy(flipped + off + y * row, bytes + off + (4 - y) * row, row);
    const int32_t neg = -5;
    memcpy(flipped + 22, &neg, 4); /* little-endian machine */
    pixab_image img;
    cr_assert_eq(pixab_image_load_memory(flipped, n, &img), PIXAB_OK, "%s", pixab_last_error());
    cr_expect(img.width == 7 && img.height == 5);
    cr_expect_arr_eq(img.rgb, px, 7 * 5 * 3, "top-down rows read top to bottom");
    pixab_image_free(&img);
    bytes[30] = 1; /* BI_RLE8 */
    expect_fail(pixab_image_load_memory(bytes, n, &img), PIXAB_ERR_FORMAT, "unsupported BMP compression", "RLE8");
    free(flipped);
    free(bytes);
    free(px);
}

/* Where stb 2.27 would not start a BMP's or TGA's pixels where the check
 * counts them (found by tests/fuzz/fuzz_image_check.c): a BMP data offset
 * inside the header (stb starts past it, or skips to the end and makes every
 * pixel up) is refused as corrupt; a colour-mapped TGA's first-entry index,
 * which stb skips as bytes before the map, counts toward its size. */
Test(image, bmp_offset_in_header_and_tga_map_start) {
    /* 2x2, 8 bits: 54-byte header, a 2-entry palette, rows of 4 bytes */
    unsigned char bmp[70] = {'B', 'M', 70, 0, 0, 0, 0, 0, 0, 0, 62, 0, 0, 0, 40, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0,
                             1, 0, 8, 0, 0, 0, 0, 0, 8, 0, 0, 0, 0x13, 0x0b, 0, 0, 0x13, 0x0b, 0, 0, 2, 0, 0, 0};
    memcpy(bmp + 54, "\0\0\0\0\xff\xff\xff\0\0\1\0\0\1\0\0\0", 16);
    pixab_image img;
    cr_assert_eq(pixab_image_load_memory(bmp, sizeof bmp, &img), PIXAB_OK, "%s", pixab_last_error());
    cr_expect(img.rgb[0] == 255 && img.rgb[3] == 0, "the top row (stored last): white, black");
    pixab_image_free(&img);
    bmp[10] = 51; /* the data offset 3 bytes into the header: stb would read no palette and start at 55 */
    expect_fail(pixab_image_load_memory(bmp, 59, &img), PIXAB_ERR_FORMAT, "corrupt BMP", "inside its header");
    /* 2x2, 8-bit indices into a 2-entry 24-bit map whose first-entry index is 4 */
    unsigned char tga[18 + 4 + 6 + 4] = {0, 1, 1, 4, 0, 2, 0, 24, 0, 0, 0, 0, 2, 0, 2, 0, 8, 0};
    memset(tga + 22, 0x80, 6);
    memcpy(tga + 28, "\0\1\1\0", 4);
    cr_assert_eq(pixab_image_load_memory(tga, sizeof tga, &img), PIXAB_OK, "%s", pixab_last_error());
    pixab_image_free(&img);
    expect_fail(pixab_image_load_memory(tga, sizeof tga - 1, &img), PIXAB_ERR_FORMAT, "truncated", "31 of 32 bytes");
    memmove(tga + 18, tga + 22, 10); /* the same without the 4 skipped bytes: 4 short */
    expect_fail(pixab_image_load_memory(tga, sizeof tga - 4, &img), PIXAB_ERR_FORMAT, "truncated", "28 of 32 bytes");
}

Test(image, oversized_rejected_before_decoding) {
    /* Headers only, no pixel data: were any of them decoded, the error would be
     * "corrupt"; "too large" with the claimed size shows the header check ran first. */
    char p[256];
    unsigned char b[128];
    pixab_image img;
    size_t n = png_header_only(b, 100000, 100000);
    write_bytes(tpath(p, "huge.png"), b, n);
    expect_fail(pixab_image_load(p, &img), PIXAB_ERR_FORMAT, "huge.png", "too large: 100000x100000");
    expect_fail(pixab_image_load_memory(b, n, &img), PIXAB_ERR_FORMAT, "too large: 100000x100000",
                NULL);

    n = bmp_header_only(b, 100000, 100000);
    write_bytes(tpath(p, "huge.bmp"), b, n);
    expect_fail(pixab_image_load(p, &img), PIXAB_ERR_FORMAT, "huge.bmp", "too large: 100000x100000");

    n = jpeg_header_only(b, 65000, 65000);
    write_bytes(tpath(p, "huge.jpg"), b, n);
    expect_fail(pixab_image_load(p, &img), PIXAB_ERR_FORMAT, "huge.jpg", "too large: 65000x65000");

    /* width and height distinct and byte-asymmetric, so a swapped or misread
     * field shows; BMP with a negative (top-down) height; GIF's 16-bit sizes */
    n = png_header_only(b, 123456, 70000);
    expect_fail(pixab_image_load_memory(b, n, &img), PIXAB_ERR_FORMAT, "too large: 123456x70000", NULL);
    n = png_header_only(b, 0x01000010u, 1); /* stb's own header scan refuses this silently */
    expect_fail(pixab_image_load_memory(b, n, &img), PIXAB_ERR_FORMAT, "too large: 16777232x1", NULL);
    n = bmp_header_only(b, 70001, (uint32_t)-3);
    expect_fail(pixab_image_load_memory(b, n, &img), PIXAB_ERR_FORMAT, "too large: 70001x3", NULL);
    n = jpeg_header_only(b, 1000, 40000);
    expect_fail(pixab_image_load_memory(b, n, &img), PIXAB_ERR_FORMAT, "too large: 1000x40000", NULL);
    const unsigned char gif[] = {'G', 'I', 'F', '8', '9', 'a', 0x20, 0x4e, 0x02, 0x00, 0, 0, 0, ';'};
    expect_fail(pixab_image_load_memory(gif, sizeof gif, &img), PIXAB_ERR_FORMAT, "too large: 20000x2",
                NULL);

    /* one side over the limit; the pixel count over the limit with both sides under it */
    n = png_header_only(b, PIXAB_IMAGE_MAX_SIDE + 1, 1);
    expect_fail(pixab_image_load_memory(b, n, &img), PIXAB_ERR_FORMAT, "too large: 16385x1", NULL);
    n = png_header_only(b, PIXAB_IMAGE_MAX_SIDE, PIXAB_IMAGE_MAX_PIXELS / PIXAB_IMAGE_MAX_SIDE + 1);
    expect_fail(pixab_image_load_memory(b, n, &img), PIXAB_ERR_FORMAT, "too large: 16384x4097", NULL);

    /* a format without a sniffed header (PNM): the stbi_info path applies the limit */
    const char *pnm = "P6\n20000 20000\n255\n";
    expect_fail(pixab_image_load_memory((const unsigned char *)pnm, strlen(pnm), &img),
                PIXAB_ERR_FORMAT, "too large: 20000x20000", NULL);

    /* at the limits exactly the header passes and decoding is what fails */
    n = png_header_only(b, PIXAB_IMAGE_MAX_SIDE, PIXAB_IMAGE_MAX_PIXELS / PIXAB_IMAGE_MAX_SIDE);
    expect_fail(pixab_image_load_memory(b, n, &img), PIXAB_ERR_FORMAT, "corrupt", NULL);
}

Test(image, pnm) {
    /* binary PPM with a comment; exact pixels */
    const char ppm[] = "P6 # comment\n3 2\n255\nABCDEFGHIJKLMNOPQR";
    pixab_image img;
    cr_assert_eq(pixab_image_load_memory((const unsigned char *)ppm, sizeof ppm - 1, &img), PIXAB_OK,
                 "%s", pixab_last_error());
    cr_assert(img.width == 3 && img.height == 2);
    cr_assert_arr_eq(img.rgb, "ABCDEFGHIJKLMNOPQR", 18);
    pixab_image_free(&img);
    /* integers that overflow stb's int parser are refused before stb reads them */
    const char *bad[] = {"P6\n99999999999 1\n255\n", "P5 1 3000000000 255\n",
                         "P6 1 1 77777777777777\n"};
    for (int i = 0; i < 3; i++)
        expect_fail(pixab_image_load_memory((const unsigned char *)bad[i], strlen(bad[i]), &img),
                    PIXAB_ERR_FORMAT, "corrupt header", NULL);
}

/* Files that reach memory-safety bugs of stb_image 2.27 (found by fuzzing) are
 * refused before stb reads them; under ASan these would crash otherwise. (The
 * JPEG ones: jpeg_fuzz_regressions.) */
Test(image, stb_bug_guards) {
    pixab_image img;
    /* 16-bit gray PGM: stb 2.27 converts it with the 8-bit routine and reads past the buffer */
    const char pgm16[] = "P5 4 2 65535\n0123456789abcdef";
    expect_fail(pixab_image_load_memory((const unsigned char *)pgm16, sizeof pgm16 - 1, &img),
                PIXAB_ERR_FORMAT, "16-bit PNM", NULL);
    /* truncated PPM: stb 2.27 returns uninitialised memory as pixels */
    const char ppm[] = "P6 4 4 255\nABCDEF";
    expect_fail(pixab_image_load_memory((const unsigned char *)ppm, sizeof ppm - 1, &img),
                PIXAB_ERR_FORMAT, "truncated (6 of 48", NULL);
}

Test(image, zero_size) {
    unsigned char b[128];
    pixab_image img;
    size_t n = png_header_only(b, 0, 10);
    expect_fail(pixab_image_load_memory(b, n, &img), PIXAB_ERR_FORMAT, "zero size", NULL);
    n = bmp_header_only(b, 10, 0);
    expect_fail(pixab_image_load_memory(b, n, &img), PIXAB_ERR_FORMAT, "zero size", NULL);
    const char *pgm = "P5 0 4 255\n";
    expect_fail(pixab_image_load_memory((const unsigned char *)pgm, strlen(pgm), &img),
                PIXAB_ERR_FORMAT, "zero size", NULL);
}

Test(image, bad_arguments) {
    pixab_image img;
    expect_fail(pixab_image_load(NULL, &img), PIXAB_ERR_ARG, "path", NULL);
    expect_fail(pixab_image_load("x.png", NULL), PIXAB_ERR_ARG, NULL, NULL);
    expect_fail(pixab_image_load_memory(NULL, 10, &img), PIXAB_ERR_ARG, NULL, NULL);
    pixab_image_free(NULL); /* no-op */
}

/* ---- the shared bilinear functions (preprocess.cuh) --------------------------------- */

/* Expected values: PyTorch 1.13 F.interpolate(mode="bilinear",
 * align_corners=False, antialias=False), generated once and pasted here. */
static const float map_3x4[12] = {
    0, 0.142857149, 0.404061019, 0.742307484, 1.14285719, 1.59719145,
    2.09956264, 2.64575148, 3.23248816, 3.85714293, 4.5175395, 5.21183872,
};
static const float map_3x4_to_5x7[35] = {
    0, 0.0510204174, 0.132653072, 0.273459107, 0.428221524, 0.62150526,
    0.742307484, 0.457142919, 0.552660048, 0.70548749, 0.903426349, 1.11236346,
    1.35317683, 1.50368524, 1.14285731, 1.30511951, 1.56473911, 1.84837723,
    2.13857627, 2.45068431, 2.64575171, 2.39663601, 2.59539533, 2.91341066,
    3.25175571, 3.59571004, 3.95859885, 4.1854043, 3.23248816, 3.45557904,
    3.8125248, 4.18734121, 4.56713247, 4.96387482, 5.21183872,
};
static const float map_3x4_to_2x3[6] = {
    0.322502047, 0.667188585, 1.15312982, 2.80709291, 3.60260034, 4.46077156,
};
static const float map_3x4_to_1x1[1] = {
    1.84837699,
};
static const unsigned char img_5x7[105] = {
    37, 235, 140, 72, 255, 137, 203, 133, 79, 192, 144, 129, 204, 71, 237, 252,
    134, 25, 178, 20, 254, 101, 146, 212, 139, 252, 234, 156, 157, 142, 50, 68,
    215, 215, 233, 241, 247, 222, 96, 86, 141, 233, 137, 7, 63, 61, 22, 57,
    1, 128, 60, 209, 8, 216, 141, 115, 175, 234, 121, 200, 30, 71, 131, 198,
    149, 49, 57, 3, 196, 24, 241, 43, 76, 26, 52, 80, 109, 115, 41, 210,
    15, 64, 196, 25, 111, 226, 215, 135, 26, 153, 104, 22, 9, 195, 231, 126,
    23, 125, 100, 155, 165, 57, 83, 166, 136,
};
static const float img_5x7_to_4x4_norm[48] = {
    -1.12011933, 2.08554339, 0.793322623, 1.20884705, 0.341955692, -0.175087065,
    1.33246624, -0.343552917, 2.12202621, 1.27841628, -0.699437439, 1.15525079,
    -0.187623054, 0.0796240866, 0.991851926, -0.416666657, 0.302291214, 0.361405343,
    0.922542453, 0.955247819, 1.96271253, 0.13266328, 0.428670079, 1.19936824,
    0.132128134, -0.921557605, -0.273126245, -1.61807513, 1.04907429, -0.804172039,
    -0.306961179, -0.289390773, 0.539782166, -0.841307044, 0.755558431, -0.547636092,
    -0.00915100519, 0.483652949, 1.3466996, -0.323818356, -0.829919457, -1.34801733,
    -1.28093171, 0.297914505, 0.00356210605, -0.351110905, 0.941843987, -0.135871306,
};

static void check_tap(bilinear_tap t, int i0, int i1, float w1) {
    cr_assert_eq(t.i0, i0);
    cr_assert_eq(t.i1, i1);
    cr_assert_float_eq(t.w1, w1, 1e-7f);
    cr_assert_float_eq(t.w0 + t.w1, 1.0f, 1e-7f);
}

Test(bilinear, taps) {
    for (int d = 0; d < 7; d++) { /* identity: exact, weight 1 on the pixel itself */
        bilinear_tap t = bilinear_axis(d, 7, 7);
        cr_assert(t.i0 == d && t.i1 == d && t.w0 == 1.0f && t.w1 == 0.0f);
    }
    /* 4 -> 2: src = (d + 0.5) * 2 - 0.5 = 0.5, 2.5 */
    check_tap(bilinear_axis(0, 4, 2), 0, 1, 0.5f);
    check_tap(bilinear_axis(1, 4, 2), 2, 3, 0.5f);
    /* 2 -> 4: src = -0.25 (clamped to 0), 0.25, 0.75, 1.25 (i1 clamped to 1) */
    check_tap(bilinear_axis(0, 2, 4), 0, 1, 0.0f);
    check_tap(bilinear_axis(1, 2, 4), 0, 1, 0.25f);
    check_tap(bilinear_axis(2, 2, 4), 0, 1, 0.75f);
    bilinear_tap t = bilinear_axis(3, 2, 4);
    cr_assert(t.i0 == 1 && t.i1 == 1, "last tap clamps to the edge");
    cr_assert_float_eq(t.w0 + t.w1, 1.0f, 1e-7f);
    /* 1 -> n: every tap is the single source pixel */
    for (int d = 0; d < 5; d++) {
        t = bilinear_axis(d, 1, 5);
        cr_assert(t.i0 == 0 && t.i1 == 0);
    }
    /* n -> 1: the centre, src = n/2 - 0.5 */
    check_tap(bilinear_axis(0, 4, 1), 1, 2, 0.5f);
    check_tap(bilinear_axis(0, 5, 1), 2, 3, 0.0f);
}

static void check_map_resize(int oh, int ow, const float *want) {
    float got;
    for (int y = 0; y < oh; y++)
        for (int x = 0; x < ow; x++) {
            got = bilinear_sample_f32(map_3x4, 4, 1, bilinear_axis(y, 3, oh), bilinear_axis(x, 4, ow));
            cr_assert_float_eq(got, want[y * ow + x], 1e-6f, "%dx%d at (%d,%d): %.9g vs %.9g", oh, ow,
                               y, x, got, want[y * ow + x]);
        }
}

Test(bilinear, float_map_matches_pytorch) {
    check_map_resize(5, 7, map_3x4_to_5x7);
    check_map_resize(2, 3, map_3x4_to_2x3);
    check_map_resize(1, 1, map_3x4_to_1x1);
    check_map_resize(3, 4, map_3x4); /* identity */
}

Test(bilinear, strided_layouts_agree) {
    /* The same map as a channel of an HWC tensor and as a plane of a CHW tensor. */
    float hwc[3 * 4 * 2], chw[2 * 3 * 4];
    for (int i = 0; i < 12; i++) {
        hwc[i * 2 + 0] = -1.0f;
        hwc[i * 2 + 1] = map_3x4[i];
        chw[i] = -1.0f;
        chw[12 + i] = map_3x4[i];
    }
    for (int y = 0; y < 5; y++)
        for (int x = 0; x < 7; x++) {
            bilinear_tap ty = bilinear_axis(y, 3, 5), tx = bilinear_axis(x, 4, 7);
            float a = bilinear_sample_f32(map_3x4, 4, 1, ty, tx);
            cr_assert_eq(bilinear_sample_f32(hwc + 1, 4 * 2, 2, ty, tx), a);
            cr_assert_eq(bilinear_sample_f32(chw + 12, 4, 1, ty, tx), a);
        }
}

/* ---- preprocessing -------------------------------------------------------------------- */

static const pixab_preproc imagenet = {4, {0.485f, 0.456f, 0.406f}, {0.229f, 0.224f, 0.225f}};

Test(preprocess, small_image_matches_pytorch) {
    pixab_image img = {7, 5, (unsigned char *)img_5x7};
    float out[4 * 4 * 3];
    cr_assert_eq(pixab_image_preprocess(&img, &imagenet, out), PIXAB_OK, "%s", pixab_last_error());
    for (int i = 0; i < 48; i++)
        cr_assert_float_eq(out[i], img_5x7_to_4x4_norm[i], 2e-6f, "element %d: %.9g vs %.9g", i,
                           out[i], img_5x7_to_4x4_norm[i]);
    /* the per-pixel function the kernel calls gives the same, bit for bit */
    for (int y = 0; y < 4; y++)
        for (int x = 0; x < 4; x++) {
            float px[3];
            preprocess_pixel(px, img.rgb, 5, 7, 4, y, x, imagenet.mean, imagenet.std);
            for (int c = 0; c < 3; c++) cr_assert_eq(px[c], out[(y * 4 + x) * 3 + c]);
        }
}

Test(preprocess, identity_when_square) {
    const int S = 6;
    unsigned char *px = pattern(S, S, 3);
    pixab_image img = {S, S, px};
    pixab_preproc p = {S, {0.1f, 0.5f, 0.9f}, {0.3f, 0.5f, 2.0f}};
    float out[6 * 6 * 3];
    cr_assert_eq(pixab_image_preprocess(&img, &p, out), PIXAB_OK, "%s", pixab_last_error());
    for (int i = 0; i < S * S * 3; i++) {
        float want = ((float)px[i] / 255.0f - p.mean[i % 3]) / p.std[i % 3];
        cr_assert(out[i] == want, "element %d: %.9g vs %.9g exactly", i, out[i], want);
    }
    free(px);
}

Test(preprocess, one_pixel_image) {
    unsigned char px[3] = {0, 128, 255};
    pixab_image img = {1, 1, px};
    pixab_preproc p = {3, {0, 0, 0}, {1, 1, 1}};
    float out[27];
    cr_assert_eq(pixab_image_preprocess(&img, &p, out), PIXAB_OK, "%s", pixab_last_error());
    for (int i = 0; i < 9; i++)
        for (int c = 0; c < 3; c++) cr_assert(out[i * 3 + c] == (float)px[c] / 255.0f);
}

static float *golden(safetensors *st, const char *name, int n) {
    const st_tensor *t = safetensors_find(st, name);
    cr_assert_not_null(t, "golden '%s' missing", name);
    cr_assert_eq(safetensors_numel(t), n, "golden '%s' has %lld elements", name,
                 (long long)safetensors_numel(t));
    float *v = malloc((size_t)n * sizeof(float));
    cr_assert_eq(safetensors_to_f32(t, v), PIXAB_OK, "%s", pixab_last_error());
    return v;
}

Test(preprocess, resize_matches_pytorch_goldens) {
    safetensors *st;
    cr_assert_eq(safetensors_open(PIXAB_TEST_DATA "/inception_v3_w8.goldens.safetensors", &st),
                 PIXAB_OK, "%s", pixab_last_error());
    pixab_image img;
    cr_assert_eq(pixab_image_load(PIXAB_TEST_DATA "/small53x37.png", &img), PIXAB_OK, "%s",
                 pixab_last_error());
    const int sizes[2] = {31, 71};
    for (int k = 0; k < 2; k++) {
        const int S = sizes[k], n = S * S * 3;
        char name[32];
        snprintf(name, sizeof name, "resize_%d", S);
        float *want = golden(st, name, n);
        float *got = malloc((size_t)n * sizeof(float));
        pixab_preproc p = {S, {0, 0, 0}, {1, 1, 1}}; /* the goldens are [0,1], not normalised */
        cr_assert_eq(pixab_image_preprocess(&img, &p, got), PIXAB_OK, "%s", pixab_last_error());
        double max_err = 0;
        for (int i = 0; i < n; i++) {
            double e = fabs((double)got[i] - want[i]);
            if (e > max_err) max_err = e;
        }
        cr_log_info("%s: max |error| %.3g", name, max_err);
        cr_assert(max_err <= 1e-5, "%s: max |error| %.3g > 1e-5", name, max_err);
        free(got);
        free(want);
    }
    pixab_image_free(&img);
    safetensors_close(st);
}

Test(preprocess, input_golden_is_exact) {
    /* The goldens' "input": test299.png, already 299 x 299, normalised with
     * mean = std = 0.5, NCHW. Identity resize: equal bit for bit. */
    safetensors *st;
    cr_assert_eq(safetensors_open(PIXAB_TEST_DATA "/inception_v3_w8.goldens.safetensors", &st),
                 PIXAB_OK, "%s", pixab_last_error());
    const int S = 299;
    float *want = golden(st, "input", 3 * S * S); /* (1, 3, S, S) */
    pixab_image img;
    cr_assert_eq(pixab_image_load(PIXAB_TEST_DATA "/test299.png", &img), PIXAB_OK, "%s",
                 pixab_last_error());
    float *got = malloc((size_t)S * S * 3 * sizeof(float)); /* (S, S, 3) */
    pixab_preproc p = {S, {0.5f, 0.5f, 0.5f}, {0.5f, 0.5f, 0.5f}};
    cr_assert_eq(pixab_image_preprocess(&img, &p, got), PIXAB_OK, "%s", pixab_last_error());
    for (int c = 0; c < 3; c++)
        for (int i = 0; i < S * S; i++)
            cr_assert(got[i * 3 + c] == want[c * S * S + i], "channel %d pixel %d: %.9g vs %.9g", c, i,
                      got[i * 3 + c], want[c * S * S + i]);
    free(got);
    free(want);
    pixab_image_free(&img);
    safetensors_close(st);
}

Test(preprocess, bad_arguments) {
    unsigned char px[12] = {0};
    pixab_image img = {2, 2, px};
    float out[16 * 3];
    pixab_preproc p = {4, {0.5f, 0.5f, 0.5f}, {0.5f, 0.5f, 0.5f}};
    cr_assert_eq(pixab_image_preprocess(&img, &p, out), PIXAB_OK);

    pixab_preproc bad = p;
    bad.size = 0;
    expect_fail(pixab_image_preprocess(&img, &bad, out), PIXAB_ERR_ARG, "input size 0", NULL);
    bad.size = 9000;
    expect_fail(pixab_image_preprocess(&img, &bad, out), PIXAB_ERR_ARG, "input size 9000", NULL);
    bad = p;
    bad.std[1] = 0.0f;
    expect_fail(pixab_image_preprocess(&img, &bad, out), PIXAB_ERR_ARG, "std", NULL);
    bad = p;
    bad.mean[2] = NAN;
    expect_fail(pixab_image_preprocess(&img, &bad, out), PIXAB_ERR_ARG, "channel 2", NULL);
    bad = p;
    bad.std[0] = INFINITY;
    expect_fail(pixab_image_preprocess(&img, &bad, out), PIXAB_ERR_ARG, "channel 0", NULL);

    expect_fail(pixab_image_preprocess(NULL, &p, out), PIXAB_ERR_ARG, NULL, NULL);
    expect_fail(pixab_image_preprocess(&img, NULL, out), PIXAB_ERR_ARG, NULL, NULL);
    expect_fail(pixab_image_preprocess(&img, &p, NULL), PIXAB_ERR_ARG, NULL, NULL);
    pixab_image empty = {0, 0, px};
    expect_fail(pixab_image_preprocess(&empty, &p, out), PIXAB_ERR_ARG, "image size 0x0", NULL);
    pixab_image no_pixels = {2, 2, NULL};
    expect_fail(pixab_image_preprocess(&no_pixels, &p, out), PIXAB_ERR_ARG, NULL, NULL);
}
