/* npy.h — float32 arrays in numpy's .npy format (NEP 1 / numpy.lib.format):
 * magic "\x93NUMPY", version, little-endian header length, a Python-dict header
 * padded with spaces to a multiple of 64 bytes and ended by '\n', then the data
 * in C order. The writer produces the bytes numpy 1.24 writes for the same
 * array (version 1.0, '<f4'); the reader is strict and overflow-checked. */
#ifndef PIXAB_NPY_H
#define PIXAB_NPY_H

#include <stddef.h>
#include <stdint.h>

#include "pixab.h"

#define NPY_MAX_DIMS 16

typedef struct {
    int ndim;                      /* 0 for a scalar */
    int64_t shape[NPY_MAX_DIMS];
    int64_t numel;                 /* product of shape (1 for a scalar) */
    float *data;                   /* (shape...) C order; malloc'd, never NULL after a read */
} npy_array;

/* Write data (shape...) as '<f4' .npy by the rule of temp_file.h: a regular
 * file (or a symlink's) appears atomically, written under a temporary name in
 * its directory and renamed over it; on any failure (full disk included)
 * nothing is left behind. A character device or FIFO is written directly. */
pixab_status npy_write_f32(const char *path, const float *data, int ndim, const int64_t *shape);

/* Read a float32 .npy (version 1.0 or 2.0, descr '<f4', fortran_order False,
 * data size exactly as the shape says). Free with npy_free. */
pixab_status npy_read_f32(const char *path, npy_array *out);
/* The same from a buffer in memory (copied: the buffer may go away). */
pixab_status npy_parse_f32(const void *buf, size_t size, npy_array *out);
void npy_free(npy_array *a);

#endif /* PIXAB_NPY_H */
