#!/usr/bin/perl

# tests/lua/audit_templates.t: runs tests/lua/test_audit_templates.lua (the
# auditor's console templates rendered with hostile records) under the
# `luajit` CLI and passes its TAP through to prove.  A missing luajit fails
# the test; nothing is skipped.

use strict;
use warnings;

use File::Basename qw(dirname);
use File::Spec;

my $dir = File::Spec->rel2abs(dirname(__FILE__));
my $script = File::Spec->catfile($dir, 'test_audit_templates.lua');
my $luajit = $ENV{DGJ_LUAJIT} || 'luajit';

$| = 1;

exec { $luajit } $luajit, $script
    or do {
        print "1..1\n";
        print "not ok 1 - run $luajit $script: $!"
            . " (install the Debian package luajit2:"
            . " ./configure --install-deps)\n";
        exit 1;
    };
