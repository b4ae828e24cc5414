# The auditor's console API (/api/v1/audit/records, live, export, verify):
# only the auditor reads the log and the auditor changes nothing else;
# every filter of the search works; pages are keyset pages that a newer
# record does not shift; the live view flags scanners, tools, SQL
# injection, XSS, traversal and bursts of refusals; verify finds a row
# edited, re-sealed, deleted or forged in the database by its root; the
# CSV export guards against formula injection; every read is named for the
# audit log.  Lines are sealed with the stack's own verify key
# (tests/lib/DgjAudit.pm), as the gateway seals them.
use strict;
use warnings;
use utf8;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Test::More;
use JSON::PP;
use Encode qw(decode_utf8);
use DgjTest qw(sql http base_url wait_until spread_sources);
use DgjLogin qw(api);
use DgjAuth qw(mint add_server_conf remove_server_conf);
use DgjWorkflow qw(submit act events_of appeal_row);
use DgjAudit qw(new_chain start_line rec_line store tamper
                time_local ms_now recorded_as);

spread_sources();

my $auditor = mint(user => 990001, roles => 'auditor', level => 2,
                   ttl => 900);

sub get {
    my ($path, $token) = @_;
    return api('GET', $path, undef, $token // $auditor);
}

sub ids {
    my ($list) = @_;
    return join ',', map { $_->{id} } @$list;
}

# the records of our own chain only (the gateway logs this test too)
sub mine {
    my ($chain, $list) = @_;
    return [ grep { $_->{chain} eq $chain } @$list ];
}

# --- a day in the past: one chain of 13 requests -------------------------

# an hour of October 2026 of this run's own (a rerun on a kept stack
# does not meet the last one's lines)
my $T0 = 1790784000000 + ($$ % 600) * 3600000;  # from 2026-10-01T00:00+08
my $A = "tA$$";

# "2026-10-24T10:00" for T0 + s seconds, and the same in UTC with Z
sub at {
    my ($s) = @_;
    return substr(time_local($T0 + $s * 1000), 0, $s =~ /\./ ? 23
                  : $s % 60 ? 19 : 16);
}

sub at_z {
    my ($s) = @_;
    my @t = gmtime(($T0 + $s * 1000) / 1000);
    return sprintf '%04d-%02d-%02dT%02d:%02d:%02dZ', $t[5] + 1900, $t[4] + 1,
                   $t[3], $t[2], $t[1], $t[0];
}

my $chain = new_chain($A);
start_line($chain, $T0);

my %r;
$r{1} = rec_line($chain, $T0 + 1000, uid => 101, roles => 'intake',
                 dept => 3, ip => '198.51.100.7', auth => 'OK',
                 path => '/api/v1/appeals?status=open',
                 action => 'appeal.accept', object => 'DG20261024000001');
$r{2} = rec_line($chain, $T0 + 2000, uid => 102, roles => 'handler',
                 dept => 4, ip => '198.51.100.8', auth => 'OK',
                 method => 'POST', status => 201,
                 path => '/api/v1/appeals/DG20261024000001/reply',
                 action => 'appeal.reply', object => 'DG20261024000001');
$r{3} = rec_line($chain, $T0 + 3000, ip => '203.0.113.9', status => 401,
                 path => '/api/v1/admin/users');
$r{4} = rec_line($chain, $T0 + 4000, uid => 101, roles => 'intake',
                 ip => '198.51.100.7', status => 403, auth => 'FORBIDDEN',
                 path => '/api/v1/security/bans');
$r{5} = rec_line($chain, $T0 + 5000, ip => '203.0.113.9', status => 429,
                 method => 'POST', limit => 'REJECTED',
                 path => '/api/v1/auth/login');
$r{6} = rec_line($chain, $T0 + 6000, ip => '203.0.113.10', status => 400,
                 path => '/api/v1/appeals?x=1');
$r{7} = rec_line($chain, $T0 + 7000, ip => '203.0.113.11', status => 503,
                 path => '/api/v1/overview');
$r{8} = rec_line($chain, $T0 + 8000, uid => 103, roles => 'auditor',
                 ip => '10.1.2.3', auth => 'OK',
                 path => '/api/v1/audit/records?from=***',
                 action => 'audit.search');
# five in the same millisecond: the order within it is the id's
$r{9} = rec_line($chain, $T0 + 9000, ip => '203.0.113.66', status => 400,
                 ua => 'sqlmap/1.7.2#stable (https://sqlmap.org)',
                 path => '/api/v1/appeals?id=1%27%20OR%201%3D1--');
$r{10} = rec_line($chain, $T0 + 9000, ip => '203.0.113.66', status => 404,
                  ua => '=HYPERLINK("http://evil.example/","x")',
                  path => '/x?q=<script>alert(1)</script>');
$r{11} = rec_line($chain, $T0 + 9000, ua => '+cmd|calc', path => '/');
$r{12} = rec_line($chain, $T0 + 9000, ua => '@SUM(1+1)', path => '/');
$r{13} = rec_line($chain, $T0 + 9000, ua => '-2+3 路灯', path => '/');
store(@{ $chain->{lines} });

my $W = 'from=' . at(0) . '&to=' . at(3600);

# newest first: by time, then by id
my @all = map { $r{$_} } (13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1);

sub expect {
    return join ',', map { $r{$_}{id} } @_;
}

# --- who may read ----------------------------------------------------------

my @routes = ("/api/v1/audit/records?$W", '/api/v1/audit/live',
              "/api/v1/audit/export?$W", "/api/v1/audit/verify?$W");

for my $path (@routes) {
    my ($x) = api('GET', $path);
    is($x->{status}, 401, "anonymous: $path is 401");
}

my ($res, $b) = api('POST', '/api/v1/audit/verify',
                    { from => at(0), to => at(3600) });
is($res->{status}, 401, 'anonymous: POST verify is 401');

# every other role, with a validly signed token, is refused and sees none
# of the log; so is one holding every role but the auditor's
for my $roles (qw(citizen organisation org_pending intake handler reviewer
                  supervisor project_manager analyst ops sysadmin secadmin),
               'intake,handler,reviewer,supervisor,project_manager,analyst,'
               . 'ops,sysadmin,secadmin')
{
    my $t = mint(user => 900100 + length($roles), roles => $roles,
                 level => 2);
    my @st;
    my $leak = 0;

    for my $path (@routes, '/audit') {
        my ($x) = get($path, $t);
        push @st, $x->{status};
        $leak ||= $x->{content} =~ /\Q$A\E|203\.0\.113\.66|sqlmap/;
    }

    my ($x) = api('POST', '/api/v1/audit/verify',
                  { from => at(0), to => at(3600) }, $t);
    push @st, $x->{status};

    is("@st", '403 403 403 403 403 403', "role $roles: refused everywhere");
    ok(!$leak, "role $roles: no record in any answer");
}

# the workers check the role too, whatever nginx lets through
add_server_conf('audit_console', <<"CONF");
location /_test_audit/ {
    dgj_auth  optional;
    rewrite   ^/_test_audit/(.*)\$ /api/v1/audit/\$1 break;
    include   $ENV{DGJ_ROOT}/conf/fastcgi_params;
    fastcgi_pass  dgj_main;
}
CONF

{
    my $t = mint(user => 900201, roles => 'sysadmin,secadmin', level => 2);
    my @st;
    for my $p ("records?$W", 'live', "export?$W", "verify?$W") {
        my ($x, $y) = get("/_test_audit/$p", $t);
        push @st, "$x->{status}:" . ($y ? $y->{error}{code} : '-');
    }
    is("@st", join(' ', ('403:forbidden') x 4),
       'past nginx, the handlers refuse a sysadmin and secadmin too');

    my ($x) = api('GET', "/_test_audit/records?$W");
    is($x->{status}, 401, 'past nginx, anonymous is 401 from the handler');

    ($x, my $y) = get("/_test_audit/records?$W", $auditor);
    is($x->{status}, 200, 'past nginx, the auditor is served');
}

remove_server_conf('audit_console');

# the auditor changes nothing else (separation of duties)
{
    my %count = map { $_ => (sql('admin', "SELECT COUNT(*) FROM $_"))[0][0] }
                qw(users bans departments security_policy);
    my @writes = (
        [ 'POST', '/api/v1/admin/users',
          { username => 'audit.made', display_name => 'x', department_id => 1,
            roles => ['auditor'] } ],
        [ 'PATCH', '/api/v1/admin/users/1', { status => 'disabled' } ],
        [ 'PUT', '/api/v1/admin/users/1/roles', { roles => ['auditor'] } ],
        [ 'POST', '/api/v1/admin/users/1/reset', {} ],
        [ 'POST', '/api/v1/admin/departments',
          { code => 'AUD1', name => 'x', kind => 'other' } ],
        [ 'PATCH', '/api/v1/admin/departments/1', { name => 'x' } ],
        [ 'PUT', '/api/v1/security/policy', { lockout_threshold => 50 } ],
        [ 'POST', '/api/v1/security/bans',
          { kind => 'ip', value => '203.0.113.200', minutes => 5,
            reason => 'x' } ],
        [ 'DELETE', '/api/v1/security/bans/1', undef ],
        [ 'POST', '/api/v1/organisations/1/verify', {} ],
    );

    for my $w (@writes) {
        my ($x) = api($w->[0], $w->[1], $w->[2], $auditor);
        is($x->{status}, 403, "the auditor may not $w->[0] $w->[1]");
    }

    # and no step of the workflow: an appeal submitted, then every staff
    # action on it and a deadline rule, as the auditor
    my ($x, $y) = submit();
    is($x->{status}, 201, 'setup: an appeal is submitted');
    my $no = $y->{tracking_no};
    my $events = scalar events_of($no);
    my $rules = (sql('admin', "SELECT COUNT(*) FROM deadline_rules"))[0][0];

    for my $action (qw(accept reject merge reclassify direct_answer
                       dispatch sign reply approve publish urge supervise
                       note)) {
        ($x, $y) = act($no, $action, $auditor, { comment => 'audit test' });
        is($x->{status}, 403, "the auditor may not $action an appeal");
    }

    ($x) = api('POST', '/api/v1/admin/deadline-rules',
               { stage => 'handle', unit => 'working_days', amount => 1,
                 effective_from => '2027-01-04', note => 'x' }, $auditor);
    is($x->{status}, 403, 'the auditor may not add a deadline rule');
    is(scalar events_of($no), $events, 'the appeal has no new event');
    is(appeal_row($no)->{state}, 'submitted', 'and is still submitted');
    is((sql('admin', "SELECT COUNT(*) FROM deadline_rules"))[0][0], $rules,
       'no deadline rule was added');

    my %after = map { $_ => (sql('admin', "SELECT COUNT(*) FROM $_"))[0][0] }
                keys %count;
    is_deeply(\%after, \%count, 'and nothing was stored');
    is((sql('admin', "SELECT COUNT(*) FROM users WHERE status = 'disabled'"
            . " AND id = 1"))[0][0], 0, 'user 1 is still active');
}

# --- search: each filter --------------------------------------------------

($res, $b) = get("/api/v1/audit/records?$W");
is($res->{status}, 200, 'the auditor searches a window: 200');
is(ids($b->{records}), ids(\@all), 'all 13 records, newest first, '
   . 'the start line left out');
is($b->{next_cursor}, undef, 'one page: no next cursor');
is($b->{from}, time_local($T0), 'the range is echoed in UTC+8');
ok(recorded_as($res, 'audit.search'), 'the search is named audit.search');

{
    my ($x) = grep { $_->{id} == $r{1}{id} } @{ $b->{records} };
    is_deeply([ @$x{qw(time user_id roles dept_id ip method path status auth
                       limit action object chain seq)} ],
              [ time_local($T0 + 1000), 101, 'intake', 3,
                '198.51.100.7', 'GET', '/api/v1/appeals?status=open', 200,
                'OK', 'PASSED', 'appeal.accept', 'DG20261024000001', $A, 1 ],
              'a record carries its fields, its time in UTC+8');
}

my @cases = (
    [ 'user_id=101', [4, 1] ],
    [ 'ip=198.51.100.7', [4, 1] ],
    [ 'ip=198.51.100.*', [4, 2, 1] ],
    [ 'path=security', [4] ],
    [ 'path=/api/v1/appeals', [9, 6, 2, 1] ],
    [ 'path=%25', [9] ],                        # a literal %, not "any"
    [ 'path=_', [] ],                           # a literal _, not "one"
    [ 'status=403', [4] ],
    [ 'status=4xx', [10, 9, 6, 5, 4, 3] ],
    [ 'status=5XX', [7] ],
    [ 'action=appeal.accept', [1] ],
    [ 'action=appeal.*', [2, 1] ],
    [ 'action=audit.search', [8] ],
    [ 'outcome=denied', [5, 4, 3] ],
    [ 'outcome=allowed', [13, 12, 11, 8, 2, 1] ],
    [ 'outcome=client_error', [10, 9, 6] ],
    [ 'outcome=server_error', [7] ],
    [ 'outcome=denied&status=4xx', [5, 4, 3] ],
    [ 'outcome=allowed&status=4xx', [] ],
    [ 'auth=FORBIDDEN', [4] ],
    [ 'ip=203.0.113.9&status=429', [5] ],
    [ 'user_id=101&outcome=allowed', [1] ],
    [ '', [4, 3, 2], 'from=' . at(2) . '&to=' . at(5) ],
    [ '', [4, 3, 2], 'from=' . at_z(2) . '&to=' . at_z(5) ],
    [ 'ip=&path=&user_id=', [ 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1 ] ],
);

for my $c (@cases) {
    my $q = ($c->[2] // $W) . ($c->[0] ne '' ? "&$c->[0]" : '');
    ($res, $b) = get("/api/v1/audit/records?$q");
    is($res->{status} . ' ' . ids(mine($A, $b->{records} || [])),
       '200 ' . expect(@{ $c->[1] }), "filter $q");
}

for my $bad ('from=yesterday', 'to=2026-02-30',
             'from=' . at(7200) . '&to=' . at(3600),
             'from=2025-01-01&to=2026-10-24', 'status=40', 'status=abc',
             'status=6xx', 'outcome=maybe', 'ip=a.b.c.z', 'action=Appeal!',
             'auth=ok', 'user_id=-1', 'user_id=x', 'limit=0', 'limit=501',
             'cursor=junk', 'path=' . ('x' x 257), 'path=a%0Ab')
{
    ($res, $b) = get("/api/v1/audit/records?$bad&$W");
    is($res->{status}, 400, "refused: $bad");
    like($b->{error}{code} // '', qr/^invalid_/, "with an invalid_* code");
}

# --- keyset pages ------------------------------------------------------------

{
    my (@seen, $cursor, $pages);
    my $inserted = 0;

    for (;;) {
        my $q = "/api/v1/audit/records?$W&limit=2"
                . (defined $cursor ? "&cursor=$cursor" : '');
        ($res, $b) = get($q);
        last unless $res->{status} == 200;
        $pages++;
        push @seen, @{ $b->{records} };
        $cursor = $b->{next_cursor};

        # a newer record arrives after the first page: an offset would
        # shift every later page by one; the cursor does not move
        if (!$inserted++) {
            my $late = rec_line($chain, $T0 + 30000, path => '/late');
            store($late);
            $r{14} = $late;
        }

        last unless defined $cursor;
    }

    is($pages, 7, '13 records in pages of 2: 7 pages');
    is(ids(\@seen), ids(\@all), 'the pages hold each record once, in order, '
       . 'though a newer one arrived meanwhile');
    is($seen[0]{time}, time_local($T0 + 9000), 'ties on one millisecond are '
       . 'split across pages without loss');

    ($res, $b) = get("/api/v1/audit/records?$W&limit=2");
    is(ids($b->{records}), expect(14, 13), 'a new first page shows the newer '
       . 'record');
}

# --- the CSV export ----------------------------------------------------------

sub csv_rows {
    my ($text) = @_;

    my (@rows, @row, $cell, $q);
    $cell = '';
    my $i = 0;
    my $n = length $text;

    while ($i < $n) {
        my $c = substr($text, $i++, 1);
        if ($q) {
            if ($c eq '"') {
                if (substr($text, $i, 1) eq '"') { $cell .= '"'; $i++ }
                else { $q = 0 }
            } else { $cell .= $c }
        } elsif ($c eq '"') { $q = 1 }
        elsif ($c eq ',') { push @row, $cell; $cell = '' }
        elsif ($c eq "\r" && substr($text, $i, 1) eq "\n") {
            $i++;
            push @row, $cell;
            push @rows, [@row];
            @row = ();
            $cell = '';
        } else { $cell .= $c }
    }

    return @rows;
}

{
    my $x = http()->get(base_url() . "/api/v1/audit/export?$W",
                        { headers => { Authorization => "Bearer $auditor" } });
    is($x->{status}, 200, 'export: 200');
    like($x->{headers}{'content-type'}, qr{^text/csv; charset=utf-8$},
         'as CSV');
    (my $f = at(0) . '-' . at(3600)) =~ s/[-T:]//g;
    $f =~ s/^(\d{12})(\d{12})$/$1-$2/;
    is($x->{headers}{'content-disposition'},
       qq{attachment; filename="audit-$f.csv"},
       'a download named after the range');
    ok(recorded_as($x, 'audit.export'), 'the export is named audit.export');

    my $body = $x->{content};
    is(substr($body, 0, 3), "\xEF\xBB\xBF", 'a UTF-8 BOM for spreadsheets');

    my @rows = csv_rows(decode_utf8(substr($body, 3)));
    my $head = shift @rows;
    is(join(',', @$head), 'time,request_id,user_id,roles,dept_id,ip,port,'
       . 'method,path,status,auth,limit,action,object,ms,bytes_in,bytes_out,'
       . 'ua,flags,chain,seq,id', 'the header row');

    my %col;
    @col{@$head} = 0 .. $#$head;
    my @mine = grep { $_->[$col{chain}] eq $A } @rows;
    is(join(',', map { $_->[$col{id}] } @mine),
       expect(1 .. 14), 'every record of the range, oldest first');

    my %by_id = map { $_->[$col{id}] => $_ } @mine;
    is($by_id{ $r{10}{id} }[$col{ua}],
       q{'=HYPERLINK("http://evil.example/","x")},
       'a formula in a cell is quoted and turned into text with \'');
    is($by_id{ $r{11}{id} }[$col{ua}], "'+cmd|calc", '+ is guarded');
    is($by_id{ $r{12}{id} }[$col{ua}], "'\@SUM(1+1)", '@ is guarded');
    is($by_id{ $r{13}{id} }[$col{ua}], "'-2+3 路灯", '- is guarded, UTF-8 kept');
    is($by_id{ $r{9}{id} }[$col{flags}], 'scanner;sqli',
       'the flags are in the file');
    is($by_id{ $r{3}{id} }[$col{user_id}], '', 'an anonymous user is empty');
    like($body, qr/\r\n$/, 'rows end in CRLF');

    # in parts: the next cursor goes on where a part stopped
    my (@parts, $cursor);
    for (1 .. 10) {
        my $q = "/api/v1/audit/export?$W&limit=4"
                . (defined $cursor ? "&cursor=$cursor" : '');
        my $y = http()->get(base_url() . $q,
                            { headers => { Authorization => "Bearer $auditor" } });
        my @p = csv_rows(decode_utf8(substr($y->{content}, 3)));
        shift @p;
        push @parts, grep { $_->[$col{chain}] eq $A } @p;
        $cursor = $y->{headers}{'x-audit-next-cursor'};
        last unless defined $cursor;
    }
    is(join(',', map { $_->[$col{id}] } @parts), expect(1 .. 14),
       'an export in parts of 4 joins up to the whole');
}

# --- verify --------------------------------------------------------------------

sub verify {
    my ($from, $to) = @_;
    my ($x, $y) = api('POST', '/api/v1/audit/verify',
                      { from => $from, to => $to }, $auditor);
    return ($x, $y);
}

($res, $b) = verify(at(0), at(3600));
is($res->{status}, 200, 'verify: 200');
ok($b->{ok}, 'the untouched range verifies') or diag explain $b;
is($b->{records}, 15, 'the start line and 14 records were checked');
is($b->{chains}[0]{chain}, $A, 'our chain');
ok(!$b->{chains}[0]{anchored}, 'from its start line');
ok(recorded_as($res, 'audit.verify'), 'verify is named audit.verify');

($res, $b) = verify(at(3), at(7));
ok($b->{ok}, 'a range that starts mid-chain verifies');
ok($b->{chains}[0]{anchored}, 'anchored on the record before it');
is("$b->{chains}[0]{first_seq}-$b->{chains}[0]{last_seq}", '3-6',
   'seq 3 to 6');
is($b->{records}, 5, 'its 4 lines and the one after it');

($res, $b) = api('GET', "/api/v1/audit/verify?$W", undef, $auditor);
ok($b->{ok}, 'verify by GET (the page\'s subrequest) says the same');

# the application account cannot edit the log (the client's complaint
# goes to /dev/null: the refusal is what is tested)
sub refused {
    my ($q) = @_;

    open(my $saved, '>&', \*STDERR) or die "dup: $!";
    open(STDERR, '>', '/dev/null') or die "/dev/null: $!";
    my $ok = eval { sql('app', $q); 1 };
    open(STDERR, '>&', $saved) or die "dup: $!";

    return !$ok;
}

ok(refused("UPDATE audit_records SET status = 200 WHERE id = $r{4}{id}"),
   'the application account cannot UPDATE audit_records');
ok(refused("DELETE FROM audit_records WHERE id = $r{4}{id}"), 'nor DELETE');
is((sql('admin', "SELECT status FROM audit_records WHERE id = $r{4}{id}"))[0][0],
   403, 'the record is as it was');

# the database root can: each kind of tampering is found
sub check_bad {
    my ($what, $seq, $reason) = @_;

    my ($x, $y) = verify(at(0), at(3600));
    is($x->{status}, 200, "$what: verify answers");
    ok(!$y->{ok}, "$what: not ok");
    is($y->{first_bad}{chain} // '', $A, "$what: the chain is named");
    is($y->{first_bad}{seq} // -1, $seq, "$what: the first bad seq is $seq");
    like($y->{first_bad}{reason} // '', $reason, "$what: why");

    return $y;
}

my $id4 = $r{4}{id};
tamper(sub { sql('admin', "UPDATE audit_records SET status = 200,"
                          . " auth = 'OK' WHERE id = $id4") });
my $y = check_bad('a column edited (403 made 200)', 4,
                  qr/stored status differs from the signed line/);
is($y->{first_bad}{time} // '', time_local($T0 + 4000),
   'the bad record\'s time is given');
tamper(sub { sql('admin', "UPDATE audit_records SET status = 403,"
                          . " auth = 'FORBIDDEN' WHERE id = $id4") });
($res, $b) = verify(at(0), at(3600));
ok($b->{ok}, 'put back, it verifies again');

my $id6 = $r{6}{id};
tamper(sub { sql('admin', "UPDATE audit_records SET status = 200,"
                 . " raw = REPLACE(raw, '\"status\":400', '\"status\":200')"
                 . " WHERE id = $id6") });
check_bad('the signed line edited with its column', 6, qr/mac mismatch/);
tamper(sub { sql('admin', "UPDATE audit_records SET status = 400,"
                 . " raw = REPLACE(raw, '\"status\":200', '\"status\":400')"
                 . " WHERE id = $id6") });

my $id7 = $r{7}{id};
my ($row7) = sql('admin', "SELECT raw FROM audit_records WHERE id = $id7");
tamper(sub { sql('admin', "DELETE FROM audit_records WHERE id = $id7") });
check_bad('a record deleted', 7, qr/gap: expected 7, found 8/);

# cut from the end of a range: the line after it shows the gap
($res, $b) = verify(at(3), at(8));
ok(!$b->{ok} && $b->{first_bad}{seq} == 7,
   'a record cut from the end of a range is found by the line after it');
store($r{7});
($res, $b) = verify(at(0), at(3600));
ok($b->{ok}, 'restored, it verifies again');

# a forged record inserted with a seq already taken
{
    my $forged = { %{ $r{8} }, ts => DgjAudit::time_utc_sql($T0 + 8500),
                   raw => $r{8}{raw} =~ s/10\.1\.2\.3/10.1.2.4/r,
                   ip => '10.1.2.4' };
    delete $forged->{id};
    store($forged);
    check_bad('a forged line under a taken seq', 8,
              qr/mac mismatch|repeated/);
    tamper(sub { sql('admin', "DELETE FROM audit_records WHERE id ="
                              . " $forged->{id}") });
}

# the gateway's own lines, as its audit module wrote them and the
# ingester stored them, verify too: their MACs and every column
{
    my @g = gmtime(time() - 5);
    my $from = sprintf '%04d-%02d-%02dT%02d:%02d:%02dZ', $g[5] + 1900,
                       $g[4] + 1, @g[3, 2, 1, 0];
    my @rids;

    for (1 .. 3) {
        my ($x) = api('GET', '/api/v1/overview?q=' . $_);
        push @rids, $x->{headers}{'x-request-id'};
    }

    ok(wait_until(15, sub {
        (sql('admin', "SELECT COUNT(*) FROM audit_records WHERE request_id"
             . " IN ('" . join("','", @rids) . "')"))[0][0] == 3;
    }), 'the gateway\'s records of three requests are ingested');

    @g = gmtime(time() + 5);
    my $to = sprintf '%04d-%02d-%02dT%02d:%02d:%02dZ', $g[5] + 1900,
                     $g[4] + 1, @g[3, 2, 1, 0];

    ($res, $b) = verify($from, $to);
    ok($b->{ok}, 'the gateway\'s own lines of these seconds verify')
        or diag explain $b->{first_bad};
    ok(grep({ $_->{chain} !~ /^t[A-Z]\d+$/ } @{ $b->{chains} }),
       'checked on the chains of its workers');
}

for my $bad ([{ from => 'x', to => '2026-10-24' }, 'invalid_time'],
             [{ from => '2026-10-25', to => '2026-10-24' }, 'invalid_range'],
             [{ from => '2026-10-24' }, 'invalid_field'])
{
    ($res, $b) = api('POST', '/api/v1/audit/verify', $bad->[0], $auditor);
    is("$res->{status} " . ($b->{error}{code} // ''), "400 $bad->[1]",
       "verify refuses: $bad->[1]");
}

# --- the live view: now, in ingest order ----------------------------------

($res, $b) = get('/api/v1/audit/live?limit=5');
is($res->{status}, 200, 'live: 200');
ok(recorded_as($res, 'audit.live'), 'the live view is named audit.live');
my $cursor = $b->{cursor};
like($cursor, qr/^\d+$/, 'a cursor to go on from');

my $B = "tB$$";
# addresses of this run's own: a burst counts the last minute
my $hot = '10.99.' . ($$ % 250) . '.99';
my $cold = '10.99.' . ($$ % 250) . '.98';
my $live = new_chain($B);
my $now = ms_now();
start_line($live, $now);
my %l;
$l{scanner} = rec_line($live, $now + 1, ua => 'Mozilla/5.0 (compatible; '
                       . 'Nmap Scripting Engine; https://nmap.org/book/nse.html)',
                       path => '/nmaplowercheck1700000000', status => 404);
$l{tool} = rec_line($live, $now + 2, ua => 'curl/8.4.0', path => '/');
$l{sqli} = rec_line($live, $now + 3,
                    path => '/api/v1/appeals?id=1%20UNION%20SELECT%20NULL--');
$l{xss} = rec_line($live, $now + 4,
                   path => '/x?q=%3Csvg%20onload%3Dalert(1)%3E');
$l{traversal} = rec_line($live, $now + 5, path => '/static/..%2f..%2fetc/passwd');
$l{plain} = rec_line($live, $now + 6, path => '/api/v1/categories');
my @burst;
for my $i (1 .. 12) {
    push @burst, rec_line($live, $now + 10 + $i, ip => $hot,
                          status => (401, 403, 429)[$i % 3],
                          path => '/api/v1/auth/login', method => 'POST');
}
$l{refused_once} = rec_line($live, $now + 30, ip => $cold,
                            status => 401, path => '/api/v1/auth/me');
store(@{ $live->{lines} });

($res, $b) = get("/api/v1/audit/live?after=$cursor&burst_min=10");
my $got = mine($B, $b->{records});
is(scalar @$got, 19, 'the 19 new records of our chain, no older one');
is(ids($got), join(',', sort { $main::a <=> $main::b } map { $_->{id} } @$got),
   'oldest first (ingest order)');

my %flags = map { $_->{id} => join(' ', @{ $_->{flags} }) } @$got;
for my $kind (qw(scanner tool sqli xss traversal)) {
    is($flags{ $l{$kind}{id} }, $kind, "the $kind record is flagged $kind");
}
is($flags{ $l{plain}{id} }, '', 'an ordinary request has no flag');
is(scalar(grep { $flags{ $_->{id} } =~ /\bburst\b/ } @burst), 12,
   'all 12 refusals of the bursting address are flagged burst');
is($flags{ $l{refused_once}{id} }, '', 'a single refusal is not a burst');

my ($burst) = grep { $_->{ip} eq $hot } @{ $b->{bursts} };
ok($burst, 'the bursting address is listed');
is($burst->{refusals}, 12, 'with its 12 refusals');
is_deeply($burst->{by_status}, { 401 => 4, 403 => 4, 429 => 4 },
          'by status');
ok(!grep({ $_->{ip} eq $cold } @{ $b->{bursts} }),
   'one refusal makes no burst');

my $next = $b->{cursor};
ok($next > $cursor, 'the cursor moved on');

($res, $b) = get("/api/v1/audit/live?after=$cursor&flagged=1&burst_min=10");
ok(!grep({ $_->{id} == $l{plain}{id} } @{ $b->{records} }),
   'flagged=1 leaves out what is not flagged');
ok(grep({ $_->{id} == $l{sqli}{id} } @{ $b->{records} }),
   'and keeps what is');

($res, $b) = get("/api/v1/audit/live?after=$next");
is(scalar @{ mine($B, $b->{records}) }, 0, 'nothing new of ours after it');

# a record ingested late (a slow request) still shows: ingest order
my $slow = rec_line($live, $now - 60000, path => '/slow-report');
store($slow);
($res, $b) = get("/api/v1/audit/live?after=$next");
is(ids(mine($B, $b->{records})), $slow->{id},
   'a record stamped a minute ago but ingested now shows up');

for my $bad ('after=x', 'after=-1', 'limit=501', 'flagged=2',
             'burst_window=5', 'burst_min=1') {
    ($res) = get("/api/v1/audit/live?$bad");
    is($res->{status}, 400, "live refuses $bad");
}

done_testing();
