# The staff console's pages (/login, /logout, /console, the appeal
# detail, /console/account): who may open each and who is refused (403,
# or 404 for an appeal a department neither leads nor assists); ?next=
# goes only to a path of this site; sign-out needs the CSRF header; each
# action taken with a role the state machine does not give is refused and
# changes nothing; what a submitter or a member of staff typed (title,
# content, address, name, comments, replies, reasons, an attachment's
# name) comes back escaped in the inbox and the detail, for every role.
use strict;
use warnings;
use utf8;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Test::More;
use Encode qw(decode_utf8 encode_utf8);
use JSON::PP;
use DgjTest qw(http base_url sql spread_sources request_json);
use DgjLogin qw(api cookies_of demo_account totp_code);
use DgjAuth qw(mint);
use DgjWorkflow qw(submission submit staff_token dept_id act walk_to
                   version_of);

spread_sources();

# percent-encodes every byte but unreserved ones (core modules only)
sub esc {
    my ($s) = @_;
    $s = encode_utf8($s);
    $s =~ s/([^A-Za-z0-9\-._~])/sprintf('%%%02X', ord $1)/ge;
    return $s;
}

my $LEAD = 'city.housing';
my $OTHER = 'city.ecology';

sub page {
    my ($path, $token, %o) = @_;

    my %h = defined $token ? (Authorization => "Bearer $token") : ();
    my $res = http()->request($o{method} // 'GET', base_url() . $path,
                              { headers => { %h, %{ $o{headers} || {} } },
                                defined $o{body} ? (content => $o{body})
                                                 : () });
    $res->{text} = decode_utf8($res->{content} // '');

    return $res;
}

my %tok = (
    intake => staff_token('intake'),
    handler => staff_token('handler', $LEAD),
    other_handler => staff_token('handler', $OTHER),
    reviewer => staff_token('reviewer'),
    supervisor => staff_token('supervisor'),
    sysadmin => staff_token('sysadmin'),
    secadmin => staff_token('secadmin'),
    auditor => staff_token('auditor'),
    analyst => staff_token('analyst'),
    citizen => mint(user => 990555, roles => 'citizen', ttl => 600),
);

# --- hostile text in every field ------------------------------------------

my $X = '<script>alert(1)</script><img src=x onerror=alert(2)>"\'&';
my $XS = '<b onmouseover=alert(3)>"\'&';   # the name: 50 characters at most
my $XN = '<img src=x onerror=alert(2)>"\'&';   # a file name: no '/'
my $ESC = '&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x '
        . 'onerror=alert(2)&gt;&quot;&#39;&amp;';

my ($res, $b) = submit(submission(title => "噪声$X", content => "夜间施工$X",
                                  address => "地址$X", name => "张$XS",
                                  district_code => '441900101'));
is($res->{status}, 201, 'setup: a hostile submission is stored');
my $no = $b->{tracking_no};

my $file = "\x89PNG\r\n\x1a\n" . ("\0" x 64);
{
    my $r = http()->request('POST', base_url()
        . "/api/v1/appeals/$no/attachments",
        { headers => { Authorization => "Bearer $tok{intake}",
                       'X-File-Name' => esc("照片$XN.png") },
          content => $file });
    is($r->{status}, 201, 'setup: an attachment with a hostile name');
}

for my $step (
    [ intake => accept => { comment => "受理$X" } ],
    [ intake => dispatch => { department_id => dept_id($LEAD),
                              comment => "派单$X" } ],
    [ handler => sign => {} ],
    [ handler => assist_request => { department_ids => [ dept_id($OTHER) ],
                                     comment => "协办$X" } ],
    [ handler => note => { comment => "备注$X" } ],
) {
    my ($role, $action, $body) = @$step;
    my ($r) = act($no, $action, $tok{$role}, $body);
    is($r->{status}, 200, "setup: $role $action with hostile text");
}

for my $role (qw(intake handler reviewer supervisor)) {
    my $r = page("/console/appeals/$no", $tok{$role});
    is($r->{status}, 200, "esc-1.1: the $role opens the detail");
    unlike($r->{text}, qr/<script>alert|<img src=x|<b onmouseover/,
           "esc-1.2: no markup of the submitter's or staff's text ($role)");
    my $n = () = $r->{text} =~ /\Q$ESC\E/g;
    cmp_ok($n, '>=', 6,
           "esc-1.3: the text shown escaped ($role: $n places)");
}

{
    my $r = page("/console/appeals/$no", $tok{intake});
    like($r->{text}, qr/\Q照片&lt;img src=x onerror=alert(2)&gt;&quot;&#39;&amp;.png\E/,
         'esc-1.4: the attachment name escaped');
    like($r->{text}, qr/\Q备注$ESC\E/, 'esc-1.5: the internal note escaped');
    like($r->{text}, qr/\Q协办$ESC\E/, 'esc-1.6: the assist request escaped');
    like($r->{text}, qr/张\*/, 'esc-1.7: the name masked');
    unlike($r->{text}, qr/\Q$XS\E/, 'esc-1.8: not in full');
    like($r->{headers}{'content-security-policy'} // '', qr/default-src 'self'/,
         'esc-1.9: the page sends its CSP');
}

{
    my $r = page('/console?box=handler&state=handling&district=441900101',
                 $tok{handler});
    is($r->{status}, 200, 'esc-2.1: the handler box');
    like($r->{text}, qr/\Q噪声$ESC\E/, 'esc-2.2: the title escaped in the list');
    unlike($r->{text}, qr/<script>alert/, 'esc-2.3: no markup');
}

# --- the inbox's tabs: per caller, box and filters -------------------------

{
    my $two = staff_token('intake,handler', $LEAD);
    my ($api) = request_json('GET', '/api/v1/inbox?box=intake&limit=1', undef,
                             { Authorization => "Bearer $two" });
    my $counts = decode_json($api->{content})->{counts};

    my $r = page('/console?box=intake', $two);
    my ($nav) = $r->{text} =~ m{<nav class="console-boxes"[^>]*>(.*?)</nav>}s;
    ok(defined $nav && $nav =~ /受理/ && $nav =~ /承办/,
       'tabs-1.1: staff with two roles get a tab for each box');
    like($nav // '', qr{aria-current="page">受理 <span class="console-count">\Q$counts->{total}\E<},
         'tabs-1.2: ... the current one with its total');
    my %shown = $r->{text} =~ m{state=(\w+)[^"]*">[^<]+<span class="console-count" data-testid="count">(\d+)<}g;
    is_deeply(\%shown, { map { $_ => $counts->{$_} // 0 }
                              qw(submitted accepted returned handling) },
              'tabs-1.3: each state tab shows the count the API gives');

    # the same box for a caller with one role: the page of the caller
    # before (kept per worker) must not be what this one gets
    $r = page('/console?box=intake', $tok{intake});
    unlike($r->{text}, qr/class="console-boxes"/,
           'tabs-1.4: staff with one role get no box tabs');

    $r = page('/console?box=intake&channel=hotline', $tok{intake});
    my @links = $r->{text} =~ m{<a href="(/console\?[^"]*state=\w+[^"]*)"}g;
    ok(@links == 4 && !grep({ !/channel=hotline/ } @links),
       'tabs-2.1: the state tabs keep the filter');
    $r = page('/console?box=intake', $tok{intake});
    @links = $r->{text} =~ m{<a href="(/console\?[^"]*state=\w+[^"]*)"}g;
    ok(@links == 4 && !grep({ /channel=/ } @links),
       'tabs-2.2: ... and the unfiltered page after it has none');
}

# --- who may open each page ------------------------------------------------

my %pages = (
    '/console' => [ qw(intake handler reviewer supervisor) ],
    "/console/appeals/$no" => [ qw(intake handler reviewer supervisor) ],
    '/console/account' => [ qw(intake handler reviewer supervisor sysadmin
                               secadmin auditor analyst) ],
);

# the account page reads the account: tokens of the demo accounts
my %demo = map { $_->[1] => $_->[0] } sql('admin',
    "SELECT id, username FROM users WHERE username LIKE 'demo.%'");
my %acct = map {
    $_ => mint(user => $demo{"demo.$_"}, roles => $_, ttl => 600, level => 2,
               dept => $_ eq 'handler' ? dept_id($LEAD) : 0)
} qw(intake handler reviewer supervisor sysadmin secadmin auditor analyst);
$acct{citizen} = $tok{citizen};

for my $p (sort keys %pages) {
    my %ok = map { $_ => 1 } @{ $pages{$p} };
    my $toks = $p eq '/console/account' ? \%acct : \%tok;
    for my $role (sort keys %$toks) {
        next if $role eq 'other_handler';
        my $r = page($p, $toks->{$role});
        my $want = $ok{$role} ? 200 : 403;
        is($r->{status}, $want, "role-1: $role opens $p: $want");
        unlike($r->{text}, qr/\Q$ESC\E/, "role-2: $role refused sees nothing")
            unless $ok{$role};
    }

    my $r = page($p, undef);
    is($r->{status}, 302, "role-3: anonymous GET $p is sent away");
    my $to = esc($p);
    like($r->{headers}{location} // '', qr{/api/v1/auth/resume\?next=\Q$to\E$}
         , "role-4: to resume (refresh or sign in) with next=$p");
}

{
    my $r = page("/console/appeals/$no", $tok{other_handler});
    is($r->{status}, 200, 'role-5: the assisting department opens it');
    my ($r2) = act($no, 'assist_reply', $tok{other_handler},
                   { task_id => 0 + (sql('admin',
                       "SELECT t.id FROM appeal_tasks t JOIN appeals a"
                       . " ON a.id = t.appeal_id WHERE a.tracking_no = '$no'"))[0][0],
                     reply => "协办意见$X" });
    is($r2->{status}, 200, 'setup: the assisting department answers');
    my $third = staff_token('handler', 'city.education');
    $r = page("/console/appeals/$no", $third);
    is($r->{status}, 404, 'role-6: a department with no part gets 404');
    unlike($r->{text}, qr/\Q$ESC\E/, 'role-7: and sees nothing of it');
    $r = page('/console/appeals/DG2026', $tok{intake});
    is($r->{status}, 404, 'role-8: a malformed number is 404');
}

# --- ?next= and the login page ---------------------------------------------

for my $c ([ '/console/account', '/console/account' ],
           [ '//evil.example/x', '/console' ],
           [ '/\\evil.example', '/console' ],
           [ 'https://evil.example/', '/console' ],
           [ "/console\r\nX: 1", '/console' ]) {
    my ($next, $want) = @$c;
    my $r = page('/login?next=' . esc($next),
                 $tok{intake});
    is($r->{status}, 302, "next-1: signed in, /login sends on ($next)");
    is($r->{headers}{location} =~ s{^https?://[^/]+}{}r, $want,
       "next-2: to $want");
}

{
    my $r = page('/login', $tok{sysadmin});
    is($r->{headers}{location} =~ s{^https?://[^/]+}{}r, '/console/admin',
       'next-3: a system admin lands on the administration');
    $r = page('/login?next=' . esc('//evil.example'));
    is($r->{status}, 200, 'next-4: signed out: the form');
    unlike($r->{text}, qr/evil\.example/, 'next-5: a foreign next is dropped');
    like($r->{text}, qr/data-testid="login-form"/, 'next-6: the login form');
    $r = page('/login?next=' . esc('/console?box=intake'));
    like($r->{text}, qr{data-next="/login\?next=%2Fconsole%3Fbox%3Dintake"},
         'next-7: a local next is carried through the form');
}

# --- sign-out needs the CSRF header ----------------------------------------

{
    # a real browser sign-in (cookies), so that sign-out has a session
    my $a = demo_account('demo.reviewer');
    my ($lr) = request_json('POST', '/api/v1/auth/login', JSON::PP->new
        ->utf8->encode({ username => $a->{username},
                         password => $a->{password},
                         totp => totp_code($a->{secret},
                             DgjLogin::fresh_step($a->{username})) }));
    is($lr->{status}, 200, 'setup: the reviewer signs in (cookies)');
    my $jar = cookies_of($lr);
    my $cookie = "dgj_at=$jar->{dgj_at}; dgj_csrf=$jar->{dgj_csrf}";

    my $r = page('/logout', undef, method => 'POST',
                 headers => { Cookie => $cookie });
    is($r->{status}, 403, 'out-1: POST /logout without X-CSRF-Token: 403');
    $r = page('/console', undef, headers => { Cookie => $cookie });
    is($r->{status}, 200, 'out-2: and the session still works');

    $r = page('/logout', undef, method => 'POST',
              headers => { Cookie => $cookie,
                           'X-CSRF-Token' => $jar->{dgj_csrf} });
    is($r->{status}, 303, 'out-3: with it: 303');
    like($r->{headers}{location} // '', qr{/login\?signed_out=1$},
         'out-4: to the login page');
    my $gone = 0;
    for (1 .. 30) {
        my $r2 = page('/console', undef, headers => { Cookie => $cookie });
        if ($r2->{status} == 302) { $gone = 1; last; }
        select(undef, undef, undef, 0.1);
    }
    ok($gone, 'out-5: the token is refused afterwards (revoked)');
}

# --- actions refused to the roles the machine table does not name ---------

my $tr = (api('GET', '/api/v1/workflow/transitions'))[1]{transitions};
my %appeal = (
    submitted => walk_to('submitted', dept => $LEAD),
    handling => walk_to('handling', dept => $LEAD),
    replied => walk_to('replied', dept => $LEAD),
);
my %staff = map { $_ => $tok{$_} }
            qw(intake handler reviewer supervisor sysadmin auditor);

for my $t (@$tr) {
    my ($state) = grep { $appeal{$_} } @{ $t->{from} };
    next unless $state;
    my $a = $appeal{$state};
    my %may = map { $_ => 1 } @{ $t->{roles} };

    for my $role (sort keys %staff) {
        next if $may{$role};
        my $v = version_of($a);
        my ($r, $body) = act($a, $t->{action}, $staff{$role},
                             { comment => '越权尝试' });
        is($r->{status}, 403, "act-1: $role may not $t->{action} ($state)");
        is(version_of($a), $v, "act-2: nothing changed ($t->{action}, $role)");
    }
}

done_testing();
