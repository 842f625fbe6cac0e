/* report.c — `pixab report OUTDIR` (and `explain --report`): a static,
 * offline HTML gallery of an output directory in OUTDIR/report/. index.html
 * holds the run's summary and any eval tables as escaped HTML; the gallery
 * is drawn by report.js from small data files (a page of 50 images each,
 * and a chunked search index), all names in them JSON escaped for <script>.
 * Images and overlays are linked by relative URLs, never copied. */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "args.h"
#include "cli.h"
#include "commands.h"
#include "json.h"
#include "outputs.h"
#include "report.h"
#include "report_assets.h"
#include "report_data.h"
#include "report_escape.h"
#include "results.h"
#include "temp_file.h"

/* Failures listed in index.html at most (runs.jsonl has them all). */
enum { MAX_FAILURES_SHOWN = 1000, MAX_RUNS_SHOWN = 50 };

/* What the writers share. */
typedef struct {
    const char *outdir;
    const report_data *d;
    char *dir, *data;     /* OUTDIR/report, OUTDIR/report/data */
    char *from;           /* OUTDIR/report as an absolute path: where links start */
    char *cwd;            /* relative image paths are taken from here */
    char *why;
    size_t cap;
} report_ctx;

/* ---- files ------------------------------------------------------------------------- */

static int fail_errno(report_ctx *c, const char *path, int e) {
    snprintf(c->why, c->cap, "cannot write '%s': %s", path, strerror(e));
    return -1;
}

/* dir/name, open for writing by the rule of temp_file.h; NULL with why set. */
static FILE *out_open(report_ctx *c, temp_file *t, const char *dir, const char *name) {
    char path[TEMP_FILE_PATH_MAX];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path) {
        fail_errno(c, dir, ENAMETOOLONG);
        return NULL;
    }
    int e = temp_file_open(t, path);
    if (e) fail_errno(c, path, e);
    return e ? NULL : t->f;
}

static int out_close(report_ctx *c, temp_file *t) {
    int e = ferror(t->f) ? (errno ? errno : EIO) : 0;
    e = temp_file_close(t, e);
    return e ? fail_errno(c, t->target, e) : 0;
}

static int write_asset(report_ctx *c, const char *name, const unsigned char *bytes, size_t len) {
    temp_file t;
    FILE *f = out_open(c, &t, c->dir, name);
    if (!f) return -1;
    fwrite(bytes, 1, len, f);
    return out_close(c, &t);
}

/* A number, or null when there is none. */
static void put_number(FILE *f, double v) {
    if (isfinite(v)) fprintf(f, "%.6g", v);
    else fputs("null", f);
}

/* A string for a <script> (JSON, '<' '>' '&' U+2028 U+2029 escaped), shown
 * as report_shown makes it; NULL as null. -1 when out of memory. */
static int put_shown(FILE *f, const char *s) {
    if (!s) return fputs("null", f), 0;
    char *t = report_shown(s);
    if (t) json_write_script_string(f, t);
    free(t);
    return t ? 0 : -1;
}

/* A link (already percent-encoded ASCII) for a <script>; NULL as null. */
static void put_href(FILE *f, const char *href) {
    if (href) json_write_script_string(f, href);
    else fputs("null", f);
}

static const char *base_name(const char *path) {
    const char *b = strrchr(path, '/');
    return b ? b + 1 : path;
}

/* "../NAME": an output of OUTDIR, where results.jsonl is (found by its file
 * name, the rule of --resume); NULL for none. malloc'd; *nomem when out of memory. */
static char *output_href(const char *name, int *nomem) {
    char *h = name ? report_url("../", name) : NULL;
    *nomem |= name && !h;
    return h;
}

/* ---- data/page-NNNNN.js: the images of one page --------------------------------------- */

/* One image as the gallery draws it: {"id","name","src","cls","shared_ms",
 * "maps":[{"m","png","npy","score","kind","ms"}...]}. */
static int put_image(report_ctx *c, FILE *f, size_t id, const report_image *im) {
    const report_line *ln = im->last;
    char *abs = report_abs_path(c->cwd, ln->image), *src = abs ? report_href(c->from, abs) : NULL;
    int nomem = !src;
    fprintf(f, "{\"id\":%zu,\"name\":", id);
    nomem |= put_shown(f, ln->image);
    fputs(",\"src\":", f);
    put_href(f, src);
    fprintf(f, ",\"cls\":%d,\"shared_ms\":", ln->cls);
    put_number(f, ln->shared_ms);
    fputs(",\"maps\":[", f);
    for (int m = 0, first = 1; m < c->d->n_methods; m++) {
        const report_line *mp = im->map[m];
        if (!mp) continue;
        char *png = output_href(mp->png, &nomem), *npy = output_href(mp->npy, &nomem);
        fprintf(f, "%s{\"m\":%d,\"png\":", first ? "" : ",", m);
        put_href(f, png);
        fputs(",\"npy\":", f);
        put_href(f, npy);
        fputs(",\"score\":", f);
        put_number(f, mp->has_score ? mp->score : NAN);
        fputs(",\"kind\":", f);
        nomem |= put_shown(f, mp->kind);
        fputs(",\"ms\":", f);
        put_number(f, mp->ms);
        fputc('}', f);
        free(png), free(npy);
        first = 0;
    }
    fputs("]}", f);
    free(abs), free(src);
    return nomem ? -1 : 0;
}

static int write_page(report_ctx *c, size_t page) {
    char name[64];
    snprintf(name, sizeof name, "page-%05zu.js", page + 1);
    temp_file t;
    FILE *f = out_open(c, &t, c->data, name);
    if (!f) return -1;
    fprintf(f, "pixabPage(%zu,[", page + 1);
    const size_t i0 = page * REPORT_PAGE_SIZE, i1 = i0 + REPORT_PAGE_SIZE < c->d->n_images ? i0 + REPORT_PAGE_SIZE
                                                                                               : c->d->n_images;
    int rc = 0;
    for (size_t i = i0; i < i1 && !rc; i++) {
        fputs(i > i0 ? ",\n" : "\n", f);
        rc = put_image(c, f, i, &c->d->images[i]);
    }
    fputs("]);\n", f);
    if (rc) {
        temp_file_close(&t, ENOMEM);
        return snprintf(c->why, c->cap, "out of memory"), -1;
    }
    return out_close(c, &t);
}

/* ---- data/index-NNN.js: what the filters, sorts and search read ---------------------- */

/* {"name":[file names],"cls":[...],"mask":[methods present, a bit each],"score":[[per image] per method]}. */
static int write_chunk(report_ctx *c, size_t chunk) {
    const report_data *d = c->d;
    char name[64];
    snprintf(name, sizeof name, "index-%03zu.js", chunk);
    temp_file t;
    FILE *f = out_open(c, &t, c->data, name);
    if (!f) return -1;
    const size_t i0 = chunk * REPORT_CHUNK_SIZE,
                 i1 = i0 + REPORT_CHUNK_SIZE < d->n_images ? i0 + REPORT_CHUNK_SIZE : d->n_images;
    int rc = 0;
    fprintf(f, "pixabIndex(%zu,{\"name\":[", chunk);
    for (size_t i = i0; i < i1 && !rc; i++) {
        if (i > i0) fputc(',', f);
        rc = put_shown(f, base_name(d->images[i].last->image));
    }
    fputs("],\n\"cls\":[", f);
    for (size_t i = i0; i < i1; i++) fprintf(f, "%s%d", i > i0 ? "," : "", d->images[i].last->cls);
    fputs("],\n\"mask\":[", f);
    for (size_t i = i0; i < i1; i++) {
        unsigned long mask = 0;
        for (int m = 0; m < d->n_methods; m++) mask |= (unsigned long)(d->images[i].map[m] != NULL) << m;
        fprintf(f, "%s%lu", i > i0 ? "," : "", mask);
    }
    fputs("],\n\"score\":[", f);
    for (int m = 0; m < d->n_methods; m++) {
        fputs(m ? "],\n[" : "[", f);
        for (size_t i = i0; i < i1; i++) {
            const report_line *mp = d->images[i].map[m];
            if (i > i0) fputc(',', f);
            put_number(f, mp && mp->has_score ? mp->score : NAN);
        }
    }
    fputs(d->n_methods ? "]]});\n" : "]});\n", f);
    if (rc) {
        temp_file_close(&t, ENOMEM);
        return snprintf(c->why, c->cap, "out of memory"), -1;
    }
    return out_close(c, &t);
}

/* 1 and *k when name is exactly PREFIX, `digits` digits, ".js". */
static int numbered(const char *name, const char *prefix, size_t digits, size_t *k) {
    const size_t n = strlen(prefix);
    if (strncmp(name, prefix, n) || strlen(name) != n + digits + 3 || strcmp(name + n + digits, ".js")) return 0;
    *k = 0;
    for (size_t i = n; i < n + digits; i++) {
        if (name[i] < '0' || name[i] > '9') return 0;
        *k = 10 * *k + (size_t)(name[i] - '0');
    }
    return 1;
}

/* Remove data/page-N.js for N > pages and data/index-K.js for K >= chunks
 * (an earlier report of more images): only names this writer gives. */
static void remove_stale(report_ctx *c, size_t pages, size_t chunks) {
    DIR *dir = opendir(c->data);
    if (!dir) return;
    struct dirent *e;
    char path[TEMP_FILE_PATH_MAX];
    while ((e = readdir(dir))) {
        size_t k;
        int stale = (numbered(e->d_name, "page-", 5, &k) && k > pages) ||
                    (numbered(e->d_name, "index-", 3, &k) && k >= chunks);
        if (stale && (size_t)snprintf(path, sizeof path, "%s/%s", c->data, e->d_name) < sizeof path) unlink(path);
    }
    closedir(dir);
}

/* ---- index.html ------------------------------------------------------------------------------ */

typedef struct {
    int cls;
    size_t image;
} class_of;

static int by_class(const void *a, const void *b) {
    const class_of *x = a, *y = b;
    return x->cls != y->cls ? (x->cls > y->cls) - (x->cls < y->cls) : (x->image > y->image) - (x->image < y->image);
}

/* The gallery's constants for report.js: {"page_size","chunk_size","images",
 * "pages","chunks","methods","classes":[[cls,label,images]...]}. */
static int put_meta(report_ctx *c, FILE *f, size_t pages, size_t chunks) {
    const report_data *d = c->d;
    int rc = 0;
    fprintf(f, "{\"page_size\":%d,\"chunk_size\":%d,\"images\":%zu,\"pages\":%zu,\"chunks\":%zu,\"methods\":[",
            REPORT_PAGE_SIZE, REPORT_CHUNK_SIZE, d->n_images, pages, chunks);
    for (int m = 0; m < d->n_methods && !rc; m++) {
        if (m) fputc(',', f);
        rc = put_shown(f, d->methods[m]);
    }
    fputs("],\"classes\":[", f);
    /* The classes present, in order, with the label of their first image and their count. */
    class_of *cls = malloc(sizeof *cls * (d->n_images ? d->n_images : 1));
    if (!cls) return -1;
    for (size_t i = 0; i < d->n_images; i++) cls[i] = (class_of){d->images[i].last->cls, i};
    qsort(cls, d->n_images, sizeof *cls, by_class);
    for (size_t i = 0, j; i < d->n_images; i = j) {
        for (j = i; j < d->n_images && cls[j].cls == cls[i].cls; j++) {}
        fprintf(f, "%s[%d,", i ? "," : "", cls[i].cls);
        rc |= put_shown(f, d->images[cls[i].image].last->label);
        fprintf(f, ",%zu]", j - i);
    }
    free(cls);
    fputs("]}", f);
    return rc;
}

static void put_cell(FILE *f, const char *tag, const char *text) {
    fprintf(f, "<%s>", tag);
    report_html(f, text);
    fprintf(f, "</%s>", tag);
}

/* The run: images, methods (mean ms), layers, and what runs.jsonl says:
 * model, device, images/s of each run, the inputs that failed and why. */
static size_t put_summary(report_ctx *c, FILE *f) {
    const report_data *d = c->d;
    fputs("<section id=\"summary\"><h2>Run</h2>\n<dl>\n", f);
    if (d->n_runs) {
        const report_run *r = &d->runs[d->n_runs - 1];
        fputs("<dt>model</dt>", f), put_cell(f, "dd", r->model);
        fputs("\n<dt>device</dt>", f), put_cell(f, "dd", r->device);
        double images = 0, seconds = 0;
        for (size_t k = 0; k < d->n_runs; k++)
            if (isfinite(d->runs[k].images) && isfinite(d->runs[k].seconds))
                images += d->runs[k].images, seconds += d->runs[k].seconds;
        fprintf(f, "\n<dt>images/s</dt><dd>%.2f (%.0f images explained in %.1f s over %zu run%s)</dd>\n",
                seconds > 0 ? images / seconds : 0.0, images, seconds, d->n_runs, d->n_runs == 1 ? "" : "s");
    } else if (d->has_results) {
        fputs("<dt>model, device, images/s</dt><dd>not recorded (no runs.jsonl in this directory)</dd>\n", f);
    }
    if (d->has_results) {
        fprintf(f, "<dt>images</dt><dd>%zu (%zu results lines", d->n_images, d->n_lines);
        if (d->skipped) fprintf(f, "; %zu other lines skipped", d->skipped);
        fputs(")</dd>\n<dt>layer</dt><dd>", f);
        for (int l = 0; l < d->n_layers; l++) {
            if (l) fputs(", ", f);
            report_html(f, d->layers[l]);
            if (d->n_layers > 1) fprintf(f, " (%zu lines)", d->layer_lines[l]);
        }
        fputs("</dd>\n<dt>methods</dt><dd>", f);
        for (int m = 0; m < d->n_methods; m++) {
            double sum = 0;
            size_t n = 0;
            for (size_t k = 0; k < d->n_lines; k++)
                if (d->lines[k].method == m && isfinite(d->lines[k].ms)) sum += d->lines[k].ms, n++;
            if (m) fputs(", ", f);
            report_html(f, d->methods[m]);
            if (n) fprintf(f, " (%.3g ms per image)", sum / (double)n);
        }
        fputs("</dd>\n", f);
    }
    fputs("</dl>\n", f);
    if (d->n_runs) {
        fputs("<table class=\"runs\"><caption>runs (runs.jsonl)</caption>\n<tr><th>time (UTC)</th><th>model</th>"
              "<th>device</th><th>layer</th><th>methods</th><th>images</th><th>failed</th><th>s</th>"
              "<th>images/s</th></tr>\n", f);
        for (size_t k = d->n_runs > MAX_RUNS_SHOWN ? d->n_runs - MAX_RUNS_SHOWN : 0; k < d->n_runs; k++) {
            const report_run *r = &d->runs[k];
            fputs("<tr>", f);
            put_cell(f, "td", r->time), put_cell(f, "td", r->model), put_cell(f, "td", r->device);
            put_cell(f, "td", r->layer), put_cell(f, "td", r->methods);
            fprintf(f, "<td>%.0f</td><td>%.0f</td><td>%.1f</td><td>%.2f%s</td></tr>\n", r->images, r->failed,
                    r->seconds, r->images_per_s, r->interrupted ? " (interrupted)" : "");
        }
        fputs("</table>\n", f);
    }
    /* Failures of inputs that no results line explains (a later run may have). */
    size_t shown = 0, open = 0;
    for (size_t k = 0; k < d->n_fail; k++) open += !report_data_has_image(d, d->fail_input[k]);
    if (open) {
        fprintf(f, "<h3>failed inputs (%zu)</h3>\n<ul class=\"failures\">\n", open);
        for (size_t k = 0; k < d->n_fail && shown < MAX_FAILURES_SHOWN; k++) {
            if (report_data_has_image(d, d->fail_input[k])) continue;
            fputs("<li><span class=\"path\">", f);
            report_html(f, d->fail_input[k]);
            fputs("</span>: ", f);
            report_html(f, d->fail_reason[k]);
            fputs("</li>\n", f);
            shown++;
        }
        if (open > shown) fprintf(f, "<li>… and %zu more (runs.jsonl lists them all)</li>\n", open - shown);
        fputs("</ul>\n", f);
    }
    fputs("</section>\n", f);
    return open;
}

static int exists_in(const char *outdir, const char *stem, const char *ext) {
    char *p = cli_out_path(outdir, stem, NULL, ext);
    int ok = p && !access(p, F_OK);
    free(p);
    return ok;
}

/* The distinct values of field `at` of the metrics of task, in first-seen
 * order, into out (d->n_metrics slots); their count. */
static size_t distinct(const report_data *d, const char *task, size_t at, const char **out) {
    size_t n = 0;
    for (size_t k = 0; k < d->n_metrics; k++) {
        const report_metric *r = &d->metrics[k];
        const char *v = *(char *const *)((const char *)r + at);
        int seen = strcmp(r->task, task) != 0;
        for (size_t j = 0; j < n && !seen; j++) seen = !strcmp(out[j], v);
        if (!seen) out[n++] = v;
    }
    return n;
}

/* The value of (method, task, metric): its last row, or NULL. */
static const report_metric *find_metric(const report_data *d, const char *method, const char *task,
                                        const char *metric) {
    const report_metric *hit = NULL;
    for (size_t k = 0; k < d->n_metrics; k++) {
        const report_metric *r = &d->metrics[k];
        if (!strcmp(r->method, method) && !strcmp(r->task, task) && !strcmp(r->metric, metric)) hit = r;
    }
    return hit;
}

/* metrics.csv as a table per task (methods x metrics: the mean, n on hover),
 * then the plots and the files of the eval run. -1 when out of memory. */
static int put_eval(report_ctx *c, FILE *f) {
    const report_data *d = c->d;
    const size_t n = d->n_metrics ? d->n_metrics : 1;
    const char **tasks = malloc(sizeof *tasks * n), **methods = malloc(sizeof *methods * n),
               **metrics = malloc(sizeof *metrics * n);
    if (!tasks || !methods || !metrics) return free(tasks), free(methods), free(metrics), -1;
    size_t n_tasks = 0;
    for (size_t k = 0; k < d->n_metrics; k++) { /* the tasks, first seen first */
        int seen = 0;
        for (size_t j = 0; j < n_tasks && !seen; j++) seen = !strcmp(tasks[j], d->metrics[k].task);
        if (!seen) tasks[n_tasks++] = d->metrics[k].task;
    }
    fputs("<section id=\"eval\"><h2>Evaluation (metrics.csv)</h2>\n", f);
    for (size_t t = 0; t < n_tasks; t++) {
        size_t rows = distinct(d, tasks[t], offsetof(report_metric, method), methods);
        size_t cols = distinct(d, tasks[t], offsetof(report_metric, metric), metrics);
        fputs("<table class=\"metrics\">", f), put_cell(f, "caption", tasks[t]), fputs("\n<tr><th>method</th>", f);
        for (size_t k = 0; k < cols; k++) put_cell(f, "th", metrics[k]);
        fputs("</tr>\n", f);
        for (size_t r = 0; r < rows; r++) {
            fputs("<tr>", f), put_cell(f, "th", methods[r]);
            for (size_t k = 0; k < cols; k++) {
                const report_metric *hit = find_metric(d, methods[r], tasks[t], metrics[k]);
                if (hit) fprintf(f, "<td title=\"n = %.0f\">%.4g</td>", hit->n, hit->value);
                else fputs("<td>–</td>", f);
            }
            fputs("</tr>\n", f);
        }
        fputs("</table>\n", f);
    }
    free(tasks), free(methods), free(metrics);
    static const char *const plots[] = {"deletion", "insertion", "sanity"};
    for (size_t k = 0; k < sizeof plots / sizeof plots[0]; k++)
        if (exists_in(c->outdir, plots[k], "png"))
            fprintf(f, "<figure class=\"plot\"><img src=\"../%s.png\" alt=\"%s plot\"><figcaption>%s.png</figcaption>"
                       "</figure>\n", plots[k], plots[k], plots[k]);
    static const char *const files[][2] = {{"metrics", "md"}, {"metrics", "csv"}, {"curves", "csv"}};
    fputs("<p class=\"files\">", f);
    for (size_t k = 0; k < sizeof files / sizeof files[0]; k++)
        if (exists_in(c->outdir, files[k][0], files[k][1]))
            fprintf(f, "<a href=\"../%s.%s\">%s.%s</a> ", files[k][0], files[k][1], files[k][0], files[k][1]);
    fputs("</p>\n</section>\n", f);
    return 0;
}

#define PAGER \
    "<nav class=\"pager\"><a class=\"prev\">← previous</a> <span class=\"where\"></span> " \
    "<a class=\"next\">next →</a></nav>\n"
static const char gallery_html[] =
    "<section id=\"gallery\"><h2>Images</h2>\n"
    "<form id=\"controls\" autocomplete=\"off\">\n"
    "<label>class <select id=\"f-class\"><option value=\"\">all</option></select></label>\n"
    "<label>method <select id=\"f-method\"><option value=\"\">all</option></select></label>\n"
    "<label>sort <select id=\"f-sort\"><option value=\"\">results order</option><option value=\"name\">name</option>"
    "<option value=\"score\">score, high first</option><option value=\"score-asc\">score, low first</option>"
    "</select></label>\n"
    "<label>file name <input id=\"f-search\" type=\"search\" placeholder=\"contains\"></label>\n"
    "</form>\n"
    PAGER "<div id=\"rows\"><noscript>The gallery needs JavaScript (the summary above does not).</noscript></div>\n"
    PAGER
    "</section>\n";

static int write_index_html(report_ctx *c, size_t pages, size_t chunks, cli_report_stats *st) {
    temp_file t;
    FILE *f = out_open(c, &t, c->dir, "index.html");
    if (!f) return -1;
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          /* Nothing inline runs and nothing comes from a network, whatever a name holds. */
          "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; script-src 'self' file:; "
          "style-src 'self' file:; img-src 'self' file:\">\n<title>pixab report: ", f);
    report_html(f, c->outdir);
    fputs("</title>\n<link rel=\"stylesheet\" href=\"report.css\">\n"
          "<script type=\"application/json\" id=\"pixab-meta\">", f);
    int rc = put_meta(c, f, pages, chunks);
    fputs("</script>\n<script src=\"report.js\" defer></script>\n</head><body>\n<header><h1>pixab report</h1>"
          "<p class=\"where\">", f);
    report_html(f, c->outdir);
    fputs("</p></header>\n", f);
    if (c->d->has_results || c->d->n_runs) st->failures = put_summary(c, f);
    if (c->d->has_metrics) rc |= put_eval(c, f);
    if (c->d->has_results) fputs(gallery_html, f);
    fputs("</body></html>\n", f);
    if (rc) {
        temp_file_close(&t, ENOMEM);
        return snprintf(c->why, c->cap, "out of memory"), -1;
    }
    return out_close(c, &t);
}

/* The working directory, malloc'd ("/" when it has none, removed); NULL
 * when out of memory. */
static char *current_dir(void) {
    for (size_t n = 4096;; n *= 2) {
        char *b = malloc(n);
        if (!b || getcwd(b, n)) return b;
        int e = errno;
        if (e != ERANGE) return strcpy(b, "/");
        free(b);
    }
}

/* dir/name, malloc'd. */
static char *join(const char *dir, const char *name) {
    size_t n = strlen(dir);
    char *p = malloc(n + strlen(name) + 2);
    if (p) sprintf(p, "%s%s%s", dir, n && dir[n - 1] == '/' ? "" : "/", name);
    return p;
}

/* ---- the whole report ---------------------------------------------------------------------- */

static int report_files(report_ctx *c, cli_report_stats *st) {
    const size_t pages = (c->d->n_images + REPORT_PAGE_SIZE - 1) / REPORT_PAGE_SIZE,
                 chunks = (c->d->n_images + REPORT_CHUNK_SIZE - 1) / REPORT_CHUNK_SIZE;
    int e = cli_make_dirs(c->data);
    if (e) return fail_errno(c, c->data, e);
    for (size_t p = 0; p < pages; p++)
        if (write_page(c, p)) return -1;
    for (size_t k = 0; k < chunks; k++)
        if (write_chunk(c, k)) return -1;
    remove_stale(c, pages, chunks);
    if (write_asset(c, "report.js", report_js, report_js_len) ||
        write_asset(c, "report.css", report_css, report_css_len) || write_index_html(c, pages, chunks, st))
        return -1;
    st->pages = pages;
    return 0;
}

int cli_report_write(const char *outdir, cli_report_stats *st, char *why, size_t cap) {
    memset(st, 0, sizeof *st);
    struct stat sb;
    int e = stat(outdir, &sb) ? errno : S_ISDIR(sb.st_mode) ? 0 : ENOTDIR;
    if (e) {
        snprintf(why, cap, "cannot read directory '%s': %s", outdir, strerror(e));
        return -1;
    }
    report_data d;
    if (report_data_read(&d, outdir, why, cap)) return report_data_free(&d), -1;
    if (!d.has_results && !d.has_metrics) {
        snprintf(why, cap, "'%s' has no results.jsonl (pixab explain) or metrics.csv (pixab eval): nothing to report",
                 outdir);
        return report_data_free(&d), -1;
    }
    report_ctx c = {.outdir = outdir, .d = &d, .why = why, .cap = cap};
    c.dir = join(outdir, "report");
    c.data = c.dir ? join(c.dir, "data") : NULL;
    int rc = -1;
    if (c.dir && c.data && (c.cwd = current_dir())) c.from = report_abs_path(c.cwd, c.dir);
    if (!c.from) snprintf(why, cap, "out of memory");
    else rc = report_files(&c, st);
    st->lines = d.n_lines, st->skipped = d.skipped, st->images = d.n_images, st->metrics = d.n_metrics;
    free(c.dir), free(c.data), free(c.cwd), free(c.from);
    report_data_free(&d);
    return rc;
}

/* ---- pixab report ------------------------------------------------------------------------------ */

typedef struct {
    int verbose;
} report_args;

static const cli_option report_options[] = {
    {"-v", "--verbose", CLI_FLAG, offsetof(report_args, verbose), NULL,
     "say what was written, and how long it took", 0, 0, NULL},
    {"-h", "--help", CLI_LINE, 0, NULL, "this text", 0, 0, NULL},
    {0},
};

static const cli_command report_command = {
    "pixab report",
    "usage: pixab report [-v] OUTDIR\n"
    "\n"
    "A static, offline HTML gallery of a `pixab explain` or `pixab eval` output directory, in\n"
    "OUTDIR/report/ (open OUTDIR/report/index.html in a browser; nothing is fetched from a network):\n"
    "  - the run: model, device, images/s and each run's line (OUTDIR/runs.jsonl), the layer, the\n"
    "    methods and their mean time per image, the inputs that failed with their one-line reasons;\n"
    "  - the images of results.jsonl, 50 a page with previous/next: each image, then its overlay for\n"
    "    every method side by side, with its class, label, score and each method's time; filters by\n"
    "    class and method, sorting by name or score, a search on file names;\n"
    "  - an eval run's metrics.csv as tables, and its plots.\n"
    "Images and overlays are linked, never copied: overlays by their file name in OUTDIR, images by\n"
    "their path in results.jsonl (a relative one taken from the current directory, as explain took\n"
    "it), each as a relative link, so OUTDIR and the images can move together. File names are shown\n"
    "as text only (bytes that are not UTF-8 and control characters as \\xNN). The gallery reads\n"
    "small data files (report/data/: a file per page, and a search index in chunks of 10,000 images),\n"
    "so 100,000 images open as fast as 50. Writing again replaces the report.\n",
    "Exit status: 0 written; 1 written, but some lines of results.jsonl were skipped (torn or not\n"
    "results lines; the count is printed); 2 nothing to report, or a file that cannot be read or written.\n",
    {{report_options, 0}, {NULL, 0}},
    1,
};

int cmd_report(int argc, char **argv) {
    report_args a = {0};
    int n_args = 0;
    char **args = calloc((size_t)argc, sizeof *args), why[4400];
    if (!args) return CLI_FATAL;
    int r = cli_parse(&report_command, argc, argv, &a, args, &n_args);
    if (r <= 0) return free(args), r < 0 ? CLI_FATAL : CLI_OK;
    if (n_args != 1) {
        fprintf(stderr, "pixab report: %s (see pixab report --help)\n",
                n_args ? "one OUTDIR at a time" : "no OUTDIR given");
        return free(args), CLI_FATAL;
    }
    cli_report_stats st;
    double t0 = cli_now_s();
    int rc = cli_report_write(args[0], &st, why, sizeof why);
    if (rc) fprintf(stderr, "pixab report: %s\n", cli_shown(why));
    if (!rc && st.skipped)
        fprintf(stderr, "pixab report: %zu line(s) of results.jsonl skipped (torn, or not results lines)\n",
                st.skipped);
    if (!rc && a.verbose)
        fprintf(stderr, "pixab report: %s/report/index.html: %zu image(s) from %zu line(s), %zu page(s), %zu failed "
                        "input(s), %zu metric(s); %.3f s\n",
                cli_shown(args[0]), st.images, st.lines, st.pages, st.failures, st.metrics, cli_now_s() - t0);
    free(args);
    return rc ? CLI_FATAL : st.skipped ? CLI_PARTIAL : CLI_OK;
}
