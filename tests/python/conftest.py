"""conftest.py: fixtures of the Python package's tests (tests/python): the
bundled demo model, a CPU engine, the example images, and the pixab command's
own outputs on them (run once per session), which the package must reproduce
bit for bit. The command is build/pixab (tools/setup.sh), or $PIXAB_CLI."""
import json
import os
import subprocess
from pathlib import Path

# OpenBLAS picks its kernels when it loads: the same family for the command
# and for this process (tools/test.sh sets it too).
os.environ.setdefault("OPENBLAS_CORETYPE", "Haswell")

import pytest  # noqa: E402

import pixab  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "models" / "pixab-demo.safetensors"
# Four 299 x 299 synthetic images and two photographs of other sizes (resized).
IMAGES = sorted((ROOT / "examples" / "images").glob("*.png")) + \
    sorted((ROOT / "examples" / "images" / "photos").glob("*.png"))
METHODS = ("pixab", "ablation", "activation", "gradcam", "gradcampp", "xgradcam")


def run_cli(*args):
    exe = Path(os.environ.get("PIXAB_CLI", ROOT / "build" / "pixab"))
    if not exe.exists():
        pytest.fail("the pixab command %s is missing: build it first (tools/setup.sh)" % exe)
    return subprocess.run([str(exe), *map(str, args)], check=True, capture_output=True, text=True)


@pytest.fixture(scope="session")
def model():
    return pixab.Model(MODEL)


@pytest.fixture(scope="session")
def engine(model):
    return pixab.Engine(model, device="cpu")  # batch 8: the command's default on the CPU


# The same model at 107 x 107 (Mixed_7c 2 x 2): a forward pass 8 times
# cheaper, for the tests of the binding itself (inputs, errors, memory,
# threads), which compare the package with itself.
SMALL = 107


@pytest.fixture(scope="session")
def small():
    return pixab.Engine(pixab.Model(MODEL, size=SMALL), device="cpu")


def read_results(outdir):
    with open(outdir / "results.jsonl") as f:
        return [json.loads(line) for line in f]


@pytest.fixture(scope="session")
def cli_explain(tmp_path_factory):
    """`pixab explain` of every example image with METHODS: its folder and results lines."""
    out = tmp_path_factory.mktemp("explain")
    run_cli("explain", "--device", "cpu", "-w", MODEL, "-m", ",".join(METHODS), "-o", out, *IMAGES)
    return out, read_results(out)
