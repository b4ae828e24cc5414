#!/usr/bin/perl

# tests/browser/portal.t: runs the browser test of the public portal and the
# WeChat column (tests/browser/portal.mjs, playwright-core + Debian
# Chromium) under node so that prove counts it.  Nothing is skipped.

use strict;
use warnings;

use File::Basename qw(dirname);
use File::Spec;

my $dir = File::Spec->rel2abs(dirname(__FILE__));
my $script = File::Spec->catfile($dir, 'portal.mjs');
my $node = $ENV{DGJ_NODE} || 'node';

$| = 1;

exec { $node } $node, $script
    or do {
        print "1..1\n";
        print "not ok 1 - run $node $script: $!"
            . " (install the Debian package nodejs)\n";
        exit 1;
    };
