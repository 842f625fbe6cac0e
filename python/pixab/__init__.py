"""pixab: CAM explanations (Pixab-CAM, Ablation-, Activation-, Grad-,
Grad-CAM++, XGrad- and Score-CAM) of CNN image classifiers, a thin binding of
the pixab C library (include/pixab.h) loaded with ctypes.

    import pixab
    model = pixab.Model("models/pixab-demo.safetensors")
    engine = pixab.Engine(model, device="auto")
    result = engine.explain("examples/images/00000.png", methods=("pixab", "gradcam"))
    m = result["pixab"].map                     # float32 (h, w) in [0, 1]
    rgb = pixab.overlay("examples/images/00000.png", m)   # uint8 (H, W, 3)

Images: file paths, PIL images, uint8 (H, W, 3) RGB arrays, or preprocessed
float32 (S, S, 3) arrays. Failures raise pixab.Error subclasses carrying the
library's one-line message and its status. The library runs without the GIL;
an engine serves one thread at a time.
"""
from ._lib import lib as _native
from .engine import METHODS, Engine, Explanation
from .errors import (ArgumentError, CancelledError, DeviceError, EngineBusyError, Error, FileError, FormatError,
                     OutOfMemoryError, ShapeError, Status, UnsupportedError)
from .images import load_image, overlay, upsample
from .model import Layer, Model, Preproc

__version__ = "0.1.0"


def built_with_cuda():
    """True when this build of the library includes the CUDA backend."""
    return bool(_native.pixab_built_with_cuda())


def cuda_device_count():
    """Number of usable CUDA devices (0 without CUDA)."""
    return _native.pixab_cuda_device_count()


__all__ = ["METHODS", "Engine", "Explanation", "Model", "Layer", "Preproc", "load_image", "overlay", "upsample",
           "built_with_cuda",
           "cuda_device_count", "Status", "Error", "ArgumentError", "FileError", "FormatError", "ShapeError",
           "OutOfMemoryError", "DeviceError", "UnsupportedError", "CancelledError", "EngineBusyError"]
