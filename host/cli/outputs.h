/* outputs.h — output directories and files written by the rule of temp_file.h
 * (outputs.c): bytes, and RGB pixels as PNG; nothing is left behind on failure. */
#ifndef PIXAB_CLI_OUTPUTS_H
#define PIXAB_CLI_OUTPUTS_H

#include <stddef.h>

/* mkdir -p, mode 0777 & ~umask: 0 or an errno. */
int cli_make_dirs(const char *dir);
/* cli_make_dirs, then a temporary file created in dir and removed (the rule
 * of temp_file.h), so a directory that cannot be written fails before a run
 * spends its time: 0 or an errno (EACCES, EROFS, ENOSPC, ...). */
int cli_make_writable_dir(const char *dir);
/* Write rgb (h, w, 3) as an RGB PNG at `path` by the rule of temp_file.h
 * (a regular file atomically: temporary name beside it, checked writes, then
 * rename; nothing left behind on failure). Returns -1 with a one-line reason
 * in why[cap] on failure. */
int cli_write_png(const char *path, const unsigned char *rgb, int w, int h, char *why, size_t cap);
/* Write len bytes to path, as cli_write_png; -1 with a one-line reason in why
 * on failure, nothing left behind. */
int cli_write_file(const char *path, const void *bytes, size_t len, char *why, size_t cap);

#endif
