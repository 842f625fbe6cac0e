/* test_merge_cli.c — `pixab merge` end to end on hand-written shard files:
 * sorted output, the later of two equal (image, method, layer, map) lines
 * kept, torn and foreign lines skipped and counted (exit 1), lines copied byte
 * for byte, the output may be an input, and usage / unreadable-input errors
 * (exit 2, one line, nothing written). Runs the built CLI binary. */
#define _POSIX_C_SOURCE 200809L

#include <criterion/criterion.h>
#include <string.h>

#include "cli_run.h"

static void setup(void) { scratch_make("merge"); }
static void teardown(void) { scratch_remove(); }

/* A results.jsonl line as `pixab explain` writes it, with a marker in "ms". */
#define LINE(img, method, layer, ms)                                                                         \
    "{\"image\":\"" img "\",\"method\":\"" method "\",\"layer\":\"" layer "\",\"class\":3,\"score\":0.5,"  \
    "\"score_kind\":\"softmax\",\"map\":\"out/" img "." method ".npy\",\"ms\":" ms ",\"shared_ms\":1}\n"

TestSuite(merge, .init = setup, .fini = teardown, .timeout = 60);

Test(merge, two_shards_with_overlap_and_torn_line) {
    /* Shard 0 was killed mid-write (torn last line); shard 1 was resumed after
     * it redid b.png/pixab, so its line for it must win. */
    write_text(tp("s0.jsonl"), LINE("img/c.png", "pixab", "Mixed_7c", "1")
                                   LINE("img/a.png", "pixab", "Mixed_7c", "2")
                                   LINE("img/b.png", "pixab", "Mixed_7c", "3")
                                   "{\"image\":\"img/d.png\",\"method\":\"pix");
    write_text(tp("s1.jsonl"), LINE("img/b.png", "gradcam", "Mixed_7c", "4")
                                   LINE("img/b.png", "pixab", "Mixed_7c", "5")
                                   LINE("img/a.png", "pixab", "Mixed_6e", "6")
                                   "not json\n"
                                   "{\"image\":\"img/e.png\",\"method\":\"pixab\"}\n");
    run_result r = runf("merge -o '%s' '%s' '%s'", tp("all.jsonl"), tp("s0.jsonl"), tp("s1.jsonl"));
    cr_assert_eq(r.status, 1, "exit %d: %s", r.status, r.err);
    cr_expect(strstr(r.err, "s0.jsonl:4: skipped: torn line"), "%s", r.err);
    cr_expect(strstr(r.err, "s1.jsonl:4: skipped"), "%s", r.err);
    cr_expect(strstr(r.err, "s1.jsonl:5: skipped: no string \"layer\""), "%s", r.err);
    cr_expect(strstr(r.err, "9 lines from 2 files: 5 written"), "%s", r.err);
    cr_expect(strstr(r.err, "1 duplicates dropped, 3 skipped"), "%s", r.err);

    char *got = read_file(tp("all.jsonl"), NULL);
    cr_assert(got);
    const char *want = LINE("img/a.png", "pixab", "Mixed_6e", "6") LINE("img/a.png", "pixab", "Mixed_7c", "2")
        LINE("img/b.png", "gradcam", "Mixed_7c", "4") LINE("img/b.png", "pixab", "Mixed_7c", "5")
            LINE("img/c.png", "pixab", "Mixed_7c", "1");
    cr_expect_str_eq(got, want);
    free(got);

    /* The same inputs in the other order give the same bytes, except that the
     * duplicate now resolves to shard 0's line (the later input). */
    r = runf("merge -o '%s' '%s' '%s'", tp("rev.jsonl"), tp("s1.jsonl"), tp("s0.jsonl"));
    cr_assert_eq(r.status, 1, "%s", r.err);
    got = read_file(tp("rev.jsonl"), NULL);
    cr_assert(got);
    cr_expect(strstr(got, LINE("img/b.png", "pixab", "Mixed_7c", "3")), "%s", got);
    cr_expect_eq(count_lines(got), 5);
    free(got);
}

Test(merge, clean_inputs_exit_0_and_output_may_be_an_input) {
    write_text(tp("s0.jsonl"), LINE("b", "pixab", "Mixed_7c", "1") "\n");
    write_text(tp("s1.jsonl"), LINE("a", "pixab", "Mixed_7c", "2"));
    run_result r = runf("merge -o '%s' '%s'", tp("all.jsonl"), tp("s0.jsonl"));
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect_str_eq(r.err, "", "quiet without -v");
    /* Fold the next shard into the merged file in place. */
    r = runf("merge -v -o '%s' '%s' '%s'", tp("all.jsonl"), tp("all.jsonl"), tp("s1.jsonl"));
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect(strstr(r.err, "2 lines from 2 files: 2 written"), "%s", r.err);
    char *got = read_file(tp("all.jsonl"), NULL);
    cr_assert(got);
    cr_expect_str_eq(got, LINE("a", "pixab", "Mixed_7c", "2") LINE("b", "pixab", "Mixed_7c", "1"));
    free(got);
    /* Empty inputs give an empty file. */
    write_text(tp("empty.jsonl"), "");
    r = runf("merge -o '%s' '%s'", tp("none.jsonl"), tp("empty.jsonl"));
    cr_assert_eq(r.status, 0, "%s", r.err);
    got = read_file(tp("none.jsonl"), NULL);
    cr_assert(got);
    cr_expect_str_eq(got, "");
    free(got);
}

Test(merge, errors_exit_2_in_one_line_and_write_nothing) {
    write_text(tp("s0.jsonl"), LINE("a", "pixab", "Mixed_7c", "1"));
    const char *cases[][2] = {
        {"merge -o '%s' '%s' '%s/missing.jsonl'", "cannot open"},
        {"merge '%s' '%s' '%s'", "-o MERGED.jsonl is required"},
        {"merge -o '%s' --bogus '%s' '%s'", "unknown option '--bogus'"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        run_result r = runf(cases[k][0], tp("out.jsonl"), tp("s0.jsonl"), tmp);
        cr_expect_eq(r.status, 2, "%s: exit %d", cases[k][0], r.status);
        cr_expect(strstr(r.err, cases[k][1]), "%s: %s", cases[k][0], r.err);
        cr_expect_eq(count_lines(r.err), 1, "%s: %s", cases[k][0], r.err);
        cr_expect(!exists(tp("out.jsonl")), "%s wrote its output", cases[k][0]);
    }
    run_result r = runf("merge -o '%s'", tp("out.jsonl"));
    cr_expect_eq(r.status, 2);
    cr_expect(strstr(r.err, "no input files given"), "%s", r.err);
    /* An output directory that does not exist: nothing half-written anywhere. */
    r = runf("merge -o '%s' '%s'", tp("nodir/out.jsonl"), tp("s0.jsonl"));
    cr_expect_eq(r.status, 2);
    cr_expect(strstr(r.err, "cannot write"), "%s", r.err);
    cr_expect_eq(count_lines(r.err), 1, "%s", r.err);
    r = run("merge --help");
    cr_expect_eq(r.status, 0);
    cr_expect(strstr(r.out, "usage: pixab merge"), "%s", r.out);
}
