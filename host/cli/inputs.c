/* inputs.c — the image list of a run: files named on the command line plus the
 * image files found by walking the directories named (deterministic order), and
 * a unique output stem for each. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "inputs.h"

#define INPUTS_MAX_PATH 4096

static const char *const image_exts[] = {"jpg", "jpeg", "png", "bmp", "tga", "gif"};

static int ascii_casecmp(const char *a, const char *b) {
    for (;; a++, b++) {
        int x = tolower((unsigned char)*a), y = tolower((unsigned char)*b);
        if (x != y || !x) return x - y;
    }
}

int cli_is_image_name(const char *name) {
    const char *dot = strrchr(name, '.');
    if (!dot || dot == name) return 0;
    for (size_t k = 0; k < sizeof image_exts / sizeof image_exts[0]; k++)
        if (!ascii_casecmp(dot + 1, image_exts[k])) return 1;
    return 0;
}

static int inputs_push(cli_inputs *in, const char *path) {
    if (in->n == in->cap) {
        int cap = in->cap ? 2 * in->cap : 64;
        char **p = realloc(in->paths, sizeof(char *) * (size_t)cap);
        if (!p) return -1;
        in->paths = p;
        in->cap = cap;
    }
    char *copy = malloc(strlen(path) + 1);
    if (!copy) return -1;
    strcpy(copy, path);
    in->paths[in->n++] = copy;
    return 0;
}

static int cmp_path(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Join dir and name into buf; 0 when it does not fit. */
static int join_path(char *buf, size_t cap, const char *dir, const char *name) {
    size_t n = strlen(dir);
    int r = snprintf(buf, cap, "%s%s%s", dir, n && dir[n - 1] == '/' ? "" : "/", name);
    return r > 0 && (size_t)r < cap;
}

static int is_skipped(const cli_inputs *in, const struct stat *st) {
    return in->skip_set && (unsigned long long)st->st_dev == in->skip_dev &&
           (unsigned long long)st->st_ino == in->skip_ino;
}

void cli_inputs_skip_dir(cli_inputs *in, const char *dir) {
    struct stat st;
    in->skip_set = !stat(dir, &st) && S_ISDIR(st.st_mode);
    in->skip_dev = in->skip_set ? (unsigned long long)st.st_dev : 0;
    in->skip_ino = in->skip_set ? (unsigned long long)st.st_ino : 0;
}

/* An input that failed: its line ("pixab: " and the message) on stderr,
 * counted, and recorded with in->failures. -1 when out of memory. */
static int input_failed(cli_inputs *in, const char *path, const char *fmt, ...) {
    char line[INPUTS_MAX_PATH * 2] = "pixab: ";
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line + 7, sizeof line - 7, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s\n", line);
    in->failed++;
    return in->failures ? cli_failures_add(in->failures, path, line) : 0;
}

/* A file input (st: what it is): taken when regular, else reported and counted. */
static int push_regular(cli_inputs *in, const char *path, const struct stat *st) {
    if (S_ISREG(st->st_mode)) return inputs_push(in, path);
    return input_failed(in, path, "'%s' is not a regular file (a FIFO or a device): skipped", cli_shown(path));
}

/* Append the image files under dir (recursively). The entries are read and the
 * directory closed before descending, so the depth of the tree does not cost
 * open descriptors. */
static int inputs_walk(cli_inputs *in, const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return input_failed(in, dir, "cannot read directory '%s': %s", cli_shown(dir), strerror(errno));
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    struct dirent *ent;
    while ((errno = 0, ent = readdir(d))) {
        if (ent->d_name[0] == '.') continue; /* ".", "..", hidden files and directories */
        if (n == cap) {
            size_t c = cap ? 2 * cap : 32;
            char **p = realloc(names, sizeof(char *) * c);
            if (!p) { rc = -1; break; }
            names = p;
            cap = c;
        }
        if (!(names[n] = malloc(strlen(ent->d_name) + 1))) { rc = -1; break; }
        strcpy(names[n++], ent->d_name);
    }
    if (!rc && errno) rc = input_failed(in, dir, "cannot read directory '%s': %s", cli_shown(dir), strerror(errno));
    closedir(d);
    char path[INPUTS_MAX_PATH];
    for (size_t k = 0; k < n && !rc; k++) {
        struct stat st;
        if (!join_path(path, sizeof path, dir, names[k])) {
            rc = input_failed(in, dir, "path too long: '%s/%s'", cli_shown(dir), cli_shown(names[k]));
            continue;
        }
        if (lstat(path, &st)) continue; /* vanished meanwhile */
        if (S_ISDIR(st.st_mode)) {
            if (!is_skipped(in, &st)) rc = inputs_walk(in, path);
        } else if (cli_is_image_name(names[k])) {
            /* Symlinks to files are taken, symlinks to directories are not followed
             * (no cycles); dangling links and special files are reported. */
            if (S_ISLNK(st.st_mode) && stat(path, &st)) {
                rc = input_failed(in, path, "'%s' is a dangling symbolic link", cli_shown(path));
            } else if (!S_ISDIR(st.st_mode)) {
                rc = push_regular(in, path, &st);
            }
        }
    }
    for (size_t k = 0; k < n; k++) free(names[k]);
    free(names);
    return rc;
}

int cli_inputs_collect(cli_inputs *in, char *const *args, int n_args) {
    for (int a = 0; a < n_args; a++) {
        struct stat st;
        if (stat(args[a], &st)) {
            if (input_failed(in, args[a], "cannot open '%s': %s", cli_shown(args[a]), strerror(errno))) return -1;
            continue;
        }
        if (!S_ISDIR(st.st_mode)) {
            if (push_regular(in, args[a], &st)) return -1;
            continue;
        }
        if (is_skipped(in, &st)) continue; /* the output directory itself */
        int first = in->n;
        if (inputs_walk(in, args[a])) return -1;
        if (in->n - first > 1) qsort(in->paths + first, (size_t)(in->n - first), sizeof(char *), cmp_path);
    }
    return 0;
}

/* ---- stems ------------------------------------------------------------------ */

/* Open-addressing set of lower-cased stems. */
typedef struct {
    char **slot;
    size_t mask;
} stem_set;

static uint64_t fnv1a(const char *s, size_t n) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

/* 1 if present, else inserts (taking ownership of key) and returns 0. */
static int stem_set_add(stem_set *set, char *key) {
    for (size_t i = fnv1a(key, strlen(key)) & set->mask;; i = (i + 1) & set->mask) {
        if (!set->slot[i]) {
            set->slot[i] = key;
            return 0;
        }
        if (!strcmp(set->slot[i], key)) return 1;
    }
}

/* Stems longer than this many bytes are shortened: an output name is the stem
 * plus ".<method>.npy" and, while written, ".tmp.<pid>.<n>", all within a
 * file name's 255 bytes (NAME_MAX). */
#define STEM_MAX 160

/* File name without directories and without its last extension, as Python's
 * PurePath.stem: "a/b.tar.gz" -> "b.tar", ".png" -> ".png", "noext" -> "noext".
 * A stem over STEM_MAX bytes keeps its first bytes (whole UTF-8 characters)
 * and ends in "~" and 16 hex digits of a hash of the whole stem: the same
 * file name always gives the same stem. out: STEM_MAX + 1 bytes. */
static void base_stem(const char *path, char *out) {
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    size_t len = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    if (!len) base = "image", len = 5;
    if (len <= STEM_MAX) {
        memcpy(out, base, len);
        out[len] = '\0';
        return;
    }
    const uint64_t h = fnv1a(base, len);
    size_t keep = STEM_MAX - 17;
    while (keep && ((unsigned char)base[keep] & 0xC0) == 0x80) keep--; /* not inside a UTF-8 character */
    memcpy(out, base, keep);
    snprintf(out + keep, STEM_MAX + 1 - keep, "~%016llx", (unsigned long long)h);
}

int cli_inputs_stems(cli_inputs *in) {
    size_t cap = 16;
    while (cap < 2 * (size_t)in->n + 16) cap *= 2;
    stem_set set = {calloc(cap, sizeof(char *)), cap - 1};
    int rc = set.slot ? 0 : -1;
    if (!rc && !(in->stems = calloc((size_t)in->n + 1, sizeof(char *)))) rc = -1;
    for (int k = 0; k < in->n && !rc; k++) {
        char stem[STEM_MAX + 1], cand[STEM_MAX + 16];
        base_stem(in->paths[k], stem);
        for (unsigned suffix = 1;; suffix++) {
            if (suffix == 1)
                snprintf(cand, sizeof cand, "%s", stem);
            else
                snprintf(cand, sizeof cand, "%s-%u", stem, suffix);
            char *key = malloc(strlen(cand) + 1);
            if (!key) { rc = -1; break; }
            for (size_t i = 0;; i++) {
                key[i] = (char)tolower((unsigned char)cand[i]);
                if (!cand[i]) break;
            }
            if (stem_set_add(&set, key)) {
                free(key);
                continue;
            }
            if (!(in->stems[k] = malloc(strlen(cand) + 1))) { rc = -1; break; }
            strcpy(in->stems[k], cand);
            break;
        }
    }
    if (set.slot)
        for (size_t i = 0; i < cap; i++) free(set.slot[i]);
    free(set.slot);
    return rc;
}

void cli_inputs_free(cli_inputs *in) {
    for (int k = 0; k < in->n; k++) {
        free(in->paths[k]);
        if (in->stems) free(in->stems[k]);
    }
    free(in->paths);
    free(in->stems);
    memset(in, 0, sizeof *in);
}
