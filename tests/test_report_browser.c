/* test_report_browser.c — `pixab report` opened in a real browser, headless
 * Chromium (issue #19): the DOM of a small run with hostile file names holds
 * every expected thumbnail, shows the names as text and holds no element made
 * from a name (none ran); its screenshot is not blank; pages of a 10,000-line
 * results.jsonl load in the middle, filtered, sorted and searched. Needs
 * `chromium` (Debian's package; tools/test.sh installs it and sets
 * PIXAB_REQUIRE_BROWSER=1): skipped without it, failed without it when required. */
#define _POSIX_C_SOURCE 200809L

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_run.h"
#include "pixab.h"

#define DATA PIXAB_TEST_DATA "/"
#define MODEL DATA "inception_v3_w8.safetensors"
#define HOSTILE "<img src=x onerror=document.body.setAttribute('data-pwned',1)>.png"

static void setup(void) { scratch_make("browser"); }
static void teardown(void) { scratch_remove(); }

TestSuite(report_browser, .init = setup, .fini = teardown, .timeout = 300);

/* Chromium, or the test is skipped (failed when PIXAB_REQUIRE_BROWSER is set). */
static void need_chromium(void) {
    if (!system("command -v chromium >/dev/null 2>&1")) return;
    if (getenv("PIXAB_REQUIRE_BROWSER")) cr_assert_fail("chromium not found, and PIXAB_REQUIRE_BROWSER is set");
    cr_skip_test("chromium not installed (apt-get install chromium; tools/test.sh does)");
}

/* Run headless Chromium on tmp/page (a file URL with its fragment) with
 * `what` (--dump-dom, --screenshot=FILE) after its scripts and images had
 * their time; the DOM it printed. --no-sandbox: the sandbox cannot start as
 * root (CI); the pages are our own. */
static char *chromium(const char *page, const char *what) {
    char cmd[4096];
    cr_assert((size_t)snprintf(cmd, sizeof cmd,
                               "chromium --headless --no-sandbox --disable-gpu --no-first-run --hide-scrollbars "
                               "--user-data-dir='%s' --window-size=1200,900 --virtual-time-budget=10000 %s "
                               "'file://%s' >'%s' 2>/dev/null",
                               tp("profile"), what, tp(page), tp("dom.html")) < sizeof cmd);
    cr_assert_eq(system(cmd), 0, "%s", cmd);
    char *dom = read_file(tp("dom.html"), NULL);
    cr_assert(dom);
    return dom;
}

static int count(const char *s, const char *what) {
    int n = 0;
    for (const char *p = s; (p = strstr(p, what)); p += strlen(what)) n++;
    return n;
}

/* A small explain run over hostile names, a corrupt image among them. */
Test(report_browser, hostile_names) {
    need_chromium();
    mkdirs("in/</script>");
    copy_file(DATA "test299.png", tp("in/" HOSTILE));
    copy_file(DATA "test299.png", tp("in/</script>/q\"uo'te & #x?y=%41\n\xff.png"));
    copy_file(DATA "small53x37.png", tp("in/plain.png"));
    write_text(tp("in/<b>bad.png"), "not an image\n");
    run_result r = runf("explain -w '%s' -m pixab,gradcam --report -o '%s' '%s'", MODEL, tp("out"), tp("in"));
    cr_assert_eq(r.status, 1, "the corrupt image fails, the others are explained: %s", r.err);

    char *dom = chromium("out/report/index.html", "--dump-dom");
    cr_expect(strstr(dom, "page 1 of 1 (3 images)"), "the gallery was drawn: %s", dom);
    cr_expect_eq(count(dom, "<img class=\"thumb\""), 3 * 3, "each image and its 2 overlays: %s", dom);
    cr_expect_eq(count(dom, "<article class=\"image\">"), 3);
    /* Names as text; no element from a name, so nothing of it ran. */
    cr_expect(strstr(dom, "<span class=\"name\">") && strstr(dom, "&lt;img src=x onerror=document.body"), "%s", dom);
    cr_expect(strstr(dom, "&lt;/script&gt;/q\"uo'te &amp; #x?y=%41\\x0A\\xFF.png</span>"), "%s", dom);
    cr_expect(strstr(dom, "&lt;b&gt;bad.png</span>"), "the failure is listed: %s", dom);
    cr_expect(!strstr(dom, "<img src=\"x\"") && !strstr(dom, "<img src=x") && !strstr(dom, "<b>"), "%s", dom);
    cr_expect(!strstr(dom, "data-pwned=") && !strstr(dom, "<body data"), "%s", dom);
    cr_expect(strstr(dom, "src=\"../../in/%3Cimg%20src%3Dx%20onerror"), "linked, percent-encoded: %s", dom);
    free(dom);

    char shot_arg[600];
    snprintf(shot_arg, sizeof shot_arg, "--screenshot='%s'", tp("shot.png"));
    free(chromium("out/report/index.html", shot_arg));
    pixab_image shot;
    cr_assert_eq(pixab_image_load(tp("shot.png"), &shot), PIXAB_OK, "%s", pixab_last_error());
    /* Not blank: text and frames on the page's background, and the thumbnails' colours. */
    size_t inked = 0, colourful = 0, n = (size_t)shot.width * shot.height;
    for (size_t k = 0; k < n; k++) {
        const unsigned char *p = shot.rgb + 3 * k;
        int hi = p[0] > p[1] ? p[0] : p[1], lo = p[0] < p[1] ? p[0] : p[1];
        hi = hi > p[2] ? hi : p[2], lo = lo < p[2] ? lo : p[2];
        inked += hi < 200;
        colourful += hi - lo > 80;
    }
    cr_expect(shot.width == 1200 && shot.height == 900, "%dx%d", shot.width, shot.height);
    cr_expect(inked > n / 20, "%zu of %zu pixels dark", inked, n);
    cr_expect(colourful > n / 50, "%zu of %zu pixels in colour: the images loaded", colourful, n);
    pixab_image_free(&shot);
}

/* Names of the rows in a DOM, in order, and their first score. */
static int names(const char *dom, char out[][32], double *score, int cap) {
    int n = 0;
    for (const char *p = dom; n < cap && (p = strstr(p, "<span class=\"name\">in/")); n++) {
        p += strlen("<span class=\"name\">in/");
        snprintf(out[n], sizeof out[n], "%.*s", (int)strcspn(p, "<"), p);
        const char *s = strstr(p, "<figcaption>softmax ");
        score[n] = s ? atof(s + strlen("<figcaption>softmax ")) : -1;
    }
    return n;
}

/* 10,000 lines: a page in the middle, a class sorted by score, a search. */
Test(report_browser, large_run_pages) {
    need_chromium();
    FILE *f = fopen(tp("results.jsonl"), "w");
    cr_assert(f);
    for (int k = 0; k < 10000; k++)
        fprintf(f,
                "{\"image\":\"in/img%05d.png\",\"method\":\"pixab\",\"layer\":\"Mixed_7c\",\"class\":%d,"
                "\"score\":%.4f,\"score_kind\":\"softmax\",\"map\":\"o/img%05d.pixab.npy\","
                "\"png\":\"o/img%05d.pixab.png\","
                "\"ms\":1.5,\"shared_ms\":9}\n",
                k, k % 7, (double)((k * 7919) % 10000) / 10000, k, k);
    cr_assert_eq(fclose(f), 0);
    run_result r = runf("report '%s'", tmp);
    cr_assert_eq(r.status, 0, "%s", r.err);

    char row[60][32];
    double score[60];
    char *dom = chromium("report/index.html#p=100", "--dump-dom");
    cr_expect(strstr(dom, "page 100 of 200 (10000 images)"), "%s", dom);
    int n = names(dom, row, score, 60);
    cr_expect_eq(n, 50);
    cr_expect_str_eq(row[0], "img04950.png");
    cr_expect_str_eq(row[49], "img04999.png");
    cr_expect_eq(count(dom, "<img class=\"thumb\""), 100, "each image and its overlay");
    free(dom);

    dom = chromium("report/index.html#p=2&c=3&s=score", "--dump-dom");
    cr_expect(strstr(dom, "page 2 of 29 (1429 images)"), "class 3: k %% 7 == 3: %s", dom);
    n = names(dom, row, score, 60);
    cr_expect_eq(n, 50);
    for (int k = 0; k < n; k++) {
        int id = atoi(row[k] + 3);
        cr_expect_eq(id % 7, 3, "%s", row[k]);
        cr_expect(k == 0 || score[k] <= score[k - 1], "high first: %g then %g", score[k - 1], score[k]);
    }
    free(dom);

    dom = chromium("report/index.html#q=IMG0012&s=name", "--dump-dom");
    cr_expect(strstr(dom, "page 1 of 1 (10 images)"), "%s", dom);
    n = names(dom, row, score, 60);
    cr_expect(n == 10 && !strcmp(row[0], "img00120.png") && !strcmp(row[9], "img00129.png"), "%d %s", n, row[0]);
    free(dom);
}
