"""test_abi.py: the ctypes mirrors of the C structs (python/pixab/_lib.py)
have the C compiler's sizes and offsets, and the Status enum the C values:
a C program built against include/pixab.h prints them."""
import ctypes
import subprocess

import pixab
from pixab import _lib
from conftest import ROOT

STRUCTS = {"pixab_image": _lib.Image, "pixab_preproc": _lib.Preproc, "pixab_explain_opts": _lib.ExplainOpts,
           "pixab_map": _lib.Map}
STATUSES = ["OK", "ERR_ARG", "ERR_IO", "ERR_FORMAT", "ERR_SHAPE", "ERR_NOMEM", "ERR_DEVICE", "ERR_UNSUPPORTED",
            "ERR_CANCELLED"]


def test_struct_layouts_and_statuses_match_the_header(tmp_path):
    lines = ['#include <stddef.h>', '#include <stdio.h>', '#include "pixab.h"', "int main(void) {"]
    for cname, py in STRUCTS.items():
        lines.append('printf("%s size %%zu\\n", sizeof(%s));' % (cname, cname))
        for field, _ in py._fields_:
            lines.append('printf("%s %s %%zu\\n", offsetof(%s, %s));' % (cname, field, cname, field))
    for s in STATUSES:
        lines.append('printf("status %s %%d\\n", (int)PIXAB_%s);' % (s, s))
    lines.append('printf("boxes %d\\n", PIXAB_MAX_BOXES); return 0; }')
    (tmp_path / "abi.c").write_text("\n".join(lines))
    subprocess.run(["cc", "-std=c11", "-I", str(ROOT / "include"), "-o", str(tmp_path / "abi"),
                    str(tmp_path / "abi.c")], check=True)
    out = subprocess.run([str(tmp_path / "abi")], check=True, capture_output=True, text=True).stdout.splitlines()
    want = []
    for cname, py in STRUCTS.items():
        want.append("%s size %d" % (cname, ctypes.sizeof(py)))
        want += ["%s %s %d" % (cname, f, getattr(py, f).offset) for f, _ in py._fields_]
    want += ["status %s %d" % (s, pixab.Status[s.replace("ERR_", "")]) for s in STATUSES]
    want.append("boxes %d" % _lib.MAX_BOXES)
    assert out == want
