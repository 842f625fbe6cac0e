"""model.py: pixab.Model, a loaded classifier (pixab_model): its classes,
addressable layers and preprocessing."""
import ctypes
import numbers
import os
import weakref
from collections import namedtuple

from ._lib import Preproc as _PreprocStruct
from ._lib import Handle, lib
from .errors import ArgumentError, check_index, raise_for
from .images import ImageBatch, as_list, is_single

Layer = namedtuple("Layer", "index name shape op")
Layer.__doc__ = """An addressable layer: index, name, shape (C, H, W) of its output for one
image, and op, what produces it ("conv", "concat", "maxpool", "avgpool", "gap", "fc")."""

Preproc = namedtuple("Preproc", "size mean std")
Preproc.__doc__ = """Preprocessing: decode, [0,1], bilinear resize to size x size, then
(x - mean) / std per channel (mean, std: 3 floats each)."""


class Model(Handle):
    """A classifier loaded from an Inception-V3 safetensors checkpoint
    (torchvision/timm names; F32/F16/BF16) or an .onnx file, as `pixab -w`
    loads it. size, mean, std override the preprocessing the checkpoint asks
    for (as the command's --size, --mean, --std): the input size S, and the
    per-channel mean and std (3 floats, or one for all three). Engines share
    its weights: it stays alive while they do."""

    _what = "model"
    _free_name = "pixab_model_free"

    def __init__(self, path, size=None, mean=None, std=None):
        self._ptr = ctypes.c_void_p()
        self._engines = weakref.WeakSet()
        raise_for(lib.pixab_model_load(os.fsencode(path), ctypes.byref(self._ptr)))
        self.path = os.fspath(path)
        if size is not None or mean is not None or std is not None:
            p = _PreprocStruct.from_buffer_copy(lib.pixab_model_preproc(self._ptr).contents)
            if size is not None:
                p.size = int(size)
            for field, value in (("mean", mean), ("std", std)):
                if value is not None:
                    v = [float(value)] * 3 if isinstance(value, numbers.Real) else [float(x) for x in value]
                    if len(v) != 3:
                        raise ArgumentError("%s must be one value or three, not %r" % (field, value))
                    getattr(p, field)[:] = v
            raise_for(lib.pixab_model_set_preproc(self._ptr, ctypes.byref(p)))

    @property
    def num_classes(self):
        """Number of classes (the logits' length)."""
        return lib.pixab_model_num_classes(self._handle())

    @property
    def class_names(self):
        """The class names of the checkpoint's pixab.classes metadata (list of
        str, one per class), or None when it has none."""
        h = self._handle()
        names = [lib.pixab_model_class_name(h, c) for c in range(self.num_classes)]
        return None if any(n is None for n in names) else [n.decode() for n in names]

    @property
    def layers(self):
        """The addressable layers in forward order (list of Layer)."""
        h = self._handle()
        out = []
        for i in range(lib.pixab_model_num_layers(h)):
            c, hh, w = ctypes.c_int(), ctypes.c_int(), ctypes.c_int()
            raise_for(lib.pixab_model_layer_shape(h, i, ctypes.byref(c), ctypes.byref(hh), ctypes.byref(w)))
            out.append(Layer(i, lib.pixab_model_layer_name(h, i).decode(), (c.value, hh.value, w.value),
                             lib.pixab_model_layer_op(h, i).decode()))
        return out

    @property
    def default_layer(self):
        """Name of the usual CAM target, the last spatial layer (Mixed_7c for Inception-V3)."""
        h = self._handle()
        return lib.pixab_model_layer_name(h, lib.pixab_model_default_layer(h)).decode()

    def layer_index(self, layer):
        """Index of a layer given by name or index (None: the default layer)."""
        h = self._handle()
        if layer is None:
            return lib.pixab_model_default_layer(h)
        if isinstance(layer, numbers.Integral) and not isinstance(layer, bool):
            if not 0 <= layer < lib.pixab_model_num_layers(h):
                raise ArgumentError("layer %d out of range (the model has %d layers)"
                                    % (layer, lib.pixab_model_num_layers(h)))
            return layer
        return check_index(lib.pixab_model_find_layer(h, str(layer).encode()))

    @property
    def preproc(self):
        """The preprocessing the checkpoint asks for (Preproc)."""
        p = lib.pixab_model_preproc(self._handle()).contents
        return Preproc(p.size, tuple(p.mean), tuple(p.std))

    def preprocess(self, images):
        """One image as the network's float32 input (S, S, 3), or a sequence
        of images as (N, S, S, 3): decoded, resized to S x S (bilinear,
        half-pixel centres; unchanged when already S x S) and normalised with
        preproc's mean and std, by the library, as the pixab command does."""
        items = as_list(images)
        pre = lib.pixab_model_preproc(self._handle()).contents
        with ImageBatch(items, pre.size) as b:
            x = b.preprocessed(pre)
        return x[0] if is_single(images) else x

    def close(self):
        """Free the model now (it is freed when collected otherwise). Refused
        while an open engine uses it."""
        if self._ptr and len(self._engines):
            raise ArgumentError("the model is used by %d open engine(s): close them first" % len(self._engines))
        self._free()

    def __repr__(self):
        return "pixab.Model(%r, %d classes)" % (getattr(self, "path", "?"), self.num_classes if self._ptr else 0)
