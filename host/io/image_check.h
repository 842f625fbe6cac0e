/* image_check.h — checks stb_image does not make before it decodes (image_check.c). */
#ifndef PIXAB_IMAGE_CHECK_H
#define PIXAB_IMAGE_CHECK_H

#include <stddef.h>

#include "pixab.h"

/* For a BMP, TGA or GIF file d[0..n): an error when it ends before the pixel
 * data its header announces (stb would fill the rest with zeros) or uses a
 * BMP compression stb does not decode; PIXAB_OK otherwise and for every
 * other format. `label` names the file in the message. */
pixab_status image_check_complete(const unsigned char *d, size_t n, const char *label);

#endif
