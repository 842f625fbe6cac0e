/* merge.c — `pixab merge`: the results.jsonl files of a sharded `pixab explain`
 * run (one per machine, GPU or job) as one file. Torn and unparseable lines are
 * skipped and counted; a line repeating an earlier (image, method, layer, map)
 * replaces it (the last one wins, as after a --resume); the output is sorted by
 * (image, method, layer, map) so the same inputs give the same bytes whatever
 * the shard order, and it appears atomically (cli_write_file). Lines are
 * copied byte for byte: merge never rewrites a field. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "cli.h"
#include "commands.h"
#include "json.h"
#include "outputs.h"

typedef struct {
    const char *out; /* -o */
    int verbose;     /* -v */
} merge_args;

static const cli_option merge_options[] = {
    {"-o", "--output", CLI_STRING, offsetof(merge_args, out), "FILE", "the merged file (required)", 0, 0, NULL},
    {"-v", "--verbose", CLI_FLAG, offsetof(merge_args, verbose), NULL,
     "print a summary line even when nothing was skipped", 0, 0, NULL},
    {"-h", "--help", CLI_LINE, 0, NULL, "this text", 0, 0, NULL},
    {0},
};

static const cli_command merge_command = {
    "pixab merge",
    "usage: pixab merge -o MERGED.jsonl [-v] RESULTS.jsonl...\n"
    "\n"
    "Merge the results.jsonl files of a sharded `pixab explain` run (--shard I/N, one output\n"
    "directory per shard) into one. Every complete line that is a JSON object with string fields\n"
    "\"image\", \"method\", \"layer\" and \"map\" is kept byte for byte; a torn last line (no newline,\n"
    "e.g. a killed job) or any other line is skipped, reported on stderr and counted. When two\n"
    "lines share (image, method, layer, map), the later one wins (inputs in the order given, lines\n"
    "in file order). The output is sorted by (image, method, layer, map), byte-wise, and written\n"
    "under a temporary name then renamed, so MERGED.jsonl may also be one of the inputs.\n"
    "The \"map\" and \"png\" paths are kept as the shards wrote them.\n"
    "\n",
    "\n"
    "Exit status: 0 all lines merged; 1 some lines skipped (the rest is written); 2 bad usage or a\n"
    "file that cannot be read or written (nothing written).\n",
    {{merge_options, 0}, {NULL, 0}},
    1,
};

/* At most this many skipped lines are named on stderr; the summary counts all. */
enum { MAX_REPORTED = 10 };

/* One kept line: its bytes (with the newline) and its key fields, which point
 * into a private copy (the JSON tree is freed right after the line is read). */
typedef struct {
    char *text;       /* the line, '\n'-terminated, not NUL-terminated */
    size_t len;       /* bytes of text, the newline included */
    const char *key[4]; /* image, method, layer, map */
    size_t key_len[4];
    size_t seq;       /* position over all inputs: the later one wins */
} merge_line;

typedef struct {
    merge_line *v;
    size_t n, cap;
    size_t read, skipped, dropped;
} merge_set;

static const char *const key_names[4] = {"image", "method", "layer", "map"};

static int key_cmp(const merge_line *a, const merge_line *b) {
    for (int k = 0; k < 4; k++) {
        size_t n = a->key_len[k] < b->key_len[k] ? a->key_len[k] : b->key_len[k];
        int c = memcmp(a->key[k], b->key[k], n);
        if (c) return c;
        if (a->key_len[k] != b->key_len[k]) return a->key_len[k] < b->key_len[k] ? -1 : 1;
    }
    return 0;
}

/* Key order, then input order: equal keys end up adjacent, the last one last. */
static int line_cmp(const void *pa, const void *pb) {
    const merge_line *a = pa, *b = pb;
    int c = key_cmp(a, b);
    return c ? c : (a->seq > b->seq) - (a->seq < b->seq);
}

static void skip_line(merge_set *s, const char *path, long lineno, const char *why) {
    if (s->skipped++ < MAX_REPORTED) fprintf(stderr, "pixab merge: %s:%ld: skipped: %s\n", path, lineno, why);
}

/* Keep text[0, len) (its newline included) if it is a results line. Returns -1
 * when out of memory, else 0 (kept or skipped). */
static int add_line(merge_set *s, const char *path, long lineno, const char *text, size_t len) {
    json_value *v;
    char jerr[128];
    json_status js = json_parse(text, len - 1, &v, jerr, sizeof jerr);
    if (js == JSON_ERR_NOMEM) return -1;
    if (js != JSON_OK) {
        skip_line(s, path, lineno, jerr);
        return 0;
    }
    const char *str[4];
    size_t slen[4], total = len;
    for (int k = 0; k < 4; k++) {
        if (!(str[k] = json_string(json_object_get(v, key_names[k]), &slen[k]))) {
            char why[64];
            snprintf(why, sizeof why, "no string \"%s\"", key_names[k]);
            skip_line(s, path, lineno, why);
            json_free(v);
            return 0;
        }
        total += slen[k];
    }
    if (s->n == s->cap) {
        size_t c2 = s->cap ? 2 * s->cap : 1024;
        merge_line *p = realloc(s->v, sizeof *p * c2);
        if (!p) return json_free(v), -1;
        s->v = p, s->cap = c2;
    }
    /* One block: the line, then the four key strings. */
    char *block = malloc(total);
    if (!block) return json_free(v), -1;
    merge_line *ml = &s->v[s->n];
    memcpy(block, text, len);
    ml->text = block, ml->len = len, ml->seq = s->read;
    char *at = block + len;
    for (int k = 0; k < 4; k++) {
        memcpy(at, str[k], slen[k]);
        ml->key[k] = at, ml->key_len[k] = slen[k];
        at += slen[k];
    }
    s->n++;
    json_free(v);
    return 0;
}

/* Read one input. Returns 0, or -1 after printing why (unreadable, out of memory). */
static int read_input(merge_set *s, const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "pixab merge: cannot open '%s': %s\n", path, strerror(errno));
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    long lineno = 0;
    ssize_t got;
    int rc = 0;
    errno = 0;
    while (!rc && (got = getline(&line, &cap, f)) >= 0) {
        size_t n = (size_t)got;
        lineno++;
        s->read++;
        size_t blank = strspn(line, " \t\r\n");
        if (blank == n) { /* an empty line carries nothing: not counted */
            s->read--;
            continue;
        }
        if (line[n - 1] != '\n')
            skip_line(s, path, lineno, "torn line (no newline at the end of the file)");
        else if (add_line(s, path, lineno, line, n))
            rc = -1, errno = ENOMEM;
    }
    if (!rc && ferror(f)) rc = -1;
    if (rc) fprintf(stderr, "pixab merge: cannot read '%s': %s\n", path, strerror(errno ? errno : EIO));
    free(line);
    fclose(f);
    return rc;
}

/* Sort, drop all but the last of equal keys, and write. -1 after printing why. */
static int write_merged(merge_set *s, const char *out) {
    if (s->n > 1) qsort(s->v, s->n, sizeof *s->v, line_cmp);
    size_t total = 0, kept = 0;
    for (size_t k = 0; k < s->n; k++) {
        if (k + 1 < s->n && !key_cmp(&s->v[k], &s->v[k + 1])) {
            free(s->v[k].text);
            s->v[k].text = NULL;
            s->dropped++;
            continue;
        }
        s->v[kept++] = s->v[k];
        total += s->v[k].len;
    }
    s->n = kept;
    char *buf = malloc(total ? total : 1), *at = buf, why[4200];
    if (!buf) {
        fprintf(stderr, "pixab merge: out of memory\n");
        return -1;
    }
    for (size_t k = 0; k < s->n; k++) memcpy(at, s->v[k].text, s->v[k].len), at += s->v[k].len;
    int rc = cli_write_file(out, buf, total, why, sizeof why);
    if (rc) fprintf(stderr, "pixab merge: %s\n", why);
    free(buf);
    return rc;
}

int cmd_merge(int argc, char **argv) {
    merge_args a = {0};
    int n_in = 0;
    char **in = calloc((size_t)argc, sizeof *in);
    if (!in) return CLI_FATAL;
    int r = cli_parse(&merge_command, argc, argv, &a, in, &n_in);
    if (r <= 0) return free(in), r < 0 ? CLI_FATAL : CLI_OK;
    const char *out = a.out;
    if (!out || !*out || !n_in) {
        fprintf(stderr, "pixab merge: %s (see pixab merge --help)\n",
                !out || !*out ? "-o MERGED.jsonl is required" : "no input files given");
        return free(in), CLI_FATAL;
    }

    merge_set s = {0};
    int status = CLI_FATAL;
    for (int k = 0; k < n_in; k++)
        if (read_input(&s, in[k])) goto done;
    if (write_merged(&s, out)) goto done;
    if (s.skipped > MAX_REPORTED)
        fprintf(stderr, "pixab merge: ... and %zu more skipped lines\n", s.skipped - MAX_REPORTED);
    if (a.verbose || s.skipped)
        fprintf(stderr, "pixab merge: %zu lines from %d files: %zu written to %s, %zu duplicates dropped, %zu skipped\n",
                s.read, n_in, s.n, out, s.dropped, s.skipped);
    status = s.skipped ? CLI_PARTIAL : CLI_OK;
done:
    for (size_t k = 0; k < s.n; k++) free(s.v[k].text);
    free(s.v);
    free(in);
    return status;
}
