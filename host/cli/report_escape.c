/* report_escape.c — file names are hostile input to a web page: shown as
 * text only (control and non-UTF-8 bytes as \xNN, HTML special characters as
 * references) and linked by relative, percent-encoded URLs. */
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "report_escape.h"

static const char hex[] = "0123456789ABCDEF";

char *report_shown(const char *s) {
    const size_t len = strlen(s);
    char *out = malloc(4 * len + 1), *o = out;
    if (!out) return NULL;
    for (size_t i = 0; i < len;) {
        const unsigned char c = (unsigned char)s[i];
        size_t k = json_utf8_len(s, i, len);
        if (k && c >= 0x20 && c != 0x7f) {
            memcpy(o, s + i, k), o += k, i += k;
        } else {
            *o++ = '\\', *o++ = 'x', *o++ = hex[c >> 4], *o++ = hex[c & 15];
            i++;
        }
    }
    *o = '\0';
    return out;
}

void report_html(FILE *f, const char *s) {
    char *t = report_shown(s);
    for (const char *p = t ? t : "?"; *p; p++) {
        switch (*p) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default: fputc(*p, f);
        }
    }
    free(t);
}

char *report_abs_path(const char *cwd, const char *path) {
    const size_t n = strlen(cwd) + strlen(path) + 3;
    char *joined = malloc(n), *out = malloc(n);
    if (!joined || !out) return free(joined), free(out), NULL;
    if (path[0] == '/') strcpy(joined, path);
    else strcat(strcat(strcpy(joined, cwd), "/"), path);
    /* Name by name: "" and "." dropped, ".." drops the name before it. */
    size_t o = 0;
    for (char *p = joined; *p;) {
        while (*p == '/') p++;
        size_t k = strcspn(p, "/");
        if (!k) break;
        if (k == 2 && !strncmp(p, "..", 2)) {
            while (o && out[o - 1] != '/') o--;
            if (o) o--;
        } else if (!(k == 1 && *p == '.')) {
            out[o++] = '/';
            memcpy(out + o, p, k), o += k;
        }
        p += k;
    }
    if (!o) out[o++] = '/';
    out[o] = '\0';
    free(joined);
    return out;
}

static int unreserved(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == '_' || c == '~';
}

char *report_url(const char *prefix, const char *path) {
    const size_t n = strlen(prefix);
    char *out = malloc(n + 3 * strlen(path) + 1), *o = out;
    if (!out) return NULL;
    memcpy(o, prefix, n), o += n;
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        if (*p == '/' || unreserved(*p)) *o++ = (char)*p;
        else *o++ = '%', *o++ = hex[*p >> 4], *o++ = hex[*p & 15];
    }
    *o = '\0';
    return out;
}

char *report_href(const char *from, const char *to) {
    /* The common leading names: whole names only ("/a/bc" and "/a/b" share "/a"). */
    size_t common = 0;
    for (size_t i = 0;; i++) {
        int end_from = !from[i] || from[i] == '/', end_to = !to[i] || to[i] == '/';
        if (end_from && end_to) common = i;
        if (!from[i] || !to[i] || from[i] != to[i]) break;
    }
    size_t ups = 0; /* from's names after the common ones */
    for (const char *p = from + common; *p; p++) ups += *p == '/' && p[1];
    char *prefix = malloc(3 * ups + 3), *o = prefix;
    if (!prefix) return NULL;
    for (size_t k = 0; k < ups; k++) memcpy(o, "../", 3), o += 3;
    if (!ups) memcpy(o, "./", 2), o += 2;
    *o = '\0';
    char *out = report_url(prefix, to + common + (to[common] == '/'));
    free(prefix);
    return out;
}
