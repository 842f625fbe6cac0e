/* outputs.h — output directories and files that appear atomically (outputs.c):
 * bytes, and RGB pixels as PNG; nothing is left behind on failure. */
#ifndef PIXAB_CLI_OUTPUTS_H
#define PIXAB_CLI_OUTPUTS_H

#include <stddef.h>
#include <stdio.h>

/* mkdir -p, mode 0777 & ~umask: 0 or an errno. */
int cli_make_dirs(const char *dir);
/* Write rgb (h, w, 3) as an RGB PNG at `path` atomically (temporary name in the
 * same directory, checked writes, then rename; nothing left behind on failure).
 * Returns -1 with a one-line reason in why[cap] on failure. */
int cli_write_png(const char *path, const unsigned char *rgb, int w, int h, char *why, size_t cap);
/* Write len bytes to path atomically (temporary name, checked writes, rename);
 * -1 with a one-line reason in why on failure, nothing left behind. */
int cli_write_file(const char *path, const void *bytes, size_t len, char *why, size_t cap);
/* Finish a file opened with temp_file_open under `tmp`: close it and, when e
 * (an errno of the writes) is 0, rename it to path; else remove it. -1 with a
 * one-line reason in why on failure. */
int cli_finish_file(FILE *f, const char *tmp, const char *path, int e, char *why, size_t cap);

#endif
