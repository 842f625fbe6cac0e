/* test_json.c — the strict JSON parser (host/io/json.c): values, escapes and
 * surrogates, UTF-8 validation, numbers and the integer helpers, depth limit,
 * duplicate keys, trailing garbage. */
#include <criterion/criterion.h>

#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

static char err[256];

/* Parse a NUL-terminated text; assert success. */
static json_value *ok(const char *text) {
    json_value *v = NULL;
    json_status s = json_parse(text, strlen(text), &v, err, sizeof err);
    cr_assert_eq(s, JSON_OK, "parse of '%s' failed: %s", text, err);
    cr_assert_not_null(v);
    return v;
}

/* Parse text[0, len); assert failure with `want` and `word` in the reason. */
static void bad_n(const char *text, size_t len, json_status want, const char *word) {
    json_value *v = (json_value *)1;
    json_status s = json_parse(text, len, &v, err, sizeof err);
    cr_assert_eq(s, want, "parse of '%.*s' gave %d (%s), want %d", (int)len, text, s, err, want);
    cr_assert_null(v);
    cr_assert(strstr(err, word), "reason '%s' lacks '%s' (input '%.*s')", err, word, (int)len, text);
}

static void bad(const char *text, const char *word) { bad_n(text, strlen(text), JSON_ERR_SYNTAX, word); }

/* The decoded string of a one-string document equals want[0, want_len). */
static void str_is(const char *text, const char *want, size_t want_len) {
    json_value *v = ok(text);
    size_t n;
    const char *s = json_string(v, &n);
    cr_assert_not_null(s, "'%s' is not a string", text);
    cr_assert_eq(n, want_len, "'%s': length %zu, want %zu", text, n, want_len);
    cr_assert(memcmp(s, want, n) == 0, "'%s': wrong bytes", text);
    cr_assert_eq(s[n], '\0');
    json_free(v);
}

Test(json, all_value_types) {
    json_value *v = ok(" {\"n\": null, \"t\": true, \"f\": false, \"num\": -12.5e1, \"s\": \"hi\","
                       " \"a\": [1, [], {}], \"o\": {\"k\": \"v\"}} ");
    cr_assert_eq(json_type_of(v), JSON_OBJECT);
    cr_assert_eq(json_count(v), 7);
    cr_assert_eq(json_type_of(json_object_get(v, "n")), JSON_NULL);
    bool b = false;
    cr_assert(json_bool(json_object_get(v, "t"), &b) && b);
    cr_assert(json_bool(json_object_get(v, "f"), &b) && !b);
    double d;
    cr_assert(json_number(json_object_get(v, "num"), &d));
    cr_assert_eq(d, -125.0);
    cr_assert_str_eq(json_string(json_object_get(v, "s"), NULL), "hi");
    const json_value *a = json_object_get(v, "a");
    cr_assert_eq(json_count(a), 3);
    cr_assert(json_is(json_array_get(a, 1), JSON_ARRAY));
    cr_assert_eq(json_count(json_array_get(a, 1)), 0);
    cr_assert(json_is(json_array_get(a, 2), JSON_OBJECT));
    cr_assert_null(json_array_get(a, 3));
    cr_assert_str_eq(json_string(json_object_get(json_object_get(v, "o"), "k"), NULL), "v");
    /* members in text order */
    cr_assert_str_eq(json_object_member(v, 0)->key, "n");
    cr_assert_str_eq(json_object_member(v, 6)->key, "o");
    cr_assert_null(json_object_member(v, 7));
    /* NULL-safe chains */
    cr_assert_null(json_object_get(v, "missing"));
    cr_assert_null(json_object_get(json_object_get(v, "missing"), "x"));
    cr_assert_null(json_string(json_object_get(v, "num"), NULL));
    cr_assert_eq(json_count(NULL), 0);
    cr_assert(!json_number(NULL, &d));
    cr_assert_str_eq(json_type_name(JSON_ARRAY), "array");
    json_free(v);
    json_free(NULL);
}

Test(json, top_level_scalars_and_whitespace) {
    json_value *v = ok(" \t\r\n42 \r\n");
    uint64_t u;
    cr_assert(json_get_u64(v, &u) && u == 42);
    json_free(v);
    json_free(ok("\"x\""));
    json_free(ok("null"));
    json_free(ok("[]"));
    bad("", "end of input");
    bad("   ", "end of input");
}

Test(json, not_nul_terminated) {
    const char buf[] = {'1', '2', '3', '4', '5'};
    json_value *v = NULL;
    cr_assert_eq(json_parse(buf, 3, &v, err, sizeof err), JSON_OK, "%s", err);
    uint64_t u;
    cr_assert(json_get_u64(v, &u));
    cr_assert_eq(u, 123);
    json_free(v);
    const char s[] = {'"', 'a', 'b'}; /* the closing quote is beyond len */
    bad_n(s, 3, JSON_ERR_SYNTAX, "unterminated");
    const char t[] = {'t', 'r', 'u'};
    bad_n(t, 3, JSON_ERR_SYNTAX, "literal");
}

Test(json, simple_escapes) {
    str_is("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\/\b\f\n\r\t", 8);
    str_is("\"a\\u0041b\"", "aAb", 3);
    str_is("\"\\u00e9\"", "\xc3\xa9", 2);
    str_is("\"\\u20AC\"", "\xe2\x82\xac", 3);
    str_is("\"\\uFFFF\"", "\xef\xbf\xbf", 3);
    str_is("\"x\\u0000y\"", "x\0y", 3); /* NUL kept, length says so */
    str_is("\"\"", "", 0);
}

Test(json, surrogate_pairs) {
    str_is("\"\\uD83D\\uDE00\"", "\xf0\x9f\x98\x80", 4);  /* U+1F600 */
    str_is("\"\\ud800\\udc00\"", "\xf0\x90\x80\x80", 4);  /* U+10000 */
    str_is("\"\\uDBFF\\uDFFF\"", "\xf4\x8f\xbf\xbf", 4);  /* U+10FFFF */
    bad("\"\\uD83D\"", "lone high surrogate");
    bad("\"\\uD83Dx\"", "lone high surrogate");
    bad("\"\\uD83D\\u0041\"", "lone high surrogate");
    bad("\"\\uD83D\\uD83D\"", "lone high surrogate");
    bad("\"\\uD83D\\uDE0\"", "surrogate");
    bad("\"\\uDE00\"", "lone low surrogate");
    bad("\"\\uDE00\\uD83D\"", "lone low surrogate");
}

Test(json, bad_escapes) {
    bad("\"\\x41\"", "invalid escape");
    bad("\"\\a\"", "invalid escape");
    bad("\"\\u12G4\"", "\\u escape");
    bad("\"\\u12\"", "\\u escape");
    bad("\"\\u\"", "\\u escape");
    bad("\"abc\\\"", "unterminated");
    bad("\"abc", "unterminated");
}

Test(json, utf8_validation) {
    str_is("\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"", "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9);
    str_is("\"\x7f\"", "\x7f", 1); /* DEL is not a JSON control character */
    bad("\"\xff\"", "invalid UTF-8");
    bad("\"\x80\"", "invalid UTF-8");              /* lone continuation */
    bad("\"\xc0\x80\"", "invalid UTF-8");          /* overlong NUL */
    bad("\"\xc1\xbf\"", "invalid UTF-8");          /* overlong */
    bad("\"\xe0\x80\xaf\"", "invalid UTF-8");      /* overlong '/' */
    bad("\"\xed\xa0\x80\"", "invalid UTF-8");      /* encoded surrogate */
    bad("\"\xf4\x90\x80\x80\"", "invalid UTF-8");  /* above U+10FFFF */
    bad("\"\xf5\x80\x80\x80\"", "invalid UTF-8");
    bad("\"\xe2\x82\"", "invalid UTF-8");          /* cut by the quote */
    bad("\"\xf0\x9f\x98\"", "invalid UTF-8");
    bad("{\"k\xff\":1}", "invalid UTF-8");          /* in a key */
    bad("\xef\xbb\xbf{}", "unexpected");            /* BOM */
    bad("{}\xc3\xa9", "trailing");                  /* non-ASCII outside strings */
}

Test(json, control_characters) {
    bad("\"a\nb\"", "control character 0x0a");
    bad("\"a\tb\"", "control character 0x09");
    bad_n("\"a\0b\"", 5, JSON_ERR_SYNTAX, "control character 0x00");
    bad("\"\x1f\"", "control character");
}

Test(json, numbers) {
    static const struct { const char *text; double v; } good[] = {
        {"0", 0}, {"-0", -0.0}, {"1.5", 1.5}, {"1e2", 100}, {"-1E-2", -0.01}, {"1.5e+3", 1500},
        {"123456789012345678901234567890", 1.2345678901234568e29}, {"1e-400", 0}, {"0.0", 0},
        {"1.7976931348623157e308", 1.7976931348623157e308},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        json_value *v = ok(good[i].text);
        double d;
        cr_assert(json_number(v, &d));
        cr_assert_eq(d, good[i].v, "%s -> %.17g", good[i].text, d);
        json_free(v);
    }
    bad("01", "trailing");
    bad("-01", "trailing");
    bad("+1", "unexpected");
    bad(".5", "unexpected");
    bad("1.", "no digit after '.'");
    bad("1.e3", "no digit after '.'");
    bad("1e", "exponent");
    bad("1e+", "exponent");
    bad("-", "invalid number");
    bad("-a", "invalid number");
    bad("0x10", "trailing");
    bad("1e400", "out of range");
    bad("-1e400", "out of range");
    bad("1.8e308", "out of range");
    bad("NaN", "unexpected");
    bad("Infinity", "unexpected");
    bad("[1 2]", "expected ',' or ']'");
}

Test(json, number_locale_independent) {
    if (!setlocale(LC_NUMERIC, "de_DE.UTF-8") && !setlocale(LC_NUMERIC, "fr_FR.UTF-8"))
        cr_skip_test("no locale with a ',' decimal point installed");
    json_value *v = ok("2.5");
    double d;
    cr_assert(json_number(v, &d));
    cr_assert_eq(d, 2.5);
    json_free(v);
    setlocale(LC_NUMERIC, "C");
}

Test(json, exact_unsigned_integers) {
    static const struct { const char *text; bool ok; uint64_t v; } cases[] = {
        {"0", true, 0}, {"7", true, 7}, {"9223372036854775807", true, 9223372036854775807ull},
        {"9223372036854775808", false, 0}, {"18446744073709551615", false, 0},
        {"18446744073709551616", false, 0}, {"99999999999999999999999", false, 0},
        {"-1", false, 0}, {"-0", false, 0}, {"1.5", false, 0}, {"1.0", false, 0}, {"1e2", false, 0},
        {"0.5", false, 0}, {"1E0", false, 0}, {"\"3\"", false, 0}, {"true", false, 0}, {"null", false, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_value *v = ok(cases[i].text);
        uint64_t u = 12345;
        bool got = json_get_u64(v, &u);
        cr_assert_eq(got, cases[i].ok, "json_get_u64(%s) = %d", cases[i].text, got);
        if (got) cr_assert_eq(u, cases[i].v, "%s -> %llu", cases[i].text, (unsigned long long)u);
        else cr_assert_eq(u, 12345, "%s: out written on failure", cases[i].text);
        json_free(v);
    }
    cr_assert(!json_get_u64(NULL, NULL));
}

Test(json, exact_signed_integers) {
    static const struct { const char *text; bool ok; int64_t v; } cases[] = {
        {"0", true, 0}, {"-0", true, 0}, {"-1", true, -1}, {"42", true, 42},
        {"9223372036854775807", true, INT64_MAX}, {"-9223372036854775808", true, INT64_MIN},
        {"9223372036854775808", false, 0}, {"-9223372036854775809", false, 0},
        {"-1.5", false, 0}, {"-1e1", false, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_value *v = ok(cases[i].text);
        int64_t x = 0;
        bool got = json_get_i64(v, &x);
        cr_assert_eq(got, cases[i].ok, "json_get_i64(%s) = %d", cases[i].text, got);
        if (got) cr_assert_eq(x, cases[i].v, "%s -> %lld", cases[i].text, (long long)x);
        json_free(v);
    }
}

static char *nested(int depth, char open, char close) {
    char *s = malloc((size_t)depth * 2 + 1);
    memset(s, open, (size_t)depth);
    memset(s + depth, close, (size_t)depth);
    s[2 * depth] = '\0';
    return s;
}

Test(json, depth_limit) {
    char *s = nested(JSON_MAX_DEPTH, '[', ']');
    json_free(ok(s));
    free(s);
    s = nested(JSON_MAX_DEPTH + 1, '[', ']');
    bad(s, "nesting deeper than 64");
    free(s);
    /* objects count too: {"a":{"a":...}} */
    char buf[1024] = "";
    for (int i = 0; i < JSON_MAX_DEPTH + 1; i++) strcat(buf, "{\"a\":");
    strcat(buf, "1");
    for (int i = 0; i < JSON_MAX_DEPTH + 1; i++) strcat(buf, "}");
    bad(buf, "nesting deeper");
    /* a huge unbalanced input fails cleanly, without deep recursion */
    s = nested(1000000, '[', ']');
    s[1000000] = '\0';
    bad(s, "nesting deeper");
    free(s);
}

Test(json, duplicate_keys) {
    bad_n("{\"a\":1,\"b\":2,\"a\":3}", 19, JSON_ERR_DUPLICATE, "duplicate key 'a'");
    bad_n("{\"x\":{\"k\":1,\"k\":1}}", 19, JSON_ERR_DUPLICATE, "duplicate key 'k'");
    /* escaped and raw spellings of the same key are the same key */
    const char *t = "{\"\\u0061\":1,\"a\":2}";
    bad_n(t, strlen(t), JSON_ERR_DUPLICATE, "duplicate key 'a'");
    /* "a" and "a\u0000" differ */
    json_free(ok("{\"a\":1,\"a\\u0000\":2}"));
    /* large objects take the sorted path */
    char buf[4096];
    size_t o = (size_t)snprintf(buf, sizeof buf, "{");
    for (int i = 0; i < 200; i++) o += (size_t)snprintf(buf + o, sizeof buf - o, "\"k%d\":%d,", i, i);
    snprintf(buf + o, sizeof buf - o, "\"k%d\":0}", 200);
    json_value *v = ok(buf);
    cr_assert_eq(json_count(v), 201);
    uint64_t u;
    cr_assert(json_get_u64(json_object_get(v, "k150"), &u) && u == 150);
    json_free(v);
    snprintf(buf + o, sizeof buf - o, "\"k%d\":0}", 137);
    bad_n(buf, strlen(buf), JSON_ERR_DUPLICATE, "duplicate key 'k137'");
}

Test(json, structure_errors) {
    bad("{", "end of input");
    bad("{\"a\"", "end of input");
    bad("{\"a\":}", "unexpected '}'");
    bad("{\"a\":1,}", "expected a string key");
    bad("[1,]", "unexpected ']'");
    bad("[1", "end of input");
    bad("{a:1}", "expected a string key");
    bad("{'a':1}", "expected a string key");
    bad("{\"a\" 1}", "expected ':'");
    bad("{\"a\":1 \"b\":2}", "expected ',' or '}'");
    bad("{} x", "trailing characters after the JSON value at byte 3");
    bad("1 2", "trailing");
    bad("[1]]", "trailing");
    bad("{}/* c */", "trailing");
    bad("// c\n{}", "unexpected");
    bad("tru", "literal");
    bad("nul", "literal");
    bad("nulll", "trailing");
    bad("True", "unexpected");
    bad_n("{}\0", 3, JSON_ERR_SYNTAX, "trailing");
}

Test(json, error_reports_offset) {
    bad("[1, 2, x]", "at byte 7");
    bad("{\"a\": [1, 2, 3], \"b\": tx}", "at byte 22");
}

Test(json, bad_arguments) {
    json_value *v;
    cr_assert_neq(json_parse(NULL, 3, &v, err, sizeof err), JSON_OK);
    cr_assert_neq(json_parse("1", 1, NULL, err, sizeof err), JSON_OK);
    /* no error buffer is fine */
    cr_assert_eq(json_parse("[", 1, &v, NULL, 0), JSON_ERR_SYNTAX);
    /* a tiny buffer truncates */
    char tiny[4];
    cr_assert_eq(json_parse("[", 1, &v, tiny, sizeof tiny), JSON_ERR_SYNTAX);
    cr_assert_eq(strlen(tiny), 3);
}

Test(json, big_document) {
    /* many values across several arena blocks */
    size_t n = 200000, cap = n * 8 + 16, o = 0;
    char *s = malloc(cap);
    s[o++] = '[';
    for (size_t i = 0; i < n; i++) o += (size_t)snprintf(s + o, cap - o, "%s\"%zu\"", i ? "," : "", i % 1000);
    s[o++] = ']';
    json_value *v = NULL;
    cr_assert_eq(json_parse(s, o, &v, err, sizeof err), JSON_OK, "%s", err);
    cr_assert_eq(json_count(v), n);
    cr_assert_str_eq(json_string(json_array_get(v, n - 1), NULL), "999");
    json_free(v);
    free(s);
}

/* json_write_string writes any byte string as valid JSON in ASCII + UTF-8:
 * bytes that are not UTF-8 as \udc80..\udcff (surrogateescape), which
 * json_parse turns back into the same bytes; a lone low surrogate outside
 * that range is still an error. */
Test(json, any_byte_string_round_trips) {
    static const char *const cases[] = {"plain", "caf\xc3\xa9", "b\xff.png", "\x80\xc3(\xed\xa0\x80x", "q\"\\\n\t\x01",
                                        "\xf0\x9f\x98\x80 and \xf0\x9f\x98"};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        char *text = NULL;
        size_t n = 0;
        FILE *f = open_memstream(&text, &n);
        cr_assert(f);
        json_write_string(f, cases[c]);
        fclose(f);
        for (size_t i = 0; i < n; i++) cr_expect((unsigned char)text[i] >= 0x20, "case %zu: raw control byte", c);
        json_value *v;
        char why[128];
        cr_assert_eq(json_parse(text, n, &v, why, sizeof why), JSON_OK, "case %zu: %s: %s", c, why, text);
        size_t len;
        const char *back = json_string(v, &len);
        cr_expect(back && len == strlen(cases[c]) && !memcmp(back, cases[c], len), "case %zu: %s", c, text);
        json_free(v);
        free(text);
    }
    str_is("\"a\\udcff\"", "a\xff", 2);
    bad("\"\\udc7f\"", "lone low surrogate");
}
