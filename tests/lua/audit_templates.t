#!/usr/bin/perl

# tests/lua/audit_templates.t: the auditor's console templates rendered
# with hostile records (tests/lua/test_audit_templates.lua), under the
# `luajit` CLI.

use strict;
use warnings;

use DgjLua qw(exec_lua_test);

exec_lua_test('test_audit_templates.lua');
