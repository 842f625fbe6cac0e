/* cam.cuh — per-element logic of turning a raw class-activation map into the
 * output map (DESIGN.md §4: ReLU, then min-max to [0,1], all zeros when
 * max == min), shared by the CPU path and the CUDA kernels. */
#ifndef PIXAB_CAM_CUH
#define PIXAB_CAM_CUH

#include "pixab_hd.h"

PIXAB_HD float cam_relu(float v) { return v > 0.0f ? v : 0.0f; }

/* lo, hi: min and max of the ReLU'd map. */
PIXAB_HD float cam_minmax(float v, float lo, float hi) {
    return hi > lo ? (cam_relu(v) - lo) / (hi - lo) : 0.0f;
}

#endif /* PIXAB_CAM_CUH */
