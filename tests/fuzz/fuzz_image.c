/* fuzz_image.c — libFuzzer target for image decoding (pixab_image_load_memory:
 * libjpeg-turbo for JPEG, stb_image for PNG, BMP, GIF, TGA and PNM, and the
 * header checks in front of them). Any input must either fail cleanly (a
 * FORMAT or NOMEM status, a one-line reason, `out` reset) or give an image
 * within the size limits whose every byte can be read and preprocessed. Build
 * and run: see README.md in this folder. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pixab.h"

#define S 16 /* preprocessing output size */

static void check(int cond) {
    if (!cond) abort(); /* an invariant broke: libFuzzer reports it as a crash */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    pixab_image img = {7, 7, (unsigned char *)&img}; /* must be reset on failure */
    pixab_status s = pixab_image_load_memory(data, size, &img);
    if (s != PIXAB_OK) {
        check(s == PIXAB_ERR_FORMAT || s == PIXAB_ERR_NOMEM);
        check(img.rgb == NULL && img.width == 0 && img.height == 0);
        const char *msg = pixab_last_error();
        check(msg[0] != '\0' && strchr(msg, '\n') == NULL);
        return 0;
    }
    check(img.rgb != NULL && img.width > 0 && img.height > 0);
    check(img.width <= PIXAB_IMAGE_MAX_SIDE && img.height <= PIXAB_IMAGE_MAX_SIDE);
    check((long long)img.width * img.height <= PIXAB_IMAGE_MAX_PIXELS);
    /* every pixel byte is there (ASan checks the reads) */
    size_t n = (size_t)img.width * img.height * 3;
    unsigned sum = 0;
    for (size_t i = 0; i < n; i++) sum += img.rgb[i];
    volatile unsigned sink = sum;
    (void)sink;
    static float out[S * S * 3];
    pixab_preproc p = {S, {0.5f, 0.5f, 0.5f}, {0.25f, 0.25f, 0.25f}};
    check(pixab_image_preprocess(&img, &p, out) == PIXAB_OK);
    for (int i = 0; i < S * S * 3; i++) /* (v - 0.5) / 0.25 for v in [0, 1] */
        check(out[i] >= -2.0f && out[i] <= 2.0f);
    pixab_image_free(&img);
    check(img.rgb == NULL);
    return 0;
}
