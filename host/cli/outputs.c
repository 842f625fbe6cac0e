/* outputs.c — output directories and atomically written files shared by the
 * subcommands: bytes, and RGB pixels as PNG (stb_image_write), each under a
 * temporary name in the same directory, renamed when complete. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <stb_image_write.h>

#include "outputs.h"
#include "temp_file.h"

int cli_make_dirs(const char *dir) {
    char *p = malloc(strlen(dir) + 1);
    if (!p) return ENOMEM;
    strcpy(p, dir);
    int e = 0;
    for (char *s = p + 1;; s++) {
        if (*s != '/' && *s) continue;
        char c = *s;
        *s = '\0';
        struct stat st;
        if (mkdir(p, 0777) && errno != EEXIST) e = errno;
        else if (stat(p, &st)) e = errno;
        else if (!S_ISDIR(st.st_mode)) e = ENOTDIR;
        *s = c;
        if (e || !c) break;
        while (s[1] == '/') s++;
    }
    free(p);
    return e;
}

int cli_finish_file(FILE *f, const char *tmp, const char *path, int e, char *why, size_t cap) {
    errno = 0;
    if (fclose(f) && !e) e = errno ? errno : EIO; /* a full disk often shows only here */
    if (!e && rename(tmp, path)) e = errno;
    if (e) {
        remove(tmp);
        snprintf(why, cap, "cannot write '%s': %s", path, strerror(e));
        return -1;
    }
    return 0;
}

int cli_write_file(const char *path, const void *bytes, size_t len, char *why, size_t cap) {
    char tmp[4096 + 64];
    FILE *f = temp_file_open(path, tmp, sizeof tmp);
    if (!f) {
        snprintf(why, cap, "cannot write '%s': %s", path, strerror(errno));
        return -1;
    }
    int e = len && fwrite(bytes, 1, len, f) != len ? (errno ? errno : EIO) : 0;
    return cli_finish_file(f, tmp, path, e, why, cap);
}

/* stb_image_write's sink: our own FILE, so every write error is seen
 * (stbi_write_png itself ignores fwrite and fclose failures). */
typedef struct {
    FILE *f;
    int error;
} png_sink;

static void png_sink_write(void *ctx, void *data, int size) {
    png_sink *s = ctx;
    if (!s->error && size > 0 && fwrite(data, 1, (size_t)size, s->f) != (size_t)size) s->error = errno ? errno : EIO;
}

int cli_write_png(const char *path, const unsigned char *rgb, int w, int h, char *why, size_t cap) {
    char tmp[4096 + 64];
    png_sink sink = {temp_file_open(path, tmp, sizeof tmp), 0};
    if (!sink.f) {
        snprintf(why, cap, "cannot write '%s': %s", path, strerror(errno));
        return -1;
    }
    int ok = stbi_write_png_to_func(png_sink_write, &sink, w, h, 3, rgb, w * 3);
    return cli_finish_file(sink.f, tmp, path, !ok ? ENOMEM : sink.error, why, cap);
}
