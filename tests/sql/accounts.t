#!/usr/bin/perl

# accounts.t: the three database accounts hold only what their duty needs,
# their passwords were generated at first run into var/secrets (mode 0600),
# and no secret is tracked by git.

use strict;
use warnings;

use Test::More;
use DgjTest qw(sql mysql_cnf);

sub sql_fails {
    my ($which, $query) = @_;

    my $cnf = mysql_cnf($which);
    my $out = `mariadb --defaults-file=$cnf --database=dgj -e "$query" 2>&1`;

    return ($? != 0, $out);
}

my ($rows) = sql('app', 'SELECT COUNT(*) FROM districts');
cmp_ok($rows->[0], '>', 0, 'acct-1.1: the app account reads reference data');

my ($failed, $out) = sql_fails('app', 'CREATE TABLE dgj_probe (id INT)');
ok($failed && $out =~ /denied/i,
   'acct-1.2: the app account cannot create tables');

($failed, $out) = sql_fails('app', 'DROP TABLE districts');
ok($failed && $out =~ /denied/i,
   'acct-1.3: the app account cannot drop tables');

($failed, $out) = sql_fails('ro',
    "UPDATE districts SET name = name WHERE id = 0");
ok($failed && $out =~ /denied/i,
   'acct-2.1: the read-only account cannot write');

($rows) = sql('ro', 'SELECT COUNT(*) FROM categories');
cmp_ok($rows->[0], '>', 0, 'acct-2.2: the read-only account reads');

($failed, $out) = sql_fails('app', 'SELECT * FROM mysql.user');
ok($failed, 'acct-3.1: the app account cannot read the server\'s user table');

($rows) = sql('ro', 'SELECT COUNT(*) FROM schema_migrations');
cmp_ok($rows->[0], '>', 0, 'acct-4.1: migrations are recorded');

my $secrets = "$ENV{DGJ_VAR}/secrets";
my @pw = glob("$secrets/*.pw");
is(scalar @pw, 3, 'acct-5.1: three generated database passwords');
for my $f (@pw) {
    my $mode = (stat $f)[2] & 07777;
    is(sprintf('%04o', $mode), '0600', "acct-5.2: $f is mode 0600");
    cmp_ok(-s $f, '>=', 32, "acct-5.3: $f holds a long random secret");
}
my $dmode = (stat $secrets)[2] & 07777;
ok($dmode == 0700 || $dmode == 0710,
   'acct-5.4: var/secrets can be listed by its owner only (0700, or 0710 '
   . 'so the web user can enter it)')
    or diag(sprintf('mode %04o', $dmode));

my %seen;
for my $f (@pw) {
    open(my $fh, '<', $f) or die $!;
    $seen{ scalar <$fh> }++;
}
is(scalar keys %seen, 3, 'acct-5.5: each account has its own password');

my $root = $ENV{DGJ_ROOT};
my @tracked = `git -C $root ls-files 2>/dev/null`;
ok(!(grep { m{(^|/)(var|secrets)/|\.pw$|\.key$|\.pem$} } @tracked),
   'acct-6.1: git tracks no secret file');

my $leak = 0;
for my $f (@pw) {
    open(my $fh, '<', $f) or die $!;
    my $s = <$fh>;
    my $hits = `git -C $root grep -l -F -e '$s' 2>/dev/null`;
    $leak++ if length $hits;
}
is($leak, 0, 'acct-6.2: no generated password appears in tracked files');

# the identity secrets made at first run: token keys, the SMS key, the
# WeChat AppSecret, the TLS key, demo passwords and TOTP secrets
my @values;
for my $f (map { "$secrets/$_" } qw(sms.key wechat.secret)) {
    open(my $fh, '<', $f) or die "$f: $!";
    chomp(my $v = <$fh>);
    push @values, $v;
}
open(my $kf, '<', "$secrets/token.keys") or die $!;
push @values, map { (split ' ')[2] } grep { !/^#/ && /\S/ } <$kf>;
open(my $df, '<', "$secrets/demo-accounts.txt") or die $!;
for (<$df>) {
    my (undef, undef, $pw, $totp) = split ' ';
    push @values, grep { defined && length > 8 && $_ ne '-' } $pw, $totp;
}
cmp_ok(scalar @values, '>=', 20, 'acct-6.3: the identity secrets were found');

my @modes = map { sprintf '%04o', (stat "$secrets/$_")[2] & 07777 }
            qw(sms.key wechat.secret demo-accounts.txt tls/server.key);
is("@modes", '0600 0600 0600 0600',
   'acct-6.4: SMS key, AppSecret, demo accounts and TLS key are 0600');
is(sprintf('%04o', (stat "$secrets/token.keys")[2] & 07777), '0640',
   'acct-6.5: the token key ring is 0640 (nginx master and the workers\' group)');

$leak = 0;
for my $v (@values) {
    open(my $g, '-|', 'git', '-C', $root, 'grep', '-l', '-F', '-e', $v)
        or die $!;
    my @hits = <$g>;
    close $g;
    $leak += @hits;
}
is($leak, 0, 'acct-6.6: no key, AppSecret, demo password or TOTP secret '
   . 'appears in tracked files');

done_testing();
