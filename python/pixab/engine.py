"""engine.py: pixab.Engine, a model on a device (pixab_engine): logits,
classification and CAM explanations of batches of images, and Explanation,
one method's result for one image."""
import ctypes
import numbers
import threading
from dataclasses import dataclass
from typing import Optional

import numpy as np

from ._lib import MAX_BOXES, ExplainOpts, Handle, Image, Map, f32_ptr, lib
from .errors import ArgumentError, EngineBusyError, check_index, raise_for
from .images import ImageBatch, as_list, is_single

METHODS = ("pixab", "ablation", "activation", "gradcam", "gradcampp", "xgradcam", "scorecam")


@dataclass(frozen=True)
class Explanation:
    """One method's explanation of one image.

    map: float32 (h, w) at the layer's resolution, ReLU'd and min-max
    normalised to [0, 1]; cls: the class explained; score: its score for the
    unmodified image, of kind score_kind ("softmax" or "logit"); weights:
    float32 (k,) channel weights w_k (map = minmax(ReLU(sum_k w_k A_k))) for
    ablation, gradcam, gradcampp, xgradcam and scorecam, None for pixab and
    activation; ms: the method's time in the library, without the shared body
    forward."""
    method: str
    layer: str
    map: np.ndarray
    cls: int
    score: float
    score_kind: str
    weights: Optional[np.ndarray]
    ms: float


def _copy_floats(ptr, n):
    return np.ctypeslib.as_array(ptr, shape=(n,)).copy()


class Engine(Handle):
    """A model on a device, its buffers planned for up to max_batch images
    per body forward.

    device: "cpu", "cuda", "cuda:K" or "auto" (CUDA when this build has it and
    a device is present, else the CPU). precision: "fp32", "tf32", "fp16" or
    "bf16" (the CPU runs fp32 only). The library runs without the GIL, so
    several engines (on the same model too) work in parallel threads, but one
    engine serves one call at a time: a call made while another thread's call
    is running on the same engine raises EngineBusyError (use one engine per
    thread)."""

    _what = "engine"
    _free_name = "pixab_engine_destroy"

    def __init__(self, model, device="auto", max_batch=8, precision="fp32"):
        self.model = model
        self._lock = threading.Lock()
        self._ptr = ctypes.c_void_p()
        if not isinstance(max_batch, numbers.Integral) or max_batch < 1:
            raise ArgumentError("max_batch must be a positive integer, not %r" % (max_batch,))
        p = check_index(lib.pixab_precision_from_name(str(precision).encode()))
        raise_for(lib.pixab_engine_create(model._handle(), str(device).encode(), int(max_batch),
                                          ctypes.byref(self._ptr)))
        model._engines.add(self)
        if p:
            try:
                raise_for(lib.pixab_engine_set_precision(self._ptr, p))
            except BaseException:
                self.close()
                raise

    def _acquire(self):
        h = self._handle()
        if not self._lock.acquire(blocking=False):
            raise EngineBusyError("this engine is running a call in another thread: an engine serves one thread "
                                  "at a time (make one engine per thread)")
        return h

    @property
    def device(self):
        """"cpu" or "cuda:K"."""
        return lib.pixab_engine_device(self._handle()).decode()

    @property
    def max_batch(self):
        return lib.pixab_engine_max_batch(self._handle())

    @property
    def input_size(self):
        """S: the network input is S x S."""
        return lib.pixab_engine_input_size(self._handle())

    @property
    def precision(self):
        return lib.pixab_precision_name(lib.pixab_engine_precision(self._handle())).decode()

    def logits(self, images):
        """Logits of one image (float32 (classes,)) or of a sequence of N
        images (float32 (N, classes)), in batches of max_batch, as `pixab
        classify --logits` computes them."""
        items = as_list(images)
        classes = self.model.num_classes
        out = np.empty((len(items), classes), np.float32)
        h = self._acquire()
        try:
            pre = lib.pixab_model_preproc(self.model._handle()).contents
            with ImageBatch(items, pre.size) as b:
                step = lib.pixab_engine_max_batch(h)
                for i in range(0, len(items), step):
                    n = min(step, len(items) - i)
                    x = b.preprocessed(pre, i, n)
                    raise_for(lib.pixab_engine_forward(h, f32_ptr(x), n, f32_ptr(out[i:i + n])))
        finally:
            self._lock.release()
        return out[0] if is_single(images) else out

    def classify(self, images, top=5):
        """The top classes of one image (a list of (class, probability)
        pairs, most probable first) or of a sequence of images (a list of
        such lists). Probabilities are the softmax of the logits."""
        logits = self.logits(images)
        probs = np.ascontiguousarray(np.atleast_2d(logits))
        lib.pixab_softmax(f32_ptr(probs), probs.shape[0], probs.shape[1])
        top = max(1, min(int(top), probs.shape[1]))
        result = []
        for row in probs:
            order = np.argsort(-row, kind="stable")[:top]
            result.append([(int(c), float(row[c])) for c in order])
        return result[0] if is_single(images) else result

    def _options(self, layer, score, boxes):
        opts = ExplainOpts()
        opts.layer = self.model.layer_index(layer)
        opts.cls = -1
        opts.score = 0 if score is None else check_index(lib.pixab_score_from_name(str(score).encode()))
        if isinstance(boxes, str):
            raise_for(lib.pixab_parse_boxes(boxes.encode(), ctypes.byref(opts)))
        elif boxes is not None:
            boxes = [tuple(b) for b in boxes]
            if not 1 <= len(boxes) <= MAX_BOXES or any(len(b) != 2 for b in boxes):
                raise ArgumentError("boxes must be 1 to %d (h, w) pairs, not %r" % (MAX_BOXES, boxes))
            raise_for(lib.pixab_parse_boxes(",".join("%dx%d" % b for b in boxes).encode(), ctypes.byref(opts)))
        return opts

    def _targets(self, target, n):
        """target: None (top-1), a class index or name for every image, or one per image."""
        def one(t):
            if t is None:
                return -1
            if isinstance(t, str):
                names = self.model.class_names or []
                if t not in names:
                    raise ArgumentError("unknown class '%s'" % t)
                return names.index(t)
            if not isinstance(t, numbers.Integral) or isinstance(t, bool):
                raise ArgumentError("a target class is an index or a name, not %r" % (t,))
            return int(t)
        if target is None or isinstance(target, (str, numbers.Integral)):
            return [one(target)] * n
        target = list(target)
        if len(target) != n:
            raise ArgumentError("%d targets for %d images" % (len(target), n))
        return [one(t) for t in target]

    def explain(self, images, methods=("pixab",), layer=None, target=None, score=None, boxes=None):
        """CAM explanations of one image or a sequence of images.

        methods: a name or names from METHODS; layer: the target layer's name
        or index (None: model.default_layer); target: the class to explain
        (None: each image's top-1; an index or class name; or a sequence, one
        per image); score: "softmax" or "logit" (None: the method's own);
        boxes: Pixab-CAM's boxes, "1x1,1x2" or [(1, 1), (1, 2)] (None: 1x1,
        1x2, 2x1, 2x2). Images run through the engine in batches of max_batch
        (one body forward per batch, as `pixab explain --batch`).

        Returns, for one image, a dict {method: Explanation}; for a sequence,
        a list of such dicts in input order."""
        items = as_list(images)
        names = [methods] if isinstance(methods, str) else list(methods)
        if not names:
            raise ArgumentError("no method given")
        meth = (ctypes.c_int * len(names))(*[check_index(lib.pixab_method_from_name(str(m).encode())) for m in names])
        opts = self._options(layer, score, boxes)
        layer_name = lib.pixab_model_layer_name(self.model._handle(), opts.layer).decode()
        cls = self._targets(target, len(items))
        results = []
        h = self._acquire()
        try:
            pre = lib.pixab_model_preproc(self.model._handle())
            with ImageBatch(items, pre.contents.size) as b:
                step = lib.pixab_engine_max_batch(h)
                for i in range(0, len(items), step):
                    n = min(step, len(items) - i)
                    results += self._explain_range(h, b, i, n, pre, meth, opts, cls[i:i + n], layer_name)
        finally:
            self._lock.release()
        return results[0] if is_single(images) else results

    def _explain_range(self, h, b, i, n, pre, meth, opts, cls, layer_name):
        """Images [i, i + n) of b in one call of the library: from their pixels
        (pixab_explain_images) when none is preprocessed, else from float
        inputs (pixab_explain_batch)."""
        nm = len(meth)
        maps = (Map * (n * nm))()
        c_cls = (ctypes.c_int * n)(*cls)
        if any(k in b.inputs for k in range(i, i + n)):
            x = b.preprocessed(pre.contents, i, n)
            raise_for(lib.pixab_explain_batch(h, f32_ptr(x), n, meth, nm, ctypes.byref(opts), c_cls, maps))
        else:
            imgs = ctypes.cast(ctypes.addressof(b.images) + i * ctypes.sizeof(Image), ctypes.POINTER(Image))
            raise_for(lib.pixab_explain_images(h, imgs, n, pre, meth, nm, ctypes.byref(opts), c_cls, maps))
        out = []
        try:
            for k in range(n):
                per = {}
                for j in range(nm):
                    m = maps[k * nm + j]
                    name = lib.pixab_method_name(m.method).decode()
                    per[name] = Explanation(
                        method=name, layer=layer_name, map=_copy_floats(m.map, m.h * m.w).reshape(m.h, m.w),
                        cls=m.cls, score=float(m.score), score_kind=lib.pixab_score_name(m.score_kind).decode(),
                        weights=_copy_floats(m.weights, m.k) if m.weights else None, ms=m.ms)
                out.append(per)
        finally:
            for m in maps:
                lib.pixab_map_free(ctypes.byref(m))
        return out

    def close(self):
        """Free the engine now (it is freed when collected otherwise)."""
        if self._ptr:
            if not self._lock.acquire(blocking=False):
                raise EngineBusyError("cannot close an engine while another thread's call is running on it")
            try:
                self._free()
                self.model._engines.discard(self)
            finally:
                self._lock.release()

    def __repr__(self):
        return "pixab.Engine(%r, device=%r)" % (self.model, self.device if self._ptr else "closed")
