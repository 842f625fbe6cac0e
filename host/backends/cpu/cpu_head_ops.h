/* cpu_head_ops.h — the CPU backend's generator, reduction and guided ReLU ops (backend.h:
 * every bop_kind but BOP_NETWORK), implemented in cpu_head_ops.c; the
 * backend's dispatch (cpu_backend.c) sends them here. */
#ifndef PIXAB_CPU_HEAD_OPS_H
#define PIXAB_CPU_HEAD_OPS_H

#include "backend.h"

pixab_status cpu_run_head_op(const graph *g, const backend_op *op);

#endif
