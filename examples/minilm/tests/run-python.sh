#!/usr/bin/env bash
# Runs one of examples/minilm's Python checks with the project's venv and model, or skips it
# (exit 77, which ctest reports as skipped) saying what is missing and how to get it.
#   run-python.sh SOURCE_ROOT SCRIPT ARGS...   (the script gets --model DIR after ARGS)
set -euo pipefail
root=$1
shift
venv=$(bash "$root/scripts/setup-python.sh" --print-venv)
model=$(bash "$root/scripts/setup-python.sh" --print-model-dir)
skip() {
  echo "SKIP: $* -- run 'make model' (scripts/setup-python.sh --model) to set it up"
  exit 77
}
[[ -x $venv/bin/python ]] || skip "no Python venv at $venv"
"$venv/bin/python" -c 'import numpy, safetensors, tokenizers' 2>/dev/null ||
  skip "the venv $venv lacks numpy, safetensors or tokenizers"
[[ -f $model/model.safetensors && -f $model/tokenizer.json ]] ||
  skip "no all-MiniLM-L6-v2 at $model"
exec "$venv/bin/python" "$@" --model "$model"
