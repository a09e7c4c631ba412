#!/usr/bin/env python3
"""The C tokenizer against Hugging Face's `tokenizers`: same ids for every sentence of a file.

    check_tokens.py MINILM SENTENCES --model DIR

MINILM is the minilm program (its --tokens mode); SENTENCES a .jsonl file (tokenizer-sentences
.jsonl). Prints the sentences whose ids differ, with both lists, and a count.
"""
import argparse
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import reference  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("minilm")
    parser.add_argument("sentences")
    parser.add_argument("--model", required=True)
    args = parser.parse_args()
    sentences = reference.read_sentences(args.sentences)
    expected = reference.tokenize(args.model, sentences)
    run = subprocess.run([args.minilm, "--tokens", "--model", args.model, "--file",
                          args.sentences], capture_output=True, text=True)
    if run.returncode != 0:
        sys.exit("minilm --tokens failed (%d): %s" % (run.returncode, run.stderr))
    got = [[int(t) for t in line.split()] for line in run.stdout.splitlines()]
    if len(got) != len(sentences):
        sys.exit("minilm gave %d lines for %d sentences" % (len(got), len(sentences)))
    failed = 0
    for i, (s, want, have) in enumerate(zip(sentences, expected, got)):
        if want != have:
            failed += 1
            if failed <= 10:
                print("sentence %d %s\n  tokenizers: %s\n  minilm:     %s" %
                      (i + 1, ascii(s[:200]), want, have))
    tokens = sum(map(len, expected))
    print("tokenizer: %d sentences (%d tokens), %d passed, %d failed" %
          (len(sentences), tokens, len(sentences) - failed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
