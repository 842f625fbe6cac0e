/* report_assets.h — the report's script and style sheet
 * (host/cli/report_assets/report.js and report.css), embedded in the binary
 * at build time (CMakeLists.txt writes report_assets.c from them). */
#ifndef PIXAB_CLI_REPORT_ASSETS_H
#define PIXAB_CLI_REPORT_ASSETS_H

#include <stddef.h>

extern const unsigned char report_js[];
extern const size_t report_js_len;
extern const unsigned char report_css[];
extern const size_t report_css_len;

#endif
