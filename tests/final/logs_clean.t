#!/usr/bin/perl

# logs_clean.t: runs last.  After every suite has driven the stack, its logs
# show no sanitizer report, no worker death other than the one killed on
# purpose (and the one broken upgrade of upgrade_fcgi.t), and no nginx
# alert: a failure hidden behind a retry still fails the run.

use strict;
use warnings;

use Test::More;

my $var = $ENV{DGJ_VAR} or die "DGJ_VAR is not set: run make test\n";

sub slurp {
    my ($f) = @_;

    open(my $fh, '<', $f) or return '';
    local $/;

    return scalar <$fh>;
}

my $fcgi = join '', map { slurp($_) } glob("$var/log/fcgi/*");
my $nginx = slurp("$var/log/nginx/error.log");

unlike($fcgi, qr/AddressSanitizer|LeakSanitizer|runtime error:/,
       'logs-1.1: no sanitizer report from any FastCGI process');

my @deaths = grep { !/killed by signal 9\b/ }
             ($fcgi =~ /^.*(?:killed by signal|exited with status [1-9]).*$/mg);

# upgrade_fcgi.t installs, once, a "new binary" that exits 1 at start
my $broken = 0;
@deaths = grep {
    !(/upgrade failed: new supervisor \d+ exited with status 1 / && !$broken++)
} @deaths;
is(scalar @deaths, 0,
   'logs-1.2: no worker crashed or failed (only the SIGKILL of the fault test)')
    or diag(join "\n", @deaths);

my @refused = ($fcgi =~ /^.*reload failed.*$/mg);
is(scalar @refused, 0,
   'logs-1.3: every pool reload was taken (none refused, e.g. for an '
   . 'unreadable password file after dropping privileges)')
    or diag(join "\n", @refused);

my @alerts = ($nginx =~ /^.*\[(?:alert|crit|emerg)\].*$/mg);
is(scalar @alerts, 0, 'logs-2.1: nginx logged no alert, crit or emerg')
    or diag(join "\n", @alerts[0 .. ($#alerts < 4 ? $#alerts : 4)]);

my @lua = ($nginx =~ /^.*(?:lua entry thread aborted|runtime error).*$/mg);
is(scalar @lua, 0, 'logs-2.2: no Lua page raised an error')
    or diag(join "\n", @lua);

done_testing();
