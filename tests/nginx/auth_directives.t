#!/usr/bin/perl

# auth_directives.t: every dgj_auth* directive refuses its bad values at
# `nginx -t` with a message naming the problem (and the key file's line),
# and a complete good configuration passes.

use strict;
use warnings;

use File::Temp qw(tempdir);
use Test::More;

my $root = $ENV{DGJ_ROOT} or die "DGJ_ROOT is not set: run make test\n";
my $so   = "$root/build/modules/ngx_http_dgj_module.so";
my $dir  = tempdir(CLEANUP => 1);
my $key  = 'ab' x 32;

sub write_file {
    my ($name, $text) = @_;

    open(my $fh, '>', "$dir/$name") or die "$dir/$name: $!";
    print $fh $text;
    close($fh);
}

write_file('good.keys', "# ring\nk1 hmac-sha256 $key\nk2 hmac-sm3 $key sign\n");
write_file('bad.keys', "k1 hmac-sha256 $key sign\n\nk2 hmac-sha1 $key\n");
write_file('nosign.keys', "k1 hmac-sha256 $key\n");
write_file('revoked.list', ('0' x 32) . " 4000000000\nnonsense\n");
write_file('many.list',
           join('', map { sprintf("%032x 4000000000\n", $_) } 1 .. 2000));

# nginx_t(HTTP_BODY) -> (ok, output) for a config whose http{} holds it
sub nginx_t {
    my ($http) = @_;

    write_file('nginx.conf', <<"CONF");
error_log $dir/error.log info;
pid $dir/nginx.pid;
load_module $so;
events { worker_connections 16; }
http {
    $http
}
CONF

    unlink("$dir/error.log");

    my $out = `/usr/sbin/nginx -t -p $dir/ -c $dir/nginx.conf -e $dir/error.log 2>&1`;
    my $rc = $?;

    # notices and warnings go to the error log only
    if (open(my $log, '<', "$dir/error.log")) {
        local $/;
        $out .= <$log> // '';
    }

    return ($rc == 0, $out);
}

my $keys = "dgj_auth_key_file $dir/good.keys;";
my $zone = "dgj_auth_revoke_zone r:64k file=$dir/revoked.list;";
my $srv  = 'server { listen 127.0.0.1:1; location / { %s } }';

my ($ok, $out) = nginx_t("$keys $zone
    dgj_auth optional; dgj_auth_level 1; dgj_auth_csrf on;
    dgj_auth_login_url /login;
    server {
        listen 127.0.0.1:1;
        dgj_auth_login_url https://example.org/sign-in?from=portal;
        location / { dgj_auth on; dgj_auth_require intake reviewer;
                     dgj_auth_level 2; dgj_auth_csrf off; }
        location /open/ { dgj_auth off; }
    }
    server { listen unix:$dir/ctl.sock;
             location = /_dgj/revoke { dgj_auth_revoke_api; } }");
ok($ok, 'authdir-1.1: a complete good configuration passes') or diag($out);
like($out, qr/nonsense|revocations read/s, 'authdir-1.2: ... and reads the '
     . 'revocation file') or diag($out);

my @cases = (
    [ 'authdir-2.1: dgj_auth takes off|optional|on',
      "$keys " . sprintf($srv, 'dgj_auth maybe;'),
      qr/invalid value "maybe" in "dgj_auth" \(off, optional or on\)/ ],
    [ 'authdir-2.2: dgj_auth without a key file',
      sprintf($srv, 'dgj_auth on;'),
      qr/"dgj_auth" is enabled but no "dgj_auth_key_file" is set/ ],
    [ 'authdir-2.3: dgj_auth optional without a key file',
      'dgj_auth optional; ' . sprintf($srv, ''),
      qr/no "dgj_auth_key_file"/ ],
    [ 'authdir-3.1: an unknown role',
      "$keys " . sprintf($srv, 'dgj_auth on; dgj_auth_require admin;'),
      qr/unknown role "admin" in "dgj_auth_require" \(known: citizen/ ],
    [ 'authdir-3.2: dgj_auth_require with no role',
      "$keys " . sprintf($srv, 'dgj_auth_require;'),
      qr/invalid number of arguments in "dgj_auth_require"/ ],
    [ 'authdir-3.3: dgj_auth_require outside a location',
      "$keys dgj_auth_require intake; " . sprintf($srv, ''),
      qr/"dgj_auth_require" directive is not allowed here/ ],
    [ 'authdir-3.4: dgj_auth_require twice',
      "$keys " . sprintf($srv, 'dgj_auth_require intake; '
                               . 'dgj_auth_require handler;'),
      qr/"dgj_auth_require" directive is duplicate/ ],
    [ 'authdir-4.1: dgj_auth_level 3',
      "$keys " . sprintf($srv, 'dgj_auth_level 3;'),
      qr/invalid value "3" in "dgj_auth_level" \(1: one factor/ ],
    [ 'authdir-4.2: dgj_auth_level two',
      "$keys " . sprintf($srv, 'dgj_auth_level two;'),
      qr/invalid value "two" in "dgj_auth_level"/ ],
    [ 'authdir-5.1: a missing key file',
      "dgj_auth_key_file $dir/none.keys; " . sprintf($srv, 'dgj_auth on;'),
      qr/dgj_auth_key_file: \Q$dir\E\/none.keys: cannot open: No such file/ ],
    [ 'authdir-5.2: a bad key line names file and line',
      "dgj_auth_key_file $dir/bad.keys; " . sprintf($srv, ''),
      qr/\Q$dir\E\/bad.keys:3: unknown algorithm "hmac-sha1"/ ],
    [ 'authdir-5.3: a ring without a signing key',
      "dgj_auth_key_file $dir/nosign.keys; " . sprintf($srv, ''),
      qr/nosign.keys: no signing key/ ],
    [ 'authdir-5.4: dgj_auth_key_file twice',
      "$keys $keys " . sprintf($srv, ''),
      qr/"dgj_auth_key_file" directive is duplicate/ ],
    [ 'authdir-5.5: dgj_auth_key_file in a server',
      "server { listen 127.0.0.1:1; $keys }",
      qr/"dgj_auth_key_file" directive is not allowed here/ ],
    [ 'authdir-6.1: a relative login url',
      "$keys " . sprintf($srv, 'dgj_auth_login_url login;'),
      qr/invalid "dgj_auth_login_url" "login": it must start with "\/"/ ],
    [ 'authdir-6.2: a login url with a fragment',
      "$keys " . sprintf($srv, 'dgj_auth_login_url /login#x;'),
      qr/invalid "dgj_auth_login_url" "\/login#x": no spaces/ ],
    [ 'authdir-7.1: dgj_auth_csrf takes on|off',
      "$keys " . sprintf($srv, 'dgj_auth_csrf yes;'),
      qr/invalid value "yes" in "dgj_auth_csrf" directive, it must be "on" or "off"/ ],
    [ 'authdir-8.1: a zone without a size',
      "$keys dgj_auth_revoke_zone r; " . sprintf($srv, ''),
      qr/invalid zone "r" in "dgj_auth_revoke_zone" \(expected name:size/ ],
    [ 'authdir-8.2: a zone with a bad size',
      "$keys dgj_auth_revoke_zone r:lots; " . sprintf($srv, ''),
      qr/invalid zone size "r:lots"/ ],
    [ 'authdir-8.3: a zone too small',
      "$keys dgj_auth_revoke_zone r:1k; " . sprintf($srv, ''),
      qr/dgj_auth_revoke_zone "r:1k" is too small/ ],
    [ 'authdir-8.4: an unknown zone parameter',
      "$keys dgj_auth_revoke_zone r:64k path=/x; " . sprintf($srv, ''),
      qr/invalid parameter "path=\/x" in "dgj_auth_revoke_zone"/ ],
    [ 'authdir-8.5: two zones',
      "$keys $zone dgj_auth_revoke_zone s:64k; " . sprintf($srv, ''),
      qr/"dgj_auth_revoke_zone" directive is duplicate/ ],
    [ 'authdir-8.6: a zone too small for the still-valid revocations',
      "$keys dgj_auth_revoke_zone r:32k file=$dir/many.list; "
      . sprintf($srv, ''),
      qr/dgj_auth_revoke_zone "r" is full at line \d+ of "\Q$dir\E\/many.list": make the zone larger/ ],
    [ 'authdir-9.1: the revoke API without a zone',
      "$keys " . sprintf($srv, 'dgj_auth_revoke_api;'),
      qr/"dgj_auth_revoke_api" needs a "dgj_auth_revoke_zone"/ ],
    [ 'authdir-9.2: the revoke API takes no argument',
      "$keys $zone " . sprintf($srv, 'dgj_auth_revoke_api on;'),
      qr/invalid number of arguments in "dgj_auth_revoke_api"/ ],
);

for my $c (@cases) {
    my ($name, $http, $want) = @$c;

    ($ok, $out) = nginx_t($http);
    ok(!$ok && $out =~ $want, $name) or diag($out);
}

# the missing revocation file is not fatal: nginx starts with none
($ok, $out) = nginx_t("$keys dgj_auth_revoke_zone r:64k file=$dir/no.list; "
                      . sprintf($srv, 'dgj_auth on;'));
ok($ok && $out =~ /no revocations loaded/,
   'authdir-10.1: a missing revocation file is a warning') or diag($out);

done_testing();
