"""images.py: what pixab takes as an image in Python, turned into what the C
library takes (a decoded 8-bit pixab_image, or a preprocessed float32 input),
and the two map functions over images: overlay and upsample.

An image is a file path (str, bytes or os.PathLike: decoded by the library,
exactly as the pixab command decodes it), a PIL image (converted to RGB), a
uint8 numpy array (H, W, 3) of RGB pixels, or an already preprocessed float32
numpy array (S, S, 3) (normalised with the model's mean and std, NHWC as the
library's input).
"""
import ctypes
import os

import numpy as np

from ._lib import Image, f32_ptr, lib, u8_ptr
from .errors import ArgumentError, ShapeError, raise_for

MAX_SIDE = 16384  # PIXAB_IMAGE_MAX_SIDE
MAX_PIXELS = 1 << 26  # PIXAB_IMAGE_MAX_PIXELS


def is_single(images):
    """True when `images` is one image rather than a sequence of them."""
    if isinstance(images, (str, bytes, os.PathLike)) or _is_pil(images):
        return True
    return isinstance(images, np.ndarray) and images.ndim != 4


def as_list(images):
    """`images` (one image or a sequence, a 4-D array being a batch) as a list."""
    if is_single(images):
        return [images]
    if isinstance(images, np.ndarray):
        return list(images)
    try:
        return list(images)
    except TypeError:
        raise ArgumentError("expected an image or a sequence of images, got %s" % type(images).__name__) from None


def _is_pil(item):
    return type(item).__module__.startswith("PIL.") and hasattr(item, "convert")


def _rgb_array(item):
    """A PIL image or a uint8 (H, W, 3) array as C-contiguous uint8 (H, W, 3)."""
    if _is_pil(item):
        item = np.asarray(item.convert("RGB"))
    if item.dtype != np.uint8:
        raise ArgumentError("an image array must be uint8 (H, W, 3) or a preprocessed float32 (S, S, 3), "
                            "not %s" % item.dtype)
    if item.ndim != 3 or item.shape[2] != 3 or item.shape[0] < 1 or item.shape[1] < 1:
        raise ShapeError("an image array must be uint8 (H, W, 3), not shape %s" % (item.shape,))
    h, w = item.shape[:2]
    if h > MAX_SIDE or w > MAX_SIDE or h * w > MAX_PIXELS:
        raise ArgumentError("image of %dx%d pixels is too large (at most %d a side and %d pixels)"
                            % (w, h, MAX_SIDE, MAX_PIXELS))
    return np.ascontiguousarray(item)


class ImageBatch:
    """Images for one call of the library: images[i] a pixab_image for every
    image that is not preprocessed, inputs[i] the float32 (S, S, 3) array of
    every one that is. `size`: S, the engine's input size; None refuses
    preprocessed inputs. Files decoded by the library are freed by close()
    (a context manager); the arrays stay referenced until then."""

    def __init__(self, items, size):
        self.n = len(items)
        self.images = (Image * max(self.n, 1))()
        self.inputs = {}
        self._arrays = []
        self._decoded = []
        try:
            for i, item in enumerate(items):
                self._add(i, item, size)
        except BaseException:
            self.close()
            raise

    def _add(self, i, item, size):
        if isinstance(item, (str, bytes, os.PathLike)):
            raise_for(lib.pixab_image_load(os.fsencode(item), ctypes.byref(self.images[i])))
            self._decoded.append(i)
        elif isinstance(item, np.ndarray) and item.dtype == np.float32:
            if size is None:
                raise ArgumentError("expected an image (a path, a PIL image or a uint8 (H, W, 3) array), "
                                    "not a preprocessed float32 array")
            if item.shape != (size, size, 3):
                raise ShapeError("a preprocessed float32 input must be (%d, %d, 3), not %s"
                                 % (size, size, item.shape))
            self.inputs[i] = np.ascontiguousarray(item)
        elif isinstance(item, np.ndarray) or _is_pil(item):
            rgb = _rgb_array(item)
            self._arrays.append(rgb)
            img = self.images[i]
            img.height, img.width = rgb.shape[:2]
            img.rgb = u8_ptr(rgb)
        else:
            raise ArgumentError("an image is a path, a PIL image or a numpy array, not %s" % type(item).__name__)

    def preprocessed(self, preproc, first=0, n=None):
        """Images [first, first + n) as one float32 (n, S, S, 3) array: the
        library preprocesses the decoded ones (pixab_image_preprocess)."""
        n = self.n - first if n is None else n
        out = np.empty((n, preproc.size, preproc.size, 3), np.float32)
        for k in range(n):
            i = first + k
            if i in self.inputs:
                out[k] = self.inputs[i]
            else:
                raise_for(lib.pixab_image_preprocess(ctypes.byref(self.images[i]), ctypes.byref(preproc),
                                                     f32_ptr(out[k])))
        return out

    def close(self):
        for i in self._decoded:
            lib.pixab_image_free(ctypes.byref(self.images[i]))
        self._decoded = []
        self._arrays = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def load_image(path):
    """Decode an image file as the library does for every path it is given
    (JPEG, PNG, BMP, GIF, TGA, PNM; gray to RGB, alpha dropped): uint8 (H, W, 3)."""
    img = Image()
    raise_for(lib.pixab_image_load(os.fsencode(path), ctypes.byref(img)))
    try:
        return np.ctypeslib.as_array(img.rgb, shape=(img.height, img.width, 3)).copy()
    finally:
        lib.pixab_image_free(ctypes.byref(img))


def map_array(m):
    """A map as a C-contiguous float32 (h, w) array."""
    m = np.asarray(m)
    if m.dtype.kind != "f":
        raise ArgumentError("a map must be a float array (h, w), not %s" % m.dtype)
    if m.ndim != 2:
        raise ShapeError("a map must be 2-D (h, w), not shape %s" % (m.shape,))
    return np.ascontiguousarray(m, dtype=np.float32)


def upsample(map, h, w):
    """Bilinear resize (half-pixel centres, as PyTorch's align_corners=False)
    of a map (h0, w0) to float32 (h, w): how the CLI's overlays and metrics
    bring a map to an image's size."""
    m = map_array(map)
    h, w = int(h), int(w)
    if h < 1 or w < 1 or h * w > MAX_PIXELS:
        raise ArgumentError("cannot resize a %dx%d map to %dx%d" % (m.shape[0], m.shape[1], h, w))
    out = np.empty((h, w), np.float32)
    raise_for(lib.pixab_map_upsample(f32_ptr(m), m.shape[0], m.shape[1], h, w, f32_ptr(out)))
    return out


def overlay(image, map, alpha=0.5):
    """The heat-map overlay of `map` on `image`, exactly the pixels of the
    .png that `pixab explain` writes (alpha 0.5): uint8 (H, W, 3) =
    alpha * jet(map upsampled to H x W) + (1 - alpha) * image, rounded, jet
    being matplotlib's colormap at its 256 levels. image: a path, a PIL image
    or a uint8 (H, W, 3) array; map: float (h, w) in [0, 1]."""
    m = map_array(map)
    with ImageBatch([image], None) as b:
        img = b.images[0]
        out = np.empty((img.height, img.width, 3), np.uint8)
        raise_for(lib.pixab_map_overlay(ctypes.byref(img), f32_ptr(m), m.shape[0], m.shape[1], float(alpha),
                                        u8_ptr(out)))
    return out
