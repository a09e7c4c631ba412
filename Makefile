# The two commands of README.md, and the steps they are made of.
#   make conform   install missing packages, build, run the quick conformance suite on every
#                  device found, print the tables (reports in $(BUILD)/conform)
#   make test      install missing packages, build, run every test (plain, ASan+UBSan, valgrind)
#   make model     the project's Python venv and the all-MiniLM-L6-v2 model (examples/minilm)
# Variables: BUILD (build folder), JOBS (parallel jobs).

BUILD ?= build
BUILD_ASAN ?= build-asan
BUILD_GPU_CHECK ?= build-gpucheck
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?= -DXHAL_WERROR=ON
CTEST = ctest --output-on-failure --timeout 900 -j $(JOBS)
# The sanitizer build compiles the HIP code objects for one CDNA target only: sanitizers do not
# reach device code, and the plain build has built and checked every target (saves ~90 s of CPU).
HIP_ASAN_TARGETS ?= gfx90a

.PHONY: all deps build build-asan conform test test-plain test-asan test-valgrind clean help

all: build

help:
	@sed -n '2,5p' Makefile

# Debian's packages, then the venv and the model (scripts/setup-python.sh). Without network the
# Python step says so and goes on (--soft): the tests that need it skip, saying why.
deps:
	bash scripts/install-deps.sh
	bash scripts/setup-python.sh --model --soft

# The same Python set-up, failing loudly when it cannot be done.
.PHONY: python model
python:
	bash scripts/setup-python.sh
model:
	bash scripts/setup-python.sh --model

build: deps
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS)
	cmake --build $(BUILD) -j $(JOBS)

build-asan: deps
	cmake -S . -B $(BUILD_ASAN) $(CMAKE_FLAGS) -DCMAKE_BUILD_TYPE=Debug \
	  -DXHAL_SANITIZE=address,undefined -DXHAL_HIP_TARGETS="$(HIP_ASAN_TARGETS)"
	cmake --build $(BUILD_ASAN) -j $(JOBS)

# The quick conformance suite on every device (reports in $(BUILD)/conform/<device>/), then,
# when there are several devices, their utilization side by side ($(BUILD)/conform/compare.md).
# The exit status is conform's: non-zero when a correctness case failed.
conform: build
	$(BUILD)/bin/xhal devices
	rm -rf $(BUILD)/conform
	$(BUILD)/bin/xhal conform --quick --out $(BUILD)/conform; status=$$?; \
	  set -- $(BUILD)/conform/*/report.json; \
	  if [ $$# -gt 1 ] && [ -e "$$1" ]; then \
	    $(BUILD)/bin/xhal compare "$$@" --out $(BUILD)/conform || status=1; fi; \
	  exit $$status

test: test-plain test-gpu-check test-asan test-valgrind
	@echo "make test: all test stages passed"

test-plain: build
	cd $(BUILD) && $(CTEST)

# The GPU check (scripts/gpu-check.sh) as the lent GPU machines' image builds it, without cmocka
# and pkg-config (both hidden), reusing $(BUILD)'s fatbins; its no-GPU path must say "no GPU".
.PHONY: test-gpu-check
test-gpu-check: build
	JOBS=$(JOBS) bash tests/cuda/ci_gpu_check.sh $(BUILD) $(BUILD_GPU_CHECK)

# Sanitizers catch what a normal build hides; leaks are left to valgrind (ASan's leak checker
# needs ptrace, which some containers refuse).
test-asan: build-asan
	cd $(BUILD_ASAN) && ASAN_OPTIONS=detect_leaks=0:abort_on_error=0 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 $(CTEST) -LE install

# XHAL_TEST_CPU_ONLY=1: test_gemm/test_attention run their cases on the CPU backend only, and
# OCL_ICD_VENDORS=/dev/null hides the OpenCL platforms (the plugin reports UNAVAILABLE): valgrind
# cannot run AVX-512 code, so PoCL would recompile every kernel with its LLVM under valgrind
# (minutes each), and ld.so trips a known valgrind false positive loading LLVM's $$ORIGIN rpath.
test-valgrind: build
	cd $(BUILD) && XHAL_TEST_CPU_ONLY=1 OCL_ICD_VENDORS=/dev/null ctest --output-on-failure --timeout 1800 -j $(JOBS) -T memcheck -LE slow \
	  --overwrite MemoryCheckCommandOptions="--leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=42 --trace-children=yes"

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_GPU_CHECK)
