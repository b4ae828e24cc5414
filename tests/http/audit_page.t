# The auditor's console page (/audit): it renders for the auditor (search
# with filters and keyset pages, the live view with its script, one-button
# verification that also reports tampering), shows what an attacker sent
# only as escaped text, sends the page's security headers, names what it
# read for the audit log, and refuses every other role and the anonymous.
use strict;
use warnings;
use utf8;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Test::More;
use Encode qw(decode_utf8);
use DgjTest qw(sql http base_url wait_until spread_sources);
use DgjAuth qw(mint);
use DgjAudit qw(new_chain start_line rec_line store tamper
                time_local recorded_as);

spread_sources();

my $auditor = mint(user => 990002, roles => 'auditor', level => 2,
                   ttl => 900);

sub page {
    my ($path, $token) = @_;

    my %h = defined $token ? (Authorization => "Bearer $token") : ();
    my $res = http()->get(base_url() . $path, { headers => \%h });
    $res->{text} = decode_utf8($res->{content} // '');

    return $res;
}

# an hour of November 2026 of this run's own
my $T0 = 1793462400000 + ($$ % 400) * 3600000;  # from 2026-11-01T00:00+08

sub at {
    my ($s) = @_;
    return substr(time_local($T0 + $s * 1000), 0, 16);
}

my $C = "tP$$";
my $chain = new_chain($C);
start_line($chain, $T0);

my $evil = rec_line($chain, $T0 + 1000, ip => '203.0.113.77', status => 404,
                    ua => 'Mozilla/5.0 "><img src=x onerror=alert(2)>',
                    path => '/x?q=<script>alert(1)</script>');
my @plain = map {
    rec_line($chain, $T0 + 2000 + $_ * 10, path => "/p/$_", uid => 500 + $_,
             roles => 'intake', auth => 'OK')
} 1 .. 55;
store(@{ $chain->{lines} });

my $W = 'from=' . at(0) . '&to=' . at(60);

# --- the search view --------------------------------------------------------

my $res = page("/audit?$W", $auditor);
is($res->{status}, 200, 'the auditor gets the console: 200');
like($res->{headers}{'content-type'}, qr{^text/html; charset=utf-8$}i,
     'as HTML');
like($res->{headers}{'content-security-policy'} // '',
     qr/default-src 'self'/, 'under the pages\' CSP (no inline script)');
like($res->{text}, qr{<title>审计日志 - 民生大莞家</title>}, 'its title');
like($res->{text}, qr/data-testid="audit-search-form"/, 'the search form');

my @rows = $res->{text} =~ /data-testid="audit-row"/g;
is(scalar @rows, 50, 'a first page of 50 records');
like($res->{text}, qr{<span class="audit-path" data-testid="audit-path">/p/55</span>},
     'newest first');
like($res->{text}, qr{href="(/audit\?[^"]*cursor=[^"]+)" data-testid="audit-next"},
     'a link to the next page, by cursor');

my ($next) = $res->{text} =~ m{href="(/audit\?[^"]*cursor=[^"]+)" data-testid="audit-next"};
$next =~ s/&amp;/&/g;
my $res2 = page($next, $auditor);
my @rows2 = $res2->{text} =~ /data-testid="audit-row"/g;
is(scalar @rows2, 6, 'the next page has the other 6 (5 and the hostile one)');
unlike($res2->{text}, qr/data-testid="audit-next"/, 'and no further link');

# what the attacker sent is shown as text, never as markup
like($res2->{text}, qr{/x\?q=&lt;script&gt;alert\(1\)&lt;/script&gt;},
     'a hostile path is shown escaped');
unlike($res2->{text}, qr{<script>alert\(1\)}, 'and never as a script');
like($res2->{text},
     qr{title="Mozilla/5.0 &quot;&gt;&lt;img src=x onerror=alert\(2\)&gt;"},
     'a hostile user agent stays inside its attribute');
unlike($res2->{text}, qr{<img src=x}, 'and adds no element');
like($res2->{text}, qr{data-flags="xss"}, 'the row is flagged xss');

like($res->{text}, qr{href="/api/v1/audit/export\?[^"]*from=[^"]*" data-testid="audit-export"},
     'a CSV link with the same filters');

$res = page("/audit?$W&ip=203.0.113.77", $auditor);
@rows = $res->{text} =~ /data-testid="audit-row"/g;
is(scalar @rows, 1, 'a filter narrows the table');
like($res->{text}, qr{name="ip" value="203\.0\.113\.77"}, 'and stays in the form');

$res = page("/audit?from=yesterday", $auditor);
is($res->{status}, 200, 'a malformed time: the form again');
like($res->{text}, qr{data-testid="audit-error">时间格式不正确}, 'with why');

# the page names what it read for the audit log (DgjAudit::recorded_as)

ok(recorded_as(page("/audit?$W", $auditor), 'audit.search'),
   'the search page is named audit.search');

# --- the live view ------------------------------------------------------------

$res = page('/audit?view=live', $auditor);
is($res->{status}, 200, 'the live view: 200');
like($res->{text}, qr{<script src="/static/js/audit-live.js" defer></script>},
     'with its script file');
like($res->{text}, qr{id="audit-live-rows" data-cursor="\d+"},
     'and the cursor the script goes on from');
like($res->{text}, qr{data-testid="audit-bursts"}, 'and the bursts table');
ok(recorded_as($res, 'audit.live'), 'the live view is named audit.live');

my $js = http()->get(base_url() . '/static/js/audit-live.js');
is($js->{status}, 200, 'the script is served');
like($js->{headers}{'content-type'}, qr/javascript/, 'as JavaScript');
unlike($js->{content}, qr/innerHTML/, 'and builds rows without innerHTML');

# --- verify ---------------------------------------------------------------------

$res = page('/audit?view=verify', $auditor);
like($res->{text}, qr{data-testid="audit-verify-form"}, 'the verify form');
unlike($res->{text}, qr{data-testid="audit-verify-result"},
       'no result before the button');

$res = page("/audit?view=verify&run=1&$W", $auditor);
like($res->{text}, qr{data-testid="audit-verify-result" data-ok="true"},
     'the range verifies');
like($res->{text}, qr{校验通过}, 'and the page says so');
ok(recorded_as($res, 'audit.verify'), 'verification is named audit.verify');

my $victim = $plain[9];
tamper(sub { sql('admin', "UPDATE audit_records SET user_id = 1"
                          . " WHERE id = $victim->{id}") });
$res = page("/audit?view=verify&run=1&$W", $auditor);
like($res->{text}, qr{data-testid="audit-verify-result" data-ok="false"},
     'a record edited in the database: not ok');
like($res->{text}, qr{data-testid="audit-bad-chain">\Q$C\E<}, 'names the chain');
like($res->{text}, qr{data-testid="audit-bad-seq">$victim->{seq}<},
     'and the seq');
like($res->{text}, qr{data-testid="audit-bad-reason">the stored uid differs},
     'and why');
tamper(sub { sql('admin', "UPDATE audit_records SET user_id = "
                 . "$victim->{user_id} WHERE id = $victim->{id}") });

# --- who may open it ------------------------------------------------------------

$res = page('/audit');
is($res->{status}, 302, 'anonymous: sent to sign in');
like($res->{headers}{location} // '', qr{/login\?next=%2Faudit$},
     'and back here after');

for my $roles (qw(citizen organisation intake handler reviewer supervisor
                  project_manager analyst ops sysadmin secadmin))
{
    my $t = mint(user => 900300 + length($roles), roles => $roles, level => 2);
    my @st;
    my $leak = 0;

    for my $v ("?$W", '?view=live', "?view=verify&run=1&$W") {
        my $x = page("/audit$v", $t);
        push @st, $x->{status};
        $leak ||= $x->{text} =~ /\Q$C\E|203\.0\.113\.77|audit-row/;
    }

    is("@st", '403 403 403', "role $roles may not open the console");
    ok(!$leak, "role $roles sees no record");
}

done_testing();
