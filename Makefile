# webhook-runner — plain Makefile, pkg-config for libraries.
#   make            build remote-executor and webhook-runner (-Wall -Wextra -Werror)
#   make deps       install every build/test dependency (Debian 12, apt-get, idempotent)
#                   and fetch CivetWeb's Debian source into third_party/civetweb/
#   make test       build and run every test; last line "N passed, N failed"
#   make test SANITIZE=1   the same under ASan+UBSan (separate build dir)
#   make fuzz       libFuzzer pass over every harness (FUZZ_SECONDS each, default 30)
#   make run        start the demo service (see README)
#   make bench      side-by-side benchmarks vs adnanh/webhook, OpenSSH, nginx (bench/)
#   make soak       bounded soak: half capacity, mixed load, RSS growth, valgrind
#   make deb        the Debian package of the release build (packaging/deb/)

SANITIZE ?= 0
CC       ?= cc
# libcurl: the Slack Web API and the relay client; hiredis: the relay's
# Redis Streams; libpq: the shared PostgreSQL store. --as-needed keeps a
# program from depending on a library it never calls.
PKGS     := libssh2 openssl libjwt libcjson sqlite3 libcurl hiredis libpq
OPT      ?= -O2
CFLAGS   += $(OPT) -g -std=c11 -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wvla \
            -Wstrict-prototypes -Wmissing-prototypes -fno-strict-aliasing \
            -fstack-protector-strong
CPPFLAGS += -D_GNU_SOURCE $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS   += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread
LDFLAGS  += -Wl,--as-needed
# CivetWeb: Debian 12's 1.15 source with Debian's patches, fetched by
# `make deps` (third_party/civetweb.sh says why) and compiled in with
# OpenSSL 3 linked, not loaded at run time. No CGI: we never run scripts.
# Our own patches (third_party/patches/*.patch, applied in name order, each
# saying what and why) go onto a copy in <build dir>/third_party/civetweb-src/
# (CW_SRC below): the fetched tree stays exactly Debian's.
CW_DIR   := third_party/civetweb
CW_DEFS  := -DNO_SSL_DL -DOPENSSL_API_3_0 -DNO_CGI -DUSE_IPV6
CW_PATCHES := $(sort $(wildcard third_party/patches/*.patch))
SAN       := -fsanitize=address,undefined -fno-sanitize-recover=undefined
SAN_FLAGS := $(SAN) -fno-omit-frame-pointer

ifeq ($(SANITIZE),1)
BUILD    ?= build/asan
OPT      := -O1
CFLAGS   += $(SAN_FLAGS)
CW_CFLAGS = $(SAN_FLAGS)
LDFLAGS  += $(SAN)
else
BUILD    ?= build/release
CPPFLAGS += -D_FORTIFY_SOURCE=2
endif
CW_SRC   := $(BUILD)/third_party/civetweb-src
CPPFLAGS += -I$(CW_SRC)/include

# common/*.c: code both programs share (clocks, bounded file reads, base64,
# random ids, shell quoting, the executor status vocabulary), compiled once
# into $(BUILD)/common/ and linked into both programs, every unit test and
# every fuzz harness. Sources include its headers as "../common/x.h".
COM_SRC  := $(wildcard common/*.c)
COM_OBJ  := $(COM_SRC:%.c=$(BUILD)/%.o)
EX_SRC   := $(wildcard executor/*.c)
RN_SRC   := $(wildcard runner/*.c)
RL_SRC   := $(wildcard relay/*.c)
EX_OBJ   := $(EX_SRC:%.c=$(BUILD)/%.o) $(COM_OBJ)
RN_OBJ   := $(RN_SRC:%.c=$(BUILD)/%.o) $(COM_OBJ) $(BUILD)/third_party/civetweb.o
RL_OBJ   := $(RL_SRC:%.c=$(BUILD)/%.o) $(COM_OBJ) $(BUILD)/third_party/civetweb.o
# Each program's modules but its main.o, as an archive: a unit test or a
# fuzz replay links only the members it reaches (a store test links no
# CivetWeb, an executor test no libssh2 session it does not call).
EX_LIB   := $(BUILD)/libexecutor.a
RN_LIB   := $(BUILD)/librunner.a
RL_LIB   := $(BUILD)/librelay.a

# Unit tests: tests/unit/executor_*.c link the executor modules,
# tests/unit/runner_*.c the runner modules (both with common/); each is its
# own program.
UT_EX    := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/executor_*.c))
UT_RN    := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/runner_*.c))
UT_RL    := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/relay_*.c))
# tests/unit/common_*.c link common/ alone: it depends on neither program.
UT_CM    := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/common_*.c))
TOOLS    := $(patsubst tests/tools/%.c,$(BUILD)/tools/%,$(wildcard tests/tools/*.c))
# Fuzz harnesses, built as plain programs that replay their seed corpus.
FZ_EX    := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(wildcard tests/fuzz/fuzz_executor_*.c))
FZ_RN    := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(wildcard tests/fuzz/fuzz_runner_*.c))
FZ_RL    := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(wildcard tests/fuzz/fuzz_relay_*.c))

BINS     := $(BUILD)/remote-executor
ifneq ($(wildcard runner/main.c),)
BINS     += $(BUILD)/webhook-runner
endif
ifneq ($(wildcard relay/main.c),)
BINS     += $(BUILD)/webhook-relay
endif

.PHONY: all deps civetweb-source test test-build run clean fuzz bench soak
.SECONDARY:
all: $(BINS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

# The patched copy: Debian's civetweb.c and civetweb.h (same layout), our
# patches applied with no fuzz, made whole in a temporary directory and then
# renamed into place. Made again when the source is fetched again (the stamp
# holds its Debian version) or a patch changes, comes or goes (the folder's
# time). A patch that does not apply
# (a new Debian version) stops the build, naming the patch.
CW_STAMP := $(CW_DIR)/.debian-version
%/third_party/civetweb-src/.patched: $(CW_STAMP) $(CW_DIR)/src/civetweb.c \
    $(CW_DIR)/include/civetweb.h $(CW_PATCHES) $(wildcard third_party/patches) Makefile
	@d=$(@D); rm -rf $$d.tmp && mkdir -p $$d.tmp/src $$d.tmp/include && \
	cp $(CW_DIR)/src/civetweb.c $$d.tmp/src/ && cp $(CW_DIR)/include/civetweb.h $$d.tmp/include/ && \
	for p in $(CW_PATCHES); do \
		if ! patch -d $$d.tmp -p1 --batch --forward --fuzz=0 --no-backup-if-mismatch \
		    --reject-file=- -s -i "$(CURDIR)/$$p" >$$d.tmp/patch.log 2>&1; then \
			echo "civetweb: patch $$p does not apply to CivetWeb $$(cat $(CW_STAMP)) in $(CW_DIR):" >&2; \
			sed 's/^/  /' $$d.tmp/patch.log >&2; \
			echo "civetweb: update or drop $$p (its header says what it does and why)" >&2; \
			rm -rf $$d.tmp; exit 1; \
		fi; \
	done && rm -f $$d.tmp/patch.log && \
	{ cat $(CW_STAMP); for p in $(CW_PATCHES); do echo "$$p"; done; } >$$d.tmp/.patched && \
	rm -rf $$d && mv $$d.tmp $$d && \
	echo "civetweb: $$(cat $(CW_STAMP)) with $(words $(CW_PATCHES)) patches in $$d"

# Third-party code: its own warnings are not ours to fail on. The .inl files
# the patched civetweb.c includes are found in Debian's tree (-iquote).
$(BUILD)/third_party/civetweb.o: $(CW_SRC)/.patched Makefile
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -iquote $(CW_DIR)/src $(CW_DEFS) $(OPT) -g -fno-strict-aliasing \
	    -fstack-protector-strong $(CW_CFLAGS) -MMD -MP -c -o $@ $(CW_SRC)/src/civetweb.c

# Whatever includes civetweb.h waits for the patched copy (and the source,
# which says how to get it).
$(RN_SRC:%.c=$(BUILD)/%.o) $(patsubst $(BUILD)/tests/%,$(BUILD)/tests/unit/%.o,$(UT_RN)) \
    $(patsubst $(BUILD)/fuzz/%,$(BUILD)/tests/fuzz/%.o,$(FZ_RN)) \
    $(RL_SRC:%.c=$(BUILD)/%.o) $(patsubst $(BUILD)/tests/%,$(BUILD)/tests/unit/%.o,$(UT_RL)) \
    $(patsubst $(BUILD)/fuzz/%,$(BUILD)/tests/fuzz/%.o,$(FZ_RL)): | $(CW_SRC)/.patched
$(CW_STAMP) $(CW_DIR)/src/civetweb.c $(CW_DIR)/include/civetweb.h:
	@echo "$(CW_DIR) is missing: run 'make deps' (it calls third_party/civetweb.sh)" >&2; exit 1

$(EX_LIB): $(filter-out $(BUILD)/executor/main.o,$(EX_OBJ))
	rm -f $@ && $(AR) rcs $@ $^

$(RN_LIB): $(filter-out $(BUILD)/runner/main.o,$(RN_OBJ))
	rm -f $@ && $(AR) rcs $@ $^

$(RL_LIB): $(filter-out $(BUILD)/relay/main.o,$(RL_OBJ))
	rm -f $@ && $(AR) rcs $@ $^

$(BUILD)/remote-executor: $(EX_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/webhook-runner: $(RN_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/webhook-relay: $(RL_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/executor_%: $(BUILD)/tests/unit/executor_%.o $(EX_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/runner_%: $(BUILD)/tests/unit/runner_%.o $(RN_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/relay_%: $(BUILD)/tests/unit/relay_%.o $(RL_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/common_%: $(BUILD)/tests/unit/common_%.o $(COM_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Tools may use common/ (xclient speaks common/xproto); --as-needed and
# unused objects cost nothing.
$(BUILD)/tools/%: $(BUILD)/tests/tools/%.o $(COM_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/fuzz/fuzz_executor_%: $(BUILD)/tests/fuzz/fuzz_executor_%.o $(BUILD)/tests/fuzz/replay.o $(EX_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/fuzz/fuzz_runner_%: $(BUILD)/tests/fuzz/fuzz_runner_%.o $(BUILD)/tests/fuzz/replay.o $(RN_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/fuzz/fuzz_relay_%: $(BUILD)/tests/fuzz/fuzz_relay_%.o $(BUILD)/tests/fuzz/replay.o $(RL_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# make fuzz [FUZZ_SECONDS=30]: every tests/fuzz/fuzz_*.c as a real libFuzzer
# binary (clang, ASan+UBSan, coverage) in $(FUZZ_BUILD)/, each run for
# FUZZ_SECONDS on a copy of its seed corpus (the seeds stay as they are).
# Exits non-zero when any harness crashed; the input that did it is in
# $(FUZZ_BUILD)/artifacts/. Extra libFuzzer flags: FUZZ_ARGS.
FUZZ_BUILD   ?= build/fuzz
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 30
FUZZ_ARGS    ?=
FUZZ_SAN     := $(SAN)
FUZZ_CFLAGS  := -O1 -g -std=c11 -Wall -Wextra -Werror -fno-strict-aliasing $(SAN_FLAGS)
FUZZ_CW_SRC  := $(FUZZ_BUILD)/third_party/civetweb-src
FUZZ_CPPFLAGS := -D_GNU_SOURCE $(shell pkg-config --cflags $(PKGS) 2>/dev/null) -I$(FUZZ_CW_SRC)/include
FUZZ_NAMES   := $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS    := $(FUZZ_NAMES:%=$(FUZZ_BUILD)/%)
FUZZ_COM_OBJ := $(COM_SRC:%.c=$(FUZZ_BUILD)/obj/%.o)

$(FUZZ_BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c -o $@ $<

$(FUZZ_BUILD)/obj/third_party/civetweb.o: $(FUZZ_CW_SRC)/.patched Makefile
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CPPFLAGS) -iquote $(CW_DIR)/src $(CW_DEFS) -O1 -g -fno-strict-aliasing \
	    $(FUZZ_SAN) -MMD -MP -c -o $@ $(FUZZ_CW_SRC)/src/civetweb.c
$(RN_SRC:%.c=$(FUZZ_BUILD)/obj/%.o) $(patsubst %,$(FUZZ_BUILD)/obj/tests/fuzz/%.o,$(filter fuzz_runner_%,$(FUZZ_NAMES))) \
    $(RL_SRC:%.c=$(FUZZ_BUILD)/obj/%.o) $(patsubst %,$(FUZZ_BUILD)/obj/tests/fuzz/%.o,$(filter fuzz_relay_%,$(FUZZ_NAMES))): | $(FUZZ_CW_SRC)/.patched

$(FUZZ_BUILD)/fuzz_executor_%: $(FUZZ_BUILD)/obj/tests/fuzz/fuzz_executor_%.o \
    $(filter-out %/main.o,$(EX_SRC:%.c=$(FUZZ_BUILD)/obj/%.o)) $(FUZZ_COM_OBJ)
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

$(FUZZ_BUILD)/fuzz_runner_%: $(FUZZ_BUILD)/obj/tests/fuzz/fuzz_runner_%.o \
    $(filter-out %/main.o,$(RN_SRC:%.c=$(FUZZ_BUILD)/obj/%.o)) $(FUZZ_COM_OBJ) \
    $(FUZZ_BUILD)/obj/third_party/civetweb.o
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

$(FUZZ_BUILD)/fuzz_relay_%: $(FUZZ_BUILD)/obj/tests/fuzz/fuzz_relay_%.o \
    $(filter-out %/main.o,$(RL_SRC:%.c=$(FUZZ_BUILD)/obj/%.o)) $(FUZZ_COM_OBJ) \
    $(FUZZ_BUILD)/obj/third_party/civetweb.o
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

fuzz: $(FUZZ_BINS)
	@failed=""; \
	for n in $(FUZZ_NAMES); do \
		c=$(FUZZ_BUILD)/corpus/$$n; rm -rf $$c; mkdir -p $$c $(FUZZ_BUILD)/artifacts; \
		cp tests/fuzz/corpus/$${n#fuzz_}/* $$c/ 2>/dev/null; \
		echo "fuzz: $$n for $(FUZZ_SECONDS)s"; \
		if $(FUZZ_BUILD)/$$n -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
		    -print_final_stats=1 -artifact_prefix=$(FUZZ_BUILD)/artifacts/$$n- $(FUZZ_ARGS) \
		    $$c >$(FUZZ_BUILD)/$$n.log 2>&1; then \
			grep -E '^stat::number_of_executed_units|^stat::average_exec_per_sec' \
			    $(FUZZ_BUILD)/$$n.log | tr '\n' ' '; echo; \
		else \
			echo "FAIL $$n: see $(FUZZ_BUILD)/$$n.log"; tail -n 30 $(FUZZ_BUILD)/$$n.log; \
			failed="$$failed $$n"; \
		fi; \
	done; \
	if [ -n "$$failed" ]; then echo "fuzz: crashed:$$failed"; exit 1; fi; \
	echo "fuzz: $(words $(FUZZ_NAMES)) harnesses, no crash"

deps:
	sh tests/deps.sh

# Only CivetWeb's source (the container's build stage: no test tools).
# FORCE=1 fetches it again (a Debian update of the package).
civetweb-source:
	FORCE=$(FORCE) sh third_party/civetweb.sh

# deps first (idempotent, quick when all is there), so `make test` works on a
# fresh machine by itself; then build everything and run it.
test:
	@sh tests/deps.sh
	@$(MAKE) --no-print-directory test-build
	@bash tests/run.sh $(BUILD)

test-build: $(BINS) $(UT_EX) $(UT_RN) $(UT_RL) $(UT_CM) $(TOOLS) $(FZ_EX) $(FZ_RN) $(FZ_RL)

# Installs what it needs first, so it is the one command on a fresh machine.
run:
	sh tests/deps.sh
	$(MAKE) all
	bash config/demo.sh $(BUILD)

# Installs what it needs (build deps, then bench/deps.sh: webhook, wrk, nginx,
# sshd), builds the release binaries, runs every bounded load on loopback
# and prints the table (README, "Benchmarks"). Under 10 minutes on 2 cores.
bench:
	@sh tests/deps.sh
	@$(MAKE) --no-print-directory all
	@bash bench/run.sh $(BUILD)

# make soak [SOAK_SECONDS=300] [VALGRIND_SECONDS=60]: the bounded soak of
# bench/soak.sh (half capacity, mixed good and bad, RSS growth, valgrind).
soak:
	@sh tests/deps.sh
	@$(MAKE) --no-print-directory all
	@bash bench/soak.sh $(BUILD)

# make install [PREFIX=/usr/local] [DESTDIR=]: the programs in $(PREFIX)/bin,
# the units (webhook-runner, webhook-relay, webhook-relay-connect) in $(UNITDIR) (ExecStart pointed at $(PREFIX)/bin; /usr/local/lib/
# systemd/system and /usr/lib/systemd/system are both on systemd's unit path),
# the example config beside where the real one goes (systemd's
# ConfigurationDirectory= is always under /etc), the docs in $(DOCDIR), the
# manual pages man/*.1, *.5, *.8 in $(MANDIR)/man1, man5, man8 (uncompressed;
# a package's tooling compresses them).
# Never overwrites a config.json. Builds first when needed.
PREFIX   ?= /usr/local
UNITDIR  ?= $(PREFIX)/lib/systemd/system
DOCDIR   ?= $(PREFIX)/share/doc/webhook-runner
MANDIR   ?= $(PREFIX)/share/man
MANPAGES := $(wildcard man/*.[158])
CONFDIR  := /etc/webhook-runner
.PHONY: install
install: $(BINS)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(UNITDIR) $(DESTDIR)$(CONFDIR) $(DESTDIR)$(DOCDIR)
	install -m 0755 $(BINS) $(DESTDIR)$(PREFIX)/bin/
	sed 's|/usr/local/bin/|$(PREFIX)/bin/|g' systemd/webhook-runner.service >$(DESTDIR)$(UNITDIR)/webhook-runner.service.tmp
	chmod 0644 $(DESTDIR)$(UNITDIR)/webhook-runner.service.tmp
	mv -f $(DESTDIR)$(UNITDIR)/webhook-runner.service.tmp $(DESTDIR)$(UNITDIR)/webhook-runner.service
	sed 's|/usr/local/bin/|$(PREFIX)/bin/|g' systemd/webhook-relay.service >$(DESTDIR)$(UNITDIR)/webhook-relay.service.tmp
	chmod 0644 $(DESTDIR)$(UNITDIR)/webhook-relay.service.tmp
	mv -f $(DESTDIR)$(UNITDIR)/webhook-relay.service.tmp $(DESTDIR)$(UNITDIR)/webhook-relay.service
	sed 's|/usr/local/bin/|$(PREFIX)/bin/|g' systemd/webhook-relay-connect.service >$(DESTDIR)$(UNITDIR)/webhook-relay-connect.service.tmp
	chmod 0644 $(DESTDIR)$(UNITDIR)/webhook-relay-connect.service.tmp
	mv -f $(DESTDIR)$(UNITDIR)/webhook-relay-connect.service.tmp $(DESTDIR)$(UNITDIR)/webhook-relay-connect.service
	install -m 0644 config/example.json $(DESTDIR)$(CONFDIR)/config.json.example
	install -m 0644 README.md $(DESTDIR)$(DOCDIR)/README.md
	install -m 0644 config/README.md $(DESTDIR)$(DOCDIR)/config.md
	install -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8
	for p in $(MANPAGES); do install -m 0644 $$p $(DESTDIR)$(MANDIR)/man$${p##*.}/ || exit 1; done

# make deb [DEB_OUT=$(BUILD)] [DEB_REVISION=1]: the Debian package of the
# release build, $(DEB_OUT)/webhook-runner_<version>-<rev>_<arch>.deb: what
# `make install PREFIX=/usr` installs plus the split deployment's units and
# sysusers file, Depends: from dpkg-shlibdeps (packaging/deb/mkdeb.sh says
# what goes where; README, "Debian package").
DEB_OUT  ?= $(BUILD)
.PHONY: deb
deb: $(BINS)
	@[ "$(SANITIZE)" != 1 ] || { echo "deb: package the release build (make deb, without SANITIZE=1)" >&2; exit 1; }
	@sh packaging/deb/mkdeb.sh $(BUILD) $(DEB_OUT)

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
