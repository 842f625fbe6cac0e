/* eval.c — `pixab eval`: the paper's evaluation suite (DESIGN.md §7) over an
 * annotated image set: runs the tasks of host/eval/tasks.h for every method
 * and writes OUTDIR/metrics.csv (method,task,metric,value,n), OUTDIR/metrics.md
 * (the tables in the paper's layout), OUTDIR/curves.csv, the plots
 * (deletion.png, insertion.png, sanity.png) and the run's line in
 * OUTDIR/runs.jsonl (run_log.h, as explain's: for `pixab report`). */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "cli.h"
#include "commands.h"
#include "dataset.h"
#include "model_opts.h"
#include "outputs.h"
#include "plot.h"
#include "results.h"
#include "run_log.h"
#include "tasks.h"

enum { TASK_MOD = 1, TASK_DAP1 = 2, TASK_DAP2 = 4, TASK_SANITY = 8, TASK_WSOL = 16, TASK_ALL = 31 };

typedef struct {
    cli_model_opts mo;
    cli_method_list methods;
    int tasks;
    const char *data, *layer, *outdir;
    pixab_explain_opts eo;
    long n, steps, fgsm_steps, sanity_n, seed;
    float wsol_threshold;
} eval_args;

/* --tasks LIST into the int (TASK_ bits) at dst: a cli_parse_fn (args.h). */
static int parse_tasks(const char *cmd, const char *text, void *dst) {
    int *tasks = dst;
    static const struct { const char *name; int bit; } names[] = {
        {"mod", TASK_MOD},       {"dap1", TASK_DAP1}, {"dap2", TASK_DAP2},
        {"sanity", TASK_SANITY}, {"wsol", TASK_WSOL}, {"all", TASK_ALL}};
    *tasks = 0;
    for (const char *p = text; *p;) {
        size_t len = strcspn(p, ",");
        int found = 0;
        for (size_t k = 0; k < sizeof names / sizeof names[0] && !found; k++)
            if (strlen(names[k].name) == len && !strncmp(p, names[k].name, len)) *tasks |= names[k].bit, found = 1;
        if (!found) {
            fprintf(stderr, "%s: unknown task '%.*s' (expected mod, dap1, dap2, sanity, wsol or all)\n", cmd, (int)len, p);
            return -1;
        }
        p += len + (p[len] == ',');
    }
    if (!*tasks) fprintf(stderr, "%s: --tasks names no task\n", cmd);
    return *tasks ? 0 : -1;
}

static const cli_option eval_options[] = {
    {NULL, "--data", CLI_STRING, offsetof(eval_args, data), "FILE", "the annotation file (required)", 0, 0, NULL},
    {"-m", "--method", CLI_METHODS, offsetof(eval_args, methods), "LIST", "methods, or all (default all)", 0, 0, NULL},
    {NULL, "--tasks", CLI_CUSTOM, offsetof(eval_args, tasks), "LIST",
     "mod, dap1, dap2, sanity, wsol, or all (default all)", 0,
     0, parse_tasks},
    {"-n", NULL, CLI_INT, offsetof(eval_args, n), "N",
     "images to use, in file order (default all); also the number of AE2 examples", 1, 1L << 30, NULL},
    {"-o", "--outdir", CLI_STRING, offsetof(eval_args, outdir), "DIR",
     "output directory, created if missing (default pixab-eval)", 0, 0, NULL},
    {"-l", "--layer", CLI_STRING, offsetof(eval_args, layer), "NAME", "target layer (default Mixed_7c; ONNX: the last\nspatial layer before global pooling)", 0, 0, NULL},
    {NULL, "--score", CLI_SCORE, offsetof(eval_args, eo.score), "KIND",
     "softmax or logit for the maps (default: each method's own); the metrics\n"
     "always score with the softmax probability", 0, 0, NULL},
    {NULL, "--boxes", CLI_BOXES, offsetof(eval_args, eo), "LIST",
     "Pixab-CAM boxes (default 1x1,1x2,2x1,2x2)", 0, 0, NULL},
    {NULL, "--steps", CLI_INT, offsetof(eval_args, steps), "N",
     "deletion/insertion steps (default 100)", 1, 100000, NULL},
    {NULL, "--fgsm-steps", CLI_INT, offsetof(eval_args, fgsm_steps), "N",
     "FGSM iteration limit per patch (default 100; step 4/255 of the pixel range)", 1, 100000, NULL},
    {NULL, "--sanity-n", CLI_INT, offsetof(eval_args, sanity_n), "N", "images in the sanity check (default 8)", 1,
     100000, NULL},
    {NULL, "--wsol-threshold", CLI_CUSTOM, offsetof(eval_args, wsol_threshold), "T",
     "wsol: the boxes' threshold for loc_acc and miou, a fraction of the map's max\n"
     "(default 0.2)", 0, 0, cli_wsol_threshold},
    {NULL, "--seed", CLI_INT, offsetof(eval_args, seed), "S",
     "seed of the adversarial examples and the randomisation (default 1)", 0, 1L << 62, NULL},
    {0},
};

static const cli_command eval_command = {
    "pixab eval",
    "usage: pixab eval -w MODEL --data ANNOTATIONS.jsonl [-m METHODS] [--tasks LIST] [-n N] [-o OUTDIR]\n"
    "                  [-l LAYER] [--score softmax|logit] [--boxes LIST] [--steps N] [--fgsm-steps N]\n"
    "                  [--sanity-n N] [--wsol-threshold T] [--seed S] [--device D] [--batch N]\n"
    "Evaluates CAM methods the way the Pixab-CAM paper does, on an annotated image set (the JSON lines\n"
    "`pixab synth` writes: {\"image\":..., \"objects\":[{\"class\":C,\"box\":[x0,y0,x1,y1]}, ...]}, image paths\n"
    "relative to the file, boxes in the image's pixels, x1/y1 exclusive). Tasks:\n"
    "  mod      the images themselves: faithfulness of the top-1 class's map (AD, IIC, compactness,\n"
    "           deletion and insertion AUC) and localisation of every class present against its own\n"
    "           boxes (PG: pointing game, OL: energy inside the boxes / total)\n"
    "  dap1     AE1: FGSM patches (1-9, side 15-20% of the image) of a class absent from the image,\n"
    "           made on a zero image and pasted in; PG and OL of that class's map against the patches\n"
    "  dap2     AE2: four patches of four classes on a zero image (one example per image index);\n"
    "           PG and OL per patch, DOA (cosine distance to Activation-CAM's map) and #COP (how many of\n"
    "           the 100 highest-weighted channels cover both the target's and another patch)\n"
    "  sanity   cascading randomisation from the logits down to Mixed_5b: Spearman correlation of\n"
    "           each map with the trained model's, per step\n"
    "  wsol     weakly supervised localisation: every class present, the box of its map (upsampled to\n"
    "           the image, pixels >= T * max, largest 8-connected component) against that class's boxes:\n"
    "           loc_acc (best IoU >= 0.5), miou, and maxboxacc over T = 0.05 ... 0.95 (Choe et al.)\n"
    "Writes OUTDIR/metrics.csv (method,task,metric,value,n: value = mean over n observations),\n"
    "OUTDIR/metrics.md (the tables), OUTDIR/curves.csv, deletion.png, insertion.png, sanity.png, and\n"
    "appends the run (model, layer, device, methods, images, seconds, failed inputs) to OUTDIR/runs.jsonl.\n",
    "A bad image is reported on stderr and skipped (exit status 1); usage errors and failures to write\n"
    "the outputs exit with 2.\n",
    {{eval_options, 0}, {cli_model_options, offsetof(eval_args, mo)}},
    0,
};

/* 0: parsed; 1: --help printed; -1: usage error (printed). */
static int parse_args(int argc, char **argv, eval_args *a) {
    *a = (eval_args){.mo = {.batch = 16}, .tasks = TASK_ALL, .outdir = "pixab-eval", .eo = {.cls = -1},
                     .n = -1, .steps = 100, .fgsm_steps = 100, .sanity_n = 8, .seed = 1,
                     .wsol_threshold = WSOL_THRESHOLD_DEFAULT};
    cli_methods(eval_command.name, "all", &a->methods);
    int r = cli_parse(&eval_command, argc, argv, a, NULL, NULL);
    if (r <= 0) return r < 0 ? -1 : 1;
    if (!a->data) return fprintf(stderr, "pixab eval: no annotation file given (--data FILE.jsonl)\n"), -1;
    return 0;
}

/* ---- outputs ------------------------------------------------------------------ */

/* Write the text collected in a memstream atomically to DIR/STEM.EXT; -1 printed. */
static int write_text(const char *dir, const char *stem, const char *ext, char *buf, size_t len) {
    char *path = cli_out_path(dir, stem, NULL, ext), why[256];
    int rc = path && buf ? cli_write_file(path, buf, len, why, sizeof why)
                         : (snprintf(why, sizeof why, "cannot write %s/%s.%s: out of memory", dir, stem, ext), -1);
    if (rc) fprintf(stderr, "pixab eval: %s\n", why);
    free(path);
    free(buf);
    return rc;
}

static int write_csv(const char *dir, const eval_table *t) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return write_text(dir, "metrics", "csv", NULL, 0);
    fputs("method,task,metric,value,n\n", f);
    for (size_t i = 0; i < t->n; i++) {
        const eval_cell *c = &t->cells[i];
        fprintf(f, "%s,%s,%s,%.6g,%ld\n", c->method, c->task, c->metric, c->sum / (double)c->n, c->n);
    }
    fclose(f);
    return write_text(dir, "metrics", "csv", buf, len);
}

/* One markdown table: rows = methods that have any of its cells, columns =
 * (task, metric, header); mean and, with `show_n`, n per cell is in the CSV. */
typedef struct { const char *task, *metric, *header; } md_col;

static void md_table(FILE *f, const eval_table *t, const char *title, const char *note, const md_col *cols, int n_cols,
                     const char *const *rows, int n_rows) {
    int any = 0;
    for (int r = 0; r < n_rows && !any; r++)
        for (int k = 0; k < n_cols && !any; k++) any = eval_table_find(t, rows[r], cols[k].task, cols[k].metric) != NULL;
    if (!any) return;
    fprintf(f, "### %s\n\n%s\n\n| Method |", title, note);
    for (int k = 0; k < n_cols; k++) fprintf(f, " %s |", cols[k].header);
    fputs("\n|---|", f);
    for (int k = 0; k < n_cols; k++) fputs("---:|", f);
    fputc('\n', f);
    for (int r = 0; r < n_rows; r++) {
        int has = 0;
        for (int k = 0; k < n_cols && !has; k++) has = eval_table_find(t, rows[r], cols[k].task, cols[k].metric) != NULL;
        if (!has) continue;
        fprintf(f, "| %s |", rows[r]);
        for (int k = 0; k < n_cols; k++) {
            double v = eval_table_mean(t, rows[r], cols[k].task, cols[k].metric);
            if (isnan(v)) fputs(" – |", f);
            else fprintf(f, " %.3f |", v);
        }
        fputc('\n', f);
    }
    fputc('\n', f);
}

static int write_markdown(const char *dir, const eval_args *a, const eval_table *t, const pixab_model *m,
                          int n_images, const int *sanity_layers, int n_sanity, FILE *also) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return write_text(dir, "metrics", "md", NULL, 0);
    const char *rows[PIXAB_METHOD_COUNT];
    for (int k = 0; k < a->methods.n; k++) rows[k] = pixab_method_name(a->methods.v[k]);
    fprintf(f, "## pixab eval: %s, %d images of %s\n\n", a->mo.weights, n_images, a->data);
    static const md_col faith[] = {{"MOD", "AD", "AD (%) ↓"},           {"MOD", "IIC", "IIC (%) ↑"},
                                   {"MOD", "compactness", "Compactness ↓"}, {"MOD", "deletion_auc", "Deletion AUC ↓"},
                                   {"MOD", "insertion_auc", "Insertion AUC ↑"}};
    md_table(f, t, "Faithfulness (MOD, top-1 class)",
             "AD/IIC: Chattopadhay et al.; compactness: mean of the upsampled map; deletion/insertion: Petsiuk et al.",
             faith, 5, rows, a->methods.n);
    static const md_col loc[] = {{"MOD", "PG", "MOD PG ↑"},   {"MOD", "OL", "MOD OL ↑"}, {"DAP1", "PG", "DAP1 PG ↑"},
                                 {"DAP1", "OL", "DAP1 OL ↑"}, {"DAP2", "PG", "DAP2 PG ↑"}, {"DAP2", "OL", "DAP2 OL ↑"}};
    md_table(f, t, "Localisation",
             "PG: pointing game (15 px tolerance), OL: energy of the map inside the boxes / total; MOD: every class "
             "present against its own boxes; DAP1/DAP2: the target class against its adversarial patches.",
             loc, 6, rows, a->methods.n);
    static const md_col wsol[] = {{"wsol", "loc_acc", "loc_acc ↑"},
                                  {"wsol", "miou", "mIoU ↑"},
                                  {"wsol", "maxboxacc", "MaxBoxAcc ↑"},
                                  {"wsol", "maxboxacc_threshold", "its threshold"}};
    char wsol_note[256];
    snprintf(wsol_note, sizeof wsol_note,
             "Every class present: the box of its map (pixels >= %g x max, largest 8-connected component) against "
             "that class's boxes; loc_acc: best IoU >= 0.5; MaxBoxAcc: the best over thresholds 0.05 ... 0.95.",
             a->wsol_threshold);
    md_table(f, t, "Weakly supervised localisation (WSOL)", wsol_note, wsol, 4, rows, a->methods.n);
    static const md_col adv[] = {{"DAP2", "DOA", "DOA ↑"}, {"DAP2", "COP", "#COP ↓"}};
    md_table(f, t, "Attention to adversarial patches (AE2)",
             "DOA: cosine distance to Activation-CAM's map; #COP: of the 100 highest-weighted channels, how many cover "
             "(≥ 80 %) both the target's patch and another patch (channel-weight methods only).",
             adv, 2, rows, a->methods.n);
    static const char *const fgsm_row[] = {"fgsm"};
    static const md_col gen[] = {{"DAP1", "success_zero", "AE1 on zero image"},
                                 {"DAP1", "success_pasted", "AE1 pasted"},
                                 {"DAP1", "steps", "AE1 FGSM steps"},
                                 {"DAP2", "success_patch", "AE2 per patch"},
                                 {"DAP2", "success_top4", "AE2 all 4 in top 4"}};
    md_table(f, t, "Adversarial examples (targeted FGSM on patches)",
             "Success rates in [0,1] (the target class is top-1; for the AE2 composite, all four targets rank in "
             "the top 4).",
             gen, 5, fgsm_row, 1);
    md_col sc[EVAL_MAX_SANITY];
    char names[EVAL_MAX_SANITY][48];
    for (int k = 0; k < n_sanity; k++) {
        const char *layer = pixab_model_layer_name(m, sanity_layers[k]);
        snprintf(names[k], sizeof names[k], "spearman_%s", layer);
        sc[k] = (md_col){"sanity", names[k], layer};
    }
    md_table(f, t, "Sanity check (cascading randomisation)",
             "Spearman rank correlation of the map with the trained model's; column L: every layer from the logits "
             "down to L randomised.",
             sc, n_sanity, rows, a->methods.n);
    fclose(f);
    if (also && buf) fwrite(buf, 1, len, also);
    return write_text(dir, "metrics", "md", buf, len);
}

/* curves.csv: method,curve,step,fraction,score (means over the images). */
static int write_curves(const char *dir, const eval_args *a, const eval_ctx *c) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return write_text(dir, "curves", "csv", NULL, 0);
    fputs("method,curve,step,fraction,score\n", f);
    for (int k = 0; k < a->methods.n; k++)
        for (int which = 0; which < 2; which++) {
            const double *curve = (which ? c->insertion : c->deletion) + (size_t)k * (c->n_steps + 1);
            for (int s = 0; s <= c->n_steps; s++)
                fprintf(f, "%s,%s,%d,%.6g,%.6g\n", pixab_method_name(a->methods.v[k]), which ? "insertion" : "deletion",
                        s, (double)s / c->n_steps, curve[s] / (double)c->curve_n);
        }
    fclose(f);
    return write_text(dir, "curves", "csv", buf, len);
}

/* One plot of a value per method over n_points x positions; -1 printed. */
static int write_plot(const char *dir, const char *stem, const plot_axes *ax, const eval_args *a, const float *y) {
    plot_series series[PIXAB_METHOD_COUNT];
    for (int k = 0; k < a->methods.n; k++)
        series[k] = (plot_series){pixab_method_name(a->methods.v[k]), y + (size_t)k * ax->n_points};
    char *path = cli_out_path(dir, stem, NULL, "png"), why[256] = "out of memory";
    int rc = path ? plot_write(path, ax, series, a->methods.n, 800, 500, why, sizeof why) : -1;
    if (rc) fprintf(stderr, "pixab eval: %s\n", why);
    free(path);
    return rc;
}

static int write_plots(const char *dir, const eval_args *a, const eval_ctx *c, const pixab_model *m,
                       const int *sanity_layers, int n_sanity) {
    const int np = c->n_steps + 1;
    float *x = malloc(sizeof(float) * (size_t)np), *y = malloc(sizeof(float) * (size_t)np * a->methods.n);
    int rc = !x || !y ? (fprintf(stderr, "pixab eval: out of memory for the plots\n"), -1) : 0;
    for (int s = 0; s < np && !rc; s++) x[s] = (float)s / (float)c->n_steps;
    for (int which = 0; which < 2 && !rc && c->curve_n; which++) {
        const double *sum = which ? c->insertion : c->deletion;
        for (size_t i = 0; i < (size_t)np * a->methods.n; i++) y[i] = (float)(sum[i] / (double)c->curve_n);
        plot_axes ax = {.title = which ? "Insertion (mean over images)" : "Deletion (mean over images)",
                        .x_label = which ? "fraction of pixels inserted" : "fraction of pixels deleted",
                        .y_label = "p(class)", .x = x, .n_points = np, .y_min = 0.0f, .y_max = 1.0f};
        rc = write_plot(dir, which ? "insertion" : "deletion", &ax, a, y);
    }
    if (!rc && n_sanity) {
        const char *ticks[EVAL_MAX_SANITY + 1];
        float *ys = malloc(sizeof(float) * (size_t)(n_sanity + 1) * a->methods.n);
        if (!ys) rc = -1;
        ticks[0] = "trained";
        for (int k = 0; k < n_sanity; k++) ticks[k + 1] = pixab_model_layer_name(m, sanity_layers[k]);
        for (int mth = 0; mth < a->methods.n && ys; mth++) {
            const char *name = pixab_method_name(a->methods.v[mth]);
            ys[(size_t)mth * (n_sanity + 1)] = 1.0f;
            for (int k = 0; k < n_sanity; k++) {
                char metric[48];
                snprintf(metric, sizeof metric, "spearman_%s", ticks[k + 1]);
                ys[(size_t)mth * (n_sanity + 1) + k + 1] = (float)eval_table_mean(c->table, name, "sanity", metric);
            }
        }
        plot_axes ax = {.title = "Sanity check: cascading randomisation", .x_label = "randomised down to",
                        .y_label = "Spearman vs trained", .x_ticks = ticks, .n_points = n_sanity + 1,
                        .y_min = -1.0f, .y_max = 1.0f};
        if (ys) rc = write_plot(dir, "sanity", &ax, a, ys);
        free(ys);
    }
    free(x);
    free(y);
    return rc;
}

/* Load and preprocess one image of d; boxes checked against it and scaled to
 * the input, raw (n_objects, the image's pixels) as given, its size in
 * *w, *h. -1 printed. */
static int load_item(const eval_dataset *d, const eval_item *it, const pixab_preproc *pre, float *input,
                     metrics_box *boxes, metrics_box *raw, int *classes, int *w, int *h) {
    pixab_image img;
    if (pixab_image_load(it->path, &img)) return cli_error(it->path), -1;
    pixab_status s = eval_item_check_boxes(d, it, img.width, img.height);
    if (s) {
        pixab_image_free(&img);
        return cli_error(NULL), -1;
    }
    s = pixab_image_preprocess(&img, pre, input);
    *w = img.width, *h = img.height;
    for (int k = 0; k < it->n_objects; k++) {
        const int *b = it->objects[k].box;
        raw[k] = (metrics_box){b[0], b[1], b[2], b[3]};
        boxes[k] = metrics_box_scale(raw[k], img.width, img.height, pre->size);
        classes[k] = it->objects[k].cls;
    }
    pixab_image_free(&img);
    if (s) return cli_error(it->path), -1;
    return 0;
}

int cmd_eval(int argc, char **argv) {
    eval_args a;
    int r = parse_args(argc, argv, &a);
    if (r) return r > 0 ? CLI_OK : CLI_FATAL;
    pixab_model *m = cli_load_model(&a.mo);
    if (!m) return CLI_FATAL;
    int rc = CLI_FATAL, n_sanity = 0, sanity_layers[EVAL_MAX_SANITY], partial = 0, n_done = 0;
    eval_dataset data = {0};
    eval_table table = {0};
    eval_ctx c = {0};
    pixab_engine *e = NULL;
    float *inputs = NULL;
    metrics_box *boxes = NULL, *raw = NULL;
    int *classes = NULL;
    cli_failures failures = {0};
    const int S = pixab_model_preproc(m)->size;
    const size_t in_floats = (size_t)S * S * 3;
    int layer = cli_layer("pixab eval", m, a.layer ? a.layer : CLI_DEFAULT_LAYER);
    if (layer < 0) goto done;
    if (eval_dataset_load(a.data, pixab_model_num_classes(m), &data)) {
        cli_error(NULL);
        goto done;
    }
    /* OUTDIR is written only at the end: one that cannot be written fails now, before the work. */
    int err = cli_make_writable_dir(a.outdir);
    if (err) {
        fprintf(stderr, "pixab eval: cannot write to output directory '%s': %s\n", a.outdir, strerror(err));
        goto done;
    }
    if (!(e = cli_create_engine(m, &a.mo))) goto done;
    int n = a.n > 0 && a.n < data.n ? (int)a.n : data.n, max_objects = 1;
    for (int i = 0; i < n; i++) max_objects = data.items[i].n_objects > max_objects ? data.items[i].n_objects : max_objects;
    int keep = a.tasks & TASK_SANITY ? (int)(a.sanity_n < n ? a.sanity_n : n) : 0; /* inputs kept for the sanity check */
    inputs = malloc(sizeof(float) * in_floats * (size_t)(keep + 1));
    boxes = malloc(sizeof *boxes * (size_t)max_objects);
    raw = malloc(sizeof *raw * (size_t)max_objects);
    classes = malloc(sizeof *classes * (size_t)max_objects);
    a.eo.layer = layer;
    c = (eval_ctx){.e = e, .m = m, .methods = a.methods.v, .n_methods = a.methods.n, .opts = a.eo,
                   .n_steps = (int)a.steps, .fgsm_steps = (int)a.fgsm_steps, .table = &table,
                   .wsol_threshold = a.wsol_threshold};
    if (!inputs || !boxes || !raw || !classes || eval_ctx_init(&c)) {
        fprintf(stderr, "pixab eval: out of memory\n");
        goto done;
    }
    double t0 = cli_now_s();
    int kept = 0;
    for (int i = 0; i < n; i++) {
        const eval_item *it = &data.items[i];
        float *input = inputs + in_floats * (size_t)(kept < keep ? kept : keep);
        int w, h;
        if (load_item(&data, it, pixab_model_preproc(m), input, boxes, raw, classes, &w, &h)) {
            partial = 1;
            if (cli_failures_add(&failures, it->path, pixab_last_error())) {
                fprintf(stderr, "pixab eval: out of memory\n");
                goto done;
            }
            continue;
        }
        uint64_t seed = (uint64_t)a.seed * 1000003u + (uint64_t)i;
        if (((a.tasks & TASK_MOD) && eval_mod(&c, input, boxes, classes, it->n_objects)) ||
            ((a.tasks & TASK_DAP1) && eval_dap1(&c, input, classes, it->n_objects, seed)) ||
            ((a.tasks & TASK_WSOL) && eval_wsol(&c, input, w, h, raw, classes, it->n_objects))) {
            cli_error(it->path);
            goto done;
        }
        kept += kept < keep;
        n_done++;
        if (a.mo.verbose) fprintf(stderr, "pixab eval: %d/%d %s (%.1f s)\n", i + 1, n, it->path, cli_now_s() - t0);
    }
    if (a.tasks & TASK_DAP2)
        for (int i = 0; i < n; i++) {
            if (eval_dap2(&c, (uint64_t)a.seed * 2000003u + (uint64_t)i)) {
                cli_error("AE2");
                goto done;
            }
            if (a.mo.verbose) fprintf(stderr, "pixab eval: AE2 %d/%d (%.1f s)\n", i + 1, n, cli_now_s() - t0);
        }
    if (a.tasks & TASK_SANITY) {
        n_sanity = eval_sanity_steps(m, sanity_layers, EVAL_MAX_SANITY);
        if (kept && eval_sanity(&c, inputs, kept, a.mo.device ? a.mo.device : "auto", (int)a.mo.batch,
                                (uint64_t)a.seed)) {
            cli_error("sanity check");
            goto done;
        }
        if (a.mo.verbose) fprintf(stderr, "pixab eval: sanity check on %d images (%.1f s)\n", kept, cli_now_s() - t0);
    }
    if ((a.tasks & TASK_WSOL) && eval_wsol_finish(&c)) {
        cli_error("wsol");
        goto done;
    }
    if (write_csv(a.outdir, &table) || write_curves(a.outdir, &a, &c) ||
        write_markdown(a.outdir, &a, &table, m, n_done, sanity_layers, n_sanity, stdout) ||
        write_plots(a.outdir, &a, &c, m, sanity_layers, n_sanity))
        goto done;
    /* The run's line in OUTDIR/runs.jsonl, as explain writes it (for pixab report). */
    cli_run_info info = {a.mo.weights, pixab_model_layer_name(m, layer), pixab_engine_device(e), a.methods.v,
                         a.methods.n, 0, 1, n_done, failures.n, cli_now_s() - t0, 0};
    if (cli_run_log_append(a.outdir, &info, &failures)) {
        fprintf(stderr, "pixab eval: cannot write '%s/runs.jsonl': %s\n", cli_shown(a.outdir), strerror(errno));
        goto done;
    }
    rc = partial ? CLI_PARTIAL : CLI_OK;
done:
    cli_failures_free(&failures);
    eval_ctx_free(&c);
    eval_table_free(&table);
    eval_dataset_free(&data);
    pixab_engine_destroy(e);
    pixab_model_free(m);
    free(inputs);
    free(boxes);
    free(raw);
    free(classes);
    return rc;
}
