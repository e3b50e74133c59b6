# webhook-runner — plain Makefile, pkg-config for libraries.
#   make            build remote-executor and webhook-runner (-Wall -Wextra -Werror)
#   make deps       install every build/test dependency (Debian 12, apt-get, idempotent)
#   make test       build and run every test; last line "N passed, N failed"
#   make test SANITIZE=1   the same under ASan+UBSan (separate build dir)
#   make run        start the demo service (see README)

SANITIZE ?= 0
CC       ?= cc
PKGS     := libssh2 openssl libjwt libcjson sqlite3
OPT      ?= -O2
CFLAGS   += $(OPT) -g -std=c11 -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wvla \
            -Wstrict-prototypes -Wmissing-prototypes -fno-strict-aliasing \
            -fstack-protector-strong
CPPFLAGS += -D_GNU_SOURCE $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS   += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lcivetweb -lpthread

ifeq ($(SANITIZE),1)
BUILD    ?= build/asan
OPT      := -O1
CFLAGS   += -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
LDFLAGS  += -fsanitize=address,undefined
else
BUILD    ?= build/release
CPPFLAGS += -D_FORTIFY_SOURCE=2
endif

EX_SRC   := $(wildcard executor/*.c)
RN_SRC   := $(wildcard runner/*.c)
EX_OBJ   := $(EX_SRC:%.c=$(BUILD)/%.o)
RN_OBJ   := $(RN_SRC:%.c=$(BUILD)/%.o)
EX_LIB   := $(filter-out $(BUILD)/executor/main.o,$(EX_OBJ))
RN_LIB   := $(filter-out $(BUILD)/runner/main.o,$(RN_OBJ))

# Unit tests: tests/unit/executor_*.c link the executor modules,
# tests/unit/runner_*.c the runner modules; each is its own program.
UT_EX    := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/executor_*.c))
UT_RN    := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/runner_*.c))
TOOLS    := $(patsubst tests/tools/%.c,$(BUILD)/tools/%,$(wildcard tests/tools/*.c))
# Fuzz harnesses, built as plain programs that replay their seed corpus.
FZ_EX    := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(wildcard tests/fuzz/fuzz_executor_*.c))
FZ_RN    := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(wildcard tests/fuzz/fuzz_runner_*.c))

BINS     := $(BUILD)/remote-executor
ifneq ($(wildcard runner/main.c),)
BINS     += $(BUILD)/webhook-runner
endif

.PHONY: all deps test test-build run clean fuzz
.SECONDARY:
all: $(BINS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/remote-executor: $(EX_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/webhook-runner: $(RN_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/executor_%: $(BUILD)/tests/unit/executor_%.o $(EX_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/runner_%: $(BUILD)/tests/unit/runner_%.o $(RN_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tools/%: $(BUILD)/tests/tools/%.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/fuzz/fuzz_executor_%: $(BUILD)/tests/fuzz/fuzz_executor_%.o $(BUILD)/tests/fuzz/replay.o $(EX_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/fuzz/fuzz_runner_%: $(BUILD)/tests/fuzz/fuzz_runner_%.o $(BUILD)/tests/fuzz/replay.o $(RN_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

deps:
	sh tests/deps.sh

# deps first (idempotent, quick when all is there), so `make test` works on a
# fresh machine by itself; then build everything and run it.
test:
	@sh tests/deps.sh
	@$(MAKE) --no-print-directory test-build
	@bash tests/run.sh $(BUILD)

test-build: $(BINS) $(UT_EX) $(UT_RN) $(TOOLS) $(FZ_EX) $(FZ_RN)

# Installs what it needs first, so it is the one command on a fresh machine.
run:
	sh tests/deps.sh
	$(MAKE) all
	bash config/demo.sh $(BUILD)

# make install [PREFIX=/usr/local] [DESTDIR=]: the two programs in $(PREFIX)/bin,
# the unit in $(UNITDIR) (ExecStart pointed at $(PREFIX)/bin; /usr/local/lib/
# systemd/system and /usr/lib/systemd/system are both on systemd's unit path),
# the example config beside where the real one goes (systemd's
# ConfigurationDirectory= is always under /etc), the docs in $(DOCDIR).
# Never overwrites a config.json. Builds first when needed.
PREFIX   ?= /usr/local
UNITDIR  ?= $(PREFIX)/lib/systemd/system
DOCDIR   ?= $(PREFIX)/share/doc/webhook-runner
CONFDIR  := /etc/webhook-runner
.PHONY: install
install: $(BINS)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(UNITDIR) $(DESTDIR)$(CONFDIR) $(DESTDIR)$(DOCDIR)
	install -m 0755 $(BUILD)/webhook-runner $(BUILD)/remote-executor $(DESTDIR)$(PREFIX)/bin/
	sed 's|/usr/local/bin/|$(PREFIX)/bin/|g' systemd/webhook-runner.service >$(DESTDIR)$(UNITDIR)/webhook-runner.service.tmp
	chmod 0644 $(DESTDIR)$(UNITDIR)/webhook-runner.service.tmp
	mv -f $(DESTDIR)$(UNITDIR)/webhook-runner.service.tmp $(DESTDIR)$(UNITDIR)/webhook-runner.service
	install -m 0644 config/example.json $(DESTDIR)$(CONFDIR)/config.json.example
	install -m 0644 README.md $(DESTDIR)$(DOCDIR)/README.md
	install -m 0644 config/README.md $(DESTDIR)$(DOCDIR)/config.md

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
