# Submission: every field checked (too long, wrong type, unknown or topic
# category, unknown district, bad phone or ID number, unknown field,
# control characters), each refusal a 400 with a code and nothing stored;
# hostile text stored as text; channels and priority only for the roles
# that own them; tracking numbers follow the daily sequence; an
# Idempotency-Key makes a retry return the first appeal and its code.
use strict;
use warnings;
use utf8;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Test::More;
use JSON::PP;
use POSIX qw(_exit);
use DgjTest qw(sql spread_sources);
use DgjLogin qw(api);
use DgjWorkflow qw(submission submit staff_token dept_id appeal_row act
                   events_of citizen_token);

binmode(Test::More->builder->$_, ':encoding(UTF-8)')
    for qw(output failure_output todo_output);

spread_sources();

sub count {
    return (sql('admin', 'SELECT (SELECT COUNT(*) FROM appeals),'
                         . ' (SELECT COUNT(*) FROM appeal_personal),'
                         . ' (SELECT COUNT(*) FROM appeal_events)'))[0];
}

my $T = JSON::PP::true;
my $F = JSON::PP::false;
my $intake = staff_token('intake');

# --- bad input on every field ------------------------------------------------

my @bad = (
    [ { channel => 'fax' },                     'invalid_channel',   'an unknown channel' ],
    [ { channel => 7 },                         'invalid_field',     'a channel that is not a string' ],
    [ { category_code => '9999' },              'unknown_category',  'an unknown category' ],
    [ { category_code => '03' },                'category_not_leaf', 'a topic instead of a leaf' ],
    [ { category_code => undef },               'invalid_field',     'no category' ],
    [ { district_code => '441900999' },         'unknown_district',  'an unknown district' ],
    [ { title => '噪声' },                      'too_short',         'a 2-character title' ],
    [ { title => '字' x 101 },                  'too_long',          'a 101-character title' ],
    [ { title => [ 'x' ] },                     'invalid_field',     'a title that is a list' ],
    [ { title => "夜间施工\x{7}噪声" },         'invalid_text',      'a control character in the title' ],
    [ { content => '太吵了' },                  'too_short',         'content under 10 characters' ],
    [ { content => '吵' x 4001 },               'too_long',          'content over 4000 characters' ],
    [ { content => ' ' x 20 },                  'too_short',         'blank content' ],
    [ { address => '路' x 201 },                'too_long',          'an address over 200 characters' ],
    [ { name => '名' x 51 },                    'too_long',          'a name over 50 characters' ],
    [ { phone => '12345' },                     'invalid_phone',     'a phone number that is none' ],
    [ { phone => '1380013800' },                'invalid_phone',     'a 10-digit mobile' ],
    [ { phone => undef },                       'invalid_field',     'no phone' ],
    [ { id_number => '440101199001011234' },    'invalid_id_number', 'an ID number with a wrong check digit' ],
    [ { anonymous => 'yes' },                   'invalid_field',     'anonymous as a string' ],
    [ { publish_consent => 1 },                 'invalid_field',     'consent as a number' ],
    [ { latitude => 23.0 },                     'invalid_field',     'a latitude without a longitude' ],
    [ { latitude => 95, longitude => 113.7 },   'invalid_field',     'a latitude out of range' ],
    [ { priority => 'vip' },                    'invalid_field',     'an unknown priority' ],
    [ { external_id => 'X1' },                  'invalid_field',     'an external id on a portal submission' ],
    [ { colour => 'red' },                      'invalid_field',     'an unknown field' ],
);

my $n0 = join ',', @{ count() };

for my $c (@bad) {
    my ($over, $code, $what) = @$c;
    my $body = submission(%$over);
    delete $body->{$_} for grep { !defined $over->{$_} && exists $over->{$_} } keys %$over;
    my ($res, $b) = submit($body);
    is($res->{status}, 400, "$what: 400");
    is($b->{error}{code}, $code, "$what: code $code") or diag $res->{content};
}

my ($res, $b) = api('POST', '/api/v1/appeals', '{"channel":"portal",', undef);
is($res->{status}, 400, 'broken JSON: 400');
is($b->{error}{code}, 'invalid_json', 'code invalid_json');
($res, $b) = api('POST', '/api/v1/appeals', '[1,2]', undef);
is($res->{status}, 400, 'a JSON array: 400');
is(join(',', @{ count() }), $n0, 'none of the refused submissions stored anything');

# --- roles own channels and priority ---------------------------------------------

($res, $b) = submit(submission(channel => 'hotline'));
is($res->{status}, 403, 'a citizen cannot claim to be the hotline (403)');
($res, $b) = submit(submission(priority => 'urgent'));
is($res->{status}, 403, 'nor mark an appeal urgent (403)');
($res, $b) = submit(submission(channel => 'hotline', priority => 'urgent', external_id => 'CALL-1'),
                    $intake);
is($res->{status}, 201, 'intake types in an urgent hotline call') or diag $res->{content};
my $hot = $b->{tracking_no};
my $due_hours = (sql('admin', "SELECT TIMESTAMPDIFF(MINUTE, submitted_at, due_at) FROM appeals"
                              . " WHERE tracking_no = '$hot'"))[0][0];
ok($due_hours > 0 && $due_hours <= 120, "urgent: intake due in hours, not days ($due_hours min)");
($res, $b) = submit(submission(channel => 'hotline', external_id => 'CALL-1'), $intake);
is($res->{status}, 200, 'the same call imported again: 200');
is($b->{tracking_no}, $hot, 'the same appeal, not a second one');
ok(!defined $b->{query_code}, 'and no query code shown again');
is($b->{replayed}, JSON::PP::true, 'marked as a replay');

# --- hostile text is stored as text -------------------------------------------------

my $xss = q{<script>alert("x")</script>' OR 1=1; -- DROP TABLE appeals;};
($res, $b) = submit(submission(title => "标题 $xss", content => "内容 $xss \\ \" \n 第二行",
                               address => "<img src=x onerror=alert(1)>"));
is($res->{status}, 201, 'HTML and SQL payloads are accepted as text');
my $x = $b->{tracking_no};
my ($row) = sql('admin', "SELECT title, address FROM appeals WHERE tracking_no = '$x'");
is($row->[0], "标题 $xss", 'the title is stored byte for byte');
is($row->[1], '<img src=x onerror=alert(1)>', 'the address too');
ok((sql('admin', "SELECT COUNT(*) FROM appeals"))[0][0] > 1, 'and the table is still there');

# --- tracking numbers and personal data -----------------------------------------------

my @nos;
for (1 .. 3) {
    ($res, $b) = submit();
    push @nos, $b->{tracking_no};
}
my @seq = map { substr($_, 10) + 0 } @nos;
is_deeply([ $seq[1] - $seq[0], $seq[2] - $seq[1] ], [ 1, 1 ],
          'consecutive submissions take consecutive daily numbers');
my ($today) = sql('admin', "SELECT DATE_FORMAT(submitted_at, '%Y%m%d') FROM appeals"
                           . " WHERE tracking_no = '$nos[0]'");
is(substr($nos[0], 2, 8), $today->[0], 'the number carries the Beijing date of submission');

($res, $b) = submit(submission(id_number => '11010519491231002X', phone => '+86 138-0013-8000'));
is($res->{status}, 201, 'a valid ID number and a phone with +86 and dashes');
my ($p) = sql('admin', "SELECT p.phone, p.id_number FROM appeal_personal p JOIN appeals a"
                       . " ON a.id = p.appeal_id WHERE a.tracking_no = '$b->{tracking_no}'");
is_deeply($p, [ '13800138000', '11010519491231002X' ], 'personal data normalised, kept apart from the appeal');
unlike($res->{content}, qr/13800138000|11010519491231002X|张三丰/, 'and not echoed back');

# --- idempotency ----------------------------------------------------------------------

my $body = submission(title => '幂等提交测试标题');
my %k = ('Idempotency-Key' => 'retry-key-0001');
my ($r1, $b1) = submit($body, undef, \%k);
is($r1->{status}, 201, 'first submission with a key: 201');
my ($r2, $b2) = submit($body, undef, \%k);
is($r2->{status}, 200, 'the retry: 200');
is($b2->{tracking_no}, $b1->{tracking_no}, 'the same appeal');
is($b2->{query_code}, $b1->{query_code}, 'and the same query code, so a lost reply loses nothing');
is($b2->{replayed}, JSON::PP::true, 'marked as a replay');
my ($r3, $b3) = submit(submission(title => '另一个不同的标题'), undef, \%k);
is($r3->{status}, 409, 'the key reused for another body: 409');
is($b3->{error}{code}, 'idempotency_mismatch', 'code idempotency_mismatch');
($r3, $b3) = submit($body, undef, { 'Idempotency-Key' => 'bad key!' });
is($r3->{status}, 400, 'a malformed key: 400');
my ($cit) = citizen_token();
my ($r4, $b4) = submit($body, $cit, \%k);
is($r4->{status}, 201, 'the same key from another caller is another appeal');
isnt($b4->{tracking_no}, $b1->{tracking_no}, 'with its own number');

# the same key sent 6 times at once by a signed-in citizen: one appeal
my $key = 'burst-' . $$;
my $n1 = count()->[0];
my @pids;
pipe(my $rd, my $wr) or die;
for (1 .. 6) {
    my $pid = fork;
    if ($pid == 0) {
        close $rd;
        my ($r, $bb) = submit($body, $cit, { 'Idempotency-Key' => $key });
        syswrite $wr, "$r->{status} " . ($bb->{tracking_no} // '-') . "\n";
        _exit(0);
    }
    push @pids, $pid;
}
close $wr;
my @out = <$rd>;
waitpid($_, 0) for @pids;
my %numbers = map { (split ' ')[1] => 1 } grep { /^20[01] / } @out;
is(scalar(keys %numbers), 1, 'six simultaneous retries answer one tracking number');
is(count()->[0], $n1 + 1, 'and store one appeal');

done_testing();
