/* explain.c — `pixab explain`: CAM maps for image files and directories. Per
 * image and method: OUTDIR/<stem>.<method>.npy (float32 (H_l, W_l) in [0,1]),
 * OUTDIR/<stem>.<method>.png (jet overlay at the image's size) and one line in
 * OUTDIR/results.jsonl; at the end OUTDIR/contact_sheet.png (contact_sheet.c).
 * All methods of an image share one body forward. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "json.h"
#include "npy.h"

static const char usage[] =
    "usage: pixab explain -w MODEL [-m METHOD[,METHOD...]] [-l LAYER] [-c CLASS] [--score softmax|logit]\n"
    "                     [--boxes 1x1,1x2,2x1,2x2] [--device D] [-o OUTDIR] [--batch N] [--no-png] INPUT...\n"
    "INPUTs are image files (taken whatever their extension) or directories, walked recursively for\n"
    "*.jpg *.jpeg *.png *.bmp *.tga *.gif (any case; hidden entries and symlinked directories skipped),\n"
    "each directory in sorted path order. For every image and method it writes\n"
    "  OUTDIR/<stem>.<method>.npy   the map, float32 [H, W] at the layer's resolution, values in [0,1]\n"
    "  OUTDIR/<stem>.<method>.png   jet heat-map of the upsampled map over the image (alpha 0.5), image size\n"
    "  OUTDIR/results.jsonl         one JSON line: {\"image\",\"method\",\"layer\",\"class\",\"score\",\n"
    "                               \"score_kind\",\"map\",\"png\",\"ms\",\"shared_ms\"} (+\"label\" when known)\n"
    "and at the end\n"
    "  OUTDIR/contact_sheet.png     the first 16 images explained by this run, in run order: a row each\n"
    "                               with the image's stem and class, the image and its overlays (160 px high)\n"
    "<stem> is the file name without its extension; when two inputs share a stem (ignoring case), the\n"
    "later one in input order gets \"-2\", \"-3\", ... Files appear atomically; a line is appended to\n"
    "results.jsonl only after its files are complete.\n"
    "  -m, --method LIST    comma-separated methods, or all (default pixab): pixab, ablation,\n"
    "                       activation, gradcam, gradcampp, xgradcam, scorecam\n"
    "  -l, --layer NAME     target layer (default Mixed_7c); any block or stem layer with spatial extent\n"
    "  -c, --class C        class to explain: index, or name when the checkpoint names its classes\n"
    "                       (default: each image's top-1 prediction)\n"
    "  --score KIND         softmax or logit (default: each method's own: softmax for pixab, ablation\n"
    "                       and scorecam, logit for gradcam, gradcampp and xgradcam; activation uses no\n"
    "                       score, its line reports the softmax)\n"
    "  --boxes LIST         Pixab-CAM boxes HxW (default 1x1,1x2,2x1,2x2)\n"
    "  -o, --outdir DIR     output directory, created if missing (default pixab-out)\n"
    "  --no-png             write no overlays and no contact sheet\n"
    "  --shard I/N          process only the images whose index in the full input list is I mod N\n"
    "                       (stems are computed on the full list, so shards never collide)\n"
    "  --resume             do only what is missing: an image x method is skipped when results.jsonl\n"
    "                       has its line (same map file and layer) and its files exist\n"
    "%s"
    "--batch is also how many masked images Score-CAM runs per forward pass.\n"
    "Progress goes to stderr when it is a terminal, or with -v. A bad image is reported on stderr and\n"
    "skipped; the exit status is then 1. Usage errors and failures to write outputs exit with 2.\n";

typedef struct {
    cli_model_opts mo;
    pixab_method methods[PIXAB_METHOD_COUNT];
    int n_methods;
    const char *layer, *cls, *outdir;
    pixab_explain_opts eo;
    int png, resume;
    long shard_i, shard_n;
} explain_args;

/* ---- output paths and results.jsonl ------------------------------------------- */

/* OUTDIR/<stem>.<method>.<ext> */
static char *out_path(const char *outdir, const char *stem, const char *method, const char *ext) {
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

/* write() all of buf; with O_APPEND one call puts the line at the end in one piece. */
static int write_all(int fd, const char *buf, size_t n) {
    while (n) {
        ssize_t k = write(fd, buf, n);
        if (k < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        buf += k;
        n -= (size_t)k;
    }
    return 0;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* What results.jsonl says is done, for --resume: the sorted keys "MAP\x1fLAYER"
 * of its complete lines (a torn or foreign line is ignored). The layer is part
 * of the key because the file names do not carry it. */
typedef struct {
    char **keys;
    size_t n;
} done_set;

static char *done_key(const char *map, const char *layer) {
    size_t n = strlen(map) + strlen(layer) + 2;
    char *k = malloc(n);
    if (k) snprintf(k, n, "%s\x1f%s", map, layer);
    return k;
}

static int done_load(int fd, done_set *d) {
    memset(d, 0, sizeof *d);
    struct stat st;
    if (fstat(fd, &st)) return -1;
    size_t size = (size_t)st.st_size, got = 0, cap = 0;
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
    for (char *line = text; *line && !rc;) {
        char *nl = strchr(line, '\n');
        if (!nl) break; /* no newline: torn */
        json_value *v;
        if (json_parse(line, (size_t)(nl - line), &v, NULL, 0) == JSON_OK) {
            const char *map = json_string(json_object_get(v, "map"), NULL);
            const char *layer = json_string(json_object_get(v, "layer"), NULL);
            if (map && layer && d->n == cap) {
                char **p = realloc(d->keys, sizeof(char *) * (cap ? 2 * cap : 256));
                if (p) d->keys = p, cap = cap ? 2 * cap : 256;
                else rc = -1;
            }
            if (map && layer && !rc && !(d->keys[d->n++] = done_key(map, layer))) d->n--, rc = -1;
            json_free(v);
        }
        line = nl + 1;
    }
    free(text);
    if (!rc && d->n > 1) qsort(d->keys, d->n, sizeof(char *), cmp_str);
    return rc;
}

/* 1 when done, 0 when not, -1 when out of memory. */
static int done_has(const done_set *d, const char *map, const char *layer) {
    if (!d->n) return 0;
    char *key = done_key(map, layer);
    if (!key) return -1;
    int found = bsearch(&key, d->keys, d->n, sizeof(char *), cmp_str) != NULL;
    free(key);
    return found;
}

static void done_free(done_set *d) {
    for (size_t k = 0; k < d->n; k++) free(d->keys[k]);
    free(d->keys);
    memset(d, 0, sizeof *d);
}

/* Open OUTDIR/results.jsonl for appending; if its last line is torn (no final
 * newline, e.g. after a full disk), end it so new lines start clean. */
static int open_results(const char *path) {
    int fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
    if (fd < 0) return -1;
    struct stat st;
    char last;
    if (!fstat(fd, &st) && st.st_size > 0 && pread(fd, &last, 1, st.st_size - 1) == 1 && last != '\n' &&
        write_all(fd, "\n", 1)) {
        close(fd);
        return -1;
    }
    return fd;
}

static const char *score_name(pixab_score s) { return s == PIXAB_SCORE_LOGIT ? "logit" : "softmax"; }

/* Append one results.jsonl line (built in memory, one write()). */
static int write_result(int fd, const pixab_model *m, const char *image, const char *layer, const pixab_map *map,
                        const char *npy, const char *png, double shared_ms) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return -1;
    fputs("{\"image\":", f);
    cli_json_string(f, image);
    fprintf(f, ",\"method\":\"%s\",\"layer\":", pixab_method_name(map->method));
    cli_json_string(f, layer);
    fprintf(f, ",\"class\":%d", map->cls);
    const char *label = pixab_model_class_name(m, map->cls);
    if (label) {
        fputs(",\"label\":", f);
        cli_json_string(f, label);
    }
    if (isfinite(map->score))
        fprintf(f, ",\"score\":%.9g", map->score);
    else
        fputs(",\"score\":null", f);
    fprintf(f, ",\"score_kind\":\"%s\",\"map\":", score_name(map->score_kind));
    cli_json_string(f, npy);
    if (png) {
        fputs(",\"png\":", f);
        cli_json_string(f, png);
    }
    fprintf(f, ",\"ms\":%.3f,\"shared_ms\":%.3f}\n", map->ms, shared_ms);
    int rc = fclose(f) ? -1 : write_all(fd, buf, len), e = errno;
    free(buf);
    errno = e; /* for the caller's message */
    return rc;
}

/* ---- progress ------------------------------------------------------------------ */

typedef struct {
    int on, shown; /* shown: a progress line is on screen without its newline */
    int total;
    double t0, last;
} progress;

/* Put the next stderr line on a line of its own. */
static void progress_break(progress *p) {
    if (p->shown) fputc('\n', stderr);
    p->shown = 0;
}

static void progress_update(progress *p, int done, int final) {
    if (!p->on) return;
    double now = cli_now_s();
    if (!final && now - p->last < 0.25) return;
    p->last = now;
    double rate = done / fmax(now - p->t0, 1e-9);
    fprintf(stderr, "\rpixab: %d/%d images, %.1f images/s, ETA %.0f s   ", done, p->total, rate,
            done ? (p->total - done) / rate : 0.0);
    p->shown = 1;
    if (final) progress_break(p);
    fflush(stderr);
}

/* ---- arguments ------------------------------------------------------------------ */

static int parse_shard(const char *v, long *i, long *n) {
    char *end;
    errno = 0;
    *i = strtol(v, &end, 10);
    if (end != v && *end == '/' && !errno) {
        const char *q = end + 1;
        *n = strtol(q, &end, 10);
        if (end != q && !*end && !errno && *n >= 1 && *i >= 0 && *i < *n) return 0;
    }
    fprintf(stderr, "pixab explain: --shard: '%s' is not I/N with 0 <= I < N\n", v);
    return -1;
}

/* Returns 1 when parsed, 0 after --help, -1 on a usage error (printed). */
static int parse_args(int argc, char **argv, explain_args *a, char **inputs, int *n_inputs) {
    const char *methods = "pixab", *score = NULL, *boxes = NULL, *v;
    int r;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            printf(usage, cli_model_help);
            return 0;
        }
        if ((r = cli_model_flag(argc, argv, &i, &a->mo))) {
            if (r < 0) return -1;
        } else if ((r = cli_flag(argc, argv, &i, "-m", "--method", &v)) ||
                   (r = cli_flag(argc, argv, &i, NULL, "--methods", &v))) {
            if (r < 0) return -1;
            methods = v;
        } else if ((r = cli_flag(argc, argv, &i, "-l", "--layer", &v))) {
            if (r < 0) return -1;
            a->layer = v;
        } else if ((r = cli_flag(argc, argv, &i, "-c", "--class", &v))) {
            if (r < 0) return -1;
            a->cls = v;
        } else if ((r = cli_flag(argc, argv, &i, NULL, "--score", &v))) {
            if (r < 0) return -1;
            score = v;
        } else if ((r = cli_flag(argc, argv, &i, NULL, "--boxes", &v))) {
            if (r < 0) return -1;
            boxes = v;
        } else if ((r = cli_flag(argc, argv, &i, "-o", "--outdir", &v))) {
            if (r < 0) return -1;
            a->outdir = v;
        } else if ((r = cli_flag(argc, argv, &i, NULL, "--shard", &v))) {
            if (r < 0 || parse_shard(v, &a->shard_i, &a->shard_n)) return -1;
        } else if (!strcmp(argv[i], "--no-png")) {
            a->png = 0;
        } else if (!strcmp(argv[i], "--resume")) {
            a->resume = 1;
        } else if (!strcmp(argv[i], "--")) {
            while (++i < argc) inputs[(*n_inputs)++] = argv[i];
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "pixab explain: unknown option '%s' (see pixab explain --help)\n", argv[i]);
            return -1;
        } else {
            inputs[(*n_inputs)++] = argv[i];
        }
    }
    if (cli_methods("pixab explain", methods, a->methods, &a->n_methods)) return -1;
    if (score) {
        if (!strcmp(score, "softmax"))
            a->eo.score = PIXAB_SCORE_SOFTMAX;
        else if (!strcmp(score, "logit"))
            a->eo.score = PIXAB_SCORE_LOGIT;
        else {
            fprintf(stderr, "pixab explain: --score: '%s' is not softmax or logit\n", score);
            return -1;
        }
    }
    if (boxes && pixab_parse_boxes(boxes, &a->eo)) {
        cli_error("explain: --boxes");
        return -1;
    }
    if (!a->outdir[0]) {
        fprintf(stderr, "pixab explain: -o: empty directory name\n");
        return -1;
    }
    if (!*n_inputs) {
        fprintf(stderr, "pixab explain: no inputs given (see pixab explain --help)\n");
        return -1;
    }
    return 1;
}

/* -c: an index in [0, classes), or a class name from the checkpoint. */
static int parse_class(const pixab_model *m, const char *v, int *cls) {
    const int classes = pixab_model_num_classes(m);
    char *end;
    errno = 0;
    long c = strtol(v, &end, 10);
    if (end != v && !*end && !errno) {
        if (c >= 0 && c < classes) {
            *cls = (int)c;
            return 0;
        }
        fprintf(stderr, "pixab explain: -c %s: class out of range (this model has %d classes: 0..%d)\n", v, classes,
                classes - 1);
        return -1;
    }
    for (int k = 0; k < classes; k++) {
        const char *name = pixab_model_class_name(m, k);
        if (name && !strcmp(name, v)) {
            *cls = k;
            return 0;
        }
    }
    fprintf(stderr, "pixab explain: -c %s: not a class index (0..%d)%s\n", v, classes - 1,
            pixab_model_class_name(m, 0) ? " or a class name of this model" : "");
    return -1;
}

/* ---- the run ---------------------------------------------------------------------- */

typedef struct {
    char *npy[PIXAB_METHOD_COUNT], *png[PIXAB_METHOD_COUNT];
} image_outputs;

static void outputs_free(image_outputs *o) {
    for (int k = 0; k < PIXAB_METHOD_COUNT; k++) free(o->npy[k]), free(o->png[k]);
    memset(o, 0, sizeof *o);
}

static int outputs_make(image_outputs *o, const explain_args *a, const char *stem) {
    for (int k = 0; k < a->n_methods; k++) {
        const char *name = pixab_method_name(a->methods[k]);
        if (!(o->npy[k] = out_path(a->outdir, stem, name, "npy"))) return -1;
        if (a->png && !(o->png[k] = out_path(a->outdir, stem, name, "png"))) return -1;
    }
    return 0;
}

/* Bit j set: method j of the run is still to do for this image (--resume: its
 * line is not in results.jsonl or one of its files is missing). */
static int outputs_todo(const image_outputs *o, const explain_args *a, const done_set *done, unsigned *mask) {
    *mask = 0;
    for (int k = 0; k < a->n_methods; k++) {
        int has = done_has(done, o->npy[k], a->layer);
        if (has < 0) return -1;
        if (!has || access(o->npy[k], F_OK) || (o->png[k] && access(o->png[k], F_OK))) *mask |= 1u << k;
    }
    return 0;
}

/* What every image of a run uses. */
typedef struct {
    const explain_args *a;
    const pixab_model *m;
    pixab_engine *e;
    const pixab_preproc *pre;
    float *input;        /* (S, S, 3) */
    int fd;              /* results.jsonl, O_APPEND */
    const char *results; /* its path */
    cli_sheet *sheet;    /* the contact sheet; NULL with --no-png */
    progress prog;
} explain_run;

/* Explain one image with the run's methods selected by mask, write the files
 * and the lines. Returns 0 when done, 1 for a bad image (reported, skipped),
 * -1 when the run cannot go on (reported): the engine or the output directory
 * fails, and so would every later image. */
static int explain_image(explain_run *run, const char *path, const char *stem, unsigned mask) {
    const explain_args *a = run->a;
    pixab_image img = {0};
    pixab_status s = pixab_image_load(path, &img);
    if (s) {
        progress_break(&run->prog);
        cli_error(NULL);
        return 1;
    }
    if ((s = pixab_image_preprocess(&img, run->pre, run->input))) {
        progress_break(&run->prog);
        cli_error(path);
        pixab_image_free(&img);
        return 1;
    }
    pixab_method methods[PIXAB_METHOD_COUNT];
    int sel[PIXAB_METHOD_COUNT], n = 0; /* sel[i]: index in a->methods of methods[i] */
    for (int j = 0; j < a->n_methods; j++)
        if (mask & (1u << j)) sel[n] = j, methods[n++] = a->methods[j];
    pixab_map maps[PIXAB_METHOD_COUNT];
    memset(maps, 0, sizeof maps);
    double t0 = cli_now_s();
    s = pixab_explain(run->e, run->input, methods, n, &a->eo, maps);
    double shared_ms = 1e3 * (cli_now_s() - t0);
    if (s) {
        progress_break(&run->prog);
        fprintf(stderr, "pixab explain: %s: %s\n", path, pixab_last_error());
        pixab_image_free(&img);
        return -1;
    }
    for (int i = 0; i < n; i++) shared_ms -= maps[i].ms;
    image_outputs out = {0};
    int rc = outputs_make(&out, a, stem) ? -1 : 0;
    if (rc) {
        progress_break(&run->prog);
        fprintf(stderr, "pixab explain: out of memory\n");
    }
    /* The contact sheet's row: the image, labelled with its stem and class. */
    int row = -1;
    if (!rc && run->sheet && n) {
        char idx[32];
        const char *label = pixab_model_class_name(run->m, maps[0].cls);
        if (!label) snprintf(idx, sizeof idx, "class %d", maps[0].cls), label = idx;
        row = cli_sheet_add_row(run->sheet, stem, label);
        if (row < -1 || cli_sheet_set(run->sheet, row, 0, img.rgb, img.width, img.height)) {
            progress_break(&run->prog);
            fprintf(stderr, "pixab explain: out of memory\n");
            rc = -1;
        }
    }
    /* Files first, then the line: a line in results.jsonl means its files are complete. */
    for (int i = 0; !rc && i < n; i++) {
        const pixab_map *mp = &maps[i];
        char why[4200];
        const char *npy = out.npy[sel[i]], *png = out.png[sel[i]];
        if (npy_write_f32(npy, mp->map, 2, (int64_t[]){mp->h, mp->w})) {
            progress_break(&run->prog);
            cli_error(NULL);
            rc = -1;
        } else if (png && cli_write_overlay(png, &img, mp->map, mp->h, mp->w, run->sheet, row, 1 + sel[i], why,
                                            sizeof why)) {
            progress_break(&run->prog);
            fprintf(stderr, "pixab explain: %s\n", why);
            rc = -1;
        } else if (write_result(run->fd, run->m, path, a->layer, mp, npy, png, fmax(shared_ms, 0.0))) {
            progress_break(&run->prog);
            fprintf(stderr, "pixab explain: cannot write '%s': %s\n", run->results, strerror(errno));
            rc = -1;
        }
    }
    for (int i = 0; i < n; i++) pixab_map_free(&maps[i]);
    outputs_free(&out);
    pixab_image_free(&img);
    return rc;
}

int cmd_explain(int argc, char **argv) {
    explain_args a = {.mo = {.batch = 8}, .layer = "Mixed_7c", .outdir = "pixab-out", .png = 1, .shard_n = 1};
    a.eo.cls = -1;
    char **args = calloc((size_t)argc, sizeof(char *));
    int n_args = 0;
    if (!args) return CLI_FATAL;
    int r = parse_args(argc, argv, &a, args, &n_args);
    if (r <= 0) {
        free(args);
        return r < 0 ? CLI_FATAL : CLI_OK;
    }

    int status = CLI_FATAL, failed = 0;
    cli_inputs in = {0};
    done_set done = {0};
    pixab_model *m = NULL;
    char *results = NULL, *sheet = NULL;
    unsigned char *todo = NULL; /* (in.n) methods still to do per image (outputs_todo bits); 0: none */
    explain_run run = {.a = &a, .fd = -1};
    /* Everything that can fail on the arguments fails before the inputs are read
     * and before OUTDIR is touched. */
    if (!(run.m = m = cli_load_model(&a.mo))) goto done;
    if ((a.eo.layer = cli_layer("pixab explain", m, a.layer)) < 0) goto done;
    if (a.cls && parse_class(m, a.cls, &a.eo.cls)) goto done;
    if (cli_inputs_collect(&in, args, n_args) || cli_inputs_stems(&in)) goto oom;
    failed = in.failed;
    if (!in.n) {
        if (!failed) fprintf(stderr, "pixab explain: no image files found in the inputs\n");
        status = failed ? CLI_PARTIAL : CLI_FATAL;
        goto done;
    }
    if (!(run.e = cli_create_engine(m, &a.mo))) goto done;
    run.pre = pixab_model_preproc(m);
    run.input = malloc(sizeof(float) * (size_t)run.pre->size * run.pre->size * 3);
    todo = calloc((size_t)in.n, 1);
    if (!run.input || !todo || !(results = out_path(a.outdir, "results", NULL, "jsonl"))) goto oom;
    if (a.png && (!(sheet = out_path(a.outdir, "contact_sheet", NULL, "png")) ||
                  !(run.sheet = cli_sheet_new(a.methods, a.n_methods))))
        goto oom;

    int err = cli_make_dirs(a.outdir);
    if (err) {
        fprintf(stderr, "pixab explain: cannot create output directory '%s': %s\n", a.outdir, strerror(err));
        goto done;
    }
    run.results = results;
    if ((run.fd = open_results(results)) < 0) {
        fprintf(stderr, "pixab explain: cannot write '%s': %s\n", results, strerror(errno));
        goto done;
    }
    if (a.resume && done_load(run.fd, &done)) {
        fprintf(stderr, "pixab explain: cannot read '%s': %s\n", results, strerror(errno));
        goto done;
    }

    /* The images of this shard, and what --resume leaves to do. */
    int n_todo = 0, n_done = 0;
    for (int k = 0; k < in.n; k++) {
        if (k % a.shard_n != a.shard_i) continue;
        todo[k] = (unsigned char)((1u << a.n_methods) - 1);
        if (a.resume) {
            image_outputs out = {0};
            unsigned mask = 0;
            int rc = outputs_make(&out, &a, in.stems[k]) || outputs_todo(&out, &a, &done, &mask);
            todo[k] = (unsigned char)mask;
            outputs_free(&out);
            if (rc) goto oom;
        }
        if (todo[k]) n_todo++;
        else n_done++;
    }
    if (a.mo.verbose && (a.resume || a.shard_n > 1))
        fprintf(stderr, "pixab explain: %d image(s) to do, %d already done (shard %ld/%ld of %d inputs)\n", n_todo,
                n_done, a.shard_i, a.shard_n, in.n);
    run.prog.on = n_todo > 1 && (a.mo.verbose || isatty(STDERR_FILENO));
    run.prog.total = n_todo;
    run.prog.t0 = run.prog.last = cli_now_s();

    int finished = 0;
    for (int k = 0; k < in.n; k++) {
        if (!todo[k]) continue;
        int rc = explain_image(&run, in.paths[k], in.stems[k], todo[k]);
        if (rc < 0) goto done;
        failed += rc;
        finished++;
        progress_update(&run.prog, finished, finished == n_todo);
    }
    if (cli_sheet_rows(run.sheet)) {
        char why[4200];
        if (cli_sheet_write(run.sheet, sheet, why, sizeof why)) {
            fprintf(stderr, "pixab explain: %s\n", why);
            goto done;
        }
    }
    if (a.mo.verbose)
        fprintf(stderr, "pixab explain: %d image(s), %d failed, %.3f s, outputs in %s%s%s\n", finished, failed,
                cli_now_s() - run.prog.t0, a.outdir, cli_sheet_rows(run.sheet) ? ", contact sheet " : "",
                cli_sheet_rows(run.sheet) ? sheet : "");
    status = failed ? CLI_PARTIAL : CLI_OK;
    goto done;
oom:
    fprintf(stderr, "pixab explain: out of memory\n");
done:
    progress_break(&run.prog);
    if (run.fd >= 0 && close(run.fd) && status != CLI_FATAL) {
        fprintf(stderr, "pixab explain: cannot write '%s': %s\n", results, strerror(errno));
        status = CLI_FATAL;
    }
    free(results);
    free(sheet);
    cli_sheet_free(run.sheet);
    free(run.input);
    free(todo);
    done_free(&done);
    pixab_engine_destroy(run.e);
    pixab_model_free(m);
    cli_inputs_free(&in);
    free(args);
    return status;
}
