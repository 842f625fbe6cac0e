/* cli.h — what the pixab subcommands share: option parsing, device/batch
 * flags, JSON string output. Only the CLI prints and chooses exit codes. */
#ifndef PIXAB_CLI_H
#define PIXAB_CLI_H

#include <stdio.h>

#include "pixab.h"

/* Exit codes: 0 success, 1 some input failed (others completed), 2 usage or
 * fatal error. */
enum { CLI_OK = 0, CLI_PARTIAL = 1, CLI_FATAL = 2 };

/* If argv[*i] is the flag `short_name` or `long_name` (or "long_name=VALUE"),
 * set *value (advancing *i past a separate value) and return 1; a missing value
 * prints an error and returns -1; anything else returns 0. */
int cli_flag(int argc, char **argv, int *i, const char *short_name, const char *long_name, const char **value);
/* Parse an integer flag value in [lo, hi]; prints an error and returns -1 if bad. */
int cli_int(const char *flag, const char *value, long lo, long hi, long *out);
/* Parse a memory size: a count of bytes with an optional binary suffix K, M,
 * G or T (KiB ... TiB; "B" / "iB" after it allowed, any case): "512M", "2G".
 * Prints an error and returns -1 if bad, zero or over 2^50 bytes. */
int cli_size(const char *flag, const char *value, size_t *out);
/* Parse "a,b,c" or "a" into v[3]; prints an error and returns -1 if bad. */
int cli_floats3(const char *flag, const char *value, float v[3]);

/* Shared options of commands that run a model. */
typedef struct {
    const char *weights;  /* -w / --weights */
    const char *device;   /* --device (default auto) */
    long batch;           /* --batch */
    long size;            /* --size (0: the model's) */
    float mean[3], std[3];
    int have_mean, have_std;
    int verbose;          /* -v */
    const char *precision; /* --precision (NULL: fp32); checked by cli_create_engine */
} cli_model_opts;

/* Consume one of -w, --device, --batch, --size, --mean, --std, --precision, -v at argv[*i].
 * Returns 1 if consumed, 0 if not one of them, -1 on a bad value. */
int cli_model_flag(int argc, char **argv, int *i, cli_model_opts *o);
extern const char cli_model_help[];
/* Load the model and apply the preprocessing overrides; prints the error. */
pixab_model *cli_load_model(const cli_model_opts *o);
/* Create the engine; prints the error, and the device chosen with -v. */
pixab_engine *cli_create_engine(const pixab_model *m, const cli_model_opts *o);
/* pixab_engine_set_precision; on failure prints the reason in the CLI's
 * terms (--precision, --device) and returns -1. */
int cli_set_precision(pixab_engine *e, pixab_precision p);
/* --score TEXT of command cmd into *out; prints the error and returns -1. */
int cli_score(const char *cmd, const char *text, pixab_score *out);

/* Seconds on a monotonic clock (for timings and rates). */
double cli_now_s(void);
/* Parse "pixab,ablation" (or "all") into methods[PIXAB_METHOD_COUNT], dropping
 * repeats; sets *n. Prints one line naming the valid methods and returns -1 on
 * an unknown name. `cmd` prefixes the message ("pixab explain"). */
int cli_methods(const char *cmd, const char *text, pixab_method *methods, int *n);
/* Index of an explainable layer (one with spatial extent, H*W > 1) by name;
 * prints one line listing the valid names and returns -1 otherwise. */
int cli_layer(const char *cmd, const pixab_model *m, const char *name);

/* ---- inputs (inputs.c) ---- */

/* The images of a run: the files named, and the image files found by walking
 * the directories named. */
typedef struct {
    char **paths;  /* (n) in run order: arguments in order, each directory sorted */
    char **stems;  /* (n) unique output stems (see cli_inputs_stems) */
    int n, cap;
    int failed;    /* named paths that do not exist / directories that cannot be read */
} cli_inputs;

/* Extensions taken from directories (case-insensitive): jpg jpeg png bmp tga gif. */
int cli_is_image_name(const char *name);
/* Append the inputs named in args[0..n_args): a file is taken whatever its
 * extension; a directory is walked recursively (hidden entries and symlinked
 * directories skipped), its image files appended in byte-wise sorted path order.
 * Missing or unreadable paths are reported on stderr (one line each) and counted
 * in in->failed. Returns -1 on out-of-memory. */
int cli_inputs_collect(cli_inputs *in, char *const *args, int n_args);
/* Give every input a unique output stem: the file name without its last
 * extension; a stem equal (ignoring ASCII case) to an earlier one gets "-2",
 * "-3", ... appended. Deterministic for a given input list. -1 on out-of-memory. */
int cli_inputs_stems(cli_inputs *in);
void cli_inputs_free(cli_inputs *in);

/* ---- heat-map overlays (overlay.c) ---- */

/* matplotlib's "jet" colormap at v in [0,1] (clamped; NaN is 0), quantised to
 * 256 levels as matplotlib does; rgb: (3). */
void cli_jet(float v, unsigned char rgb[3]);
/* out (img->height, img->width, 3) = alpha * jet(upsampled map) + (1 - alpha) *
 * image, rounded. map: (h, w) in [0,1], upsampled bilinearly (half-pixel centres)
 * to the image's size. Returns a pixab status (pixab_last_error has the reason). */
pixab_status cli_overlay(const pixab_image *img, const float *map, int h, int w, float alpha, unsigned char *out);
/* Write rgb (h, w, 3) as an RGB PNG at `path` atomically (temporary name in the
 * same directory, checked writes, then rename; nothing left behind on failure).
 * Returns -1 with a one-line reason in why[cap] on failure. */
int cli_write_png(const char *path, const unsigned char *rgb, int w, int h, char *why, size_t cap);
/* mkdir -p, mode 0777 & ~umask: 0 or an errno. */
int cli_make_dirs(const char *dir);
/* Write len bytes to path atomically (temporary name, checked writes, rename);
 * -1 with a one-line reason in why on failure, nothing left behind. */
int cli_write_file(const char *path, const void *bytes, size_t len, char *why, size_t cap);
/* Finish a file opened with temp_file_open under `tmp`: close it and, when e
 * (an errno of the writes) is 0, rename it to path; else remove it. -1 with a
 * one-line reason in why on failure. */
int cli_finish_file(FILE *f, const char *tmp, const char *path, int e, char *why, size_t cap);

/* ---- contact sheet (contact_sheet.c) ---- */

typedef struct cli_sheet cli_sheet;

/* The contact sheet of `pixab explain`: a header CLI_SHEET_HEADER_H px high with
 * the column labels ("image", then the method names), then one row per image,
 * CLI_SHEET_CELL_H + CLI_SHEET_GAP px high: a label column CLI_SHEET_LABEL_W px
 * wide (stem, class), then 1 + methods columns, each as wide as the widest
 * thumbnail plus CLI_SHEET_GAP. A thumbnail is CLI_SHEET_CELL_H px high and
 * CLI_SHEET_CELL_H * w / h wide, capped at CLI_SHEET_MAX_W (then less high, to
 * keep the aspect). At most CLI_SHEET_MAX_ROWS rows. */
enum {
    CLI_SHEET_MAX_ROWS = 16,
    CLI_SHEET_CELL_H = 160,
    CLI_SHEET_MAX_W = 320,
    CLI_SHEET_HEADER_H = 28,
    CLI_SHEET_LABEL_W = 200,
    CLI_SHEET_GAP = 4,
};
cli_sheet *cli_sheet_new(const pixab_method *methods, int n_methods);
void cli_sheet_free(cli_sheet *s);
/* Add a row; returns its index, -1 when the sheet is full, -2 when out of memory. */
int cli_sheet_add_row(cli_sheet *s, const char *stem, const char *label);
int cli_sheet_rows(const cli_sheet *s);
/* Store the thumbnail of rgb (h, w, 3) at (row, col): col 0 the image, col 1 + k
 * method k. Ignored (0) for no sheet or a row/col out of range; -1 when out of
 * memory. */
int cli_sheet_set(cli_sheet *s, int row, int col, const unsigned char *rgb, int w, int h);
/* Its size in pixels, and the width of a cell column (col_w may be NULL). */
void cli_sheet_size(const cli_sheet *s, int *w, int *h, int *col_w);
/* Compose and write it with cli_write_png. */
int cli_sheet_write(const cli_sheet *s, const char *path, char *why, size_t cap);

/* ---- shards of a run (shard.c) ---- */

/* Parse --shard "I/N" (0 <= I < N); prints one line prefixed by cmd and
 * returns -1 if bad. */
int cli_shard_parse(const char *cmd, const char *value, long *i, long *n);
/* The shard from the environment, for runs without --shard: a Kubernetes
 * Indexed Job's JOB_COMPLETION_INDEX with the count in PIXAB_SHARD_COUNT (the
 * Job's completions, set by the manifest) or JOB_COMPLETION_COUNT; else a
 * Slurm array's SLURM_ARRAY_TASK_ID with SLURM_ARRAY_TASK_COUNT (less
 * SLURM_ARRAY_TASK_MIN, over SLURM_ARRAY_TASK_STEP, when set). 1 when found
 * (`from` says which variables, for -v), 0 when none is set, -1 on a bad or
 * incomplete setting (one line printed). */
int cli_shard_env(const char *cmd, long *i, long *n, char *from, size_t cap);

/* ---- results.jsonl of `pixab explain` (results.c) ---- */

/* OUTDIR/<stem>.<method>.<ext>, or OUTDIR/<stem>.<ext> without a method;
 * malloc'd (NULL when out of memory). */
char *cli_out_path(const char *outdir, const char *stem, const char *method, const char *ext);
/* Open results.jsonl for appending (O_APPEND); a torn last line (no final
 * newline) is ended first so new lines start clean. -1 with errno. */
int cli_results_open(const char *path);
/* Append one line {"image","method","layer","class","label"?,"score",
 * "score_kind","map","png"?,"ms","shared_ms"} in a single write(), so lines
 * are never torn or interleaved. -1 with errno. */
int cli_results_append(int fd, const pixab_model *m, const char *image, const char *layer, const pixab_map *map,
                       const char *npy, const char *png, double shared_ms);
/* What results.jsonl says is done, for --resume: the (map, layer) pairs of
 * its complete lines (torn or foreign lines ignored). */
typedef struct {
    char **keys; /* (n) sorted keys: the map's path, 0x1f, the layer's name */
    size_t n;
} cli_done_set;
/* Read the file open at fd (from offset 0); -1 on a read error or out of memory. */
int cli_done_load(int fd, cli_done_set *d);
/* 1 when (map, layer) is done, 0 when not, -1 when out of memory. */
int cli_done_has(const cli_done_set *d, const char *map, const char *layer);
void cli_done_free(cli_done_set *d);

/* Print the last library error as one line "pixab: CONTEXT: reason". */
void cli_error(const char *context);
/* Write s as a JSON string literal (quoted, escaped). */
void cli_json_string(FILE *f, const char *s);

int cmd_classify(int argc, char **argv);
int cmd_explain(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_synth(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_merge(int argc, char **argv);

#endif
