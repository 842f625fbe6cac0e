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
} cli_model_opts;

/* Consume one of -w, --device, --batch, --size, --mean, --std, -v at argv[*i].
 * Returns 1 if consumed, 0 if not one of them, -1 on a bad value. */
int cli_model_flag(int argc, char **argv, int *i, cli_model_opts *o);
extern const char cli_model_help[];
/* Load the model and apply the preprocessing overrides; prints the error. */
pixab_model *cli_load_model(const cli_model_opts *o);
/* Create the engine; prints the error, and the device chosen with -v. */
pixab_engine *cli_create_engine(const pixab_model *m, const cli_model_opts *o);

/* Print the last library error as one line "pixab: CONTEXT: reason". */
void cli_error(const char *context);
/* Write s as a JSON string literal (quoted, escaped). */
void cli_json_string(FILE *f, const char *s);

int cmd_classify(int argc, char **argv);

#endif
