# The two commands of README.md, and the steps they are made of.
#   make conform   install missing packages, build, check every device found, print the table
#   make test      install missing packages, build, run every test (plain, ASan+UBSan, valgrind)
# Variables: BUILD (build folder), JOBS (parallel jobs).

BUILD ?= build
BUILD_ASAN ?= build-asan
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?= -DXHAL_WERROR=ON
CTEST = ctest --output-on-failure --timeout 900 -j $(JOBS)

.PHONY: all deps build build-asan conform test test-plain test-asan test-valgrind clean help

all: build

help:
	@sed -n '2,4p' Makefile

deps:
	bash scripts/install-deps.sh

build: deps
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS)
	cmake --build $(BUILD) -j $(JOBS)

build-asan: deps
	cmake -S . -B $(BUILD_ASAN) $(CMAKE_FLAGS) -DCMAKE_BUILD_TYPE=Debug \
	  -DXHAL_SANITIZE=address,undefined
	cmake --build $(BUILD_ASAN) -j $(JOBS)

conform: build
	$(BUILD)/bin/xhal devices
	$(BUILD)/bin/xhal check

test: test-plain test-asan test-valgrind
	@echo "make test: all test stages passed"

test-plain: build
	cd $(BUILD) && $(CTEST)

# Sanitizers catch what a normal build hides; leaks are left to valgrind (ASan's leak checker
# needs ptrace, which some containers refuse).
test-asan: build-asan
	cd $(BUILD_ASAN) && ASAN_OPTIONS=detect_leaks=0:abort_on_error=0 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 $(CTEST) -LE install

test-valgrind: build
	cd $(BUILD) && ctest --output-on-failure --timeout 1800 -j $(JOBS) -T memcheck -LE slow \
	  --overwrite MemoryCheckCommandOptions="--leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=42 --trace-children=yes"

clean:
	rm -rf $(BUILD) $(BUILD_ASAN)
