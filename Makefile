# crier: top-level driver around CMake.
#   make        build build/crier (and build/mailman, a link to it)
#   make run    install missing packages, build, start crier on the embedded defaults
#   make test   install missing packages, build with ASan+UBSan, run every test
#   make lint   cppcheck over src/ (make test runs it first)
#   make fuzz   the libFuzzer harnesses, FUZZ_SECONDS each (FUZZERS: some)
#   make fuzz-corpus  each harness over its seed corpus, then FUZZ_CI_SECONDS
#               of fuzzing (make test runs it last)
BUILD      ?= build
TEST_BUILD ?= build-test
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
PYTHON     ?= /usr/bin/python3
# Like Mailman, crier refuses to run as root without --run-as-root.
ROOT_FLAG  := $(shell [ "$$(id -u)" = 0 ] && echo --run-as-root)

FUZZ_BUILD   ?= build-fuzz
FUZZ_SECONDS ?= 60
# Which harnesses `make fuzz` runs (names as in tests/fuzz, without .c);
# empty: all of them.
FUZZERS      ?=

.PHONY: all build deps test-deps run test unit integration lint fuzz fuzz-corpus format clean

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

test: lint unit integration fuzz-corpus

# Static analysis: Debian's cppcheck over src/, warnings, performance and
# portability checks; any finding fails. GLib's macros come from cppcheck's
# gtk library; _Noreturn is spelled so that cppcheck 2.10 knows
# cli_usage_error() and log_panic() do not return. Suppressed:
#   readdirCalled  readdir() is safe on a directory stream only one thread
#                  reads (POSIX, glibc), and readdir_r is deprecated.
# A finding suppressed in the code says why next to its
# "cppcheck-suppress" comment.
CPPCHECK ?= cppcheck
lint: test-deps
	@$(CPPCHECK) -q -j $(JOBS) --error-exitcode=1 --inline-suppr \
		--enable=warning,performance,portability --suppress=readdirCalled \
		--library=gtk --library=posix --std=c11 -I src -D_GNU_SOURCE \
		'-D_Noreturn=__attribute__((noreturn))' '-DG_GNUC_PRINTF(a,b)=' src

# Each libFuzzer harness for FUZZ_SECONDS, from the seeds in tests/fuzz/corpus
# (read-only); new inputs go to $(FUZZ_BUILD)/work, crashes to
# $(FUZZ_BUILD)/crash-*. Add a crash input to the seeds once it is fixed.
# FUZZERS="fuzz_pmsg fuzz_rest" runs only those.
fuzz: test-deps
	@CC=clang cmake -S . -B $(FUZZ_BUILD) -DCRIER_FUZZ=ON -DCRIER_TESTS=OFF \
		-DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(FUZZ_BUILD) -j $(JOBS)
	@set -e; for f in $(if $(FUZZERS),$(addprefix $(FUZZ_BUILD)/,$(FUZZERS)),$(FUZZ_BUILD)/fuzz_*); do \
		n=$$(basename $$f); mkdir -p $(FUZZ_BUILD)/work/$$n; \
		echo "== $$n ($(FUZZ_SECONDS) s)"; \
		$$f -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
			-artifact_prefix=$(FUZZ_BUILD)/crash-$$n- -print_final_stats=1 \
			$(FUZZ_BUILD)/work/$$n tests/fuzz/corpus/$$n 2>&1 | \
			grep -E "^(#[0-9]+ +DONE|stat::number_of_executed_units|==[0-9]+==ERROR|SUMMARY)" ; \
	done

# What CI runs of the fuzzers (make test): each harness replays its seed
# corpus (every crash input ever found is kept there) and then fuzzes for
# FUZZ_CI_SECONDS; any crash fails the target.
FUZZ_CI_SECONDS ?= 5
fuzz-corpus: test-deps
	@CC=clang cmake -S . -B $(FUZZ_BUILD) -DCRIER_FUZZ=ON -DCRIER_TESTS=OFF \
		-DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(FUZZ_BUILD) -j $(JOBS) >/dev/null
	@set -e; for f in $(FUZZ_BUILD)/fuzz_*; do \
		n=$$(basename $$f); mkdir -p $(FUZZ_BUILD)/ci/$$n; \
		printf '%s: ' "$$n"; \
		$$f -max_total_time=$(FUZZ_CI_SECONDS) -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
			-artifact_prefix=$(FUZZ_BUILD)/crash-$$n- -print_final_stats=1 \
			$(FUZZ_BUILD)/ci/$$n tests/fuzz/corpus/$$n >$(FUZZ_BUILD)/ci/$$n.log 2>&1 || \
			{ echo FAILED; tail -30 $(FUZZ_BUILD)/ci/$$n.log; exit 1; }; \
		grep -h "stat::number_of_executed_units" $(FUZZ_BUILD)/ci/$$n.log | \
			sed 's/stat::number_of_executed_units: *//; s/$$/ executions, no crash/'; \
	done

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(TEST_BUILD) $(FUZZ_BUILD)
