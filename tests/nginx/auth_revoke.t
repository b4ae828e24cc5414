#!/usr/bin/perl

# auth_revoke.t: revoking a session through nginx's control socket makes
# every nginx worker refuse its tokens within a second, also the workers
# that had served them (and keep them in their token tables), and again
# after a revocation ran out; the set survives
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
                   content_by_lua_block {
                       ngx.say(ngx.var.dgj_auth_status, " ", ngx.worker.pid())
                   } }
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

# answer(TOKEN) -> (status, pid of the worker that served it, error code)
sub answer {
    my ($tok) = @_;

    my $res = http()->get("$url/t/rv",
                          { headers => { Authorization => "Bearer $tok" } });
    my ($pid) = ($res->{content} // '') =~ /^OK (\d+)$/m;
    my $j = decode_json_body($res);

    return ($res->{status}, $pid, $j ? $j->{error}{code} : undef);
}

sub status_of {
    my ($status, undef, $code) = answer(@_);

    return $status . (defined $code ? " $code" : '');
}

my $s1 = new_session();
my $s2 = new_session();
my $t1 = mint(user => 11, roles => 'handler', session => $s1, ttl => 600);
my $t1b = mint(user => 11, roles => 'handler', session => $s1, ttl => 300);
my $t2 = mint(user => 12, roles => 'handler', session => $s2, ttl => 600);

# spread(N, TOKEN...) -> (answers not 200, { token index => { worker pid
# => 1 } } of the 200s, { error code => count } of the others): N rounds of
# the tokens from 4 parallel clients, each request on a fresh connection,
# so that both workers answer
sub spread {
    my ($n, @toks) = @_;

    my (@kids, %by, %codes, $bad);
    $bad = 0;

    for my $k (1 .. 4) {
        pipe(my $rd, my $wr) or die "pipe: $!";
        my $pid = fork();
        die "fork: $!" unless defined $pid;
        if ($pid == 0) {
            close($rd);
            for (1 .. $n) {
                for my $i (0 .. $#toks) {
                    my ($status, $w, $code) = answer($toks[$i]);
                    print $wr "$i $status " . ($w // $code // '-') . "\n";
                }
            }
            close($wr);
            exit(0);
        }
        close($wr);
        push @kids, [$pid, $rd];
    }

    for my $kid (@kids) {
        my ($pid, $rd) = @$kid;
        while (my $line = <$rd>) {
            my ($i, $status, $w) = split ' ', $line;
            if ($status == 200 && $w =~ /^\d+$/) {
                $by{$i}{$w} = 1;
            } else {
                $bad++;
                $codes{"$status $w"}++;
            }
        }
        waitpid($pid, 0);
    }

    return ($bad, \%by, \%codes);
}

is(status_of($t1), '200', 'authrv-1.1: a fresh session is served');

# every worker has t1 and t1b in its token table before the revocation
my $master = read_pid('nginx.pid');
my @workers = split ' ', `pgrep -P $master`;
my ($warm_bad, $warm_by) = spread(10, $t1, $t1b);
ok($warm_bad == 0
   && (grep { $warm_by->{0}{$_} && $warm_by->{1}{$_} } @workers) == @workers,
   'authrv-1.1b: before the revocation, every worker (' . scalar(@workers)
   . ') serves both tokens of the session')
    or diag("not 200: $warm_bad; t1 by " . join(' ', keys %{$warm_by->{0}})
            . "; t1b by " . join(' ', keys %{$warm_by->{1}}));

my ($st, $body) = control('POST', "$s1 " . (time() + 600) . "\n");
is($st, 204, 'authrv-1.2: POST <session> <until> to the control socket: '
   . '204');

my $start = time();

my (undef, undef, $codes) = spread(13, $t1, $t1b);
is(join(' ', %$codes), '401 session_revoked 104',
   'authrv-1.3: 104 requests on fresh connections: every token of the '
   . 'session gets 401 session_revoked');
cmp_ok(time() - $start, '<', 10, 'authrv-1.4: ... answered promptly');

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

# a revocation that ran out, and the same session revoked again: every
# worker refuses it again, also those that served it in between
my $s4 = new_session();
my $t4 = mint(user => 14, roles => 'handler', session => $s4, ttl => 600);
($st) = control('POST', "$s4 " . (time() + 2) . "\n");
ok($st == 204 && status_of($t4) eq '401 session_revoked',
   'authrv-1.7: a session revoked for 2 s is refused');
ok(wait_until(8, sub { status_of($t4) eq '200' }),
   'authrv-1.8: ... and served once that ran out');
my ($again_bad, $again_by) = spread(5, $t4);
ok($again_bad == 0 && (grep { $again_by->{0}{$_} } @workers) == @workers,
   'authrv-1.9: ... by every worker');
($st) = control('POST', "$s4 " . (time() + 600) . "\n");
(undef, undef, $codes) = spread(5, $t4);
ok($st == 204 && join(' ', %$codes) eq '401 session_revoked 20',
   'authrv-1.10: revoked again: all 20 requests on fresh connections get '
   . '401 session_revoked')
    or diag("$st; " . join(' ', %$codes));

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
