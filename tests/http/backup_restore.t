#!/usr/bin/perl

# backup_restore.t: `make backup` takes an online backup while the API keeps
# answering, and `make restore` brings the data back, attachment files
# (var/files) included; a damaged backup is refused and changes nothing.

use strict;
use warnings;
use utf8;

use Test::More;
use Digest::SHA qw(sha256_hex);
use DgjTest qw(get_json request_json sql stack spread_sources);

# the submission and the code upload: not from the address other suites use
spread_sources();
use DgjWorkflow qw(submit staff_token);

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

# an attachment, whose bytes live in var/files, not in the database
my (undef, $sub) = submit();
my $no = $sub->{tracking_no};
my $pdf = "%PDF-1.4\n" . join('', map { chr($_ % 251) } 1 .. 4000) . "\n";
my $intake = staff_token('intake');
my ($up, $att) = request_json('POST', "/api/v1/appeals/$no/attachments", $pdf,
                              { 'X-Query-Code' => $sub->{query_code},
                                'X-File-Name' => 'backup.pdf' });
is($up->{status}, 201, 'bak-1.0b: an attachment is uploaded');
my $hex = sha256_hex($pdf);
my $stored = "$ENV{DGJ_VAR}/files/" . substr($hex, 0, 2) . '/'
             . substr($hex, 2, 2) . "/$hex";

sub attachment {
    my ($res) = request_json('GET', "/api/v1/appeals/$no/attachments/"
                             . ($att->{id} // 0), undef,
                             { Authorization => "Bearer $intake" });

    return $res;
}

my %before = map { $_ => 1 } glob("$dir/*.sql.gz");
ok(stack('backup'), 'bak-1.1: the backup command succeeds');
my @new = grep { !$before{$_} } glob("$dir/*.sql.gz");
is(scalar @new, 1, 'bak-1.2: one new backup file');
my $file = $new[0];
ok(-f "$file.sha256", 'bak-1.3: the backup has a checksum beside it');
is(sprintf('%04o', (stat $file)[2] & 07777), '0600',
   'bak-1.4: the backup is readable by its owner only');
(my $tar = $file) =~ s/\.sql\.gz$/.files.tar/;
ok(-f $tar && -f "$tar.sha256",
   'bak-1.4b: the attachment files are archived beside it, with a checksum');
is(sprintf('%04o', (stat $tar)[2] & 07777), '0600',
   'bak-1.4c: ... readable by its owner only');

my ($res) = get_json('/api/v1/health');
is($res->{status}, 200, 'bak-1.5: the service stayed up through the backup');

# a request after the backup: its audit record is stored, the restore
# takes it out of the database, and the ingester must put it back from
# the log file, which the restore does not touch
# (in letters: a long run of digits is masked in the record as a phone)
my $mark = 'bak' . join('', map { chr(97 + $_) } split //, $$ . time);

sub marked_records {
    my ($want) = @_;
    my $n;

    for (1 .. 50) {
        ($n) = sql('admin', 'SELECT COUNT(*) FROM audit_records'
                            . " WHERE path LIKE '%mark=$mark%'");
        last if $n->[0] == $want;
        select(undef, undef, undef, 0.2);
    }

    return $n->[0];
}

get_json("/api/v1/districts?mark=$mark");
is(marked_records(1), 1, 'bak-1.6: a request after the backup is audited'
                         . ' and ingested');

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

# the loss the archive is for: a file gone from var/files
unlink($stored) or die "$stored: $!";
is(attachment()->{status}, 500, 'bak-3.3: an attachment whose file is lost'
                                . ' cannot be served');

# a sound database dump beside a damaged archive of the files, each with
# the checksum of what it holds now
sub copy_with_sum {
    my ($from, $to) = @_;

    open(my $in, '<:raw', $from) or die "$from: $!";
    local $/;
    my $bytes = <$in>;

    open(my $out, '>:raw', $to) or die "$to: $!";
    print $out $bytes;
    close($out);

    open(my $sum, '>', "$to.sha256") or die "$to.sha256: $!";
    print $sum sha256_hex($bytes), '  ', (split m{/}, $to)[-1], "\n";
}

my $half = "$dir/halfbad.sql.gz";
copy_with_sum($file, $half);
copy_with_sum($tar, "$dir/halfbad.files.tar");
# the archive damaged after its checksum was taken
{
    open(my $t, '+<:raw', "$dir/halfbad.files.tar") or die $!;
    seek($t, 600, 0);
    print $t 'damage';
}
ok(!stack('restore', $half), 'bak-3.4: a backup whose file archive is'
                             . ' damaged is refused');
is(district_name($code), '误改的名字',
   'bak-3.5: ... before the database is touched');
unlink($half, "$half.sha256", "$dir/halfbad.files.tar",
       "$dir/halfbad.files.tar.sha256");

ok(stack('restore', $file), 'bak-4.1: restoring the good backup succeeds');
is(district_name($code), $name, 'bak-4.2: the original name is back');
my ($n) = sql('ro', 'SELECT COUNT(*) FROM schema_migrations');
cmp_ok($n->[0], '>', 0, 'bak-4.3: the migration record came back too');
ok(-f $stored, 'bak-4.4: the lost attachment file is back');
my $back = attachment();
is($back->{status}, 200, 'bak-4.5: ... and is served');
ok($back->{content} eq $pdf, 'bak-4.6: ... byte for byte');
is(marked_records(1), 1, 'bak-4.7: the audit record of the request after the'
                         . ' backup is stored again, once: the ingester'
                         . ' reread the log from the backup\'s place');
ok(-f "$ENV{DGJ_VAR}/state/audit-ingest.pos"
   && -f "$ENV{DGJ_VAR}/run/audit-ingest.pid"
   && kill(0, do { open(my $p, '<', "$ENV{DGJ_VAR}/run/audit-ingest.pid");
                   (<$p> // 0) + 0 }),
   'bak-4.8: the ingester runs again after the restore');

done_testing();
