#!/usr/bin/env python3
"""Writes the hand-made seeds of the fuzz targets (tests/fuzz/corpus/): a few meaningful inputs
the fuzzers start from. What the fuzzers find beyond them is kept in the build folder, and
`make fuzz-merge` adds the inputs that reach new code, minimized, to corpus/ (keep it small).

The API byte code is fuzz_api.c's: an instruction is <op> <slot> <arguments>; a small value v
(< 32) is the byte v * 8, a 16-bit value the byte 3 followed by two bytes (big-endian)."""
import json
import os
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
