/* safetensors.h — strict, overflow-checked reader for the safetensors format
 * (huggingface/safetensors): 8-byte little-endian header length N, N bytes of
 * JSON header, then the tensor bytes. Files are memory-mapped; nothing in the
 * file is trusted without a check. See ../shared/REFERENCE.md for the rules. */
#ifndef PIXAB_SAFETENSORS_H
#define PIXAB_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "pixab.h"

#define SAFETENSORS_MAX_HEADER 100000000u
#define SAFETENSORS_MAX_DIMS 8

typedef enum {
    ST_BOOL, ST_U8, ST_I8, ST_I16, ST_U16, ST_F16, ST_BF16, ST_I32, ST_U32,
    ST_F32, ST_F64, ST_I64, ST_U64, ST_F8_E4M3, ST_F8_E5M2
} st_dtype;

typedef struct {
    char *name;                          /* the JSON key */
    st_dtype dtype;
    int ndim;                            /* 0 for a scalar */
    int64_t shape[SAFETENSORS_MAX_DIMS];
    size_t begin, end;                   /* byte offsets into the data buffer, end exclusive */
    const unsigned char *data;           /* begin of the bytes (unaligned) */
} st_tensor;

typedef struct safetensors safetensors;

/* mmap and validate a file. */
pixab_status safetensors_open(const char *path, safetensors **out);
/* Validate a buffer already in memory (not copied: it must outlive the handle). */
pixab_status safetensors_parse(const void *buf, size_t size, safetensors **out);
void safetensors_close(safetensors *st);

int safetensors_count(const safetensors *st);
const st_tensor *safetensors_at(const safetensors *st, int i);   /* in file order of the header */
const st_tensor *safetensors_find(const safetensors *st, const char *name); /* NULL if absent */
/* __metadata__ value, or NULL. */
const char *safetensors_meta(const safetensors *st, const char *key);

const char *safetensors_dtype_name(st_dtype d);
size_t safetensors_dtype_size(st_dtype d);
int64_t safetensors_numel(const st_tensor *t);

/* Find `name` and check its shape against (ndim, shape); a shape entry < 0
 * matches any size. Errors name the key: "missing tensor 'fc.bias'",
 * "tensor 'fc.bias' has shape [10], expected [1000]". */
pixab_status safetensors_get(const safetensors *st, const char *name, int ndim,
                             const int64_t *shape, const st_tensor **out);
/* Convert a F32/F16/BF16 tensor to float32 (numel floats); other dtypes are an
 * error naming the key and dtype. */
pixab_status safetensors_to_f32(const st_tensor *t, float *out);
/* IEEE half (bits) -> float, exact for every input (subnormals, inf, NaN
 * payloads); also the ONNX loader's FLOAT16 conversion. */
float safetensors_f16_to_f32(uint16_t h);

#endif
