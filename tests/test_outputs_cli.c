/* test_outputs_cli.c — what an output path may be (issue #15 item 1): a
 * symlink is followed and the file it names replaced atomically in its own
 * directory (the link kept, a dangling one's file created); a FIFO and
 * /dev/null are written directly and stay what they are; a directory is
 * refused in one line. merge -o and classify --logits, the built CLI binary. */
#define _POSIX_C_SOURCE 200809L

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli_run.h"
#include "npy.h"

#define DATA PIXAB_TEST_DATA "/"
#define MODEL DATA "inception_v3_w8.safetensors"
#define LINE(img)                                                                                             \
    "{\"image\":\"" img "\",\"method\":\"pixab\",\"layer\":\"Mixed_7c\",\"class\":3,\"score\":0.5,"          \
    "\"score_kind\":\"softmax\",\"map\":\"out/" img ".pixab.npy\",\"ms\":1,\"shared_ms\":1}\n"
#define SHARD LINE("b.png") LINE("a.png")
#define MERGED LINE("a.png") LINE("b.png")

static void setup(void) {
    scratch_make("outputs");
    mkdirs("links");
    mkdirs("files");
    write_text(tp("shard.jsonl"), SHARD);
}
static void teardown(void) { scratch_remove(); }

TestSuite(outputs, .init = setup, .fini = teardown, .timeout = 120);

/* Entries of tmp/rel whose name has ".tmp." in it (a temporary file left). */
static int temp_files_in(const char *rel) {
    DIR *d = opendir(tp(rel));
    cr_assert(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));) n += strstr(e->d_name, ".tmp.") != NULL;
    closedir(d);
    return n;
}

static void expect_link(const char *rel, const char *to) {
    struct stat st;
    char got[512];
    cr_assert_eq(lstat(tp(rel), &st), 0);
    cr_expect(S_ISLNK(st.st_mode), "%s is no longer a symlink", rel);
    ssize_t n = readlink(tp(rel), got, sizeof got - 1);
    cr_assert(n > 0);
    got[n] = '\0';
    cr_expect_str_eq(got, to);
}

static void expect_text(const char *rel, const char *want) {
    char *got = read_file(tp(rel), NULL);
    cr_assert(got, "%s missing", rel);
    cr_expect_str_eq(got, want);
    free(got);
}

Test(outputs, symlink_target_replaced_atomically_in_its_own_directory) {
    write_text(tp("files/all.jsonl"), "old\n");
    cr_assert_eq(symlink("../files/all.jsonl", tp("links/all.jsonl")), 0);
    struct stat before, after;
    cr_assert_eq(stat(tp("files/all.jsonl"), &before), 0);
    run_result r = runf("merge -o '%s' '%s'", tp("links/all.jsonl"), tp("shard.jsonl"));
    cr_assert_eq(r.status, 0, "exit %d: %s", r.status, r.err);
    expect_link("links/all.jsonl", "../files/all.jsonl");
    expect_text("files/all.jsonl", MERGED);
    cr_assert_eq(stat(tp("files/all.jsonl"), &after), 0);
    cr_expect(S_ISREG(after.st_mode));
    cr_expect_neq(after.st_ino, before.st_ino, "not replaced by rename");
    cr_expect_eq(temp_files_in("files") + temp_files_in("links"), 0);
}

Test(outputs, logits_through_a_chain_of_symlinks) {
    cr_assert_eq(symlink(tp("files/logits.npy"), tp("links/one.npy")), 0);
    cr_assert_eq(symlink("one.npy", tp("links/two.npy")), 0);
    write_text(tp("files/logits.npy"), "old");
    run_result r = runf("classify -w %s --logits '%s' %stest299.png", MODEL, tp("links/two.npy"), DATA);
    cr_assert_eq(r.status, 0, "exit %d: %s", r.status, r.err);
    expect_link("links/two.npy", "one.npy");
    expect_link("links/one.npy", tp("files/logits.npy"));
    npy_array a;
    cr_assert_eq(npy_read_f32(tp("files/logits.npy"), &a), PIXAB_OK);
    cr_expect_eq(a.ndim, 2);
    npy_free(&a);
    cr_expect_eq(temp_files_in("files") + temp_files_in("links"), 0);
}

Test(outputs, dangling_symlink_creates_the_file_it_names) {
    cr_assert_eq(symlink("../files/new.jsonl", tp("links/new.jsonl")), 0);
    run_result r = runf("merge -o '%s' '%s'", tp("links/new.jsonl"), tp("shard.jsonl"));
    cr_assert_eq(r.status, 0, "exit %d: %s", r.status, r.err);
    expect_link("links/new.jsonl", "../files/new.jsonl");
    expect_text("files/new.jsonl", MERGED);
    cr_expect_eq(temp_files_in("files") + temp_files_in("links"), 0);
}

/* A child that copies the FIFO at tmp/rel into tmp/copy until EOF. */
static pid_t drain(const char *rel, const char *copy) {
    char src[512], dst[512];
    snprintf(src, sizeof src, "%s", tp(rel));
    snprintf(dst, sizeof dst, "%s", tp(copy));
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid) return pid;
    int in = open(src, O_RDONLY), out = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    char buf[4096];
    ssize_t n;
    while (in >= 0 && out >= 0 && (n = read(in, buf, sizeof buf)) > 0)
        if (write(out, buf, (size_t)n) != n) _exit(1);
    _exit(in < 0 || out < 0);
}

/* Wait for the drain; should the CLI not have opened the FIFO, end it. */
static void drained(const char *rel, pid_t pid) {
    int fd = open(tp(rel), O_WRONLY | O_NONBLOCK);
    if (fd >= 0) close(fd);
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

Test(outputs, fifo_receives_the_data_and_stays_a_fifo) {
    cr_assert_eq(mkfifo(tp("files/merged.fifo"), 0600), 0);
    pid_t pid = drain("files/merged.fifo", "files/merged.copy");
    run_result r = runf("merge -o '%s' '%s'", tp("files/merged.fifo"), tp("shard.jsonl"));
    drained("files/merged.fifo", pid);
    cr_assert_eq(r.status, 0, "exit %d: %s", r.status, r.err);
    expect_text("files/merged.copy", MERGED);

    cr_assert_eq(mkfifo(tp("files/logits.fifo"), 0600), 0);
    pid = drain("files/logits.fifo", "files/logits.npy");
    r = runf("classify -w %s --logits '%s' %stest299.png", MODEL, tp("files/logits.fifo"), DATA);
    drained("files/logits.fifo", pid);
    cr_assert_eq(r.status, 0, "exit %d: %s", r.status, r.err);
    npy_array a;
    cr_assert_eq(npy_read_f32(tp("files/logits.npy"), &a), PIXAB_OK);
    npy_free(&a);

    struct stat st;
    cr_assert_eq(stat(tp("files/merged.fifo"), &st), 0);
    cr_expect(S_ISFIFO(st.st_mode));
    cr_assert_eq(stat(tp("files/logits.fifo"), &st), 0);
    cr_expect(S_ISFIFO(st.st_mode));
    cr_expect_eq(temp_files_in("files"), 0);
}

static void expect_dev_null_intact(void) {
    struct stat st;
    cr_assert_eq(lstat("/dev/null", &st), 0);
    cr_expect(S_ISCHR(st.st_mode), "/dev/null is no longer a character device");
}

Test(outputs, dev_null_is_written_and_stays_a_character_device) {
    run_result r = runf("merge -o /dev/null '%s'", tp("shard.jsonl"));
    cr_expect_eq(r.status, 0, "exit %d: %s", r.status, r.err);
    expect_dev_null_intact();
    r = runf("classify -w %s --logits /dev/null %stest299.png", MODEL, DATA);
    cr_expect_eq(r.status, 0, "exit %d: %s", r.status, r.err);
    expect_dev_null_intact();
}

Test(outputs, directory_is_refused_in_one_line) {
    run_result r = runf("merge -o '%s' '%s'", tp("files"), tp("shard.jsonl"));
    cr_expect_eq(r.status, 2, "exit %d: %s", r.status, r.err);
    cr_expect_eq(count_lines(r.err), 1, "%s", r.err);
    cr_expect(strstr(r.err, "Is a directory"), "%s", r.err);
}
