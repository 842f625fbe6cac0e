"""test_inputs.py: every kind of image the package takes gives the maps and
logits of the same image given as a file: str, bytes and Path paths, PIL
images (RGB, gray, RGBA), uint8 (H, W, 3) arrays, a uint8 (N, H, W, 3) batch,
preprocessed float32 (S, S, 3) arrays, and a list mixing them."""
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import pixab
from conftest import IMAGES, SMALL

PHOTO = IMAGES[-1]  # not 299 x 299: resized


@pytest.fixture(scope="module")
def reference(small):
    """Each image alone, given as a file. (The library's GEMMs may round a
    row by its place in a batch: results are compared with those of the same
    images in the same places.)"""
    return [small.explain(p, methods=("pixab", "gradcam")) for p in (IMAGES[0], PHOTO)]


def same(a, b):
    return all(np.array_equal(a[k].map, b[k].map) and a[k].cls == b[k].cls for k in a) and a.keys() == b.keys()


@pytest.mark.parametrize("kind", ["str", "bytes", "path", "pil", "uint8", "float32"])
def test_each_input_kind_gives_the_file_maps(small, reference, kind):
    for path, want in zip([IMAGES[0], PHOTO], reference):  # one image per call, as the reference
        rgb = np.asarray(Image.open(path).convert("RGB"))
        item = {"str": str(path), "bytes": str(path).encode(), "path": Path(path), "pil": Image.open(path),
                "uint8": rgb, "float32": small.model.preprocess(path)}[kind]
        assert same(small.explain(item, methods=("pixab", "gradcam")), want), kind


def test_preprocess_is_the_normalised_image(model):
    # 299 x 299 already: resizing is the identity, only (x / 255 - mean) / std is left
    x = model.preprocess(IMAGES[0])
    rgb = np.asarray(Image.open(IMAGES[0]).convert("RGB")).astype(np.float64)
    assert x.dtype == np.float32 and x.shape == (299, 299, 3)
    np.testing.assert_allclose(x, (rgb / 255.0 - 0.5) / 0.5, atol=1e-6)
    assert model.preprocess([IMAGES[0], PHOTO]).shape == (2, 299, 299, 3)


def test_preprocess_resizes_to_the_input_size(small):
    x = small.model.preprocess([IMAGES[0], PHOTO])
    assert x.dtype == np.float32 and x.shape == (2, SMALL, SMALL, 3) and small.input_size == SMALL


def test_load_image_is_the_decoded_file():
    for path in (IMAGES[0], PHOTO):
        rgb = pixab.load_image(path)
        assert rgb.dtype == np.uint8 and np.array_equal(rgb, np.asarray(Image.open(path).convert("RGB")))


def test_gray_and_rgba_images_become_rgb(small, tmp_path):
    rgb = np.asarray(Image.open(IMAGES[2]).convert("RGB"))
    gray = Image.fromarray(rgb).convert("L")
    gray.save(tmp_path / "gray.png")
    as_rgb = np.repeat(np.asarray(gray)[:, :, None], 3, axis=2)
    want = small.explain(as_rgb, methods="pixab")
    assert same(small.explain(gray, methods="pixab"), want)
    assert same(small.explain(tmp_path / "gray.png", methods="pixab"), want)  # decoded by the library
    rgba = Image.fromarray(np.dstack([rgb, np.full(rgb.shape[:2], 7, np.uint8)]), "RGBA")
    assert same(small.explain(rgba, methods="pixab"), small.explain(rgb, methods="pixab"))


def test_batches_mixed_lists_and_views(small, reference):
    a = np.asarray(Image.open(IMAGES[0]).convert("RGB"))
    m = ("pixab", "gradcam")
    got = small.explain(np.stack([a, a]), methods=m)
    assert isinstance(got, list) and len(got) == 2
    assert all(same(g, w) for g, w in zip(got, small.explain([IMAGES[0], IMAGES[0]], methods=m)))
    mixed = [Image.open(PHOTO), small.model.preprocess(IMAGES[0]), str(PHOTO), a]
    want = small.explain([PHOTO, IMAGES[0], PHOTO, IMAGES[0]], methods=m)
    assert [same(g, w) for g, w in zip(small.explain(mixed, methods=m), want)] == [True] * 4
    # a non-contiguous view (every column reversed twice) is copied, not misread
    assert same(small.explain(a[:, ::-1][:, ::-1], methods=m), reference[0])
    # more images than the engine's batch: several calls, input order kept
    many = small.explain([IMAGES[0]] * 8 + [PHOTO], methods="pixab")
    assert len(many) == 9 and same(many[8], {"pixab": reference[1]["pixab"]})
    # logits of every kind agree too
    assert np.array_equal(small.logits([a, str(IMAGES[0]), small.model.preprocess(IMAGES[0])]),
                          small.logits([IMAGES[0]] * 3))
    assert small.logits(IMAGES[0]).shape == (8,)
