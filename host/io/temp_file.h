/* temp_file.h — outputs appear atomically: written under a fresh temporary
 * name beside the final path ("PATH.tmp.PID.N", created with O_EXCL, mode
 * 0666 & ~umask), then renamed over it by the writer; on failure the writer
 * removes the temporary file, so nothing partial is ever left. */
#ifndef PIXAB_TEMP_FILE_H
#define PIXAB_TEMP_FILE_H

#include <stddef.h>
#include <stdio.h>

/* Open a new temporary file for `path`; its name goes to tmp (cap bytes).
 * NULL with errno set on failure. */
FILE *temp_file_open(const char *path, char *tmp, size_t cap);

#endif
