/* inputs.h — the image list of a run (inputs.c): the files named and the image
 * files found by walking the directories named, each with a unique output stem. */
#ifndef PIXAB_CLI_INPUTS_H
#define PIXAB_CLI_INPUTS_H

#include "run_log.h"

/* The images of a run: the files named, and the image files found by walking
 * the directories named. */
typedef struct {
    char **paths;  /* (n) in run order: arguments in order, each directory sorted */
    char **stems;  /* (n) unique output stems (see cli_inputs_stems) */
    int n, cap;
    int failed;    /* named paths that do not exist or are not files, directories that cannot be read */
    cli_failures *failures; /* when set, each of them is also recorded here (path, the line printed) */
    int skip_set;  /* skip_dev/skip_ino: a directory never walked (the run's output directory) */
    unsigned long long skip_dev, skip_ino;
} cli_inputs;

/* Never walk into directory `dir` (the output directory, so that a run's own
 * outputs are never read back as inputs); nothing when it does not exist yet. */
void cli_inputs_skip_dir(cli_inputs *in, const char *dir);

/* Extensions taken from directories (case-insensitive): jpg jpeg png bmp tga gif. */
int cli_is_image_name(const char *name);
/* Append the inputs named in args[0..n_args): a regular file is taken
 * whatever its extension; a directory is walked recursively (hidden entries,
 * symlinked directories and the skipped directory left out), its image files
 * appended in byte-wise sorted path order. Missing or unreadable paths, inputs
 * that are not regular files (FIFOs, devices: reading one could block for
 * ever) and dangling symlinks with an image name are reported on stderr (one
 * line each), counted in in->failed and recorded in in->failures. Returns -1
 * on out-of-memory. */
int cli_inputs_collect(cli_inputs *in, char *const *args, int n_args);
/* Give every input a unique output stem: the file name without its last
 * extension (over 160 bytes: its first bytes, "~" and a hash of the whole,
 * so that every output name fits in a file name); a stem equal (ignoring
 * ASCII case) to an earlier one gets "-2", "-3", ... appended. Deterministic
 * for a given input list. -1 on out-of-memory. */
int cli_inputs_stems(cli_inputs *in);
void cli_inputs_free(cli_inputs *in);

#endif
