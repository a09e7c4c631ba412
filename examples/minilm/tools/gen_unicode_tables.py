#!/usr/bin/env python3
"""Writes examples/minilm/unicode_tables.c: the Unicode data of the BERT tokenizer.

    <venv>/bin/python examples/minilm/tools/gen_unicode_tables.py > examples/minilm/unicode_tables.c
    <venv>/bin/python examples/minilm/tools/gen_unicode_tables.py --check examples/minilm/unicode_tables.c

BERT's normalizer (as Hugging Face's `tokenizers` runs it for all-MiniLM-L6-v2) does, per
character: drop controls (categories Cc, Cf, Co, Cs, except tab/newline/return) and U+0000,
U+FFFD; turn whitespace into a space; pad CJK ideographs with spaces; decompose to NFD and drop
the non-spacing marks (Mn), which strips accents; lower-case. Its pre-tokenizer then splits on
spaces and isolates punctuation (categories P*, and every ASCII symbol). The tables come from
Python's unicodedata. `tokenizers` is written in Rust and its crates carry older Unicode data
than Python's for a few hundred code points (newer scripts' marks and punctuation, a few format
characters): where the two disagree the C tokenizer must follow `tokenizers`, so this script asks
it about every code point and writes those code points as overrides, counted in the output. It
needs the project's venv (scripts/setup-python.sh) for `tokenizers` and the model's
tokenizer.json (--model DIR, default the model cache). --check FILE compares instead of writing:
the test that the committed tables are what this script makes (with this Unicode version).
"""
import argparse
import os
import sys
import unicodedata as ud

REMOVE, SPACE, MARK, PUNCT = 1, 2, 3, 4
CLASS_NAMES = {REMOVE: "MT_REMOVE", SPACE: "MT_SPACE", MARK: "MT_MARK", PUNCT: "MT_PUNCT"}
# Rust's char::is_whitespace (the White_Space property).
WHITESPACE = set([0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0x85, 0xA0, 0x1680] +
                 list(range(0x2000, 0x200B)) + [0x2028, 0x2029, 0x202F, 0x205F, 0x3000])
# BERT's "Chinese characters" (the C code has the same list: they are padded with spaces).
CJK = [(0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F),
       (0x2B740, 0x2B81F), (0x2B920, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F)]
HANGUL = (0xAC00, 0xD7A3)  # decomposed by the C code with the algorithm of Unicode 3.12
ASCII_PUNCT = set(map(ord, "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"))


def codepoints():
    return (c for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF)


def is_cjk(c):
    return any(a <= c <= b for a, b in CJK)


def base_class(c):
    """What Python's unicodedata says the normalizer does with c alone."""
    ch = chr(c)
    cat = ud.category(ch)
    if c in (0x09, 0x0A, 0x0D):
        return SPACE
    if c in (0, 0xFFFD) or cat in ("Cc", "Cf", "Co", "Cs"):
        return REMOVE
    if c in WHITESPACE:
        return SPACE
    if cat == "Mn":
        return MARK
    if cat.startswith("P") or c in ASCII_PUNCT:
        return PUNCT
    return 0


def base_map(c):
    """NFD, marks dropped, lower-cased: the text c becomes."""
    return "".join(x.lower() for x in ud.normalize("NFD", chr(c)) if ud.category(x) != "Mn")


def hf_probe(tokenizer_json):
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(tokenizer_json)
    return tok.normalizer.normalize_str, tok.pre_tokenizer.pre_tokenize_str


def ranges(pairs):
    """[(cp, value)] sorted -> [(first, last, value)] merging consecutive code points."""
    out = []
    for c, v in pairs:
        if out and out[-1][1] == c - 1 and out[-1][2] == v:
            out[-1][1] = c
        else:
            out.append([c, c, v])
    return out


def main():
    default_model = os.path.join(os.environ.get("XDG_CACHE_HOME") or
                                 os.path.expanduser("~/.cache"), "xhal", "models",
                                 "all-MiniLM-L6-v2")
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default=os.environ.get("XHAL_MODEL_DIR", default_model))
    parser.add_argument("--check", metavar="FILE")
    args = parser.parse_args()
    normalize, pre_tokenize = hf_probe(os.path.join(args.model, "tokenizer.json"))

    # REMOVE, SPACE and MARK say what becomes of an input character; PUNCT is asked of the
    # normalized text, whose characters all map to themselves (checked below).
    classes, mapping, overrides = [], [], []
    for c in codepoints():
        ch = chr(c)
        cls = base_class(c)
        text = "" if cls in (REMOVE, MARK) else " " if cls == SPACE else base_map(c)
        if is_cjk(c):
            text = " " + text + " "
        got = normalize(ch)  # what `tokenizers` does with c alone
        if got != text:
            overrides.append(c)
            if got == "":
                cls = MARK if ud.category(ch).startswith("M") else REMOVE
            elif cls in (REMOVE, MARK):
                cls = 0
            text = got
        if cls in (REMOVE, SPACE, MARK):
            classes.append((c, cls))
            continue
        if text == ch:
            hf_punct = [w for w, _ in pre_tokenize("a" + ch + "b")] == ["a", ch, "b"]
            if hf_punct != (cls == PUNCT):
                overrides.append(c)
            if hf_punct:
                classes.append((c, PUNCT))
        elif not is_cjk(c) and not HANGUL[0] <= c <= HANGUL[1]:
            mapping.append((c, [ord(x) for x in text]))
    for c, seq in mapping:
        for x in seq:
            if normalize(chr(x)) != chr(x):
                sys.exit("gen_unicode_tables: U+%04X maps to U+%04X, which does not map to itself"
                         % (c, x))

    # Canonical combining classes of what survives the mark stripping (NFD reorders them).
    stripped = set(c for c, v in classes if v in (REMOVE, MARK))
    ccc = ranges([(c, ud.combining(chr(c))) for c in codepoints()
                  if ud.combining(chr(c)) and c not in stripped])
    class_ranges = ranges(classes)

    chunks = []
    w = chunks.append
    w("/*\n * Generated by examples/minilm/tools/gen_unicode_tables.py from Python's unicodedata "
      "%s\n" % ud.unidata_version)
    w(" * with %d code points overridden to match Hugging Face's tokenizers (older Unicode data "
      "in its\n * Rust crates). Do not edit: run the script.\n */\n/* clang-format off */\n" %
      len(set(overrides)))
    w('#include "unicode_tables.h"\n\n')
    w("const mt_range_t mt_class_ranges[] = {\n")
    for i in range(0, len(class_ranges), 3):
        w("   " + "".join(" {0x%X, 0x%X, %s}," % (a, b, CLASS_NAMES[v])
                          for a, b, v in class_ranges[i:i + 3]) + "\n")
    w("};\nconst size_t mt_class_range_count = sizeof mt_class_ranges / sizeof "
      "mt_class_ranges[0];\n\n")
    w("const mt_range_t mt_ccc_ranges[] = {\n")
    for i in range(0, len(ccc), 4):
        w("   " + "".join(" {0x%X, 0x%X, %d}," % tuple(r) for r in ccc[i:i + 4]) + "\n")
    w("};\nconst size_t mt_ccc_range_count = sizeof mt_ccc_ranges / sizeof mt_ccc_ranges[0];\n\n")
    pool, entries = [], []
    for c, seq in mapping:
        entries.append((c, len(pool), len(seq)))
        pool.extend(seq)
    if len(pool) >= 1 << 16:
        sys.exit("gen_unicode_tables: the pool outgrew mt_map_t's 16-bit offsets")
    w("/* Code point -> (offset, length) of what it becomes in mt_map_pool. */\n")
    w("const mt_map_t mt_map[] = {\n")
    for i in range(0, len(entries), 4):
        w("   " + "".join(" {0x%X, %d, %d}," % e for e in entries[i:i + 4]) + "\n")
    w("};\nconst size_t mt_map_count = sizeof mt_map / sizeof mt_map[0];\n\n")
    w("const uint32_t mt_map_pool[] = {\n")
    for i in range(0, len(pool), 8):
        w("   " + "".join(" 0x%X," % x for x in pool[i:i + 8]) + "\n")
    w("};\n")
    text = "".join(chunks)
    if args.check:
        with open(args.check) as f:
            committed = f.read()
        if committed != text:
            old = committed.splitlines()
            new = text.splitlines()
            line = next((i for i, (a, b) in enumerate(zip(old, new)) if a != b),
                        min(len(old), len(new)))
            sys.exit("gen_unicode_tables: %s differs from what this script makes now (from line "
                     "%d; Python's Unicode is %s): regenerate it" % (args.check, line + 1,
                                                                    ud.unidata_version))
        print("gen_unicode_tables: %s is up to date" % args.check)
    else:
        sys.stdout.write(text)
    sys.stderr.write("gen_unicode_tables: %d class ranges, %d ccc ranges, %d mappings "
                     "(%d pool entries), %d overrides\n" % (len(class_ranges), len(ccc),
                                                           len(entries), len(pool),
                                                           len(set(overrides))))


if __name__ == "__main__":
    main()
