/* report_escape.h — hostile names made safe for `pixab report`'s pages
 * (report_escape.c): text to show (control and non-UTF-8 bytes as \xNN),
 * HTML-escaped text, and links: a path as a relative, percent-encoded URL. */
#ifndef PIXAB_CLI_REPORT_ESCAPE_H
#define PIXAB_CLI_REPORT_ESCAPE_H

#include <stdio.h>

/* s as text to show: valid UTF-8 as it is, control bytes (a newline, an
 * escape) and bytes that are not UTF-8 as "\xNN". malloc'd; NULL when out of memory. */
char *report_shown(const char *s);
/* report_shown(s) into an HTML document: & < > " ' as character references. */
void report_html(FILE *f, const char *s);
/* The absolute form of path, "." and ".." resolved by name (as a browser
 * resolves a URL): relative paths are taken from cwd. malloc'd; NULL when
 * out of memory. */
char *report_abs_path(const char *cwd, const char *path);
/* prefix (a URL part, as it is) then path, every byte of it but / A-Z a-z
 * 0-9 - . _ ~ percent-encoded. malloc'd; NULL when out of memory. */
char *report_url(const char *prefix, const char *path);
/* The URL of file `to` relative to directory `from` (both from
 * report_abs_path): "../" steps, then to's remaining names, every byte but
 * A-Z a-z 0-9 - . _ ~ percent-encoded (so no scheme, query, fragment or
 * quote can appear), "./" in front when it starts with neither. malloc'd;
 * NULL when out of memory. */
char *report_href(const char *from, const char *to);

#endif
