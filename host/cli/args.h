/* args.h — the command line of a subcommand (args.c): flags and their values
 * (integers in a range, memory sizes, triples, the score kind, method lists). */
#ifndef PIXAB_CLI_ARGS_H
#define PIXAB_CLI_ARGS_H

#include <stddef.h>

#include "pixab.h"

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
/* --score TEXT of command cmd into *out; prints the error and returns -1. */
int cli_score(const char *cmd, const char *text, pixab_score *out);

/* Parse "pixab,ablation" (or "all") into methods[PIXAB_METHOD_COUNT], dropping
 * repeats; sets *n. Prints one line naming the valid methods and returns -1 on
 * an unknown name. `cmd` prefixes the message ("pixab explain"). */
int cli_methods(const char *cmd, const char *text, pixab_method *methods, int *n);

#endif
