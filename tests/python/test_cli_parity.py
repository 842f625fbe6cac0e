"""test_cli_parity.py: the package gives exactly the pixab command's outputs on
the bundled demo model and example images: maps (.npy), classes and scores
(results.jsonl), overlays (.png pixels), logits (classify --logits), top
classes, and the layer table (pixab layers); and an ONNX model's maps."""
import json

import numpy as np
import pytest
from PIL import Image

import pixab
from conftest import IMAGES, METHODS, MODEL, read_results, run_cli


@pytest.fixture(scope="module")
def explained(engine):
    return engine.explain(IMAGES, methods=METHODS)


def test_maps_classes_scores_match_the_command(cli_explain, explained):
    out, lines = cli_explain
    assert len(lines) == len(IMAGES) * len(METHODS)
    for line in lines:
        r = explained[[str(p) for p in IMAGES].index(line["image"])][line["method"]]
        want = np.load(line["map"])
        assert r.map.dtype == np.float32 and r.map.shape == want.shape
        assert np.array_equal(r.map, want), (line["image"], line["method"])
        assert (r.cls, r.layer, r.score_kind) == (line["class"], line["layer"], line["score_kind"])
        assert r.score == pytest.approx(line["score"], rel=1e-8)  # the JSON holds 9 significant digits


def test_overlays_match_the_command_pixels(cli_explain, explained):
    out, lines = cli_explain
    for line in lines:
        r = explained[[str(p) for p in IMAGES].index(line["image"])][line["method"]]
        want = np.asarray(Image.open(line["png"]).convert("RGB"))
        got = pixab.overlay(line["image"], r.map)
        assert got.dtype == np.uint8 and np.array_equal(got, want), (line["image"], line["method"])


def test_weights_where_the_method_has_them(explained, model):
    k = model.layers[model.layers.index(next(l for l in model.layers if l.name == model.default_layer))].shape[0]
    for per in explained:
        for name, r in per.items():
            if name in ("pixab", "activation"):
                assert r.weights is None
            else:
                assert r.weights.dtype == np.float32 and r.weights.shape == (k,)
            assert r.map.min() >= 0.0 and r.map.max() <= 1.0


def test_options_layer_class_score_boxes_match(engine, tmp_path):
    # Mixed_7b: a layer whose head is a real block, not the pooled fast path.
    img = IMAGES[1]
    run_cli("explain", "--device", "cpu", "-w", MODEL, "-m", "pixab,gradcam", "-l", "Mixed_7b", "-c", 2,
            "--score", "logit", "--boxes", "2x2", "-o", tmp_path, img)
    got = engine.explain(img, methods=("pixab", "gradcam"), layer="Mixed_7b", target=2, score="logit",
                         boxes=[(2, 2)])
    for line in read_results(tmp_path):
        r = got[line["method"]]
        assert np.array_equal(r.map, np.load(line["map"])), line["method"]
        assert (r.cls, r.layer, r.score_kind) == (2, "Mixed_7b", "logit")
    # the same options as a layer index, a class name and a boxes string
    again = engine.explain([img], methods="pixab", layer=engine.model.layer_index("Mixed_7b"),
                           target=engine.model.class_names[2], score="logit", boxes="2x2")
    assert np.array_equal(again[0]["pixab"].map, got["pixab"].map)


def test_logits_and_top_classes_match_classify(engine, tmp_path):
    npy = tmp_path / "logits.npy"
    proc = run_cli("classify", "--device", "cpu", "-w", MODEL, "--logits", npy, "--top", 3, *IMAGES)
    logits = engine.logits(IMAGES)
    assert logits.dtype == np.float32 and logits.shape == (len(IMAGES), engine.model.num_classes)
    assert np.array_equal(logits, np.load(npy))
    assert np.array_equal(engine.logits(IMAGES[2]), logits[2])
    top = engine.classify(IMAGES, top=3)
    for got, line in zip(top, proc.stdout.splitlines()):
        want = json.loads(line)["top"]
        assert [c for c, _ in got] == [c for c, _ in want]
        assert [p for _, p in got] == pytest.approx([p for _, p in want], rel=1e-5)  # printed with 6 digits


def test_layers_match_the_layer_table(model):
    rows = [line.split() for line in run_cli("layers", MODEL).stdout.splitlines()[1:]]
    want = [(r[-4], r[-3], r[-2], r[-1]) for r in rows]  # index, name, CxHxW, op (a leading '*' marks the default)
    got = [(str(l.index), l.name, "x".join(map(str, l.shape)), l.op) for l in model.layers]
    assert got == want
    assert model.default_layer == next(r[2] for r in rows if r[0] == "*")
    assert model.num_classes == 8 and len(model.class_names) == 8
    assert model.preproc == pixab.Preproc(299, (0.5, 0.5, 0.5), (0.5, 0.5, 0.5))


def test_onnx_model_matches_the_command(tmp_path):
    onnx = MODEL.parent.parent / "tests" / "data" / "vgg11_bn_w8.onnx"
    imgs = [IMAGES[0], IMAGES[-1]]
    run_cli("explain", "--device", "cpu", "-w", onnx, "-m", "pixab,gradcam", "-o", tmp_path, *imgs)
    with pixab.Model(onnx) as model, pixab.Engine(model, "cpu") as engine:
        got = engine.explain(imgs, methods=("pixab", "gradcam"))
        for line in read_results(tmp_path):
            r = got[[str(p) for p in imgs].index(line["image"])][line["method"]]
            assert np.array_equal(r.map, np.load(line["map"])) and (r.cls, r.layer) == (line["class"], line["layer"])
        assert model.preproc.size == engine.input_size == 64 and model.default_layer == got[0]["pixab"].layer
        assert model.preproc.mean == pytest.approx((0.485, 0.456, 0.406))  # torchvision's, the ONNX default
