/* results.c — OUTDIR/results.jsonl of `pixab explain`: output paths, lines
 * appended whole (one write() with O_APPEND, so concurrent runs and
 * interruptions never tear or interleave them; a write that fails part way is
 * cut back) and what a file says is done,
 * for --resume. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "json.h"
#include "results.h"

char *cli_out_path(const char *outdir, const char *stem, const char *method, const char *ext) {
    size_t n = strlen(outdir);
    const char *sep = n && outdir[n - 1] == '/' ? "" : "/";
    size_t len = n + strlen(stem) + strlen(method ? method : "") + strlen(ext) + 4;
    char *s = malloc(len);
    if (s) {
        if (method)
            snprintf(s, len, "%s%s%s.%s.%s", outdir, sep, stem, method, ext);
        else
            snprintf(s, len, "%s%s%s.%s", outdir, sep, stem, ext);
    }
    return s;
}

/* Cut the file at fd back by the `done` bytes just appended there (best
 * effort: the failed write's error is what the caller reports). */
static void cut_back(int fd, size_t done) {
    off_t end = lseek(fd, 0, SEEK_CUR);
    if (end >= (off_t)done && ftruncate(fd, end - (off_t)done)) return;
}

/* write() all of buf; with O_APPEND one call puts the line at the end in one
 * piece. Should a write fail after part of it went out (a full disk, a file
 * size limit), the file is cut back to where the line began, so no line is
 * ever torn; -1 with the write's errno. */
int cli_append_whole(int fd, const char *buf, size_t n) {
    size_t done = 0;
    while (done < n) {
        ssize_t k = write(fd, buf + done, n - done);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) {
            int e = k < 0 ? errno : EIO;
            if (done) cut_back(fd, done);
            errno = e;
            return -1;
        }
        done += (size_t)k;
    }
    return 0;
}

static int cmp_entry(const void *a, const void *b) {
    const cli_done_entry *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : (x->line > y->line) - (x->line < y->line);
}

static int cmp_key(const void *key, const void *e) { return strcmp(key, ((const cli_done_entry *)e)->key); }

/* The map's file name (results.jsonl and the maps share the outdir, so its
 * file name names the map however the outdir is spelled: "out", "./out", an
 * absolute path, from another working directory) and the layer, which the
 * file names do not carry. */
static char *done_key(const char *map, const char *layer) {
    const char *base = strrchr(map, '/');
    base = base ? base + 1 : map;
    size_t n = strlen(base) + strlen(layer) + 2;
    char *k = malloc(n);
    if (k) snprintf(k, n, "%s\x1f%s", base, layer);
    return k;
}

int cli_done_load(int fd, cli_done_set *d) {
    memset(d, 0, sizeof *d);
    struct stat st;
    if (fstat(fd, &st)) return -1;
    size_t size = (size_t)st.st_size, got = 0, cap = 0, index = 0;
    char *text = malloc(size + 1);
    if (!text) return -1;
    while (got < size) {
        ssize_t k = pread(fd, text + got, size - got, (off_t)got);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) break;
        got += (size_t)k;
    }
    text[got] = '\0';
    int rc = 0;
    /* Line by line over all got bytes, as merge reads: a NUL byte or garbage
     * (a zero-filled block after a power loss) spoils its own line only. */
    for (char *line = text, *end = text + got; line < end && !rc; index++) {
        char *nl = memchr(line, '\n', (size_t)(end - line));
        if (!nl) break; /* no newline: torn */
        json_value *v;
        if (json_parse(line, (size_t)(nl - line), &v, NULL, 0) == JSON_OK) {
            const char *map = json_string(json_object_get(v, "map"), NULL);
            const char *layer = json_string(json_object_get(v, "layer"), NULL);
            double cls;
            if (map && layer && d->n == cap) {
                cli_done_entry *p = realloc(d->v, sizeof *p * (cap ? 2 * cap : 256));
                if (p) d->v = p, cap = cap ? 2 * cap : 256;
                else rc = -1;
            }
            if (map && layer && !rc) {
                cli_done_entry *e = &d->v[d->n];
                e->cls = json_number(json_object_get(v, "class"), &cls) && cls >= 0 && cls < 1e9 ? (int)cls : -1;
                e->line = index;
                if ((e->key = done_key(map, layer))) d->n++;
                else rc = -1;
            }
            json_free(v);
        }
        line = nl + 1;
    }
    free(text);
    if (!rc && d->n > 1) qsort(d->v, d->n, sizeof *d->v, cmp_entry);
    return rc;
}

/* The last line's entry of (map, layer), or NULL (*nomem when out of memory). */
static const cli_done_entry *done_find(const cli_done_set *d, const char *map, const char *layer, int *nomem) {
    *nomem = 0;
    if (!d->n) return NULL;
    char *key = done_key(map, layer);
    if (!key) return *nomem = 1, NULL;
    const cli_done_entry *e = bsearch(key, d->v, d->n, sizeof *d->v, cmp_key);
    while (e && e + 1 < d->v + d->n && !strcmp(e[1].key, key)) e++;
    free(key);
    return e;
}

int cli_done_has(const cli_done_set *d, const char *map, const char *layer) {
    int nomem;
    const cli_done_entry *e = done_find(d, map, layer, &nomem);
    return nomem ? -1 : e != NULL;
}

int cli_done_class(const cli_done_set *d, const char *map, const char *layer) {
    int nomem;
    const cli_done_entry *e = done_find(d, map, layer, &nomem);
    return e ? e->cls : -1;
}

void cli_done_free(cli_done_set *d) {
    for (size_t k = 0; k < d->n; k++) free(d->v[k].key);
    free(d->v);
    memset(d, 0, sizeof *d);
}

int cli_results_open(const char *path) {
    int fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
    if (fd < 0) return -1;
    struct stat st;
    char last;
    if (!fstat(fd, &st) && st.st_size > 0 && pread(fd, &last, 1, st.st_size - 1) == 1 && last != '\n' &&
        cli_append_whole(fd, "\n", 1)) {
        close(fd);
        return -1;
    }
    return fd;
}


int cli_results_append(int fd, const pixab_model *m, const char *image, const char *layer, const pixab_map *map,
                       const char *npy, const char *png, double shared_ms, const int *wsol_box) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return -1;
    fputs("{\"image\":", f);
    json_write_string(f, image);
    fprintf(f, ",\"method\":\"%s\",\"layer\":", pixab_method_name(map->method));
    json_write_string(f, layer);
    fprintf(f, ",\"class\":%d", map->cls);
    const char *label = pixab_model_class_name(m, map->cls);
    if (label) {
        fputs(",\"label\":", f);
        json_write_string(f, label);
    }
    if (isfinite(map->score))
        fprintf(f, ",\"score\":%.9g", map->score);
    else
        fputs(",\"score\":null", f);
    fprintf(f, ",\"score_kind\":\"%s\",\"map\":", pixab_score_name(map->score_kind));
    json_write_string(f, npy);
    if (png) {
        fputs(",\"png\":", f);
        json_write_string(f, png);
    }
    fprintf(f, ",\"ms\":%.3f,\"shared_ms\":%.3f", map->ms, shared_ms);
    if (wsol_box) fprintf(f, ",\"wsol_box\":[%d,%d,%d,%d]", wsol_box[0], wsol_box[1], wsol_box[2], wsol_box[3]);
    fputs("}\n", f);
    int rc = fclose(f) ? -1 : cli_append_whole(fd, buf, len), e = errno;
    free(buf);
    errno = e; /* for the caller's message */
    return rc;
}
