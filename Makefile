# Daguanjia top-level build: configure -> nginx module -> FastCGI workers ->
# unit tests -> npm test tools; and the stack commands run / stop / reload /
# test / bench.  See README.md.

SHELL := /bin/sh
.DEFAULT_GOAL := all

# build/config.mk is remade (installing missing packages) when absent or
# older than configure; make then restarts with it included.  Stopping and
# cleaning never configure.
ifeq ($(filter-out stop status clean distclean style backup restore rotate-logs rotate-keys audit-retention,$(or $(MAKECMDGOALS),all)),)
-include build/config.mk
else
include build/config.mk

build/config.mk: configure
	./configure --install-deps
endif

CC ?= cc
SANITIZE ?=
PORT ?= 8080
export PORT

CFLAGS_BASE = -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -O2 -g \
              -fstack-protector-strong -D_FORTIFY_SOURCE=2
ifeq ($(SANITIZE),1)
CFLAGS_BASE = -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -O1 -g \
              -fno-omit-frame-pointer -fsanitize=address,undefined \
              -fno-sanitize-recover=undefined
LDFLAGS_SAN = -fsanitize=address,undefined
BUILD_FLAVOUR = san
else
LDFLAGS_SAN =
BUILD_FLAVOUR = release
endif

OBJDIR = build/obj/$(BUILD_FLAVOUR)
BINDIR = build/bin
# fcgi/tools/ holds command-line tools with their own main(): not linked
# into dgj-fcgi or the tests
TOOL_SRCS = $(wildcard fcgi/tools/*.c)
FCGI_DIRS = $(sort $(dir $(filter-out $(TOOL_SRCS),$(wildcard fcgi/*/*.c))))
# nginx-free C shared by the module and the workers (dgj_token.c)
SHARED_DIR = modules/ngx_http_dgj_module
SHARED_SRCS = $(wildcard $(SHARED_DIR)/dgj_*.c)
FCGI_SRCS = $(filter-out $(TOOL_SRCS),$(wildcard fcgi/*/*.c)) $(SHARED_SRCS)
FCGI_HDRS = $(wildcard fcgi/*/*.h) $(wildcard $(SHARED_DIR)/dgj_*.h)
SHARED_OBJS = $(patsubst %.c,$(OBJDIR)/%.o,$(SHARED_SRCS))
FCGI_OBJS = $(patsubst %.c,$(OBJDIR)/%.o,$(FCGI_SRCS))
FCGI_LIB_OBJS = $(filter-out $(OBJDIR)/fcgi/core/dgj_main.o,$(FCGI_OBJS))
FCGI_INCS = $(patsubst %/,-I%,$(FCGI_DIRS)) -I$(SHARED_DIR)

UNIT_SRCS = $(wildcard tests/unit/test_*.c)
# testhelp.h and the shared fixtures (test_cal2026.h) of the C tests
TEST_HDRS = $(wildcard tests/unit/*.h)
UNIT_BINS = $(patsubst tests/unit/%.c,build/tests/unit/%,$(UNIT_SRCS))

# C tests against the test stack's MariaDB (run by tests/run after start)
DB_TEST_SRCS = $(wildcard tests/db/test_*.c)
DB_TEST_BINS = $(patsubst tests/db/%.c,build/tests/db/%,$(DB_TEST_SRCS))

# keep the test objects (made by chained rules) so a rebuild is incremental
.SECONDARY: $(patsubst tests/%.c,$(OBJDIR)/tests/%.o,$(UNIT_SRCS) \
                                                     $(DB_TEST_SRCS))

BENCH_BINS = build/bin/dgj-bench-hello build/bin/dgj-bench-submit \
             build/bin/dgj-gen-appeals build/bin/dgj-bench-pair

MODULE_SRCS = $(wildcard modules/ngx_http_dgj_module/*)
MODULE_SO = build/modules/ngx_http_dgj_module.so
NGX_BUILD = build/nginx-src
# nginx names a multi-module .so after the first name in its config.
NGX_SO_NAME = $(firstword $(shell sed -n 's/^ *ngx_module_name="\(.*\)"$$/\1/p' \
                  modules/ngx_http_dgj_module/config))

.PHONY: all fcgi tools module unit npm run stop reload status test bench \
        style clean distclean rotate-logs backup restore upgrade \
        rotate-keys fuzz audit-retention

all: module fcgi tools unit npm

fcgi: $(BINDIR)/dgj-fcgi
tools: $(BINDIR)/dgj-token $(BINDIR)/dgj-audit
module: $(MODULE_SO)
unit: $(UNIT_BINS) $(DB_TEST_BINS)

# The sanitizer flavour is a separate object tree; the binary is swapped
# in place, so a SANITIZE=1 build and a normal one never mix objects.
$(BINDIR)/dgj-fcgi: $(FCGI_OBJS) build/.flavour-$(BUILD_FLAVOUR)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_SAN) -o $@ $(FCGI_OBJS) $(DEPS_LIBS)

# dgj-token: mint, verify, CSRF tokens and new keys (dgj_token.c only)
$(BINDIR)/dgj-token: $(OBJDIR)/fcgi/tools/dgj_token_tool.o $(SHARED_OBJS) \
                     build/.flavour-$(BUILD_FLAVOUR)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_SAN) -o $@ $< $(SHARED_OBJS) -lcrypto

# dgj-audit: audit keys, verifier, ingester (dgj_db), shipper
AUDIT_TOOL_OBJS = $(OBJDIR)/fcgi/tools/dgj_audit_lines.o \
                  $(OBJDIR)/fcgi/tools/dgj_audit_order.o \
                  $(OBJDIR)/fcgi/tools/dgj_audit_received.o

$(BINDIR)/dgj-audit: $(OBJDIR)/fcgi/tools/dgj_audit_tool.o $(AUDIT_TOOL_OBJS) \
                     $(FCGI_LIB_OBJS) build/.flavour-$(BUILD_FLAVOUR)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_SAN) -o $@ $< $(AUDIT_TOOL_OBJS) $(FCGI_LIB_OBJS) \
	    $(DEPS_LIBS)

$(OBJDIR)/fcgi/tools/dgj_audit_tool.o: CFLAGS_BASE += $(FCGI_INCS) $(DEPS_CFLAGS)
$(AUDIT_TOOL_OBJS): CFLAGS_BASE += $(FCGI_INCS)

$(OBJDIR)/fcgi/tools/%.o: fcgi/tools/%.c $(FCGI_HDRS) build/config.mk
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) -I$(SHARED_DIR) -c -o $@ $<

build/.flavour-$(BUILD_FLAVOUR):
	@mkdir -p build
	rm -f build/.flavour-*
	touch $@

$(OBJDIR)/%.o: %.c $(FCGI_HDRS) build/config.mk
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) $(FCGI_INCS) -Itests/unit $(DEPS_CFLAGS) -c -o $@ $<

build/tests/unit/%: $(OBJDIR)/tests/unit/%.o $(FCGI_LIB_OBJS) \
                    build/.flavour-$(BUILD_FLAVOUR)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_SAN) -o $@ $< $(FCGI_LIB_OBJS) $(DEPS_LIBS)

$(OBJDIR)/tests/unit/%.o: tests/unit/%.c $(TEST_HDRS) $(FCGI_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) $(FCGI_INCS) -Itests/unit $(DEPS_CFLAGS) -c -o $@ $<

build/tests/db/%: $(OBJDIR)/tests/db/%.o $(FCGI_LIB_OBJS) \
                  build/.flavour-$(BUILD_FLAVOUR)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_SAN) -o $@ $< $(FCGI_LIB_OBJS) $(DEPS_LIBS)

$(OBJDIR)/tests/db/%.o: tests/db/%.c $(TEST_HDRS) $(FCGI_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) $(FCGI_INCS) -Itests/unit $(DEPS_CFLAGS) -c -o $@ $<

# The module is built in a private copy of Debian's nginx source tree,
# configured with the packaged binary's own flags plus our addon, so the .so
# carries the same compatibility signature as /usr/sbin/nginx.
$(NGX_BUILD)/objs/Makefile: build/config.mk modules/ngx_http_dgj_module/config
	rm -rf $(NGX_BUILD)
	mkdir -p build
	cp -a $(NGINX_SRC) $(NGX_BUILD)
	cd $(NGX_BUILD) && ./configure $(NGINX_CONF_FLAGS) \
	    --add-dynamic-module=$(DGJ_ROOT)/modules/ngx_http_dgj_module \
	    > $(DGJ_ROOT)/build/nginx-configure.log 2>&1 \
	  || { tail -20 $(DGJ_ROOT)/build/nginx-configure.log; exit 1; }

# Installed by rename, never copied over: a running nginx has the old file
# mapped, and rewriting it in place would crash it at the next reload.
$(MODULE_SO): $(NGX_BUILD)/objs/Makefile $(MODULE_SRCS)
	$(MAKE) -C $(NGX_BUILD) -f objs/Makefile modules \
	    CFLAGS="$$(sed -n 's/^CFLAGS = //p' $(NGX_BUILD)/objs/Makefile) -Werror"
	@mkdir -p $(dir $@)
	cp $(NGX_BUILD)/objs/$(NGX_SO_NAME).so $@.tmp
	mv -f $@.tmp $@

# Test tools from npm (playwright-core), pinned by package-lock.json.
npm: node_modules/.package-lock.json html/static/vendor/weui.min.css

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# WeUI (the WeChat column's look, docs/portal.md) is served from a copy
# under html/static/vendor/ (not in git), made from the pinned npm package.
html/static/vendor/weui.min.css: node_modules/.package-lock.json
	@mkdir -p $(dir $@)
	cp node_modules/weui/dist/style/weui.min.css $@.tmp
	mv -f $@.tmp $@

build/bin/dgj-bench-hello: tests/bench/dgj_bench_hello.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) -o $@ $< -lfcgi

# the submission row's baseline: the same transaction straight on MariaDB
build/bin/dgj-bench-submit: tests/bench/dgj_bench_submit.c build/config.mk
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) $(DEPS_CFLAGS) -pthread -o $@ $< -lmariadb \
	    -lcrypto

# two URLs timed request by request on the same connections (paired rows)
build/bin/dgj-bench-pair: tests/bench/dgj_bench_pair.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) -pthread -o $@ $<

# LOAD DATA files of a million generated appeals for the inbox rows
build/bin/dgj-gen-appeals: tests/bench/gen_appeals.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) -o $@ $< -lcrypto

run: all
	sh conf/stack.sh start
	sh conf/stack.sh demo-appeals
	@sh conf/stack.sh banner

stop:
	@if [ -f build/config.mk ]; then sh conf/stack.sh stop; fi

reload: all
	sh conf/stack.sh reload

upgrade: all
	sh conf/stack.sh upgrade

status:
	sh conf/stack.sh status

rotate-logs:
	sh conf/stack.sh reopen

# audit_records keeps DGJ_AUDIT_KEEP_DAYS (>= 184) days; run daily from cron
# (docs/operations.md#audit-log)
audit-retention:
	sh conf/stack.sh audit-retention

# new token signing key, verified everywhere before it signs (no reload
# of code: the key ring is configuration)
rotate-keys:
	sh conf/stack.sh rotate-keys

backup:
	sh conf/stack.sh backup

restore:
	sh conf/stack.sh restore "$(BACKUP)"

test: all
	sh tests/run

# libFuzzer on dgj_token (verify, CSRF, key-file parse) with ASan+UBSan;
# not part of make test.  clang and its runtime (libFuzzer is in Debian's
# libclang-rt-14-dev) are installed on demand.
FUZZ_SECONDS ?= 60
FUZZ_BIN = build/fuzz/fuzz_token

fuzz: $(FUZZ_BIN) $(BINDIR)/dgj-token
	@mkdir -p build/fuzz/corpus
	cp tests/fuzz/fuzz.keys build/fuzz/corpus/seed-keys
	$(BINDIR)/dgj-token mint --keys tests/fuzz/fuzz.keys --user 42 \
	    --roles intake,reviewer --dept 7 --ttl 600 --iat 1800000000 \
	    --session 00112233445566778899aabbccddeeff \
	    | tr -d '\n' > build/fuzz/corpus/seed-token
	$(FUZZ_BIN) -max_total_time=$(FUZZ_SECONDS) -max_len=2048 \
	    -print_final_stats=1 build/fuzz/corpus

$(FUZZ_BIN): tests/fuzz/fuzz_token.c $(SHARED_DIR)/dgj_token.c \
             $(SHARED_DIR)/dgj_token.h
	@if ! command -v clang >/dev/null \
	    || ! dpkg -s libclang-rt-14-dev >/dev/null 2>&1; then \
	    apt-get install -y --no-install-recommends clang \
	        libclang-rt-14-dev; \
	fi
	@mkdir -p $(dir $@)
	clang -g -O1 -fsanitize=fuzzer,address,undefined \
	    -fno-sanitize-recover=undefined -I$(SHARED_DIR) -o $@ \
	    tests/fuzz/fuzz_token.c $(SHARED_DIR)/dgj_token.c -lcrypto

bench: all $(BENCH_BINS)
	sh tests/bench/run

style:
	sh tests/style.sh

clean:
	rm -rf build/obj build/bin build/tests build/modules build/nginx-src \
	       build/.flavour-*

distclean: stop
	rm -rf build node_modules
