# tplfs: build, test and lint. `make help` lists the targets.

KERNEL ?= 6.12
KERNELS := 6.12 6.1
BUILD := build

CC ?= gcc
CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE \
	  -Iinclude/uapi -Iuserspace/lib
DEPFLAGS = -MMD -MP

LIB_SRCS := $(wildcard userspace/lib/*.c)
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
LIB := $(BUILD)/lib/libtplfs.a

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/unit/%)
UNIT_LIBS := -lcmocka
# libfsverity: digests; libcrypto (OpenSSL, which libfsverity uses too):
# SHA-256 in merkle.c, our Merkle tree for sparse files; liburing: the
# daemon's loop and /dev/tplfs; json-c: the protocol; libcap: least
# privilege; libarchive: template tarballs.
LIBS := -lfsverity -lcrypto -luring -ljson-c -lcap -larchive -lpthread

TPLFSD_SRCS := $(wildcard userspace/tplfsd/*.c)
TPLCTL_SRCS := $(wildcard userspace/tplctl/*.c)
PROGS := $(BUILD)/bin/tplfsd $(BUILD)/bin/tplctl

# make install: where things go (DESTDIR for packaging)
PREFIX ?= /usr/local
SYSTEMDUNITDIR ?= /lib/systemd/system
DKMSSRCDIR ?= /usr/src
DKMS ?= yes
VERSION := $(shell sed -n 's/^\#define TPLFS_VERSION[[:space:]]*"\(.*\)"/\1/p' userspace/lib/version.h)
MODULESLOADDIR ?= /usr/lib/modules-load.d

TOOL_SRCS := $(wildcard tests/tools/*.c)
TOOLS := $(TOOL_SRCS:tests/tools/%.c=$(BUILD)/bin/%)
BENCH_SRCS := $(wildcard bench/*.c)
BENCHES := $(BENCH_SRCS:bench/%.c=$(BUILD)/bench/%)

.PHONY: all help deps userspace kmod kmod-all unit hosttest vmtest check bench-host \
	check-full check-debug bench demo lint install clean

all: userspace kmod

help:
	@echo "make deps       install build/test dependencies (Debian packages, kernels)"
	@echo "make            userspace and the module for KERNEL=$(KERNEL)"
	@echo "make kmod       the module for KERNEL (6.12 or 6.1)"
	@echo "make kmod-all   the module for every target kernel"
	@echo "make unit       unit tests on the host"
	@echo "make hosttest   tests of tplfsd and tplctl on the host (as root)"
	@echo "make vmtest     VM tests for KERNEL"
	@echo "make check      deps, build, unit tests, VM tests on both kernels"
	@echo "make check-full make check, then the Debian 12 template test"
	@echo "make check-debug the VM tests on Debian's 6.12 source built with lockdep,"
	@echo "                KASAN and UBSAN (built once, cached; not part of make check)"
	@echo "make bench      benchmarks on both kernels and the host rows -> bench/results/"
	@echo "make bench-host the control plane and the store on the host -> bench/results/host-*.md"
	@echo "make demo       50 containers of Debian 12 in a guest, with a checked summary"
	@echo "make lint       checkpatch, sparse and W=1 on the module; cppcheck"
	@echo "make install    tplfsd, tplctl, systemd units, modules-load.d"
	@echo "                (PREFIX=$(PREFIX), DESTDIR for packaging)"

deps:
	scripts/deps.sh

userspace: $(LIB) $(PROGS) $(TOOLS) $(BENCHES)

$(BUILD)/bench/%: bench/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(DEPFLAGS) -o $@ $< $(LIB) $(LIBS)

$(BUILD)/bin/tplfsd: $(TPLFSD_SRCS:%.c=$(BUILD)/obj/%.o) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/bin/tplctl: $(TPLCTL_SRCS:%.c=$(BUILD)/obj/%.o) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LIBS)

$(LIB): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(DEPFLAGS) -c -o $@ $<

$(BUILD)/tests/unit/%: tests/unit/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(DEPFLAGS) -o $@ $< $(LIB) $(UNIT_LIBS) $(LIBS)

$(BUILD)/bin/%: tests/tools/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(DEPFLAGS) -o $@ $< $(LIB) $(LIBS)

kmod:
	scripts/build-kmod.sh $(KERNEL)

# after kmod: `make -j all kmod-all` ran two builds of the default kernel's
# module in one directory at once (a Bus error in modpost, a deleted .ko)
kmod-all: kmod
	@set -e; for k in $(KERNELS); do scripts/build-kmod.sh $$k; done

unit: $(UNIT_BINS)
	tests/unit/run $(UNIT_BINS)

hosttest: userspace
	tests/host/run

vmtest:
	tests/vm/run --kernel $(KERNEL) tests/vm/t/*.sh

check:
	tests/check.sh

check-full: check
	tests/check-full.sh

check-debug:
	tests/check-debug.sh

bench: deps userspace kmod-all
	bench/run
	bench/host-ctl.py --out bench/results/host-ctl.md
	bench/host-store.py --out bench/results/host-store.md

bench-host: userspace
	bench/host-ctl.py --out bench/results/host-ctl.md
	bench/host-store.py --out bench/results/host-store.md

demo: deps userspace
	demo/run

lint:
	scripts/lint.sh

SED_UNIT = sed -e 's|@SBINDIR@|$(PREFIX)/sbin|g' -e 's|@BINDIR@|$(PREFIX)/bin|g'

# The module's sources for DKMS, which builds it for every installed kernel.
DKMS_DIR = $(DESTDIR)$(DKMSSRCDIR)/tplfs-$(VERSION)

install: userspace
	install -d $(DKMS_DIR)/kmod $(DKMS_DIR)/include/uapi/linux
	install -m 0644 Kbuild $(DKMS_DIR)/Kbuild
	install -m 0644 kmod/*.[ch] kmod/Kbuild $(DKMS_DIR)/kmod/
	install -m 0644 include/uapi/linux/tplfs.h $(DKMS_DIR)/include/uapi/linux/
	sed 's/@VERSION@/$(VERSION)/' dkms.conf > $(DKMS_DIR)/dkms.conf
	@if [ -z "$(DESTDIR)" ] && [ "$(DKMS)" != no ]; then \
		scripts/dkms-install.sh $(VERSION) $(DKMSSRCDIR); fi
	install -D -m 0755 $(BUILD)/bin/tplfsd $(DESTDIR)$(PREFIX)/sbin/tplfsd
	install -D -m 0755 $(BUILD)/bin/tplctl $(DESTDIR)$(PREFIX)/bin/tplctl
	install -d $(DESTDIR)$(SYSTEMDUNITDIR) $(DESTDIR)$(MODULESLOADDIR)
	$(SED_UNIT) systemd/tplfsd.service.in > $(DESTDIR)$(SYSTEMDUNITDIR)/tplfsd.service
	$(SED_UNIT) systemd/tplfs-ct@.service.in > $(DESTDIR)$(SYSTEMDUNITDIR)/tplfs-ct@.service
	install -m 0644 systemd/tplfsd.socket $(DESTDIR)$(SYSTEMDUNITDIR)/tplfsd.socket
	install -m 0644 systemd/tplfs-modules.conf $(DESTDIR)$(MODULESLOADDIR)/tplfs.conf
	install -D -m 0644 systemd/examples/systemd-nspawn-tplfs.conf \
		$(DESTDIR)$(PREFIX)/share/doc/tplfs/examples/systemd-nspawn-tplfs.conf

clean:
	rm -rf $(BUILD)/obj $(BUILD)/lib $(BUILD)/bin $(BUILD)/bench $(BUILD)/tests $(BUILD)/kmod \
		$(BUILD)/selftest $(BUILD)/vm

-include $(shell find $(BUILD)/obj $(BUILD)/tests $(BUILD)/bin $(BUILD)/bench -name '*.d' 2>/dev/null)
