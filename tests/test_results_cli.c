/* test_results_cli.c — results.jsonl and the outdir under stress (issue #15):
 * a write that fails part way (RLIMIT_FSIZE standing in for a full disk) cuts
 * the file back, so it grows only by whole lines and the run fails (exit 2,
 * one line); --resume removes the temporary files that killed runs left in the
 * outdir (exactly pixab's names, dead PIDs only) and never a live run's, and
 * reads past zeros and garbage lines as merge does, and its contact sheet
 * shows the run's first images whichever run explained them.
 * Runs the built CLI binary. */
#define _POSIX_C_SOURCE 200809L

#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli_run.h"
#include "json.h"

#define DATA PIXAB_TEST_DATA "/"
#define MODEL DATA "inception_v3_w8.safetensors"
#define PAD_LEN 2000 /* more than a map's .npy, which the file size limit must let through */

static void setup(void) { scratch_make("results"); }
static void teardown(void) { scratch_remove(); }

TestSuite(results, .init = setup, .fini = teardown, .timeout = 120);

/* `pixab explain -m activation,pixab --no-png -o tmp/out test299.png` with
 * every file limited to limit bytes (writes past it fail with EFBIG, not a
 * signal); its exit status, stderr in tmp/err. */
static int explain_limited(const char *out, rlim_t limit) {
    char dir[512], err[512];
    snprintf(dir, sizeof dir, "%s", tp(out));
    snprintf(err, sizeof err, "%s", tp("err"));
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (!pid) {
        struct rlimit rl = {limit, limit};
        int fd = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd < 0 || dup2(fd, 2) < 0 || setrlimit(RLIMIT_FSIZE, &rl) || signal(SIGXFSZ, SIG_IGN) == SIG_ERR)
            _exit(99);
        setenv("OPENBLAS_CORETYPE", "Haswell", 1);
        execl(PIXAB_CLI_PATH, "pixab", "explain", "-w", MODEL, "-m", "activation,pixab", "--no-png", "-o", dir,
              DATA "test299.png", (char *)NULL);
        _exit(98);
    }
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* A foreign line PAD_LEN bytes long (resume and merge skip it). */
static void pad(char *buf) {
    memset(buf, 'x', PAD_LEN);
    memcpy(buf, "{\"pad\":\"", 8);
    memcpy(buf + PAD_LEN - 3, "\"}\n", 4);
}

/* The shortest and longest line of a results file. */
static void line_lengths(const char *text, size_t *lo, size_t *hi) {
    *lo = (size_t)-1, *hi = 0;
    for (const char *nl; (nl = strchr(text, '\n')); text = nl + 1) {
        size_t n = (size_t)(nl - text) + 1;
        *lo = n < *lo ? n : *lo, *hi = n > *hi ? n : *hi;
    }
}

/* Run with the limit at PAD_LEN + extra over a padded results.jsonl; expect
 * exit 2 in one line and the pad followed by want_lines whole lines. */
static void expect_whole_lines(const char *out, size_t extra, int want_lines) {
    char padding[PAD_LEN + 1], path[512];
    pad(padding);
    mkdirs(out);
    snprintf(path, sizeof path, "%s/results.jsonl", tp(out));
    write_text(path, padding);
    int status = explain_limited(out, PAD_LEN + extra);
    char *err = read_file(tp("err"), NULL), *got = read_file(path, NULL);
    cr_assert(err && got);
    cr_expect_eq(status, 2, "exit %d: %s", status, err);
    cr_expect_eq(count_lines(err), 1, "%s", err);
    cr_expect(strstr(err, "results.jsonl"), "%s", err);
    cr_expect_eq(strncmp(got, padding, PAD_LEN), 0);
    size_t len = strlen(got);
    cr_expect(len > 0 && got[len - 1] == '\n', "torn: %s", got + PAD_LEN);
    cr_expect_eq(count_lines(got + PAD_LEN), want_lines, "%s", got + PAD_LEN);
    cr_expect(want_lines == 0 || !strncmp(got + PAD_LEN, "{\"image\":", 9), "%s", got + PAD_LEN);
    free(err);
    free(got);
}

Test(results, a_failed_append_leaves_only_whole_lines) {
    run_result r = runf("explain -w %s -m activation,pixab --no-png -o %s %stest299.png", MODEL, tp("ref"), DATA);
    cr_assert_eq(r.status, 0, "%s", r.err);
    char *ref = read_file(tp("ref/results.jsonl"), NULL);
    cr_assert(ref);
    size_t lo, hi;
    line_lengths(ref, &lo, &hi);
    free(ref);
    cr_assert(lo > 100 && hi < lo + 40, "lines %zu..%zu", lo, hi);
    /* The first line cut half way; then the first whole and the second cut. */
    expect_whole_lines("half", lo / 2, 0);
    expect_whole_lines("one", hi + 20, 1);
}

/* A PID that was a process of ours and is no longer one. */
static long dead_pid(void) {
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (!pid) _exit(0);
    cr_assert_eq(waitpid(pid, NULL, 0), pid);
    return (long)pid;
}

/* fmt with pid (in a rotating static buffer, so a test's names stay live). */
static const char *name(const char *fmt, long pid) {
    static char buf[16][128];
    static int k;
    char *b = buf[k++ % 16];
    snprintf(b, sizeof buf[0], fmt, pid);
    return b;
}

Test(results, resume_removes_dead_runs_temporary_files_only) {
    long dead = dead_pid(), live = (long)getpid();
    mkdirs("out");
    const char *gone[] = {name("out/a.pixab.npy.tmp.%ld.0", dead), name("out/b.png.tmp.%ld.17", dead)};
    const char *kept[] = {
        name("out/a.pixab.npy.tmp.%ld.0", live),   /* a live run's */
        name("out/a.pixab.npy.tmp.%ld.01", dead),  /* not exactly our format */
        name("out/a.pixab.npy.tmp.%ld", dead),     /* no counter */
        name("out/.tmp.%ld.0", dead),              /* no NAME */
        name("out/a.npy.tmp.%ld.0.bak", dead),     /* something after */
        name("out/a.npy.TMP.%ld.0", dead),         /* another pattern */
    };
    for (size_t k = 0; k < 2; k++) write_text(tp(gone[k]), "x");
    for (size_t k = 0; k < sizeof kept / sizeof *kept; k++) write_text(tp(kept[k]), "x");
    const char *dir = name("out/d.tmp.%ld.0", dead); /* not a regular file */
    mkdirs(dir);
    run_result r = runf("explain -w %s -m activation --no-png --resume -o %s %stest299.png", MODEL, tp("out"), DATA);
    cr_assert_eq(r.status, 0, "%s", r.err);
    for (size_t k = 0; k < 2; k++) cr_expect(!exists(tp(gone[k])), "%s left", gone[k]);
    for (size_t k = 0; k < sizeof kept / sizeof *kept; k++) cr_expect(exists(tp(kept[k])), "%s removed", kept[k]);
    cr_expect(exists(tp(dir)));
    cr_expect(exists(tp("out/test299.activation.npy")));
}

/* explain -m activation --no-png of the images in tmp/in into outdir (with
 * --resume when resume), which must succeed. */
static void explain_in(const char *outdir, int resume) {
    run_result r = runf("explain -w %s -m activation --no-png%s -o %s %s", MODEL, resume ? " --resume" : "", outdir,
                        tp("in"));
    cr_assert_eq(r.status, 0, "%s", r.err);
}

/* A zero-filled block and a garbage line in results.jsonl (what a power loss
 * can leave) spoil only their own lines: --resume still sees the lines after
 * them and redoes nothing, as merge does. */
Test(results, resume_reads_past_zeros_and_garbage) {
    mkdirs("in");
    copy_file(DATA "test299.png", tp("in/a.png"));
    copy_file(DATA "small53x37.png", tp("in/b.png"));
    explain_in(tp("out"), 0);
    size_t n;
    char *text = read_file(tp("out/results.jsonl"), &n);
    cr_assert(text && count_lines(text) == 2);
    char *second = strchr(text, '\n') + 1, spoiled[8192];
    const size_t first = (size_t)(second - text);
    cr_assert(n + 600 < sizeof spoiled);
    memcpy(spoiled, text, first);
    memset(spoiled + first, 0, 512);                       /* a zero block ... */
    memcpy(spoiled + first + 512, "\x01{garbage\n", 10);  /* ... and a garbage line */
    memcpy(spoiled + first + 522, second, n - first);
    const size_t spoiled_len = n + 522;
    FILE *f = fopen(tp("out/results.jsonl"), "wb");
    cr_assert(f && fwrite(spoiled, 1, spoiled_len, f) == spoiled_len);
    fclose(f);
    free(text);
    explain_in(tp("out"), 1);
    text = read_file(tp("out/results.jsonl"), &n);
    cr_expect_eq(n, spoiled_len, "nothing appended");
    cr_expect_eq(count_lines(text + first + 512), 2, "the garbage line and b.png's line, nothing redone");
    free(text);
}

/* --resume recognises the outdir however it is spelled: relative, with "./",
 * absolute, or through "dir/../". */
Test(results, resume_whatever_the_outdir_spelling) {
    mkdirs("in");
    copy_file(DATA "test299.png", tp("in/a.png"));
    explain_in(tp("out"), 0);
    char spelled[3][600];
    snprintf(spelled[0], sizeof spelled[0], "%s/./out", tmp);
    snprintf(spelled[1], sizeof spelled[1], "%s/in/../out", tmp);
    snprintf(spelled[2], sizeof spelled[2], "%s//out/", tmp);
    for (int i = 0; i < 3; i++) explain_in(spelled[i], 1);
    char *text = read_file(tp("out/results.jsonl"), NULL);
    cr_expect_eq(count_lines(text), 1, "nothing redone: %s", text);
    free(text);
}

/* A file name that is not UTF-8 makes valid JSON lines that name it exactly
 * (\udcff for the byte 0xff), --resume finds it done and merge keeps it. */
Test(results, non_utf8_names_survive) {
    mkdirs("in");
    copy_file(DATA "test299.png", tp("in/b\xff.png"));
    explain_in(tp("out"), 0);
    size_t n;
    char *text = read_file(tp("out/results.jsonl"), &n);
    cr_assert(text && count_lines(text) == 1);
    for (size_t i = 0; i < n; i++) cr_expect((unsigned char)text[i] < 0x80, "the line is ASCII: %s", text);
    cr_expect(strstr(text, "b\\udcff.png"), "%s", text);
    json_value *v;
    cr_assert_eq(json_parse(text, n - 1, &v, NULL, 0), JSON_OK, "%s", text);
    cr_expect_str_eq(json_string(json_object_get(v, "image"), NULL), tp("in/b\xff.png"));
    json_free(v);
    free(text);
    explain_in(tp("out"), 1);
    text = read_file(tp("out/results.jsonl"), NULL);
    cr_expect_eq(count_lines(text), 1, "--resume redid nothing: %s", text);
    free(text);
    run_result r = runf("merge -o %s %s", tp("merged.jsonl"), tp("out/results.jsonl"));
    cr_assert_eq(r.status, 0, "%s", r.err);
    text = read_file(tp("merged.jsonl"), NULL);
    cr_expect(text && count_lines(text) == 1 && strstr(text, "b\\udcff.png"), "merge keeps it: %s", text);
    free(text);
}

/* `pixab explain -w MODEL -m METHODS --batch 1 [--resume] -o tmp/OUT tmp/in`, with
 * overlays and the contact sheet, which must succeed. */
static void explain_sheet(const char *out, const char *methods, int resume) {
    run_result r = runf("explain -w %s -m %s --batch 1%s -o %s %s", MODEL, methods, resume ? " --resume" : "", tp(out),
                        tp("in"));
    cr_assert_eq(r.status, 0, "%s", r.err);
}

/* OUT/contact_sheet.png is byte for byte the sheet of one uninterrupted run
 * (tmp/full), and 3 rows high (contact_sheet.h: a 28 px header, rows of 160
 * + 4 px), whichever run explained which image. */
static void expect_sheet_of_whole_run(const char *out) {
    char rel[64];
    snprintf(rel, sizeof rel, "%s/contact_sheet.png", out);
    size_t n = 0, m = 0;
    char *got = read_file(tp(rel), &n), *want = read_file(tp("full/contact_sheet.png"), &m);
    cr_assert(got && want && n > 24 && m > 24);
    const unsigned char *ihdr = (const unsigned char *)got + 16;
    const long h = (long)ihdr[4] << 24 | (long)ihdr[5] << 16 | ihdr[6] << 8 | ihdr[7];
    cr_expect_eq(h, 28 + 3 * (160 + 4), "%s: %ld px high, not 3 rows", rel, h);
    cr_expect(n == m && !memcmp(got, want, n), "%s differs from the sheet of one whole run", rel);
    free(got);
    free(want);
}

/* After --resume, the contact sheet shows the run's first images in input
 * order, whichever run explained them: images done before are read back
 * (out1: a and b done, then 0.png, first in input order, added), and so are
 * the methods done before for an image explained now (out2: activation done
 * for all three, gradcam added). Both equal the sheet of one whole run. */
Test(results, resume_contact_sheet_shows_the_runs_first_images) {
    mkdirs("in");
    copy_file(DATA "test299.png", tp("in/a.png"));
    copy_file(DATA "small53x37.png", tp("in/b.png"));
    explain_sheet("out1", "activation,gradcam", 0);
    copy_file(DATA "small53x37.png", tp("in/0.png"));
    explain_sheet("out1", "activation,gradcam", 1);
    explain_sheet("out2", "activation", 0);
    explain_sheet("out2", "activation,gradcam", 1);
    explain_sheet("full", "activation,gradcam", 0);
    char *text = read_file(tp("out1/results.jsonl"), NULL);
    cr_assert(text && count_lines(text) == 6 && strstr(text, "/0.png") > strstr(text, "/b.png"),
              "0.png explained by the second run: %s", text);
    free(text);
    expect_sheet_of_whole_run("out1");
    expect_sheet_of_whole_run("out2");
}
