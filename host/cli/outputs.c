/* outputs.c — output directories and atomically written files shared by the
 * subcommands: bytes, and RGB pixels as PNG (stb_image_write), each written
 * by the rule of temp_file.h (atomic for regular files). */
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

int cli_make_writable_dir(const char *dir) {
    int e = cli_make_dirs(dir);
    if (e) return e;
    size_t n = strlen(dir) + 32;
    char *probe = malloc(n);
    if (!probe) return ENOMEM;
    snprintf(probe, n, "%s/.pixab-write-check", dir);
    temp_file t;
    if (!(e = temp_file_open(&t, probe)) && fputc('\n', t.f) == EOF) e = errno ? errno : EIO;
    if (!e) e = fflush(t.f) ? (errno ? errno : EIO) : 0;
    if (t.f) temp_file_close(&t, ECANCELED); /* never renamed: the temporary file is removed */
    free(probe);
    return e;
}

/* A one-line reason in why for errno e; -1, or 0 when e is 0. */
static int write_failed(const char *path, int e, char *why, size_t cap) {
    if (!e) return 0;
    snprintf(why, cap, "cannot write '%s': %s", path, strerror(e));
    return -1;
}

int cli_write_file(const char *path, const void *bytes, size_t len, char *why, size_t cap) {
    temp_file t;
    int e = temp_file_open(&t, path);
    if (e) return write_failed(path, e, why, cap);
    e = len && fwrite(bytes, 1, len, t.f) != len ? (errno ? errno : EIO) : 0;
    return write_failed(path, temp_file_close(&t, e), why, cap);
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
    temp_file t;
    int e = temp_file_open(&t, path);
    if (e) return write_failed(path, e, why, cap);
    png_sink sink = {t.f, 0};
    int ok = stbi_write_png_to_func(png_sink_write, &sink, w, h, 3, rgb, w * 3);
    return write_failed(path, temp_file_close(&t, !ok ? ENOMEM : sink.error), why, cap);
}
