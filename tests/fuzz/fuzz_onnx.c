/* fuzz_onnx.c — libFuzzer target for the ONNX loader: the protobuf-c parser
 * generated from onnx.proto, then the graph import. Any input must either fail
 * cleanly with a reason or give a graph whose every op, tensor and layer is
 * consistent and whose shapes infer or fail cleanly. Build and run: see
 * README.md in this folder. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "onnx_import.h"

static void check(int cond) {
    if (!cond) abort(); /* an invariant broke: libFuzzer reports it as a crash */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    onnx_model *om = NULL;
    if (onnx_parse(data, size, &om) != PIXAB_OK) {
        check(om == NULL && pixab_last_error()[0] != '\0');
        return 0;
    }
    (void)onnx_meta(om, "pixab.mean");
    (void)onnx_meta(om, "pixab.classes");
    graph g;
    int size_in = -1;
    pixab_status s = onnx_build(om, &g, &size_in);
    onnx_close(om);
    if (s != PIXAB_OK) {
        check(g.ops == NULL && g.params == NULL && pixab_last_error()[0] != '\0' &&
              !strchr(pixab_last_error(), '\n'));
        return 0;
    }
    check(size_in >= 0 && size_in <= PIXAB_IMAGE_MAX_SIDE);
    check(g.n_layers >= 3 && g.default_layer >= 0 && g.default_layer < g.n_layers - 2);
    check(g.n_tensors >= 2 && g.tensors[0].c == 3);
    for (int i = 0; i < g.n_ops; i++) {
        const graph_op *o = &g.ops[i];
        check(o->src >= 0 && o->src < g.n_tensors && o->dst > 0 && o->dst < g.n_tensors);
        check(o->c_in == g.tensors[o->src].c && o->dst_c0 >= 0 && o->dst_c0 + o->c_out <= g.tensors[o->dst].c);
        if (graph_op_inputs(o) > 1) /* the second input: a tensor of as many channels */
            check(o->src2 >= 0 && o->src2 < g.n_tensors && g.tensors[o->src2].c == o->c_in);
        if (o->kind == OP_CONV) /* groups divide both channel counts */
            check(o->group >= 1 && o->c_in % o->group == 0 && o->c_out % o->group == 0 && o->d_h >= 1 && o->d_w >= 1);
        size_t w = graph_op_weights(o);
        if (w) check(o->w_off + w <= g.n_params && o->b_off + (size_t)o->c_out <= g.n_params);
        /* read every weight so ASan sees the whole allocation */
        volatile float sink = 0;
        for (size_t k = 0; k < w; k++) sink += g.params[o->w_off + k];
        (void)sink;
    }
    for (int l = 0; l < g.n_layers; l++)
        check(g.layers[l].end_op >= 1 && g.layers[l].end_op <= g.n_ops && g.layers[l].out < g.n_tensors &&
              (l == 0 || g.layers[l].end_op > g.layers[l - 1].end_op));
    check(g.layers[g.n_layers - 1].end_op == g.n_ops);
    s = graph_infer_shapes(&g, size_in ? size_in : 64);
    check(s == PIXAB_OK || pixab_last_error()[0] != '\0');
    graph_free(&g);
    return 0;
}
