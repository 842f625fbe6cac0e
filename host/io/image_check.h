/* image_check.h — checks stb_image does not make before it decodes (image_check.c). */
#ifndef PIXAB_IMAGE_CHECK_H
#define PIXAB_IMAGE_CHECK_H

#include <stddef.h>

#include "pixab.h"

/* Big- and little-endian integers of a header, as long long (image.c,
 * image_check.c). */
#define BE16(p) (((long long)(p)[0] << 8) | (long long)(p)[1])
#define LE16(p) (((long long)(p)[1] << 8) | (long long)(p)[0])
#define BE32(p) ((BE16(p) << 16) | BE16((p) + 2))
#define LE32(p) ((LE16((p) + 2) << 16) | LE16(p))

/* The fields of a BMP header that pixab reads. */
typedef struct {
    long long w, h;     /* pixels; as stored: a negative height means top-down rows */
    long long bpp, compression, data_offset;
    int complete;       /* bpp and compression read (the header is all there) */
} image_bmp;

/* The header of the BMP file d[0..n): 0 when d is not a BMP or too short for
 * its sizes (26 bytes). */
int image_bmp_header(const unsigned char *d, size_t n, image_bmp *b);

/* 1 when d[0..n) has a TGA header as stb's stbi__tga_test accepts it
 * (stb tries TGA last: a file no other format claims). */
int image_is_tga(const unsigned char *d, size_t n);

/* For a BMP, TGA or GIF file d[0..n): an error when it ends before the pixel
 * data its header announces (stb would fill the rest with zeros) or uses a
 * BMP compression stb does not decode; PIXAB_OK otherwise and for every
 * other format. `label` names the file in the message. */
pixab_status image_check_complete(const unsigned char *d, size_t n, const char *label);

#endif
