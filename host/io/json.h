/* json.h — a small strict JSON (RFC 8259) parser producing a read-only tree.
 * Used for the safetensors header and for annotation files; every input byte is
 * untrusted, so nothing here crashes or overflows on any input.
 *
 * Use:
 *   json_value *root; char err[128];
 *   if (json_parse(text, len, &root, err, sizeof err) != JSON_OK) { ... err ... }
 *   const json_value *v = json_object_get(root, "shape");
 *   for (size_t i = 0; i < json_count(v); i++) {
 *       uint64_t d;
 *       if (!json_get_u64(json_array_get(v, i), &d)) ...;
 *   }
 *   json_free(root);
 *
 * Strict means: exactly one value surrounded by optional whitespace (no trailing
 * garbage, no byte-order mark, no comments, no trailing commas); strings must be
 * valid UTF-8 (no overlong forms, no encoded surrogates, nothing above U+10FFFF)
 * without raw control characters; \uXXXX escapes are decoded to UTF-8, surrogate
 * pairs combined and lone surrogates rejected; numbers follow the RFC grammar
 * (no leading zeros, no '+', no '.5') and must be finite as a double (1e400 is
 * rejected); containers nest at most JSON_MAX_DEPTH deep; duplicate keys in an
 * object are rejected (JSON_ERR_DUPLICATE).
 *
 * Memory: the whole tree lives in one arena owned by the root; roughly 24 bytes
 * per value plus the decoded strings and number texts. Accessors are NULL-safe:
 * asking a NULL or wrongly typed value gives NULL / 0 / false, so lookups can be
 * chained and checked once at the end. */
#ifndef PIXAB_JSON_H
#define PIXAB_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#define JSON_MAX_DEPTH 64

typedef enum {
    JSON_OK = 0,
    JSON_ERR_SYNTAX,    /* malformed text (also depth, UTF-8, number range) */
    JSON_ERR_DUPLICATE, /* an object repeats a key */
    JSON_ERR_NOMEM      /* allocation failed or a size overflowed */
} json_status;

typedef enum {
    JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT
} json_type;

typedef struct json_value json_value;
typedef struct json_member json_member;

struct json_value {
    json_type type;
    union {
        bool boolean;
        struct { double value; const char *text; } number; /* text: the lexeme, NUL-terminated */
        struct { const char *ptr; size_t len; } string;    /* decoded UTF-8, NUL-terminated,
                                                              may contain NUL (from \u0000) */
        struct { const json_value *items; size_t count; } array;
        struct { const json_member *members; size_t count; } object; /* in text order */
    } u;
};

struct json_member {
    const char *key; /* decoded UTF-8, NUL-terminated, may contain NUL */
    size_t key_len;
    json_value value;
};

/* Parse text[0, len) (need not be NUL-terminated). On success *out is the root,
 * to be released with json_free. On failure *out is NULL and, when err is not
 * NULL, err holds a one-line reason with the byte offset ("unexpected character
 * 'x' at byte 12"). */
json_status json_parse(const char *text, size_t len, json_value **out, char *err, size_t errlen);
/* Release a tree returned by json_parse (only the root; NULL is fine). */
void json_free(json_value *root);

const char *json_type_name(json_type t);
/* JSON_NULL for a NULL pointer. */
json_type json_type_of(const json_value *v);
bool json_is(const json_value *v, json_type t);

/* Elements of an array or members of an object; 0 for anything else. */
size_t json_count(const json_value *v);
/* i-th array element, or NULL (not an array / out of range). */
const json_value *json_array_get(const json_value *v, size_t i);
/* i-th object member in text order, or NULL. */
const json_member *json_object_member(const json_value *v, size_t i);
/* Member value by NUL-terminated key (a key containing NUL never matches), or NULL.
 * Linear in the number of members. */
const json_value *json_object_get(const json_value *v, const char *key);

/* String contents (NUL-terminated) and, if len is not NULL, its byte length;
 * NULL when v is not a string. */
const char *json_string(const json_value *v, size_t *len);
/* Write s as a JSON string literal: quoted, '"', '\\' and control characters
 * escaped, and every byte that is not part of valid UTF-8 (a file name in
 * another encoding) written as \udc80 to \udcff, Python's surrogateescape,
 * which json_parse turns back into the byte: any byte string survives. */
void json_write_string(FILE *f, const char *s);
/* json_write_string, also safe inside an HTML <script> element or a .js
 * file: '<', '>' and '&' written as \u003c, \u003e, \u0026 (so no
 * "</script>" or "<!--" can end or bend the element), U+2028 and U+2029 as
 * \u2028, \u2029 (line terminators to JavaScript before ES2019). */
void json_write_script_string(FILE *f, const char *s);
/* Length of the valid UTF-8 sequence at s[i] (s of len bytes), the rules of
 * json_parse: 1 for ASCII, 0 for a byte that does not start one (or i >= len). */
size_t json_utf8_len(const char *s, size_t i, size_t len);
/* true and *out when v is a boolean. */
bool json_bool(const json_value *v, bool *out);
/* true and *out (finite) when v is a number. */
bool json_number(const json_value *v, double *out);
/* true when v is a number written as a plain integer (digits only: no sign,
 * fraction or exponent) in [0, 2^63 - 1]; used for sizes, offsets and shape
 * dims. "1.5", "-1", "1e2", "1.0" and 9223372036854775808 are all false. */
bool json_get_u64(const json_value *v, uint64_t *out);
/* Same for a signed integer ("-" allowed) in [INT64_MIN, INT64_MAX]. */
bool json_get_i64(const json_value *v, int64_t *out);

#endif
