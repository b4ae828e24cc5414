#!/usr/bin/perl

# backup_restore.t: `make backup` takes an online backup while the API keeps
# answering, and `make restore` brings the data back; a damaged backup is
# refused and changes nothing.

use strict;
use warnings;
use utf8;

use Test::More;
use DgjTest qw(get_json sql stack);

binmode(Test::More->builder->$_, ':encoding(UTF-8)')
    for qw(output failure_output todo_output);

my $dir = "$ENV{DGJ_VAR}/backup";

sub district_name {
    my ($code) = @_;

    my (undef, $body) = get_json('/api/v1/districts');
    my ($d) = grep { $_->{code} eq $code } @{ $body->{items} || [] };

    return $d ? $d->{name} : undef;
}

my ($first) = sql('ro', 'SELECT code, name FROM districts'
                        . " WHERE kind = 'town' ORDER BY code LIMIT 1");
my ($code, $name) = @$first;
is(district_name($code), $name, 'bak-1.0: the API shows the stored town name');

my %before = map { $_ => 1 } glob("$dir/*.sql.gz");
ok(stack('backup'), 'bak-1.1: the backup command succeeds');
my @new = grep { !$before{$_} } glob("$dir/*.sql.gz");
is(scalar @new, 1, 'bak-1.2: one new backup file');
my $file = $new[0];
ok(-f "$file.sha256", 'bak-1.3: the backup has a checksum beside it');
is(sprintf('%04o', (stat $file)[2] & 07777), '0600',
   'bak-1.4: the backup is readable by its owner only');

my ($res) = get_json('/api/v1/health');
is($res->{status}, 200, 'bak-1.5: the service stayed up through the backup');

sql('migrate', "UPDATE districts SET name = '误改的名字' WHERE code = '$code'");
is(district_name($code), '误改的名字', 'bak-2.0: a damaging change is visible');

my $bad = "$dir/damaged.sql.gz";
{
    open(my $in, '<:raw', $file) or die $!;
    local $/;
    my $bytes = <$in>;
    open(my $out, '>:raw', $bad) or die $!;
    print $out substr($bytes, 0, int(length($bytes) / 2));
    close($out);
    open(my $sum, '<', "$file.sha256") or die $!;
    my $line = <$sum>;
    $line =~ s/\S+$/damaged.sql.gz/;
    open(my $bs, '>', "$bad.sha256") or die $!;
    print $bs $line;
}
ok(!stack('restore', $bad), 'bak-3.1: a damaged backup is refused');
is(district_name($code), '误改的名字',
   'bak-3.2: the refused restore changed nothing');
unlink($bad, "$bad.sha256");

ok(stack('restore', $file), 'bak-4.1: restoring the good backup succeeds');
is(district_name($code), $name, 'bak-4.2: the original name is back');
my ($n) = sql('ro', 'SELECT COUNT(*) FROM schema_migrations');
cmp_ok($n->[0], '>', 0, 'bak-4.3: the migration record came back too');

done_testing();
