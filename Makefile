# vidur.h - build, test and install.
#
#   make              build/vidur (the CLI) and every examples/*.c into build/examples/
#   make deps         check (and, as root, install) libinih-dev and libstb-dev
#   make run          simulate data/default.ini
#   make test         unit tests (plain and ASan/UBSan), compile checks, CLI tests;
#                     the last line printed is "N passed, N failed"
#   make bench        build and run bench/bench.c
#   make docs         regenerate docs/config_reference.md from `vidur --help`
#   make install      PREFIX=/usr/local, DESTDIR respected
#   make clean

PREFIX  ?= /usr/local
DESTDIR ?=
BUILD   := build

PKG_CONFIG ?= pkg-config
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags inih stb 2>/dev/null)
ifeq ($(strip $(PKG_CFLAGS)),)
PKG_CFLAGS := -I/usr/include/stb
endif

WARNINGS    := -Wall -Wextra -Wpedantic -Werror
CFLAGS      ?= -std=c99 -O2 -g $(WARNINGS)
ASAN_CFLAGS ?= -std=c99 -O1 -g $(WARNINGS) -fsanitize=address,undefined -fno-omit-frame-pointer
BENCH_CFLAGS ?= -std=c99 -O2 -g $(WARNINGS)
LDLIBS      ?= -linih -lstb -lm
ALL_CPPFLAGS = -I. $(PKG_CFLAGS) $(CPPFLAGS)

VERSION = $(shell sed -n 's/^\#define VIDUR_VERSION_STRING "\(.*\)"/\1/p' vidur.h 2>/dev/null)

EXAMPLE_SRCS := $(wildcard examples/*.c)
EXAMPLES     := $(patsubst examples/%.c,$(BUILD)/examples/%,$(EXAMPLE_SRCS))
TEST_SRCS    := $(wildcard tests/test_*.c)
TESTS        := $(patsubst tests/%.c,$(BUILD)/tests/%,$(TEST_SRCS))
ASAN_TESTS   := $(patsubst tests/%.c,$(BUILD)/asan/%,$(TEST_SRCS))

.PHONY: all deps run test test-build bench docs install uninstall clean
.DELETE_ON_ERROR:

TOOLS := $(BUILD)/vidur-mooncake $(BUILD)/vidur-convgen
ASAN_TOOLS := $(BUILD)/asan/vidur-mooncake $(BUILD)/asan/vidur-convgen

all: $(BUILD)/vidur $(EXAMPLES) $(TOOLS)

deps:
	@bash scripts/deps.sh $(DEPS_FLAGS)

$(BUILD)/vidur: tools/vidur.c vidur.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(ALL_CPPFLAGS) -o $@ $< $(LDFLAGS) $(LDLIBS)

$(BUILD)/examples/%: examples/%.c vidur.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(ALL_CPPFLAGS) -o $@ $< $(LDFLAGS) $(LDLIBS)

$(BUILD)/tests/%: tests/%.c tests/test.h vidur.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(ALL_CPPFLAGS) -o $@ $< $(LDFLAGS) $(LDLIBS)

$(BUILD)/asan/%: tests/%.c tests/test.h vidur.h
	@mkdir -p $(@D)
	$(CC) $(ASAN_CFLAGS) $(ALL_CPPFLAGS) -o $@ $< $(LDFLAGS) $(LDLIBS)

# the CLI under the sanitizers, for the second pass of the CLI tests
$(BUILD)/asan/vidur: tools/vidur.c vidur.h
	@mkdir -p $(@D)
	$(CC) $(ASAN_CFLAGS) $(ALL_CPPFLAGS) -o $@ $< $(LDFLAGS) $(LDLIBS)

# trace tools (plain C99 + libc): Mooncake JSONL -> trace CSV, synthetic conversation traces
$(TOOLS): $(BUILD)/%: tools/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(LDFLAGS) -lm

$(ASAN_TOOLS): $(BUILD)/asan/%: tools/%.c
	@mkdir -p $(@D)
	$(CC) $(ASAN_CFLAGS) -o $@ $< $(LDFLAGS) -lm

run: deps $(BUILD)/vidur
	$(BUILD)/vidur data/default.ini

# Everything the test runner needs. `make test` builds it with -k so that one target that
# does not compile is reported as a failure by tests/run.sh instead of stopping the run.
test-build: $(TESTS) $(ASAN_TESTS) $(BUILD)/vidur $(BUILD)/asan/vidur $(EXAMPLES) $(TOOLS) $(ASAN_TOOLS)

test: DEPS_FLAGS = --test
test: deps
	@$(MAKE) --no-print-directory -k -j$$(nproc 2>/dev/null || echo 2) test-build || true
	@BUILD=$(BUILD) CC="$(CC)" bash tests/run.sh

docs: $(BUILD)/vidur
	bash scripts/gen_config_reference.sh $(BUILD)/vidur > docs/config_reference.md

bench: $(BUILD)/bench
	$(BUILD)/bench

$(BUILD)/bench: bench/bench.c vidur.h
	@mkdir -p $(@D)
	$(CC) $(BENCH_CFLAGS) $(ALL_CPPFLAGS) -o $@ $< $(LDFLAGS) $(LDLIBS)

# vidur.pc is generated at install time so that it always carries this PREFIX
install: $(BUILD)/vidur vidur.pc.in
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' vidur.pc.in > $(BUILD)/vidur.pc
	install -d $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 644 vidur.h $(DESTDIR)$(PREFIX)/include/vidur.h
	install -m 755 $(BUILD)/vidur $(DESTDIR)$(PREFIX)/bin/vidur
	install -m 644 $(BUILD)/vidur.pc $(DESTDIR)$(PREFIX)/lib/pkgconfig/vidur.pc

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/include/vidur.h $(DESTDIR)$(PREFIX)/bin/vidur \
	      $(DESTDIR)$(PREFIX)/lib/pkgconfig/vidur.pc

clean:
	rm -rf $(BUILD)
