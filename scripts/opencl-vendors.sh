#!/usr/bin/env bash
# Writes the OpenCL vendors folder the project's tests and `make conform` use, and prints its
# path: export OCL_ICD_VENDORS="$(scripts/opencl-vendors.sh)" makes the ICD loader see PoCL and
# Intel's CPU runtime (from the project's venv) as two OpenCL platforms (issue 17).
#
#   scripts/opencl-vendors.sh [--install] [--quiet] [--check] [--intel-icd]
#
# The folder holds one .icd file per system vendor (/etc/OpenCL/vendors/*.icd, PoCL here) and,
# when Intel's runtime is in the venv (`scripts/setup-python.sh --opencl`), xhal-intel-cpu.icd
# naming its libintelocl.so by absolute path (the wheel's own .icd holds a placeholder path).
# ocl-icd orders the platforms itself (PoCL came first whatever the file names, so it stays
# opencl:0 and Intel's runtime is opencl:1). Debian's ocl-icd honours OCL_ICD_VENDORS (a folder,
# or one .icd file) and ignores OCL_ICD_FILENAMES.
#   --install  first install Intel's runtime into the venv (setup-python.sh --opencl --soft)
#   --quiet    print only the path (stderr stays quiet too)
#   --check    exit 3 when Intel's runtime is not registered (after writing the folder)
#   --intel-icd  print the path of Intel's .icd in the folder instead (OCL_ICD_VENDORS=<it>
#              shows Intel's runtime alone); exit 3, printing nothing, when it is not installed
# Where: XHAL_OPENCL_VENDORS (default ${XDG_CACHE_HOME:-$HOME/.cache}/xhal/opencl-vendors);
# the venv is setup-python.sh's (XHAL_VENV). Idempotent; a second run rewrites the same files.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${XDG_CACHE_HOME:-$HOME/.cache}/xhal
folder=${XHAL_OPENCL_VENDORS:-$cache/opencl-vendors}
system=${XHAL_SYSTEM_OPENCL_VENDORS:-/etc/OpenCL/vendors}
install=0 quiet=0 check=0 intel_icd=0
for arg in "$@"; do
  case $arg in
    --install) install=1 ;;
    --quiet) quiet=1 ;;
    --check) check=1 ;;
    --intel-icd) intel_icd=1 ;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "opencl-vendors: unknown option '$arg' (see --help)" >&2; exit 2 ;;
  esac
done
say() { [[ $quiet -eq 1 ]] || echo "opencl-vendors: $*" >&2; }

if [[ $install -eq 1 ]]; then
  if [[ $quiet -eq 1 ]]; then bash "$here/setup-python.sh" --opencl --soft >/dev/null 2>&1
  else bash "$here/setup-python.sh" --opencl --soft >&2; fi
fi
venv=$(bash "$here/setup-python.sh" --print-venv)

mkdir -p "$folder"
# Written beside, then renamed: a reader (a test running now) never sees half a folder.
tmp=$(mktemp -d "$folder.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
for icd in "$system"/*.icd; do
  [[ -f $icd ]] && cp "$icd" "$tmp/"
done
intel=""
if [[ -d $venv/lib ]]; then
  intel=$(find "$venv/lib" -maxdepth 1 -name 'libintelocl.so' -print -quit 2>/dev/null || true)
fi
if [[ -n $intel ]]; then
  # A name no system package uses (Debian's intel-opencl-icd ships intel.icd).
  echo "$intel" >"$tmp/xhal-intel-cpu.icd"
  say "Intel's CPU runtime registered: $intel"
else
  say "Intel's CPU runtime is not in $venv (scripts/setup-python.sh --opencl installs it):" \
      "only the system vendors are registered"
fi
# Replace the folder's .icd files with the new set.
for old in "$folder"/*.icd; do
  [[ -f $old && ! -f $tmp/$(basename "$old") ]] && rm -f "$old"
done
for new in "$tmp"/*.icd; do
  [[ -f $new ]] && mv -f "$new" "$folder/"
done
if [[ $intel_icd -eq 1 ]]; then
  [[ -n $intel ]] || exit 3
  echo "$folder/xhal-intel-cpu.icd"
  exit 0
fi
echo "$folder"
if [[ $check -eq 1 && -z $intel ]]; then exit 3; fi
exit 0
