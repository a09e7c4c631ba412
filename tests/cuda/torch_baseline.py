"""PyTorch on the shapes test_cuda_gpu --bench times, in a process of its own.

    python3 tests/cuda/torch_baseline.py [--quick] [--out FILE]

scripts/gpu-check.sh runs it on the lent GPU machine, whose image has PyTorch (2.11, CUDA 13):
scaled_dot_product_attention on the prefill shapes (bf16, BHSD, 32 heads, head_dim 128, 16k
tokens a batch, s = 1k..16k; --quick: 4k only; causal and not; SDPA's own choice of kernel, and
in a full run its FlashAttention-2 and cuDNN backends pinned) and the decode shapes (32 query
heads over 8 KV heads, enable_gqa), torch.matmul (cuBLAS) on the GEMM shapes, and a 1 GiB
device-to-device copy. Each figure is the median of 10 runs timed with CUDA events after 3
warm-ups, on random inputs (never zeros), as the C program times xhal's. Prints a table and, for
the script to join with xhal's figures, one line per figure: RESULT<tab>key<tab>value<tab>unit.

Exit status: 0, or 77 when PyTorch or its CUDA device is missing (reported, not failed).
Reported, never judged: the acceptance items are judged against cuBLASLt and the copy bandwidth
measured in the C program.
"""

import argparse
import sys

REPEATS, WARMUP = 10, 3


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out")
    args = parser.parse_args()
    out = open(args.out, "a") if args.out else None

    def say(line):
        print(line, flush=True)
        if out:
            out.write(line + "\n")
            out.flush()

    try:
        import torch
        import torch.nn.functional as F
    except ImportError as error:
        say(f"SKIP PyTorch: {error}")
        return 77
    if not torch.cuda.is_available():
        say(f"SKIP PyTorch {torch.__version__}: no CUDA device")
        return 77
    dev = torch.device("cuda:0")
    enabled = []
    for name in ("flash", "cudnn", "mem_efficient", "math"):
        probe = getattr(torch.backends.cuda, f"{name}_sdp_enabled", None)
        if probe is not None and probe():
            enabled.append(name)
    say(f"torch {torch.__version__} (CUDA {torch.version.cuda}, cuDNN "
        f"{torch.backends.cudnn.version()}) on {torch.cuda.get_device_name(dev)}; SDPA backends "
        f"enabled: {', '.join(enabled) or 'none reported'}")

    def median_seconds(fn):
        for _ in range(WARMUP):
            fn()
        torch.cuda.synchronize()
        times = []
        for _ in range(REPEATS):
            start = torch.cuda.Event(enable_timing=True)
            stop = torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            stop.record()
            stop.synchronize()
            times.append(start.elapsed_time(stop) / 1e3)
        times.sort()
        return times[len(times) // 2]

    def result(key, value, unit):
        say(f"RESULT\t{key}\t{value:.4g}\t{unit}")

    def measure(what, body):
        """Runs one measurement; an error is reported and the others still run."""
        try:
            body()
        except Exception as error:  # noqa: BLE001: a failure here must not stop the rest
            say(f"ERROR {what}: {type(error).__name__}: {error}")
        finally:
            torch.cuda.empty_cache()

    def copy():
        src = torch.randn(1 << 28, device=dev)  # 1 GiB of f32
        dst = torch.empty_like(src)
        s = median_seconds(lambda: dst.copy_(src))
        gbps = 2 * src.numel() * 4 / s / 1e9
        say(f"torch copy 1 GiB d2d: {s * 1e3:.3f} ms, {gbps:.0f} GB/s (read + written)")
        result("torch.copy.1024MiB", gbps, "GB/s")

    measure("copy", copy)

    def gemm(m, n, k):
        a = torch.randn(m, k, device=dev, dtype=torch.bfloat16)
        b = torch.randn(k, n, device=dev, dtype=torch.bfloat16)
        s = median_seconds(lambda: torch.matmul(a, b))
        tflops = 2 * m * n * k / s / 1e12
        say(f"torch.matmul bf16 {m}x{n}x{k}: {s * 1e3:.3f} ms, {tflops:.1f} TFLOP/s")
        result(f"torch.gemm.{m}x{n}x{k}", tflops, "TFLOP/s")

    for m, n, k in ((4096, 4096, 4096), (8192, 8192, 8192), (2048, 4096, 4096),
                    (2048, 14336, 4096), (2048, 4096, 14336)):
        measure(f"gemm {m}x{n}x{k}", lambda: gemm(m, n, k))

    # SDPA's own choice ("sdpa."), and in a full run each of its fast backends pinned
    # ("sdpa_flash.": FlashAttention-2; "sdpa_cudnn.": cuDNN's), where this PyTorch has them.
    pinned = []
    if not args.quick:
        try:
            from torch.nn.attention import SDPBackend, sdpa_kernel
            pinned = [("flash", SDPBackend.FLASH_ATTENTION), ("cudnn", SDPBackend.CUDNN_ATTENTION)]
        except (ImportError, AttributeError) as error:
            say(f"SDPA backends cannot be pinned: {error}")

    def prefill(seq):
        batch = 16384 // seq
        q, k, v = (torch.randn(batch, 32, seq, 128, device=dev, dtype=torch.bfloat16)
                   for _ in range(3))
        for causal in (False, True):
            flops = 4 * batch * 32 * seq * seq * 128 / (2 if causal else 1)
            shape = f"b{batch} h32 s{seq} d128{' causal' if causal else ''}"
            key = f"prefill.b{batch}.h32.s{seq}.d128{'.causal' if causal else ''}"
            for name, backend in [("", None)] + pinned:
                def run():
                    return F.scaled_dot_product_attention(q, k, v, is_causal=causal)
                try:
                    if backend is None:
                        s = median_seconds(run)
                    else:
                        with sdpa_kernel([backend]):
                            s = median_seconds(run)
                except RuntimeError as error:  # this backend cannot take the shape
                    say(f"sdpa{'_' + name if name else ''} prefill {shape}: {error}")
                    continue
                say(f"sdpa{' (' + name + ')' if name else ''} prefill {shape}: {s * 1e3:.3f} ms, "
                    f"{flops / s / 1e12:.1f} TFLOP/s")
                result(f"sdpa{'_' + name if name else ''}.{key}", flops / s / 1e12, "TFLOP/s")

    for seq in (1024, 2048, 4096, 8192, 16384):
        if args.quick and seq != 4096:
            continue
        measure(f"prefill s{seq}", lambda: prefill(seq))

    def decode(batch, kv):
        q = torch.randn(batch, 32, 1, 128, device=dev, dtype=torch.bfloat16)
        k, v = (torch.randn(batch, 8, kv, 128, device=dev, dtype=torch.bfloat16)
                for _ in range(2))
        try:
            s = median_seconds(lambda: F.scaled_dot_product_attention(q, k, v, enable_gqa=True))
            how = "enable_gqa"
        except (TypeError, RuntimeError):  # no enable_gqa: repeat the KV heads (more bytes)
            ke, ve = k.repeat_interleave(4, 1), v.repeat_interleave(4, 1)
            s = median_seconds(lambda: F.scaled_dot_product_attention(q, ke, ve))
            how = "KV heads repeated"
        nbytes = 2 * batch * 8 * kv * 128 * 2 + 2 * batch * 32 * 128 * 2
        say(f"sdpa decode b{batch} hq32 hkv8 kv{kv} d128 ({how}): {s * 1e6:.1f} us, "
            f"{nbytes / s / 1e9:.0f} GB/s")
        result(f"sdpa.decode.b{batch}.hq32.hkv8.kv{kv}.d128", nbytes / s / 1e9, "GB/s")

    for batch, kv in ((32, 8192), (4, 32768), (128, 2048)):
        if args.quick and kv != 8192:
            continue
        measure(f"decode b{batch} kv{kv}", lambda: decode(batch, kv))
    if out:
        out.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
