/* test_safetensors.c — the safetensors reader (host/io/safetensors.c): a valid
 * file with every float dtype, metadata, a scalar and a zero-size tensor, then
 * one test per rule of the format, each checking the status and the reason. */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "safetensors.h"

/* ---- helpers ---------------------------------------------------------------- */

typedef struct {
    unsigned char *buf;
    size_t size;
} blob;

/* 8-byte length `n` + hlen header bytes + data. */
static blob make_hd(uint64_t n, const char *header, size_t hlen, const void *data, size_t dlen) {
    blob b = {malloc(8 + hlen + dlen + 1), 8 + hlen + dlen};
    for (int i = 0; i < 8; i++) b.buf[i] = (unsigned char)(n >> (8 * i));
    memcpy(b.buf + 8, header, hlen);
    if (dlen) memcpy(b.buf + 8 + hlen, data, dlen);
    return b;
}

/* Length n + header text (strlen) + data; n is normally strlen(header). */
static blob make_n(uint64_t n, const char *header, const void *data, size_t dlen) {
    return make_hd(n, header, strlen(header), data, dlen);
}

/* Length n + hlen raw header bytes (may hold NULs), no data. */
static blob make_raw(uint64_t n, const char *header, size_t hlen) { return make_hd(n, header, hlen, NULL, 0); }

static blob make(const char *header, const void *data, size_t dlen) {
    return make_n(strlen(header), header, data, dlen);
}

/* Header + `dlen` zero bytes of data. */
static blob make_z(const char *header, size_t dlen) {
    void *z = calloc(1, dlen + 1);
    blob b = make(header, z, dlen);
    free(z);
    return b;
}

static void expect_err(pixab_status got, pixab_status want, const char *w1, const char *w2) {
    const char *e = pixab_last_error();
    cr_assert_eq(got, want, "status %d, want %d (reason: %s)", got, want, e);
    cr_assert(strstr(e, w1), "reason '%s' lacks '%s'", e, w1);
    if (w2) cr_assert(strstr(e, w2), "reason '%s' lacks '%s'", e, w2);
}

/* Parsing the blob fails with a format error naming w1 (and w2). */
static void parse_fails(blob b, const char *w1, const char *w2) {
    safetensors *st = (safetensors *)1;
    pixab_status s = safetensors_parse(b.buf, b.size, &st);
    expect_err(s, PIXAB_ERR_FORMAT, w1, w2);
    cr_assert_null(st);
    cr_assert(strncmp(pixab_last_error(), "safetensors: ", 13) == 0, "reason '%s'", pixab_last_error());
    free(b.buf);
}

static void header_fails(const char *header, size_t dlen, const char *w1, const char *w2) {
    parse_fails(make_z(header, dlen), w1, w2);
}

static safetensors *parse_ok(blob b) {
    safetensors *st = NULL;
    pixab_status s = safetensors_parse(b.buf, b.size, &st);
    cr_assert_eq(s, PIXAB_OK, "parse failed: %s", pixab_last_error());
    cr_assert_not_null(st);
    return st;
}

static void write_tmp(char path[64], const void *data, size_t n) {
    strcpy(path, "/tmp/pixab_st_XXXXXX");
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    cr_assert_eq(write(fd, data, n), (ssize_t)n);
    close(fd);
}

static uint32_t bits_of(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

/* ---- the valid file ----------------------------------------------------------- */

/* Header order differs from offset order on purpose; "scalar" sits at an odd
 * offset so its F32 is unaligned. Padded with spaces like real files. */
static const char valid_header[] =
    "{\"scalar\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[42,46]},"
    "\"__metadata__\":{\"format\":\"pt\",\"pixab.mean\":\"0.5,0.5,0.5\"},"
    "\"w32\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]},"
    "\"h16\":{\"shape\":[6],\"dtype\":\"F16\",\"data_offsets\":[24,36]},"
    "\"caf\\u00e9\":{\"dtype\":\"BF16\",\"shape\":[3],\"data_offsets\":[36,42]},"
    "\"empty\":{\"dtype\":\"F32\",\"shape\":[0,5],\"data_offsets\":[46,46]}}       ";

static const float w32_vals[6] = {1.0f, -2.5f, 3.25f, 1e-30f, -0.0f, 65504.0f};
/* 1, -2, smallest subnormal 2^-24, largest subnormal 1023 * 2^-24, -inf, NaN */
static const uint16_t h16_bits[6] = {0x3C00, 0xC000, 0x0001, 0x03FF, 0xFC00, 0x7E00};
/* 1.0, -5.0, +inf */
static const uint16_t bf16_bits[3] = {0x3F80, 0xC0A0, 0x7F80};
static const float scalar_val = 7.75f;

static blob valid_blob(void) {
    unsigned char data[46];
    memcpy(data, w32_vals, 24);
    memcpy(data + 24, h16_bits, 12);
    memcpy(data + 36, bf16_bits, 6);
    memcpy(data + 42, &scalar_val, 4);
    return make(valid_header, data, sizeof data);
}

static void check_valid(safetensors *st, const unsigned char *file) {
    cr_assert_eq(safetensors_count(st), 5);
    cr_assert_str_eq(safetensors_at(st, 0)->name, "scalar"); /* header order */
    cr_assert_str_eq(safetensors_at(st, 1)->name, "w32");
    cr_assert_str_eq(safetensors_at(st, 3)->name, "caf\xc3\xa9");
    cr_assert_null(safetensors_at(st, 5));
    cr_assert_null(safetensors_at(st, -1));
    cr_assert_str_eq(safetensors_meta(st, "format"), "pt");
    cr_assert_str_eq(safetensors_meta(st, "pixab.mean"), "0.5,0.5,0.5");
    cr_assert_null(safetensors_meta(st, "missing"));
    cr_assert_null(safetensors_find(st, "__metadata__"));
    cr_assert_null(safetensors_find(st, "nope"));
    size_t data_start = 8 + strlen(valid_header);
    float out[8];

    const st_tensor *t = safetensors_find(st, "w32");
    cr_assert_not_null(t);
    cr_assert_eq(t->dtype, ST_F32);
    cr_assert_eq(t->ndim, 2);
    cr_assert_eq(t->shape[0], 2);
    cr_assert_eq(t->shape[1], 3);
    cr_assert_eq(safetensors_numel(t), 6);
    cr_assert_eq(t->begin, 0);
    cr_assert_eq(t->end, 24);
    if (file) cr_assert_eq(t->data, file + data_start);
    cr_assert_eq(safetensors_to_f32(t, out), PIXAB_OK);
    for (int i = 0; i < 6; i++) cr_assert_eq(bits_of(out[i]), bits_of(w32_vals[i]), "w32[%d]", i);

    t = safetensors_find(st, "h16");
    cr_assert_eq(t->dtype, ST_F16);
    cr_assert_eq(safetensors_to_f32(t, out), PIXAB_OK);
    cr_assert_eq(out[0], 1.0f);
    cr_assert_eq(out[1], -2.0f);
    cr_assert_eq(out[2], ldexpf(1.0f, -24));
    cr_assert_eq(out[3], 1023.0f * ldexpf(1.0f, -24));
    cr_assert(isinf(out[4]) && out[4] < 0);
    cr_assert(isnan(out[5]));

    t = safetensors_find(st, "caf\xc3\xa9");
    cr_assert_not_null(t);
    cr_assert_eq(t->dtype, ST_BF16);
    cr_assert_eq(safetensors_to_f32(t, out), PIXAB_OK);
    cr_assert_eq(out[0], 1.0f);
    cr_assert_eq(out[1], -5.0f);
    cr_assert(isinf(out[2]) && out[2] > 0);

    t = safetensors_find(st, "scalar");
    cr_assert_eq(t->ndim, 0);
    cr_assert_eq(safetensors_numel(t), 1);
    if (file) cr_assert_eq(t->data, file + data_start + 42);
    cr_assert_eq(safetensors_to_f32(t, out), PIXAB_OK);
    cr_assert_eq(out[0], scalar_val);

    t = safetensors_find(st, "empty");
    cr_assert_eq(safetensors_numel(t), 0);
    cr_assert_eq(t->begin, 46);
    cr_assert_eq(t->end, 46);
    cr_assert_eq(safetensors_to_f32(t, NULL), PIXAB_OK);
}

Test(safetensors, valid_buffer) {
    blob b = valid_blob();
    safetensors *st = parse_ok(b);
    check_valid(st, b.buf);
    safetensors_close(st);
    free(b.buf);
}

Test(safetensors, valid_file) {
    blob b = valid_blob();
    char path[64];
    write_tmp(path, b.buf, b.size);
    free(b.buf);
    safetensors *st = NULL;
    pixab_status s = safetensors_open(path, &st);
    unlink(path);
    cr_assert_eq(s, PIXAB_OK, "%s", pixab_last_error());
    check_valid(st, NULL);
    safetensors_close(st);
    safetensors_close(NULL);
}

Test(safetensors, dtype_table) {
    cr_assert_str_eq(safetensors_dtype_name(ST_F8_E5M2), "F8_E5M2");
    cr_assert_eq(safetensors_dtype_size(ST_BOOL), 1);
    cr_assert_eq(safetensors_dtype_size(ST_BF16), 2);
    cr_assert_eq(safetensors_dtype_size(ST_U32), 4);
    cr_assert_eq(safetensors_dtype_size(ST_F64), 8);
    /* every dtype parses with its size */
    static const struct { const char *name; size_t size; } all[] = {
        {"BOOL", 1}, {"U8", 1}, {"I8", 1}, {"I16", 2}, {"U16", 2}, {"F16", 2}, {"BF16", 2}, {"I32", 4},
        {"U32", 4}, {"F32", 4}, {"F64", 8}, {"I64", 8}, {"U64", 8}, {"F8_E4M3", 1}, {"F8_E5M2", 1},
    };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        char h[160];
        snprintf(h, sizeof h, "{\"t\":{\"dtype\":\"%s\",\"shape\":[3],\"data_offsets\":[0,%zu]}}", all[i].name,
                 3 * all[i].size);
        blob b = make_z(h, 3 * all[i].size);
        safetensors *st = parse_ok(b);
        cr_assert_str_eq(safetensors_dtype_name(safetensors_at(st, 0)->dtype), all[i].name);
        safetensors_close(st);
        free(b.buf);
    }
}

Test(safetensors, empty_tensor_lists) {
    blob b = make("{}", NULL, 0);
    safetensors *st = parse_ok(b);
    cr_assert_eq(safetensors_count(st), 0);
    cr_assert_null(safetensors_find(st, "x"));
    safetensors_close(st);
    free(b.buf);
    b = make("{\"__metadata__\":{}}  ", NULL, 0);
    st = parse_ok(b);
    cr_assert_eq(safetensors_count(st), 0);
    safetensors_close(st);
    free(b.buf);
    header_fails("{}", 4, "no tensors but the data buffer has 4 bytes", NULL);
}

Test(safetensors, zero_size_tensors_share_offsets) {
    blob b = make_z("{\"z1\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,4]},"
                    "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                    "\"z0\":{\"dtype\":\"I64\",\"shape\":[3,0],\"data_offsets\":[0,0]},"
                    "\"z2\":{\"dtype\":\"F16\",\"shape\":[0,4611686018427387904],\"data_offsets\":[4,4]},"
                    "\"b\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[4,6]}}", 6);
    safetensors *st = parse_ok(b);
    cr_assert_eq(safetensors_count(st), 5);
    cr_assert_eq(safetensors_numel(safetensors_find(st, "z2")), 0);
    safetensors_close(st);
    free(b.buf);
}

/* ---- truncation and the length field ----------------------------------------- */

Test(safetensors, shorter_than_8_bytes) {
    unsigned char five[5] = {1, 0, 0, 0, 0};
    safetensors *st;
    expect_err(safetensors_parse(five, sizeof five, &st), PIXAB_ERR_FORMAT, "truncated", "5 bytes");
    expect_err(safetensors_parse(NULL, 0, &st), PIXAB_ERR_FORMAT, "truncated", "0 bytes");
}

Test(safetensors, header_cut) {
    /* declares a 100-byte header, the file holds 50 */
    char h[51];
    memset(h, ' ', 50);
    h[0] = '{';
    h[50] = '\0';
    parse_fails(make_n(100, h, NULL, 0), "header length 100 exceeds the 50 bytes after the length field (file size 58", NULL);
}

Test(safetensors, data_cut) {
    header_fails("{\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]}}", 16,
                 "tensor 'w' ends at byte 24", "truncated");
}

Test(safetensors, header_length_beyond_file) {
    parse_fails(make_n(1000, "{}", NULL, 0), "header length 1000 exceeds the 2 bytes after the length field (file size 10", NULL);
    parse_fails(make_n(UINT64_MAX, "{}", NULL, 0), "exceeds the limit", NULL);
}

Test(safetensors, header_length_over_limit) {
    parse_fails(make_n(100000001, "{}", NULL, 0), "header length 100000001 exceeds the limit of 100000000", NULL);
    parse_fails(make_n(0, "{}", NULL, 0), "invalid JSON header", "empty");
}

Test(safetensors, empty_file) {
    char path[64];
    write_tmp(path, "", 0);
    safetensors *st = (safetensors *)1;
    pixab_status s = safetensors_open(path, &st);
    unlink(path);
    expect_err(s, PIXAB_ERR_FORMAT, path, "truncated");
    cr_assert_null(st);
}

Test(safetensors, file_errors_carry_the_path) {
    blob b = make_z("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 8);
    char path[64];
    write_tmp(path, b.buf, b.size);
    free(b.buf);
    safetensors *st;
    pixab_status s = safetensors_open(path, &st);
    unlink(path);
    expect_err(s, PIXAB_ERR_FORMAT, path, "safetensors: 4 trailing bytes");
    cr_assert(strncmp(pixab_last_error(), path, strlen(path)) == 0);
}

Test(safetensors, nonexistent_path) {
    safetensors *st = (safetensors *)1;
    pixab_status s = safetensors_open("/nonexistent/dir/model.safetensors", &st);
    expect_err(s, PIXAB_ERR_IO, "/nonexistent/dir/model.safetensors", "No such file");
    cr_assert_null(st);
}

Test(safetensors, directory_path) {
    safetensors *st;
    expect_err(safetensors_open("/tmp", &st), PIXAB_ERR_IO, "'/tmp'", "not a regular file");
}

Test(safetensors, bad_arguments) {
    safetensors *st;
    expect_err(safetensors_parse(NULL, 10, &st), PIXAB_ERR_ARG, "NULL", NULL);
    expect_err(safetensors_parse("12345678", 8, NULL), PIXAB_ERR_ARG, "NULL", NULL);
    expect_err(safetensors_open(NULL, &st), PIXAB_ERR_ARG, "NULL", NULL);
    cr_assert_eq(safetensors_count(NULL), 0);
    cr_assert_null(safetensors_find(NULL, "x"));
    cr_assert_null(safetensors_meta(NULL, "x"));
}

/* ---- the JSON header ---------------------------------------------------------- */

Test(safetensors, invalid_json) {
    header_fails("{", 0, "invalid JSON header", "end of input");
    header_fails("{\"a\":}", 0, "invalid JSON header", "unexpected '}'");
    header_fails("{\"a\":{},}", 0, "invalid JSON header", "string key");
    header_fails("{} x", 0, "invalid JSON header", "trailing");
    parse_fails(make_raw(4, "{}\0\0", 4), "invalid JSON header", "trailing"); /* NUL padding */
    header_fails("{'a':1}", 0, "invalid JSON header", "string key");
    header_fails("{\"\xff\":1}", 0, "invalid JSON header", "invalid UTF-8");
    header_fails("{\"\\ud800\":1}", 0, "invalid JSON header", "surrogate");
    header_fails(" {}", 0, "invalid JSON header", "does not start with '{'");
    header_fails("[1,2]", 0, "invalid JSON header", "does not start with '{'");
    header_fails("\"x\"", 0, "invalid JSON header", "does not start with '{'");
}

Test(safetensors, header_padding_and_whitespace) {
    blob b = make("{\"__metadata__\":{\"a\":\"b\"}}\t\n\r    ", NULL, 0);
    safetensors *st = parse_ok(b);
    cr_assert_str_eq(safetensors_meta(st, "a"), "b");
    safetensors_close(st);
    free(b.buf);
}

Test(safetensors, duplicate_key) {
    header_fails("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                 "\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8,
                 "safetensors: duplicate key 'x'", NULL);
    header_fails("{\"__metadata__\":{\"m\":\"1\",\"m\":\"2\"}}", 0, "duplicate key 'm'", NULL);
    header_fails("{\"x\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
                 "duplicate key 'dtype'", NULL);
}

Test(safetensors, metadata_must_be_strings) {
    header_fails("{\"__metadata__\":{\"a\":1}}", 0, "__metadata__ value for 'a' is a number", NULL);
    header_fails("{\"__metadata__\":[]}", 0, "__metadata__ is a array", NULL);
    header_fails("{\"__metadata__\":{\"a\":\"x\\u0000y\"}}", 0, "__metadata__ entry 'a'", "NUL");
}

Test(safetensors, entry_structure) {
    header_fails("{\"x\":[]}", 0, "tensor 'x': entry is a array", NULL);
    header_fails("{\"x\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4, "tensor 'x': missing field 'data_offsets'", NULL);
    header_fails("{\"x\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "tensor 'x': missing field 'dtype'", NULL);
    header_fails("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"extra\":1}}", 4,
                 "tensor 'x': unexpected field 'extra'", NULL);
    header_fails("{\"x\":{\"dtype\":32,\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "tensor 'x': dtype is a number",
                 NULL);
    header_fails("{\"x\":{\"dtype\":\"F32\",\"shape\":1,\"data_offsets\":[0,4]}}", 4, "tensor 'x': shape is a number",
                 NULL);
    header_fails("{\"x\\u0000y\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "NUL byte", NULL);
    header_fails("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,4]}}", 4,
                 "tensor 'x': data_offsets must be [begin, end]", NULL);
    header_fails("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 4,
                 "tensor 'x': data_offsets must be [begin, end]", NULL);
    header_fails("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,-4]}}", 4,
                 "tensor 'x': data_offsets must be [begin, end]", NULL);
    header_fails("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0.0,4]}}", 4,
                 "tensor 'x': data_offsets must be [begin, end]", NULL);
    header_fails("{\"x\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,0]}}", 4,
                 "tensor 'x': data_offsets begin 4 > end 0", NULL);
}

Test(safetensors, unknown_dtype) {
    header_fails("{\"x\":{\"dtype\":\"F33\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
                 "safetensors: unknown dtype 'F33' for tensor 'x'", NULL);
    header_fails("{\"x\":{\"dtype\":\"f32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "unknown dtype 'f32'", NULL);
    header_fails("{\"x\":{\"dtype\":\"F32 \",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "unknown dtype", NULL);
}

/* ---- offsets and sizes --------------------------------------------------------- */

Test(safetensors, overlapping_offsets) {
    header_fails("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                 "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12,
                 "tensors 'a' and 'b' overlap at byte 4", NULL);
    /* same range twice */
    header_fails("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                 "\"b\":{\"dtype\":\"U8\",\"shape\":[8],\"data_offsets\":[0,8]}}", 16, "overlap", NULL);
    /* a zero-size tensor inside another one */
    header_fails("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                 "\"z\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,4]}}", 8, "overlap", "'z'");
}

Test(safetensors, holey_offsets) {
    header_fails("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                 "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", 12,
                 "hole in the data at bytes [4, 8) between tensors 'a' and 'b'", NULL);
}

Test(safetensors, first_tensor_not_at_zero) {
    header_fails("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8,
                 "hole at byte 0", "first tensor 'a' starts at byte 4");
}

Test(safetensors, trailing_bytes) {
    header_fails("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 7,
                 "3 trailing bytes after the last tensor 'a'", NULL);
}

Test(safetensors, size_not_numel_times_dtype) {
    header_fails("{\"fc.bias\":{\"dtype\":\"F16\",\"shape\":[10],\"data_offsets\":[0,40]}}", 40,
                 "safetensors: tensor 'fc.bias': data size 40 bytes != numel 10 x 2 bytes (F16)", NULL);
    header_fails("{\"s\":{\"dtype\":\"F64\",\"shape\":[],\"data_offsets\":[0,4]}}", 4,
                 "tensor 's': data size 4 bytes != numel 1 x 8 bytes (F64)", NULL);
    header_fails("{\"z\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,4]}}", 4,
                 "data size 4 bytes != numel 0 x 4 bytes", NULL);
}

Test(safetensors, bad_shape_dims) {
    header_fails("{\"x\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4,
                 "tensor 'x': shape[0] = -1 is not an integer", NULL);
    header_fails("{\"x\":{\"dtype\":\"F32\",\"shape\":[2,1.5],\"data_offsets\":[0,12]}}", 12,
                 "tensor 'x': shape[1] = 1.5", NULL);
    header_fails("{\"x\":{\"dtype\":\"F32\",\"shape\":[1e0],\"data_offsets\":[0,4]}}", 4, "shape[0] = 1e0", NULL);
    header_fails("{\"x\":{\"dtype\":\"F32\",\"shape\":[\"1\"],\"data_offsets\":[0,4]}}", 4, "shape[0] = string",
                 NULL);
    header_fails("{\"x\":{\"dtype\":\"F32\",\"shape\":[1e400],\"data_offsets\":[0,4]}}", 4,
                 "invalid JSON header", "out of range");
    header_fails("{\"x\":{\"dtype\":\"F32\",\"shape\":[9223372036854775808],\"data_offsets\":[0,4]}}", 4,
                 "shape[0] = 9223372036854775808", NULL);
    header_fails("{\"x\":{\"dtype\":\"F32\",\"shape\":[99999999999999999999999999],\"data_offsets\":[0,4]}}", 4,
                 "tensor 'x': shape[0]", NULL);
    header_fails("{\"x\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}", 4,
                 "tensor 'x' has 9 dims, at most 8", NULL);
}

Test(safetensors, numel_overflow) {
    header_fails("{\"x\":{\"dtype\":\"U8\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,4]}}", 4,
                 "tensor 'x': numel of shape overflows", NULL);
    header_fails("{\"x\":{\"dtype\":\"U8\",\"shape\":[3037000500,3037000500],\"data_offsets\":[0,4]}}", 4,
                 "numel of shape overflows", NULL);
    /* a zero dim does not excuse an overflowing product of the others */
    header_fails("{\"x\":{\"dtype\":\"U8\",\"shape\":[0,4294967296,4294967296],\"data_offsets\":[0,0]}}", 0,
                 "numel of shape overflows", NULL);
    /* numel fits, numel x dtype size does not */
    header_fails("{\"x\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904],\"data_offsets\":[0,4]}}", 4,
                 "tensor 'x': byte size numel 4611686018427387904 x 4 overflows", NULL);
    /* a consistent but huge tensor is caught by the buffer size */
    header_fails("{\"x\":{\"dtype\":\"U8\",\"shape\":[9223372036854775807],"
                 "\"data_offsets\":[0,9223372036854775807]}}", 4, "tensor 'x' ends at byte 9223372036854775807",
                 NULL);
}

Test(safetensors, long_and_odd_names_in_messages) {
    /* a 300-byte name is cut, a newline in a name does not break the line */
    char h[600], name[301];
    memset(name, 'n', 300);
    name[300] = '\0';
    snprintf(h, sizeof h, "{\"%s\":{\"dtype\":\"Q\",\"shape\":[],\"data_offsets\":[0,0]}}", name);
    header_fails(h, 0, "unknown dtype 'Q'", "nnnn...'");
    header_fails("{\"a\\nb\":{\"dtype\":\"Q\",\"shape\":[],\"data_offsets\":[0,0]}}", 0, "tensor 'a?b'", NULL);
}

/* ---- safetensors_get / safetensors_to_f32 -------------------------------------- */

Test(safetensors, get_checks_name_and_shape) {
    blob b = valid_blob();
    safetensors *st = parse_ok(b);
    const st_tensor *t = NULL;
    cr_assert_eq(safetensors_get(st, "w32", 2, (const int64_t[]){2, 3}, &t), PIXAB_OK, "%s", pixab_last_error());
    cr_assert_str_eq(t->name, "w32");
    cr_assert_eq(safetensors_get(st, "w32", 2, (const int64_t[]){-1, 3}, &t), PIXAB_OK);
    cr_assert_eq(safetensors_get(st, "scalar", 0, NULL, &t), PIXAB_OK);
    cr_assert_eq(safetensors_get(st, "empty", 2, (const int64_t[]){0, 5}, NULL), PIXAB_OK);

    t = (const st_tensor *)1;
    expect_err(safetensors_get(st, "fc.bias", 1, (const int64_t[]){1000}, &t), PIXAB_ERR_SHAPE,
               "missing tensor 'fc.bias'", NULL);
    cr_assert_null(t);
    expect_err(safetensors_get(st, "w32", 2, (const int64_t[]){3, 2}, &t), PIXAB_ERR_SHAPE,
               "tensor 'w32' has shape [2, 3], expected [3, 2]", NULL);
    expect_err(safetensors_get(st, "w32", 1, (const int64_t[]){6}, &t), PIXAB_ERR_SHAPE,
               "tensor 'w32' has shape [2, 3], expected [6]", NULL);
    expect_err(safetensors_get(st, "scalar", 1, (const int64_t[]){1}, &t), PIXAB_ERR_SHAPE,
               "tensor 'scalar' has shape [], expected [1]", NULL);
    expect_err(safetensors_get(st, "w32", 3, (const int64_t[]){2, -1, 1}, &t), PIXAB_ERR_SHAPE,
               "expected [2, *, 1]", NULL);
    expect_err(safetensors_get(st, "w32", 9, (const int64_t[]){1, 1, 1, 1, 1, 1, 1, 1, 1}, &t), PIXAB_ERR_ARG,
               "bad argument", NULL);
    safetensors_close(st);
    free(b.buf);
}

Test(safetensors, to_f32_rejects_other_dtypes) {
    blob b = make_z("{\"idx\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[0,16]},"
                    "\"d\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[16,24]}}", 24);
    safetensors *st = parse_ok(b);
    float out[2];
    expect_err(safetensors_to_f32(safetensors_find(st, "idx"), out), PIXAB_ERR_FORMAT, "tensor 'idx'", "I64");
    expect_err(safetensors_to_f32(safetensors_find(st, "d"), out), PIXAB_ERR_FORMAT, "tensor 'd'", "F64");
    expect_err(safetensors_to_f32(NULL, out), PIXAB_ERR_ARG, "NULL", NULL);
    safetensors_close(st);
    free(b.buf);
}

Test(safetensors, f16_every_value) {
    /* all 65536 half values against an independent decoding via ldexpf */
    unsigned char *data = malloc(65536 * 2);
    for (uint32_t i = 0; i < 65536; i++) {
        data[2 * i] = (unsigned char)i;
        data[2 * i + 1] = (unsigned char)(i >> 8);
    }
    blob b = make("{\"h\":{\"dtype\":\"F16\",\"shape\":[256,256],\"data_offsets\":[0,131072]}}", data, 131072);
    safetensors *st = parse_ok(b);
    float *out = malloc(65536 * sizeof(float));
    cr_assert_eq(safetensors_to_f32(safetensors_find(st, "h"), out), PIXAB_OK);
    for (uint32_t i = 0; i < 65536; i++) {
        int e = (int)((i >> 10) & 31), m = (int)(i & 1023);
        float sign = (i & 0x8000) ? -1.0f : 1.0f, want;
        if (e == 31) {
            if (m) {
                cr_assert(isnan(out[i]), "0x%04x", i);
                continue;
            }
            want = sign * INFINITY;
        } else if (e == 0) {
            want = sign * ldexpf((float)m, -24);
        } else {
            want = sign * ldexpf((float)(1024 + m), e - 25);
        }
        cr_assert_eq(bits_of(out[i]), bits_of(want), "0x%04x -> %g, want %g", i, out[i], want);
    }
    free(out);
    safetensors_close(st);
    free(b.buf);
    free(data);
}
