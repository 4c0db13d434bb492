# The targets README.md names. The real build is CMake's; this file only
# picks the build directory and the options.
BUILD      ?= build
TEST_BUILD ?= build-test
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 30
JOBS ?= $(shell nproc)

.PHONY: all deps run test unit e2e bench fuzz clean

all:
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

deps:
	@scripts/deps.sh

run: deps all
	@scripts/run-example.sh $(BUILD)

test:
	@scripts/deps.sh test
	@cmake -S . -B $(TEST_BUILD) -DRL_SANITIZE=ON -DRL_TESTS=ON >/dev/null
	@cmake --build $(TEST_BUILD) -j $(JOBS)
	@cd $(TEST_BUILD) && ctest --output-on-failure -j $(JOBS)
	@RELAIS_BUILD=$(abspath $(TEST_BUILD)) /usr/bin/python3 -m pytest -q tests/e2e tests/interop tests/fpm tests/apps

bench: deps all
	@scripts/deps.sh bench
	@bench/run.sh $(BUILD)

fuzz: deps
	@scripts/deps.sh fuzz
	@CC=clang cmake -S . -B $(FUZZ_BUILD) -DRL_FUZZ=ON >/dev/null
	@cmake --build $(FUZZ_BUILD) -j $(JOBS)
	@scripts/fuzz.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

clean:
	rm -rf $(BUILD) $(TEST_BUILD) $(FUZZ_BUILD)
