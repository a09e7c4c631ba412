#!/usr/bin/env python3
"""minilm's embeddings on one device and dtype against the fp64 numpy reference.

    check_embeddings.py MINILM SENTENCES --device SPEC --dtype f32 --min-cosine 0.99999
                        [--unfused] [--reference FILE] --model DIR

Each sentence's embedding must have a cosine of at least --min-cosine with the reference's
(tools/reference.py, fp64, from the model's definition), computed here or read from FILE
(written by `reference.py embed --out FILE` for the same sentences); prints the worst and a count.
"""
import argparse
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import reference  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("minilm")
    parser.add_argument("sentences")
    parser.add_argument("--device", required=True)
    parser.add_argument("--dtype", required=True)
    parser.add_argument("--min-cosine", type=float, required=True)
    parser.add_argument("--unfused", action="store_true")
    parser.add_argument("--reference")
    parser.add_argument("--model", required=True)
    args = parser.parse_args()
    command = [args.minilm, "--embeddings", "--device", args.device, "--dtype", args.dtype,
               "--model", args.model, "--file", args.sentences]
    if args.unfused:
        command.append("--unfused")
    run = subprocess.run(command, capture_output=True, text=True)
    if run.returncode != 0:
        sys.exit("%s failed (%d): %s" % (" ".join(command), run.returncode, run.stderr))
    got = np.array([[float(x) for x in line.split()] for line in run.stdout.splitlines()])
    sentences = reference.read_sentences(args.sentences)
    if args.reference:
        want = np.loadtxt(args.reference, ndmin=2)
    else:
        want = reference.Model(args.model).encode(reference.tokenize(args.model, sentences))
    if got.shape != want.shape:
        sys.exit("minilm gave embeddings of shape %s, the reference %s" % (got.shape, want.shape))
    cosine = (got * want).sum(axis=1) / np.linalg.norm(got, axis=1) / np.linalg.norm(want, axis=1)
    cosine = np.nan_to_num(cosine, nan=-1.0)
    worst = int(np.argmin(cosine))
    failed = int((cosine < args.min_cosine).sum())
    print("embeddings on %s, %s weights%s: worst cosine %.10f = 1 - %.2e (sentence %d: %s), "
          "bound %g" % (args.device, args.dtype, " (unfused)" if args.unfused else "",
                        cosine[worst], 1 - cosine[worst], worst + 1, ascii(sentences[worst][:60]),
                        args.min_cosine))
    print("embeddings: %d passed, %d failed" % (len(cosine) - failed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
