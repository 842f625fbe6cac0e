/* test_image.c — image decoding (formats, channel conversion, corrupt, empty,
 * missing and oversized files), the shared bilinear / preprocessing functions
 * of kernels/preprocess.cuh (the code the CUDA kernel runs), and
 * pixab_image_preprocess against PyTorch goldens. Test images are written by the
 * tests themselves (stb_image_write) except the committed goldens' sources. */
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

/* A baseline JPEG up to its SOF0 claiming w x h (16-bit sizes), no scan data. */
static size_t jpeg_header_only(unsigned char *b, unsigned w, unsigned h) {
    static const unsigned char app0[] = {0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 'J',  'F',  'I',
                                         'F',  0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01,
                                         0x00, 0x00};
    size_t n = sizeof app0;
    memcpy(b, app0, n);
    unsigned char sof[] = {0xFF, 0xC0, 0x00, 0x11, 0x08, (unsigned char)(h >> 8), (unsigned char)h,
                           (unsigned char)(w >> 8), (unsigned char)w, 0x03, 0x01, 0x22, 0x00,
                           0x02, 0x11, 0x01, 0x03, 0x11, 0x01};
    memcpy(b + n, sof, sizeof sof);
    n += sizeof sof;
    b[n++] = 0xFF;
    b[n++] = 0xD9;
    return n;
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
    pixab_image_free(&img);
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
 * refused before stb reads them; under ASan these would crash otherwise. */
Test(image, stb_bug_guards) {
    pixab_image img;
    /* JPEG DHT table declaring 300 codes: stb 2.27 writes past its 256-entry arrays */
    unsigned char jpg[128] = {0xFF, 0xD8, 0xFF, 0xC4, 0x00, 0x13, 0x00, 255, 45};
    size_t n = 6 + 17;
    jpg[n++] = 0xFF;
    jpg[n++] = 0xD9;
    expect_fail(pixab_image_load_memory(jpg, n, &img), PIXAB_ERR_FORMAT, "Huffman", NULL);
    /* the same table after a scan (progressive JPEGs define tables between scans) */
    size_t m = jpeg_header_only(jpg, 8, 8) - 2; /* drop EOI */
    const unsigned char sos[] = {0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3F, 0x00,
                                 0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56};
    memcpy(jpg + m, sos, sizeof sos);
    m += sizeof sos;
    const unsigned char dht[] = {0xFF, 0xC4, 0x00, 0x13, 0x10, 200, 200}; /* 14 more zeros */
    memset(jpg + m, 0, 6 + 17);
    memcpy(jpg + m, dht, sizeof dht);
    m += 6 + 17;
    expect_fail(pixab_image_load_memory(jpg, m, &img), PIXAB_ERR_FORMAT, "Huffman", NULL);
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
