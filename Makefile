# rcp-entropy tools.  See README.md ("Where things are" for the layout).
.DELETE_ON_ERROR:
.SUFFIXES:
.SECONDARY:

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man/man1
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR ?= $(PREFIX)/share/zsh/site-functions

CC ?= cc
CFLAGS ?= -O2 -g
WARNFLAGS = -Wall -Wextra -Werror
ALL_CPPFLAGS = -Iinclude -D_FILE_OFFSET_BITS=64 $(CPPFLAGS)
ALL_CFLAGS = -std=gnu11 $(WARNFLAGS) $(CFLAGS)
ALL_LDFLAGS = $(LDFLAGS)

# make check SANITIZE=1: AddressSanitizer + UndefinedBehaviorSanitizer.
ifeq ($(SANITIZE),1)
SANFLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined
ALL_CFLAGS += $(SANFLAGS)
ALL_LDFLAGS += $(SANFLAGS)
# A report must not pass for the failure a test expects (status 1).
export ASAN_OPTIONS ?= exitcode=86
export UBSAN_OPTIONS ?= exitcode=86
endif

# One pkg-config call per dependency, each only where it is used, each
# with a fallback for a machine without pkg-config (Debian's headers need
# no -I).  These are read when make starts: targets that install packages
# first (check, demo, ...) build in a second make, which sees them.
CRYPTO_CFLAGS := $(shell pkg-config --cflags libcrypto 2>/dev/null)
CRYPTO_LIBS := $(shell pkg-config --libs libcrypto 2>/dev/null || echo -lcrypto)
QUIC_CFLAGS := $(shell pkg-config --cflags libngtcp2 libngtcp2_crypto_gnutls gnutls 2>/dev/null)
QUIC_LIBS := $(shell pkg-config --libs libngtcp2 libngtcp2_crypto_gnutls gnutls 2>/dev/null || \
	echo -lngtcp2_crypto_gnutls -lngtcp2 -lgnutls)
SSH_CFLAGS := $(shell pkg-config --cflags libssh 2>/dev/null)
SSH_LIBS := $(shell pkg-config --libs libssh 2>/dev/null || echo -lssh)

# lib/ is one folder per module, each built into a static archive of its
# own, with only its own dependency's flags.  Internal headers sit beside
# the sources (lib/ is on the include path of library code only);
# include/ holds what programs use.
MODULES := core frame cbc quic ssh launch
CFLAGS_cbc = $(CRYPTO_CFLAGS)
CFLAGS_quic = $(QUIC_CFLAGS)
CFLAGS_ssh = $(SSH_CFLAGS) $(CRYPTO_CFLAGS)
LIBS_core = -lpthread
LIBS_cbc = $(CRYPTO_LIBS) -lpthread
LIBS_quic = $(QUIC_LIBS) -lpthread
LIBS_ssh = $(SSH_LIBS) $(CRYPTO_LIBS)
LIBS_launch = -lpthread
mod_srcs = $(wildcard lib/$(1)/*.c)
mod_objs = $(patsubst %.c,build/%.o,$(call mod_srcs,$(1)))
mod_lib = build/lib/librcp_$(1).a

# What each program links, each module before the ones it uses (as
# s6-networking's deps-exe lists).
LINK_entropy-frame := frame core
LINK_entropy-unframe := frame core
LINK_aescbc-enc := cbc frame core
LINK_aescbc-dec := cbc frame core
LINK_aescbc-keygen := cbc core
LINK_rcp-quic-send := quic core
LINK_rcp-quic-recv := quic core
LINK_rcp-launch := launch ssh quic core

PROGS := $(sort $(basename $(notdir $(wildcard cmd/*.c))))
BINS := $(addprefix bin/,$(PROGS))
MANS := $(wildcard man/*.1)

all: $(BINS)

# Rebuild everything when the compiler flags change (SANITIZE=1 and back).
FLAGS_STAMP = build/flags.stamp
FLAGS_NOW = $(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(ALL_LDFLAGS) \
	$(foreach m,$(MODULES),$(CFLAGS_$(m)) $(LIBS_$(m)))
$(shell mkdir -p build; \
	[ "$$(cat $(FLAGS_STAMP) 2>/dev/null)" = '$(FLAGS_NOW)' ] || \
	echo '$(FLAGS_NOW)' > $(FLAGS_STAMP))

# -MMD -MP: each object's header dependencies, in build/**/*.d.
DEPFLAGS = -MMD -MP
-include $(wildcard build/cmd/*.d $(foreach m,$(MODULES),build/lib/$(m)/*.d))

define module_rules
build/lib/$(1)/%.o: lib/$(1)/%.c $$(FLAGS_STAMP)
	@mkdir -p $$(@D)
	$$(CC) $$(ALL_CPPFLAGS) -Ilib $$(CFLAGS_$(1)) $$(ALL_CFLAGS) $$(DEPFLAGS) -c -o $$@ $$<

$(call mod_lib,$(1)): $(call mod_objs,$(1))
	@rm -f $$@
	$$(AR) rcs $$@ $$^
endef
$(foreach m,$(MODULES),$(eval $(call module_rules,$(m))))

# A program's object sees the flags of the modules it links.
build/cmd/%.o: cmd/%.c $(FLAGS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) $(foreach m,$(LINK_$*),$(CFLAGS_$(m))) \
		$(ALL_CFLAGS) $(DEPFLAGS) -c -o $@ $<

.SECONDEXPANSION:
bin/%: build/cmd/%.o $$(foreach m,$$(LINK_$$*),$$(call mod_lib,$$(m)))
	@mkdir -p bin
	$(CC) $(ALL_LDFLAGS) -o $@ $< \
		$(foreach m,$(LINK_$*),$(call mod_lib,$(m))) \
		$(foreach m,$(LINK_$*),$(LIBS_$(m))) $(LDLIBS)

# Unit tests of library functions (t/unit/NAME.c), run by t/unit.bats,
# each linked with the modules listed for it; they may use lib/'s
# internal headers.
UNIT_TESTS := $(addprefix build/t/,$(basename $(notdir $(wildcard t/unit/*.c))))
LINK_unit_launch_verdict := launch ssh
LINK_unit_ssh_config := ssh core
LINK_unit_sockbuf_advice := quic core
LINK_unit_stripe_recv := quic core
LINK_unit_resume_digest := quic core
LINK_unit_atomic_partial := core
build/t/%: t/unit/%.c $$(foreach m,$$(LINK_unit_$$*),$$(call mod_lib,$$(m)))
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) -Ilib $(foreach m,$(LINK_unit_$*),$(CFLAGS_$(m))) \
		$(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< \
		$(foreach m,$(LINK_unit_$*),$(call mod_lib,$(m))) \
		$(foreach m,$(LINK_unit_$*),$(LIBS_$(m)))

deps:
	@sh scripts/deps.sh

# make fuzz: each libFuzzer target in fuzz/ for FUZZ_SECONDS, starting from
# its seed corpus in fuzz/corpus/NAME (kept small, in git); new inputs go to
# build/fuzz/corpus-NAME, crashes to build/fuzz/.  A target links the
# modules listed for the one its name starts with (frame_, cbc_, quic_,
# ssh_, core_).
FUZZ_SECONDS ?= 30
FUZZ_CC ?= clang
FUZZ_FLAGS = -g -O1 -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined -Iinclude -Ilib -D_FILE_OFFSET_BITS=64
FUZZ_TARGETS := $(sort $(basename $(notdir $(wildcard fuzz/*.c))))
FUZZ_LINK_frame := frame core
FUZZ_LINK_cbc := cbc frame core
FUZZ_LINK_quic := quic core
FUZZ_LINK_ssh := launch ssh quic core
FUZZ_LINK_core := core
fuzz_mods = $(FUZZ_LINK_$(firstword $(subst _, ,$(1))))
build/fuzz/%: fuzz/%.c $$(foreach m,$$(call fuzz_mods,$$*),$$(call mod_srcs,$$(m)))
	@mkdir -p build/fuzz
	$(FUZZ_CC) $(FUZZ_FLAGS) $(foreach m,$(call fuzz_mods,$*),$(CFLAGS_$(m))) \
		-o $@ $< $(foreach m,$(call fuzz_mods,$*),$(call mod_srcs,$(m))) \
		$(foreach m,$(call fuzz_mods,$*),$(LIBS_$(m)))

fuzz: $(addprefix build/fuzz/,$(FUZZ_TARGETS))
	@set -e; for t in $(FUZZ_TARGETS); do \
		mkdir -p build/fuzz/corpus-$$t; \
		echo "fuzz: $$t for $(FUZZ_SECONDS) s"; \
		build/fuzz/$$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
			-artifact_prefix=build/fuzz/$$t- -print_final_stats=1 \
			build/fuzz/corpus-$$t fuzz/corpus/$$t 2>build/fuzz/$$t.log || \
			{ tail -40 build/fuzz/$$t.log; exit 1; }; \
		grep -E 'stat::number_of_executed_units|stat::peak_rss' build/fuzz/$$t.log; \
	done

# The LD_PRELOAD shim of t/faults.bats.  Never sanitized: ASan must be the
# first library loaded, so the fault tests skip under SANITIZE=1.
FAULT_SHIM = build/libfault_inject.so
$(FAULT_SHIM): t/fault/fault_inject.c
	@mkdir -p build
	$(CC) -std=gnu11 $(WARNFLAGS) $(CFLAGS) -fPIC -shared -o $@ $< -ldl

# The link emulator of the network benchmarks and their tests (a tool,
# not one of the programs: never sanitized, it must keep up with the link).
LINKEM = build/bench/linkem
$(LINKEM): bench/linkem.c
	@mkdir -p $(@D)
	$(CC) -std=gnu11 $(WARNFLAGS) $(CFLAGS) -o $@ $<

# BATS_ARGS lets one run a subset: make check BATS_ARGS=t/frame.bats
BATS_ARGS ?= t/
# Tests run side by side (GNU parallel), four per core: most of them wait
# on peers and timers, not on the CPU.  BATS_JOBS=1 runs them one by one.
BATS_JOBS ?= $(shell echo $$((4 * $$(nproc 2>/dev/null || echo 1))))
BATS = LANG=C VALGRIND=$(VALGRIND) bats --jobs $(BATS_JOBS)
# check, check-slow and demo install what is missing first (a quick no-op
# when all is present), then build in a second make that sees the
# pkg-config flags of what was just installed: each works alone, first,
# on a fresh machine.  VALGRIND=1 runs every program the tests start
# under valgrind.
check: deps
	@$(MAKE) --no-print-directory all $(FAULT_SHIM) $(UNIT_TESTS) $(LINKEM)
	$(BATS) $(BATS_ARGS)

# The stress cases (tests named "slow: ..."), which make check skips.
check-slow: deps
	@$(MAKE) --no-print-directory all $(FAULT_SHIM) $(UNIT_TESTS) $(LINKEM)
	RCP_CHECK_SLOW=1 $(BATS) --filter '^slow: ' $(BATS_ARGS)

demo: deps
	@$(MAKE) --no-print-directory all
	@bash demo/demo.sh

# A fresh minimal Debian (FRESH_SUITE=bookworm or trixie) in a chroot
# runs the README's two commands, as a newcomer would.  Needs root.
FRESH_SUITE ?= bookworm
fresh-machine:
	@bash scripts/fresh-machine.sh $(FRESH_SUITE)

lint-man:
	mandoc -T lint -W warning $(MANS)

bench: all $(LINKEM)
	@bash bench/run.sh

# The network rows alone (root: namespaces, TUN devices); BENCH_NET=lan
# or wan narrows them further.
bench-net: all $(LINKEM)
	@bash bench/net.sh

# Issue 15's figure alone: a resumed transfer against a whole one (root).
bench-resume: all $(LINKEM)
	@bash bench/resume.sh

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR) \
		$(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR)
	install -m 0755 $(BINS) $(DESTDIR)$(BINDIR)
	install -m 0644 $(MANS) $(DESTDIR)$(MANDIR)
	install -m 0644 $(wildcard completions/bash/*) $(DESTDIR)$(BASHCOMPDIR)
	install -m 0644 $(wildcard completions/zsh/_*) $(DESTDIR)$(ZSHCOMPDIR)

clean:
	rm -rf bin build

.PHONY: all deps fuzz check check-slow demo fresh-machine lint-man bench bench-net \
	bench-resume \
	install clean
