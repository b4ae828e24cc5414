#!/usr/bin/perl

# tests/lua/template.t: the pure-Lua unit tests of dgj.template
# (tests/lua/test_template.lua), under the `luajit` CLI.

use strict;
use warnings;

use DgjLua qw(exec_lua_test);

exec_lua_test('test_template.lua');
