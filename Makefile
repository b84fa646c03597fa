# brook: the README's commands. The build itself is CMake + Ninja.
#
#   make demo            run the demo on the embedded cluster
#   make demo BROKERS=h:p   ... on a real Kafka cluster
#   make test            every test (unit, embedded cluster, real broker)
#   make test SANITIZE=1 the same under ASan + UBSan
#   make test TSAN=1     the threaded tests under ThreadSanitizer
#   make bench           benchmarks (bench/README.md)

BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CTEST_ARGS ?=

ifeq ($(SANITIZE),1)
BUILD_DIR ?= build-asan
CMAKE_FLAGS += -DBROOK_SANITIZE=ON
export ASAN_OPTIONS ?= detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS ?= print_stacktrace=1:halt_on_error=1
export BROOK_TEST_TIMEOUT_MULT ?= 3
else ifeq ($(TSAN),1)
BUILD_DIR ?= build-tsan
CMAKE_FLAGS += -DBROOK_TSAN=ON
export TSAN_OPTIONS ?= halt_on_error=1 second_deadlock_stack=1 suppressions=$(CURDIR)/tests/tsan.supp
export BROOK_TEST_TIMEOUT_MULT ?= 4
else
BUILD_DIR ?= build
endif

.PHONY: all build deps demo test test-fast test-broker bench format \
        format-check check-layers docs docs-check install clean

all: build

deps:
	@scripts/deps

$(BUILD_DIR)/build.ninja:
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_FLAGS)

build: deps $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS)

demo: build
	$(BUILD_DIR)/brook-demo $(if $(BROKERS),--brokers $(BROKERS)) $(DEMO_ARGS)

# Unit and embedded-cluster tests, then the real-broker tests.
test: build
	@scripts/run-tests $(BUILD_DIR) $(CTEST_ARGS)

test-fast: build
	cd $(BUILD_DIR) && ctest --output-on-failure -L 'unit|mock' -j $(JOBS) $(CTEST_ARGS)

test-broker: build
	@BROOK_ONLY_BROKER=1 scripts/run-tests $(BUILD_DIR) $(CTEST_ARGS)

bench: build
	@scripts/bench $(BUILD_DIR)

# examples/readme_consumer.c is the README's example, kept in its compact style.
FORMAT_FILES = $(filter-out examples/readme_consumer.c,$(shell git ls-files '*.c' '*.h' 2>/dev/null))

format:
	clang-format -i $(FORMAT_FILES)

format-check:
	@out=$$(clang-format --dry-run $(FORMAT_FILES) 2>&1); \
	if [ -n "$$out" ]; then echo "$$out" | head -40; \
	echo "format-check: run 'make format'"; exit 1; fi; \
	echo "format-check: ok"

check-layers:
	@scripts/check-layers

docs: build
	$(BUILD_DIR)/brook-conf-doc > docs/CONFIGURATION.md

docs-check: build
	@$(BUILD_DIR)/brook-conf-doc | diff -u docs/CONFIGURATION.md - \
	  || { echo "docs/CONFIGURATION.md is stale: run 'make docs'"; exit 1; }
	@echo "docs-check: ok"

install: build
	cmake --install $(BUILD_DIR) $(if $(PREFIX),--prefix $(PREFIX))

clean:
	rm -rf build build-asan build-tsan
