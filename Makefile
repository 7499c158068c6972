# crier: top-level driver around CMake.
#   make        build build/crier (and build/mailman, a link to it)
#   make run    install missing packages, build, start crier on the embedded defaults
#   make test   install missing packages, build with ASan+UBSan, run every test
BUILD      ?= build
TEST_BUILD ?= build-test
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
PYTHON     ?= /usr/bin/python3
# Like Mailman, crier refuses to run as root without --run-as-root.
ROOT_FLAG  := $(shell [ "$$(id -u)" = 0 ] && echo --run-as-root)

.PHONY: all build deps test-deps run test unit integration format clean

all: build

deps:
	@scripts/install-deps.sh build

test-deps:
	@scripts/install-deps.sh test

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCRIER_TESTS=OFF >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

# The daemon in the foreground on the embedded defaults (or the first
# mailman.cfg found, as Mailman searches); Ctrl-C stops it.
run: build
	@scripts/install-deps.sh run
	$(BUILD)/crier $(ROOT_FLAG) start -F

$(TEST_BUILD)/crier: test-deps FORCE
	@cmake -S . -B $(TEST_BUILD) -DCMAKE_BUILD_TYPE=Debug -DCRIER_SANITIZE=ON >/dev/null
	@cmake --build $(TEST_BUILD) -j $(JOBS)
FORCE:

unit: $(TEST_BUILD)/crier
	cd $(TEST_BUILD) && ctest --output-on-failure -j $(JOBS)

integration: $(TEST_BUILD)/crier
	CRIER_BIN=$(abspath $(TEST_BUILD))/crier $(PYTHON) -m pytest -q tests/integration

test: unit integration

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(TEST_BUILD)
