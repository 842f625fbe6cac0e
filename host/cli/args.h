/* args.h — the command line of a subcommand as data (args.c): a table of its
 * options (names, the kind of value, where the value goes, help text) and one
 * parser that walks argv with it; the usage text is printed from the same
 * table. Commands that run a model add the shared fragment of model_opts.h.
 * Also the value parsers behind the kinds. */
#ifndef PIXAB_CLI_ARGS_H
#define PIXAB_CLI_ARGS_H

#include <stddef.h>
#include <stdio.h>

#include "pixab.h"

typedef enum {
    CLI_END = 0, /* ends a table */
    CLI_FLAG,    /* no value: the int at `at` becomes 1 */
    CLI_STRING,  /* const char *, as given */
    CLI_INT,     /* long in [lo, hi] (cli_int) */
    CLI_SIZE,    /* size_t bytes: a memory size such as 512M (cli_size) */
    CLI_TRIPLE,  /* cli_triple: "a,b,c" or "a" */
    CLI_SCORE,   /* pixab_score: softmax or logit (cli_score) */
    CLI_METHODS, /* cli_method_list: "pixab,ablation" or "all" (cli_methods) */
    CLI_BOXES,   /* pixab_explain_opts: its Pixab-CAM boxes, "1x1,1x2" */
    CLI_CUSTOM,  /* whatever `parse` makes of it */
    CLI_LINE,    /* a line of the help only, never matched: a positional argument, -h/--help
                  * (which every command takes), a note on a shared option */
} cli_kind;

/* Parse value into dst; prints one line prefixed by cmd and returns -1 if bad. */
typedef int (*cli_parse_fn)(const char *cmd, const char *value, void *dst);

typedef struct {
    const char *short_name, *long_name; /* "-w", "--weights"; either may be NULL */
    cli_kind kind;
    size_t at;          /* offsetof the value in the options struct of the table */
    const char *meta;   /* the value's name in the help ("FILE"), or a positional argument's */
    const char *help;   /* its help, '\n' between lines; NULL: not listed (an alias) */
    long lo, hi;        /* CLI_INT: the range */
    cli_parse_fn parse; /* CLI_CUSTOM */
} cli_option;

typedef struct {
    float v[3];
    int set; /* given on the command line */
} cli_triple;

typedef struct {
    pixab_method v[PIXAB_METHOD_COUNT]; /* (n) in the order named, no repeats */
    int n;
} cli_method_list;

/* A table and the offset of the struct its `at`s are relative to, inside the
 * command's options struct (0 for the command's own). */
typedef struct {
    const cli_option *options; /* NULL: no table */
    size_t at;
} cli_table;

/* A subcommand's command line. Its help: synopsis, a line per listed option
 * (its own, then the shared fragment's), epilogue. */
typedef struct {
    const char *name;     /* "pixab explain": begins its messages */
    const char *synopsis; /* the help before the options */
    const char *epilogue; /* the help after them; NULL: none */
    cli_table tables[2];  /* its own options, then a shared fragment (cli_model_options) */
    int takes_args;       /* 1: positional arguments ("--" ends the options); 0: they are errors */
} cli_command;

/* Walk argv[1..argc) with c's tables: "-x VALUE", "--long VALUE",
 * "--long=VALUE", flags, positional arguments (into args[0..*n_args), argc
 * slots, when c takes them). Values go into opts as they come (a repeated
 * option: the last one wins). Returns 1 when parsed, 0 after printing the help
 * (-h, --help) on stdout, -1 after printing a usage error (one line). */
int cli_parse(const cli_command *c, int argc, char **argv, void *opts, char **args, int *n_args);
/* The help of c, from its synopsis, tables and epilogue. */
void cli_usage(const cli_command *c, FILE *f);

/* Parse an integer flag value in [lo, hi]; prints an error and returns -1 if bad. */
int cli_int(const char *flag, const char *value, long lo, long hi, long *out);
/* Parse a memory size: a count of bytes with an optional binary suffix K, M,
 * G or T (KiB ... TiB; "B" / "iB" after it allowed, any case): "512M", "2G".
 * Prints an error and returns -1 if bad, zero or over 2^50 bytes. */
int cli_size(const char *flag, const char *value, size_t *out);
/* Parse "a,b,c" or "a" into v[3]; prints an error and returns -1 if bad. */
int cli_floats3(const char *flag, const char *value, float v[3]);
/* --score TEXT of command cmd into *out; prints the error and returns -1. */
int cli_score(const char *cmd, const char *text, pixab_score *out);
/* Parse "pixab,ablation" (or "all") into l, dropping repeats. Prints one line
 * naming the valid methods and returns -1 on an unknown name. `cmd` prefixes
 * the message ("pixab explain"). */
int cli_methods(const char *cmd, const char *text, cli_method_list *l);
/* --wsol-threshold T (a cli_parse_fn): a float in [0, 1] at dst; prints the
 * error and returns -1. */
int cli_wsol_threshold(const char *cmd, const char *value, void *dst);

#endif
