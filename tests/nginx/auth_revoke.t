#!/usr/bin/perl

# auth_revoke.t: revoking a session through nginx's control socket makes
# every nginx worker refuse its tokens within a second; the set survives
# `nginx -s reload` (shared memory) and a full restart (the state file);
# bad bodies and methods are refused; a full zone refuses loudly and
# reclaims expired entries; the control API is not reachable over TCP.

use strict;
use warnings;

use Test::More;
use Time::HiRes qw(sleep);
use DgjTest qw(base_url http stack wait_until decode_json_body);
use DgjPool qw(read_pid);
use DgjAuth qw(mint new_session add_server_conf remove_server_conf);

my $var  = $ENV{DGJ_VAR};
my $ctl  = "$var/run/ctl/nginx.sock";
my $list = "$var/state/revoked.list";
my $url  = base_url();

add_server_conf('revoketest', <<'CONF');
location = /t/rv { dgj_auth on; default_type text/plain;
                   content_by_lua_block { ngx.say(ngx.var.dgj_auth_status) } }
CONF

# control(METHOD, BODY) -> (status, body) over the unix socket
sub control {
    my ($method, $body) = @_;

    my $file = "$var/revoke-body.$$";
    open(my $bf, '>', $file) or die "$file: $!";
    print $bf $body // '';
    close($bf);

    open(my $fh, '-|', 'curl', '-s', '--max-time', '5', '-o', '-',
         '-w', '\n%{http_code}', '--unix-socket', $ctl, '-X', $method,
         '--data-binary', "\@$file", 'http://localhost/_dgj/revoke')
        or die "curl: $!";
    local $/;
    my $out = <$fh>;
    close($fh);
    unlink($file);

    my ($text, $status) = $out =~ /^(.*)\n(\d+)$/s;

    return ($status // 0, $text // '');
}

sub status_of {
    my ($tok) = @_;

    my $res = http()->get("$url/t/rv",
                          { headers => { Authorization => "Bearer $tok" } });
    my $j = decode_json_body($res);

    return $res->{status} . ($j ? " $j->{error}{code}" : '');
}

my $s1 = new_session();
my $s2 = new_session();
my $t1 = mint(user => 11, roles => 'handler', session => $s1, ttl => 600);
my $t1b = mint(user => 11, roles => 'handler', session => $s1, ttl => 300);
my $t2 = mint(user => 12, roles => 'handler', session => $s2, ttl => 600);

is(status_of($t1), '200', 'authrv-1.1: a fresh session is served');

my ($st, $body) = control('POST', "$s1 " . (time() + 600) . "\n");
is($st, 204, 'authrv-1.2: POST <session> <until> to the control socket: '
   . '204');

my $start = time();

# many fresh connections from parallel clients, so both workers answer
my @kids;
for my $k (1 .. 4) {
    my $pid = fork();
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        my $bad = 0;
        for (1 .. 25) {
            $bad++ if status_of($_ % 2 ? $t1 : $t1b) ne '401 session_revoked';
        }
        exit($bad ? 1 : 0);
    }
    push @kids, $pid;
}

my $failed = 0;
for my $pid (@kids) {
    waitpid($pid, 0);
    $failed++ if $? != 0;
}

is($failed, 0, 'authrv-1.3: 100 requests on fresh connections: every token '
   . 'of the session gets 401 session_revoked');
cmp_ok(time() - $start, '<', 10, 'authrv-1.4: ... answered promptly');

my $master = read_pid('nginx.pid');
my @workers = split ' ', `pgrep -P $master`;
my %seen;
if (open(my $log, '<', "$var/log/nginx/error.log")) {
    while (<$log>) {
        $seen{$1} = 1 if /\[info\] (\d+)#\d+: \*\d+ dgj auth: revoked session/;
    }
}
my @hit = grep { $seen{$_} } @workers;
ok(@hit == @workers,
   'authrv-1.5: every nginx worker (' . scalar(@workers) . ') refused it')
    or diag("workers @workers; refusing: " . join(' ', sort keys %seen));

is(status_of($t2), '200', 'authrv-1.6: another session is untouched');

# --- the control API ----------------------------------------------------

($st, $body) = control('POST', "$s2 123\nnot-a-session 5\n");
my $j = eval { JSON::PP->new->decode($body) };
ok($st == 400 && $j && $j->{error}{code} eq 'invalid_field'
   && $j->{error}{message} =~ /^line 2: /,
   'authrv-2.1: a bad line: 400 invalid_field naming the line')
    or diag("$st $body");
is(status_of($t2), '200', 'authrv-2.2: ... and nothing of that body applied');

($st) = control('GET');
is($st, 405, 'authrv-2.3: GET is 405');

($st) = control('POST', '');
is($st, 204, 'authrv-2.4: an empty body is fine');

my $res = http()->request('POST', "$url/_dgj/revoke",
                          { content => "$s2 " . (time() + 600) . "\n" });
is($res->{status}, 404, 'authrv-2.5: the control API is not on the TCP '
   . 'server');
is(status_of($t2), '200', 'authrv-2.6: ... and revoked nothing');

my $conf = do {
    local $/;
    open(my $fh, '<', "$var/conf/nginx.conf") or die $!;
    <$fh>;
};
my ($ctlserver) = $conf =~ /(server \{\s+listen\s+unix:[^}]*?dgj-control.*)/s;
ok($ctlserver && $ctlserver !~ /listen\s+(?=\S)(?!unix:)/,
   'authrv-2.7: the control server listens on a unix socket only');

# --- reload and restart -------------------------------------------------

ok(stack('reload'), 'authrv-3.1: nginx reloads');
ok(wait_until(10, sub { status_of($t1) eq '401 session_revoked' }),
   'authrv-3.2: the revocation survives a reload (shared memory)');

# the workers' job done by hand: the line in the state file, then a POST
open(my $fh, '>>', $list) or die "$list: $!";
print $fh "$s2 " . (time() + 600) . "\n";
close($fh);

ok(stack('stop-nginx') && stack('start-nginx'),
   'authrv-3.3: nginx restarts');
is(status_of($t2), '401 session_revoked',
   'authrv-3.4: a revocation in the state file holds after a restart');
is(status_of($t1), '200',
   'authrv-3.5: one only POSTed (not in the file) is forgotten by a '
   . 'restart, as designed: the workers write the file first');

# --- a full zone ----------------------------------------------------------

my $until = time() + 3;
my $many = join('', map { sprintf("%032x %d\n", $_, $until) } 1 .. 20000);
($st, $body) = control('POST', $many);
$j = eval { JSON::PP->new->decode($body) };
ok($st == 507 && $j && $j->{error}{code} eq 'revoke_zone_full',
   'authrv-4.1: a full zone refuses with 507 revoke_zone_full')
    or diag("$st $body");

sleep(4);
my $s3 = new_session();
($st) = control('POST', "$s3 " . (time() + 600) . "\n");
is($st, 204, 'authrv-4.2: expired entries are reclaimed for new ones');
is(status_of(mint(user => 13, session => $s3)), '401 session_revoked',
   'authrv-4.3: ... and the new one holds');

remove_server_conf('revoketest');

done_testing();
