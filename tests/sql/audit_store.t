#!/usr/bin/perl

# audit_store.t: audit_records in MariaDB.  The app account reads and
# appends, never updates or deletes (nor does anyone: triggers); the
# ingester loads every line of the files, the exact bytes in raw, with no
# gap and no duplicate across restarts (its position is durable, a line
# read twice is ignored); the retention job drops months older than 184
# days, keeps the rest, makes the coming months and refuses a shorter
# retention.

use strict;
use warnings;

use Digest::SHA qw(sha256_hex);
use File::Temp qw(tempdir);
use JSON::PP;
use Test::More;
use DgjAudit qw(new_chain rec_line start_line);
use DgjTest qw(base_url http sql stack wait_until);

my $root = $ENV{DGJ_ROOT} or die "DGJ_ROOT is not set: run make test\n";
my $var  = $ENV{DGJ_VAR} or die "DGJ_VAR is not set: run make test\n";
my $tool = "$root/build/bin/dgj-audit";
my $dir  = "$var/log/audit";
my $conf = "$var/conf/fcgi-main.conf";
my $json = JSON::PP->new->utf8;

# a statement expected to be refused: the client's message stays out of
# the test output
sub try_sql {
    my ($who, $q) = @_;
    open(my $saved, '>&', \*STDERR) or die $!;
    open(STDERR, '>', '/dev/null') or die $!;
    my @r = eval { sql($who, $q) };
    my $failed = $@;
    open(STDERR, '>&', $saved) or die $!;
    return $failed ? undef : \@r;
}

# rights
my ($grants) = join "\n", map { $_->[0] }
    sql('admin', "SHOW GRANTS FOR 'dgj_app'\@'localhost'");
like($grants, qr/GRANT SELECT, INSERT ON `dgj`\.`audit_records`/,
     'store-1.1: the app account has SELECT and INSERT on audit_records');
unlike($grants, qr/ON `dgj`\.\*/,
       'store-1.2: ... and no database-wide grant that would add more');
ok(try_sql('app', 'SELECT COUNT(*) FROM audit_records'),
   'store-1.3: the app reads the audit log');
ok(!try_sql('app', 'UPDATE audit_records SET status = 200 LIMIT 1')
   && !try_sql('app', 'DELETE FROM audit_records LIMIT 1'),
   'store-1.4: the app can neither update nor delete a record');
ok(!try_sql('admin', 'UPDATE dgj.audit_records SET status = 1 LIMIT 1')
   && !try_sql('admin', 'DELETE FROM dgj.audit_records LIMIT 1'),
   'store-1.5: nor can anyone else (the triggers refuse)');

# the running ingester loads a fresh request within seconds
my $res = http()->get(base_url() . '/api/v1/districts?audit=store');
my $rid = $res->{headers}{'x-request-id'};
ok(wait_until(15, sub {
       (sql('ro', "SELECT COUNT(*) FROM audit_records WHERE request_id = "
                  . "'$rid'"))[0][0] == 1 }),
   'store-2.1: the running ingester loads a request\'s record');

# the ingester stops; lines keep coming; it starts again and catches up
# (123 lines: its multi-row INSERTs of 100, 10 and 1 rows all run)
ok(stack('stop-audit'), 'store-3.1: the ingester stops');
my @rids;
for (1 .. 123) {
    my $r = http()->get(base_url() . "/api/v1/districts?n=$_");
    push @rids, $r->{headers}{'x-request-id'};
}
sleep 2;    # flush=1s
my $in_list = join ',', map { "'$_'" } @rids;
is((sql('ro', "SELECT COUNT(*) FROM audit_records WHERE request_id IN "
              . "($in_list)"))[0][0], 0,
   'store-3.2: nothing of what came while it was stopped is loaded yet');
ok(stack('start-audit'), 'store-3.3: it starts again');
ok(wait_until(15, sub {
       (sql('ro', "SELECT COUNT(*) FROM audit_records WHERE request_id IN "
                  . "($in_list)"))[0][0] == 123 }),
   'store-3.4: it loads all 123 records written while it was stopped');

# every line of the files is a row, once, with its exact bytes
sub file_lines {
    my %l;
    for my $f (grep { !/\.lock$/ } glob("$dir/audit.log*")) {
        open(my $fh, '<', $f) or next;
        while (my $line = <$fh>) {
            next unless $line =~ /\n\z/;
            chomp $line;
            my ($c, $s) = $line =~ /"c":"([^"]+)","seq":(\d+)/ or next;
            $l{"$c $s"} = $line;
        }
    }
    return \%l;
}

ok(stack('stop-audit'), 'store-4.1: stopped; one last pass ran');
my $lines = file_lines();
# compared by hash: the client's batch output escapes backslashes
my %rows = map { ("$_->[0] $_->[1]" => $_->[2]) }
    sql('ro', 'SELECT chain, seq, SHA2(raw, 256) FROM audit_records');
my @missing = grep { !exists $rows{$_} } keys %$lines;
is(scalar @missing, 0,
   'store-4.2: no gap: every line of the files is a row ('
   . scalar(keys %$lines) . ' lines)') or diag("@missing[0 .. 4]");
my @differ = grep { exists $rows{$_} && $rows{$_} ne sha256_hex($lines->{$_}) }
             keys %$lines;
is(scalar @differ, 0, 'store-4.3: raw holds each line\'s exact bytes');
my ($dups) = sql('ro', 'SELECT COUNT(*) FROM (SELECT chain, seq FROM '
                       . 'audit_records GROUP BY chain, seq '
                       . 'HAVING COUNT(*) > 1) d');
is($dups->[0], 0, 'store-4.4: no record twice');

# a position lost: everything read again, nothing stored twice (the
# workers may add a checkpoint meanwhile: only lines new since are added)
my %before = map { ("$_->[0] $_->[1]" => 1) }
    sql('ro', 'SELECT chain, seq FROM audit_records');
system("$tool ingest --once -c $conf --state $var/state/audit-test.pos "
       . "$dir >/dev/null 2>&1");
is($? >> 8, 0, 'store-5.1: an ingester without a position reads all again');
my ($after) = sql('ro', 'SELECT COUNT(*) FROM audit_records');
my $new_lines = grep { !$before{$_} } keys %{ file_lines() };
($dups) = sql('ro', 'SELECT COUNT(*) FROM (SELECT chain, seq FROM '
                    . 'audit_records GROUP BY chain, seq '
                    . 'HAVING COUNT(*) > 1) d');
ok($after->[0] - keys(%before) <= $new_lines && $dups->[0] == 0,
   'store-5.2: ... and stores nothing twice ('
   . ($after->[0] - keys(%before)) . " rows added for $new_lines new "
   . 'lines)');
unlink("$var/state/audit-test.pos");
ok(stack('start-audit'), 'store-5.3: the stack\'s ingester runs again');

# retention: a month older than 184 days goes, whole; recent ones stay
sql('admin', "ALTER TABLE dgj.audit_records REORGANIZE PARTITION p202610 "
             . "INTO (PARTITION p202604 VALUES LESS THAN ('2026-05-01'), "
             . "PARTITION p202610 VALUES LESS THAN ('2026-11-01'))");
sql('app', "INSERT INTO audit_records (chain, seq, ts, line_type, raw) "
           . "VALUES ('test.retention', 1, '2026-04-15 10:00:00', 'rec', "
           . "'{}')");
my ($recent) = sql('ro', 'SELECT COUNT(*) FROM audit_records WHERE ts > '
                         . 'NOW() - INTERVAL 30 DAY');

{
    local $ENV{DGJ_AUDIT_KEEP_DAYS} = 100;
    ok(!stack('audit-retention'),
       'store-6.1: a retention under 184 days is refused');
}

ok(stack('audit-retention'), 'store-6.2: the retention job runs');
my %parts = map { $_->[0] => 1 }
    sql('ro', "SELECT partition_name FROM information_schema.partitions "
              . "WHERE table_schema = 'dgj' "
              . "AND table_name = 'audit_records'");
ok(!$parts{p202604}
   && !(sql('ro', "SELECT COUNT(*) FROM audit_records WHERE chain = "
                  . "'test.retention'"))[0][0],
   'store-6.3: the month older than 184 days is gone, with its rows');
my ($now) = sql('ro', 'SELECT COUNT(*) FROM audit_records WHERE ts > '
                      . 'NOW() - INTERVAL 30 DAY');
ok($now->[0] >= $recent->[0], 'store-6.4: recent records stay');
my @want = map {
    my @t = gmtime(time);
    my ($y, $m) = ($t[5] + 1900, $t[4] + 1 + $_);
    while ($m > 12) { $m -= 12; $y++ }
    sprintf('p%04d%02d', $y, $m);
} 0 .. 3;
ok(!(grep { !$parts{$_} } @want),
   "store-6.5: partitions ready for this month and the next three (@want)");

# a worker killed inside write() left the head of its line, and the next
# worker wrote on right after it: that line is stored as one of its own,
# the head is not (40 days back, out of the other tests' way)
my $tdir = tempdir(CLEANUP => 1);
my $ms = (time() - 40 * 86400) * 1000;
my ($ca, $cb) = map { new_chain(sprintf('tst.w%d.%x.%d', $_, $ms, $$)) }
                0, 1;
my @a = (start_line($ca, $ms), rec_line($ca, $ms + 1),
         rec_line($ca, $ms + 2));
my @b = (start_line($cb, $ms + 3), rec_line($cb, $ms + 4));
open(my $torn, '>', "$tdir/audit.log") or die $!;
print $torn map({ "$_->{raw}\n" } @a[0, 1]), substr($a[2]{raw}, 0, 90),
            map({ "$_->{raw}\n" } @b);
close($torn);
my $said = `$tool ingest --once -c $conf --state $tdir/pos $tdir 2>&1`;
is($? >> 8, 0, 'store-7.1: the ingester reads a file with a line cut short')
    or diag($said);
my %got = map { ("$_->[0] $_->[1]" => $_->[2]) }
    sql('ro', "SELECT chain, seq, SHA2(raw, 256) FROM audit_records "
              . "WHERE chain IN ('$ca->{id}', '$cb->{id}')");
is_deeply(\%got, { map({ ("$ca->{id} $_" => sha256_hex($a[$_]{raw})) } 0, 1),
                   map({ ("$cb->{id} $_" => sha256_hex($b[$_]{raw})) } 0, 1) },
          'store-7.2: the line written on after the cut one is a row with '
          . 'its exact bytes; the cut head is none');
like($said, qr/1 lines that are not audit lines skipped/,
     'store-7.3: the head is reported as skipped');

done_testing();
