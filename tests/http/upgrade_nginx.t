#!/usr/bin/perl

# upgrade_nginx.t: an upgrade in place -- the dgj module rebuilt while nginx
# runs, then `make upgrade` -- loses no request and puts the new module in
# service.  Bugs this guards: the .so used to be copied over the mapped
# file, and the running master crashed (SIGSEGV) at its next reload,
# orphaning its workers; and a reload alone keeps the old module loaded.

use strict;
use warnings;

use Test::More;
use DgjTest qw(stack wait_until http base_url);
use DgjPool qw(read_pid start_load finish_load);

my $root = $ENV{DGJ_ROOT};
my $so = "$root/build/modules/ngx_http_dgj_module.so";
my $src = "$root/modules/ngx_http_dgj_module/ngx_http_dgj_audit_module.c";

sub maps_of_a_worker {
    my ($master) = @_;

    my @workers = split ' ', `pgrep -P $master`;
    open(my $mf, '<', "/proc/$workers[0]/maps") or return '';
    local $/;

    return scalar <$mf>;
}

my $old = read_pid('nginx.pid');
ok($old && kill(0, $old), 'upg-1.0: the gateway runs');
my $inode = (stat $so)[1];

utime(undef, undef, $src) or die "touch $src: $!";
my $out = `make -C $root module 2>&1`;
is($?, 0, 'upg-1.1: the module rebuilds while nginx runs') or diag($out);
isnt((stat $so)[1], $inode,
     'upg-1.2: the new module is a new file, not written over the mapped one');
ok(kill(0, $old), 'upg-1.3: the running master is unharmed by the rebuild');
like(maps_of_a_worker($old), qr/ngx_http_dgj_module\.so \(deleted\)/,
     'upg-1.4: until the upgrade, the workers run the replaced module');

my $load = start_load(base_url() . '/', 5);
select(undef, undef, undef, 1.0);
ok(stack('upgrade'), 'upg-2.1: the upgrade command succeeds');
my @statuses = finish_load($load);
cmp_ok(scalar @statuses, '>', 20, 'upg-2.2: pages were served during it');
my @bad = grep { !/^200\b/ } @statuses;
is(scalar @bad, 0, 'upg-2.3: no request failed during the upgrade')
    or diag(join "\n", @bad[0 .. ($#bad < 4 ? $#bad : 4)]);

my $new = read_pid('nginx.pid');
isnt($new, $old, 'upg-3.1: a new nginx master serves');
ok(wait_until(10, sub { !kill(0, $old) }), 'upg-3.2: the old master is gone');
ok(!-e "$ENV{DGJ_VAR}/run/nginx.pid.oldbin", 'upg-3.3: no stale .oldbin');

my $maps = maps_of_a_worker($new);
like($maps, qr/ngx_http_dgj_module\.so$/m,
     'upg-3.4: the new workers map the module file now on disk');
unlike($maps, qr/ngx_http_dgj_module\.so \(deleted\)/,
       'upg-3.5: no worker runs the replaced module');

my $res = http()->get(base_url() . '/');
is($res->{status}, 200, 'upg-3.6: the home page answers after the upgrade');

ok(stack('stop-nginx') && stack('start-nginx'),
   'upg-4.1: the upgraded nginx stops and starts by its pid file');

done_testing();
