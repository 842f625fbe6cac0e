/* test_memory_cli.c — the memory of images decoded ahead in `pixab explain`
 * (issue #15 item 13): 16-bit RGBA PNGs, small files that decode to 16 bytes
 * a pixel in stb_image, made here (a hand-written deflate stream of zeros),
 * explained on several decode threads; the child's peak resident memory
 * (wait4's ru_maxrss) must stay within the stated bound: the run's memory
 * without them plus --decode-memory, or one image's decode when that alone
 * needs more. Runs the built CLI binary. */
#define _DEFAULT_SOURCE /* wait4 */

#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli_run.h"

#define DATA PIXAB_TEST_DATA "/"
#define MODEL DATA "inception_v3_w8.safetensors"

static void setup(void) { scratch_make("memory"); }
static void teardown(void) { scratch_remove(); }

TestSuite(memory, .init = setup, .fini = teardown, .timeout = 300);

/* ---- a 16-bit RGBA PNG of zeros, w x h ---------------------------------------- */

typedef struct {
    unsigned char *d;
    size_t n, cap;
    unsigned bits, nbits; /* pending bits, LSB first (deflate's order) */
} bitbuf;

static void put_byte(bitbuf *b, unsigned char c) {
    if (b->n == b->cap) {
        b->cap = b->cap ? 2 * b->cap : 1 << 16;
        b->d = realloc(b->d, b->cap);
        cr_assert(b->d);
    }
    b->d[b->n++] = c;
}

/* A Huffman code of len bits, most significant bit first (RFC 1951 3.1.1). */
static void put_code(bitbuf *b, unsigned code, int len) {
    for (int i = len - 1; i >= 0; i--) {
        b->bits |= ((code >> i) & 1u) << b->nbits;
        if (++b->nbits == 8) put_byte(b, (unsigned char)b->bits), b->bits = 0, b->nbits = 0;
    }
}

static void put_be32(bitbuf *b, uint32_t v) {
    for (int i = 3; i >= 0; i--) put_byte(b, (unsigned char)(v >> (8 * i)));
}

static uint32_t crc32_of(const unsigned char *d, size_t n) {
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= d[i];
        for (int k = 0; k < 8; k++) c = c & 1 ? (c >> 1) ^ 0xEDB88320u : c >> 1;
    }
    return c ^ 0xFFFFFFFFu;
}

/* zlib stream of `len` zero bytes: one fixed-Huffman block, a literal 0 then
 * matches of length 258 at distance 1, the rest as literals. */
static void zlib_zeros(bitbuf *b, size_t len) {
    put_byte(b, 0x78), put_byte(b, 0x01);
    put_code(b, 1, 1), put_code(b, 1, 1), put_code(b, 0, 1); /* BFINAL = 1, BTYPE = 01 (LSB first) */
    size_t done = 0;
    if (len) put_code(b, 0x30, 8), done = 1;                   /* literal 0 */
    for (; len - done >= 258; done += 258) put_code(b, 0xC5, 8), put_code(b, 0, 5); /* 285: length 258; distance 1 */
    for (; done < len; done++) put_code(b, 0x30, 8);
    put_code(b, 0, 7); /* end of block */
    if (b->nbits) put_byte(b, (unsigned char)b->bits), b->bits = 0, b->nbits = 0;
    put_be32(b, (uint32_t)((len % 65521u) << 16 | 1u)); /* Adler-32 of zeros: a = 1, b = len */
}

static void chunk(FILE *f, const char *type, const unsigned char *data, size_t n) {
    unsigned char head[8] = {(unsigned char)(n >> 24), (unsigned char)(n >> 16), (unsigned char)(n >> 8),
                             (unsigned char)n};
    memcpy(head + 4, type, 4);
    unsigned char *all = malloc(n + 4);
    cr_assert(all);
    memcpy(all, type, 4);
    if (n) memcpy(all + 4, data, n);
    uint32_t crc = crc32_of(all, n + 4);
    unsigned char tail[4] = {(unsigned char)(crc >> 24), (unsigned char)(crc >> 16), (unsigned char)(crc >> 8),
                             (unsigned char)crc};
    cr_assert(fwrite(head, 1, 8, f) == 8 && (!n || fwrite(data, 1, n, f) == n) && fwrite(tail, 1, 4, f) == 4);
    free(all);
}

static void png16_rgba(const char *path, unsigned w, unsigned h) {
    bitbuf z = {0};
    zlib_zeros(&z, (size_t)h * (1 + (size_t)w * 8)); /* a filter byte, then 8 bytes a pixel, per row */
    unsigned char ihdr[13] = {(unsigned char)(w >> 24), (unsigned char)(w >> 16), (unsigned char)(w >> 8),
                              (unsigned char)w, (unsigned char)(h >> 24), (unsigned char)(h >> 16),
                              (unsigned char)(h >> 8), (unsigned char)h, 16, 6, 0, 0, 0};
    FILE *f = fopen(path, "wb");
    cr_assert(f);
    cr_assert_eq(fwrite("\x89PNG\r\n\x1a\n", 1, 8, f), 8);
    chunk(f, "IHDR", ihdr, sizeof ihdr);
    chunk(f, "IDAT", z.d, z.n);
    chunk(f, "IEND", NULL, 0);
    cr_assert_eq(fclose(f), 0);
    free(z.d);
}

/* ---- the peak resident memory of a run ------------------------------------------- */

/* `pixab explain -w MODEL -m activation --no-png --io-threads T --decode-memory M
 * -o tmp/out INPUT`: its peak resident memory in KiB (exit status 0 asserted). */
static long explain_peak_kib(const char *input, int threads, const char *memory) {
    char out[512], err[512], th[16];
    snprintf(out, sizeof out, "%s", tp("out"));
    snprintf(err, sizeof err, "%s", tp("err"));
    snprintf(th, sizeof th, "%d", threads);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (!pid) {
        int fd = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd < 0 || dup2(fd, 2) < 0) _exit(99);
        setenv("OPENBLAS_CORETYPE", "Haswell", 1);
        /* ASan keeps freed blocks in a quarantine (256 MiB): counted, not in use. */
        setenv("ASAN_OPTIONS", "detect_leaks=0:quarantine_size_mb=0:malloc_context_size=0", 1);
        execl(PIXAB_CLI_PATH, "pixab", "explain", "-w", MODEL, "-m", "activation", "--no-png", "--io-threads", th,
              "--decode-memory", memory, "-o", out, input, (char *)NULL);
        _exit(98);
    }
    int st;
    struct rusage ru;
    cr_assert_eq(wait4(pid, &st, 0, &ru), pid);
    char *text = read_file(err, NULL);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status 0x%x: %s", st, text ? text : "");
    free(text);
    return ru.ru_maxrss;
}

/* Six 16-bit RGBA PNGs of 2048 x 2048 (about 200 KB each, 64 MiB of decoder
 * memory each) on six decode threads, with --decode-memory 32M: each is
 * decoded alone, so the run stays within one image's decode (and, as slack,
 * one image's 12 MiB of RGB) over a run of one small image. Without the
 * bound (4G) the six decodes overlap: 400 MB. */
Test(memory, decode_memory_bounds_the_images_decoded_ahead) {
    enum { N = 6, W = 2048, H = 2048 };
    mkdirs("in");
    for (int i = 0; i < N; i++) {
        char rel[32];
        snprintf(rel, sizeof rel, "in/big%d.png", i);
        png16_rgba(tp(rel), W, H);
    }
    mkdirs("small");
    copy_file(DATA "test299.png", tp("small/a.png"));
    char small[512], big[512];
    snprintf(small, sizeof small, "%s", tp("small"));
    snprintf(big, sizeof big, "%s", tp("in"));
    const long base = explain_peak_kib(small, N, "32M");
    const long peak = explain_peak_kib(big, N, "32M");
    /* stb_image's 16-bit RGBA decode: the inflated rows (a filter byte and 8
     * bytes a pixel) and the 16-bit image (8 bytes a pixel) at once. */
    const double one_decode_kib = ((double)H * (1 + 8.0 * W) + 8.0 * W * H) / 1024.0, rgb_kib = 3.0 * W * H / 1024.0;
    const double bound_kib = one_decode_kib + rgb_kib + 16 * 1024.0; /* 16 MiB for the allocator and stacks */
    cr_expect(peak - base <= bound_kib,
              "peak %ld KiB over a one-image run's %ld KiB: %ld KiB, more than one decode at a time (bound %.0f KiB)",
              peak, base, peak - base, bound_kib);
    /* The control: without the bound the six decodes overlap (at least two
     * more at once), so the bound is what kept the peak down. */
    const long unbounded = explain_peak_kib(big, N, "4G");
    cr_expect(unbounded - peak >= 2 * one_decode_kib,
              "without the bound the peak is %ld KiB, with it %ld KiB: less than two decodes apart", unbounded, peak);
}

Test(memory, help_documents_decode_memory) {
    run_result r = run("explain --help");
    cr_expect_eq(r.status, 0);
    cr_expect(strstr(r.out, "--decode-memory SIZE") && strstr(r.out, "decoded alone"), "%s", r.out);
}
