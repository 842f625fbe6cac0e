/* report_data.c — reads what `pixab report` shows from an output directory:
 * results.jsonl (lines grouped by image, the last line of an image x method
 * winning, as for --resume and merge), runs.jsonl (explain's runs and their
 * failures) and metrics.csv (an eval run). Foreign, torn and unparseable
 * lines are skipped and counted; nothing read is trusted to be UTF-8. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "report_data.h"
#include "results.h"

static char *copy_n(const char *s, size_t n) {
    char *c = malloc(n + 1);
    if (c) memcpy(c, s, n), c[n] = '\0';
    return c;
}

/* A string member without NUL bytes (a file name cannot hold one), or NULL. */
static const char *text_of(const json_value *o, const char *key, size_t *len) {
    size_t n;
    const char *s = json_string(json_object_get(o, key), &n);
    if (!s || strlen(s) != n) return NULL;
    if (len) *len = n;
    return s;
}

static double number_or_nan(const json_value *o, const char *key) {
    double v;
    return json_number(json_object_get(o, key), &v) ? v : NAN;
}

/* The index of name in names[0, *n), added when missing and there is room;
 * -1 when full, -2 when out of memory. */
static int intern(char **names, int *n, int max, const char *name) {
    for (int k = 0; k < *n; k++)
        if (!strcmp(names[k], name)) return k;
    if (*n == max) return -1;
    if (!(names[*n] = copy_n(name, strlen(name)))) return -2;
    return (*n)++;
}

static const char *base_name(const char *path) {
    const char *b = path ? strrchr(path, '/') : NULL;
    return b ? b + 1 : path;
}

/* ---- results.jsonl -------------------------------------------------------------- */

/* Keep the line text[0, len) when it is a results line: 1 kept, 0 skipped, -1 out of memory. */
static int add_result(report_data *d, size_t *cap, const char *text, size_t len, size_t seq) {
    json_value *v;
    json_status js = json_parse(text, len, &v, NULL, 0);
    if (js == JSON_ERR_NOMEM) return -1;
    if (js) return 0;
    size_t n_image, n_method;
    const char *image = text_of(v, "image", &n_image), *method = text_of(v, "method", &n_method);
    const char *layer = text_of(v, "layer", NULL), *label = text_of(v, "label", NULL);
    const char *kind = text_of(v, "score_kind", NULL);
    const char *png = base_name(text_of(v, "png", NULL)), *npy = base_name(text_of(v, "map", NULL));
    int rc = 0, m = image && method ? intern(d->methods, &d->n_methods, REPORT_MAX_METHODS, method) : -1;
    int l = m >= 0 ? intern(d->layers, &d->n_layers, REPORT_MAX_LAYERS, layer ? layer : "") : -1;
    if (m == -2 || l == -2) rc = -1;
    if (m >= 0 && l >= 0 && d->n_lines == *cap) {
        size_t c = *cap ? 2 * *cap : 1024;
        report_line *p = realloc(d->lines, sizeof *p * c);
        if (p) d->lines = p, *cap = c;
        else rc = -1;
    }
    if (m >= 0 && l >= 0 && !rc) {
        /* One block: image, label, kind, png, npy. */
        const char *src[5] = {image, label, kind, png, npy};
        size_t total = 0, sz[5];
        for (int k = 0; k < 5; k++) total += sz[k] = src[k] ? strlen(src[k]) + 1 : 0;
        char *block = malloc(total ? total : 1), *at = block;
        const char *dst[5] = {NULL};
        for (int k = 0; block && k < 5; k++)
            if (src[k]) dst[k] = memcpy(at, src[k], sz[k]), at += sz[k];
        double cls = number_or_nan(v, "class"), score = number_or_nan(v, "score");
        d->lines[d->n_lines] = (report_line){
            .image = dst[0], .label = dst[1], .kind = dst[2], .png = dst[3], .npy = dst[4], .method = m,
            .layer = l, .cls = cls >= 0 && cls < 1e9 && cls == floor(cls) ? (int)cls : -1,
            .has_score = !isnan(score), .score = score, .ms = number_or_nan(v, "ms"),
            .shared_ms = number_or_nan(v, "shared_ms"), .seq = seq};
        if (block) d->n_lines++, d->layer_lines[l]++;
        else rc = -1;
    }
    json_free(v);
    return rc ? -1 : m >= 0 && l >= 0;
}

static int by_image_then_seq(const void *a, const void *b) {
    const report_line *x = *(report_line *const *)a, *y = *(report_line *const *)b;
    int c = strcmp(x->image, y->image);
    return c ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

static int by_first_seq(const void *a, const void *b) {
    const report_image *x = a, *y = b;
    return (x->first_seq > y->first_seq) - (x->first_seq < y->first_seq);
}

/* The lines into images: each image's lines by method (the last one wins),
 * the images in the order of their first lines. -1 when out of memory. */
static int group_images(report_data *d) {
    report_line **order = malloc(sizeof *order * (d->n_lines ? d->n_lines : 1));
    d->images = calloc(d->n_lines ? d->n_lines : 1, sizeof *d->images);
    d->by_name = malloc(sizeof *d->by_name * (d->n_lines ? d->n_lines : 1));
    if (!order || !d->images || !d->by_name) return free(order), -1;
    for (size_t k = 0; k < d->n_lines; k++) order[k] = &d->lines[k];
    qsort(order, d->n_lines, sizeof *order, by_image_then_seq);
    for (size_t k = 0; k < d->n_lines; k++) {
        const report_line *ln = order[k];
        if (!k || strcmp(order[k - 1]->image, ln->image)) {
            d->images[d->n_images] = (report_image){.first_seq = ln->seq};
            d->by_name[d->n_images++] = ln->image;
        }
        report_image *im = &d->images[d->n_images - 1];
        im->last = ln;
        im->map[ln->method] = ln;
    }
    free(order);
    qsort(d->images, d->n_images, sizeof *d->images, by_first_seq);
    return 0;
}

int report_data_has_image(const report_data *d, const char *image) {
    size_t lo = 0, hi = d->n_images;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(d->by_name[mid], image);
        if (!c) return 1;
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return 0;
}

/* ---- runs.jsonl ---------------------------------------------------------------------- */

static char *text_copy(const json_value *o, const char *key) {
    size_t n;
    const char *s = text_of(o, key, &n);
    return copy_n(s ? s : "", s ? n : 0);
}

/* A runs.jsonl line: 1 kept, 0 skipped, -1 out of memory. */
static int add_run(report_data *d, size_t *cap, const char *text, size_t len) {
    json_value *v;
    json_status js = json_parse(text, len, &v, NULL, 0);
    if (js == JSON_ERR_NOMEM) return -1;
    if (js || !json_is(v, JSON_OBJECT) || !text_of(v, "model", NULL)) return json_free(v), 0;
    int rc = 0;
    if (d->n_runs == *cap) {
        size_t c = *cap ? 2 * *cap : 16;
        report_run *p = realloc(d->runs, sizeof *p * c);
        if (p) d->runs = p, *cap = c;
        else rc = -1;
    }
    const json_value *methods = json_object_get(v, "methods"), *fails = json_object_get(v, "failures");
    size_t mlen = 0;
    for (size_t k = 0; k < json_count(methods); k++) {
        const char *s = json_string(json_array_get(methods, k), NULL);
        mlen += (s ? strlen(s) : 0) + 1;
    }
    char *mjoin = rc ? NULL : calloc(mlen + 1, 1);
    for (size_t k = 0; mjoin && k < json_count(methods); k++) {
        const char *s = json_string(json_array_get(methods, k), NULL);
        if (k) strcat(mjoin, ",");
        strcat(mjoin, s ? s : "");
    }
    bool interrupted = false;
    json_bool(json_object_get(v, "interrupted"), &interrupted);
    report_run r = {text_copy(v, "time"), text_copy(v, "model"), text_copy(v, "layer"), text_copy(v, "device"),
                    mjoin, number_or_nan(v, "images"), number_or_nan(v, "failed"), number_or_nan(v, "seconds"),
                    number_or_nan(v, "images_per_s"), interrupted};
    if (rc || !r.time || !r.model || !r.layer || !r.device || !r.methods) {
        free(r.time), free(r.model), free(r.layer), free(r.device), free(r.methods);
        return json_free(v), -1;
    }
    d->runs[d->n_runs++] = r;
    size_t nf = json_count(fails);
    char **in = realloc(d->fail_input, sizeof *in * (d->n_fail + nf + 1));
    if (in) d->fail_input = in;
    char **why = realloc(d->fail_reason, sizeof *why * (d->n_fail + nf + 1));
    if (why) d->fail_reason = why;
    for (size_t k = 0; k < nf && in && why && !rc; k++) {
        const json_value *f = json_array_get(fails, k);
        if (!text_of(f, "input", NULL)) continue;
        in[d->n_fail] = text_copy(f, "input"), why[d->n_fail] = text_copy(f, "reason");
        if (in[d->n_fail] && why[d->n_fail]) d->n_fail++;
        else free(in[d->n_fail]), free(why[d->n_fail]), rc = -1;
    }
    json_free(v);
    return in && why && !rc ? 1 : -1;
}

/* ---- metrics.csv ----------------------------------------------------------------------- */

/* A row "method,task,metric,value,n": 1 kept, 0 skipped (the header, other
 * lines), -1 out of memory. */
static int add_metric(report_data *d, size_t *cap, const char *text, size_t len) {
    const char *f[5];
    size_t n[5], at = 0;
    for (int k = 0; k < 5; k++) {
        if (at > len) return 0;
        const char *comma = memchr(text + at, ',', len - at);
        f[k] = text + at;
        n[k] = (comma ? (size_t)(comma - text) : len) - at;
        at += n[k] + 1;
        if ((k < 4) != (comma != NULL)) return 0; /* not five fields */
    }
    char num[2][64];
    double val[2];
    for (int k = 0; k < 2; k++) {
        char *end;
        if (n[3 + k] == 0 || n[3 + k] >= sizeof num[k]) return 0;
        memcpy(num[k], f[3 + k], n[3 + k]), num[k][n[3 + k]] = '\0';
        val[k] = strtod(num[k], &end);
        if (*end) return 0; /* the header's "value", or garbage */
    }
    if (d->n_metrics == *cap) {
        size_t c = *cap ? 2 * *cap : 64;
        report_metric *p = realloc(d->metrics, sizeof *p * c);
        if (!p) return -1;
        d->metrics = p, *cap = c;
    }
    report_metric r = {copy_n(f[0], n[0]), copy_n(f[1], n[1]), copy_n(f[2], n[2]), val[0], val[1]};
    if (!r.method || !r.task || !r.metric) return free(r.method), free(r.task), free(r.metric), -1;
    d->metrics[d->n_metrics++] = r;
    return 1;
}

/* ---- files ------------------------------------------------------------------------------ */

typedef int (*line_fn)(report_data *d, size_t *cap, const char *text, size_t len, size_t seq);

static int result_line(report_data *d, size_t *cap, const char *text, size_t len, size_t seq) {
    return add_result(d, cap, text, len, seq);
}
static int run_line(report_data *d, size_t *cap, const char *text, size_t len, size_t seq) {
    return add_run(d, cap, text, len);
}
static int metric_line(report_data *d, size_t *cap, const char *text, size_t len, size_t seq) {
    return add_metric(d, cap, text, len);
}

/* Each complete line of OUTDIR/name through fn (a torn last line, without
 * its newline, is skipped). *present: the file exists. Returns the lines
 * skipped, or -1 with the reason in why. */
static long read_lines(report_data *d, const char *outdir, const char *stem, const char *ext, line_fn fn,
                       int *present, char *why, size_t cap) {
    char *path = cli_out_path(outdir, stem, NULL, ext);
    if (!path) return snprintf(why, cap, "out of memory"), -1;
    FILE *f = fopen(path, "rb");
    *present = f != NULL;
    if (!f && errno == ENOENT) return free(path), 0;
    if (!f) {
        snprintf(why, cap, "cannot read '%s': %s", path, strerror(errno));
        return free(path), -1;
    }
    char *line = NULL;
    size_t lcap = 0, seq = 0, items = 0;
    long skipped = 0;
    ssize_t got;
    int rc = 0;
    errno = 0;
    while (!rc && (got = getline(&line, &lcap, f)) >= 0) {
        size_t n = (size_t)got;
        if (strspn(line, " \t\r\n") == n) continue;
        int kept = line[n - 1] == '\n' ? fn(d, &items, line, n - 1 - (n > 1 && line[n - 2] == '\r'), seq++) : 0;
        if (kept < 0) rc = -1, errno = ENOMEM;
        skipped += !kept;
    }
    if (rc || ferror(f)) snprintf(why, cap, "cannot read '%s': %s", path, strerror(errno ? errno : EIO));
    int bad = rc || ferror(f);
    free(line);
    fclose(f);
    free(path);
    return bad ? -1 : skipped;
}

int report_data_read(report_data *d, const char *outdir, char *why, size_t cap) {
    memset(d, 0, sizeof *d);
    int runs;
    long skipped = read_lines(d, outdir, "results", "jsonl", result_line, &d->has_results, why, cap);
    if (skipped < 0) return -1;
    d->skipped = (size_t)skipped;
    if (group_images(d)) return snprintf(why, cap, "out of memory"), -1;
    if (read_lines(d, outdir, "runs", "jsonl", run_line, &runs, why, cap) < 0) return -1;
    return read_lines(d, outdir, "metrics", "csv", metric_line, &d->has_metrics, why, cap) < 0 ? -1 : 0;
}

void report_data_free(report_data *d) {
    for (size_t k = 0; k < d->n_lines; k++) free((char *)d->lines[k].image);
    free(d->lines);
    free(d->images);
    free(d->by_name);
    for (int k = 0; k < d->n_methods; k++) free(d->methods[k]);
    for (int k = 0; k < d->n_layers; k++) free(d->layers[k]);
    for (size_t k = 0; k < d->n_runs; k++) {
        report_run *r = &d->runs[k];
        free(r->time), free(r->model), free(r->layer), free(r->device), free(r->methods);
    }
    free(d->runs);
    for (size_t k = 0; k < d->n_fail; k++) free(d->fail_input[k]), free(d->fail_reason[k]);
    free(d->fail_input), free(d->fail_reason);
    for (size_t k = 0; k < d->n_metrics; k++)
        free(d->metrics[k].method), free(d->metrics[k].task), free(d->metrics[k].metric);
    free(d->metrics);
    memset(d, 0, sizeof *d);
}
