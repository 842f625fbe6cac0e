/* inception_v3.h — the Inception-V3 graph builder (torchvision topology). */
#ifndef PIXAB_INCEPTION_V3_H
#define PIXAB_INCEPTION_V3_H

#include "graph.h"
#include "safetensors.h"

/* Build the graph and its BN-folded weights from a checkpoint. AuxLogits.* and
 * *.num_batches_tracked are ignored; a missing or wrongly shaped tensor is an
 * error naming its key. Shapes are not inferred yet (graph_infer_shapes). */
pixab_status inception_v3_build(const safetensors *st, graph *g);

#endif
