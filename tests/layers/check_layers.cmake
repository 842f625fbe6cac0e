# check_layers.cmake — the layer rule of DESIGN.md §2 as a test (issue #13): a
# file of a layer that includes a higher layer's header must fail to build.
# For each layer it compiles one-line translation units (#include "H") with
# exactly that layer's include path (written by CMakeLists.txt into
# LAYERS_DIR/<target>.inc, one directory a line) and the C compiler the build
# uses (-fsyntax-only):
#   SEE:  headers the layer may use (its own first): must compile, which proves
#         that the command and the include path work;
#   HIDE: headers of the layers above it, and the backends for the layers
#         above the engine: must fail, and fail because the header is not
#         found (the compiler's message names it), not for another reason.
# Run by ctest (layer_includes): cmake -DCC=... -DLAYERS_DIR=... -DCUDA=ON|OFF -P this.
cmake_minimum_required(VERSION 3.22)
foreach(v CC LAYERS_DIR CUDA)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "check_layers: -D${v}=... missing")
  endif()
endforeach()

set(cuda_h "")
if(CUDA)
  set(cuda_h cuda_backend.h) # kernels/: only in a CUDA build
endif()
# layer target | SEE (own header first) | HIDE
set(rules
  "pixab_io|json.h error.h npy.h temp_file.h safetensors.h pixab.h preprocess.cuh|model.h graph.h backend.h cpu_head_ops.h cuda_backend.h engine.h cam.h tasks.h metrics.h cli.h"
  "pixab_model|model.h graph.h inception_v3.h json.h|backend.h cpu_head_ops.h cuda_backend.h engine.h cam.h tasks.h cli.h"
  "pixab_backend_cpu|cpu_head_ops.h backend.h model.h nn.cuh ablate.cuh map.cuh|cuda_backend.h engine.h cam.h tasks.h cli.h"
  "pixab_engine|engine.h backend.h ${cuda_h} model.h|cam.h tasks.h metrics.h cli.h"
  "pixab_methods|cam.h engine.h|backend.h cpu_head_ops.h cuda_backend.h tasks.h metrics.h cli.h"
  "pixab_eval|tasks.h metrics.h rng.h json.h pixab.h|cam.h engine.h model.h graph.h backend.h cpu_head_ops.h cuda_backend.h cli.h"
  "pixab_cli_lib|cli.h pipeline.h tasks.h json.h rng.h pixab.h|cam.h engine.h model.h graph.h backend.h cpu_head_ops.h cuda_backend.h")
if(CUDA)
  list(APPEND rules "pixab_backend_cuda|cuda_backend.h backend.h model.h|cpu_head_ops.h engine.h cam.h tasks.h cli.h")
endif()

set(work "${LAYERS_DIR}/probe")
file(REMOVE_RECURSE "${work}")
file(MAKE_DIRECTORY "${work}")
set(failures 0)
set(checked 0)
foreach(rule ${rules})
  string(REPLACE "|" ";" parts "${rule}")
  list(GET parts 0 layer)
  list(GET parts 1 see)
  list(GET parts 2 hide)
  separate_arguments(see UNIX_COMMAND "${see}")
  separate_arguments(hide UNIX_COMMAND "${hide}")
  file(STRINGS "${LAYERS_DIR}/${layer}.inc" dirs)
  if(NOT dirs)
    message(FATAL_ERROR "check_layers: no include path for ${layer} in ${LAYERS_DIR}")
  endif()
  set(flags "")
  foreach(d ${dirs})
    list(APPEND flags "-I${d}")
  endforeach()
  foreach(kind see hide)
    foreach(h ${${kind}})
      string(MAKE_C_IDENTIFIER "${layer}_includes_${h}" stem)
      set(tu "${work}/${stem}.c")
      file(WRITE "${tu}" "/* a file of ${layer} */\n#include \"${h}\"\n")
      execute_process(COMMAND "${CC}" -std=c11 -D_POSIX_C_SOURCE=200809L -fsyntax-only ${flags} "${tu}"
        RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
      math(EXPR checked "${checked} + 1")
      if(kind STREQUAL "see" AND NOT rc EQUAL 0)
        message("FAIL ${layer} cannot include ${h}, which it may use:\n${out}")
        math(EXPR failures "${failures} + 1")
      elseif(kind STREQUAL "hide")
        # gcc: "H: No such file or directory", clang: "'H' file not found"; a
        # header found that fails on one of its own includes does not count.
        string(REPLACE "." "\\." hre "${h}")
        if(rc EQUAL 0)
          message("FAIL ${layer} includes ${h} (a higher layer's header) and builds")
          math(EXPR failures "${failures} + 1")
        elseif(NOT out MATCHES "(^|[^A-Za-z0-9_/])${hre}: No such file|'${hre}' file not found")
          message("FAIL ${layer} including ${h} fails, but not because ${h} is out of reach:\n${out}")
          math(EXPR failures "${failures} + 1")
        endif()
      endif()
    endforeach()
  endforeach()
  list(LENGTH see ns)
  list(LENGTH hide nh)
  message("check_layers: ${layer}: may include ${ns} headers, cannot include ${nh}")
endforeach()
if(failures)
  message(FATAL_ERROR "check_layers: ${failures} of ${checked} include checks failed")
endif()
message("check_layers: all ${checked} include checks hold")
