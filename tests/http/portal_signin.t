#!/usr/bin/perl

# portal_signin.t: a citizen signs in on the portal by SMS code (/signin,
# docs/portal.md) and the follow page lists their appeals; a wrong code
# keeps the phone and says so next to the code; the page holds the API's
# SMS budget (2 a minute per address) with a Chinese page.

use strict;
use warnings;
use utf8;

use Test::More;
use DgjTest qw(sql);
use DgjLogin qw(sms_code);
use DgjPortal qw(new_visitor page_get page_post hidden submit_form_fields);

binmode(Test::More->builder->$_, ':encoding(UTF-8)')
    for qw(output failure_output todo_output);

my $phone = sprintf '139%04d%04d', $$ % 10000, int(rand 10000);
my $v = new_visitor();
$v->{pin} = 1;

my ($res, $html) = page_get($v, '/signin');
is($res->{status}, 200, 'signin-1: the sign-in page answers 200');
like($html, qr/<label for="f-phone">手机号码<\/label>/, 'signin-1: a labelled phone field');

($res, $html) = page_post($v, '/signin/send',
    [ _csrf => hidden($html, '_csrf'), phone => '12' ]);
is($res->{status}, 400, 'signin-2: a malformed phone is refused');
like($html, qr/data-testid="error-f-phone"/, 'signin-2: next to the phone');

($res, $html) = page_post($v, '/signin/send',
    [ _csrf => hidden($html, '_csrf'), phone => $phone ]);
is($res->{status}, 200, 'signin-3: the code is sent') or diag($html);
like($html, qr/data-testid="code-sent">验证码已发送至 139\*\*\*\*\d{4}/,
     'signin-3: to the masked phone');
my $code = sms_code($phone);
ok($code, 'signin-3: the SMS gateway got a code');

my $csrf = hidden($html, '_csrf');
($res, $html) = page_post($v, '/signin',
    [ _csrf => $csrf, phone => $phone,
      code => sprintf('%06d', ($code + 1) % 1000000) ]);
is($res->{status}, 400, 'signin-4: a wrong code is refused');
like($html, qr/data-testid="error-f-code"/, 'signin-4: next to the code');
like($html, qr/name="phone" value="$phone"/, 'signin-4: the phone is kept');

($res, $html) = page_post($v, '/signin',
    [ _csrf => hidden($html, '_csrf'), phone => $phone, code => $code ]);
is($res->{status}, 303, 'signin-5: the right code signs in');
is($res->{headers}{location}, '/follow', 'signin-5: and goes to the follow page');
like(join(' ', ref $res->{headers}{'set-cookie'} ? @{ $res->{headers}{'set-cookie'} }
                                                 : $res->{headers}{'set-cookie'}),
     qr/dgj_at=/, 'signin-5: with the session cookie');
ok($v->{cookies}{dgj_at}, 'signin-5: the browser keeps it');

($res, $html) = page_get($v, '/submit');
($res, $html) = page_post($v, '/submit', submit_form_fields($html,
    fields => { title => '登录后提交的诉求', phone => $phone }));
is($res->{status}, 200, 'signin-6: the signed-in citizen submits');
($res, $html) = page_get($v, '/follow');
like($html, qr/data-testid="my-appeals"/, 'signin-6: the follow page lists my appeals');
like($html, qr/登录后提交的诉求/, 'signin-6: with the new one');

# the SMS budget: 2 a minute per address (burst 2), a Chinese page
my $w = new_visitor();
$w->{pin} = 1;
my $limited;
for my $i (1 .. 5) {
    ($res, $html) = page_get($w, '/signin');
    ($res, $html) = page_post($w, '/signin/send',
        [ _csrf => hidden($html, '_csrf'),
          phone => sprintf('137%04d%04d', $$ % 10000, $i) ]);
    if ($res->{status} == 429) {
        $limited = $i;
        last;
    }
}
ok($limited && $limited <= 4, "signin-7: SMS sends limited (at $limited)");
like($html, qr/验证码发送太频繁/, 'signin-7: said in Chinese');

done_testing();
