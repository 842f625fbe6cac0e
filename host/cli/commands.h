/* commands.h — the subcommands main.c dispatches to, one entry each, each in
 * the file of its name (classify.c, explain.c, bench.c, synth.c, eval.c,
 * merge.c, layers.c, report.c): argv[0] is the command's name; the result is the exit status. */
#ifndef PIXAB_CLI_COMMANDS_H
#define PIXAB_CLI_COMMANDS_H

int cmd_classify(int argc, char **argv);
int cmd_explain(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_synth(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_merge(int argc, char **argv);
int cmd_layers(int argc, char **argv);
int cmd_report(int argc, char **argv);

#endif
