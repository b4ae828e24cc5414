package DgjLogin;

# DgjLogin: signing in from the Perl tests: the demo accounts made by
# `make run` (var/secrets/demo-accounts.txt), RFC 6238 codes, the test
# clock offset, the demo SMS/WeChat peer and Bearer / cookie requests.
# Core modules only.

use strict;
use warnings;
use utf8;

use Exporter 'import';
use Digest::SHA qw(hmac_sha1);
use Fcntl qw(:flock);
use JSON::PP;
use Time::HiRes qw(sleep);

use DgjTest qw(base_url http request_json decode_json_body);

our @EXPORT_OK = qw(demo_account totp_code clock_offset set_clock_offset
                    staff_login login_app api peers_url peers_json
                    sms_code cookies_of cookie_header valid_uscc);

my $json = JSON::PP->new->utf8->canonical;


sub var_dir {
    my $v = $ENV{DGJ_VAR};
    die "DGJ_VAR is not set: run the tests with `make test`\n" unless $v;

    return $v;
}


# demo_account('demo.intake') -> { role, username, password, secret }
sub demo_account {
    my ($username) = @_;

    my $file = $ENV{DGJ_DEMO_ACCOUNTS} // var_dir() . '/secrets/demo-accounts.txt';
    open(my $fh, '<', $file) or die "$file: $!";

    while (my $line = <$fh>) {
        my ($role, $user, $password, $secret) = split ' ', $line;
        next unless defined $user && $user eq $username;

        return { role => $role, username => $user, password => $password,
                 secret => $secret };
    }

    die "no demo account $username in $file\n";
}


sub base32_decode {
    my ($s) = @_;

    my %v;
    @v{ 'A' .. 'Z', '2' .. '7' } = (0 .. 31);

    my $bits = join '', map { sprintf '%05b', $v{$_} } split //, uc $s;

    return pack 'B*', substr($bits, 0, int(length($bits) / 8) * 8);
}


# totp_code(BASE32_SECRET, STEP) -> six digits (RFC 6238, SHA-1, 30 s)
sub totp_code {
    my ($secret, $step) = @_;

    my $h = hmac_sha1(pack('NN', int($step / 2**32), $step % 2**32),
                      base32_decode($secret));
    my $o = ord(substr $h, -1) & 15;

    return sprintf '%06d',
                   (unpack('N', substr $h, $o, 4) & 0x7fffffff) % 1000000;
}


sub clock_file {
    return $ENV{DGJ_CLOCK_FILE} // var_dir() . '/clock-offset';
}


# the seconds the workers' clock is ahead of the wall clock
sub clock_offset {
    open(my $fh, '<', clock_file()) or return 0;
    my $v = <$fh>;

    return ($v // '') =~ /^(-?\d+)/ ? $1 : 0;
}


sub set_clock_offset {
    my ($seconds) = @_;

    my $f = clock_file();
    open(my $fh, '>', "$f.tmp") or die "$f.tmp: $!";
    print $fh "$seconds\n";
    close $fh;
    chmod 0644, "$f.tmp";
    rename "$f.tmp", $f or die "$f: $!";
}


# A TOTP step never used before for this user (a code is accepted once):
# the current one, or the next (the window allows one ahead), else wait.
sub fresh_step {
    my ($username) = @_;

    my $book = var_dir() . '/totp-steps';
    open(my $fh, '+>>', $book) or die "$book: $!";
    flock($fh, LOCK_EX);
    seek($fh, 0, 0);

    my $last = -1;
    while (my $line = <$fh>) {
        my ($u, $s) = split ' ', $line;
        $last = $s if $u eq $username && $s > $last;
    }

    my $step;
    for (;;) {
        my $now = int((time() + clock_offset()) / 30);
        $step = $last < $now ? $now : $last + 1;
        last if $step <= $now + 1;
        sleep(1);
    }

    print $fh "$username $step\n";
    close $fh;

    return $step;
}


# staff_login(USERNAME, PASSWORD?, SECRET?) -> (res, body): an app login,
# so body->{access_token} is the Bearer token.
sub staff_login {
    my ($username, $password, $secret) = @_;

    if (!defined $password) {
        my $a = demo_account($username);
        ($password, $secret) = ($a->{password}, $a->{secret});
    }

    my $body = { username => $username, password => $password,
                 client => 'app' };
    $body->{totp} = totp_code($secret, fresh_step($username)) if $secret;

    return request_json('POST', '/api/v1/auth/login', $json->encode($body));
}


# login_app(USERNAME) -> bearer token of a demo staff account, or die
sub login_app {
    my ($username) = @_;

    my ($res, $b) = staff_login($username);
    die "login of $username failed: $res->{status} $res->{content}\n"
        unless $res->{status} == 200 && $b->{access_token};

    return $b->{access_token};
}


# api(METHOD, PATH, BODY|undef, TOKEN|undef, HEADERS?) -> (res, decoded)
sub api {
    my ($method, $path, $body, $token, $headers) = @_;

    my %h = %{ $headers || {} };
    $h{Authorization} = "Bearer $token" if defined $token;
    $body = $json->encode($body) if ref $body;

    return request_json($method, $path, $body, \%h);
}


sub peers_url {
    my $u = $ENV{DGJ_PEERS_URL};
    die "DGJ_PEERS_URL is not set\n" unless $u;

    return $u;
}


# peers_json(METHOD, PATH, BODY?) -> decoded answer of the demo peer
sub peers_json {
    my ($method, $path, $body) = @_;

    my %opt = (headers => { 'Content-Type' => 'application/json' });
    $opt{content} = $json->encode($body) if $body;

    my $res = http()->request($method, peers_url() . $path, \%opt);

    return decode_json_body($res);
}


# the last SMS code the demo gateway received for phone, or undef
sub sms_code {
    my ($phone) = @_;

    my $m = peers_json('GET', "/_fake/sms?phone=$phone");
    my @list = ref $m eq 'ARRAY' ? @$m : @{ $m->{messages} || [] };
    return undef unless @list;

    return $list[-1]{params}{code} // $list[-1]{code};
}


# cookies_of(RES) -> { name => value } from its Set-Cookie headers
sub cookies_of {
    my ($res) = @_;

    my $h = $res->{headers}{'set-cookie'};
    my @all = ref $h ? @$h : defined $h ? ($h) : ();

    my %c;
    for my $line (@all) {
        my ($pair) = split /;/, $line;
        my ($k, $v) = split /=/, $pair, 2;
        $c{$k} = $v;
    }

    return \%c;
}


sub cookie_header {
    my ($jar) = @_;

    return join '; ', map { "$_=$jar->{$_}" }
                      grep { length $jar->{$_} } sort keys %$jar;
}


my @uscc_chars = split //, '0123456789ABCDEFGHJKLMNPQRTUWXY';
my %uscc_value = map { $uscc_chars[$_] => $_ } 0 .. $#uscc_chars;

sub char_value {
    my ($c) = @_;

    return $c =~ /\d/ ? $c : ord($c) - ord('A') + 10;
}

# valid_uscc(8 digits) -> 18 characters passing GB 32100 and GB 11714
sub valid_uscc {
    my ($org8) = @_;

    my @w = (3, 7, 9, 10, 5, 8, 4, 2);
    my $sum = 0;
    $sum += char_value(substr $org8, $_, 1) * $w[$_] for 0 .. 7;
    my $c = (11 - $sum % 11) % 11;
    my $s = '91441900' . $org8 . ($c == 10 ? 'X' : $c);

    my @W = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28);
    $sum = 0;
    $sum += $uscc_value{substr $s, $_, 1} * $W[$_] for 0 .. 16;

    return $s . $uscc_chars[(31 - $sum % 31) % 31];
}

1;
