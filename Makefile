# lastgasp — one plain GNU Makefile.
#   make        build/liblastgasp.so, build/liblastgasp.a, build/lastgasp (the tool needs minizip and zlib:
#               `bash tests/tools/deps.sh build` installs them; demo, test, bench and fuzz do it first)
#   make LIBC=musl  build/musl/liblastgasp.so and .a for musl (Alpine) with Debian's musl-gcc (package musl-tools),
#               and build/musl/lastgasp, a static tool (its libraries: `LIBC=musl bash tests/tools/deps.sh build`)
#   make ARCH=arm64 build/arm64/liblastgasp.so, .a and the tool for linux/arm64 with Debian's aarch64-linux-gnu-gcc
#   make ARCH=arm64 LIBC=musl  build/arm64-musl/liblastgasp.so and .a (no tool) for musl on arm64 (Alpine)
#   make install [PREFIX=/usr/local] [DESTDIR=]   and make uninstall (README.md, "Install"); CC=clang works
#   make demo   crash a sample program with the library loaded and render the dump
#   make test   every test (installs what it needs first: see tests/tools/deps.sh)
#   make check  the fast loop: unit tests and the symbol check, seconds, no network (tests/check.sh)
#   make test-one TEST=tests/crash/test_collect.py   one test file (C or pytest), built first (tests/one.sh)
#   make bench  benchmarks (tests/bench/), results to stdout
#   make fuzz   the reader's fuzzer for FUZZ_SECONDS (default 600)
#   make unwind-test  the unwinder against libunwind (tests/unwind/README.md; libunwind-dev from deps.sh test)

CC ?= gcc
B := build
# make LIBC=musl: the library (liblastgasp.so, liblastgasp.a) built with Debian's musl-gcc into build/musl/, for
# Alpine (musl) images, and the tool as one static binary that runs in any image whatever its libc. Its minizip,
# zlib and libcurl (on mbedTLS) are built from Debian's sources with musl-gcc into a tree of their own
# (tests/tools/musl_deps.sh, made by `LIBC=musl deps.sh build`); it has no libdw, which needs Alpine's patches on
# musl: formats/debuginfo/none/ stands in for formats/debuginfo/. Plain make is unchanged.
LIBC ?= glibc
ifeq ($(LIBC),musl)
CC := musl-gcc
B := build/musl
LASTGASP_TOOLS ?= $(HOME)/.cache/lastgasp-tools
MUSL_DEPS ?= $(LASTGASP_TOOLS)/musl-deps
TOOL_SYSROOT := -I$(MUSL_DEPS)/include
TOOL_SYSROOT_READY := $(MUSL_DEPS)/.ready
TOOL_CFLAGS := -DLASTGASP_NO_DWARF
endif
# make ARCH=arm64: the library (liblastgasp.so, liblastgasp.a) and the tool cross-built with Debian's
# aarch64-linux-gnu-gcc (packages gcc-aarch64-linux-gnu, libc6-dev-arm64-cross) into build/arm64/. The tool links
# Debian's arm64 minizip, zlib, libcurl and libdw from a tree of their own (tests/tools/arm64_sysroot.sh; both made
# by `ARCH=arm64 deps.sh build`). ARCH_DIR names the folders of the architecture's own sources (sigsafe/<ARCH_DIR>/,
# reporter/<ARCH_DIR>/). Plain make is unchanged.
ARCH ?= amd64
ARCH_DIR := x86_64
HOST_CC = $(CC)
ifeq ($(ARCH),arm64)
CC := aarch64-linux-gnu-gcc
HOST_CC := gcc
B := build/arm64
ARCH_DIR := aarch64
LASTGASP_TOOLS ?= $(HOME)/.cache/lastgasp-tools
ARM64_SYSROOT ?= $(LASTGASP_TOOLS)/arm64-sysroot
TOOL_SYSROOT := --sysroot=$(ARM64_SYSROOT)
TOOL_SYSROOT_READY := $(ARM64_SYSROOT)/.ready
endif
# The kernel's uapi headers the musl builds reach through build/<musl dir>/kinc: the machine's, or the cross
# toolchain's for arm64 (package linux-libc-dev-arm64-cross).
KINC_DIR := /usr/include
KINC_ASM := /usr/include/x86_64-linux-gnu/asm
# make ARCH=arm64 LIBC=musl: the arm64 musl library (Alpine on arm64) into build/arm64-musl/, with
# aarch64-linux-gnu-gcc driven by a specs file of its own: Debian's arm64 musl-gcc.specs (musl-dev:arm64, in the
# arm64 tree of tests/tools/arm64_sysroot.sh) with its paths moved into that tree. The loader named in what it
# links stays /lib/ld-musl-aarch64.so.1, Alpine's; under qemu-user, -L <tree> finds it.
ifeq ($(ARCH)-$(LIBC),arm64-musl)
B := build/arm64-musl
MUSL_SPECS := $(CURDIR)/$(B)/musl-gcc.specs
CC := aarch64-linux-gnu-gcc -specs=$(MUSL_SPECS)
KINC_DIR := /usr/aarch64-linux-gnu/include
KINC_ASM := /usr/aarch64-linux-gnu/include/asm
endif
# A packager's CC, CPPFLAGS, CFLAGS and LDFLAGS are honoured (GNU conventions), in this order on every compile:
#   -I. and the project's defaults (-O2 -g and the warnings): a packager's flags, which come after, override them
#   $(CPPFLAGS) $(CFLAGS)
#   the flags the code needs (C11, the .so's -fPIC, frame pointers; on the handler path, CFLAGS_SAFE's below):
#   last, so that no packager's flag (-fstack-protector-strong, -fbuiltin, -flto, -fomit-frame-pointer) undoes them
# and $(CFLAGS) $(LDFLAGS) before the required link flags (-z now) on every link. The tests build with them too.
# Flags only GCC has are given when the compiler takes them (cc_flag), so that `make CC=clang` builds everything.
cc_flag = $(shell $(filter-out -specs=%,$(CC)) -Werror $(1) -x c -c /dev/null -o /dev/null >/dev/null 2>&1 && echo $(1))
CFLAGS_BASE := -I. -O2 -g -Wall -Wextra -Werror $(CPPFLAGS) $(CFLAGS) -std=c11 -D_GNU_SOURCE \
               -fno-omit-frame-pointer -fPIC
ifeq ($(ARCH),arm64)
# gcc's default on aarch64 turns each atomic into a call to a libgcc helper (__aarch64_cas4_acq_rel, ...)
# that picks LSE or LL/SC at run time: inline instructions instead keep the handler objects free of calls
# (tests/check_symbols.sh).
CFLAGS_BASE += -mno-outline-atomics
endif
ifeq ($(LIBC),musl)
# musl-gcc searches no glibc header, the kernel's among them (linux/futex.h): the kernel's uapi headers,
# which do not depend on the C library, are reached through links in build/musl/kinc.
MUSL_KINC := $(B)/kinc/.done
CFLAGS_BASE += -isystem $(B)/kinc
# musl-gcc's link spec drops two options of Debian's gcc that Alpine's gcc passes too: --build-id (symbol servers
# and readers match modules by it) and --eh-frame-hdr (the table through which unwinders find .eh_frame).
LIB_LDFLAGS := -Wl,--build-id -Wl,--eh-frame-hdr
endif
# Handler-path code: the compiler must not turn loops into libc calls, nor add stack-protector
# calls; tests/check_symbols.sh proves the objects call nothing outside the allow-list. Clang has no
# -fno-tree-loop-distribute-patterns: its -fno-builtin alone keeps loops from becoming memset/memcpy calls.
# -fno-lto: the objects the symbol check reads are the code that ships, not bytecode a link recompiles.
CFLAGS_SAFE := $(CFLAGS_BASE) -fvisibility=hidden -fno-builtin $(call cc_flag,-fno-tree-loop-distribute-patterns) \
               -fno-stack-protector -fno-exceptions -fno-lto
CFLAGS_LIB := $(CFLAGS_BASE) -fvisibility=hidden

# The folder decides how a file is built (one folder, one contract), so no source list is kept by hand: goshim's
# unity files (make goshim-unity), the symbol check and the tests derive theirs from these.
#   sigsafe/, reporter/, reporter/go/, formats/minidump/  the handler path: async-signal-safe, CFLAGS_SAFE
#   sigsafe/<arch>/, reporter/<arch>/                     the same, for the architecture built
#   reporter/install/                                     install time (normal context), in every build
#   reporter/preload/                                     only in liblastgasp.so (LD_PRELOAD, the glibc floor)
#   formats/read/, formats/render/                        the reader and the renderers (tool and unit tests)
#   formats/bundle/, formats/ship/, formats/debuginfo/,   the tool only: minizip and zlib; libcurl; libdw;
#   formats/pprof/, formats/cli/                          zlib; main() and the argv parsers
SAFE_SRC := $(sort $(wildcard sigsafe/*.c reporter/*.c reporter/go/*.c formats/minidump/*.c reporter/$(ARCH_DIR)/*.c))
SAFE_ASM := $(sort $(wildcard sigsafe/$(ARCH_DIR)/*.S))
INSTALL_SRC := $(sort $(wildcard reporter/install/*.c))
# The tool shares the handler's constant knowledge of the format (signal names, the build-id note walk): all of
# formats/minidump/ but the writer, which needs sigsafe/.
MD_SHARED_SRC := $(filter-out %/mdwrite.c,$(sort $(wildcard formats/minidump/*.c)))
READER_SRC := $(sort $(wildcard formats/read/*.c)) $(MD_SHARED_SRC)
# The renderers, with the JSON writer and reader every JSON document of the tool goes through (formats/json/).
RENDER_SRC := $(sort $(wildcard formats/render/*.c formats/json/*.c))
# Bundles (`lastgasp collect`, and show/json of a bundle): the command-line tool only, on minizip and zlib.
BUNDLE_SRC := $(sort $(wildcard formats/bundle/*.c))
MINIZIP_LIBS := $(shell pkg-config --libs minizip 2>/dev/null || echo -lminizip) -lz
# Shipping dumps to a crash server (`lastgasp upload`, `lastgasp watch`): the command-line tool only, on libcurl.
SHIP_SRC := $(sort $(wildcard formats/ship/*.c))
CURL_LIBS := $(shell pkg-config --libs libcurl 2>/dev/null || echo -lcurl)
# file:line and inlined frames from DWARF (`show`, `json`, `html`): the command-line tool only, on elfutils.
DEBUGINFO_SRC := $(sort $(wildcard formats/debuginfo/*.c))
DW_LIBS := -ldw -ldebuginfod -lelf
ifeq ($(LIBC),musl)
DEBUGINFO_SRC := formats/debuginfo/none/debuginfo.c
DW_LIBS :=
MINIZIP_LIBS := -lminizip -lz
CURL_LIBS := -lcurl -lmbedtls -lmbedx509 -lmbedcrypto
TOOL_LDFLAGS := -static -L$(MUSL_DEPS)/lib $(LIB_LDFLAGS)
endif
# `lastgasp pprof`: the goroutines as a pprof profile (its own protobuf encoder; gzip by zlib, linked above).
PPROF_SRC := $(sort $(wildcard formats/pprof/*.c))
CLI_SRC := $(sort $(wildcard formats/cli/*.c))

# Every go build that make runs (tests and benchmarks included) keys Go's build cache on lastgasp's C
# sources, which goshim #includes from outside its folder (tests/go/cgo_cflags.sh says why).
export CGO_CFLAGS := $(shell bash tests/go/cgo_cflags.sh)

SAFE_OBJ := $(SAFE_SRC:%.c=$(B)/obj/%.o) $(SAFE_ASM:%.S=$(B)/obj/%.o)
INSTALL_OBJ := $(INSTALL_SRC:%.c=$(B)/obj/%.o)
PRELOAD_OBJ := $(B)/obj/reporter/preload/preload.o
# The glibc library's floor (reporter/preload/glibc_floor.c says how): the old symbol versions, and libdl and libpthread
# as needed libraries, which hold those versions before glibc 2.34 (empty stubs since).
ifeq ($(LIBC),musl)
FLOOR_OBJ :=
FLOOR_LIBS :=
else
FLOOR_OBJ := $(B)/obj/reporter/preload/glibc_floor.o
FLOOR_LIBS := -Wl,--push-state,--no-as-needed -l:libdl.so.2 -l:libpthread.so.0 -Wl,--pop-state
endif
READER_OBJ := $(READER_SRC:%.c=$(B)/host/%.o) $(RENDER_SRC:%.c=$(B)/host/%.o)
BUNDLE_OBJ := $(BUNDLE_SRC:%.c=$(B)/host/%.o)
SHIP_OBJ := $(SHIP_SRC:%.c=$(B)/host/%.o)
DEBUGINFO_OBJ := $(DEBUGINFO_SRC:%.c=$(B)/host/%.o)
PPROF_OBJ := $(PPROF_SRC:%.c=$(B)/host/%.o)
HEADERS := $(wildcard sigsafe/*.h sigsafe/*/*.h formats/*/*.h reporter/*.h reporter/*/*.h)

ifdef MUSL_SPECS
# arm64 musl: the library only; the glibc or the static musl tool reads its dumps.
all: $(B)/liblastgasp.so $(B)/liblastgasp.a
else
all: $(B)/liblastgasp.so $(B)/liblastgasp.a $(B)/lastgasp $(B)/lastgasp.1
endif

$(B)/kinc/.done:
	@mkdir -p $(B)/kinc
	ln -sfn $(KINC_DIR)/linux $(B)/kinc/linux
	ln -sfn $(KINC_DIR)/asm-generic $(B)/kinc/asm-generic
	ln -sfn $(KINC_ASM) $(B)/kinc/asm
	touch $@

ifdef MUSL_SPECS
# The package's specs name /usr/include/aarch64-linux-musl and /usr/lib/aarch64-linux-musl; the tree keeps libc.so
# (the loader itself) apart, under lib/aarch64-linux-musl, searched first: ld takes the first folder holding either
# libc.so or libc.a, and libc.a would be copied into liblastgasp.so. Every compile and link needs the specs.
# cc1 gets -mno-outline-atomics for every program built with it (the tests', cgo's): the cross compiler's libgcc.a
# is glibc's, its atomics helpers call glibc's __getauxval, which musl does not have.
$(MUSL_SPECS): $(TOOL_SYSROOT_READY)
	@mkdir -p $(dir $@)
	sed -e 's|/usr/include/aarch64-linux-musl|$(ARM64_SYSROOT)&|g' \
	    -e 's|-L\(/usr/lib/aarch64-linux-musl\)|-L$(ARM64_SYSROOT)/lib/aarch64-linux-musl -L$(ARM64_SYSROOT)\1|' \
	    -e 's| /usr/lib/aarch64-linux-musl/| $(ARM64_SYSROOT)/usr/lib/aarch64-linux-musl/|g' \
	    -e '/^%(cc1_cpu)/s|$$| -mno-outline-atomics|' \
	    $(ARM64_SYSROOT)/usr/lib/aarch64-linux-musl/musl-gcc.specs >$@.tmp
	mv $@.tmp $@
$(B)/kinc/.done $(SAFE_OBJ) $(INSTALL_OBJ) $(PRELOAD_OBJ): $(MUSL_SPECS)
endif

$(B)/obj/%.o: %.c $(HEADERS) $(MUSL_KINC)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_SAFE) -c $< -o $@

$(B)/obj/%.o: %.S
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(INSTALL_OBJ) $(PRELOAD_OBJ) $(FLOOR_OBJ): $(B)/obj/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_LIB) -c $< -o $@

$(B)/host/%.o: %.c $(HEADERS) $(TOOL_SYSROOT_READY) $(MUSL_KINC)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) $(TOOL_CFLAGS) $(TOOL_SYSROOT) -c $< -o $@

# -z now: every symbol is bound at load time, so the handler never enters the lazy binder.
# The shared library is built under its full version's name with its SONAME, the major version's, beside the two
# links an installed library has (liblastgasp.so, which LD_PRELOAD and the tests name, and the SONAME), so
# build/ looks as the installed library does. The version is the header's (LASTGASP_VERSION), read, never copied.
LIB_VERSION := $(shell sed -n 's/^\#define LASTGASP_VERSION "\([0-9.]*\)"$$/\1/p' reporter/lastgasp.h)
LIB_SONAME := liblastgasp.so.$(firstword $(subst ., ,$(LIB_VERSION)))
$(B)/liblastgasp.so.$(LIB_VERSION): $(SAFE_OBJ) $(INSTALL_OBJ) $(PRELOAD_OBJ) $(FLOOR_OBJ) reporter/exports.map
	$(CC) $(CFLAGS) $(LDFLAGS) -shared -Wl,-z,now -Wl,-z,relro -Wl,--version-script=reporter/exports.map \
	    -Wl,-soname,$(LIB_SONAME) $(LIB_LDFLAGS) -o $@ \
	    $(SAFE_OBJ) $(INSTALL_OBJ) $(PRELOAD_OBJ) $(FLOOR_OBJ) -ldl -lpthread $(FLOOR_LIBS)
$(B)/$(LIB_SONAME): $(B)/liblastgasp.so.$(LIB_VERSION)
	ln -sfn $(notdir $<) $@
$(B)/liblastgasp.so: $(B)/$(LIB_SONAME)
	ln -sfn $(notdir $<) $@

ifeq ($(ARCH),arm64)
$(TOOL_SYSROOT_READY):
	@echo "make ARCH=arm64: the tool (LIBC=musl: the library) links Debian's arm64 libraries, which are not in" \
	    "$(ARM64_SYSROOT): run ARCH=arm64 bash tests/tools/deps.sh build" >&2; exit 1
endif
ifeq ($(LIBC)-$(ARCH),musl-amd64)
$(TOOL_SYSROOT_READY):
	@echo "make LIBC=musl: the tool links minizip, zlib and libcurl built for musl, which are not in $(MUSL_DEPS):" \
	    "run LIBC=musl bash tests/tools/deps.sh build" >&2; exit 1
endif

$(B)/liblastgasp.a: $(SAFE_OBJ) $(INSTALL_OBJ)
	rm -f $@
	ar rcs $@ $^

$(B)/lastgasp: $(READER_OBJ) $(BUNDLE_OBJ) $(SHIP_OBJ) $(DEBUGINFO_OBJ) $(PPROF_OBJ) $(CLI_SRC:%.c=$(B)/host/%.o)
	$(CC) $(CFLAGS) $(LDFLAGS) $(TOOL_SYSROOT) $(TOOL_LDFLAGS) -o $@ $^ $(MINIZIP_LIBS) $(CURL_LIBS) $(DW_LIBS)

# ---- make install, make uninstall ----
# GNU conventions: PREFIX, each directory overridable on its own (LIBDIR=/usr/lib/x86_64-linux-gnu), DESTDIR for
# a staging tree. The library under its versioned name with the SONAME link and the development link, the static
# library, the header, lastgasp.pc (its version the header's), the tool and its man page; LIBC=musl the same of
# the musl build (the static tool). uninstall removes these files, and leaves the directories, which other
# packages may share.
PREFIX = /usr/local
BINDIR = $(PREFIX)/bin
LIBDIR = $(PREFIX)/lib
INCLUDEDIR = $(PREFIX)/include
MANDIR = $(PREFIX)/share/man
PKGCONFIGDIR = $(LIBDIR)/pkgconfig
INSTALL = install
ifeq ($(LIB_VERSION),)
$(error no LASTGASP_VERSION "MAJOR.MINOR.PATCH" in reporter/lastgasp.h: the library's file name and SONAME come from it)
endif

install: all
	$(INSTALL) -d "$(DESTDIR)$(LIBDIR)" "$(DESTDIR)$(INCLUDEDIR)" "$(DESTDIR)$(PKGCONFIGDIR)"
	$(INSTALL) -m 644 $(B)/liblastgasp.so.$(LIB_VERSION) $(B)/liblastgasp.a "$(DESTDIR)$(LIBDIR)"
	ln -sfn liblastgasp.so.$(LIB_VERSION) "$(DESTDIR)$(LIBDIR)/$(LIB_SONAME)"
	ln -sfn $(LIB_SONAME) "$(DESTDIR)$(LIBDIR)/liblastgasp.so"
	$(INSTALL) -m 644 reporter/lastgasp.h "$(DESTDIR)$(INCLUDEDIR)"
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' \
	    -e 's|@VERSION@|$(LIB_VERSION)|' reporter/lastgasp.pc.in >$(B)/lastgasp.pc
	$(INSTALL) -m 644 $(B)/lastgasp.pc "$(DESTDIR)$(PKGCONFIGDIR)"
ifndef MUSL_SPECS
	$(INSTALL) -d "$(DESTDIR)$(BINDIR)"
	$(INSTALL) -m 755 $(B)/lastgasp "$(DESTDIR)$(BINDIR)"
	$(INSTALL) -d "$(DESTDIR)$(MANDIR)/man1"
	$(INSTALL) -m 644 $(B)/lastgasp.1 "$(DESTDIR)$(MANDIR)/man1"
endif

uninstall:
	rm -f "$(DESTDIR)$(LIBDIR)/liblastgasp.so.$(LIB_VERSION)" "$(DESTDIR)$(LIBDIR)/$(LIB_SONAME)" \
	    "$(DESTDIR)$(LIBDIR)/liblastgasp.so" "$(DESTDIR)$(LIBDIR)/liblastgasp.a" \
	    "$(DESTDIR)$(INCLUDEDIR)/lastgasp.h" "$(DESTDIR)$(PKGCONFIGDIR)/lastgasp.pc" \
	    "$(DESTDIR)$(BINDIR)/lastgasp" "$(DESTDIR)$(MANDIR)/man1/lastgasp.1"

# The man page, printed from the help table that --help prints (formats/cli/help.c) by a build-time program, which
# runs here: built for this machine when the rest is cross-built.
$(B)/host/mkman: formats/cli/man/mkman.c formats/cli/help.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(HOST_CC) $(filter-out -mno-outline-atomics,$(CFLAGS_BASE)) $(TOOL_CFLAGS) -o $@ formats/cli/man/mkman.c formats/cli/help.c

$(B)/lastgasp.1: $(B)/host/mkman
	$< > $@.tmp && mv $@.tmp $@

# ---- test programs ----
T := $(B)/tests
CRASHER_CFLAGS := -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror
test-bins: $(T)/crasher $(T)/crasher_linked $(T)/tripwire.so $(T)/cgocrash hardening-bins san

$(T)/crasher: tests/crash/crasher.c
	@mkdir -p $(T)
	$(CC) $(CRASHER_CFLAGS) -o $@ $< -lpthread -ldl

$(T)/crasher_linked: tests/crash/crasher.c $(B)/liblastgasp.a
	@mkdir -p $(T)
	$(CC) $(CRASHER_CFLAGS) -DCRASHER_LINKED -o $@ $< $(B)/liblastgasp.a -lpthread -ldl

$(T)/crashbench: tests/bench/crashbench.c
	@mkdir -p $(T)
	$(CC) $(CRASHER_CFLAGS) -o $@ $< -lpthread

$(T)/demo: tests/crash/demo.c
	@mkdir -p $(T)
	$(CC) -std=c11 -O2 -g -o $@ $< -lpthread

$(T)/cgocrash: tests/crash/cgo/main.go tests/crash/cgo/go.mod
	@mkdir -p $(T)
	cd tests/crash/cgo && CGO_ENABLED=1 go build -o ../../../$@ .

$(T)/gocrash: tests/bench/gocrash/main.go tests/bench/gocrash/go.mod
	@mkdir -p $(T)
	cd tests/bench/gocrash && CGO_ENABLED=1 go build -o ../../../$@ .

$(T)/gocrash_goshim: tests/bench/gocrash/main.go tests/bench/gocrash/goshim_on.go tests/bench/gocrash/go.mod \
                     $(wildcard goshim/*.go goshim/*/*.go) $(SAFE_SRC) $(INSTALL_SRC) $(HEADERS)
	@mkdir -p $(T)
	cd tests/bench/gocrash && CGO_ENABLED=1 go build -tags goshim -o ../../../$@ .

$(T)/gohttp: tests/bench/gohttp/main.go tests/bench/gohttp/goshim_on.go tests/bench/gohttp/go.mod
	@mkdir -p $(T)
	cd tests/bench/gohttp && CGO_ENABLED=1 go build -o ../../../$@ .

$(T)/goinstall: tests/bench/goinstall/main.go tests/bench/goinstall/go.mod \
                $(wildcard goshim/*.go goshim/*/*.go) $(SAFE_SRC) $(INSTALL_SRC) $(HEADERS)
	@mkdir -p $(T)
	cd tests/bench/goinstall && CGO_ENABLED=1 go build -o ../../../$@ .

$(T)/gohttp_goshim: tests/bench/gohttp/main.go tests/bench/gohttp/goshim_on.go tests/bench/gohttp/go.mod \
                    $(wildcard goshim/*.go goshim/*/*.go) $(SAFE_SRC) $(INSTALL_SRC) $(HEADERS)
	@mkdir -p $(T)
	cd tests/bench/gohttp && CGO_ENABLED=1 go build -tags goshim -o ../../../$@ .

$(T)/installbench: tests/bench/installbench.c reporter/lastgasp.h $(B)/liblastgasp.a
	@mkdir -p $(T)
	$(CC) $(CRASHER_CFLAGS) -Ireporter -o $@ $< $(B)/liblastgasp.a -lpthread -ldl

$(T)/tripwire.so: tests/crash/tripwire.c
	@mkdir -p $(T)
	$(CC) -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -shared -fPIC -o $@ $< -ldl

# The handler path and install code under a sanitizer (tests/hardening/test_sanitizers.py runs the crash matrix
# with them): each source compiled with the flags it ships with, plus the sanitizer, into build/san/<kind>/, never
# build/obj/, so the shipped objects and tests/check_symbols.sh do not see these flags. The .so names its
# sanitizer runtime itself (gcc links it when -shared is given -fsanitize), so an uninstrumented program can preload
# it; crasher_linked-<kind> links the same objects into an uninstrumented crasher.c (its crashes are undefined
# behaviour on purpose).
SAN_NOT_SAFE := $(INSTALL_SRC) reporter/preload/preload.c
SAN_LIB_SRC := $(SAFE_SRC) $(SAFE_ASM) $(SAN_NOT_SAFE)
san_obj = $(patsubst %.S,$(B)/san/$(1)/%.o,$(patsubst %.c,$(B)/san/$(1)/%.o,$(2)))
san_cflags = $(if $(filter $<,$(SAN_NOT_SAFE)),$(CFLAGS_LIB),$(CFLAGS_SAFE)) -fno-sanitize-recover=all
SAN_LINK := -shared -Wl,-z,now -Wl,-z,relro -Wl,--version-script=reporter/exports.map
san: $(B)/san/liblastgasp-ubsan.so $(B)/san/liblastgasp-asan.so $(B)/san/crasher_linked-ubsan \
     $(B)/san/crasher_linked-asan
$(B)/san/ubsan/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(san_cflags) -fsanitize=undefined -c $< -o $@
$(B)/san/asan/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(san_cflags) -fsanitize=address -c $< -o $@
$(B)/san/ubsan/%.o: %.S
	@mkdir -p $(dir $@)
	$(CC) -c $< -o $@
$(B)/san/asan/%.o: %.S
	@mkdir -p $(dir $@)
	$(CC) -c $< -o $@
$(B)/san/liblastgasp-ubsan.so: $(call san_obj,ubsan,$(SAN_LIB_SRC)) reporter/exports.map
	$(CC) $(SAN_LINK) -fsanitize=undefined -o $@ $(filter %.o,$^) -ldl -lpthread
$(B)/san/liblastgasp-asan.so: $(call san_obj,asan,$(SAN_LIB_SRC)) reporter/exports.map
	$(CC) $(SAN_LINK) -fsanitize=address -o $@ $(filter %.o,$^) -ldl -lpthread
$(B)/san/crasher_linked.o: tests/crash/crasher.c
	@mkdir -p $(dir $@)
	$(CC) $(CRASHER_CFLAGS) -DCRASHER_LINKED -c -o $@ $<
$(B)/san/crasher_linked-ubsan: $(B)/san/crasher_linked.o \
                            $(call san_obj,ubsan,$(filter-out reporter/preload/preload.c,$(SAN_LIB_SRC)))
	$(CC) -fsanitize=undefined -o $@ $^ -lpthread -ldl
$(B)/san/crasher_linked-asan: $(B)/san/crasher_linked.o \
                            $(call san_obj,asan,$(filter-out reporter/preload/preload.c,$(SAN_LIB_SRC)))
	$(CC) -fsanitize=address -o $@ $^ -lpthread -ldl

ifeq ($(LIBC),musl)
# The musl suite's programs (tests/crash/test_musl.py), into build/musl/tests/: the C crasher, linked and
# preloaded, the tripwire, and the two cgo programs built with CC=musl-gcc (exported to go build).
export CC
export CGO_LDFLAGS := $(LIB_LDFLAGS)
CRASHER_CFLAGS += -isystem $(B)/kinc $(LIB_LDFLAGS)
$(T)/crasher $(T)/crasher_linked $(T)/tripwire.so: $(MUSL_KINC)
musl-test-bins: $(T)/crasher $(T)/crasher_linked $(T)/tripwire.so $(T)/cgocrash $(T)/gopanic
$(T)/gopanic: tests/crash/gopanic/main.go tests/crash/gopanic/go.mod
	@mkdir -p $(T)
	cd tests/crash/gopanic && CGO_ENABLED=1 go build -o ../../../$@ .
ifdef MUSL_SPECS
# arm64 musl: the Go programs for GOARCH=arm64, and goshim's way in too: tests/go/matrix without and with
# -tags goshim, both linked by the musl compiler (the program's own C makes cgo link externally, with CC).
# goshim's C reaches the kernel's headers as the library's does (kinc; on Alpine, the linux-headers package).
export GOARCH := arm64
export CGO_CFLAGS := $(CGO_CFLAGS) -isystem $(CURDIR)/$(B)/kinc
musl-test-bins: $(T)/matrix $(T)/matrix_goshim
$(T)/matrix: $(wildcard tests/go/matrix/*.go tests/go/matrix/*.c) tests/go/matrix/go.mod
	@mkdir -p $(T)
	cd tests/go/matrix && CGO_ENABLED=1 go build -o ../../../$@ .
$(T)/matrix_goshim: $(wildcard tests/go/matrix/*.go tests/go/matrix/*.c) tests/go/matrix/go.mod \
                    $(wildcard goshim/*.go goshim/*/*.go) $(SAFE_SRC) $(INSTALL_SRC) $(HEADERS) $(MUSL_KINC)
	@mkdir -p $(T)
	cd tests/go/matrix && CGO_ENABLED=1 go build -tags goshim -o ../../../$@ .
endif
else
musl-test-bins:
	$(MAKE) LIBC=musl all musl-test-bins
endif

ifeq ($(ARCH),arm64)
# The arm64 suite's programs (tests/crash/test_arm64.py, run under qemu-user), into build/arm64/tests/: the C
# crasher, linked and preloaded, the tripwire, and the unit tests that exercise the architecture's code
# (sigsafe/aarch64/, reporter/aarch64/ and the CFI walk), on the shipped handler objects.
arm64-test-bins: $(T)/crasher $(T)/crasher_linked $(T)/tripwire.so $(T)/unit/test_unwind \
                 $(patsubst tests/unit/%.c,$(T)/unit/%,$(wildcard tests/unit/sigsafe/test_*.c))
else
arm64-test-bins:
	$(MAKE) ARCH=arm64 all arm64-test-bins
endif

# The hardening suite's programs (tests/hardening/*.c): one program per file, found by folder.
HARDENING_BINS := $(patsubst tests/hardening/%.c,$(T)/hardening/%,$(wildcard tests/hardening/*.c))
hardening-bins: $(HARDENING_BINS)
$(T)/hardening/%: tests/hardening/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CRASHER_CFLAGS) -o $@ $< -lpthread -ldl

# ---- unit tests: the shipped handler objects themselves, and sanitized builds from source ----
# Found by folder (make check runs them all; tests/one.sh runs one file's): tests/unit/test_X.c is
# build/tests/unit/test_X, linked as its rule below says; tests/unit/sigsafe/test_X.c tests sigsafe/X.c (test_jmp.c
# the architecture's jmp.S) and links the shipped sigsafe objects, and test_X_asan is the same test with the
# sigsafe sources built from source under ASan and UBSan.
U := $(T)/unit
SAN := -fsanitize=address,undefined -fno-sanitize-recover=all
SIGSAFE_OBJ := $(filter $(B)/obj/sigsafe/%,$(SAFE_OBJ))
SIGSAFE_SRC := $(filter sigsafe/%,$(SAFE_SRC) $(SAFE_ASM))
UNIT_SIGSAFE := $(patsubst tests/unit/%.c,$(U)/%,$(sort $(wildcard tests/unit/sigsafe/test_*.c)))
UNIT_BINS := $(patsubst tests/unit/%.c,$(U)/%,$(sort $(wildcard tests/unit/test_*.c))) $(U)/test_annotate_tsan \
             $(UNIT_SIGSAFE) $(UNIT_SIGSAFE:%=%_asan)
unit-bins: $(UNIT_BINS)
UNWIND_OBJ := $(addprefix $(B)/obj/reporter/,unwind.o unwind_cfi.o $(ARCH_DIR)/unwind.o $(ARCH_DIR)/unwind_cfi.o \
                symbols.o modules.o) $(B)/obj/formats/minidump/buildid.o

$(U)/sigsafe/test_%: tests/unit/sigsafe/test_%.c tests/unit/check.h tests/unit/sigsafe/sstest.h $(SIGSAFE_OBJ) \
                     $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) -o $@ $< $(SIGSAFE_OBJ) -lpthread

$(U)/sigsafe/test_%_asan: tests/unit/sigsafe/test_%.c tests/unit/check.h tests/unit/sigsafe/sstest.h $(SIGSAFE_SRC) \
                          $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(filter-out -O2,$(CFLAGS_SAFE)) -O1 $(SAN) -o $@ $< $(SIGSAFE_SRC) -lpthread

$(U)/test_mdread: tests/unit/test_mdread.c $(READER_SRC) $(HEADERS)
	@mkdir -p $(U)
	$(CC) $(CFLAGS_BASE) $(SAN) -o $@ $< $(READER_SRC)

$(U)/test_render: tests/unit/test_render.c tests/unit/render_fixtures.h $(READER_SRC) $(RENDER_SRC) $(HEADERS)
	@mkdir -p $(U)
	$(CC) $(CFLAGS_BASE) $(SAN) -o $@ $< $(READER_SRC) $(RENDER_SRC)

# The JSON writer and reader (formats/json/): escaping against references, limits, misuse, malformed input.
JSON_SRC := $(sort $(wildcard formats/json/*.c))
$(U)/test_json: tests/unit/test_json.c $(JSON_SRC) $(HEADERS)
	@mkdir -p $(U)
	$(CC) $(CFLAGS_BASE) $(SAN) -o $@ $< $(JSON_SRC)

# The state file of `lastgasp watch` (formats/ship/spool.c): written, read back, old files, damaged files.
$(U)/test_watch_state: tests/unit/test_watch_state.c formats/ship/spool.c $(JSON_SRC) $(HEADERS)
	@mkdir -p $(U)
	$(CC) $(CFLAGS_BASE) $(SAN) -o $@ $< formats/ship/spool.c $(JSON_SRC)

# foreign dumps: every architecture's context and the tool's stack walk, through show and json
$(U)/test_walk: tests/unit/test_walk.c $(READER_SRC) $(RENDER_SRC) $(HEADERS)
	@mkdir -p $(U)
	$(CC) $(CFLAGS_BASE) $(SAN) -o $@ $< $(READER_SRC) $(RENDER_SRC)

# lastgasp html: escaping, what a missing value leaves out, grouping, the caps (and the page check the fuzzer uses)
$(U)/test_render_html: tests/unit/test_render_html.c tests/unit/render_fixtures.h tests/unit/html_check.h \
                       $(READER_SRC) $(RENDER_SRC) $(HEADERS)
	@mkdir -p $(U)
	$(CC) $(CFLAGS_BASE) $(SAN) -o $@ $< $(READER_SRC) $(RENDER_SRC)

# lastgasp pprof: the protobuf encoder against known encodings, the profile of a fixture decoded back, gzip.
$(U)/test_pprof: tests/unit/test_pprof.c tests/unit/render_fixtures.h tests/unit/pb_check.h $(READER_SRC) \
                 $(RENDER_SRC) $(PPROF_SRC) $(HEADERS)
	@mkdir -p $(U)
	$(CC) $(CFLAGS_BASE) $(SAN) -o $@ $< $(READER_SRC) $(RENDER_SRC) $(filter-out %/write.c,$(PPROF_SRC)) -lz

# The writer as shipped (handler objects) feeding the reader: every field round-trips.
$(U)/test_roundtrip: tests/unit/test_roundtrip.c $(READER_SRC) $(B)/obj/formats/minidump/mdwrite.o $(SIGSAFE_OBJ) $(HEADERS)
	@mkdir -p $(U)
	$(CC) $(CFLAGS_BASE) -o $@ $< $(READER_SRC) $(B)/obj/formats/minidump/mdwrite.o $(SIGSAFE_OBJ)

# The stack walk on this test's own frames, built without frame pointers so only CFI can succeed.
$(U)/test_unwind: tests/unit/test_unwind.c $(UNWIND_OBJ) $(SIGSAFE_OBJ) $(HEADERS)
	@mkdir -p $(U)
	$(CC) $(filter-out -fno-omit-frame-pointer,$(CFLAGS_BASE)) -fomit-frame-pointer -o $@ $< $(UNWIND_OBJ) \
	    $(SIGSAFE_OBJ) -lpthread

# The build-id note walk as shipped in the handler (and linked into the tool).
$(U)/test_buildid: tests/unit/test_buildid.c tests/unit/check.h $(B)/obj/formats/minidump/buildid.o $(HEADERS)
	@mkdir -p $(U)
	$(CC) $(CFLAGS_BASE) -o $@ $< $(B)/obj/formats/minidump/buildid.o

$(U)/test_sha256: tests/unit/test_sha256.c formats/bundle/sha256.c $(HEADERS)
	@mkdir -p $(U)
	$(CC) $(CFLAGS_BASE) $(SAN) -o $@ $< formats/bundle/sha256.c

# The Go reason reader as shipped (handler objects), on runtime structures the test lays out itself.
GO_REASON_OBJ := $(addprefix $(B)/obj/reporter/go/,go_reason.o go_offsets.o)
$(U)/test_go_reason: tests/unit/test_go_reason.c $(GO_REASON_OBJ) $(SIGSAFE_OBJ) $(HEADERS)
	@mkdir -p $(U)
	$(CC) $(CFLAGS_BASE) -o $@ $< $(GO_REASON_OBJ) $(SIGSAFE_OBJ)
# The annotation table: writer (install side) and the handler's lock-free copy, the shipped objects; then the
# same sources under ThreadSanitizer, which reports any data race between the writers and the copy.
ANNOTATE_OBJ := $(B)/obj/reporter/install/annotate.o $(B)/obj/reporter/annotate_read.o $(B)/obj/formats/minidump/mdwrite.o
$(U)/test_annotate: tests/unit/test_annotate.c $(ANNOTATE_OBJ) $(SIGSAFE_OBJ) $(READER_SRC) $(HEADERS)
	@mkdir -p $(U)
	$(CC) $(CFLAGS_BASE) -o $@ $< $(ANNOTATE_OBJ) $(SIGSAFE_OBJ) $(READER_SRC) -lpthread

# -Wno-tsan: TSan does not model atomic_thread_fence; every access it must judge is an atomic or under the lock.
# (GCC's warning; clang has none, and GCC accepts any -Wno-X, so the probe asks for -Wtsan.)
NO_TSAN_WARNING := $(if $(call cc_flag,-Wtsan),-Wno-tsan)
$(U)/test_annotate_tsan: tests/unit/test_annotate.c reporter/install/annotate.c reporter/annotate_read.c formats/minidump/mdwrite.c \
                         $(wildcard sigsafe/*.c) $(READER_SRC) $(HEADERS)
	@mkdir -p $(U)
	$(CC) $(filter-out -O2,$(CFLAGS_BASE)) -O1 -fsanitize=thread $(NO_TSAN_WARNING) -o $@ $< reporter/install/annotate.c \
	    reporter/annotate_read.c formats/minidump/mdwrite.c $(wildcard sigsafe/*.c) sigsafe/x86_64/jmp.S $(READER_SRC) -lpthread

# The unwinder against libunwind (tests/unwind/README.md): one program per build variant of the generated chain,
# linked with the handler's unwind objects as shipped and with libunwind (deps.sh test installs libunwind-dev).
UNWDIFF_VARIANTS := O0-fp O0-nofp O2-fp O2-nofp
UW := $(T)/unwind
unwdiff_flags = $(if $(findstring O0,$(1)),-O0,-O2) \
                $(if $(findstring nofp,$(1)),-fomit-frame-pointer,-fno-omit-frame-pointer)
unwind-bins: $(UNWDIFF_VARIANTS:%=$(UW)/unwdiff-%) $(UNWDIFF_VARIANTS:%=$(UW)/libunwdiff_plt-%.so)
$(UW)/stacks.c: tests/unwind/gen_stacks.py
	@mkdir -p $(UW)
	python3 $< > $@
$(UW)/libunwdiff_plt-%.so: tests/unwind/plt_lib.c tests/unwind/unwdiff.h $(TOOL_SYSROOT_READY)
	@mkdir -p $(UW)
	$(CC) $(CRASHER_CFLAGS) $(TOOL_SYSROOT) $(call unwdiff_flags,$*) -shared -fPIC -Wl,-soname,$(notdir $@) -o $@ $<
$(UW)/unwdiff-%: tests/unwind/unwdiff.c tests/unwind/$(ARCH_DIR)/trace.c $(UW)/stacks.c \
                 $(UW)/libunwdiff_plt-%.so $(UNWIND_OBJ) $(SIGSAFE_OBJ) $(HEADERS) tests/unwind/unwdiff.h
	$(CC) $(CRASHER_CFLAGS) $(TOOL_SYSROOT) -Itests/unwind $(call unwdiff_flags,$*) -Wl,-z,now -Wl,-rpath,'$$ORIGIN' -o $@ \
	    tests/unwind/unwdiff.c tests/unwind/$(ARCH_DIR)/trace.c $(UW)/stacks.c $(UW)/libunwdiff_plt-$*.so \
	    $(UNWIND_OBJ) $(SIGSAFE_OBJ) -lunwind -lpthread
unwind-test: unwind-bins
	ARCH=$(ARCH) bash tests/unwind/run.sh

# The profile builder of `lastgasp pprof` and the crash-server event run on every input with a Go stream.
FUZZ_PPROF_SRC := $(filter-out %/gzip.c %/write.c,$(PPROF_SRC))
$(T)/fuzz_mdread: tests/fuzz/fuzz_mdread.c tests/unit/html_check.h tests/unit/pb_check.h $(READER_SRC) $(RENDER_SRC) \
                  $(FUZZ_PPROF_SRC) formats/ship/event.c $(HEADERS)
	@mkdir -p $(T)
	clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	    -o $@ $< $(READER_SRC) $(RENDER_SRC) $(FUZZ_PPROF_SRC) formats/ship/event.c

# ---- demo, tests, benchmarks ----
# Each installs what the build needs before building (demo.sh and run.sh do it themselves), so that they
# work on a fresh machine, where `all` alone would stop at the missing minizip headers.
deps:
	bash tests/tools/deps.sh

demo:
	bash tests/demo.sh

test:
	bash tests/run.sh

check:
	bash tests/check.sh

test-one:
	bash tests/one.sh $(TEST)

bench:
	bash tests/tools/deps.sh build
	$(MAKE) -s all
	bash tests/bench/run.sh

FUZZ_SECONDS ?= 600
fuzz:
	bash tests/tools/deps.sh build
	$(MAKE) -s all
	bash tests/fuzz/run.sh $(FUZZ_SECONDS)

# goshim's C units include the sources listed above; regenerate them after adding or moving a source.
goshim-unity:
	bash tests/goshim_unity.sh

clean:
	rm -rf $(B)

.PHONY: goshim-unity all install uninstall deps test-bins musl-test-bins arm64-test-bins hardening-bins san unit-bins \
        unwind-bins unwind-test demo test check test-one bench fuzz clean
