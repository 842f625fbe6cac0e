/* main.c — the `pixab` command: dispatches to the subcommands. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "pixab.h"

static const char help[] =
    "pixab — fast CAM explanations (Pixab-CAM and baselines) for CNN image classifiers\n"
    "\n"
    "usage: pixab COMMAND [options]   (pixab COMMAND --help for its options)\n"
    "\n"
    "commands:\n"
    "  classify   top-K classes per image as JSON lines, logits as .npy\n"
    "  explain    CAM maps (Pixab-CAM and baselines) of images and directories: .npy, .png overlays,\n"
    "             results.jsonl\n"
    "  synth      a labelled synthetic multi-object data set: PNGs, annotations.jsonl (boxes), classes.txt\n"
    "  bench      images/s of the forward pass and of each method, as one JSON object\n"
    "  eval       the paper's evaluation suite on an annotated image set: faithfulness, localisation,\n"
    "             adversarial patches (DAP1/DAP2, DOA, #COP), sanity check; metrics.csv, tables, plots\n"
    "  merge      one results.jsonl from the shards of a sharded explain run (deduplicated, sorted)\n"
    "  layers     a model's layers: the names -l takes, their shapes and ops, the default target\n"
    "  report     a static HTML gallery of an explain or eval output directory (OUTDIR/report/index.html):\n"
    "             pages of images beside their overlays, filters, sorting, search, the run's summary\n"
    "\n"
    "  --help     this text;  --version  the version and whether CUDA is built in\n";

/* OpenBLAS chose its kernels when it loaded, from a table of CPU models; when
 * this CPU's features call for better ones, run again with them (once: the
 * variable is set then). A user's OPENBLAS_CORETYPE is kept as it is. */
static void use_best_cpu_kernels(char **argv) {
    const char *want = getenv("OPENBLAS_CORETYPE") ? NULL : pixab_cpu_kernels_wanted();
    if (!want || setenv("OPENBLAS_CORETYPE", want, 1)) return;
    execv("/proc/self/exe", argv);
    unsetenv("OPENBLAS_CORETYPE"); /* no re-run: go on with the kernels there are */
}

int main(int argc, char **argv) {
    use_best_cpu_kernels(argv);
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        fputs(help, argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_FATAL : CLI_OK;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("pixab 0.1.0 (CUDA backend %s)\n", pixab_built_with_cuda() ? "built" : "not built");
        return CLI_OK;
    }
    if (!strcmp(argv[1], "classify")) return cmd_classify(argc - 1, argv + 1);
    if (!strcmp(argv[1], "explain")) return cmd_explain(argc - 1, argv + 1);
    if (!strcmp(argv[1], "bench")) return cmd_bench(argc - 1, argv + 1);
    if (!strcmp(argv[1], "synth")) return cmd_synth(argc - 1, argv + 1);
    if (!strcmp(argv[1], "eval")) return cmd_eval(argc - 1, argv + 1);
    if (!strcmp(argv[1], "merge")) return cmd_merge(argc - 1, argv + 1);
    if (!strcmp(argv[1], "layers")) return cmd_layers(argc - 1, argv + 1);
    if (!strcmp(argv[1], "report")) return cmd_report(argc - 1, argv + 1);
    fprintf(stderr, "pixab: unknown command '%s' (see pixab --help)\n", argv[1]);
    return CLI_FATAL;
}
