/* test_eval_cli.c — `pixab eval` end to end on the demo model and a few
 * synthetic images: metrics.csv (header, one row per method x task x metric,
 * values in their ranges, n = the observations), metrics.md, curves.csv, the
 * plots; --tasks (wsol's rows against the library's boxes); a missing image skipped (exit 1, the rest complete); bad
 * annotation files, unknown tasks and missing flags (exit 2, one line); an
 * unwritable OUTDIR fails before the work. The
 * metric values themselves are checked against Python in test_metrics.c. */
#define _POSIX_C_SOURCE 200809L

#include <criterion/criterion.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli_run.h"
#include "dataset.h"
#include "pixab.h"
#include "wsol.h"

#define DEMO PIXAB_TEST_DATA "/../../models/pixab-demo.safetensors"
/* Small and fast: 2 images, 4 deletion/insertion steps, short FGSM. */
#define FAST "--device cpu --steps 4 --fgsm-steps 20 --sanity-n 1 -n 2"

static void setup(void) { scratch_make("eval"); }
static void teardown(void) { scratch_remove(); }

TestSuite(eval, .init = setup, .fini = teardown, .timeout = 600);

static void synth(int n) {
    run_result r = runf("synth -o '%s' -n %d --seed 5", tp("set"), n);
    cr_assert_eq(r.status, 0, "%s", r.err);
}

typedef struct {
    char method[32], task[16], metric[48];
    double value;
    long n;
} csv_row;

/* Rows of OUTDIR/metrics.csv after checking its header; *count rows. */
static csv_row *read_csv(const char *outdir, int *count) {
    char path[600];
    snprintf(path, sizeof path, "%s/metrics.csv", outdir);
    char *text = read_file(path, NULL);
    cr_assert(text, "no %s", path);
    cr_assert(!strncmp(text, "method,task,metric,value,n\n", 27), "header: %.40s", text);
    csv_row *rows = calloc(1024, sizeof *rows);
    int n = 0;
    for (char *line = strchr(text, '\n') + 1; *line && n < 1024; line = strchr(line, '\n') + 1) {
        csv_row *r = &rows[n++];
        cr_assert_eq(sscanf(line, "%31[^,],%15[^,],%47[^,],%lf,%ld", r->method, r->task, r->metric, &r->value, &r->n),
                     5, "row %.60s", line);
        cr_assert(isfinite(r->value) && r->n >= 1, "row %.60s", line);
    }
    free(text);
    *count = n;
    return rows;
}

static const csv_row *find(const csv_row *rows, int n, const char *method, const char *task, const char *metric) {
    for (int i = 0; i < n; i++)
        if (!strcmp(rows[i].method, method) && !strcmp(rows[i].task, task) && !strcmp(rows[i].metric, metric))
            return &rows[i];
    return NULL;
}

static void check_png(const char *outdir, const char *name) {
    char path[600];
    snprintf(path, sizeof path, "%s/%s", outdir, name);
    pixab_image img;
    cr_assert_eq(pixab_image_load(path, &img), PIXAB_OK, "%s: %s", path, pixab_last_error());
    cr_expect(img.width == 800 && img.height == 500, "%s is %dx%d", name, img.width, img.height);
    pixab_image_free(&img);
}

Test(eval, all_tasks_write_every_metric) {
    synth(2);
    run_result r = runf("eval -w '%s' --data '%s' -m pixab,ablation,activation,gradcam " FAST " -o '%s'", DEMO,
                        tp("set/annotations.jsonl"), tp("out"));
    cr_assert_eq(r.status, 0, "exit %d: %s", r.status, r.err);
    int n;
    csv_row *rows = read_csv(tp("out"), &n);
    static const char *methods[] = {"pixab", "ablation", "activation", "gradcam"};
    for (int k = 0; k < 4; k++) {
        const char *m = methods[k];
        static const char *faith[] = {"AD", "IIC", "compactness", "deletion_auc", "insertion_auc"};
        for (int f = 0; f < 5; f++) {
            const csv_row *row = find(rows, n, m, "MOD", faith[f]);
            cr_assert(row, "%s MOD %s missing", m, faith[f]);
            cr_expect_eq(row->n, 2, "%s %s: n %ld (one per image)", m, faith[f], row->n);
            double hi = f < 2 ? 100.0 : 1.0;
            cr_expect(row->value >= 0.0 && row->value <= hi, "%s %s = %g", m, faith[f], row->value);
        }
        static const char *tasks[] = {"MOD", "DAP1", "DAP2"};
        for (int t = 0; t < 3; t++)
            for (int q = 0; q < 2; q++) {
                const csv_row *row = find(rows, n, m, tasks[t], q ? "OL" : "PG");
                cr_assert(row, "%s %s %s missing", m, tasks[t], q ? "OL" : "PG");
                cr_expect(row->value >= 0.0 && row->value <= 1.0, "%s %s = %g", m, tasks[t], row->value);
            }
        /* AE2: 4 patches per example, 2 examples. */
        cr_expect_eq(find(rows, n, m, "DAP2", "PG")->n, 8);
        const csv_row *doa = find(rows, n, m, "DAP2", "DOA"), *cop = find(rows, n, m, "DAP2", "COP");
        cr_expect(k == 2 ? !doa : doa && doa->value >= 0.0 && doa->value <= 2.0, "%s DOA", m);
        /* #COP only for channel-weight methods. */
        cr_expect(k == 0 || k == 2 ? !cop : cop && cop->value >= 0.0 && cop->value <= 100.0, "%s COP", m);
        const csv_row *wl = find(rows, n, m, "wsol", "loc_acc"), *wm = find(rows, n, m, "wsol", "maxboxacc");
        cr_expect(wl && wm && wl->value >= 0.0 && wm->value <= 1.0 && wl->n == wm->n, "%s wsol rows", m);
        const csv_row *sp = find(rows, n, m, "sanity", "spearman_fc");
        cr_assert(sp && find(rows, n, m, "sanity", "spearman_Mixed_5b"), "%s sanity rows", m);
        cr_expect(sp->value >= -1.0 && sp->value <= 1.0 && sp->n == 1, "%s spearman_fc %g n %ld", m, sp->value, sp->n);
    }
    const csv_row *zero = find(rows, n, "fgsm", "DAP1", "success_zero"), *top4 = find(rows, n, "fgsm", "DAP2", "success_top4");
    cr_assert(zero && top4 && find(rows, n, "fgsm", "DAP2", "success_patch"), "fgsm rows");
    cr_expect(zero->value >= 0.0 && zero->value <= 1.0 && top4->n == 2);
    free(rows);
    /* The tables (also printed), the curves and the plots. */
    char *md = read_file(tp("out/metrics.md"), NULL);
    cr_assert(md);
    cr_expect(strstr(md, "| Method | AD (%) ↓ |") && strstr(md, "| pixab |") && strstr(md, "| fgsm |") &&
              strstr(md, "DAP2 OL") && strstr(md, "| Mixed_7c |"), "%s", md);
    cr_expect(strstr(r.out, "### Localisation"), "stdout: %.200s", r.out);
    free(md);
    char *curves = read_file(tp("out/curves.csv"), NULL);
    cr_assert(curves);
    cr_expect(!strncmp(curves, "method,curve,step,fraction,score\n", 33));
    cr_expect_eq(count_lines(curves), 1 + 4 * 2 * 5, "curves.csv lines");
    cr_expect(strstr(curves, "gradcam,insertion,4,1,"), "the last insertion point is at fraction 1");
    free(curves);
    check_png(tp("out"), "deletion.png");
    check_png(tp("out"), "insertion.png");
    check_png(tp("out"), "sanity.png");
}

/* --tasks wsol: loc_acc and miou are the means, over every (image, class
 * present), of what the library gives for that class's maps (wsol_map_box at
 * the image's size, best IoU against the class's boxes: both checked by hand
 * and against scipy in test_wsol.c); maxboxacc has the same n, is at least
 * loc_acc (0.3 is one of its thresholds) and names its threshold. */
Test(eval, wsol_rows_are_the_librarys) {
    synth(2);
    run_result r = runf("eval -w '%s' --data '%s' -m activation,gradcam --tasks wsol --wsol-threshold 0.3 "
                        "--device cpu -o '%s'", DEMO, tp("set/annotations.jsonl"), tp("out"));
    cr_assert_eq(r.status, 0, "exit %d: %s", r.status, r.err);
    int n;
    csv_row *rows = read_csv(tp("out"), &n);
    pixab_model *m;
    pixab_engine *e;
    cr_assert_eq(pixab_model_load(DEMO, &m), PIXAB_OK);
    cr_assert_eq(pixab_engine_create(m, "cpu", 4, &e), PIXAB_OK);
    eval_dataset d;
    cr_assert_eq(eval_dataset_load(tp("set/annotations.jsonl"), pixab_model_num_classes(m), &d), PIXAB_OK);
    const pixab_method ms[2] = {PIXAB_METHOD_ACTIVATION, PIXAB_METHOD_GRADCAM};
    double loc[2] = {0}, miou[2] = {0};
    int obs = 0;
    float *x = malloc(sizeof(float) * 299 * 299 * 3);
    for (int i = 0; i < d.n; i++) {
        pixab_image img;
        cr_assert_eq(pixab_image_load(d.items[i].path, &img), PIXAB_OK);
        cr_assert_eq(pixab_image_preprocess(&img, pixab_model_preproc(m), x), PIXAB_OK);
        for (int j = 0; j < d.items[i].n_objects; j++) {
            const int cls = d.items[i].objects[j].cls;
            int first = 1;
            for (int q = 0; q < j; q++) first &= d.items[i].objects[q].cls != cls;
            if (!first) continue;
            metrics_box gt[16];
            int nb = 0;
            for (int q = j; q < d.items[i].n_objects && nb < 16; q++)
                if (d.items[i].objects[q].cls == cls) {
                    const int *b = d.items[i].objects[q].box;
                    gt[nb++] = (metrics_box){b[0], b[1], b[2], b[3]};
                }
            pixab_explain_opts o = {.layer = pixab_model_default_layer(m), .cls = cls};
            pixab_map maps[2];
            cr_assert_eq(pixab_explain(e, x, ms, 2, &o, maps), PIXAB_OK, "%s", pixab_last_error());
            for (int k = 0; k < 2; k++) {
                metrics_box b;
                cr_assert_eq(wsol_map_box(maps[k].map, maps[k].h, maps[k].w, img.width, img.height, 0.3f, &b),
                             PIXAB_OK);
                const double iou = wsol_best_iou(b, gt, nb);
                loc[k] += iou >= 0.5, miou[k] += iou;
                pixab_map_free(&maps[k]);
            }
            obs++;
        }
        pixab_image_free(&img);
    }
    cr_assert(obs > 0);
    for (int k = 0; k < 2; k++) {
        const char *name = pixab_method_name(ms[k]);
        const csv_row *l = find(rows, n, name, "wsol", "loc_acc"), *mi = find(rows, n, name, "wsol", "miou");
        const csv_row *mb = find(rows, n, name, "wsol", "maxboxacc"), *th = find(rows, n, name, "wsol", "maxboxacc_threshold");
        cr_assert(l && mi && mb && th, "%s: wsol rows", name);
        cr_expect(l->n == obs && mi->n == obs && mb->n == obs, "%s: n %ld %ld %ld, want %d", name, l->n, mi->n, mb->n,
                  obs);
        cr_expect(fabs(l->value - loc[k] / obs) < 1e-5, "%s loc_acc %g, library %g", name, l->value, loc[k] / obs);
        cr_expect(fabs(mi->value - miou[k] / obs) < 1e-5, "%s miou %g, library %g", name, mi->value, miou[k] / obs);
        cr_expect(mb->value <= 1.0 && mb->value >= l->value - 1e-9, "%s maxboxacc %g", name,
                  mb->value);
        cr_expect(th->value >= 0.05 - 1e-6 && th->value <= 0.95 + 1e-6 && th->n == 1, "%s threshold %g", name, th->value);
    }
    cr_expect(!find(rows, n, "gradcam", "MOD", "PG"), "--tasks wsol runs wsol alone");
    char *md = read_file(tp("out/metrics.md"), NULL);
    cr_assert(md);
    cr_expect(strstr(md, "### Weakly supervised localisation (WSOL)") && strstr(md, "0.3 x max"), "%s", md);
    free(md);
    free(rows), free(x);
    eval_dataset_free(&d);
    pixab_engine_destroy(e);
    pixab_model_free(m);
}

/* One more line at the end of set/annotations.jsonl. */
static void append_annotation(const char *line) {
    char *ann = read_file(tp("set/annotations.jsonl"), NULL);
    cr_assert(ann);
    char *text = malloc(strlen(ann) + strlen(line) + 2);
    sprintf(text, "%s%s\n", ann, line);
    write_text(tp("set/annotations.jsonl"), text);
    free(ann);
    free(text);
}

Test(eval, tasks_select_rows_and_a_missing_image_is_skipped) {
    synth(2);
    /* A third line names an image that does not exist. */
    append_annotation("{\"image\":\"gone.png\",\"objects\":[{\"class\":1,\"box\":[1,2,30,40]}]}");
    run_result r = runf("eval -w '%s' --data '%s' -m pixab --tasks mod --device cpu --steps 3 -o '%s'", DEMO,
                        tp("set/annotations.jsonl"), tp("out"));
    cr_assert_eq(r.status, 1, "exit %d: %s", r.status, r.err);
    cr_expect(strstr(r.err, "gone.png") && count_lines(r.err) == 1, "stderr: %s", r.err);
    int n;
    csv_row *rows = read_csv(tp("out"), &n);
    cr_expect(find(rows, n, "pixab", "MOD", "AD") && find(rows, n, "pixab", "MOD", "AD")->n == 2);
    for (int i = 0; i < n; i++) cr_expect(!strcmp(rows[i].task, "MOD"), "row of task %s", rows[i].task);
    free(rows);
    cr_expect(exists(tp("out/deletion.png")) && !exists(tp("out/sanity.png")));
    /* The run's line in runs.jsonl (pixab report reads it): the model, 2 images, the missing one and why. */
    char *runs = read_file(tp("out/runs.jsonl"), NULL);
    cr_assert_not_null(runs);
    cr_expect(strstr(runs, "\"layer\":\"Mixed_7c\",\"device\":\"cpu\",\"methods\":[\"pixab\"]") &&
                  strstr(runs, "\"images\":2,\"failed\":1,") && strstr(runs, "gone.png': No such file") &&
                  strchr(runs, '\n') == runs + strlen(runs) - 1,
              "%s", runs);
    free(runs);
}

/* A box wholly outside its image is an error naming the annotation line; the
 * image is skipped, the others evaluated (exit 1). */
Test(eval, box_outside_the_image_names_its_line) {
    synth(1);
    append_annotation("{\"image\":\"00000.png\",\"objects\":[{\"class\":1,\"box\":[5000,10,5010,40]}]}");
    run_result r = runf("eval -w '%s' --data '%s' -m activation --tasks mod --device cpu --steps 3 -o '%s'", DEMO,
                        tp("set/annotations.jsonl"), tp("out"));
    cr_assert_eq(r.status, 1, "exit %d: %s", r.status, r.err);
    cr_expect(strstr(r.err, "annotations.jsonl:2: object 0: box [5000,10,5010,40] lies outside the ") &&
                  count_lines(r.err) == 1,
              "stderr: %s", r.err);
}

Test(eval, bad_input_is_one_line_and_exit_2) {
    synth(1);
    struct {
        const char *annotations, *args, *expect;
    } cases[] = {
        {NULL, "--tasks mod,nope", "unknown task 'nope'"},
        {NULL, "-m pixab,nope", "unknown method"},
        {NULL, "-l avgpool", "avgpool"},
        {"{\"image\":\"00000.png\",\"objects\":[]}\n{\"image\":\"x.png\"\n", "", "annotations.jsonl:2:"},
        {"{\"image\":\"00000.png\",\"objects\":[{\"class\":8,\"box\":[0,0,5,5]}]}\n", "", "\"class\" must be"},
        {"{\"image\":\"00000.png\",\"objects\":[{\"class\":1,\"box\":[9,0,5,5]}]}\n", "", "\"box\" must be"},
        {"\n", "", "lists no images"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (cases[i].annotations) write_text(tp("set/annotations.jsonl"), cases[i].annotations);
        run_result r = runf("eval -w '%s' --data '%s' --device cpu %s -o '%s'", DEMO, tp("set/annotations.jsonl"),
                            cases[i].args, tp("out"));
        cr_expect_eq(r.status, 2, "case %zu: exit %d", i, r.status);
        cr_expect(strstr(r.err, cases[i].expect) && count_lines(r.err) == 1, "case %zu: %s", i, r.err);
    }
    run_result r = runf("eval -w '%s' --device cpu", DEMO);
    cr_expect(r.status == 2 && strstr(r.err, "--data"), "%s", r.err);
    r = runf("eval -w '%s' --data '%s' --device cpu", DEMO, tp("nothing.jsonl"));
    cr_expect(r.status == 2 && strstr(r.err, "cannot open") && count_lines(r.err) == 1, "%s", r.err);
    r = run("eval --help");
    cr_expect(r.status == 0 && strstr(r.out, "metrics.csv") && strstr(r.out, "--tasks"), "%s", r.out);
}

/* OUTDIR is checked before the work: one that exists but cannot be written
 * (/proc/self even for root; a read-only directory for anyone else) fails at
 * once, exit 2 in one line naming it, before any image is evaluated (-v
 * prints none); a writable one is left with no trace of the check. */
Test(eval, unwritable_outdir_fails_before_the_work) {
    synth(2);
    const char *bad[2] = {"/proc/self", NULL};
    if (geteuid() != 0) {
        mkdirs("ro");
        cr_assert_eq(chmod(tp("ro"), 0555), 0);
        bad[1] = tp("ro");
    }
    for (int i = 0; i < 2 && bad[i]; i++) {
        run_result r = runf("eval -v -w '%s' --data '%s' -m activation --tasks mod --device cpu --steps 3 -o '%s'",
                            DEMO, tp("set/annotations.jsonl"), bad[i]);
        cr_expect_eq(r.status, 2, "'%s': exit %d: %s", bad[i], r.status, r.err);
        cr_expect(strstr(r.err, "cannot write to output directory") && strstr(r.err, bad[i]), "%s", r.err);
        cr_expect_null(strstr(r.err, "00000.png"), "no image was evaluated: %s", r.err);
        cr_expect_eq(count_lines(r.err), 1, "%s", r.err);
    }
    run_result r = runf("eval -w '%s' --data '%s' -m activation --tasks mod --device cpu --steps 3 -n 1 -o '%s'", DEMO,
                        tp("set/annotations.jsonl"), tp("out"));
    cr_assert_eq(r.status, 0, "exit %d: %s", r.status, r.err);
    DIR *d = opendir(tp("out"));
    cr_assert(d);
    int entries = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        entries++;
        cr_expect(!strstr(e->d_name, "write-check") && !strstr(e->d_name, ".tmp."), "left behind: %s", e->d_name);
    }
    closedir(d);
    cr_expect(entries > 0 && exists(tp("out/metrics.csv")));
}
