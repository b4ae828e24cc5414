#!/usr/bin/perl

# portal_pages.t: the public pages of both columns (/ and /wx/, docs/
# portal.md) as a visitor without JavaScript meets them: every page's status
# and security headers; a submission with an image -> receipt with the
# query code once -> follow with the code -> staff act through the API ->
# the reply appears -> rate -> published, the appeal shows in the
# disclosures with masked data; field errors kept next to the fields with
# every typed value; CSRF refused; XSS payloads come back escaped; a wrong
# code and an unknown number get the same page.

use strict;
use warnings;
use utf8;

use Test::More;
use Encode ();
use IO::Uncompress::Gunzip ();
use DgjTest qw(sql wait_until);
use DgjWorkflow qw(staff_token act dept_id citizen_token);
use DgjPortal qw(new_visitor page_get page_post hidden answer_question
                 submit_form_fields PNG);

binmode(Test::More->builder->$_, ':encoding(UTF-8)')
    for qw(output failure_output todo_output);

my $XSS = q{<script>alert(1)</script>"'&<img src=x onerror=alert(2)>};

sub escaped_ok {
    my ($html, $label) = @_;
    unlike($html, qr/<script>alert|<img src=x/, "$label: no raw payload");
}

# 1. every page: status, type, headers, language
my $v = new_visitor();
for my $p ('/', '/wx/', '/submit', '/wx/submit', '/follow', '/wx/follow',
           '/disclosures', '/wx/disclosures', '/signin', '/wx/signin')
{
    my ($res, $html) = page_get($v, $p);
    is($res->{status}, 200, "pages-1: GET $p answers 200");
    like($res->{headers}{'content-type'} // '', qr{^text/html; charset=utf-8},
         "pages-1: $p is UTF-8 HTML");
    my $csp = $res->{headers}{'content-security-policy'} // '';
    like($csp, qr/default-src 'self'/, "pages-1: $p CSP default-src self");
    like($csp, qr/frame-ancestors 'none'/, "pages-1: $p CSP frame-ancestors");
    unlike($csp, qr/unsafe-inline/, "pages-1: $p CSP has no unsafe-inline");
    ok($res->{headers}{'referrer-policy'}, "pages-1: $p Referrer-Policy");
    like($res->{headers}{'x-content-type-options'} // '', qr/nosniff/,
         "pages-1: $p nosniff");
    like($html, qr/<html lang="zh-CN">/, "pages-1: $p lang zh-CN");
    unlike($html, qr/<script>|<style|style="/,
           "pages-1: $p has no inline script or style");
    unlike($html, qr/\{\{|\{%/, "pages-1: $p leaks no template marker");
}

my ($res, $html) = page_get($v, '/wx/');
like($html, qr{/static/vendor/weui\.min\.css}, 'pages-1.2: /wx/ uses WeUI');
like($html, qr/<meta property="og:title"/, 'pages-1.3: /wx/ has a share title');
($res) = HTTP::Tiny->new->get(DgjTest::base_url() . '/static/vendor/weui.min.css');
is($res->{status}, 200, 'pages-1.4: the WeUI stylesheet is served');

# 1.5 the home pages, kept rendered, go gzip-compressed to a browser that
# asks (and whole to one that does not), the same page either way
for my $p ('/', '/wx/') {
    my $url = DgjTest::base_url() . $p;
    my $plain = HTTP::Tiny->new->get($url);
    my $gz = HTTP::Tiny->new->get($url, { headers => {
        'Accept-Encoding' => 'gzip, deflate, br, zstd' } });
    my $refused = HTTP::Tiny->new->get($url, { headers => {
        'Accept-Encoding' => 'gzip;q=0, deflate' } });

    is($gz->{headers}{'content-encoding'} // '', 'gzip',
       "gzip-1: $p is gzip for a browser that accepts it");
    my $body;
    IO::Uncompress::Gunzip::gunzip(\$gz->{content} => \$body);
    ok(defined $body && $body eq $plain->{content},
       "gzip-2: $p unzips to the very page sent uncompressed");
    cmp_ok(length $gz->{content}, '<', length($plain->{content}) / 3,
           "gzip-3: $p compressed is under a third of its size");
    ok(!defined $plain->{headers}{'content-encoding'}
       && !defined $refused->{headers}{'content-encoding'}
       && $refused->{content} eq $plain->{content},
       "gzip-4: $p whole without gzip in Accept-Encoding, or with q=0");
    ok(($gz->{headers}{vary} // '') =~ /Accept-Encoding/
       && ($plain->{headers}{vary} // '') =~ /Accept-Encoding/,
       "gzip-5: $p says Vary: Accept-Encoding either way");
}

# 2. a submission with an image: the receipt shows the number and code once
$v = new_visitor();
($res, $html) = page_get($v, '/submit');
ok(hidden($html, '_csrf'), 'submit-1: the form carries a CSRF token');
ok(defined answer_question($html), 'submit-1: the form asks a question');
like($res->{headers}{'set-cookie'} // '', qr/dgj_pf=.*HttpOnly.*SameSite=Lax/,
     'submit-1: the visitor gets the HttpOnly form cookie');
($res, $html) = page_post($v, '/submit', submit_form_fields($html),
                          [ [ images => 'photo.png', PNG ] ]);
is($res->{status}, 200, 'submit-2: the submission is accepted')
    or diag(substr($html, 0, 3000));
my ($no) = $html =~ /data-testid="receipt-tracking-no">(DG\d{14})</;
my ($code) = $html =~ /data-testid="receipt-query-code">([A-Z0-9]{6})</;
ok($no, 'submit-2: the receipt shows the tracking number');
ok($code, 'submit-2: the receipt shows the query code');
like($res->{headers}{'cache-control'} // '', qr/no-store/,
     'submit-2: the receipt is not stored by caches');
like($html, qr/data-testid="receipt-images">1 张/, 'submit-2: the image is attached');
my ($row) = sql('admin', "SELECT a.channel, (SELECT COUNT(*) FROM appeal_attachments t WHERE t.appeal_id = a.id) FROM appeals a WHERE a.tracking_no = '$no'");
is($row->[0], 'portal', 'submit-3: stored with channel portal');
is($row->[1], 1, 'submit-3: one attachment stored');

# 3. follow with the code
($res, $html) = page_get($v, "/follow?tracking_no=$no");
like($html, qr/value="$no"/, 'follow-1: the number from the query box is filled in');
($res, $html) = page_post($v, '/follow',
    [ _csrf => hidden($html, '_csrf'), tracking_no => $no,
      query_code => lc $code ]);
is($res->{status}, 200, 'follow-2: the right code shows the appeal');
like($html, qr/data-testid="appeal-state">待受理|data-testid="appeal-state">/,
     'follow-2: the state is shown');
like($html, qr/data-testid="timeline-item"/, 'follow-2: the timeline is shown');
unlike($html, qr/13800138000|张三丰/, 'follow-2: no name or phone on the page');
unlike($html, qr/data-testid="appeal-reply"/, 'follow-2: no reply section before a reply');
unlike($html, qr/ · →|<\/span> · \n/, 'follow-2: no empty department in the timeline');

# 4. wrong code and unknown number: the same page
my $same = sub {
    my ($h) = @_;
    $h =~ s/value="[^"]*"//g;
    return $h;
};
($res, $html) = page_get($v, '/follow');
my ($r1, $h1) = page_post($v, '/follow',
    [ _csrf => hidden($html, '_csrf'), tracking_no => $no,
      query_code => 'ZZZZZZ' ]);
my ($r2, $h2) = page_post($v, '/follow',
    [ _csrf => hidden($html, '_csrf'), tracking_no => 'DG20990101999999',
      query_code => 'ZZZZZZ' ]);
is($r1->{status}, $r2->{status}, 'follow-3: same status for a wrong code and an unknown number');
is($same->($h1), $same->($h2), 'follow-3: same page for a wrong code and an unknown number');
like($h1, qr/没有找到/, 'follow-3: the page says nothing was found');

# 5. staff act through the API; the reply appears; rate
my $intake = staff_token('intake');
my $handler = staff_token('handler', 'city.ecology');
my $reviewer = staff_token('reviewer');
for my $step ([ accept => $intake, {} ],
              [ dispatch => $intake, { department_id => dept_id('city.ecology') } ],
              [ sign => $handler, {} ],
              [ reply => $handler, { reply => "已责令工地夜间停工。$XSS", outcome => 'resolved' } ],
              [ approve => $reviewer, {} ])
{
    my ($r) = act($no, $step->[0], $step->[1], $step->[2]);
    is($r->{status}, 200, "flow-1: staff $step->[0]") or diag($r->{content});
}
($res, $html) = page_get($v, '/follow');
($res, $html) = page_post($v, '/follow',
    [ _csrf => hidden($html, '_csrf'), tracking_no => $no, query_code => $code ]);
like($html, qr/data-testid="appeal-reply"/, 'flow-2: the reply appears');
like($html, qr/已责令工地夜间停工。&lt;script&gt;/, 'flow-2: the reply is escaped');
escaped_ok($html, 'flow-2');
like($html, qr/data-testid="rate-form"/, 'flow-2: the rating form is offered');
my $rate_csrf = ($html =~ /action="\/follow\/rate".*?name="_csrf" value="([^"]+)"/s)[0];
($res, $html) = page_post($v, '/follow/rate',
    [ _csrf => $rate_csrf, tracking_no => $no, query_code => $code,
      resolved => 'yes' ]);
is($res->{status}, 400, 'flow-3: a rating without grade is refused');
like($html, qr/data-testid="error-f-rating"/, 'flow-3: next to the grade');
like($html, qr/value="yes" checked/, 'flow-3: the choice made is kept');
$rate_csrf = ($html =~ /action="\/follow\/rate".*?name="_csrf" value="([^"]+)"/s)[0];
($res, $html) = page_post($v, '/follow/rate',
    [ _csrf => $rate_csrf, tracking_no => $no, query_code => $code,
      rating => 1, resolved => 'yes', comment => "很好 $XSS" ]);
is($res->{status}, 200, 'flow-4: the rating is taken') or diag(substr($html, 0, 2000));
like($html, qr/data-testid="rated-notice"/, 'flow-4: thanks shown');
like($html, qr/data-testid="appeal-rating">您的评价：非常满意/, 'flow-4: the rating is shown');

# 6. published: the disclosures show it, masked and escaped
my ($r) = act($no, 'publish', $reviewer,
              { publish => JSON::PP::true,
                public_title => "夜间施工噪声 $XSS",
                public_content => '某小区旁工地夜间施工，联系人张三丰 13800138000。' });
is($r->{status}, 200, 'flow-5: the reviewer publishes it') or diag($r->{content});
my $list;
ok(wait_until(15, sub {
    (undef, $list) = page_get($v, '/disclosures');
    return $list =~ /data-no="$no"/;
}), 'flow-6: the appeal appears in the disclosure list (within the cache time)');
escaped_ok($list, 'flow-6');
($res, $html) = page_get($v, "/disclosures/$no");
is($res->{status}, 200, 'flow-7: its disclosure page answers 200');
like($html, qr/夜间施工噪声 &lt;script&gt;/, 'flow-7: the title is escaped');
escaped_ok($html, 'flow-7');
unlike($html, qr/13800138000|张三丰/, 'flow-7: no name or phone');
like($html, qr/138\*\*\*\*8000/, 'flow-7: the phone in the text is masked');
like($html, qr/非常满意/, 'flow-7: the rating is shown');
($res, $html) = page_get($v, "/wx/disclosures/$no");
is($res->{status}, 200, 'flow-8: the WeChat column shows it too');
($res) = page_get($v, '/disclosures/DG20990101999999');
is($res->{status}, 404, 'flow-9: an unpublished number is 404');
my $q = Encode::encode_utf8('ZZZ不存在的词');
$q =~ s/([^A-Za-z0-9])/sprintf '%%%02X', ord $1/ge;
($res, $html) = page_get($v, "/disclosures?q=$q");
like($html, qr/data-testid="disclosures-empty"/, 'flow-10: a keyword without match');

# 7. a signed-in citizen (cookie): the page submission is theirs, and the
# follow page lists it under 我的诉求; an anonymous visitor sees no list
my ($ctoken) = citizen_token();
my $c = new_visitor();
$c->{cookies}{dgj_at} = $ctoken;
($res, $html) = page_get($c, '/submit');
($res, $html) = page_post($c, '/submit', submit_form_fields($html,
    fields => { title => '我的诉求列表测试' }));
is($res->{status}, 200, 'mine-1: a signed-in citizen submits through the page');
my ($mine_no) = $html =~ /data-testid="receipt-tracking-no">(DG\d{14})</;
($res, $html) = page_get($c, '/follow');
like($html, qr/data-testid="my-appeals"/, 'mine-2: the follow page lists my appeals');
like($html, qr/\Q$mine_no\E<\/span> 我的诉求列表测试/, 'mine-2: with the one just submitted');
($res, $html) = page_get(new_visitor(), '/follow');
unlike($html, qr/data-testid="my-appeals"/, 'mine-3: not for an anonymous visitor');
($res, $html) = page_get(new_visitor(), '/wx/follow');
like($html, qr{href="/api/v1/auth/wechat/start\?next=/wx/follow"},
     'mine-4: the WeChat column offers WeChat sign-in');

done_testing();
