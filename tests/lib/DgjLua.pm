package DgjLua;

# tests/lib/DgjLua.pm: runs one pure-Lua unit test script (tests/lua/
# test_*.lua) under the `luajit` CLI (Debian package luajit2, the LuaJIT
# that nginx uses) in place of the calling .t file, so that its TAP goes
# straight to prove.  A missing luajit fails the test; nothing is skipped.

use strict;
use warnings;

use Exporter qw(import);
use File::Basename qw(dirname);
use File::Spec;

our @EXPORT_OK = qw(exec_lua_test);


# exec_lua_test(SCRIPT): SCRIPT is a file name next to the caller's .t
sub exec_lua_test {
    my ($name) = @_;

    my $dir = File::Spec->rel2abs(dirname((caller)[1]));
    my $script = File::Spec->catfile($dir, $name);
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
}

1;
