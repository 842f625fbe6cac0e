/* json.c — strict RFC 8259 parser into an arena-backed tree (see json.h).
 * Recursive descent, recursion bounded by JSON_MAX_DEPTH; container children
 * are gathered on one scratch stack and copied into the arena when the
 * container closes, so arrays and objects are contiguous. */
#include "json.h"

#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- arena ---------------------------------------------------------------- */

typedef struct arena_block {
    struct arena_block *next;
    size_t used, cap;
    unsigned char *data; /* points just past this header */
} arena_block;

typedef struct {
    json_value root; /* first member: json_free casts the root back to the doc */
    arena_block *blocks;
    size_t next_cap;
} json_doc;

#define ARENA_FIRST 1024u
#define ARENA_MAX_STEP (1u << 20)

static void *arena_alloc(json_doc *d, size_t size, size_t align) {
    arena_block *b = d->blocks;
    if (size == 0) size = 1;
    if (b) {
        uintptr_t base = (uintptr_t)b->data;
        size_t off = (size_t)(((base + b->used + align - 1) & ~(uintptr_t)(align - 1)) - base);
        if (off <= b->cap && size <= b->cap - off) {
            b->used = off + size;
            return b->data + off;
        }
    }
    /* New block: room for the header, worst-case alignment and the request. */
    size_t hdr = (sizeof(arena_block) + 15u) & ~(size_t)15u;
    size_t cap = d->next_cap < ARENA_FIRST ? ARENA_FIRST : d->next_cap;
    if (size > SIZE_MAX - hdr - align) return NULL;
    if (cap < size + align) cap = size + align;
    unsigned char *mem = malloc(hdr + cap);
    if (!mem) return NULL;
    b = (arena_block *)mem;
    b->data = mem + hdr;
    b->cap = cap;
    b->next = d->blocks;
    d->blocks = b;
    if (d->next_cap < ARENA_MAX_STEP) d->next_cap = d->next_cap ? d->next_cap * 2 : 2 * ARENA_FIRST;
    uintptr_t base = (uintptr_t)b->data;
    size_t off = (size_t)(((base + align - 1) & ~(uintptr_t)(align - 1)) - base);
    b->used = off + size;
    return b->data + off;
}

static void doc_free(json_doc *d) {
    arena_block *b = d->blocks;
    while (b) {
        arena_block *n = b->next;
        free(b);
        b = n;
    }
    free(d);
}

/* ---- parser state ---------------------------------------------------------- */

typedef struct {
    const unsigned char *s;
    size_t len, pos;
    json_doc *doc;
    json_member *stack; /* scratch for children of open containers */
    size_t top, cap;
    char *err;
    size_t errlen;
    json_status status;
    const char *decimal_point; /* of the current C locale, for strtod */
} parser;

static bool fail(parser *p, json_status st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static bool fail(parser *p, json_status st, const char *fmt, ...) {
    if (p->status != JSON_OK) return false; /* keep the first reason */
    p->status = st;
    if (p->err && p->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->err, p->errlen, fmt, ap);
        va_end(ap);
    }
    return false;
}

static bool nomem(parser *p) { return fail(p, JSON_ERR_NOMEM, "out of memory"); }

/* "'x'" for printable ASCII, "byte 0xNN" otherwise. */
static const char *show_char(char buf[16], unsigned char c) {
    if (c >= 0x20 && c < 0x7f) snprintf(buf, 16, "'%c'", c);
    else snprintf(buf, 16, "byte 0x%02x", c);
    return buf;
}

/* A key for a one-line message: at most ~60 bytes, cut on a UTF-8 boundary,
 * control characters shown as '?'. */
static void show_key(char *dst, size_t cap, const char *k, size_t n) {
    size_t lim = n, o = 0;
    bool cut = false;
    if (lim > 60) {
        lim = 60;
        while (lim > 0 && ((unsigned char)k[lim] & 0xC0) == 0x80) lim--;
        cut = true;
    }
    for (size_t i = 0; i < lim && o + 4 < cap; i++) {
        unsigned char c = (unsigned char)k[i];
        dst[o++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    if (cut && o + 4 < cap) {
        memcpy(dst + o, "...", 3);
        o += 3;
    }
    dst[o < cap ? o : cap - 1] = '\0';
}

static void skip_ws(parser *p) {
    while (p->pos < p->len) {
        unsigned char c = p->s[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
        p->pos++;
    }
}

static bool push(parser *p, const json_member *m) {
    if (p->top == p->cap) {
        size_t ncap = p->cap ? p->cap * 2 : 16;
        if (ncap < p->cap || ncap > SIZE_MAX / sizeof(json_member)) return nomem(p);
        json_member *ns = realloc(p->stack, ncap * sizeof(json_member));
        if (!ns) return nomem(p);
        p->stack = ns;
        p->cap = ncap;
    }
    p->stack[p->top++] = *m;
    return true;
}

static bool parse_value(parser *p, json_value *out, int depth);

/* ---- strings -------------------------------------------------------------- */

static int hexval(unsigned char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Four hex digits at s[i..i+3], all before `end`; -1 if not. */
static long hex4(const unsigned char *s, size_t i, size_t end) {
    if (i > end || end - i < 4) return -1;
    long v = 0;
    for (int k = 0; k < 4; k++) {
        int h = hexval(s[i + (size_t)k]);
        if (h < 0) return -1;
        v = v * 16 + h;
    }
    return v;
}

/* Length of the valid UTF-8 sequence starting at s[i] (bounded by end), or 0. */
static size_t utf8_seq(const unsigned char *s, size_t i, size_t end) {
    if (s[i] < 0x80) return 1;
    unsigned char c = s[i];
    size_t n;
    unsigned char lo = 0x80, hi = 0xBF; /* range of the second byte */
    if (c >= 0xC2 && c <= 0xDF) n = 2;
    else if (c == 0xE0) { n = 3; lo = 0xA0; }
    else if (c >= 0xE1 && c <= 0xEC) n = 3;
    else if (c == 0xED) { n = 3; hi = 0x9F; } /* no UTF-16 surrogates */
    else if (c >= 0xEE && c <= 0xEF) n = 3;
    else if (c == 0xF0) { n = 4; lo = 0x90; }
    else if (c >= 0xF1 && c <= 0xF3) n = 4;
    else if (c == 0xF4) { n = 4; hi = 0x8F; } /* nothing above U+10FFFF */
    else return 0;
    if (end - i < n) return 0;
    if (s[i + 1] < lo || s[i + 1] > hi) return 0;
    for (size_t k = 2; k < n; k++)
        if (s[i + k] < 0x80 || s[i + k] > 0xBF) return 0;
    return n;
}

static size_t utf8_put(unsigned char *o, unsigned long cp) {
    if (cp < 0x80) { o[0] = (unsigned char)cp; return 1; }
    if (cp < 0x800) {
        o[0] = (unsigned char)(0xC0 | (cp >> 6));
        o[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (unsigned char)(0xE0 | (cp >> 12));
        o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (unsigned char)(0xF0 | (cp >> 18));
    o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

/* p->pos is at the opening quote. Decoded text never exceeds the raw span, so
 * one arena allocation of the span's size suffices. */
static bool parse_string(parser *p, const char **out, size_t *out_len) {
    const unsigned char *s = p->s;
    size_t start = p->pos, i = start + 1;
    while (i < p->len && s[i] != '"') i += (s[i] == '\\') ? 2 : 1;
    if (i >= p->len) return fail(p, JSON_ERR_SYNTAX, "unterminated string starting at byte %zu", start);
    size_t end = i; /* index of the closing quote */
    unsigned char *o = arena_alloc(p->doc, end - start, 1); /* raw span + NUL */
    if (!o) return nomem(p);
    size_t n = 0;
    for (size_t j = start + 1; j < end;) {
        unsigned char c = s[j];
        if (c < 0x20)
            return fail(p, JSON_ERR_SYNTAX, "control character 0x%02x in string at byte %zu", c, j);
        if (c >= 0x80) {
            size_t k = utf8_seq(s, j, end);
            if (!k) return fail(p, JSON_ERR_SYNTAX, "invalid UTF-8 in string at byte %zu", j);
            memcpy(o + n, s + j, k);
            n += k;
            j += k;
            continue;
        }
        if (c != '\\') {
            o[n++] = c;
            j++;
            continue;
        }
        unsigned char e = s[j + 1]; /* j + 1 < end: the scan above skipped it */
        switch (e) {
        case '"': o[n++] = '"'; break;
        case '\\': o[n++] = '\\'; break;
        case '/': o[n++] = '/'; break;
        case 'b': o[n++] = '\b'; break;
        case 'f': o[n++] = '\f'; break;
        case 'n': o[n++] = '\n'; break;
        case 'r': o[n++] = '\r'; break;
        case 't': o[n++] = '\t'; break;
        case 'u': {
            long cp = hex4(s, j + 2, end);
            if (cp < 0) return fail(p, JSON_ERR_SYNTAX, "invalid \\u escape at byte %zu", j);
            if (cp >= 0xDC80 && cp <= 0xDCFF) { /* a byte that is not UTF-8, as json_write_string escapes it */
                o[n++] = (unsigned char)(cp - 0xDC00);
                j += 4;
                break;
            }
            if (cp >= 0xDC00 && cp <= 0xDFFF)
                return fail(p, JSON_ERR_SYNTAX, "lone low surrogate \\u%04lX at byte %zu", (unsigned long)cp, j);
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                long lo = -1;
                if (end - j >= 12 && s[j + 6] == '\\' && s[j + 7] == 'u') lo = hex4(s, j + 8, end);
                if (lo < 0xDC00 || lo > 0xDFFF)
                    return fail(p, JSON_ERR_SYNTAX, "lone high surrogate \\u%04lX at byte %zu", (unsigned long)cp, j);
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                j += 6;
            }
            n += utf8_put(o + n, (unsigned long)cp);
            j += 4;
            break;
        }
        default: {
            char b[16];
            return fail(p, JSON_ERR_SYNTAX, "invalid escape \\%s at byte %zu", show_char(b, e), j);
        }
        }
        j += 2;
    }
    o[n] = '\0';
    *out = (const char *)o;
    *out_len = n;
    p->pos = end + 1;
    return true;
}

/* ---- numbers -------------------------------------------------------------- */

static bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

static bool parse_number(parser *p, json_value *out) {
    const unsigned char *s = p->s;
    size_t start = p->pos, i = start, len = p->len;
    if (i < len && s[i] == '-') i++;
    if (i < len && s[i] == '0') {
        i++;
    } else if (i < len && s[i] >= '1' && s[i] <= '9') {
        while (i < len && is_digit(s[i])) i++;
    } else {
        return fail(p, JSON_ERR_SYNTAX, "invalid number at byte %zu", start);
    }
    if (i < len && s[i] == '.') {
        i++;
        if (i >= len || !is_digit(s[i]))
            return fail(p, JSON_ERR_SYNTAX, "invalid number: no digit after '.' at byte %zu", i);
        while (i < len && is_digit(s[i])) i++;
    }
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-')) i++;
        if (i >= len || !is_digit(s[i]))
            return fail(p, JSON_ERR_SYNTAX, "invalid number: no digit in exponent at byte %zu", i);
        while (i < len && is_digit(s[i])) i++;
    }
    size_t n = i - start;
    char *text = arena_alloc(p->doc, n + 1, 1);
    if (!text) return nomem(p);
    memcpy(text, s + start, n);
    text[n] = '\0';

    /* strtod follows LC_NUMERIC; JSON always uses '.', so swap it in if needed. */
    double v;
    const char *dp = p->decimal_point;
    if (strcmp(dp, ".") == 0 || !memchr(text, '.', n)) {
        v = strtod(text, NULL);
    } else {
        size_t dpl = strlen(dp);
        if (n > (SIZE_MAX - 1) / (dpl + 1)) return nomem(p);
        char *tmp = malloc(n * (dpl + 1) + 1), *t = tmp;
        if (!tmp) return nomem(p);
        for (size_t k = 0; k < n; k++) {
            if (text[k] == '.') { memcpy(t, dp, dpl); t += dpl; }
            else *t++ = text[k];
        }
        *t = '\0';
        v = strtod(tmp, NULL);
        free(tmp);
    }
    if (!isfinite(v)) return fail(p, JSON_ERR_SYNTAX, "number out of range at byte %zu", start);
    out->type = JSON_NUMBER;
    out->u.number.value = v;
    out->u.number.text = text;
    p->pos = i;
    return true;
}

/* ---- containers ----------------------------------------------------------- */

static int member_cmp(const void *a, const void *b) {
    const json_member *x = *(const json_member *const *)a, *y = *(const json_member *const *)b;
    if (x->key_len != y->key_len) return x->key_len < y->key_len ? -1 : 1;
    return memcmp(x->key, y->key, x->key_len);
}

static bool dup_error(parser *p, const json_member *m, size_t obj_start) {
    char k[80];
    show_key(k, sizeof k, m->key, m->key_len);
    return fail(p, JSON_ERR_DUPLICATE, "duplicate key '%s' in the object at byte %zu", k, obj_start);
}

/* Duplicate keys among the n members at m: pairwise when few, else sorted. */
static bool check_duplicates(parser *p, const json_member *m, size_t n, size_t obj_start) {
    if (n <= 16) {
        for (size_t a = 1; a < n; a++)
            for (size_t b = 0; b < a; b++)
                if (m[a].key_len == m[b].key_len && memcmp(m[a].key, m[b].key, m[a].key_len) == 0)
                    return dup_error(p, &m[a], obj_start);
        return true;
    }
    if (n > SIZE_MAX / sizeof(json_member *)) return nomem(p);
    const json_member **idx = malloc(n * sizeof *idx);
    if (!idx) return nomem(p);
    for (size_t i = 0; i < n; i++) idx[i] = &m[i];
    qsort(idx, n, sizeof *idx, member_cmp);
    for (size_t i = 1; i < n; i++) {
        if (member_cmp(&idx[i - 1], &idx[i]) == 0) {
            const json_member *d = idx[i];
            free(idx);
            return dup_error(p, d, obj_start);
        }
    }
    free(idx);
    return true;
}

static bool enter(parser *p, int depth) {
    if (depth >= JSON_MAX_DEPTH)
        return fail(p, JSON_ERR_SYNTAX, "nesting deeper than %d at byte %zu", JSON_MAX_DEPTH, p->pos);
    return true;
}

static bool expect_more(parser *p, const char *what) {
    skip_ws(p);
    if (p->pos >= p->len) return fail(p, JSON_ERR_SYNTAX, "unexpected end of input, expected %s", what);
    return true;
}

static bool unexpected(parser *p, const char *what) {
    char b[16];
    return fail(p, JSON_ERR_SYNTAX, "unexpected %s at byte %zu, expected %s",
                show_char(b, p->s[p->pos]), p->pos, what);
}

static bool parse_array(parser *p, json_value *out, int depth) {
    if (!enter(p, depth)) return false;
    size_t base = p->top;
    p->pos++; /* '[' */
    if (!expect_more(p, "a value or ']'")) return false;
    if (p->s[p->pos] == ']') {
        p->pos++;
    } else {
        for (;;) {
            json_member m = {0};
            if (!parse_value(p, &m.value, depth + 1) || !push(p, &m)) return false;
            if (!expect_more(p, "',' or ']'")) return false;
            unsigned char c = p->s[p->pos];
            if (c == ']') { p->pos++; break; }
            if (c != ',') return unexpected(p, "',' or ']'");
            p->pos++;
        }
    }
    size_t n = p->top - base;
    json_value *items = NULL;
    if (n) {
        if (n > SIZE_MAX / sizeof(json_value)) return nomem(p);
        items = arena_alloc(p->doc, n * sizeof(json_value), _Alignof(json_value));
        if (!items) return nomem(p);
        for (size_t i = 0; i < n; i++) items[i] = p->stack[base + i].value;
    }
    p->top = base;
    out->type = JSON_ARRAY;
    out->u.array.items = items;
    out->u.array.count = n;
    return true;
}

static bool parse_object(parser *p, json_value *out, int depth) {
    if (!enter(p, depth)) return false;
    size_t base = p->top, obj_start = p->pos;
    p->pos++; /* '{' */
    if (!expect_more(p, "a key or '}'")) return false;
    if (p->s[p->pos] == '}') {
        p->pos++;
    } else {
        for (;;) {
            json_member m = {0};
            if (!expect_more(p, "a key")) return false;
            if (p->s[p->pos] != '"') return unexpected(p, "a string key");
            if (!parse_string(p, &m.key, &m.key_len)) return false;
            if (!expect_more(p, "':'")) return false;
            if (p->s[p->pos] != ':') return unexpected(p, "':'");
            p->pos++;
            if (!parse_value(p, &m.value, depth + 1) || !push(p, &m)) return false;
            if (!expect_more(p, "',' or '}'")) return false;
            unsigned char c = p->s[p->pos];
            if (c == '}') { p->pos++; break; }
            if (c != ',') return unexpected(p, "',' or '}'");
            p->pos++;
        }
    }
    size_t n = p->top - base;
    json_member *members = NULL;
    if (n) {
        if (!check_duplicates(p, p->stack + base, n, obj_start)) return false;
        if (n > SIZE_MAX / sizeof(json_member)) return nomem(p);
        members = arena_alloc(p->doc, n * sizeof(json_member), _Alignof(json_member));
        if (!members) return nomem(p);
        memcpy(members, p->stack + base, n * sizeof(json_member));
    }
    p->top = base;
    out->type = JSON_OBJECT;
    out->u.object.members = members;
    out->u.object.count = n;
    return true;
}

static bool parse_literal(parser *p, const char *word, json_value *out) {
    size_t n = strlen(word);
    if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0)
        return fail(p, JSON_ERR_SYNTAX, "invalid literal at byte %zu (expected '%s')", p->pos, word);
    p->pos += n;
    if (word[0] == 'n') {
        out->type = JSON_NULL;
    } else {
        out->type = JSON_BOOL;
        out->u.boolean = word[0] == 't';
    }
    return true;
}

static bool parse_value(parser *p, json_value *out, int depth) {
    if (!expect_more(p, "a value")) return false;
    unsigned char c = p->s[p->pos];
    switch (c) {
    case '{': return parse_object(p, out, depth);
    case '[': return parse_array(p, out, depth);
    case '"':
        out->type = JSON_STRING;
        return parse_string(p, &out->u.string.ptr, &out->u.string.len);
    case 't': return parse_literal(p, "true", out);
    case 'f': return parse_literal(p, "false", out);
    case 'n': return parse_literal(p, "null", out);
    default:
        if (c == '-' || is_digit(c)) return parse_number(p, out);
        return unexpected(p, "a value");
    }
}

/* ---- public --------------------------------------------------------------- */

json_status json_parse(const char *text, size_t len, json_value **out, char *err, size_t errlen) {
    parser p = {0};
    p.err = err;
    p.errlen = errlen;
    if (err && errlen) err[0] = '\0';
    if (!out || (!text && len)) {
        fail(&p, JSON_ERR_SYNTAX, "bad argument to json_parse");
        return p.status;
    }
    *out = NULL;
    json_doc *doc = calloc(1, sizeof *doc);
    if (!doc) {
        nomem(&p);
        return p.status;
    }
    p.s = (const unsigned char *)(text ? text : "");
    p.len = len;
    p.doc = doc;
    const char *dp = localeconv()->decimal_point;
    p.decimal_point = (dp && dp[0]) ? dp : ".";

    if (parse_value(&p, &doc->root, 0)) {
        skip_ws(&p);
        if (p.pos != p.len) {
            char b[16];
            fail(&p, JSON_ERR_SYNTAX, "trailing characters after the JSON value at byte %zu (%s)",
                 p.pos, show_char(b, p.s[p.pos]));
        }
    }
    free(p.stack);
    if (p.status != JSON_OK) {
        doc_free(doc);
        return p.status;
    }
    *out = &doc->root;
    return JSON_OK;
}

void json_free(json_value *root) {
    if (root) doc_free((json_doc *)(void *)root);
}

const char *json_type_name(json_type t) {
    switch (t) {
    case JSON_NULL: return "null";
    case JSON_BOOL: return "boolean";
    case JSON_NUMBER: return "number";
    case JSON_STRING: return "string";
    case JSON_ARRAY: return "array";
    case JSON_OBJECT: return "object";
    }
    return "unknown";
}

json_type json_type_of(const json_value *v) { return v ? v->type : JSON_NULL; }

bool json_is(const json_value *v, json_type t) { return v && v->type == t; }

size_t json_count(const json_value *v) {
    if (!v) return 0;
    if (v->type == JSON_ARRAY) return v->u.array.count;
    if (v->type == JSON_OBJECT) return v->u.object.count;
    return 0;
}

const json_value *json_array_get(const json_value *v, size_t i) {
    if (!json_is(v, JSON_ARRAY) || i >= v->u.array.count) return NULL;
    return &v->u.array.items[i];
}

const json_member *json_object_member(const json_value *v, size_t i) {
    if (!json_is(v, JSON_OBJECT) || i >= v->u.object.count) return NULL;
    return &v->u.object.members[i];
}

const json_value *json_object_get(const json_value *v, const char *key) {
    if (!json_is(v, JSON_OBJECT) || !key) return NULL;
    size_t n = strlen(key);
    for (size_t i = 0; i < v->u.object.count; i++) {
        const json_member *m = &v->u.object.members[i];
        if (m->key_len == n && memcmp(m->key, key, n) == 0) return &m->value;
    }
    return NULL;
}

const char *json_string(const json_value *v, size_t *len) {
    if (!json_is(v, JSON_STRING)) return NULL;
    if (len) *len = v->u.string.len;
    return v->u.string.ptr;
}

bool json_bool(const json_value *v, bool *out) {
    if (!json_is(v, JSON_BOOL)) return false;
    if (out) *out = v->u.boolean;
    return true;
}

bool json_number(const json_value *v, double *out) {
    if (!json_is(v, JSON_NUMBER)) return false;
    if (out) *out = v->u.number.value;
    return true;
}

/* Digits of an integer lexeme as a magnitude <= limit. */
static bool digits_to_u64(const char *t, uint64_t limit, uint64_t *out) {
    uint64_t v = 0;
    if (!is_digit((unsigned char)*t)) return false;
    for (; *t; t++) {
        if (!is_digit((unsigned char)*t)) return false; /* '.', 'e': not a plain integer */
        unsigned d = (unsigned)(*t - '0');
        if (v > (limit - d) / 10) return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

bool json_get_u64(const json_value *v, uint64_t *out) {
    uint64_t x;
    if (!json_is(v, JSON_NUMBER) || !digits_to_u64(v->u.number.text, (uint64_t)INT64_MAX, &x)) return false;
    if (out) *out = x;
    return true;
}

bool json_get_i64(const json_value *v, int64_t *out) {
    if (!json_is(v, JSON_NUMBER)) return false;
    const char *t = v->u.number.text;
    bool neg = *t == '-';
    uint64_t x;
    if (!digits_to_u64(t + neg, neg ? (uint64_t)INT64_MAX + 1u : (uint64_t)INT64_MAX, &x)) return false;
    if (out) *out = neg ? (x == (uint64_t)INT64_MAX + 1u ? INT64_MIN : -(int64_t)x) : (int64_t)x;
    return true;
}

size_t json_utf8_len(const char *s, size_t i, size_t len) {
    return i < len ? utf8_seq((const unsigned char *)s, i, len) : 0;
}

/* json_write_string, and with `script` also '<', '>', '&', U+2028 and U+2029
 * escaped (json_write_script_string). */
static void write_string(FILE *f, const char *str, bool script) {
    const unsigned char *s = (const unsigned char *)str;
    const size_t len = strlen(str);
    fputc('"', f);
    for (size_t i = 0; i < len;) {
        const unsigned char c = s[i];
        size_t k = utf8_seq(s, i, len);
        if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
        else if (c == '\n') fputs("\\n", f);
        else if (c == '\t') fputs("\\t", f);
        else if (c < 0x20 || (script && (c == '<' || c == '>' || c == '&'))) fprintf(f, "\\u%04x", c);
        else if (!k) fprintf(f, "\\udc%02x", c); /* not UTF-8: the byte, reversibly (Python's surrogateescape) */
        else if (script && k == 3 && c == 0xE2 && s[i + 1] == 0x80 && (s[i + 2] == 0xA8 || s[i + 2] == 0xA9))
            fprintf(f, "\\u%04x", 0x2000 | (s[i + 2] - 0x80)); /* U+2028, U+2029: line ends to older JavaScript */
        else fwrite(s + i, 1, k, f);
        i += k ? k : 1;
    }
    fputc('"', f);
}

void json_write_string(FILE *f, const char *str) { write_string(f, str, false); }

void json_write_script_string(FILE *f, const char *str) { write_string(f, str, true); }
