/* explain.c — `pixab explain`: CAM maps for image files and directories. Per
 * image and method: OUTDIR/<stem>.<method>.npy (float32 (H_l, W_l) in [0,1]),
 * OUTDIR/<stem>.<method>.png (jet overlay at the image's size) and one line in
 * OUTDIR/results.jsonl (results.c); at the end OUTDIR/contact_sheet.png
 * (contact_sheet.c). All methods of an image share one body forward. Images
 * are decoded ahead on --io-threads threads and the outputs written behind by
 * one more (pipeline.c), so the engine, on the main thread, keeps working;
 * the decoded images, from their decode until written, are held within
 * --decode-memory (each charged its decoder's peak, then its RGB bytes);
 * SIGINT / SIGTERM stop the run between images (interrupt.c). A run goes
 * parse → plan → run → report: explain_parse, explain_plan, explain_images,
 * explain_report. */
#include <errno.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "args.h"
#include "cli.h"
#include "commands.h"
#include "contact_sheet.h"
#include "error.h"
#include "inputs.h"
#include "interrupt.h"
#include "model_opts.h"
#include "npy.h"
#include "outputs.h"
#include "overlay.h"
#include "pipeline.h"
#include "preprocess.cuh"
#include "report.h"
#include "results.h"
#include "run_log.h"
#include "shard.h"
#include "temp_file.h"
#include "wsol.h"

typedef struct {
    cli_model_opts mo;
    cli_method_list methods;  /* -m */
    const char *layer, *cls, *outdir;
    pixab_explain_opts eo;    /* --score, --boxes (layer and class set once the model is loaded) */
    int no_png, resume, report;
    int guided;               /* --guided */
    int wsol;                 /* --wsol */
    float wsol_threshold;     /* --wsol-threshold */
    const char *randomize;    /* --randomize LAYER */
    long seed;                /* --seed */
    cli_shard shard;          /* --shard, else from the environment */
    char shard_from[160];     /* the environment variables that set the shard, for -v */
    size_t max_memory;        /* --max-memory bytes; 0: the engine's default */
    long io_threads;          /* --io-threads */
    size_t decode_memory;     /* --decode-memory bytes */
} explain_args;

static const cli_option explain_options[] = {
    {"-m", "--method", CLI_METHODS, offsetof(explain_args, methods), "LIST",
     "comma-separated methods, or all (default pixab): pixab, ablation,\n"
     "activation, gradcam, gradcampp, xgradcam, scorecam", 0, 0, NULL},
    {NULL, "--methods", CLI_METHODS, offsetof(explain_args, methods), NULL, NULL, 0, 0, NULL},
    {"-l", "--layer", CLI_STRING, offsetof(explain_args, layer), "NAME",
     "target layer (default Mixed_7c); any block or stem layer with spatial extent", 0, 0, NULL},
    {"-c", "--class", CLI_STRING, offsetof(explain_args, cls), "C",
     "class to explain: index, or name when the checkpoint names its classes\n"
     "(default: each image's top-1 prediction)", 0, 0, NULL},
    {NULL, "--score", CLI_SCORE, offsetof(explain_args, eo.score), "KIND",
     "softmax or logit (default: each method's own: softmax for pixab, ablation\n"
     "and scorecam, logit for gradcam, gradcampp and xgradcam; activation uses no\n"
     "score, its line reports the softmax)", 0, 0, NULL},
    {NULL, "--boxes", CLI_BOXES, offsetof(explain_args, eo), "LIST",
     "Pixab-CAM boxes HxW (default 1x1,1x2,2x1,2x2)", 0, 0, NULL},
    {"-o", "--outdir", CLI_STRING, offsetof(explain_args, outdir), "DIR",
     "output directory, created if missing (default pixab-out)", 0, 0, NULL},
    {NULL, "--no-png", CLI_FLAG, offsetof(explain_args, no_png), NULL,
     "write no overlays and no contact sheet", 0, 0, NULL},
    {NULL, "--guided", CLI_FLAG, offsetof(explain_args, guided), NULL,
     "also the guided maps: OUTDIR/<stem>.<method>.guided.npy, float32 [S, S, 3] =\n"
     "guided backpropagation of the class logit to the input times the upsampled\n"
     "map, and .guided.png (per channel (G - mean)/(std + 1e-5) * 0.1 + 0.5 clipped\n"
     "to [0,1]; not with --no-png); one guided backward per image", 0, 0, NULL},
    {NULL, "--wsol", CLI_FLAG, offsetof(explain_args, wsol), NULL,
     "localisation boxes: \"wsol_box\": [x0, y0, x1, y1] (image pixels, x1/y1\n"
     "exclusive) in each results line and drawn on the overlay: the bounding box\n"
     "of the largest 8-connected region of the map, upsampled to the image's size,\n"
     "at >= T times its max", 0, 0, NULL},
    {NULL, "--wsol-threshold", CLI_CUSTOM, offsetof(explain_args, wsol_threshold), "T",
     "the fraction T in [0, 1] of --wsol (default 0.2)", 0, 0, cli_wsol_threshold},
    {NULL, "--randomize", CLI_STRING, offsetof(explain_args, randomize), "LAYER",
     "explain with the model's layers from LAYER up to the logits randomised\n"
     "(cascading randomisation, Adebayo et al.: as pixab eval's sanity step LAYER,\n"
     "the same weights for the same --seed)", 0, 0, NULL},
    {NULL, "--seed", CLI_INT, offsetof(explain_args, seed), "S",
     "the seed of --randomize (default 1, as pixab eval)", 0, 1L << 62, NULL},
    {NULL, "--shard", CLI_CUSTOM, offsetof(explain_args, shard), "I/N",
     "process only the images whose index in the full input list is I mod N\n"
     "(stems are computed on the full list, so shards never collide). Without it,\n"
     "the shard comes from the environment when set: a Kubernetes Indexed Job's\n"
     "JOB_COMPLETION_INDEX with the count in PIXAB_SHARD_COUNT (the manifest sets it\n"
     "to the Job's completions; JOB_COMPLETION_COUNT is also read), or a Slurm\n"
     "array's SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT (less\n"
     "SLURM_ARRAY_TASK_MIN, over SLURM_ARRAY_TASK_STEP, when set)",
     0, 0, cli_shard_parse},
    {NULL, "--resume", CLI_FLAG, offsetof(explain_args, resume), NULL,
     "do only what is missing: an image x method is skipped when results.jsonl\n"
     "has its line (same map file and layer) and its files exist", 0, 0, NULL},
    {NULL, "--report", CLI_FLAG, offsetof(explain_args, report), NULL,
     "at the end, also OUTDIR/report/index.html: a browsable HTML gallery of\n"
     "OUTDIR, as pixab report writes it", 0, 0, NULL},
    {NULL, "--max-memory", CLI_SIZE, offsetof(explain_args, max_memory), "SIZE",
     "memory for the explanation batches (ablated copies of an image's activation\n"
     "through the network's head), e.g. 512M or 2G (K, M, G, T: binary units).\n"
     "Default: 256M on the CPU; on CUDA half the GPU memory free after the model\n"
     "is loaded, at most 8G. The maps differ only by rounding; larger is faster", 0, 0, NULL},
    {NULL, "--io-threads", CLI_INT, offsetof(explain_args, io_threads), "N",
     "threads decoding images ahead of the engine (default 2; one more writes\n"
     "the outputs behind it); 0 does everything in turn on one thread",
     0, 64, NULL},
    {NULL, "--decode-memory", CLI_SIZE, offsetof(explain_args, decode_memory), "SIZE",
     "memory for the images decoded ahead of the engine and held until their\n"
     "outputs are written (default 1G): each counts its decoder's peak from the\n"
     "file's header while it decodes (a 16-bit RGBA PNG about 16 bytes a pixel),\n"
     "then 3 bytes a pixel; an image over the limit is decoded alone", 0, 0, NULL},
    {0},
};

static const cli_command explain_command = {
    "pixab explain",
    "usage: pixab explain -w MODEL [-m METHOD[,METHOD...]] [-l LAYER] [-c CLASS] [--score softmax|logit]\n"
    "                     [--boxes 1x1,1x2,2x1,2x2] [--device D] [-o OUTDIR] [--batch N] [--no-png] [--guided]\n"
    "                     [--wsol] [--wsol-threshold T] [--randomize LAYER [--seed S]]\n"
    "                     [--shard I/N] [--resume] [--report] [--max-memory SIZE] [--io-threads N]\n"
    "                     [--decode-memory SIZE] [-v] INPUT...\n"
    "INPUTs are image files (taken whatever their extension) or directories, walked recursively for\n"
    "*.jpg *.jpeg *.png *.bmp *.tga *.gif (any case; hidden entries and symlinked directories skipped),\n"
    "each directory in sorted path order. For every image and method it writes\n"
    "  OUTDIR/<stem>.<method>.npy   the map, float32 [H, W] at the layer's resolution, values in [0,1]\n"
    "  OUTDIR/<stem>.<method>.png   jet heat-map of the upsampled map over the image (alpha 0.5), image size\n"
    "  OUTDIR/results.jsonl         one JSON line: {\"image\",\"method\",\"layer\",\"class\",\"score\",\n"
    "                               \"score_kind\",\"map\",\"png\",\"ms\",\"shared_ms\"} (+\"label\" when known)\n"
    "and at the end\n"
    "  OUTDIR/contact_sheet.png     the first 16 images explained, in input order (with --resume, whichever\n"
    "                               run explained them): a row each with the image's stem and class, the\n"
    "                               image and its overlays (160 px high)\n"
    "  OUTDIR/runs.jsonl            a line per run: model, layer, device, methods, images/s, the inputs that\n"
    "                               failed and why (pixab report shows it)\n"
    "<stem> is the file name without its extension; when two inputs share a stem (ignoring case), the\n"
    "later one in input order gets \"-2\", \"-3\", ... Files appear atomically; a line is appended to\n"
    "results.jsonl (in one write) only after its files are complete, in input order.\n",
    "--batch is also how many masked images Score-CAM runs per forward pass.\n"
    "Progress goes to stderr when it is a terminal, or with -v (which also prints each stage's time\n"
    "per image and the images/s at the end). A bad image, or one the engine has no memory for, is\n"
    "reported on stderr and skipped; the exit status is then 1. Usage errors and failures to write\n"
    "outputs exit with 2. SIGINT or SIGTERM stops the run cleanly within about one op: the outputs\n"
    "in the queue are finished, the images in flight dropped, nothing partial is left, and the exit\n"
    "status is 130 or 143 (--resume finishes the run); a second signal stops at once.\n",
    {{explain_options, 0}, {cli_model_options, offsetof(explain_args, mo)}},
    1,
};

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

/* ---- a run ---------------------------------------------------------------------- */

/* Everything a run holds, from its arguments to its last output. */
typedef struct {
    explain_args a;
    char **args;             /* (n_args) the INPUT arguments */
    int n_args;
    int status;              /* the exit status when the plan ends the run early */
    cli_inputs in;
    cli_done_set done;       /* --resume: what results.jsonl has */
    pixab_model *m;
    pixab_engine *e;
    pipe_ahead *pa;          /* the decoders, while the images run */
    char *results, *sheet_path;
    int fd;                  /* results.jsonl, O_APPEND; -1: not open */
    cli_sheet *sheet;        /* NULL with --no-png */
    unsigned char *todo;     /* (in.n) methods still to do per image (outputs_todo bits); 0: none */
    int *jobs;               /* (n_todo) the images to do, in input order */
    int n_todo, n_done;
    int failed;              /* inputs that could not be read or explained */
    cli_failures failures;   /* those of them with their lines, for runs.jsonl */
    progress prog;
} explain_run;

/* What the image loop did. */
typedef struct {
    pipe_stats dec, wr;      /* the decoders' and the writer's */
    int explained, skipped;  /* skipped: images that failed to decode, or that the engine had no memory for */
    int engine_failed, write_failed;
    int sig;                 /* the signal that stopped the run, or 0 */
    double explain_s, loop_s;
} explain_stats;

static int out_of_memory(void) {
    fprintf(stderr, "pixab explain: out of memory\n");
    return -1;
}

/* The arguments into r (zeroed first). Returns 1 when parsed, 0 after --help,
 * -1 on a usage error (printed). */
static int explain_parse(int argc, char **argv, explain_run *r) {
    *r = (explain_run){.a = {.layer = "Mixed_7c", .outdir = "pixab-out", .shard = {.n = 1},
                             .io_threads = 2, .eo = {.cls = -1}, .wsol_threshold = WSOL_THRESHOLD_DEFAULT,
                             .seed = 1},
                       .status = CLI_FATAL, .fd = -1};
    r->a.decode_memory = (size_t)1 << 30;
    explain_args *a = &r->a;
    cli_methods(explain_command.name, "pixab", &a->methods);
    if (!(r->args = calloc((size_t)argc, sizeof(char *)))) return out_of_memory();
    int rc = cli_parse(&explain_command, argc, argv, a, r->args, &r->n_args);
    if (rc <= 0) return rc;
    if (!a->outdir[0]) {
        fprintf(stderr, "pixab explain: -o: empty directory name\n");
        return -1;
    }
    if (!r->n_args) {
        fprintf(stderr, "pixab explain: no inputs given (see pixab explain --help)\n");
        return -1;
    }
    if (!a->shard.set &&
        cli_shard_env("pixab explain", &a->shard.i, &a->shard.n, a->shard_from, sizeof a->shard_from) < 0)
        return -1;
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

/* ---- outputs of an image ------------------------------------------------------------ */

typedef struct {
    char *npy[PIXAB_METHOD_COUNT], *png[PIXAB_METHOD_COUNT];
    char *gnpy[PIXAB_METHOD_COUNT], *gpng[PIXAB_METHOD_COUNT]; /* --guided */
} image_outputs;

static void outputs_free(image_outputs *o) {
    for (int k = 0; k < PIXAB_METHOD_COUNT; k++) free(o->npy[k]), free(o->png[k]), free(o->gnpy[k]), free(o->gpng[k]);
    memset(o, 0, sizeof *o);
}

static int outputs_make(image_outputs *o, const explain_args *a, const char *stem) {
    for (int k = 0; k < a->methods.n; k++) {
        const char *name = pixab_method_name(a->methods.v[k]);
        if (!(o->npy[k] = cli_out_path(a->outdir, stem, name, "npy"))) return -1;
        if (!a->no_png && !(o->png[k] = cli_out_path(a->outdir, stem, name, "png"))) return -1;
        if (a->guided && !(o->gnpy[k] = cli_out_path(a->outdir, stem, name, "guided.npy"))) return -1;
        if (a->guided && !a->no_png && !(o->gpng[k] = cli_out_path(a->outdir, stem, name, "guided.png"))) return -1;
    }
    return 0;
}

/* 1 when path is NULL (not an output of this run) or exists. */
static int output_there(const char *path) { return !path || !access(path, F_OK); }

/* Bit j set: method j of the run is still to do for this image (--resume: its
 * line is not in results.jsonl or one of its files is missing). */
static int outputs_todo(const image_outputs *o, const explain_args *a, const cli_done_set *done, unsigned *mask) {
    *mask = 0;
    for (int k = 0; k < a->methods.n; k++) {
        int has = cli_done_has(done, o->npy[k], a->layer);
        if (has < 0) return -1;
        if (!has || !output_there(o->npy[k]) || !output_there(o->png[k]) || !output_there(o->gnpy[k]) ||
            !output_there(o->gpng[k]))
            *mask |= 1u << k;
    }
    return 0;
}

/* ---- decoding, ahead of the engine (decoder threads) ----------------------------------- */

typedef struct {
    char *const *paths;       /* (inputs) */
    const int *jobs;          /* (n_todo) input index of each job */
    const pixab_preproc *pre;
    int threaded;
    int on_engine;            /* 1: the engine preprocesses (a GPU); the decoders only check the size */
} decode_ctx;

/* One decoded image. pixab_last_error() is per thread: a failure is kept
 * here as the line the main thread prints. */
typedef struct {
    int index;                /* in the inputs */
    pixab_image img;          /* moved out by the main thread */
    float *input;             /* (S, S, 3), the slot's, reused from image to image */
    int failed;
    char why[640];            /* failed: the line to print (no newline) */
} decode_slot;

/* The memory a job's decode takes at its peak, from the file's header (0 when
 * it cannot be read: the decode then fails at once). */
static size_t decode_cost(void *ctx, int job) {
    const decode_ctx *c = ctx;
    size_t bytes = 0;
    return pixab_image_memory(c->paths[c->jobs[job]], &bytes) ? 0 : bytes;
}

/* The memory a decoded image holds until it is freed (write_drop). */
static size_t image_bytes(const pixab_image *img) { return img->rgb ? (size_t)img->width * img->height * 3 : 0; }

static size_t decode_work(void *ctx, int job, void *slot, size_t charged) {
    const decode_ctx *c = ctx;
    decode_slot *d = slot;
#ifdef _OPENMP
    if (c->threaded) omp_set_num_threads(1); /* the engine has the cores; this thread overlaps it */
#endif
    pixab_image_free(&d->img);
    d->index = c->jobs[job];
    d->failed = 0;
    d->why[0] = '\0';
    const char *path = c->paths[d->index];
    const size_t S = (size_t)c->pre->size;
    char why[160];
    if (!c->on_engine && !d->input && !(d->input = malloc(sizeof(float) * S * S * 3))) {
        snprintf(d->why, sizeof d->why, "pixab explain: %s: out of memory", path);
        d->failed = 1;
    } else if (pixab_image_load(path, &d->img)) {
        snprintf(d->why, sizeof d->why, "pixab: %s", pixab_last_error());
        d->failed = 1;
    } else if (c->on_engine ? preprocess_check(why, sizeof why, d->img.width, d->img.height, c->pre)
                            : pixab_image_preprocess(&d->img, c->pre, d->input) != PIXAB_OK) {
        snprintf(d->why, sizeof d->why, "pixab: %s: %s", path, c->on_engine ? why : pixab_last_error());
        pixab_image_free(&d->img);
        d->failed = 1;
    }
    size_t kept = image_bytes(&d->img);
    return kept < charged ? kept : charged;
}

static void decode_slot_free(void *ctx, void *slot) {
    (void)ctx;
    decode_slot *d = slot;
    pixab_image_free(&d->img);
    free(d->input);
    d->input = NULL;
}

/* ---- writing, behind the engine (the writer thread) ------------------------------------- */

typedef struct {
    const explain_args *a;
    const pixab_model *m;
    int fd;                   /* results.jsonl, O_APPEND */
    const char *results;      /* its path */
    cli_sheet *sheet;         /* the contact sheet; NULL with --no-png */
    int threaded;
    char why[4400];           /* after a failure: the line to print */
} write_ctx;

/* An explained image, owned by the writer once queued. */
typedef struct {
    const char *path, *stem;
    int index;                /* in the inputs: the contact sheet's order */
    pixab_image img;
    pipe_ahead *pa;           /* the decoders' budget that img is charged to */
    pixab_map maps[PIXAB_METHOD_COUNT];
    int sel[PIXAB_METHOD_COUNT]; /* sel[i]: index in a->methods of maps[i] */
    int n;
    double shared_ms;
    float *gb;                /* --guided: (size, size, 3) guided backpropagation of the maps' class */
    int size;
} write_job;

static void write_drop(void *ctx, void *item) {
    (void)ctx;
    write_job *j = item;
    for (int i = 0; i < j->n; i++) pixab_map_free(&j->maps[i]);
    free(j->gb);
    j->gb = NULL;
    if (j->pa) pipe_ahead_release(j->pa, image_bytes(&j->img));
    pixab_image_free(&j->img);
}

/* --wsol boxes on the overlays: white, visible on every jet colour but the palest. */
static const unsigned char wsol_colour[3] = {255, 255, 255};

/* OUTDIR/<stem>.<method>.png: the overlay's pixels (alpha 0.5) written as a
 * PNG and, with a sheet, its thumbnail at (row, col). -1 with a one-line
 * reason in why[cap]. */
static int write_overlay(const char *path, const pixab_image *img, const pixab_map *mp, const int *box,
                         cli_sheet *sheet, int row, int col, char *why, size_t cap) {
    unsigned char *rgb = malloc((size_t)img->width * (size_t)img->height * 3);
    if (!rgb) {
        snprintf(why, cap, "cannot write '%s': out of memory", path);
        return -1;
    }
    pixab_status s = pixab_map_overlay(img, mp->map, mp->h, mp->w, 0.5f, rgb);
    const int side = img->width < img->height ? img->width : img->height;
    if (!s && box) cli_draw_box(rgb, img->width, img->height, box, side >= 150 ? side / 150 + 1 : 1, wsol_colour);
    int rc = s ? -1 : cli_write_png(path, rgb, img->width, img->height, why, cap);
    if (s)
        snprintf(why, cap, "cannot write '%s': %s", path, s == PIXAB_ERR_NOMEM ? "out of memory" : pixab_last_error());
    else if (!rc && cli_sheet_set(sheet, row, col, rgb, img->width, img->height)) {
        snprintf(why, cap, "contact sheet: out of memory");
        rc = -1;
    }
    free(rgb);
    return rc;
}

/* A contact sheet row's class label: the class's name, else "class C" in buf. */
static const char *class_label(const pixab_model *m, int cls, char *buf, size_t cap) {
    const char *label = cls >= 0 ? pixab_model_class_name(m, cls) : NULL;
    if (label) return label;
    if (cls >= 0) snprintf(buf, cap, "class %d", cls);
    else buf[0] = '\0'; /* a line without a class */
    return buf;
}

/* The image's row of the contact sheet, labelled with its stem and class, the
 * image in column 0: its index; -1 with no sheet or a full one, -2 when out
 * of memory. */
static int sheet_row(write_ctx *w, const write_job *j) {
    if (!w->sheet || !j->n) return -1;
    char idx[32];
    int row = cli_sheet_add_row(w->sheet, j->index, j->stem, class_label(w->m, j->maps[0].cls, idx, sizeof idx));
    return row < -1 || cli_sheet_set(w->sheet, row, 0, j->img.rgb, j->img.width, j->img.height) ? -2 : row;
}

/* --guided: the guided map of map i, OUTDIR/<stem>.<method>.guided.npy and
 * .guided.png. -1 with the reason in w->why. */
static int write_guided(write_ctx *w, const write_job *j, int i, const image_outputs *out) {
    const pixab_map *mp = &j->maps[i];
    const size_t n = (size_t)j->size * j->size * 3;
    float *g = malloc(sizeof(float) * n);
    unsigned char *rgb = malloc(n);
    const char *png = out->gpng[j->sel[i]];
    char why[4200];
    int rc = -1;
    if (!g || !rgb)
        snprintf(w->why, sizeof w->why, "pixab explain: out of memory");
    else if (pixab_guided_map(j->gb, j->size, mp->map, mp->h, mp->w, g) ||
             npy_write_f32(out->gnpy[j->sel[i]], g, 3, (int64_t[]){j->size, j->size, 3}))
        snprintf(w->why, sizeof w->why, "pixab: %s", pixab_last_error());
    else if (png && (cli_guided_render(g, n, rgb), cli_write_png(png, rgb, j->size, j->size, why, sizeof why)))
        snprintf(w->why, sizeof w->why, "pixab explain: %s", why);
    else
        rc = 0;
    free(g), free(rgb);
    return rc;
}

/* Map i of the job: its .npy, its box (--wsol), its overlay (the sheet's row
 * `row`), its guided map, then its line. -1 with the reason in w->why. */
static int write_map(write_ctx *w, const write_job *j, int i, const image_outputs *out, int row) {
    const pixab_map *mp = &j->maps[i];
    const char *npy = out->npy[j->sel[i]], *png = out->png[j->sel[i]];
    char why[4200];
    metrics_box b;
    if (npy_write_f32(npy, mp->map, 2, (int64_t[]){mp->h, mp->w}) ||
        (w->a->wsol && wsol_map_box(mp->map, mp->h, mp->w, j->img.width, j->img.height, w->a->wsol_threshold, &b))) {
        snprintf(w->why, sizeof w->why, "pixab: %s", pixab_last_error());
        return -1;
    }
    const int box[4] = {b.x0, b.y0, b.x1, b.y1}, *wbox = w->a->wsol ? box : NULL;
    if (j->gb && write_guided(w, j, i, out)) return -1;
    if (png && write_overlay(png, &j->img, mp, wbox, w->sheet, row, 1 + j->sel[i], why, sizeof why)) {
        snprintf(w->why, sizeof w->why, "pixab explain: %s", why);
        return -1;
    }
    if (cli_results_append(w->fd, w->m, j->path, w->a->layer, mp, npy, png, j->shared_ms, wbox)) {
        snprintf(w->why, sizeof w->why, "pixab explain: cannot write '%s': %s", w->results, strerror(errno));
        return -1;
    }
    return 0;
}

/* The files of an image, then its lines: a line in results.jsonl means its
 * files are complete. Any failure stops the run (the output directory fails,
 * and so would every later image). */
static int write_consume(void *ctx, void *item) {
    write_ctx *w = ctx;
    write_job *j = item;
#ifdef _OPENMP
    if (w->threaded) omp_set_num_threads(1);
#endif
    image_outputs out = {0};
    int row = -1, rc = outputs_make(&out, w->a, j->stem) || (row = sheet_row(w, j)) < -1 ? -1 : 0;
    if (rc) snprintf(w->why, sizeof w->why, "pixab explain: out of memory");
    for (int i = 0; !rc && i < j->n; i++) rc = write_map(w, j, i, &out, row);
    outputs_free(&out);
    write_drop(ctx, item);
    return rc;
}

/* ---- the -v figures ------------------------------------------------------------------------ */

/* The -v figures of a run: each stage's time per image, how long the engine
 * (the main thread) waited on the others, and the most memory decoded images
 * held at once. */
static void print_stages(const pipe_stats *dec, double explain_s, int explained, const pipe_stats *wr, double loop_s,
                         int images, size_t decode_memory) {
    double idle_in = dec->threads ? dec->wait_s : dec->work_s; /* inline, decoding is the engine's idle time */
    double idle_out = wr->threads ? wr->wait_s : wr->work_s;
    char dthreads[32];
    if (dec->threads)
        snprintf(dthreads, sizeof dthreads, "%d thread%s", dec->threads, dec->threads == 1 ? "" : "s");
    else
        snprintf(dthreads, sizeof dthreads, "inline");
    fprintf(stderr,
            "pixab explain: decode %.1f ms/img (%s), explain %.1f ms/img, write %.1f ms/img (%s), "
            "engine idle waiting for input %.1f %%, for the writer %.1f %%; %.2f images/s\n",
            1e3 * dec->work_s / (dec->items ? dec->items : 1), dthreads, 1e3 * explain_s / (explained ? explained : 1),
            1e3 * wr->work_s / (wr->items ? wr->items : 1), wr->threads ? "1 thread" : "inline",
            100.0 * idle_in / fmax(loop_s, 1e-9), 100.0 * idle_out / fmax(loop_s, 1e-9), images / fmax(loop_s, 1e-9));
    fprintf(stderr, "pixab explain: decoded images held at most %.1f MiB at once (--decode-memory %.1f MiB)\n",
            (double)dec->peak_bytes / (1 << 20), (double)decode_memory / (1 << 20));
}

/* ---- plan: everything that can fail on the arguments fails before the inputs
 * are read and before OUTDIR is touched; then the outputs and the jobs ---------------- */

/* --randomize: r->m replaced by its copy randomised from the layer up. */
static int plan_randomize(explain_run *r) {
    const int l = pixab_model_find_layer(r->m, r->a.randomize);
    pixab_model *rm = NULL;
    if (l < 0 || pixab_model_randomize(r->m, l, (uint64_t)r->a.seed, &rm)) {
        cli_error("explain: --randomize");
        return -1;
    }
    pixab_model_free(r->m);
    r->m = rm;
    return 0;
}

static int plan_model(explain_run *r) {
    if (!(r->m = cli_load_model(&r->a.mo))) return -1;
    if (r->a.randomize && plan_randomize(r)) return -1;
    if ((r->a.eo.layer = cli_layer(explain_command.name, r->m, r->a.layer)) < 0) return -1;
    r->a.layer = pixab_model_layer_name(r->m, r->a.eo.layer); /* the model's own name (ONNX: the default's) */
    return r->a.cls && parse_class(r->m, r->a.cls, &r->a.eo.cls) ? -1 : 0;
}

/* The images named. None ends the run: status 1 when some input failed, else 2. */
static int plan_inputs(explain_run *r) {
    cli_inputs_skip_dir(&r->in, r->a.outdir); /* a run's outputs are never its inputs */
    r->in.failures = &r->failures;
    if (cli_inputs_collect(&r->in, r->args, r->n_args) || cli_inputs_stems(&r->in)) return out_of_memory();
    r->failed = r->in.failed;
    if (r->in.n) return 0;
    if (!r->failed) fprintf(stderr, "pixab explain: no image files found in the inputs\n");
    r->status = r->failed ? CLI_PARTIAL : CLI_FATAL;
    return -1;
}

static int plan_engine(explain_run *r) {
    if (!(r->e = cli_create_engine(r->m, &r->a.mo))) return -1;
    if (r->a.max_memory && pixab_engine_set_head_budget(r->e, r->a.max_memory)) {
        cli_error("explain: --max-memory");
        return -1;
    }
    return 0;
}

/* OUTDIR, results.jsonl open for appending (and read, with --resume), the
 * contact sheet, the job lists. */
static int plan_outputs(explain_run *r) {
    const explain_args *a = &r->a;
    r->todo = calloc((size_t)r->in.n, 1);
    r->jobs = malloc(sizeof(int) * (size_t)r->in.n);
    if (!r->todo || !r->jobs || !(r->results = cli_out_path(a->outdir, "results", NULL, "jsonl")))
        return out_of_memory();
    if (!a->no_png && (!(r->sheet_path = cli_out_path(a->outdir, "contact_sheet", NULL, "png")) ||
                       !(r->sheet = cli_sheet_new(a->methods.v, a->methods.n))))
        return out_of_memory();
    int err = cli_make_dirs(a->outdir);
    if (err) {
        fprintf(stderr, "pixab explain: cannot create output directory '%s': %s\n", a->outdir, strerror(err));
        return -1;
    }
    if ((r->fd = cli_results_open(r->results)) < 0) {
        fprintf(stderr, "pixab explain: cannot write '%s': %s\n", r->results, strerror(errno));
        return -1;
    }
    if (a->resume && cli_done_load(r->fd, &r->done)) {
        fprintf(stderr, "pixab explain: cannot read '%s': %s\n", r->results, strerror(errno));
        return -1;
    }
    if (a->resume && (err = temp_file_sweep(a->outdir))) { /* what killed runs left */
        fprintf(stderr, "pixab explain: cannot read '%s': %s\n", a->outdir, strerror(err));
        return -1;
    }
    return 0;
}

/* The images of this shard, and the methods --resume leaves to do for each. */
static int plan_jobs(explain_run *r) {
    const explain_args *a = &r->a;
    for (int k = 0; k < r->in.n; k++) {
        if (k % a->shard.n != a->shard.i) continue;
        unsigned mask = (1u << a->methods.n) - 1;
        if (a->resume) {
            image_outputs out = {0};
            int rc = outputs_make(&out, a, r->in.stems[k]) || outputs_todo(&out, a, &r->done, &mask);
            outputs_free(&out);
            if (rc) return out_of_memory();
        }
        r->todo[k] = (unsigned char)mask;
        if (mask) r->jobs[r->n_todo++] = k;
        else r->n_done++;
    }
    if (a->mo.verbose && a->shard_from[0])
        fprintf(stderr, "pixab explain: shard %ld/%ld from the environment (%s)\n", a->shard.i, a->shard.n,
                a->shard_from);
    if (a->mo.verbose && (a->resume || a->shard.n > 1))
        fprintf(stderr, "pixab explain: %d image(s) to do, %d already done (shard %ld/%ld of %d inputs)\n",
                r->n_todo, r->n_done, a->shard.i, a->shard.n, r->in.n);
    return 0;
}

/* 0 when the images can be run; else -1, r->status the exit status. */
static int explain_plan(explain_run *r) {
    return plan_model(r) || plan_inputs(r) || plan_engine(r) || plan_outputs(r) || plan_jobs(r) ? -1 : 0;
}

/* ---- run: decoders ahead (a few images each), the engine here, the writer behind ---- */

/* Decoded images gathered for one body pass (--batch of them at most), all
 * needing the same methods (--resume may leave different ones per image). */
typedef struct {
    int n, cap;
    size_t pixels;            /* floats of one input: S * S * 3 */
    float *inputs;            /* (cap, S, S, 3); NULL when the engine preprocesses the jobs' images */
    write_job *jobs;          /* (cap) their outputs to be: path, stem, image (moved in) */
    unsigned mask;            /* the methods they need: bits of r->a.methods */
} image_batch;

/* --guided: one guided backward of images [i0, i0 + n) of b, each for the
 * class of its maps (maps: n * nm, image-major), into each job's gb. The
 * inputs are preprocessed here when the engine preprocessed them on the
 * device. On failure no job keeps a gb. */
static pixab_status guided_range(explain_run *r, image_batch *b, int i0, int n, const pixab_map *maps, int nm) {
    float *own = b->inputs ? NULL : malloc(sizeof(float) * b->pixels * (size_t)n);
    int *cls = malloc(sizeof(int) * (size_t)n);
    pixab_status s = (!b->inputs && !own) || !cls ? pixab_fail(PIXAB_ERR_NOMEM, "out of memory") : PIXAB_OK;
    for (int i = 0; i < n && !s; i++) {
        write_job *j = &b->jobs[i0 + i];
        cls[i] = maps[(size_t)i * nm].cls;
        j->size = pixab_engine_input_size(r->e);
        if (!(j->gb = malloc(sizeof(float) * b->pixels))) s = pixab_fail(PIXAB_ERR_NOMEM, "out of memory");
        else if (own) s = pixab_image_preprocess(&j->img, pixab_model_preproc(r->m), own + b->pixels * i);
    }
    /* One call for the n images: gb is their jobs' buffers only when they are one block, so gather. */
    float *gb = s ? NULL : malloc(sizeof(float) * b->pixels * (size_t)n);
    if (!s && !gb) s = pixab_fail(PIXAB_ERR_NOMEM, "out of memory");
    if (!s) s = pixab_guided_backprop(r->e, own ? own : b->inputs + b->pixels * (size_t)i0, n, cls, gb);
    for (int i = 0; i < n; i++) {
        write_job *j = &b->jobs[i0 + i];
        if (!s) memcpy(j->gb, gb + b->pixels * i, sizeof(float) * b->pixels);
        else free(j->gb), j->gb = NULL;
    }
    free(own), free(gb), free(cls);
    return s;
}

/* Images [i0, i0 + n) of b through one pixab_explain_batch, their outputs
 * queued in input order. The status of the engine (nothing printed); *stop
 * when the writer failed. */
static pixab_status explain_range(explain_run *r, image_batch *b, int i0, int n, pipe_writer *pw,
                                  explain_stats *st, int *stop) {
    pixab_method methods[PIXAB_METHOD_COUNT];
    int sel[PIXAB_METHOD_COUNT], nm = 0;
    for (int i = 0; i < r->a.methods.n; i++)
        if (b->mask & (1u << i)) sel[nm] = i, methods[nm++] = r->a.methods.v[i];
    pixab_map *maps = calloc((size_t)n * (size_t)nm, sizeof *maps);
    pixab_image *imgs = b->inputs ? NULL : malloc(sizeof *imgs * (size_t)n); /* the engine preprocesses these */
    if (!maps || (!b->inputs && !imgs)) {
        free(maps), free(imgs);
        return PIXAB_ERR_NOMEM;
    }
    for (int i = 0; imgs && i < n; i++) imgs[i] = b->jobs[i0 + i].img;
    double t0 = cli_now_s();
    pixab_status s = b->inputs ? pixab_explain_batch(r->e, b->inputs + b->pixels * (size_t)i0, n, methods, nm, &r->a.eo,
                                                     NULL, maps)
                               : pixab_explain_images(r->e, imgs, n, pixab_model_preproc(r->m), methods, nm, &r->a.eo,
                                                      NULL, maps);
    if (!s && r->a.guided && nm && (s = guided_range(r, b, i0, n, maps, nm)))
        for (int i = 0; i < n * nm; i++) pixab_map_free(&maps[i]);
    double dt = cli_now_s() - t0, methods_ms = 0.0;
    st->explain_s += dt;
    for (int i = 0; !s && i < n * nm; i++) methods_ms += maps[i].ms;
    for (int i = 0; !s && i < n; i++) { /* the body pass's time shared among its images */
        write_job *j = &b->jobs[i0 + i];
        j->n = nm;
        memcpy(j->sel, sel, sizeof sel);
        memcpy(j->maps, maps + (size_t)i * nm, sizeof(pixab_map) * (size_t)nm);
        j->shared_ms = fmax(1e3 * dt - methods_ms, 0.0) / n;
        st->explained++;
        if (pipe_writer_push(pw, j)) *stop = 1; /* the writer failed (its reason after the loop); the job dropped */
        memset(j, 0, sizeof *j);
    }
    free(maps), free(imgs);
    return s;
}

/* Explain the gathered images and queue their outputs. A batch that fails is
 * retried image by image, so that only an image at fault is skipped. 0: go
 * on; -1: stop the run (the engine failed, and so would every later image, or
 * the writer did). */
static int explain_batch(explain_run *r, image_batch *b, pipe_writer *pw, explain_stats *st) {
    int stop = 0, rc = 0;
    pixab_status s = PIXAB_OK;
    if (b->n > 1 && !(s = explain_range(r, b, 0, b->n, pw, st, &stop))) b->n = 0;
    for (int i = 0; i < b->n && !rc && !stop && s != PIXAB_ERR_CANCELLED; i++) {
        s = explain_range(r, b, i, 1, pw, st, &stop);
        if (!s || s == PIXAB_ERR_CANCELLED) continue; /* cancelled: a signal stops the run, nothing is written */
        progress_break(&r->prog);
        fprintf(stderr, "pixab explain: %s: %s\n", cli_shown(b->jobs[i].path), pixab_last_error());
        if (s == PIXAB_ERR_NOMEM) { /* this image is too large for the memory: skip it */
            char line[4400];
            snprintf(line, sizeof line, "pixab explain: %s: %s", b->jobs[i].path, pixab_last_error());
            st->skipped++;
            cli_failures_add(&r->failures, b->jobs[i].path, line);
        } else {
            st->engine_failed = 1, rc = -1;
        }
    }
    for (int i = 0; i < b->n; i++) write_drop(NULL, &b->jobs[i]); /* what was not queued */
    b->n = 0;
    progress_update(&r->prog, pipe_writer_done(pw) + st->skipped, 0);
    return rc || stop || s == PIXAB_ERR_CANCELLED ? -1 : 0;
}

/* Take the decoded image d into the batch, explaining the batch first when d
 * needs other methods and after when it is full. A failed decode is reported
 * and skipped. 0: go on; -1: stop the run. */
static int explain_decoded(explain_run *r, decode_slot *d, image_batch *b, pipe_writer *pw, explain_stats *st) {
    const int k = d->index;
    if (d->failed) {
        progress_break(&r->prog);
        fprintf(stderr, "%s\n", cli_shown(d->why));
        st->skipped++;
        cli_failures_add(&r->failures, r->in.paths[k], d->why);
        progress_update(&r->prog, pipe_writer_done(pw) + st->skipped, 0);
        return 0;
    }
    if (b->n && b->mask != r->todo[k] && explain_batch(r, b, pw, st)) return -1;
    if (b->inputs) memcpy(b->inputs + b->pixels * (size_t)b->n, d->input, sizeof(float) * b->pixels);
    b->jobs[b->n++] =
        (write_job){.path = r->in.paths[k], .stem = r->in.stems[k], .index = k, .img = d->img, .pa = r->pa};
    memset(&d->img, 0, sizeof d->img);
    b->mask = r->todo[k];
    return b->n == b->cap ? explain_batch(r, b, pw, st) : 0;
}

/* Decoded images are allocated on one thread and freed on another. glibc
 * raises its mmap threshold to the size of each large block freed, after
 * which such blocks come from per-thread arenas that keep the memory once
 * freed: six decode threads then held three times what --decode-memory
 * allows. A threshold set once stays fixed: blocks from 1 MiB up are mapped
 * and unmapped, and freed memory goes back to the system. */
static void fix_mmap_threshold(void) {
#ifdef __GLIBC__
    mallopt(M_MMAP_THRESHOLD, 1 << 20);
#endif
}

/* The jobs through the pipeline, until done, a failure or a signal. -1 when
 * out of memory (printed). */
static int explain_images(explain_run *r, explain_stats *st) {
    const int threads = (int)r->a.io_threads;
    fix_mmap_threshold();
    r->prog = (progress){.on = r->n_todo > 1 && (r->a.mo.verbose || isatty(STDERR_FILENO)), .total = r->n_todo};
    r->prog.t0 = r->prog.last = cli_now_s();
    /* On a GPU the engine preprocesses (only 8-bit pixels are uploaded); on
     * the CPU the decoders do, overlapping the engine. */
    const int on_engine = strcmp(pixab_engine_device(r->e), "cpu") != 0;
    decode_ctx dc = {r->in.paths, r->jobs, pixab_model_preproc(r->m), threads > 0, on_engine};
    write_ctx wc = {.a = &r->a, .m = r->m, .fd = r->fd, .results = r->results, .sheet = r->sheet,
                    .threaded = threads > 0};
    /* A batch of images per body pass: the decoders keep a batch and more
     * ahead. Its inputs in the engine's upload memory (page-locked on a GPU). */
    const int batch = pixab_engine_max_batch(r->e), S = pixab_engine_input_size(r->e);
    image_batch b = {.cap = batch, .pixels = 3 * (size_t)S * S, .jobs = calloc((size_t)batch, sizeof(write_job))};
    if (!on_engine && pixab_engine_host_alloc(r->e, sizeof(float) * b.pixels * (size_t)batch, (void **)&b.inputs))
        b.inputs = NULL;
    pipe_ahead *pa = (b.inputs || on_engine) && b.jobs
                         ? pipe_ahead_start(threads, threads + 1 + batch, r->n_todo, sizeof(decode_slot), decode_work,
                                            decode_cost, r->a.decode_memory, &dc)
                         : NULL;
    r->pa = pa;
    pipe_writer *pw = pa ? pipe_writer_start(threads > 0, 4, sizeof(write_job), write_consume, write_drop, &wc) : NULL;
    if (!pw) {
        pipe_ahead_finish(pa, decode_slot_free, NULL);
        pixab_engine_host_free(r->e, b.inputs), free(b.jobs);
        return out_of_memory();
    }
    cli_interrupt_install();
    for (int stop = 0; !stop;) { /* an interrupted run takes no new image; the images taken are finished */
        int starved = 0; /* the next image waits for the memory the batch holds: explain the batch first */
        decode_slot *d = cli_interrupted() ? NULL : pipe_ahead_next(pa, b.n ? &starved : NULL);
        if (starved) stop = explain_batch(r, &b, pw, st);
        else stop = !d ? explain_batch(r, &b, pw, st) || 1 : explain_decoded(r, d, &b, pw, st);
    }
    for (int i = 0; i < b.n; i++) write_drop(NULL, &b.jobs[i]);
    pixab_engine_host_free(r->e, b.inputs), free(b.jobs);
    pipe_ahead_stop(pa); /* the writer releases its images' memory to pa: pa goes last */
    st->write_failed = pipe_writer_finish(pw, &st->wr);
    pipe_ahead_finish(pa, decode_slot_free, &st->dec);
    r->pa = NULL;
    st->loop_s = cli_now_s() - r->prog.t0;
    st->sig = cli_interrupted();
    cli_interrupt_restore();
    if (st->write_failed) {
        progress_break(&r->prog);
        fprintf(stderr, "%s\n", cli_shown(wc.why));
    }
    return 0;
}

/* ---- report: the contact sheet, the -v figures, the exit status ------------------------ */

/* --resume: the sheet shows the run's first images in input order whichever
 * run explained them. Those of earlier runs are read back: their overlays
 * from OUTDIR, the image from its input, the class from results.jsonl; so are
 * the cells of methods an earlier run did for an image explained now. -1
 * when out of memory. */
static int sheet_add_done(explain_run *r) {
    const explain_args *a = &r->a;
    const unsigned all = (1u << a->methods.n) - 1;
    for (int k = (int)a->shard.i; k < r->in.n; k += (int)a->shard.n) {
        const unsigned before = all & ~(unsigned)r->todo[k]; /* methods earlier runs did */
        int row = before ? cli_sheet_find(r->sheet, k) : -1;
        if (!before || (row < 0 && r->todo[k])) continue; /* none, or the image failed in this run */
        image_outputs out = {0};
        if (outputs_make(&out, a, r->in.stems[k])) return -1;
        int rc = 0, first = 0;
        while (!(before & (1u << first))) first++;
        if (row < 0) {
            char idx[32];
            int cls = cli_done_class(&r->done, out.npy[first], a->layer);
            row = cli_sheet_add_row(r->sheet, k, r->in.stems[k], class_label(r->m, cls, idx, sizeof idx));
            if (row == -1) { /* the sheet is full of earlier images */
                outputs_free(&out);
                break;
            }
            rc = row < -1 || cli_sheet_load(r->sheet, row, 0, r->in.paths[k]);
        }
        for (int j = 0; j < a->methods.n && !rc; j++)
            if (before & (1u << j)) rc = cli_sheet_load(r->sheet, row, 1 + j, out.png[j]);
        outputs_free(&out);
        if (rc) return -1;
    }
    return 0;
}

static int explain_report(explain_run *r, const explain_stats *st) {
    if (st->write_failed || st->engine_failed) return CLI_FATAL;
    if (r->sheet && r->a.resume && sheet_add_done(r)) return out_of_memory(), CLI_FATAL;
    const int finished = st->wr.items + st->skipped, rows = cli_sheet_rows(r->sheet);
    r->failed += st->skipped;
    progress_update(&r->prog, finished, 1);
    char why[4200];
    if (rows && cli_sheet_write(r->sheet, r->sheet_path, why, sizeof why)) {
        fprintf(stderr, "pixab explain: %s\n", why);
        return CLI_FATAL;
    }
    if (r->a.mo.verbose) {
        print_stages(&st->dec, st->explain_s, st->explained, &st->wr, st->loop_s, finished, r->a.decode_memory);
        fprintf(stderr, "pixab explain: %d image(s), %d failed, %.3f s, outputs in %s%s%s\n", finished, r->failed,
                st->loop_s, r->a.outdir, rows ? ", contact sheet " : "", rows ? r->sheet_path : "");
    }
    if (st->sig && finished < r->n_todo) {
        fprintf(stderr, "pixab explain: interrupted after %d of %d images; run again with --resume to finish\n",
                finished, r->n_todo);
        return 128 + st->sig;
    }
    return r->failed ? CLI_PARTIAL : CLI_OK;
}

/* The run's line in OUTDIR/runs.jsonl and, with --report, OUTDIR/report/
 * (report.c); status: the run's exit status so far, which they can only make
 * CLI_FATAL. A run that failed (status 2) is not logged. */
static int explain_log(explain_run *r, const explain_stats *st, int status) {
    if (status == CLI_FATAL) return status;
    const explain_args *a = &r->a;
    cli_run_info info = {a->mo.weights, a->layer, pixab_engine_device(r->e), a->methods.v, a->methods.n,
                         a->shard.i, a->shard.n, st->wr.items, r->failed, st->loop_s, st->sig != 0};
    if (cli_run_log_append(a->outdir, &info, &r->failures)) {
        fprintf(stderr, "pixab explain: cannot write '%s/runs.jsonl': %s\n", cli_shown(a->outdir), strerror(errno));
        return CLI_FATAL;
    }
    char why[4400];
    cli_report_stats rs;
    if (a->report && cli_report_write(a->outdir, &rs, why, sizeof why)) {
        fprintf(stderr, "pixab explain: --report: %s\n", cli_shown(why));
        return CLI_FATAL;
    }
    if (a->report && a->mo.verbose)
        fprintf(stderr, "pixab explain: report %s/report/index.html (%zu images, %zu pages)\n", cli_shown(a->outdir),
                rs.images, rs.pages);
    return status;
}

/* Close results.jsonl (a failure there fails the run) and free the run. */
static int explain_finish(explain_run *r, int status) {
    progress_break(&r->prog);
    if (r->fd >= 0 && close(r->fd) && status != CLI_FATAL) {
        fprintf(stderr, "pixab explain: cannot write '%s': %s\n", r->results, strerror(errno));
        status = CLI_FATAL;
    }
    free(r->results);
    free(r->sheet_path);
    cli_sheet_free(r->sheet);
    free(r->todo);
    free(r->jobs);
    cli_done_free(&r->done);
    cli_failures_free(&r->failures);
    pixab_engine_destroy(r->e);
    pixab_model_free(r->m);
    cli_inputs_free(&r->in);
    free(r->args);
    return status;
}

int cmd_explain(int argc, char **argv) {
    explain_run r;
    explain_stats st = {0};
    int rc = explain_parse(argc, argv, &r);
    if (rc <= 0) return explain_finish(&r, rc < 0 ? CLI_FATAL : CLI_OK);
    if (explain_plan(&r)) return explain_finish(&r, r.status);
    return explain_finish(&r, explain_log(&r, &st, explain_images(&r, &st) ? CLI_FATAL : explain_report(&r, &st)));
}
