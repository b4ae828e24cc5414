# An organisation opts in to TOTP: enrol shows a secret once, confirm needs
# a right code, and from then on sign-in needs the code too (auth level 2).
# A citizen has no password to pair a code with.
use strict;
use warnings;
use utf8;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Test::More;
use DgjTest qw(spread_sources sql);
use DgjLogin qw(api totp_code clock_offset sms_code valid_uscc);

spread_sources();

my $user = "org.totp.$$";
my $password = 'Hu7#mZq-Lw4x';
my $uscc = valid_uscc(sprintf '%08d', 30000000 + $$ % 1000000);

my ($res, $b) = api('POST', '/api/v1/auth/register/organisation',
                    { username => $user, password => $password,
                      name => "两步验证测试公司$$", uscc => $uscc,
                      org_kind => 'company', contact_name => '李四',
                      contact_phone => '13700137000' });
is($res->{status}, 201, 'an organisation registers');

sub login {
    my ($totp) = @_;

    return api('POST', '/api/v1/auth/login',
               { username => $user, password => $password, client => 'app',
                 (defined $totp ? (totp => $totp) : ()) });
}

($res, $b) = login();
is($res->{status}, 200, 'without TOTP it signs in with the password alone');
my $tok1 = $b->{access_token};
my (undef, $me) = api('GET', '/api/v1/auth/me', undef, $tok1);
is($me->{auth_level}, 1, 'at auth level 1');

($res, $b) = api('POST', '/api/v1/auth/totp/confirm', { code => '123456' },
                 $tok1);
is($b->{error}{code}, 'no_enrolment', 'confirm before enrol: no_enrolment');

($res, $b) = api('POST', '/api/v1/auth/totp/enrol', undef, $tok1);
is($res->{status}, 200, 'enrol: 200');
my $secret = $b->{totp_secret};
like($secret, qr/^[A-Z2-7]{32}$/, 'a 160-bit base32 secret, shown once');
like($b->{totp_uri}, qr{^otpauth://totp/.*\Q$user\E.*secret=\Q$secret\E},
     'and its otpauth URI');

($res) = login();
is($res->{status}, 200, 'an unconfirmed enrolment changes nothing at sign-in');

my $step = int((time() + clock_offset()) / 30);
my $wrong = totp_code($secret, $step + 5);
($res, $b) = api('POST', '/api/v1/auth/totp/confirm', { code => $wrong },
                 $tok1);
is($res->{status}, 400, 'a wrong code does not confirm');
is($b->{error}{code}, 'totp_invalid', 'code totp_invalid');

($res, $b) = api('POST', '/api/v1/auth/totp/confirm',
                 { code => totp_code($secret, $step) }, $tok1);
is($res->{status}, 200, 'the right code confirms');

($res, $b) = login();
is($res->{status}, 401, 'now the password alone is refused');
is($b->{error}{code}, 'invalid_credentials', 'with the usual answer');

($res, $b) = login(totp_code($secret, $step));
is($res->{status}, 401, 'the code spent on confirming is not accepted again');

($res, $b) = login(totp_code($secret, $step + 1));
is($res->{status}, 200, 'password and a fresh code sign in');
(undef, $me) = api('GET', '/api/v1/auth/me', undef, $b->{access_token});
is($me->{auth_level}, 2, 'at auth level 2');

($res, $b) = api('POST', '/api/v1/auth/totp/enrol', undef, $tok1);
is($res->{status}, 403, 'replacing the secret from a level-1 session: 403');
is($b->{error}{code}, 'level_2_required', 'code level_2_required');

my @ev = map { $_->[0] } sql('admin', "SELECT e.event FROM auth_events e"
                              . " JOIN users u ON u.id = e.user_id"
                              . " WHERE u.username = '$user'");
ok((grep { $_ eq 'totp_enrolled' } @ev), 'the enrolment is recorded');

# --- a citizen ---------------------------------------------------------------

my $phone = '136' . sprintf('%08d', $$ % 100000000);
api('POST', '/api/v1/auth/sms/send', { phone => $phone });
($res, $b) = api('POST', '/api/v1/auth/sms/login',
                 { phone => $phone, code => sms_code($phone), client => 'app' });
is($res->{status}, 200, 'a citizen signs in by SMS');
($res, $b) = api('POST', '/api/v1/auth/totp/enrol', undef, $b->{access_token});
is($b->{error}{code}, 'totp_not_applicable', 'a citizen cannot enrol TOTP');

($res) = api('POST', '/api/v1/auth/totp/enrol');
is($res->{status}, 401, 'anonymous: 401');

done_testing();
