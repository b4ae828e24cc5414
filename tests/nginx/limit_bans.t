#!/usr/bin/perl

# limit_bans.t: bans through the control API (POST ban/unban lines, GET
# the list): IPs and CIDRs refused with 403 "banned" on every worker within
# a second, unbans, expiry, refused input applying nothing, the ban file
# read at reload, and auto-ban after N rejections.

use strict;
use warnings;

use HTTP::Tiny;
use JSON::PP;
use Test::More;
use Time::HiRes qw(time sleep);
use DgjTest qw(base_url decode_json_body);
use DgjLimit qw(limit_conf limit_conf_remove ctl metrics client hit);

my $json = JSON::PP->new;
my $banfile = "$ENV{DGJ_VAR}/state/bans.list";

ok(-f $banfile, 'ban-1.1: the stack made an (empty) ban file');

limit_conf('bans', <<'HTTP', <<'SERVER');
dgj_limit_zone name=t_ab size=64k;
dgj_limit_auto_ban zone=t_ab rejections=3 window=30s ban=2s;
HTTP
location = /_t/limit/ab {
    dgj_limit zone=t_ab key=$http_x_key rate=1r/m nodelay;
    add_header X-Limit $dgj_limit_status always;
    empty_gif;
}
SERVER

# fresh connections spread over both workers
sub burst_statuses {
    my ($path, $n) = @_;
    return map { HTTP::Tiny->new(timeout => 5)->get(base_url() . $path)
                     ->{status} } 1 .. $n;
}

sub list {
    my ($s, $body) = ctl('GET', '/_dgj/bans');
    return $s == 200 ? $json->decode($body) : undef;
}

my $soon = int(time()) + 600;

# ban-2: an IP ban reaches every worker at once, for every location

my ($s, $body) = ctl('POST', '/_dgj/bans',
                     "ban ip 127.0.0.1 $soon drill: scanner\n");
is($s, 200, 'ban-2.1: the control API takes a ban');
is_deeply($json->decode($body), { banned => 1, unbanned => 0, not_found => 0 },
          'ban-2.2: ... and says what it did');
my $t = time();
my @st = burst_statuses('/static/dgj-limit-test', 20);
is(scalar(grep { $_ == 403 } @st), 20,
   'ban-2.3: 20 requests on fresh connections right after are all 403 '
   . sprintf('(%.2f s)', time() - $t));

my $res = HTTP::Tiny->new->get(base_url() . '/api/v1/health');
my $b = decode_json_body($res);
is($b && $b->{error}{code}, 'banned', 'ban-2.4: the body says banned');
like($b && $b->{request_id}, qr/^[0-9a-f]{32}$/, 'ban-2.5: ... with the '
     . 'request id');

my $l = list();
is_deeply([ grep { $_->{value} eq '127.0.0.1' } @{ $l->{bans} } ],
          [ { kind => 'ip', value => '127.0.0.1', until => int($soon),
              reason => 'drill: scanner' } ],
          'ban-2.6: GET lists the ban with its expiry and reason');

($s) = ctl('POST', '/_dgj/bans', "unban ip 127.0.0.1\n");
is($s, 200, 'ban-2.7: unban');
@st = burst_statuses('/static/dgj-limit-test', 20);
is(scalar(grep { $_ == 404 } @st), 20,
   'ban-2.8: right after the unban, every worker serves again');

# ban-3: CIDR bans, expiry

($s) = ctl('POST', '/_dgj/bans',
           "ban cidr 127.0.0.0/8 $soon range\nban cidr 10.1.0.0/16 0 other\n"
           . "ban user 42 $soon account\n");
is($s, 200, 'ban-3.1: several lines in one request');
@st = burst_statuses('/static/dgj-limit-test', 6);
is("@st", '403 403 403 403 403 403', 'ban-3.2: a CIDR covers the client');
($s) = ctl('POST', '/_dgj/bans', "unban cidr 127.0.0.0/8\n"
           . "unban cidr 10.1.0.0/16\nunban user 42\n");
@st = burst_statuses('/static/dgj-limit-test', 2);
is("@st", '404 404', 'ban-3.3: unbanned');

my $until = time() + 2;
($s) = ctl('POST', '/_dgj/bans', "ban ip 127.0.0.1 " . int($until + 1)
           . " short\n");
@st = burst_statuses('/static/dgj-limit-test', 1);
is("@st", '403', 'ban-3.4: a short ban holds');
sleep(int($until + 1) - time() + 0.2);
@st = burst_statuses('/static/dgj-limit-test', 2);
is("@st", '404 404', 'ban-3.5: ... and ends at its expiry');

# ban-4: refused input applies nothing

for my $bad ("ban ip 300.1.1.1 0 x", "ban host 1.2.3.4 0 x",
             "ban ip 127.0.0.1 1 in the past", "ban ip 10.0.0.0/8 0 x",
             "ban user abc 0 x", "frobnicate ip 1.2.3.4",
             "ban ip 1.2.3.4 soon x", "unban ip 1.2.3.4 extra")
{
    ($s, $body) = ctl('POST', '/_dgj/bans', "ban ip 192.0.2.1 0 ok\n$bad\n");
    my $e = eval { $json->decode($body) } || {};
    ok($s == 400 && ($e->{error}{message} // '') =~ /^line 2: /,
       "ban-4: \"$bad\" is refused (400, line 2: "
       . ($e->{error}{message} // $body) . ')');
}
ok(!(grep { $_->{value} eq '192.0.2.1' } @{ list()->{bans} }),
   'ban-4.9: a refused request applied none of its lines');
($s) = ctl('DELETE', '/_dgj/bans');
is($s, 405, 'ban-4.10: other methods are refused');

# ban-5: the ban file is read at reload (and start)

open(my $fh, '>>', $banfile) or die $!;
print $fh "# written by the ban API\n",
          "cidr 203.0.113.0/24 0 from the file\n",
          "user 7 " . int($soon) . " file user\n",
          "not a line\n";
close($fh);
limit_conf('bans-reload', undef, undef);
$l = list();
is(scalar(grep { $_->{value} eq '203.0.113.0/24'
                 && $_->{reason} eq 'from the file' } @{ $l->{bans} }), 1,
   'ban-5.1: a CIDR from the file is in force after a reload');
is(scalar(grep { $_->{kind} eq 'user' && $_->{value} eq '7' } @{ $l->{bans} }),
   1, 'ban-5.2: ... and a user ban');
my $m = metrics();
is($m->{'dgj_limit_bans{kind="cidr"}'}, 1, 'ban-5.3: the bans gauge counts');
($s) = ctl('POST', '/_dgj/bans', "unban cidr 203.0.113.0/24\nunban user 7\n");
truncate($banfile, 0);

# ban-6: auto-ban: 3 rejections within the window ban the address for 2 s

my $auto0 = metrics()->{'dgj_limit_auto_bans_total'};
my $http = client();
my @r = map { hit($http, '/_t/limit/ab', { 'X-Key' => 'ab' })->{status} }
        1 .. 5;
is("@r", '200 429 429 429 403',
   'ban-6.1: the third rejection bans the client');
$l = list();
my ($ab) = grep { $_->{value} eq '127.0.0.1' } @{ $l->{bans} };
like($ab && $ab->{reason}, qr/^auto-ban: 3 rejections by zone t_ab/,
     'ban-6.2: the auto-ban says why');
is(metrics()->{'dgj_limit_auto_bans_total'}, $auto0 + 1, 'ban-6.3: counted');
sleep(3);
@st = burst_statuses('/static/dgj-limit-test', 2);
is("@st", '404 404', 'ban-6.4: the auto-ban ends after its time');

limit_conf_remove('bans');

done_testing();
