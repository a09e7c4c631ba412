# The two commands of README.md, and the steps they are made of.
#   make conform   install missing packages, build, run the quick conformance suite on every
#                  device found, print the tables (reports in $(BUILD)/conform)
#   make test      install missing packages, build, run every test (plain, ASan+UBSan, valgrind,
#                  libFuzzer for FUZZ_SECONDS per target, ThreadSanitizer stress)
#   make fuzz      the libFuzzer targets for FUZZ_LONG_SECONDS each (docs/RELIABILITY.md)
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
# The sanitizer campaigns of docs/RELIABILITY.md: clang builds of only what each needs.
BUILD_FUZZ ?= build-fuzz
BUILD_TSAN ?= build-tsan
CLANG ?= $(shell command -v clang-14 || command -v clang-15 || command -v clang || echo clang-14)
FUZZ_SECONDS ?= 20
FUZZ_LONG_SECONDS ?= 600
STRESS_SECONDS ?= 30
CLANG_FLAGS = -DCMAKE_C_COMPILER=$(CLANG) -DXHAL_WITH_OPENCL=OFF -DXHAL_WITH_CUDA=OFF -DXHAL_WITH_HIP=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo

.PHONY: all deps build build-asan conform test test-plain test-asan test-valgrind clean help \
  build-fuzz build-tsan test-fuzz test-tsan fuzz fuzz-merge

all: build

help:
	@sed -n '2,8p' Makefile

# Debian's packages, then the venv and the model (scripts/setup-python.sh). Without network the
# Python step says so and goes on (--soft): the tests that need it skip, saying why.
deps:
	bash scripts/install-deps.sh
	bash scripts/setup-python.sh --model --opencl --soft
	bash scripts/opencl-vendors.sh >/dev/null

# The same Python set-up, failing loudly when it cannot be done.
.PHONY: python model
python:
	bash scripts/setup-python.sh
model:
	bash scripts/setup-python.sh --model

# The OpenCL vendors the tests and `make conform` see: the system's (PoCL) and Intel's CPU runtime
# from the venv (scripts/opencl-vendors.sh; Debian's ocl-icd reads OCL_ICD_VENDORS).
OPENCL_VENDORS = OCL_ICD_VENDORS="$$(bash $(CURDIR)/scripts/opencl-vendors.sh --quiet)"

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
	export $(OPENCL_VENDORS); $(BUILD)/bin/xhal devices
	rm -rf $(BUILD)/conform
	export $(OPENCL_VENDORS); \
	  $(BUILD)/bin/xhal conform --quick --out $(BUILD)/conform; status=$$?; \
	  set -- $(BUILD)/conform/*/report.json; \
	  if [ $$# -gt 1 ] && [ -e "$$1" ]; then \
	    $(BUILD)/bin/xhal compare "$$@" --out $(BUILD)/conform || status=1; fi; \
	  exit $$status

test: test-plain test-gpu-check test-asan test-valgrind test-fuzz test-tsan
	@echo "make test: all test stages passed"

test-plain: build
	export $(OPENCL_VENDORS); cd $(BUILD) && $(CTEST)

# The GPU check (scripts/gpu-check.sh) as the lent GPU machines' image builds it, without cmocka
# and pkg-config (both hidden), reusing $(BUILD)'s fatbins; its no-GPU path must say "no GPU".
.PHONY: test-gpu-check
test-gpu-check: build
	JOBS=$(JOBS) bash tests/cuda/ci_gpu_check.sh $(BUILD) $(BUILD_GPU_CHECK)

# Sanitizers catch what a normal build hides; leaks are left to valgrind (ASan's leak checker
# needs ptrace, which some containers refuse). The tests of Intel's OpenCL runtime (label intel)
# run in test-plain only: the runtime is not built for ASan, and its gemm program costs a minute
# of CPU to build from SPIR-V in each build tree's cache.
test-asan: build-asan
	cd $(BUILD_ASAN) && ASAN_OPTIONS=detect_leaks=0:abort_on_error=0 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 $(CTEST) -LE 'install|intel'

# XHAL_TEST_CPU_ONLY=1: test_gemm/test_attention run their cases on the CPU backend only, and
# OCL_ICD_VENDORS=/dev/null hides the OpenCL platforms (the plugin reports UNAVAILABLE): valgrind
# cannot run AVX-512 code, so PoCL would recompile every kernel with its LLVM under valgrind
# (minutes each), and ld.so trips a known valgrind false positive loading LLVM's $$ORIGIN rpath.
test-valgrind: build
	cd $(BUILD) && XHAL_TEST_CPU_ONLY=1 OCL_ICD_VENDORS=/dev/null ctest --output-on-failure --timeout 1800 -j $(JOBS) -T memcheck -LE slow \
	  --overwrite MemoryCheckCommandOptions="--leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=42 --trace-children=yes --suppressions=$(CURDIR)/tests/valgrind.supp"

# ---- Reliability campaigns (docs/RELIABILITY.md) ----

# libFuzzer targets (tests/fuzz/) with ASan+UBSan: libxhal instrumented, nothing else built.
build-fuzz: deps
	cmake -S . -B $(BUILD_FUZZ) $(CMAKE_FLAGS) $(CLANG_FLAGS) -DXHAL_FUZZ=ON \
	  -DXHAL_SANITIZE=address,undefined,fuzzer-no-link
	cmake --build $(BUILD_FUZZ) -j $(JOBS) --target xhal_fuzz_all

# Each target for FUZZ_SECONDS on its committed seeds plus what earlier runs found.
test-fuzz: build-fuzz
	rm -f $(BUILD_FUZZ)/fuzz/*.summary
	cd $(BUILD_FUZZ) && XHAL_FUZZ_SECONDS=$(FUZZ_SECONDS) $(CTEST) -L fuzz
	@cat $(BUILD_FUZZ)/fuzz/*.summary

fuzz: build-fuzz
	rm -f $(BUILD_FUZZ)/fuzz/*.summary
	cd $(BUILD_FUZZ) && XHAL_FUZZ_SECONDS=$(FUZZ_LONG_SECONDS) $(CTEST) -L fuzz \
	  --timeout $$(( $(FUZZ_LONG_SECONDS) * 2 + 600 ))
	@cat $(BUILD_FUZZ)/fuzz/*.summary

# Adds the inputs of the last runs that reach new code, minimized, to tests/fuzz/corpus/.
fuzz-merge: build-fuzz
	for t in $(BUILD_FUZZ)/fuzz/fuzz_*; do n=$${t##*/fuzz_}; \
	  [ -d $(BUILD_FUZZ)/fuzz/corpus/$$n ] || continue; \
	  ASAN_OPTIONS=allocator_may_return_null=1 $$t -merge=1 tests/fuzz/corpus/$$n \
	    $(BUILD_FUZZ)/fuzz/corpus/$$n || exit 1; done

# ThreadSanitizer: the stress test for STRESS_SECONDS, the registry race and fault tests.
build-tsan: deps
	cmake -S . -B $(BUILD_TSAN) $(CMAKE_FLAGS) $(CLANG_FLAGS) -DXHAL_SANITIZE=thread
	cmake --build $(BUILD_TSAN) -j $(JOBS) --target test_stress test_reliability test_faults

test-tsan: build-tsan
	cd $(BUILD_TSAN)/tests && export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 && \
	  XHAL_STRESS_SECONDS=$(STRESS_SECONDS) ./test_stress && ./test_reliability && \
	  ./test_reliability heavy && ./test_faults

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_GPU_CHECK) $(BUILD_FUZZ) $(BUILD_TSAN)
