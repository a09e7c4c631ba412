#!/usr/bin/env bash
# Runs a command with the Level Zero backend over the test stand-in (tests/levelzero/
# ze_standin.c): the stand-in is the loader the backend opens (XHAL_LEVELZERO_LIBRARY), Intel's
# CPU OpenCL runtime is registered for it (scripts/opencl-vendors.sh), and only the levelzero
# plugin is tested.
#
#   standin.sh <libze_loader.so.1 of the stand-in> <command> [args...]
#
# Exit 77 (ctest SKIP) only when Intel's runtime is not installed in the project's venv
# (scripts/setup-python.sh --opencl): the stand-in has no SPIR-V runtime to run on then.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
standin=$1
shift
vendors=$(bash "$here/../../scripts/opencl-vendors.sh" --quiet --check 2>/dev/null)
if [[ $? -ne 0 || -z $vendors ]]; then
  echo "SKIP: Intel's CPU OpenCL runtime is not registered (scripts/setup-python.sh --opencl;" \
       "scripts/opencl-vendors.sh --check says why)"
  exit 77
fi
export OCL_ICD_VENDORS=$vendors
export XHAL_LEVELZERO_LIBRARY=$standin
export XHAL_TEST_BACKEND=levelzero
# The stand-in keeps built programs there, as a GPU driver keeps its cache (ze_standin_module.c);
# in the user's cache, as the OpenCL backend's programs are, so that every build tree (the plain
# and sanitizer stages of make test) shares them.
export XHAL_ZE_STANDIN_CACHE=${XHAL_ZE_STANDIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/xhal/ze-standin}
mkdir -p "$XHAL_ZE_STANDIN_CACHE"
# The runtime is there, so a run that finds no Level Zero device (77) is a failure here.
"$@"
status=$?
if [[ $status -eq 77 ]]; then
  echo "FAIL: the Level Zero backend found no device over the stand-in $standin" >&2
  exit 1
fi
exit $status
