#!/usr/bin/env bash
# replay_hostile.sh — replays the shapes of hostile and careless input of
# issue #15 against the built `pixab` binary and checks exit statuses, the
# one-line messages, and that nothing that is not pixab's own is replaced or
# lost: non-regular output targets (character device, FIFO, symlink,
# directory), a name that is not UTF-8, a 250-byte stem, truncated BMP, GIF
# and TGA files, NaN weights, a results.jsonl with a zero block, an outdir
# inside the input tree, control characters in names, bad --size/--std, a
# FIFO and a dangling link among the inputs, a cut safetensors header. Any
# sanitizer report in a run fails it. ctest runs it in build/ and build-asan/
# (CMakeLists.txt); by hand:
#   tests/replay_hostile.sh build/pixab tests/data
set -u
PIXAB=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
DATA=$(cd "$2" && pwd)
MODEL=$DATA/inception_v3_w8.safetensors
T=$(mktemp -d /tmp/pixab_replay_XXXXXX)
trap 'chmod -R u+w "$T" 2>/dev/null; rm -rf "$T"' EXIT
fails=0
rc=0

ok() { echo "ok - $1"; }
bad() {
    echo "FAIL - $1"
    fails=$((fails + 1))
}
check() { # NAME COMMAND...: ok when the command succeeds
    local name=$1
    shift
    if "$@"; then ok "$name"; else bad "$name"; fi
}
# px ARGS...: run pixab (2 minutes at most); rc, $T/out, $T/err. A sanitizer
# report fails the run whatever its status.
px() {
    timeout 120 env OPENBLAS_CORETYPE=Haswell "$PIXAB" "$@" >"$T/out" 2>"$T/err"
    rc=$?
    if grep -qE 'Sanitizer|runtime error:' "$T/err"; then
        bad "sanitizer report in: pixab $*"
        cat "$T/err"
    fi
}
expect() { # NAME STATUS [ONE_LINE]: the last run's exit status (and one line on stderr)
    if [ "$rc" -ne "$2" ]; then
        bad "$1: exit $rc, want $2: $(head -c 600 "$T/err")"
    elif [ $# -gt 2 ] && [ "$(wc -l <"$T/err")" -ne 1 ]; then
        bad "$1: want one line on stderr, got: $(head -c 600 "$T/err")"
    else
        ok "$1"
    fi
}
lines() { if [ -f "$1" ]; then wc -l <"$1"; else echo 0; fi; }

mkdir -p "$T/in"
cp "$DATA/test299.png" "$T/in/a.png"
px explain -w "$MODEL" -m activation --no-png -o "$T/o1" "$T/in"
expect "explain a directory" 0

# ---- outputs onto targets that are not regular files ---------------------------
if [ "$(id -u)" = 0 ]; then # root could replace /dev/null itself: use a copy of it
    mknod "$T/null" c 1 3
    dev=$T/null
else
    dev=/dev/null
fi
px merge -o "$dev" "$T/o1/results.jsonl"
expect "merge -o a character device" 0
check "the character device is still one" test -c "$dev"
px classify -w "$MODEL" --logits "$dev" "$T/in/a.png"
expect "classify --logits a character device" 0
check "the character device is still one after --logits" test -c "$dev"
mkfifo "$T/fifo"
cat "$T/fifo" >"$T/fifo.out" &
reader=$!
px merge -o "$T/fifo" "$T/o1/results.jsonl"
expect "merge -o a FIFO" 0
wait "$reader"
check "the FIFO is still one and its reader got the lines" test -p "$T/fifo" -a -s "$T/fifo.out"
echo old >"$T/target.jsonl"
ln -s target.jsonl "$T/link.jsonl"
px merge -o "$T/link.jsonl" "$T/o1/results.jsonl"
expect "merge -o a symlink" 0
check "the symlink is kept" test -L "$T/link.jsonl"
check "the file it names is replaced" grep -q '"image"' "$T/target.jsonl"
mkdir "$T/adir"
px merge -o "$T/adir" "$T/o1/results.jsonl"
expect "merge -o a directory is refused" 2 one
check "the directory is left alone" test -d "$T/adir"

# ---- names: not UTF-8, 250 bytes, control characters ----------------------------
mkdir -p "$T/u"
cp "$DATA/test299.png" "$T/u/b"$'\xff'".png"
px explain -w "$MODEL" -m activation --no-png -o "$T/ou" "$T/u"
expect "a name that is not UTF-8" 0
check "results.jsonl is ASCII" bash -c "! LC_ALL=C grep -q \$'[\\x80-\\xff]' '$T/ou/results.jsonl'"
check "the name is written reversibly" grep -q 'b\\udcff.png' "$T/ou/results.jsonl"
px explain -w "$MODEL" -m activation --no-png --resume -o "$T/ou" "$T/u"
check "--resume finds it done" test "$(lines "$T/ou/results.jsonl")" -eq 1

mkdir -p "$T/long"
stem=$(printf 'a%.0s' $(seq 250))
cp "$DATA/small53x37.png" "$T/long/$stem.png"
px explain -w "$MODEL" -m activation -o "$T/ol" "$T/long"
expect "a 250-byte stem" 0
check "its map has a shortened name" bash -c "ls '$T/ol' | grep -q '~.*\\.activation\\.npy'"
check "its line names the real input" grep -q "$stem.png" "$T/ol/results.jsonl"
px explain -w "$MODEL" -m activation --resume -o "$T/ol" "$T/long"
check "--resume finds the long name done" test "$(lines "$T/ol/results.jsonl")" -eq 1

mkdir -p "$T/ctl"
printf 'not an image' >"$T/ctl/b"$'\n\x1b'"[31mred.png"
px classify -w "$MODEL" "$T/ctl/b"$'\n\x1b'"[31mred.png" "$T/in/a.png"
expect "a name with a newline and ESC" 1 one
check "no raw ESC byte on stderr" bash -c "! grep -q \$'\\x1b' '$T/err'"

# ---- truncated BMP, GIF and TGA ------------------------------------------------------
mkdir -p "$T/img"
# 2x2, 24 bits: BMP (rows padded to 8 bytes), uncompressed TGA, GIF89a with a 2-colour table
printf 'BM\x46\0\0\0\0\0\0\0\x36\0\0\0\x28\0\0\0\2\0\0\0\2\0\0\0\1\0\x18\0\0\0\0\0\x10\0\0\0\x13\x0b\0\0\x13\x0b\0\0\0\0\0\0\0\0\0\0' >"$T/img/full.bmp"
printf '\xff\0\0\0\xff\0\0\0\0\0\xff\0\xff\xff\xff\0' >>"$T/img/full.bmp"
printf '\0\0\2\0\0\0\0\0\0\0\0\0\2\0\2\0\x18\0\xff\0\0\0\xff\0\0\0\xff\xff\xff\xff' >"$T/img/full.tga"
printf 'GIF89a\2\0\2\0\x80\0\0\0\0\0\xff\xff\xff\x21\xf9\4\0\0\0\0\0\x2c\0\0\0\0\2\0\2\0\0\2\3\x84\x1d\5\0\x3b' >"$T/img/full.gif"
px classify -w "$MODEL" "$T/img/full.bmp" "$T/img/full.tga" "$T/img/full.gif"
expect "complete 2x2 BMP, TGA and GIF files classify" 0
check "three lines" test "$(lines "$T/out")" -eq 3
for ext in bmp tga gif; do
    n=$(wc -c <"$T/img/full.$ext")
    head -c $((n - 2)) "$T/img/full.$ext" >"$T/img/cut.$ext"
done
px classify -w "$MODEL" "$T/img/cut.bmp" "$T/img/cut.tga" "$T/img/cut.gif"
expect "truncated BMP, TGA and GIF files are refused" 1
check "each named truncated, one line each" test "$(grep -c 'is truncated' "$T/err")" -eq 3 -a "$(lines "$T/err")" -eq 3
check "none classified" test ! -s "$T/out"

# ---- weights -------------------------------------------------------------------------
cp "$MODEL" "$T/nan.safetensors"
hl=$(od -An -t u4 -N4 "$MODEL" | tr -d ' ')
off=$(head -c $((8 + hl)) "$MODEL" | grep -ao '"fc.weight":{"data_offsets":\[[0-9]*' | grep -o '[0-9]*$')
printf '\0\0\xc0\x7f' | dd of="$T/nan.safetensors" bs=1 seek=$((8 + hl + off)) conv=notrunc status=none
px classify -w "$T/nan.safetensors" "$T/in/a.png"
expect "a NaN in fc.weight is refused" 2 one
check "the error names the tensor" grep -q 'fc.weight' "$T/err"
check "no nan printed" bash -c "! grep -qi nan '$T/out'"
head -c 100 "$MODEL" >"$T/cut.safetensors"
px classify -w "$T/cut.safetensors" "$T/in/a.png"
expect "a cut safetensors file is refused" 2 one

# ---- results.jsonl with a zero block -------------------------------------------------
mkdir -p "$T/two"
cp "$DATA/test299.png" "$T/two/a.png"
cp "$DATA/small53x37.png" "$T/two/b.png"
px explain -w "$MODEL" -m activation --no-png -o "$T/oz" "$T/two"
expect "explain two images" 0
{
    head -n 1 "$T/oz/results.jsonl"
    head -c 512 /dev/zero
    printf '\x01{garbage\n'
    tail -n 1 "$T/oz/results.jsonl"
} >"$T/spoiled.jsonl"
cp "$T/spoiled.jsonl" "$T/oz/results.jsonl"
px explain -w "$MODEL" -m activation --no-png --resume -o "$T/oz" "$T/two"
expect "--resume over a zero block" 0
check "nothing redone, nothing lost" cmp -s "$T/spoiled.jsonl" "$T/oz/results.jsonl"
px merge -o "$T/merged.jsonl" "$T/oz/results.jsonl"
expect "merge skips the spoiled line" 1
check "and says so" grep -q "results.jsonl:2: skipped" "$T/err"
check "merge keeps both images" test "$(lines "$T/merged.jsonl")" -eq 2

# ---- outdir inside the input tree ------------------------------------------------------
mkdir -p "$T/tree"
cp "$DATA/small53x37.png" "$T/tree/a.png"
(cd "$T/tree" && px explain -w "$MODEL" -m activation -o out . && px explain -w "$MODEL" -m activation --resume -o out .)
check "the outdir's overlays are never inputs" test "$(lines "$T/tree/out/results.jsonl")" -eq 1

# ---- inputs that are not regular files ---------------------------------------------------
mkdir -p "$T/walk/sub"
cp "$DATA/small53x37.png" "$T/walk/sub/a.png"
mkfifo "$T/walk/f.png"
ln -s missing.png "$T/walk/sub/d.png"
px explain -w "$MODEL" -m activation --no-png -o "$T/ow" "$T/walk"
expect "a FIFO and a dangling link in a walked directory" 1
check "the FIFO is reported" grep -q "f.png' is not a regular file" "$T/err"
check "the dangling link is reported" grep -q "d.png' is a dangling symbolic link" "$T/err"
check "the image is explained" test "$(lines "$T/ow/results.jsonl")" -eq 1

# ---- bad numbers -------------------------------------------------------------------------
for args in "--size 16384" "--size 0" "--std 1e-45" "--std -1" "--std 0.5,0.5" "--mean nan"; do
    # shellcheck disable=SC2086
    px classify -w "$MODEL" $args "$T/in/a.png"
    expect "classify $args is a usage error" 2 one
done
px classify -w "$MODEL" --std 1e-45 "$T/in/a.png"
check "--std 1e-45 says why" bash -c "! grep -q 'expected 1 or 3' '$T/err'"

echo "$fails failure(s)"
[ "$fails" -eq 0 ]
