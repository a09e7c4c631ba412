#!/usr/bin/env python3
"""Writes the hand-made seeds of the fuzz targets (tests/fuzz/corpus/): a few meaningful inputs
the fuzzers start from. What the fuzzers find beyond them is kept in the build folder, and
`make fuzz-merge` adds the inputs that reach new code, minimized, to corpus/ (keep it small).

The API byte code is fuzz_api.c's: an instruction is <op> <slot> <arguments>; a small value v
(< 32) is the byte v * 8, a 16-bit value the byte 3 followed by two bytes (big-endian).

The INI seeds are the project's own files (kernels/tuning/*.ini, hal/data/devices.ini), cut in
the middle of a line, and a few hand-made ones. The cache seeds are entries made by the cache's
own writer: `make_seeds.py build-fuzz/fuzz/fuzz_cache` has the fuzz target write them."""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def small(v):
    assert 0 <= v < 32
    return bytes([v * 8])


def u16(v):
    return bytes([3, v >> 8, v & 255])


def alloc(slot, size):
    return bytes([0, slot]) + u16(size) + bytes([0])


def stream(slot):
    return bytes([2, slot])


def event(slot):
    return bytes([4, slot])


def h2d(stream_slot, buf, size):
    # op 11, slot, stream, buffer, offset (value, multiplier), size, host offset (2 bytes)
    return bytes([11, 0, stream_slot, buf]) + small(0) + bytes([1]) + u16(size) + bytes([0, 0])


def d2h(stream_slot, buf, size):
    return bytes([12, 0, stream_slot, buf]) + small(0) + bytes([1]) + u16(size) + bytes([0, 0])


def fill(stream_slot, buf, size):
    return bytes([14, 0, 0x3f, 0x80, 0, 0, stream_slot, buf]) + small(0) + bytes([1]) + \
        u16(size) + bytes([4, 1])


def gemm(m, n, k, dtype, a, b, c, stream_slot, edits=0, extra=b""):
    return bytes([15, 0, dtype]) + small(m) + small(n) + small(k) + bytes([edits]) + extra + \
        bytes([a, b, c]) + (small(0) + bytes([1])) * 3 + bytes([stream_slot])


def attention(b, hq, hkv, sq, skv, d, dtype, layout, q, k, v, o, stream_slot, edits=0,
              extra=b""):
    return bytes([16, 0, dtype]) + small(b) + small(hq) + small(hkv) + small(sq) + small(skv) + \
        small(d) + bytes([layout, edits]) + extra + bytes([q, k, v, o]) + \
        (small(0) + bytes([1])) * 4 + bytes([stream_slot])


def sync(slot):
    return bytes([10, slot])


def write(folder, name, data):
    with open(os.path.join(HERE, "corpus", folder, name), "wb") as f:
        f.write(data)


def main():
    setup = alloc(0, 4096) + alloc(1, 4096) + alloc(2, 4096) + alloc(3, 4096) + stream(0) + \
        stream(1) + event(0) + event(1)
    write("api", "gemm-f32", setup + h2d(0, 0, 4096) + h2d(0, 1, 4096) + fill(0, 2, 4096) +
          gemm(7, 9, 5, 0, 0, 1, 2, 0) + d2h(0, 2, 256) + sync(0))
    write("api", "gemm-bf16-batched", setup + h2d(0, 0, 4096) + h2d(0, 1, 4096) +
          gemm(3, 17, 11, 2, 0, 1, 2, 1, edits=8, extra=small(3) + small(0) + small(0) +
               u16(64)) + sync(1))
    write("api", "attention-decode", setup + h2d(0, 0, 4096) + h2d(0, 1, 4096) +
          h2d(0, 2, 4096) + attention(1, 4, 2, 1, 30, 8, 0, 1, 0, 1, 2, 3, 0, edits=1,
                                      extra=bytes([1])) + sync(0))
    # merge of two partial outputs (f32, 1 x 2 x 3 x 8, BHSD) with their LSEs, in place
    write("api", "merge", setup + h2d(0, 0, 4096) + h2d(0, 1, 4096) + h2d(0, 2, 4096) +
          bytes([17, 0, 0]) + small(1) + small(2) + small(3) + small(8) + bytes([1, 0]) +
          bytes([0, 1, 0, 2, 3, 2]) + (small(0) + bytes([1])) * 6 + bytes([0]) + sync(0))
    write("api", "events", setup + bytes([6, 0, 0, 7, 0, 1, 8, 0, 6, 1, 1, 9, 0, 1]) + sync(1))
    write("api", "copies", setup + h2d(1, 0, 4096) + bytes([13, 0, 1, 3]) + small(0) +
          bytes([1]) + u16(2048) + bytes([0, 0, 0]) + small(4) + bytes([4]) + d2h(1, 3, 64) +
          bytes([1, 0, 3, 1, 5, 0]))
    write("api", "devices", bytes([18, 0, 5]) + b"cpu:0" + bytes([1, 1]) + small(0) + small(1) +
          bytes([18, 0, 9]) + b"opencl:x" + bytes([0, 0]) + u16(300) + small(9) + small(0))

    with open(os.path.join(HERE, "..", "conformance", "data", "pocl-report.json")) as f:
        report = json.load(f)
    write("compare", "pocl-report.json", json.dumps(report, indent=1).encode())
    small_report = dict(report)
    small_report["utilization"] = report["utilization"][:2]
    small_report["correctness"] = report.get("correctness", [])[:1]
    write("compare", "two-cases.json", json.dumps(small_report).encode())
    write("compare", "not-a-report.json", b'{"format": "xhal-conform-report", "utilization": '
          b'[{"id": 1, "dtype": null, "flops_per_s": 1e999, "roofline": "x"}], "device": []}')
    write("compare", "escapes.json", b'{"format":"xhal-conform-report","device":{"spec":'
          b'"\\ud83d\\ude00\\u0000\\n"},"utilization":[[[[]]]]}')
    write_ini_seeds()
    if len(sys.argv) > 1:  # the fuzz_cache binary: entries made by xc_cache_store
        folder = os.path.join(HERE, "corpus", "cache")
        os.makedirs(folder, exist_ok=True)
        subprocess.run([sys.argv[1]], check=True,
                       env=dict(os.environ, XHAL_FUZZ_CACHE_SEEDS=folder))
    return 0


def write_ini_seeds():
    os.makedirs(os.path.join(HERE, "corpus", "ini"), exist_ok=True)
    root = os.path.join(HERE, "..", "..")
    files = {"opencl.ini": os.path.join(root, "kernels", "tuning", "opencl.ini"),
             "cuda.ini": os.path.join(root, "kernels", "tuning", "cuda.ini"),
             "devices.ini": os.path.join(root, "hal", "data", "devices.ini")}
    for name, path in files.items():
        with open(path, "rb") as f:
            text = f.read()
        write("ini", name, text)
        cut = len(text) // 2
        write("ini", "cut-" + name, text[:cut])  # most likely inside a line
    write("ini", "tuning-edges.ini", b"\xef\xbb\xbfglobal = 1\n[default]\ngemm_vw = 16 ; widest\n"
          b"gemm_tm = 0\ngemm_wg_m = 32\ngemm_wg_n = 32\ngemm_kb = 64\ngemm_nv = 8\n"
          b"gemm_local = 1\natt_dec_chunk = 99999999999\n[sm_90]\ngemm_mma_large = \n"
          b"attention_sm90 = 1\n[gpu]\ntype = gpu\nmatch = H100|*\ngemm_group_m = -1\n"
          b"[DEFAULT]\ngemm_vw=8\ngemm_vw = 12\n")
    write("ini", "devices-edges.ini", b"[NVIDIA H100]\nmatch = H100\nper_device = 0.5\n"
          b"fp32 = 67\nfp16 = 1e308\nbf16 = nan\nbandwidth = inf\nname = a # b ; c\n"
          b"[other]\nmatch = ,|, *\nbandwidth = 1e-320\nper_device = 1e308\n")
    write("ini", "errors.ini", b"[a]]\n[ b ] ; fine\nkey\n= value\n[\n")
    # What the writer once wrote and the reader then refused or read otherwise (xc_ini_write).
    write("ini", "longest-line.ini", b"k=" + b"v" * 4094 + b"\n")
    write("ini", "two-marks.ini", b"\xef\xbb\xbf\xef\xbb\xbfkey = 1\n[s]\nk = v\n")


if __name__ == "__main__":
    sys.exit(main())
