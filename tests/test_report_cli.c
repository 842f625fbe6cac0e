/* test_report_cli.c — `pixab report` and `explain --report` (issue #19): the
 * files of the report (a data file per page of 50, a chunked index, stale
 * pages removed), the run's summary from runs.jsonl (model, device, failures
 * and their reasons), eval tables and plots, hostile file names escaped for
 * HTML, <script> and URLs, usage errors; and the escaping helpers against
 * values worked out by hand. The browser's view: test_report_browser.c. */
#define _POSIX_C_SOURCE 200809L

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_run.h"
#include "json.h"
#include "report_escape.h"

#define DATA PIXAB_TEST_DATA "/"
#define MODEL DATA "inception_v3_w8.safetensors"

static void setup(void) { scratch_make("report"); }
static void teardown(void) { scratch_remove(); }

TestSuite(report, .init = setup, .fini = teardown, .timeout = 120);

/* tmp/rel's text (must exist). */
static char *slurp(const char *rel) {
    char *s = read_file(tp(rel), NULL);
    cr_assert(s, "cannot read %s", rel);
    return s;
}

/* n results lines (1 method) "img%05d.png" with class k % 7 and score k / n,
 * and extra text appended after them. */
static void synthetic_results(const char *rel, int n, const char *extra) {
    FILE *f = fopen(tp(rel), "w");
    cr_assert(f);
    for (int k = 0; k < n; k++)
        fprintf(f,
                "{\"image\":\"in/img%05d.png\",\"method\":\"pixab\",\"layer\":\"Mixed_7c\",\"class\":%d,"
                "\"score\":%.4f,\"score_kind\":\"softmax\",\"map\":\"o/img%05d.pixab.npy\","
                "\"png\":\"o/img%05d.pixab.png\","
                "\"ms\":1.5,\"shared_ms\":9}\n",
                k, k % 7, (double)k / n, k, k);
    fputs(extra, f);
    cr_assert_eq(fclose(f), 0);
}

Test(report, help_lists_it) {
    run_result r = run("--help");
    cr_expect_eq(r.status, 0);
    cr_expect(strstr(r.out, "  report "), "%s", r.out);
    r = run("report --help");
    cr_expect_eq(r.status, 0);
    cr_expect(strstr(r.out, "usage: pixab report [-v] OUTDIR"), "%s", r.out);
    r = run("explain --help");
    cr_expect(strstr(r.out, "--report"), "%s", r.out);
}

Test(report, usage_errors) {
    run_result r = run("report");
    cr_expect_eq(r.status, 2);
    cr_expect(strstr(r.err, "no OUTDIR given"), "%s", r.err);
    r = runf("report '%s' '%s'", tmp, tmp);
    cr_expect_eq(r.status, 2);
    cr_expect_eq(count_lines(r.err), 1, "%s", r.err);
    r = runf("report '%s'", tp("missing"));
    cr_expect_eq(r.status, 2);
    cr_expect(strstr(r.err, "cannot read directory"), "%s", r.err);
    r = runf("report '%s'", tmp); /* neither results.jsonl nor metrics.csv */
    cr_expect_eq(r.status, 2);
    cr_expect(strstr(r.err, "nothing to report") && count_lines(r.err) == 1, "%s", r.err);
    cr_expect(!exists(tp("report")));
}

/* 120 images: pages of 50 (the last of 20), one index chunk, the last line of
 * an image x method winning; torn and foreign lines skipped (exit 1). A
 * report of fewer images removes the pages it no longer has, and nothing else. */
Test(report, pages_and_index) {
    synthetic_results("results.jsonl", 120,
                      "{\"image\":\"in/img00003.png\",\"method\":\"pixab\",\"layer\":\"Mixed_7c\",\"class\":6,"
                      "\"score\":0.75,\"map\":\"o/x.npy\"}\n"
                      "{\"foreign\":1}\n"
                      "{\"image\":\"in/torn.png\",\"method\":\"pixab\"");
    run_result r = runf("report '%s'", tmp);
    cr_expect_eq(r.status, 1, "%s", r.err);
    cr_expect(strstr(r.err, "2 line(s) of results.jsonl skipped"), "%s", r.err);
    cr_assert(exists(tp("report/index.html")) && exists(tp("report/report.js")) && exists(tp("report/report.css")));
    cr_expect(exists(tp("report/data/page-00001.js")) && exists(tp("report/data/page-00003.js")));
    cr_expect(!exists(tp("report/data/page-00004.js")) && !exists(tp("report/data/page-00000.js")));
    char *p3 = slurp("report/data/page-00003.js"), *p1 = slurp("report/data/page-00001.js");
    cr_expect(!strncmp(p3, "pixabPage(3,[", 13), "%.40s", p3);
    cr_expect(strstr(p3, "\"id\":100,") && strstr(p3, "\"id\":119,") && !strstr(p3, "\"id\":99,"));
    cr_expect_eq(count_lines(p3), 21, "a line per image and the end: %s", p3);
    /* img00003's later line: its class 6, score 0.75; the overlay by file name in OUTDIR. */
    const char *at = strstr(p1, "{\"id\":3,");
    cr_assert(at);
    char img3[1024];
    snprintf(img3, sizeof img3, "%.*s", (int)strcspn(at, "\n"), at);
    cr_expect(!strncmp(img3, "{\"id\":3,\"name\":\"in/img00003.png\"", 32), "%s", img3);
    cr_expect(strstr(img3, "\"cls\":6,") && strstr(img3, "\"score\":0.75,"), "%s", img3);
    cr_expect(strstr(p1, "\"png\":\"../img00000.pixab.png\",\"npy\":\"../img00000.pixab.npy\""), "%.400s", p1);
    char *ix = slurp("report/data/index-000.js");
    cr_expect(!strncmp(ix, "pixabIndex(0,{\"name\":[\"img00000.png\",\"img00001.png\",", 52), "%.80s", ix);
    cr_expect(strstr(ix, "\"cls\":[0,1,2,6,4,"), "%.2000s", strstr(ix, "\"cls\""));
    char *html = slurp("report/index.html");
    cr_expect(strstr(html, "\"images\":120,\"pages\":3,\"chunks\":1,\"methods\":[\"pixab\"]"), "%s", html);
    cr_expect(strstr(html, "<dd>120 (121 results lines; 2 other lines skipped)</dd>"), "%s", html);
    cr_expect(strstr(html, "not recorded (no runs.jsonl"), "%s", html);
    free(p1), free(p3), free(ix), free(html);

    write_text(tp("report/data/page-00009.jsx"), "not ours\n");
    synthetic_results("results.jsonl", 60, "");
    r = runf("report '%s'", tmp);
    cr_expect_eq(r.status, 0, "%s", r.err);
    cr_expect(exists(tp("report/data/page-00002.js")) && !exists(tp("report/data/page-00003.js")));
    cr_expect(exists(tp("report/data/page-00009.jsx")), "only its own names are removed");
}

/* An eval output directory: metrics.csv as tables (a row per method, a
 * column per metric, per task), its plots and files linked; no gallery. */
Test(report, eval_tables_and_plots) {
    write_text(tp("metrics.csv"), "method,task,metric,value,n\n"
                                  "pixab,MOD,AD,12.5,4\npixab,MOD,IIC,50,4\nablation,MOD,AD,20.25,4\n"
                                  "pixab,sanity,spearman_Mixed_7c,0.125,8\n"
                                  "<b>x</b>,MOD,AD,1,1\nnot,a,row\n");
    copy_file(DATA "small53x37.png", tp("deletion.png"));
    write_text(tp("metrics.md"), "## tables\n");
    run_result r = runf("report -v '%s'", tmp);
    cr_expect_eq(r.status, 0, "%s", r.err);
    char *html = slurp("report/index.html");
    cr_expect(strstr(html, "<table class=\"metrics\"><caption>MOD</caption>\n<tr><th>method</th><th>AD</th><th>IIC</th>"
                           "</tr>\n<tr><th>pixab</th><td title=\"n = 4\">12.5</td><td title=\"n = 4\">50</td></tr>\n"
                           "<tr><th>ablation</th><td title=\"n = 4\">20.25</td><td>–</td></tr>\n"),
              "%s", html);
    cr_expect(strstr(html, "<caption>sanity</caption>"), "%s", html);
    cr_expect(strstr(html, "<th>&lt;b&gt;x&lt;/b&gt;</th>") && !strstr(html, "<b>"), "%s", html);
    cr_expect(strstr(html, "<img src=\"../deletion.png\""), "%s", html);
    cr_expect(!strstr(html, "insertion.png") && strstr(html, "<a href=\"../metrics.md\">"), "%s", html);
    cr_expect(!strstr(html, "id=\"gallery\""), "no results.jsonl: no gallery");
    free(html);
}

/* explain --report over hostile file names and a corrupt image: runs.jsonl
 * holds the model, the device and the failures with their reasons; names
 * reach the report only escaped. */
Test(report, explain_report_hostile_names, .timeout = 300) {
    mkdirs("in/</script>");
    copy_file(DATA "test299.png", tp("in/<img src=x onerror=alert(1)>.png"));
    copy_file(DATA "test299.png", tp("in/</script>/q\"uo'te & #x?y=%41\n\xff\xe2\x80\xa8.png"));
    write_text(tp("in/<b>bad.png"), "not an image\n");
    run_result r = runf("explain -w '%s' -m pixab,gradcam --report -o '%s' '%s'", MODEL, tp("out"), tp("in"));
    cr_expect_eq(r.status, 1, "the corrupt image fails: %s", r.err);
    char *runs = slurp("out/runs.jsonl");
    json_value *v = NULL;
    cr_assert_eq(count_lines(runs), 1, "%s", runs);
    cr_assert_eq(json_parse(runs, strlen(runs), &v, NULL, 0), JSON_OK, "%s", runs);
    cr_expect_str_eq(json_string(json_object_get(v, "model"), NULL), MODEL);
    cr_expect_str_eq(json_string(json_object_get(v, "device"), NULL), "cpu");
    double images = 0, failed = 0;
    cr_expect(json_number(json_object_get(v, "images"), &images) && images == 2);
    cr_expect(json_number(json_object_get(v, "failed"), &failed) && failed == 1);
    const json_value *f0 = json_array_get(json_object_get(v, "failures"), 0);
    cr_expect_str_eq(json_string(json_object_get(f0, "input"), NULL), tp("in/<b>bad.png"));
    cr_expect(strstr(json_string(json_object_get(f0, "reason"), NULL), "not a supported image"), "%s", runs);
    json_free(v);
    free(runs);

    char *html = slurp("out/report/index.html"), *page = slurp("out/report/data/page-00001.js");
    char *ix = slurp("out/report/data/index-000.js");
    cr_expect(strstr(html, "<dt>device</dt><dd>cpu</dd>"), "%s", html);
    cr_expect(strstr(html, "<h3>failed inputs (1)</h3>") && strstr(html, "&lt;b&gt;bad.png</span>: pixab: "),
              "%s", html);
    cr_expect(!strstr(html, "<b>"), "%s", html);
    /* Data for <script>: no < > & and no raw line end anywhere, U+2028 escaped. */
    for (const char *s = page; *s; s++) cr_expect(*s != '<' && *s != '>' && *s != '&', "%s", page);
    cr_expect(!strstr(page, "\xe2\x80\xa8") && !strstr(ix, "\xe2\x80\xa8"));
    cr_expect(!strchr(ix, '<') && !strchr(ix, '&'), "%s", ix);
    cr_expect_eq(count_lines(page), 3, "one line per image: %s", page);
    /* Shown: \xNN for the newline and the byte 0xff; links: percent-encoded, relative. */
    cr_expect(strstr(page, "\\u003c/script\\u003e/q\\\"uo'te \\u0026 #x?y=%41\\\\x0A\\\\xFF\\u2028.png\","),
              "%s", page);
    cr_expect(strstr(page, "\"src\":\"../../in/%3C/script%3E/q%22uo%27te%20%26%20%23x%3Fy%3D%2541%0A%FF%E2%80%A8.png"),
              "%s", page);
    cr_expect(strstr(page, "\"src\":\"../../in/%3Cimg%20src%3Dx%20onerror%3Dalert%281%29%3E.png\""), "%s", page);
    cr_expect(strstr(page, "\"png\":\"../%3Cimg%20src%3Dx%20onerror%3Dalert%281%29%3E.gradcam.png\""), "%s", page);
    cr_expect(strstr(ix, "\"\\u003cimg src=x onerror=alert(1)\\u003e.png\""), "%s", ix);
    free(html), free(page), free(ix);
}

/* ---- the escaping helpers (report_escape.c), against values worked out by hand ---- */

static void href_is(const char *from, const char *to, const char *want) {
    char *h = report_href(from, to);
    cr_expect_str_eq(h, want, "from %s to %s", from, to);
    free(h);
}

Test(report, escape_helpers) {
    char *a = report_abs_path("/w/x", "../in/./a//b.png");
    cr_expect_str_eq(a, "/w/in/a/b.png");
    free(a);
    a = report_abs_path("/w", "/../../c");
    cr_expect_str_eq(a, "/c");
    free(a);
    href_is("/a/out/report", "/a/img/x.png", "../../img/x.png");
    href_is("/a/out/report", "/a/out/report/x.png", "./x.png");
    href_is("/a/b", "/a/bc/x", "../bc/x");
    href_is("/", "/x y", "./x%20y");
    href_is("/r", "/javascript:alert(1)", "../javascript%3Aalert%281%29");
    char *s = report_shown("a\nb\xff\x7f\xc3\xa9\xe2\x80\xa8");
    cr_expect_str_eq(s, "a\\x0Ab\\xFF\\x7F\xc3\xa9\xe2\x80\xa8");
    free(s);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    report_html(f, "<a href='x'>&\"\n");
    fputc('|', f);
    json_write_script_string(f, "</script><!--&\xe2\x80\xa8\xe2\x80\xa9\xff\"");
    fclose(f);
    cr_expect_str_eq(buf, "&lt;a href=&#39;x&#39;&gt;&amp;&quot;\\x0A|"
                          "\"\\u003c/script\\u003e\\u003c!--\\u0026\\u2028\\u2029\\udcff\\\"\"");
    free(buf);
}
