#!/usr/bin/perl

# module_load.t: the dgj module built from Debian's nginx source tree loads
# into the packaged /usr/sbin/nginx with its three modules registered, and
# the running gateway has it loaded.

use strict;
use warnings;

use File::Temp qw(tempdir);
use Test::More;
use DgjPool qw(read_pid);

my $root = $ENV{DGJ_ROOT} or die "DGJ_ROOT is not set: run make test\n";
my $so   = "$root/build/modules/ngx_http_dgj_module.so";

ok(-f $so, 'module-1.1: the module .so is built');

my @syms = `nm -D --defined-only $so`;
for my $m (qw(ngx_http_dgj_auth_module ngx_http_dgj_limit_module
              ngx_http_dgj_audit_module))
{
    ok((grep { /\b\Q$m\E$/ } @syms), "module-1.2: $m is exported");
}

ok((grep { /\bngx_module_names$/ } @syms),
   'module-1.3: the .so carries nginx\'s module name table');

my $dir = tempdir(CLEANUP => 1);

sub nginx_t {
    my ($body) = @_;

    open(my $fh, '>', "$dir/nginx.conf") or die $!;
    print $fh <<"CONF";
error_log $dir/error.log;
pid $dir/nginx.pid;
load_module /usr/lib/nginx/modules/ndk_http_module.so;
load_module /usr/lib/nginx/modules/ngx_http_lua_module.so;
$body
events { worker_connections 16; }
http { server { listen 127.0.0.1:1; } }
CONF
    close($fh);

    my $out = `/usr/sbin/nginx -t -p $dir/ -c $dir/nginx.conf -e $dir/error.log 2>&1`;

    return ($? == 0, $out);
}

my ($ok, $out) = nginx_t("load_module $so;");
ok($ok, 'module-2.1: nginx -t accepts the module in the packaged binary')
    or diag($out);

($ok, $out) = nginx_t("load_module $so;\nload_module $so;");
ok(!$ok && $out =~ /already loaded/,
   'module-2.2: loading it twice is refused with a clear message')
    or diag($out);

my $master = read_pid('nginx.pid') or die "no running gateway\n";

my @workers = split ' ', `pgrep -P $master`;
ok(@workers > 0, 'module-3.1: the running gateway has worker processes');

my $maps = '';
if (open(my $mf, '<', "/proc/$workers[0]/maps")) {
    local $/;
    $maps = <$mf>;
}
like($maps, qr/\Qngx_http_dgj_module.so\E/,
     'module-3.2: a running gateway worker has the dgj module mapped');

done_testing();
