/* report_data.h — what `pixab report` shows, read from an output directory
 * (report_data.c): results.jsonl grouped into images (an image's maps side
 * by side), runs.jsonl (the runs and their failures) and an eval run's
 * metrics.csv. Every string is kept as read: bytes, hostile or not. */
#ifndef PIXAB_CLI_REPORT_DATA_H
#define PIXAB_CLI_REPORT_DATA_H

#include <stddef.h>

enum { REPORT_MAX_METHODS = 32, REPORT_MAX_LAYERS = 16 };

/* One results.jsonl line, its strings in one block (fields NULL when absent). */
typedef struct {
    const char *image, *label, *kind, *png, *npy; /* png, npy: file names, their directory dropped */
    int method, layer;   /* indices in report_data's methods and layers */
    int cls;             /* -1 when the line has none */
    int has_score;
    double score, ms, shared_ms;
    size_t seq;          /* the line's place in the file */
} report_line;

/* An image: its lines by method (the last line of each wins), NULL where none. */
typedef struct {
    const report_line *last;                     /* its last line: path, class, label */
    const report_line *map[REPORT_MAX_METHODS];  /* by method */
    size_t first_seq;                            /* its first line's place in the file */
} report_image;

/* A run of runs.jsonl (strings owned by the data). */
typedef struct {
    char *time, *model, *layer, *device, *methods; /* methods: comma-separated */
    double images, failed, seconds, images_per_s;
    int interrupted;
} report_run;

/* A metrics.csv row. */
typedef struct {
    char *method, *task, *metric;
    double value, n;
} report_metric;

typedef struct {
    report_line *lines;   /* (n_lines) in file order */
    size_t n_lines, skipped; /* skipped: lines that are not results lines (torn, foreign, other methods) */
    report_image *images; /* (n_images) in the order of their first line */
    size_t n_images;
    const char **by_name; /* (n_images) the images' paths, sorted byte-wise */
    char *methods[REPORT_MAX_METHODS]; /* (n_methods) in the order first seen */
    int n_methods;
    char *layers[REPORT_MAX_LAYERS];   /* (n_layers) */
    size_t layer_lines[REPORT_MAX_LAYERS];
    int n_layers;
    int has_results;      /* results.jsonl exists */
    report_run *runs;     /* (n_runs) runs.jsonl's lines, in order */
    size_t n_runs;
    char **fail_input, **fail_reason; /* (n_fail) failures of every run */
    size_t n_fail;
    report_metric *metrics; /* (n_metrics) metrics.csv's rows */
    size_t n_metrics;
    int has_metrics;        /* metrics.csv exists */
} report_data;

/* Read OUTDIR's results.jsonl, runs.jsonl and metrics.csv (each optional).
 * 0, or -1 with a one-line reason in why (a file that exists but cannot be
 * read, out of memory). */
int report_data_read(report_data *d, const char *outdir, char *why, size_t cap);
void report_data_free(report_data *d);
/* 1 when some image of d has `image` as its path. */
int report_data_has_image(const report_data *d, const char *image);

#endif
