package DgjWorkflow;

# DgjWorkflow: what the workflow tests share: a valid submission, staff
# tokens minted for a role and department (no password login per test),
# actions that carry the appeal's current version, the state as stored,
# and department ids by code.

use strict;
use warnings;
use utf8;

use Exporter 'import';
use JSON::PP;
use DgjTest qw(sql);
use DgjLogin qw(api);
use DgjAuth qw(mint);

our @EXPORT_OK = qw(submission submit staff_token dept_id appeal_row act
                    act_raw version_of events_of walk_to walk_to_code
                    citizen_token);

my %dept_cache;
my $next_user = 900000 + int(rand 50000);


# submission(%overrides) -> a valid portal submission body
sub submission {
    my (%o) = @_;

    return {
        channel => 'portal',
        category_code => '0301',
        district_code => '441900101',
        address => '石碣镇政府路 1 号',
        title => '夜间施工噪声扰民',
        content => '小区旁工地每天晚上十一点后仍在施工, 影响休息。',
        name => '张三丰',
        phone => '13800138000',
        anonymous => JSON::PP::false,
        publish_consent => JSON::PP::true,
        %o,
    };
}


# submit(BODY?, TOKEN?, HEADERS?) -> (res, decoded)
sub submit {
    my ($body, $token, $headers) = @_;

    return api('POST', '/api/v1/appeals', $body // submission(), $token,
               $headers);
}


# dept_id('city.ecology') -> id
sub dept_id {
    my ($code) = @_;

    $dept_cache{$code} //= (sql('admin',
        "SELECT id FROM departments WHERE code = '$code'"))[0][0];

    return 0 + $dept_cache{$code};
}


# staff_token(ROLES, DEPT_CODE?, USER?) -> Bearer token of a fresh user id
sub staff_token {
    my ($roles, $dept, $user) = @_;

    return mint(user => $user // $next_user++, roles => $roles,
                dept => defined $dept ? dept_id($dept) : 0, ttl => 3600,
                level => 2);
}


# citizen_token() -> (token, user id) of a new citizen account row, as an
# SMS sign-in would have made it
sub citizen_token {
    sql('admin', "INSERT INTO users (kind, display_name, created_at, updated_at)"
                 . " VALUES ('citizen', '', NOW(), NOW())");
    my ($id) = sql('admin', "SELECT MAX(id) FROM users WHERE kind = 'citizen'");

    return (mint(user => $id->[0], roles => 'citizen', ttl => 3600), $id->[0]);
}


# appeal_row(NO) -> hashref of the appeals row (selected columns)
sub appeal_row {
    my ($no) = @_;

    die "bad tracking number\n" unless $no =~ /^DG\d{14}$/;

    my @cols = qw(state stage version lead_department_id returns_count
                  extensions_count reopen_count urge_count supervised
                  pending_extension_days outcome outcome_owner reply rating
                  resolved publish_state public_title public_content
                  due_at warn_at handle_due_at closed_at merged_into_id);
    my @row = sql('admin', 'SELECT ' . join(', ', @cols)
                           . " FROM appeals WHERE tracking_no = '$no'");
    return undef unless @row;

    my %h;
    @h{@cols} = @{ $row[0] };

    return \%h;
}


sub version_of {
    my ($no) = @_;

    return appeal_row($no)->{version};
}


# events_of(NO) -> list of [action, from, to, visibility, role]
sub events_of {
    my ($no) = @_;

    die "bad tracking number\n" unless $no =~ /^DG\d{14}$/;

    return sql('admin',
        "SELECT e.action, e.from_state, e.to_state, e.visibility,"
        . " e.actor_role FROM appeal_events e JOIN appeals a"
        . " ON a.id = e.appeal_id WHERE a.tracking_no = '$no' ORDER BY e.id");
}


# act(NO, ACTION, TOKEN, BODY?) -> (res, decoded), with the current version
sub act {
    my ($no, $action, $token, $body) = @_;

    my %b = %{ $body || {} };
    $b{version} //= 0 + version_of($no);

    return api('POST', "/api/v1/appeals/$no/actions/$action", \%b, $token);
}


# act_raw(NO, ACTION, TOKEN, BODY) -> (res, decoded), the body as given
sub act_raw {
    my ($no, $action, $token, $body) = @_;

    return api('POST', "/api/v1/appeals/$no/actions/$action", $body, $token);
}


# walk_to(STATE, %opt) -> tracking number of a new appeal in STATE, driven
# through the API by minted staff of the default department
sub walk_to {
    my ($no) = walk_to_code(@_);

    return $no;
}


# walk_to_code(STATE, %opt) -> (tracking number, query code): walk_to()
# that also gives the code shown at submission (the public routes)
sub walk_to_code {
    my ($state, %opt) = @_;

    my $cat = $opt{category_code} // '0301';
    my ($res, $b) = submit(submission(category_code => $cat,
                                      %{ $opt{fields} || {} }),
                           $opt{citizen});
    die "submit failed: $res->{status} $res->{content}\n"
        unless $res->{status} == 201;

    my $no = $b->{tracking_no};
    my $dept = $opt{dept} // 'city.ecology';
    my $intake = staff_token('intake');
    my $handler = staff_token('handler', $dept);
    my $reviewer = staff_token('reviewer');

    my @path = (
        [ submitted => undef ],
        [ accepted => sub { act($no, 'accept', $intake) } ],
        [ dispatched => sub { act($no, 'dispatch', $intake,
                                  { department_id => dept_id($dept) }) } ],
        [ handling => sub { act($no, 'sign', $handler) } ],
        [ replied => sub { act($no, 'reply', $handler,
                               { reply => '已责令工地夜间停工并处罚。',
                                 outcome => 'resolved' }) } ],
        [ awaiting_feedback => sub { act($no, 'approve', $reviewer) } ],
    );

    for my $step (@path) {
        my ($s, $do) = @$step;

        if ($do) {
            my ($r) = $do->();
            die "walk to $state: $s failed: $r->{status} $r->{content}\n"
                unless $r->{status} == 200;
        }

        return ($no, $b->{query_code}) if $s eq $state;
    }

    die "walk_to: cannot reach $state\n";
}


1;
