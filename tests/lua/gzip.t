#!/usr/bin/perl

# tests/lua/gzip.t: the unit tests of dgj.gzip (tests/lua/test_gzip.lua),
# under the `luajit` CLI.

use strict;
use warnings;

use DgjLua qw(exec_lua_test);

exec_lua_test('test_gzip.lua');
