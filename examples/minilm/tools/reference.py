#!/usr/bin/env python3
"""all-MiniLM-L6-v2 in numpy, written from BERT's definition: the reference of examples/minilm.

    reference.py embed  [--model DIR] --file F [--dtype f64|f32]   embeddings, one a line
    reference.py tokens [--model DIR] --file F                     token ids, one sentence a line
    reference.py bench  [--model DIR] --file F [--repeats N]       the batch in f32 on numpy's BLAS

Nothing here comes from sentence-transformers or transformers: the weights are read with
safetensors, the token ids come from Hugging Face's `tokenizers` (the C tokenizer is checked
against it separately), and the encoder is the BERT of the paper (Devlin et al. 2019) as
all-MiniLM-L6-v2's config.json sets it up: learned word, position and token-type embeddings
summed and layer-normalized; per block multi-head self-attention (softmax(q k^T / sqrt(d)) v)
and a GELU (erf) feed-forward, each followed by a residual add and a LayerNorm (post-LN); then
sentence-transformers' pooling: the mean over the sentence's tokens, L2-normalized. A batch is
packed as the C program packs it: one matrix of every sentence's tokens, attention per sentence.
Sentence files: one sentence a line, or, for FILE.jsonl, one JSON string a line.
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
from safetensors.numpy import load_file

MAX_TOKENS = 256  # sentence_bert_config.json's max_seq_length


def default_model_dir():
    if os.environ.get("XHAL_MODEL_DIR"):
        return os.environ["XHAL_MODEL_DIR"]
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return os.path.join(cache, "xhal", "models", "all-MiniLM-L6-v2")


def read_sentences(path):
    """As the C program reads them: lines split at \\n, line ends dropped, bad UTF-8 replaced."""
    with open(path, "rb") as f:
        data = f.read()
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    lines = [line.rstrip(b"\r\n") for line in lines]
    if path.endswith(".jsonl"):
        return [json.loads(line) for line in lines]
    return [line.decode("utf-8", errors="replace") for line in lines]


def tokenize(model_dir, sentences):
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(os.path.join(model_dir, "tokenizer.json"))
    tok.no_padding()  # tokenizer.json pads to 128 and cuts at 128; sentence-transformers does not
    tok.enable_truncation(MAX_TOKENS)
    return [tok.encode(s).ids for s in sentences]


def erf(x):
    """erf to ~1e-14 in numpy (which has none): its Taylor series below 2.5, above it 1 - erfc
    with erfc's continued fraction."""
    x = np.asarray(x)
    a = np.abs(x)
    out = np.empty_like(a)
    low = a < 2.5
    s = a[low]
    term, total = s.copy(), s.copy()
    for n in range(1, 42):  # x^(2n+1) (-1)^n / (n! (2n+1)); the 42nd term is below 1e-17
        term *= -s * s / n
        total += term / (2 * n + 1)
    out[low] = total * (2.0 / math.sqrt(math.pi))
    b = a[~low]
    fraction = np.zeros_like(b)  # erfc(x) = e^-x^2 / sqrt(pi) / (x + (1/2)/(x + 1/(x + ...)))
    for k in range(80, 0, -1):
        fraction = (k / 2.0) / (b + fraction)
    out[~low] = 1.0 - np.exp(-b * b) / math.sqrt(math.pi) / (b + fraction)
    return np.sign(x) * out


def layer_norm(x, gamma, beta, eps):
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


class Model:
    def __init__(self, model_dir, dtype=np.float64):
        with open(os.path.join(model_dir, "config.json")) as f:
            self.config = json.load(f)
        assert self.config["hidden_act"] == "gelu"
        w = load_file(os.path.join(model_dir, "model.safetensors"))
        self.w = {k.removeprefix("bert."): v.astype(dtype) for k, v in w.items()
                  if v.dtype == np.float32}
        self.dtype = dtype
        self.heads = self.config["num_attention_heads"]
        self.eps = self.config["layer_norm_eps"]
        self.gemm_seconds = 0.0
        self.gemm_flops = 0.0

    def linear(self, x, name):
        """x @ W^T + b, as torch.nn.Linear stores W: [out][in]."""
        start = time.perf_counter()
        y = x @ self.w[name + ".weight"].T
        self.gemm_seconds += time.perf_counter() - start
        self.gemm_flops += 2.0 * x.shape[0] * y.shape[1] * x.shape[1]
        return y + self.w[name + ".bias"]

    def encode(self, ids_list):
        w, lengths = self.w, [len(ids) for ids in ids_list]
        ids = np.concatenate([np.asarray(i, dtype=np.int64) for i in ids_list])
        positions = np.concatenate([np.arange(n) for n in lengths])
        x = (w["embeddings.word_embeddings.weight"][ids] +
             w["embeddings.position_embeddings.weight"][positions] +
             w["embeddings.token_type_embeddings.weight"][0])
        x = layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"],
                       self.eps)
        starts = np.cumsum([0] + lengths)
        hidden = x.shape[1]
        d = hidden // self.heads
        for layer in range(self.config["num_hidden_layers"]):
            p = "encoder.layer.%d." % layer
            q = self.linear(x, p + "attention.self.query")
            k = self.linear(x, p + "attention.self.key")
            v = self.linear(x, p + "attention.self.value")
            ctx = np.empty_like(x)
            for s in range(len(lengths)):  # each sentence attends to itself only
                r = slice(starts[s], starts[s + 1])
                # [heads][tokens][d], contiguous: numpy's matmul only calls BLAS on those
                qh, kh, vh = (np.ascontiguousarray(t[r].reshape(-1, self.heads, d)
                                                   .transpose(1, 0, 2)) for t in (q, k, v))
                scores = qh @ kh.transpose(0, 2, 1) / math.sqrt(d)
                scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
                probs = scores / scores.sum(axis=-1, keepdims=True)
                ctx[r] = (probs @ vh).transpose(1, 0, 2).reshape(-1, hidden)
            attn = self.linear(ctx, p + "attention.output.dense")
            h = layer_norm(x + attn, w[p + "attention.output.LayerNorm.weight"],
                           w[p + "attention.output.LayerNorm.bias"], self.eps)
            ff = self.linear(h, p + "intermediate.dense")
            ff = 0.5 * ff * (1.0 + erf(ff / math.sqrt(2.0)))
            out = self.linear(ff, p + "output.dense")
            x = layer_norm(h + out, w[p + "output.LayerNorm.weight"],
                           w[p + "output.LayerNorm.bias"], self.eps)
        pooled = np.stack([x[starts[s]:starts[s + 1]].mean(axis=0) for s in range(len(lengths))])
        norms = np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return pooled / norms


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["embed", "tokens", "bench"])
    parser.add_argument("--model", default=default_model_dir())
    parser.add_argument("--file", required=True)
    parser.add_argument("--dtype", choices=["f64", "f32"], default="f64")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", help="embed: write the embeddings to this file")
    args = parser.parse_args()
    sentences = read_sentences(args.file)
    start = time.perf_counter()
    ids = tokenize(args.model, sentences)
    tokenize_s = time.perf_counter() - start
    if args.command == "tokens":
        for i in ids:
            print(" ".join(map(str, i)))
        return
    if args.command == "embed":
        model = Model(args.model, np.float64 if args.dtype == "f64" else np.float32)
        np.savetxt(args.out or sys.stdout, model.encode(ids), fmt="%.17g")
        return
    model = Model(args.model, np.float32)
    model.encode(ids)  # warm-up
    best, gemm_s, flops = float("inf"), 0.0, 0.0
    for _ in range(args.repeats):
        model.gemm_seconds = model.gemm_flops = 0.0
        start = time.perf_counter()
        model.encode(ids)
        elapsed = time.perf_counter() - start
        if elapsed < best:
            best, gemm_s, flops = elapsed, model.gemm_seconds, model.gemm_flops
    tokens = sum(map(len, ids))
    print("numpy reference bench: %d sentences, %d tokens, f32, numpy %s" %
          (len(ids), tokens, np.__version__))
    print("throughput: %.1f sentences/s, %.0f tokens/s (best of %d runs: %.1f ms a batch; "
          "tokenizing %.1f ms more)" % (len(ids) / best, tokens / best, args.repeats, best * 1e3,
                                       tokenize_s * 1e3))
    print("  gemm (numpy matmul) %9.1f ms %5.1f%%  %.1f GFLOP/s" %
          (gemm_s * 1e3, 100 * gemm_s / best, flops / gemm_s / 1e9))
    try:
        from threadpoolctl import threadpool_info
        for pool in threadpool_info():
            print("  BLAS: %s %s, %s kernels, %d threads" %
                  (pool.get("internal_api"), pool.get("version"), pool.get("architecture"),
                   pool.get("num_threads")))
    except ImportError:
        pass


if __name__ == "__main__":
    main()
