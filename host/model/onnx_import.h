/* onnx_import.h — ONNX models (opset 11-17) read with protobuf-c code that the
 * build generates from onnx.proto, and imported into pixab's graph: Conv (+
 * BatchNormalization + Relu folded), MaxPool, AveragePool, Pad before them,
 * Concat on channels, GlobalAveragePool / ReduceMean, Flatten / Reshape, Gemm
 * and MatMul + Add, Dropout and Identity. Anything else is refused in one line
 * naming the op type and the node. Nothing in the file is trusted unchecked. */
#ifndef PIXAB_ONNX_IMPORT_H
#define PIXAB_ONNX_IMPORT_H

#include <stddef.h>

#include "graph.h"

/* A parsed model file (the protobuf, unpacked). */
typedef struct onnx_model onnx_model;

/* Read and parse a file; its opset must be 11-17. Every error names the file. */
pixab_status onnx_open(const char *path, onnx_model **out);
/* The same for bytes in memory (not kept: they may be freed after the call). */
pixab_status onnx_parse(const void *buf, size_t size, onnx_model **out);
void onnx_close(onnx_model *om);
/* metadata_props value, or NULL. */
const char *onnx_meta(const onnx_model *om, const char *key);

/* Import the graph and its weights (float32 or float16 initializers, BN
 * folded). *input_size: the side of the input's static square shape, 0 when
 * the shape leaves it open. Layers: every tensor where the graph can be cut
 * (the ops after it read nothing made before it), by its ONNX name, then the
 * globally pooled tensor and the logits (the graph output); default_layer is
 * the last spatial one. Shapes are not inferred yet (graph_infer_shapes). */
pixab_status onnx_build(const onnx_model *om, graph *g, int *input_size);

#endif
