"""Minimal, dependency-free safetensors writer and strict reader.

Format (huggingface/safetensors README): 8 bytes N (u64 little-endian), then N
bytes of UTF-8 JSON header (may be padded with trailing spaces), then the byte
buffer.  Each header entry is {"dtype", "shape", "data_offsets": [BEGIN, END]}
relative to the buffer; an optional "__metadata__" maps strings to strings.

The writer emits the JSON with sorted keys, places the tensors contiguously in
sorted-name order, and pads the header with spaces so that the buffer starts at
an 8-byte aligned file offset.  Data are little-endian, C order.

Used by tools/make_goldens.py (export and goldens) and bench/pytorch_forward.py
(--weights).  Only numpy is required; torch tensors are accepted by save() and
converted.  BF16 is handled as raw uint16 bit patterns (numpy has no bfloat16).
"""

import json
import struct

import numpy as np

# safetensors dtype name -> (numpy dtype used for the raw bytes, item size)
DTYPES = {
    "BOOL": (np.dtype("bool"), 1),
    "U8": (np.dtype("u1"), 1),
    "I8": (np.dtype("i1"), 1),
    "I16": (np.dtype("<i2"), 2),
    "U16": (np.dtype("<u2"), 2),
    "F16": (np.dtype("<f2"), 2),
    "BF16": (np.dtype("<u2"), 2),  # raw bit pattern
    "I32": (np.dtype("<i4"), 4),
    "U32": (np.dtype("<u4"), 4),
    "F32": (np.dtype("<f4"), 4),
    "F64": (np.dtype("<f8"), 8),
    "I64": (np.dtype("<i8"), 8),
    "U64": (np.dtype("<u8"), 8),
}

_NP_TO_ST = {
    np.dtype("bool"): "BOOL",
    np.dtype("u1"): "U8",
    np.dtype("i1"): "I8",
    np.dtype("<i2"): "I16",
    np.dtype("<u2"): "U16",
    np.dtype("<f2"): "F16",
    np.dtype("<i4"): "I32",
    np.dtype("<u4"): "U32",
    np.dtype("<f4"): "F32",
    np.dtype("<f8"): "F64",
    np.dtype("<i8"): "I64",
    np.dtype("<u8"): "U64",
}

MAX_HEADER = 100_000_000


class Raw:
    """A tensor given as (safetensors dtype, shape, raw little-endian bytes)."""

    def __init__(self, dtype, shape, data):
        if dtype not in DTYPES:
            raise ValueError("unknown dtype %r" % dtype)
        n = 1
        for d in shape:
            n *= int(d)
        if len(data) != n * DTYPES[dtype][1]:
            raise ValueError("size mismatch for raw tensor")
        self.dtype, self.shape, self.data = dtype, [int(d) for d in shape], bytes(data)


def _to_raw(value):
    if isinstance(value, Raw):
        return value
    # torch tensors without importing torch here
    if hasattr(value, "detach") and hasattr(value, "cpu"):
        t = value.detach().cpu().contiguous()
        if str(t.dtype) == "torch.bfloat16":
            import torch  # only reached when torch is in use
            bits = t.view(torch.int16).numpy().astype("<i2").view("<u2")
            return Raw("BF16", list(t.shape), bits.tobytes())
        value = t.numpy()
    a = np.asarray(value)
    a = a.astype(a.dtype.newbyteorder("<"), copy=False)
    st = _NP_TO_ST.get(a.dtype)
    if st is None:
        raise ValueError("unsupported numpy dtype %s" % a.dtype)
    return Raw(st, list(a.shape), np.ascontiguousarray(a).tobytes())


def save(path, tensors, metadata=None):
    """Write `tensors` (name -> numpy array / torch tensor / Raw) to `path`."""
    raws = {k: _to_raw(v) for k, v in tensors.items()}
    header = {}
    if metadata:
        for k, v in metadata.items():
            if not isinstance(k, str) or not isinstance(v, str):
                raise ValueError("metadata must map str to str")
        header["__metadata__"] = dict(metadata)
    offset = 0
    names = sorted(raws)
    for name in names:
        if name == "__metadata__":
            raise ValueError("reserved tensor name")
        r = raws[name]
        header[name] = {"dtype": r.dtype, "shape": r.shape,
                        "data_offsets": [offset, offset + len(r.data)]}
        offset += len(r.data)
    hjson = json.dumps(header, sort_keys=True, separators=(",", ":"),
                       ensure_ascii=False).encode("utf-8")
    pad = (-(8 + len(hjson))) % 8
    hjson += b" " * pad
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hjson)))
        f.write(hjson)
        for name in names:
            f.write(raws[name].data)


def load_raw(path):
    """Strictly parse `path`; return ({name: Raw}, metadata dict)."""
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < 8:
        raise ValueError("file too short")
    (n,) = struct.unpack("<Q", blob[:8])
    if n > MAX_HEADER or 8 + n > len(blob):
        raise ValueError("bad header length %d" % n)
    text = blob[8:8 + n].decode("utf-8")
    if not text.startswith("{"):
        raise ValueError("header does not start with '{'")

    def no_dups(pairs):
        d = {}
        for k, v in pairs:
            if k in d:
                raise ValueError("duplicate key %r" % k)
            d[k] = v
        return d

    header = json.loads(text, object_pairs_hook=no_dups)
    meta = header.pop("__metadata__", {}) or {}
    buf = blob[8 + n:]
    entries = []
    for name, e in header.items():
        dt = e["dtype"]
        if dt not in DTYPES:
            raise ValueError("%s: unknown dtype %r" % (name, dt))
        shape = [int(d) for d in e["shape"]]
        b, en = (int(x) for x in e["data_offsets"])
        numel = 1
        for d in shape:
            if d < 0:
                raise ValueError("%s: negative dim" % name)
            numel *= d
        if en < b or en - b != numel * DTYPES[dt][1]:
            raise ValueError("%s: size mismatch" % name)
        entries.append((b, en, name, dt, shape))
    entries.sort()
    pos = 0
    out = {}
    for b, en, name, dt, shape in entries:
        if b != pos:
            raise ValueError("%s: hole or overlap at %d" % (name, b))
        out[name] = Raw(dt, shape, buf[b:en])
        pos = en
    if pos != len(buf):
        raise ValueError("buffer size %d != last offset %d" % (len(buf), pos))
    return out, meta


def raw_to_numpy(r, float32=False):
    """Convert a Raw to numpy; with float32=True convert F16/BF16/F64 to F32."""
    npdt = DTYPES[r.dtype][0]
    a = np.frombuffer(r.data, dtype=npdt).reshape(r.shape)
    if r.dtype == "BF16":
        if not float32:
            return a.copy()
        return (a.astype(np.uint32) << 16).view(np.float32).reshape(r.shape)
    if float32 and r.dtype in ("F16", "F64"):
        return a.astype(np.float32)
    return a.copy()


def load(path, float32=False):
    """Return ({name: numpy array}, metadata)."""
    raws, meta = load_raw(path)
    return {k: raw_to_numpy(v, float32) for k, v in raws.items()}, meta
