#!/usr/bin/perl

# limit_config.t: bad dgj_limit* directive values fail `nginx -t` with a
# clear message; a zone whose size changes on reload is refused with an
# emergency message (its state would be lost) while nginx serves on.
# Runs its own small nginx, not the stack.

use strict;
use warnings;

use File::Temp qw(tempdir);
use HTTP::Tiny;
use IO::Socket::INET;
use Test::More;
use Time::HiRes qw(sleep);
use DgjTest qw(wait_until);

my $root = $ENV{DGJ_ROOT} or die "DGJ_ROOT is not set: run make test\n";
my $so   = "$root/build/modules/ngx_http_dgj_module.so";
my $dir  = tempdir(CLEANUP => 1);
my $port = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1')
               ->sockport;

sub write_conf {
    my ($http, $loc) = @_;

    open(my $fh, '>', "$dir/nginx.conf") or die $!;
    print $fh <<"CONF";
error_log $dir/error.log notice;
pid $dir/nginx.pid;
load_module $so;
events { worker_connections 64; }
http {
    access_log off;
    $http
    server {
        listen 127.0.0.1:$port;
        location / { $loc empty_gif; }
    }
}
CONF
    close($fh);
}

sub nginx {
    my (@args) = @_;
    my $out = `/usr/sbin/nginx -p $dir/ -c $dir/nginx.conf -e $dir/error.log @args 2>&1`;
    return ($? == 0, $out);
}

sub nginx_t {
    my ($http, $loc) = @_;
    write_conf($http, $loc // '');
    return nginx('-t');
}

my $zone = 'dgj_limit_zone name=z size=64k;';
my $rule = 'dgj_limit zone=z key=$binary_remote_addr rate=5r/s';

my ($ok, $out) = nginx_t($zone, "$rule burst=5 nodelay;");
ok($ok, 'conf-1.1: a good rule passes nginx -t') or diag($out);

my @bad = (
    [ $zone, 'dgj_limit zone=nope key=$binary_remote_addr rate=1r/s;',
      qr/unknown dgj_limit_zone "nope"/ ],
    [ $zone, 'dgj_limit zone=z key=$binary_remote_addr rate=abc;',
      qr/invalid rate "rate=abc": expected rate=Nr\/s or rate=Nr\/m/ ],
    [ $zone, 'dgj_limit zone=z key=$binary_remote_addr rate=0r/s;',
      qr/invalid rate "rate=0r\/s"/ ],
    [ $zone, 'dgj_limit zone=z key=$binary_remote_addr rate=5r/h;',
      qr/invalid rate "rate=5r\/h"/ ],
    [ $zone, "$rule burst=-1;", qr/invalid burst "burst=-1"/ ],
    [ $zone, "$rule delay=x;", qr/invalid delay "delay=x"/ ],
    [ $zone, "$rule fast;", qr/invalid parameter "fast"/ ],
    [ $zone, 'dgj_limit zone=z rate=1r/s;',
      qr/must have "zone=", "key=" and "rate="/ ],
    [ $zone, "$rule; $rule;", qr/is duplicate/ ],
    [ 'dgj_limit_zone name=z size=1k;', '', qr/zone "size=1k" is too small/ ],
    [ 'dgj_limit_zone name=z size=5000m;', '',
      qr/zone "size=5000m" is too large: at most 4194303k/ ],
    [ 'dgj_limit_zone size=1m;', '',
      qr/invalid number of arguments in "dgj_limit_zone"/ ],
    [ 'dgj_limit_zone size=1m size=2m;', '', qr/must have "name=" and "size="/ ],
    [ 'dgj_limit_zone name=z size=lots;', '', qr/invalid zone size/ ],
    [ "$zone $zone", '', qr/duplicate zone "z"/ ],
    [ $zone, "$rule; dgj_limit_allow 999.1.1.1;",
      qr/invalid address or CIDR "999.1.1.1"/ ],
    [ $zone, "$rule; dgj_limit_status_code 200;",
      qr/value must be between 400 and 599/ ],
    [ $zone, "$rule; dgj_limit_log_level loud;", qr/invalid value "loud"/ ],
    [ $zone, 'dgj_limit_role_multiplier nobody=2;', qr/unknown role in "nobody=2"/ ],
    [ $zone, 'dgj_limit_role_multiplier supervisor=x;',
      qr/invalid "supervisor=x": expected role=factor/ ],
    [ "$zone dgj_limit_auto_ban zone=z rejections=3 window=1m ban=1h;", '',
      qr/needs a "dgj_limit_ban_zone" before it/ ],
    [ "$zone dgj_limit_ban_zone b:1m; "
      . 'dgj_limit_auto_ban zone=z rejections=0 window=1m ban=1h;', '',
      qr/invalid "rejections=0"/ ],
    [ "$zone dgj_limit_ban_zone b:1m; "
      . 'dgj_limit_auto_ban zone=z rejections=3 window=soon ban=1h;', '',
      qr/invalid time in "window=soon"/ ],
    [ 'dgj_limit_ban_zone bans;', '', qr/invalid ban zone "bans": expected name:size/ ],
    [ 'dgj_limit_ban_zone b:1m path=/x;', '',
      qr/invalid parameter "path=\/x": expected file=path/ ],
);

for my $case (@bad) {
    my ($http, $loc, $want) = @$case;
    ($ok, $out) = nginx_t($http, $loc);
    ok(!$ok && $out =~ $want, "conf-2: refused: $http $loc")
        or diag($out);
}

# without the auth module's $dgj_roles, a multiplier is a config error;
# with it (the accounts issue), it is accepted

my ($has_roles) = nginx_t('', 'set $x $dgj_roles;');
($ok, $out) = nginx_t('', 'dgj_limit_role_multiplier supervisor=3 ops=10;');
if ($has_roles) {
    ok($ok, 'conf-3.1: role multipliers pass with the auth module') or diag($out);
    ($ok, $out) = nginx_t('', 'dgj_limit_role_multiplier off;');
    ok($ok, 'conf-3.3: "dgj_limit_role_multiplier off" passes') or diag($out);
} else {
    ok(!$ok && $out =~ /"dgj_limit_role_multiplier" needs the \$dgj_roles variable/,
       'conf-3.1: without $dgj_roles, a multiplier says what is missing')
        or diag($out);
}

# a variable named $dgj_roles (here from a map) is picked up
unless ($has_roles) {
    ($ok, $out) = nginx_t('map $http_x_roles $dgj_roles { default $http_x_roles; }',
                          'dgj_limit_role_multiplier supervisor=3;');
    ok($ok, 'conf-3.2: once $dgj_roles exists, the multiplier is accepted')
        or diag($out);
}

# conf-4: changing a zone's size on reload is refused; nginx serves on

write_conf("dgj_limit_zone name=z size=64k;",
           'dgj_limit zone=z key=$binary_remote_addr rate=1r/m nodelay;');
($ok, $out) = nginx();
ok($ok, 'conf-4.1: the small nginx starts') or diag($out);
wait_until(5, sub { -s "$dir/nginx.pid" });
my $get = sub { HTTP::Tiny->new->get("http://127.0.0.1:$port/")->{status} };
wait_until(5, sub { $get->() == 200 });
is($get->(), 429, 'conf-4.2: it limits (the second request is refused)');

write_conf("dgj_limit_zone name=z size=128k;",
           'dgj_limit zone=z key=$binary_remote_addr rate=1r/m nodelay;');
nginx('-s', 'reload');
my $log = '';
wait_until(10, sub {
    open(my $fh, '<', "$dir/error.log") or return 0;
    local $/;
    $log = <$fh>;
    return $log =~ /changes size/;
});
like($log, qr/\[emerg\].*dgj_limit_zone "z" changes size from 64k to 128k while nginx runs: its state would be lost/,
     'conf-4.3: the reload is refused with an emergency message');
is($get->(), 429, 'conf-4.4: the running nginx keeps its state');

nginx('-s', 'stop');
wait_until(10, sub { !-e "$dir/nginx.pid" });

done_testing();
