"""test_resources.py: memory and threads. No leak over 1,000 calls (the C
heap through glibc's mallinfo2, Python's through tracemalloc, and RSS); a
second engine on the same model gives the same maps; the GIL is released
while the library computes; an engine used by two threads at once refuses
the second call with EngineBusyError."""
import ctypes
import threading
import time
import tracemalloc

import numpy as np
import pytest

import pixab
from conftest import IMAGES

IMG = str(IMAGES[0])


class _Mallinfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks",
                 "keepcost")]


def c_heap_bytes():
    """Bytes the C heap holds allocated (malloc'ed and not freed), all arenas."""
    libc = ctypes.CDLL(None)
    libc.mallinfo2.restype = _Mallinfo2
    info = libc.mallinfo2()
    return info.uordblks + info.hblkhd


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


def test_no_leak_over_1000_calls(small, tmp_path):
    a = small.model.preprocess(IMG)
    rgb = (np.random.default_rng(0).random((40, 50, 3)) * 255).astype(np.uint8)
    m8 = np.linspace(0, 1, 64, dtype=np.float32).reshape(8, 8)

    def calls(i):  # every kind of call, failures included; the costly ones every 25th time
        if i % 25 == 0:
            small.explain(IMG, methods=("pixab", "gradcam", "ablation"))
        elif i % 25 == 8:
            small.explain([rgb, a], methods="activation")
        elif i % 25 == 16:
            small.logits([rgb, IMG])
        pixab.overlay(rgb, m8), pixab.upsample(m8, 33, 17), small.model.layers, small.model.class_names
        for fn in (lambda: small.explain(tmp_path / "none.png"), lambda: small.explain(IMG, layer="x"),
                   lambda: small.explain([rgb, rgb], target=99), lambda: small.explain(np.zeros((5, 5)))):
            with pytest.raises(pixab.Error):
                fn()

    for i in range(50):  # warm up: engine plans, OpenMP pools, caches
        calls(i)
    # The C heap and RSS first (tracemalloc's own tables live on the C heap), then Python's heap.
    heap0, rss0 = c_heap_bytes(), rss_bytes()
    for i in range(1000):
        calls(i)
    heap1, rss1 = c_heap_bytes(), rss_bytes()
    tracemalloc.start()
    py0 = tracemalloc.get_traced_memory()[0]
    for i in range(300):  # slower, traced
        calls(i)
    py1 = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    # A map of 4 floats leaked per explanation would be 3.8 kB (120 maps), a weight vector 31 kB, the
    # image decoded per iteration 268 MB; the C heap gives back every byte (0 growth measured).
    assert heap1 - heap0 < 2 * 1024, "C heap grew by %d bytes" % (heap1 - heap0)
    assert rss1 - rss0 < 2 * 1024 * 1024, "RSS grew by %d bytes" % (rss1 - rss0)
    assert py1 - py0 < 16 * 1024, "Python heap grew by %d bytes" % (py1 - py0)


def test_second_engine_on_the_same_model(small):
    engine = small
    other = pixab.Engine(small.model, "cpu", max_batch=2)
    try:
        want = engine.explain(IMAGES[:3], methods=("pixab", "gradcam"))
        got = other.explain(IMAGES[:3], methods=("pixab", "gradcam"))
        for g, w in zip(got, want):
            for k in w:
                assert np.array_equal(g[k].map, w[k].map)
        assert other.max_batch == 2 and engine.max_batch == 8
    finally:
        other.close()
    assert engine.explain(IMG, methods="pixab")["pixab"].map.shape == (2, 2)  # the first one still works


def _run_in_thread(fn):
    box = {}

    def body():
        try:
            box["result"] = fn()
        except BaseException as e:  # noqa: B902 (reported to the test's thread)
            box["error"] = e
    t = threading.Thread(target=body)
    t.start()
    return t, box


def test_gil_is_released_while_the_library_computes(engine):
    # A Python thread counting while a long explanation runs: with the GIL
    # held through the C call it would stop for the call's whole length.
    x = engine.model.preprocess(IMG)
    stamps = []
    stop = threading.Event()

    def counter():
        while not stop.is_set():
            stamps.append(time.perf_counter())
            sum(range(200))
    c = threading.Thread(target=counter)
    t0 = time.perf_counter()
    c.start()
    engine.explain([x] * 8, methods="pixab")  # one call into the library (8 = its batch)
    call_s = time.perf_counter() - t0
    stop.set()
    c.join()
    gaps = np.diff([t0] + stamps)
    assert call_s > 0.05 and len(stamps) > 100
    assert gaps.max() < 0.5 * call_s, "counter stalled %.3f s of a %.3f s call" % (gaps.max(), call_s)


def test_an_engine_serves_one_thread_at_a_time(engine):
    x = engine.model.preprocess(IMG)
    t, box = _run_in_thread(lambda: engine.explain([x] * 8, methods="pixab"))
    while not engine._lock.locked() and t.is_alive():
        time.sleep(0.0005)
    with pytest.raises(pixab.EngineBusyError, match="one engine per thread") as info:
        engine.logits(x)
    assert info.value.status == pixab.Status.ARG
    t.join()
    assert "error" not in box and len(box["result"]) == 8
    assert engine.logits(x).shape == (8,)  # free again


def test_engines_in_parallel_threads(small):
    engines = [pixab.Engine(small.model, "cpu", max_batch=2) for _ in range(2)]
    want = engines[0].explain(IMAGES[:2], methods="pixab")
    runs = [_run_in_thread(lambda e=e: e.explain(IMAGES[:2], methods="pixab")) for e in engines]
    for t, box in runs:
        t.join()
        assert "error" not in box
        assert all(np.array_equal(g["pixab"].map, w["pixab"].map) for g, w in zip(box["result"], want))
    for e in engines:
        e.close()
