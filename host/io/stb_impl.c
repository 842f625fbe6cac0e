/* stb_impl.c — the one translation unit that compiles the stb single-header
 * libraries (libstb-dev): stb_image (decoding, used by image.c) and
 * stb_image_write (PNG overlays). Everyone else includes the headers only.
 * Decoding is limited to the common formats; PSD, PIC and HDR are left out
 * (less-tested decoders, and HDR would need tone mapping), and so is JPEG:
 * image.c decodes JPEG with libjpeg-turbo, because stb_image 2.27's JPEG
 * decoder reads out of bounds on corrupt scan data. */
#define STBI_ONLY_PNG
#define STBI_ONLY_BMP
#define STBI_ONLY_GIF
#define STBI_ONLY_TGA
#define STBI_ONLY_PNM
#define STBI_NO_JPEG /* implied by the STBI_ONLY_ list; said outright */
/* stb's asserts check its own invariants, but a crafted file might trip one,
 * and the library must never abort. */
#define STBI_ASSERT(x) ((void)0)
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb_image.h>
#include <stb_image_write.h>
