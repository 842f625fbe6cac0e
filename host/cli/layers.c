/* layers.c — `pixab layers MODEL`: the model's layers, one line each: index,
 * name (what -l takes), output shape C x H x W at the model's input size,
 * the op that produces it, and which one explain uses by default. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "pixab.h"

static const char usage[] =
    "usage: pixab layers MODEL\n"
    "Lists MODEL's layers (.safetensors or .onnx), one line each: index, name (what -l takes),\n"
    "output shape CxHxW at the model's input size, the op that produces it (conv, maxpool, avgpool,\n"
    "concat, gap, fc); the default target of explain is marked with '*'.\n";

int cmd_layers(int argc, char **argv) {
    if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        fputs(usage, stdout);
        return CLI_OK;
    }
    if (argc != 2 || argv[1][0] == '-') {
        fprintf(stderr, "pixab layers: expected one MODEL argument\n%s", usage);
        return CLI_FATAL;
    }
    pixab_model *m;
    if (pixab_model_load(argv[1], &m)) {
        cli_error(NULL);
        return CLI_FATAL;
    }
    const int n = pixab_model_num_layers(m), def = pixab_model_default_layer(m);
    int width = 4;
    for (int l = 0; l < n; l++)
        if ((int)strlen(pixab_model_layer_name(m, l)) > width) width = (int)strlen(pixab_model_layer_name(m, l));
    printf("  %3s  %-*s  %-14s  %s\n", "#", width, "name", "shape (CxHxW)", "op");
    for (int l = 0; l < n; l++) {
        int c, h, w;
        char shape[48];
        pixab_model_layer_shape(m, l, &c, &h, &w);
        snprintf(shape, sizeof shape, "%dx%dx%d", c, h, w);
        printf("%c %3d  %-*s  %-14s  %s\n", l == def ? '*' : ' ', l, width, cli_shown(pixab_model_layer_name(m, l)),
               shape, pixab_model_layer_op(m, l));
    }
    pixab_model_free(m);
    return CLI_OK;
}
