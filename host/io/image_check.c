/* image_check.c — what stb_image 2.27 does not check before it decodes: that
 * a BMP, TGA or GIF file holds all the pixel data its header announces (stb
 * fills a truncated file's missing pixels with zeros and reports success),
 * and the BMP compressions it does not decode (RLE, JPEG, PNG), which would
 * otherwise be called corrupt. The rules follow the formats as stb reads
 * them: BMP rows padded to 4 bytes after the header's data offset; TGA's
 * colour map and its uncompressed or run-length packets; GIF's blocks up to
 * the end of the first image's data (stb decodes the first frame only). */
#include "image_check.h"

#include <stdint.h>
#include <string.h>

#include "error.h"

static pixab_status truncated(const char *label, size_t have, long long need) {
    return pixab_fail(PIXAB_ERR_FORMAT, "%s is truncated (%zu of %lld bytes)", label, have, need);
}

int image_bmp_header(const unsigned char *d, size_t n, image_bmp *b) {
    if (n < 26 || d[0] != 'B' || d[1] != 'M') return 0;
    *b = (image_bmp){.data_offset = LE32(d + 10)};
    if (LE32(d + 14) == 12) { /* OS/2 BITMAPCOREHEADER: 16-bit sizes */
        b->w = LE16(d + 18), b->h = LE16(d + 20), b->bpp = LE16(d + 24), b->complete = 1;
        return 1;
    }
    b->w = (int32_t)(uint32_t)LE32(d + 18), b->h = (int32_t)(uint32_t)LE32(d + 22); /* signed 32-bit */
    if ((b->complete = n >= 34)) b->bpp = LE16(d + 28), b->compression = LE32(d + 30);
    return 1;
}

static pixab_status check_bmp(const unsigned char *d, size_t n, const char *label) {
    image_bmp b;
    if (!image_bmp_header(d, n, &b)) return truncated(label, n, 26);
    if (!b.complete) return truncated(label, n, 34);
    static const char *const names[] = {"RLE8", "RLE4", NULL, "JPEG", "PNG"};
    if (b.compression >= 1 && b.compression <= 5 && names[b.compression - 1])
        return pixab_fail(PIXAB_ERR_FORMAT, "%s uses an unsupported BMP compression (%s)", label,
                          names[b.compression - 1]);
    /* stb starts the pixels at the data offset only when it lies past the
     * header (its colour masks included) and, below 16 bits, leaves room for
     * a palette (its entry count, from the offset, is not negative);
     * otherwise it starts elsewhere, or skips to the end and makes every
     * pixel up. */
    const long long hsz = LE32(d + 14), off = b.data_offset;
    const long long head = 14 + hsz + (hsz == 40 && (b.bpp == 16 || b.bpp == 32) && b.compression == 3 ? 12 : 0);
    const long long rest = off - 14 - hsz, entries = hsz == 12 ? (off - 38) / 3 : rest >= 0 ? rest / 4 : -1;
    if (off < head || (b.bpp < 16 && entries < 0))
        return pixab_fail(PIXAB_ERR_FORMAT, "%s is a corrupt BMP (pixel data at byte %lld, inside its header)", label,
                          off);
    const long long w = b.w < 0 ? -b.w : b.w, h = b.h < 0 ? -b.h : b.h; /* negative height: rows top-down */
    /* Sizes of up to 2^32 (the caller need not have checked the limits): a
     * row stays below 2^50, the whole is checked against the file before it
     * is multiplied out. */
    const long long row = (b.bpp * w + 31) / 32 * 4, avail = (long long)n > b.data_offset ? (long long)n - b.data_offset : 0;
    if (row && h > avail / row + 1)
        return pixab_fail(PIXAB_ERR_FORMAT, "%s is truncated (%zu bytes, its header announces %lld rows of %lld)",
                          label, n, h, row);
    const long long need = b.data_offset + row * h;
    return (long long)n < need ? truncated(label, n, need) : PIXAB_OK;
}

/* Colour-mapped, true-colour or gray, raw (1-3) or run-length (9-11). */
int image_is_tga(const unsigned char *d, size_t n) {
    if (n < 18 || d[1] > 1) return 0;
    const int type = d[2] & ~8;
    return type >= 1 && type <= 3 && LE16(d + 12) > 0 && LE16(d + 14) > 0;
}

static pixab_status check_tga(const unsigned char *d, size_t n, const char *label) {
    const long long pixels = LE16(d + 12) * LE16(d + 14), bytes = (d[16] + 7) / 8;
    /* stb skips the colour map's first-entry index as bytes before the map */
    long long pos = 18 + d[0] + (d[1] ? LE16(d + 3) + LE16(d + 5) * ((d[7] + 7) / 8) : 0);
    if (!(d[2] & 8)) return (long long)n < pos + pixels * bytes ? truncated(label, n, pos + pixels * bytes) : PIXAB_OK;
    for (long long done = 0; done < pixels;) { /* run-length packets: a header byte, then one or count pixels */
        if (pos >= (long long)n) return truncated(label, n, pos + 1);
        const int head = d[pos++], count = (head & 0x7f) + 1;
        pos += head & 0x80 ? bytes : count * bytes;
        done += count;
    }
    return pos > (long long)n ? truncated(label, n, pos) : PIXAB_OK;
}

/* Past the data sub-blocks starting at *pos (each a length byte, then that
 * many bytes; a zero length ends them). 0 when the file ends first. */
static int skip_sub_blocks(const unsigned char *d, size_t n, size_t *pos) {
    for (;;) {
        if (*pos >= n) return 0;
        size_t len = d[(*pos)++];
        if (!len) return 1;
        *pos += len;
    }
}

static pixab_status check_gif(const unsigned char *d, size_t n, const char *label) {
    size_t pos = 13; /* header, logical screen descriptor */
    if (n < pos) return truncated(label, n, (long long)pos);
    if (d[10] & 0x80) pos += 3u << ((d[10] & 7) + 1); /* global colour table */
    for (;;) {
        if (pos >= n) return truncated(label, n, (long long)pos + 1);
        switch (d[pos++]) {
        case 0x21: /* extension: a label, then sub-blocks */
            pos++;
            if (!skip_sub_blocks(d, n, &pos)) return truncated(label, n, (long long)pos + 1);
            break;
        case 0x2C: /* the first image: descriptor, local colour table, LZW code size, data */
            if (pos + 9 > n) return truncated(label, n, (long long)pos + 9);
            if (d[pos + 8] & 0x80) pos += 3u << ((d[pos + 8] & 7) + 1);
            pos += 9 + 1;
            return skip_sub_blocks(d, n, &pos) ? PIXAB_OK : truncated(label, n, (long long)pos + 1);
        default: return pixab_fail(PIXAB_ERR_FORMAT, "%s is a GIF without an image", label);
        }
    }
}

pixab_status image_check_complete(const unsigned char *d, size_t n, const char *label) {
    if (n >= 2 && d[0] == 'B' && d[1] == 'M') return check_bmp(d, n, label);
    if (n >= 6 && (!memcmp(d, "GIF87a", 6) || !memcmp(d, "GIF89a", 6))) return check_gif(d, n, label);
    if (n >= 8 && !memcmp(d, "\x89PNG", 4)) return PIXAB_OK;
    if (n >= 2 && d[0] == 'P' && d[1] >= '1' && d[1] <= '6') return PIXAB_OK; /* PNM: image_stb_guard */
    return image_is_tga(d, n) ? check_tga(d, n, label) : PIXAB_OK;
}
