"""test_errors.py: every failure raises a pixab.Error subclass carrying the
status and a one-line reason; the library's own message when the library
refused (bad file, layer, class, method, score, boxes, device, precision)."""
import numpy as np
import pytest

import pixab
from conftest import IMAGES, MODEL, SMALL

IMG = str(IMAGES[0])


def raised(cls, status, fn, *words):
    with pytest.raises(cls) as info:
        fn()
    e = info.value
    assert isinstance(e, pixab.Error) and e.status == status and str(e) == e.message
    assert e.message and "\n" not in e.message and e.status_name
    for w in words:
        assert w in e.message, (w, e.message)
    return e


def test_bad_files(small, tmp_path):
    raised(pixab.FileError, pixab.Status.IO, lambda: pixab.Model(tmp_path / "none.safetensors"), "none.safetensors")
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{broken}")
    raised(pixab.FormatError, pixab.Status.FORMAT, lambda: pixab.Model(bad), "bad.safetensors")
    raised(pixab.FileError, pixab.Status.IO, lambda: small.explain(tmp_path / "none.png"), "none.png")
    (tmp_path / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\n not a png")
    raised(pixab.FormatError, pixab.Status.FORMAT, lambda: small.explain(tmp_path / "bad.png"), "bad.png")
    raised(pixab.FormatError, pixab.Status.FORMAT, lambda: pixab.overlay(tmp_path / "bad.png", np.zeros((2, 2))))
    # one bad file in a batch fails the call (the images before it are freed)
    raised(pixab.FileError, pixab.Status.IO, lambda: small.logits([IMG, tmp_path / "none.png"]))
    assert isinstance(raised(pixab.FileError, pixab.Status.IO, lambda: pixab.Model(tmp_path / "x")), OSError)


def test_bad_names_and_values(small):
    A, ARG = pixab.ArgumentError, pixab.Status.ARG
    raised(A, ARG, lambda: small.explain(IMG, layer="Mixed_9z"), "unknown layer 'Mixed_9z'")
    raised(A, ARG, lambda: small.explain(IMG, layer=99), "layer 99")
    raised(A, ARG, lambda: small.explain(IMG, target=8), "class 8 out of range")
    raised(A, ARG, lambda: small.explain(IMG, target=-2), "class -2 out of range")
    raised(A, ARG, lambda: small.explain(IMG, target="dog"), "dog")
    raised(A, ARG, lambda: small.explain([IMG, IMG], target=[1]), "2 images")
    raised(A, ARG, lambda: small.explain(IMG, methods="foo"), "unknown method 'foo'")
    raised(A, ARG, lambda: small.explain(IMG, methods=()), "no method")
    raised(A, ARG, lambda: small.explain(IMG, score="prob"), "unknown score 'prob'")
    raised(A, ARG, lambda: small.explain(IMG, boxes="3y3"), "boxes '3y3'")
    raised(A, ARG, lambda: small.explain(IMG, boxes=[(0, 1)]), "boxes '0x1'")
    raised(A, ARG, lambda: pixab.overlay(IMG, np.zeros((8, 8), np.float32), alpha=2), "alpha")
    raised(A, ARG, lambda: pixab.upsample(np.zeros((8, 8), np.float32), 0, 5), "0x5")
    raised(A, ARG, lambda: pixab.Model(MODEL, size=10), "input size 10")
    assert isinstance(raised(A, ARG, lambda: small.explain(42), "int"), ValueError)


def test_bad_devices_and_precisions(small):
    model = small.model
    raised(pixab.ArgumentError, pixab.Status.ARG, lambda: pixab.Engine(model, "tpu"), "unknown device 'tpu'")
    raised(pixab.ArgumentError, pixab.Status.ARG, lambda: pixab.Engine(model, "cpu", precision="fp8"), "fp8")
    raised(pixab.ArgumentError, pixab.Status.ARG, lambda: pixab.Engine(model, "cpu", max_batch=0), "max_batch")
    raised(pixab.UnsupportedError, pixab.Status.UNSUPPORTED, lambda: pixab.Engine(model, "cpu", precision="fp16"),
           "fp16")
    if not pixab.built_with_cuda():
        raised(pixab.UnsupportedError, pixab.Status.UNSUPPORTED, lambda: pixab.Engine(model, "cuda"), "CUDA")
    elif pixab.cuda_device_count() == 0:
        raised(pixab.DeviceError, pixab.Status.DEVICE, lambda: pixab.Engine(model, "cuda"))


def test_wrong_dtypes_and_shapes(small):
    S, SHAPE = pixab.ShapeError, pixab.Status.SHAPE
    raised(pixab.ArgumentError, pixab.Status.ARG, lambda: small.explain(np.zeros((10, 10, 3))), "float64")
    raised(pixab.ArgumentError, pixab.Status.ARG, lambda: small.logits(np.zeros((10, 10, 3), np.int32)), "int32")
    raised(S, SHAPE, lambda: small.explain(np.zeros((10, 10, 4), np.uint8)), "(10, 10, 4)")
    raised(S, SHAPE, lambda: small.explain(np.zeros((0, 10, 3), np.uint8)), "(0, 10, 3)")
    raised(S, SHAPE, lambda: small.explain(np.zeros((10, 10, 3), np.float32)), "(%d, %d, 3)" % (SMALL, SMALL))
    raised(S, SHAPE, lambda: small.logits(np.zeros((SMALL, SMALL), np.float32)), "(%d, %d)" % (SMALL, SMALL))
    raised(S, SHAPE, lambda: pixab.overlay(IMG, np.zeros(8, np.float32)), "2-D")
    raised(pixab.ArgumentError, pixab.Status.ARG, lambda: pixab.overlay(IMG, np.zeros((8, 8), np.int64)), "int64")
    raised(pixab.ArgumentError, pixab.Status.ARG, lambda: pixab.overlay(np.zeros((8, 8, 3), np.float32),
                                                                       np.zeros((8, 8))), "preprocessed")


def test_closed_handles(model):
    m = pixab.Model(MODEL)
    e = pixab.Engine(m, "cpu")
    raised(pixab.ArgumentError, pixab.Status.ARG, m.close, "open engine")
    e.close()
    raised(pixab.ArgumentError, pixab.Status.ARG, lambda: e.logits(IMG), "closed")
    m.close()
    raised(pixab.ArgumentError, pixab.Status.ARG, lambda: m.num_classes, "closed")
