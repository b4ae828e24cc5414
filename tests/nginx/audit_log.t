#!/usr/bin/perl

# audit_log.t: the running gateway writes one sealed audit line for every
# kind of request (a page, the API, a static file, one refused by auth,
# one refused by the limiter, one with a valid token), with every field
# of the record and in the contract's order; the backend's action and
# object are recorded and never reach the client; no phone number, ID
# number, token or password is in any line; the whole log verifies with
# dgj-audit, and each kind of tampering is reported at its seq.

use strict;
use warnings;

use File::Temp qw(tempdir);
use IO::Socket::INET;
use JSON::PP;
use Test::More;
use DgjAuth qw(mint add_server_conf remove_server_conf);
use DgjTest qw(base_url http wait_until);

my $root = $ENV{DGJ_ROOT} or die "DGJ_ROOT is not set: run make test\n";
my $var  = $ENV{DGJ_VAR} or die "DGJ_VAR is not set: run make test\n";
my $tool = "$root/build/bin/dgj-audit";
my $keys = "$var/secrets/audit";
my $dir  = "$var/log/audit";
my $json = JSON::PP->new->utf8;

my @fields = qw(t c seq ep time rid uid roles dept ip port ua method path
                status auth limit action object ms in out mac);

add_server_conf('audit', <<'CONF');
location = /_test_audit/action {
    content_by_lua_block {
        ngx.header["X-Dgj-Action"] = "appeal.accept"
        ngx.header["X-Dgj-Object"] = "DG20261130000001"
        ngx.say("done")
    }
}
CONF

my $ua = http(agent => 'audit-test/1');
my %rid;

sub hit {
    my ($name, $path, %h) = @_;

    my $res = $ua->get(base_url() . $path, { headers => \%h });
    $rid{$name} = $res->{headers}{'x-request-id'};

    return $res;
}

my $token = mint(user => 4242, roles => 'intake,reviewer', dept => 7);
my $phone = '13812345678';
my $idno  = '44190019900101123X';

hit(page   => '/');
hit(api    => "/api/v1/districts?phone=$phone&code=AB12CD&n=$idno");
hit(static => '/static/favicon.svg');
hit(auth   => '/api/v1/admin/users');
hit(token  => '/api/v1/districts', Authorization => "Bearer $token");
my $act = hit(action => '/_test_audit/action');

# a GET of target with a User-Agent sent byte for byte; its request id
sub raw_ua_get {
    my ($target, $ua) = @_;
    my ($host, $port) = base_url() =~ m{//([^:/]+):(\d+)};
    my $s = IO::Socket::INET->new(PeerAddr => $host, PeerPort => $port)
        or die "connect: $!";
    print $s "GET $target HTTP/1.0\r\nHost: x\r\nUser-Agent: $ua\r\n\r\n";
    local $/;
    my $reply = <$s> // '';
    my ($id) = $reply =~ /^X-Request-Id: (\w+)/mi;
    return $id;
}

# a hostile User-Agent, raw: quotes, braces, a control byte, bad UTF-8
$rid{evil} = raw_ua_get('/api/v1/districts?q=%0a%22x',
                        "a\"b\"}{\"t\":\"rec\x01\xff");

# every byte the record escapes (and a character it keeps) at each of the
# eight places of the 8-byte steps the escaping copies plain text in
my ($ua8, $want8) = ('', '');
for my $special (["\x7f", "\x7f"], ["\\", "\\"], ['"', '"'],
                 ["\x1f", "\x1f"], ["\xe6\xb0\x91", "\x{6c11}"],
                 ["\xff", "\x{ff}"]) {
    for my $k (0 .. 7) {
        my $run = 'x' x $k . "%s" . 'y' x (7 - $k);
        $ua8 .= sprintf $run, $special->[0];
        $want8 .= sprintf $run, $special->[1];
    }
}
$rid{evil8} = raw_ua_get('/api/v1/districts', $ua8);

ok(!exists $act->{headers}{'x-dgj-action'}
   && !exists $act->{headers}{'x-dgj-object'},
   'audit-1.1: the client never sees X-Dgj-Action or X-Dgj-Object');

# the strict per-client rule on tracking numbers: 10 a minute, burst 10
my $limited;
{
    local $DgjTest::SPREAD = 0;
    my $h = http(agent => 'audit-test/1',
                 local_address => sprintf('127.77.%d.%d', 1 + int(rand 250),
                                          1 + int(rand 250)));
    for (1 .. 25) {
        my $r = $h->get(base_url() . '/api/v1/appeals/track?no=DG1&code=X1');
        if ($r->{status} == 429 || $r->{status} == 503) {
            $limited = $r->{headers}{'x-request-id'};
            last;
        }
    }
}
ok($limited, 'audit-1.2: the limiter refused a request') or diag('none');
$rid{limited} = $limited;

sub all_lines {
    my @lines;

    for my $f (glob("$dir/audit.log*")) {
        next if $f =~ /\.lock$/;
        open(my $fh, '<', $f) or next;
        push @lines, <$fh>;
    }

    return @lines;
}

# the line of request id rid as written (its newline cut), or undef
sub line_of {
    my ($rid) = @_;

    return undef unless $rid;

    for my $l (all_lines()) {
        return $l =~ s/\n\z//r if index($l, "\"rid\":\"$rid\"") > 0;
    }

    return undef;
}

sub record_of {
    my $l = line_of(@_);

    return defined $l ? $json->decode($l) : undef;
}

# flush=1s: every line is on disk within about a second
ok(wait_until(10, sub { !grep { !record_of($_) } values %rid }),
   'audit-1.3: a record for each request kind is written within seconds')
    or diag(join ' ', grep { !record_of($rid{$_}) } sort keys %rid);

my %rec = map { $_ => record_of($rid{$_}) } keys %rid;

is($rec{page}{path}, '/', 'audit-2.1: a page');
is($rec{static}{path}, '/static/favicon.svg', 'audit-2.2: a static file');
is($rec{auth}{status}, 401, 'audit-2.3: refused by auth (401)');
is($rec{limited}{limit}, 'REJECTED', 'audit-2.4: refused by the limiter');
is_deeply([ @{ $rec{token} }{qw(uid roles dept auth)} ],
          [ 4242, 'intake,reviewer', 7, 'OK' ],
          'audit-2.5: a valid token: user, roles, department, auth OK');
is_deeply([ @{ $rec{action} }{qw(action object)} ],
          [ 'appeal.accept', 'DG20261130000001' ],
          'audit-2.6: the action and object the backend named');
is($rec{api}{path}, '/api/v1/districts?phone=***&code=***&n=441900********123X',
   'audit-2.7: sensitive query values masked, an ID number cut to 6+4');
is($rec{evil}{ua}, "a\"b\"}{\"t\":\"rec\x01\x{ff}",
   'audit-2.8: a hostile User-Agent is escaped: one line, its text back');
my $raw8 = line_of($rid{evil8});
ok(defined $raw8 && $rec{evil8}{ua} eq $want8
   && $raw8 !~ /[\x00-\x1f\x7f\xc0\xc1\xf5-\xff]/,
   'audit-2.8b: each escaped byte at every place in an 8-byte step: '
   . 'its text back, no control, DEL or bad UTF-8 byte in the line');
ok($rec{page}{time} =~ /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d$/,
   'audit-2.9: time in ms with its zone');
ok($rec{page}{port} > 0 && $rec{page}{ip} eq '127.0.0.1'
   && $rec{page}{method} eq 'GET' && $rec{page}{in} > 0
   && $rec{page}{out} > 0 && $rec{page}{ms} >= 0
   && $rec{page}{ua} eq 'audit-test/1',
   'audit-2.10: address, port, method, user agent, bytes, latency');

# every rec line has every field, in order
my ($recs, $bad_order) = (0, 0);
for my $l (all_lines()) {
    next unless $l =~ /^\{"t":"rec"/;
    $recs++;
    my @keys = ($l =~ /[{,]"([a-z]+)":/g);
    $bad_order++ unless "@keys" eq "@fields";
}
ok($recs >= 8 && $bad_order == 0,
   "audit-3.1: all $recs records have every field in the contract's order")
    or diag("$bad_order out of order");

# nothing secret or personal anywhere in the log (hex MACs, signatures
# and request ids aside: random hex may hold any digits)
my $all = join '', all_lines();
$all =~ s/"(?:mac|rid|head|sig|c)":"[^"]*"//g;
ok($all !~ /(?<!\d)1[3-9]\d{9}(?!\d)/, 'audit-3.2: no phone number');
ok($all !~ /(?<![\d*])\d{17}[\dXx](?![\d])/, 'audit-3.3: no ID number');
ok(index($all, $token) < 0 && $all !~ /k\d+\.[\w-]{20,}\.[\w-]{20,}/,
   'audit-3.4: no access token');
ok($all !~ /AB12CD/, 'audit-3.5: no query code');

remove_server_conf('audit');

# the whole live log verifies
my @files = grep { !/\.lock$/ } glob("$dir/audit.log*");
my $out = `$tool verify --keys $keys @files 2>&1`;
is($? >> 8, 0, 'audit-4.1: dgj-audit verify: the live log is intact')
    or diag($out);
like($out, qr/^OK: \d+ lines in \d+ chains verified$/m,
     'audit-4.2: ... and says how much it checked');

# tampering with a copy: each kind reported at the seq it hit
my $tmp = tempdir(CLEANUP => 1);
my @lines = all_lines();
my %by_chain;
for my $i (0 .. $#lines) {
    my $r = $json->decode($lines[$i]);
    push @{ $by_chain{ $r->{c} } }, $i;
}
my ($chain) = sort { @{ $by_chain{$b} } <=> @{ $by_chain{$a} } }
              keys %by_chain;
my @idx = @{ $by_chain{$chain} };
my @rec_idx = grep { $lines[$_] =~ /^\{"t":"rec"/ && $_ > $idx[1] } @idx;
my $mid = $rec_idx[ int(@rec_idx / 2) ];
my $seq_mid = $json->decode($lines[$mid])->{seq};

sub verify_copy {
    my ($name, @l) = @_;

    open(my $fh, '>', "$tmp/$name") or die $!;
    print $fh @l;
    close($fh);

    my $o = `$tool verify --keys $keys --quiet $tmp/$name 2>&1`;

    return ($? >> 8, $o);
}

sub bad_at {
    my ($o, $seq) = @_;

    return $o =~ /^BAD: chain \Q$chain\E seq $seq:/m;
}

my @c = @lines;
$c[$mid] =~ s/"method":"GET"/"method":"PUT"/ or $c[$mid] =~ s/"ms":\d+/"ms":99999/;
my ($rc, $o) = verify_copy('flip', @c);
ok($rc == 1 && bad_at($o, $seq_mid) && $o =~ /mac mismatch/,
   "audit-5.1: an edited field: mac mismatch at seq $seq_mid") or diag($o);

@c = @lines;
splice(@c, $mid, 1);
($rc, $o) = verify_copy('delete', @c);
ok($rc == 1 && bad_at($o, $seq_mid) && $o =~ /gap/,
   "audit-5.2: a deleted record: gap at seq $seq_mid") or diag($o);

@c = @lines;
splice(@c, $mid + 1, 0, $lines[$mid]);
($rc, $o) = verify_copy('insert', @c);
ok($rc == 1 && bad_at($o, $seq_mid) && $o =~ /repeated/,
   "audit-5.3: an inserted (replayed) record at seq $seq_mid") or diag($o);

my $next = (grep { $_ > $mid } @idx)[0];
@c = @lines;
@c[$mid, $next] = @c[$next, $mid];
($rc, $o) = verify_copy('reorder', @c);
ok($rc == 1 && bad_at($o, $seq_mid) && $o =~ /gap/,
   "audit-5.4: two records swapped: found at seq $seq_mid") or diag($o);

@c = @lines;
substr($c[$mid], -31, 30) = '';
($rc, $o) = verify_copy('cut', @c);
ok($rc == 1 && bad_at($o, $seq_mid) && $o =~ /cut short, yet the chain goes on/,
   "audit-5.5: a line cut short, its chain going on: found at seq $seq_mid")
    or diag($o);

# cut off mid-line at the end: what a worker killed inside write() leaves,
# no more than a truncation, and said so
@c = @lines[0 .. $mid];
chomp $c[-1];
substr($c[-1], -30) = '';
($rc, $o) = verify_copy('cut', @c);
$o = `$tool verify --keys $keys $tmp/cut 2>&1`;
ok($rc == 0 && $o =~ /^chain \Q$chain\E: .*seq \d+\.\.@{[$seq_mid - 1]}, .*its last line cut short/m
   && $o =~ /^OK: .*\(1 of them cut short by a writer's death\)$/m,
   "audit-5.5b: a tail cut mid-line verifies as a truncation, the chain "
   . "named as ending in a line cut short") or diag($o);

# another chain's lines relabelled as ours
my ($other) = grep { $_ ne $chain && @{ $by_chain{$_} } > 2 } keys %by_chain;
SKIP: {
    skip 'one chain only', 1 unless $other;
    my $j = $by_chain{$other}[1];
    my $r = $json->decode($lines[$j]);
    @c = @lines;
    (my $moved = $lines[$j]) =~ s/"c":"\Q$other\E","seq":\d+/"c":"$chain","seq":$seq_mid/;
    $c[$mid] = $moved;
    ($rc, $o) = verify_copy('splice', @c);
    ok($rc == 1 && bad_at($o, $seq_mid) && $o =~ /mac mismatch/,
       "audit-5.6: a line spliced from another chain at seq $seq_mid")
        or diag($o);
}

done_testing();
