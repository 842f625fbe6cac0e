"""_lib.py: loads libpixab.so (built by CMake with PIXAB_SHARED=ON, installed
beside this file) with ctypes and declares the public C API of include/pixab.h
that the package uses: the structs it passes by pointer and each function's
argument and result types. ctypes releases the GIL around every foreign call.
"""
import ctypes
import os
import warnings
from ctypes import POINTER, c_char_p, c_double, c_float, c_int, c_ubyte, c_void_p

MAX_BOXES = 16  # PIXAB_MAX_BOXES


class Image(ctypes.Structure):  # pixab_image
    _fields_ = [("width", c_int), ("height", c_int), ("rgb", POINTER(c_ubyte))]  # rgb: (height, width, 3)


class Preproc(ctypes.Structure):  # pixab_preproc
    _fields_ = [("size", c_int), ("mean", c_float * 3), ("std", c_float * 3)]


class ExplainOpts(ctypes.Structure):  # pixab_explain_opts
    _fields_ = [("layer", c_int), ("cls", c_int), ("score", c_int), ("n_boxes", c_int),
                ("box_h", c_int * MAX_BOXES), ("box_w", c_int * MAX_BOXES)]


class Map(ctypes.Structure):  # pixab_map
    _fields_ = [("method", c_int), ("h", c_int), ("w", c_int), ("map", POINTER(c_float)), ("cls", c_int),
                ("score", c_float), ("score_kind", c_int), ("ms", c_double), ("weights", POINTER(c_float)),
                ("k", c_int)]


def _library_path():
    """PIXAB_LIBRARY (a libpixab.so of a build folder, for development), else
    the one installed beside this file."""
    path = os.environ.get("PIXAB_LIBRARY")
    return path if path else os.path.join(os.path.dirname(os.path.abspath(__file__)), "libpixab.so")


lib = ctypes.CDLL(_library_path())

_model_p = c_void_p  # pixab_model *
_engine_p = c_void_p  # pixab_engine *
_f32_p = POINTER(c_float)

# name: (result type, argument types); a status result is c_int.
_PROTOTYPES = {
    "pixab_last_error": (c_char_p, []),
    "pixab_status_name": (c_char_p, [c_int]),
    "pixab_image_load": (c_int, [c_char_p, POINTER(Image)]),
    "pixab_image_free": (None, [POINTER(Image)]),
    "pixab_image_preprocess": (c_int, [POINTER(Image), POINTER(Preproc), _f32_p]),
    "pixab_model_load": (c_int, [c_char_p, POINTER(_model_p)]),
    "pixab_model_free": (None, [_model_p]),
    "pixab_model_num_classes": (c_int, [_model_p]),
    "pixab_model_preproc": (POINTER(Preproc), [_model_p]),
    "pixab_model_set_preproc": (c_int, [_model_p, POINTER(Preproc)]),
    "pixab_model_class_name": (c_char_p, [_model_p, c_int]),
    "pixab_model_num_layers": (c_int, [_model_p]),
    "pixab_model_default_layer": (c_int, [_model_p]),
    "pixab_model_layer_name": (c_char_p, [_model_p, c_int]),
    "pixab_model_find_layer": (c_int, [_model_p, c_char_p]),
    "pixab_model_layer_shape": (c_int, [_model_p, c_int, POINTER(c_int), POINTER(c_int), POINTER(c_int)]),
    "pixab_model_layer_op": (c_char_p, [_model_p, c_int]),
    "pixab_engine_create": (c_int, [_model_p, c_char_p, c_int, POINTER(_engine_p)]),
    "pixab_engine_destroy": (None, [_engine_p]),
    "pixab_engine_device": (c_char_p, [_engine_p]),
    "pixab_engine_input_size": (c_int, [_engine_p]),
    "pixab_engine_max_batch": (c_int, [_engine_p]),
    "pixab_precision_from_name": (c_int, [c_char_p]),
    "pixab_precision_name": (c_char_p, [c_int]),
    "pixab_engine_set_precision": (c_int, [_engine_p, c_int]),
    "pixab_engine_precision": (c_int, [_engine_p]),
    "pixab_engine_forward": (c_int, [_engine_p, _f32_p, c_int, _f32_p]),
    "pixab_method_name": (c_char_p, [c_int]),
    "pixab_method_from_name": (c_int, [c_char_p]),
    "pixab_score_name": (c_char_p, [c_int]),
    "pixab_score_from_name": (c_int, [c_char_p]),
    "pixab_parse_boxes": (c_int, [c_char_p, POINTER(ExplainOpts)]),
    "pixab_explain_batch": (c_int, [_engine_p, _f32_p, c_int, POINTER(c_int), c_int, POINTER(ExplainOpts),
                                    POINTER(c_int), POINTER(Map)]),
    "pixab_explain_images": (c_int, [_engine_p, POINTER(Image), c_int, POINTER(Preproc), POINTER(c_int), c_int,
                                     POINTER(ExplainOpts), POINTER(c_int), POINTER(Map)]),
    "pixab_map_free": (None, [POINTER(Map)]),
    "pixab_map_upsample": (c_int, [_f32_p, c_int, c_int, c_int, c_int, _f32_p]),
    "pixab_map_overlay": (c_int, [POINTER(Image), _f32_p, c_int, c_int, c_float, POINTER(c_ubyte)]),
    "pixab_softmax": (None, [_f32_p, c_int, c_int]),
    "pixab_cpu_kernels_wanted": (c_char_p, []),
    "pixab_cuda_device_count": (c_int, []),
    "pixab_built_with_cuda": (c_int, []),
}
for _name, (_res, _args) in _PROTOTYPES.items():
    _fn = getattr(lib, _name)
    _fn.restype, _fn.argtypes = _res, _args


class Handle:
    """A C object (pixab_model *, pixab_engine *) owned by a Python object:
    freed by close(), at the end of a with block, or when collected.
    Subclasses name the C function that frees it (_free_name) and what it is
    (_what), and keep the pointer in self._ptr."""

    _free_name = None
    _what = None

    def _handle(self):
        """The pointer; ArgumentError once closed."""
        if not self._ptr:
            from .errors import ArgumentError  # errors imports this module
            raise ArgumentError("the %s is closed" % self._what)
        return self._ptr

    def _free(self):
        if getattr(self, "_ptr", None):
            getattr(lib, self._free_name)(self._ptr)
            self._ptr = c_void_p()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        self._free()


def last_error():
    """This thread's one-line reason for the library's last failure."""
    return lib.pixab_last_error().decode("utf-8", "replace")


def f32_ptr(a):
    """A float * to the data of a C-contiguous float32 numpy array (which the
    caller keeps alive). From the address: ndarray.ctypes.data_as would make
    a reference cycle per call, garbage until the collector runs."""
    return ctypes.cast(a.ctypes.data, _f32_p)


def u8_ptr(a):
    """An unsigned char * to the data of a C-contiguous uint8 numpy array."""
    return ctypes.cast(a.ctypes.data, POINTER(c_ubyte))


# OpenBLAS picks its kernels when it loads (with this library), and a CPU newer
# than its table gets the slowest ones (AMD's AVX-512 gets AVX-512 kernels that
# are slower there than the AVX2 ones); the pixab command re-runs itself with
# OPENBLAS_CORETYPE set, which a library cannot do for its host process.
_wanted = lib.pixab_cpu_kernels_wanted()
if _wanted and not os.environ.get("OPENBLAS_CORETYPE"):
    warnings.warn("pixab: OpenBLAS runs slower kernels than this CPU's best; set OPENBLAS_CORETYPE=%s before "
                  "starting Python" % _wanted.decode(), RuntimeWarning, stacklevel=2)
