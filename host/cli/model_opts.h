/* model_opts.h — the options of every subcommand that runs a model
 * (model_opts.c): -w, --device, --batch, --size, --mean, --std, --precision,
 * -v; the model and engine they make, and the target layer by name. */
#ifndef PIXAB_CLI_MODEL_OPTS_H
#define PIXAB_CLI_MODEL_OPTS_H

#include "args.h"
#include "pixab.h"

/* Shared options of commands that run a model. */
typedef struct {
    const char *weights;  /* -w / --weights */
    const char *device;   /* --device (default auto) */
    long batch;           /* --batch (0: the device's default, cli_create_engine) */
    long size;            /* --size (0: the model's) */
    cli_triple mean, std; /* --mean, --std */
    int verbose;          /* -v */
    const char *precision; /* --precision (NULL: fp32); checked by cli_create_engine */
} cli_model_opts;

/* Their table (args.h), its offsets in a cli_model_opts: -w, --device,
 * --batch, --size, --mean, --std, --precision, -v. */
extern const cli_option cli_model_options[];
/* Load the model and apply the preprocessing overrides; prints the error. */
pixab_model *cli_load_model(const cli_model_opts *o);
/* Create the engine; prints the error, and the device chosen with -v. */
pixab_engine *cli_create_engine(const pixab_model *m, const cli_model_opts *o);
/* pixab_engine_set_precision; on failure prints the reason in the CLI's
 * terms (--precision, --device) and returns -1. */
int cli_set_precision(pixab_engine *e, pixab_precision p);
/* Index of an explainable layer (one with spatial extent, H*W > 1) by name;
 * prints one line listing the valid names and returns -1 otherwise. */
/* The subcommands' default -l (explain, bench, eval): on a model without a
 * layer of that name, cli_layer takes it as the model's own default layer. */
#define CLI_DEFAULT_LAYER "Mixed_7c"
int cli_layer(const char *cmd, const pixab_model *m, const char *name);

#endif
