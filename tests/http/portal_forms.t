#!/usr/bin/perl

# portal_forms.t: the public forms when something is wrong (docs/portal.md):
# invalid fields are marked next to the field with the reason and every
# typed value comes back; a wrong answer to the question, a filled honeypot,
# a missing or foreign CSRF token are refused and lose nothing; XSS payloads
# in every field come back escaped; the WeChat column submits with channel
# wechat; wrong methods are refused.

use strict;
use warnings;
use utf8;

use Test::More;
use DgjTest qw(sql);
use DgjPortal qw(new_visitor page_get page_post hidden answer_question
                 submit_form_fields PNG);

binmode(Test::More->builder->$_, ':encoding(UTF-8)')
    for qw(output failure_output todo_output);

my $XSS = q{<script>alert(1)</script>"'&<img src=x onerror=alert(2)>};
my $XSS_ESC = q{&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;&lt;img src=x onerror=alert(2)&gt;};

sub count_appeals {
    my ($title) = @_;
    (my $t = $title) =~ s/'/''/g;
    return (sql('admin', "SELECT COUNT(*) FROM appeals WHERE title = '$t'"))[0][0];
}

# 1. invalid fields: marked next to the field, typed text kept
my $v = new_visitor();
my ($res, $html) = page_get($v, '/submit');
my $content = "第一行内容$XSS\n第二行";
($res, $html) = page_post($v, '/submit', submit_form_fields($html,
    fields => { title => 'ab', content => $content, category_code => '',
                phone => '', address => "地址$XSS", name => "名$XSS" }));
is($res->{status}, 400, 'errors-1: invalid fields answer 400 with the form');
for my $f (qw(title category_code phone)) {
    like($html, qr/data-testid="error-f-$f"/, "errors-1: an error next to $f");
    like($html, qr/id="f-$f"[^>]*aria-invalid="true"|aria-invalid="true"[^>]*id="f-$f"|id="f-$f"[^>]*aria-describedby/,
         "errors-1: $f is marked invalid for assistive technology");
}
like($html, qr/data-testid="error-summary"/, 'errors-1: a summary at the top');
unlike($html, qr/data-testid="error-f-content"/, 'errors-1: no error on a good field');
like($html, qr/>第一行内容\Q$XSS_ESC\E\n第二行<\/textarea>/,
     'errors-2: the content comes back, escaped, line breaks kept');
like($html, qr/value="地址\Q$XSS_ESC\E"/, 'errors-2: the address comes back escaped');
like($html, qr/value="名\Q$XSS_ESC\E"/, 'errors-2: the name comes back escaped');
unlike($html, qr/<script>alert|<img src=x/, 'errors-2: no payload is live');
like($html, qr/<option value="441900101" selected>/, 'errors-2: the town stays selected');
like($html, qr/id="f-publish_consent"[^>]*checked/, 'errors-2: the consent stays ticked');

# 2. the question: a wrong answer, a filled honeypot
($res, $html) = page_get($v, '/submit');
my $title = '路灯不亮 ' . int(rand 1e9);
($res, $html) = page_post($v, '/submit', submit_form_fields($html,
    captcha => answer_question($html) + 1, fields => { title => $title }));
is($res->{status}, 400, 'captcha-1: a wrong answer is refused');
like($html, qr/data-testid="error-f-captcha"/, 'captcha-1: next to the question');
like($html, qr/value="\Q$title\E"/, 'captcha-1: the title is kept');
is(count_appeals($title), 0, 'captcha-1: nothing stored');
($res, $html) = page_post($v, '/submit', submit_form_fields($html,
    fields => { title => $title, website => 'http://spam.example/' }));
is($res->{status}, 400, 'captcha-2: a filled honeypot is refused');
is(count_appeals($title), 0, 'captcha-2: nothing stored');

# 3. CSRF: no token, another visitor's token, no cookie
($res, $html) = page_get($v, '/submit');
my $fields = submit_form_fields($html, fields => { title => $title });
my $other = new_visitor();
my (undef, $ohtml) = page_get($other, '/submit');
my @cases = (
    [ 'no token', sub { my @f = @$fields; $f[1] = ''; (\@f, $v) } ],
    [ "another visitor's token", sub {
        my @f = @$fields; $f[1] = hidden($ohtml, '_csrf'); (\@f, $v) } ],
    [ 'no cookie', sub { (\@$fields, { cookies => {}, src => $v->{src} }) } ],
);
for my $c (@cases) {
    my ($f, $who) = $c->[1]->();
    ($res, $html) = page_post($who, '/submit', $f);
    is($res->{status}, 403, "csrf-1: $c->[0]: refused with 403");
    like($html, qr/value="\Q$title\E"/, "csrf-1: $c->[0]: the title is kept");
}
is(count_appeals($title), 0, 'csrf-1: nothing stored');
($res, $html) = page_post($v, '/follow',
    [ _csrf => 'x', tracking_no => 'DG20260101000001', query_code => 'ABCDEF' ]);
is($res->{status}, 403, 'csrf-2: the follow form checks its token too');
($res, $html) = page_post($v, '/follow/rate',
    [ _csrf => hidden($ohtml, '_csrf'), tracking_no => 'DG20260101000001',
      query_code => 'ABCDEF', rating => 1, resolved => 'yes' ]);
is($res->{status}, 403, "csrf-2: the rating form refuses a token of another form");

# 4. XSS in every field of a stored appeal: the receipt and follow escape it
($res, $html) = page_get($v, '/submit');
($res, $html) = page_post($v, '/submit', submit_form_fields($html,
    fields => { title => "标题$XSS", content => "内容内容内容内容$XSS",
                address => "地址$XSS", name => '名<script>alert(1)</script>' }));
is($res->{status}, 200, 'xss-1: a submission full of markup is stored as text')
    or diag(substr($html, 0, 2000));
like($html, qr/标题\Q$XSS_ESC\E/, 'xss-1: the receipt shows the title escaped');
unlike($html, qr/<script>alert|<img src=x/, 'xss-1: nothing live on the receipt');
my ($no) = $html =~ /data-testid="receipt-tracking-no">(DG\d{14})</;
my ($code) = $html =~ /data-testid="receipt-query-code">([A-Z0-9]{6})</;
($res, $html) = page_get($v, '/follow');
($res, $html) = page_post($v, '/follow',
    [ _csrf => hidden($html, '_csrf'), tracking_no => $no, query_code => $code ]);
like($html, qr/标题\Q$XSS_ESC\E/, 'xss-2: the follow page shows the title escaped');
unlike($html, qr/<script>alert|<img src=x/, 'xss-2: nothing live on the follow page');
($res, $html) = page_get($v, "/follow?tracking_no=%22%3E%3Cscript%3Ealert(1)%3C/script%3E");
unlike($html, qr/<script>alert/, 'xss-3: a query string payload is escaped');
($res, $html) = page_get($v, "/disclosures?q=%22%3E%3Cscript%3Ealert(1)%3C/script%3E&from=%3Cx");
unlike($html, qr/<script>alert|<x/, 'xss-3: a filter payload is escaped');

# 5. the WeChat column submits with channel wechat and its own layout
$v = new_visitor();
($res, $html) = page_get($v, '/wx/submit');
like($html, qr/action="\/wx\/submit"/, 'wx-1: the form posts to /wx/submit');
($res, $html) = page_post($v, '/wx/submit', submit_form_fields($html));
is($res->{status}, 200, 'wx-2: a WeChat submission is accepted');
($no) = $html =~ /data-testid="receipt-tracking-no">(DG\d{14})</;
is((sql('admin', "SELECT channel FROM appeals WHERE tracking_no = '$no'"))[0][0],
   'wechat', 'wx-2: stored with channel wechat');
like($html, qr/weui\.min\.css/, 'wx-2: the receipt is in the WeChat layout');

# 6. a second image type check and the methods
($res, $html) = page_get($v, '/submit');
($res, $html) = page_post($v, '/submit', submit_form_fields($html),
                          [ [ images => 'x.exe', "MZ\x90\x00not an image" ] ]);
is($res->{status}, 400, 'images-1: a file that is not an image is refused');
like($html, qr/data-testid="error-f-images"/, 'images-1: next to the images');
for my $m (qw(PUT DELETE)) {
    my $r = HTTP::Tiny->new->request($m, DgjTest::base_url() . '/submit');
    is($r->{status}, 405, "methods-1: $m /submit is 405");
}

# 7. the limit module's policy: the fifth quick submission from one address
# gets a Chinese page with the text kept, not the module's JSON
$v = new_visitor();
$v->{pin} = 1;
my $limited;
for my $i (1 .. 8) {
    ($res, $html) = page_get($v, '/submit');
    ($res, $html) = page_post($v, '/submit', submit_form_fields($html,
        captcha => 99, fields => { title => "限流测试 $i" }));
    if ($res->{status} == 429) {
        $limited = $i;
        last;
    }
}
ok($limited && $limited <= 5, "limit-1: refused at submission $limited (6/min, burst 3)");
like($res->{headers}{'content-type'} // '', qr{^text/html}, 'limit-1: as an HTML page');
like($html, qr/提交太频繁/, 'limit-1: saying so in Chinese');
like($html, qr/value="限流测试 $limited"/, 'limit-1: the typed title is kept');
ok($res->{headers}{'retry-after'}, 'limit-1: with Retry-After');

done_testing();
