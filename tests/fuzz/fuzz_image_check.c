/* fuzz_image_check.c — libFuzzer target for the truncation rule of BMP, TGA
 * and GIF files (image_check_complete, image_check.c): stb_image 2.27 fills
 * the pixels of a truncated file with zeros and reports success, so a file
 * must hold every byte its header announces. Any input must either fail
 * cleanly (FORMAT, a one-line reason naming the file) or pass; a BMP, TGA or
 * GIF that passes must still pass with bytes appended, and must decode to
 * the very same pixels with or without them: had the decoder needed bytes
 * past the end (the zeros stb makes up), the appended ones would change them.
 * Build and run: see README.md in this folder. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <stb_image.h>

#include "image_check.h"
#include "pixab.h"

#define PAD 4096           /* bytes appended: none of them zero */
#define MAX_PIXELS (1 << 20) /* larger images are checked, not decoded (speed) */

static void check(int cond) {
    if (!cond) abort(); /* an invariant broke: libFuzzer reports it as a crash */
}

/* The formats the rule covers, as image.c tells them apart: BMP and GIF by
 * their magic, TGA when no other format claims the file. */
static int ruled(const uint8_t *d, size_t n) {
    if (n >= 2 && d[0] == 'B' && d[1] == 'M') return 1;
    if (n >= 6 && (!memcmp(d, "GIF87a", 6) || !memcmp(d, "GIF89a", 6))) return 1;
    if (n >= 2 && ((d[0] == 0xFF && d[1] == 0xD8) || d[0] == 0x89 || (d[0] == 'P' && d[1] >= '1' && d[1] <= '6')))
        return 0; /* JPEG, PNG, PNM */
    return image_is_tga(d, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    pixab_status s = image_check_complete(data, size, "image 'x'");
    if (s != PIXAB_OK) {
        check(s == PIXAB_ERR_FORMAT);
        const char *msg = pixab_last_error();
        check(strstr(msg, "image 'x'") != NULL && strchr(msg, '\n') == NULL);
        return 0;
    }
    if (!ruled(data, size)) return 0;
    uint8_t *padded = malloc(size + PAD);
    if (!padded) return 0;
    if (size) memcpy(padded, data, size);
    for (size_t i = 0; i < PAD; i++) padded[size + i] = (uint8_t)(0xA5 ^ (i * 37));
    padded[size] |= 1; /* never zero, so never what stb makes up */
    check(image_check_complete(padded, size + PAD, "image 'x'") == PIXAB_OK);
    int w = 0, h = 0, c = 0;
    if (stbi_info_from_memory(data, (int)size, &w, &h, &c) && (long long)w * (h < 0 ? -(long long)h : h) <= MAX_PIXELS) {
        pixab_image a, b;
        if (pixab_image_load_memory(data, size, &a) == PIXAB_OK) {
            check(pixab_image_load_memory(padded, size + PAD, &b) == PIXAB_OK);
            check(a.width == b.width && a.height == b.height);
            check(!memcmp(a.rgb, b.rgb, (size_t)a.width * a.height * 3)); /* no pixel came from past the end */
            pixab_image_free(&b);
            pixab_image_free(&a);
        }
    }
    free(padded);
    return 0;
}
