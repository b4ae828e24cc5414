#!/usr/bin/perl

# start_again.t: `make run` on a running stack is idempotent -- it leaves
# MariaDB and the pools running, keeps the data, applies no migration twice
# and the gateway keeps answering.

use strict;
use warnings;
use utf8;

use Test::More;
use DgjTest qw(get_json sql);
use DgjPool qw(read_pid supervisor_pid);

# a row only this test writes, to see that the data survives
sql('migrate', "INSERT INTO calendar_days (day, kind, name, provisional)"
               . " VALUES ('2027-12-27', 'holiday', 'start-again probe', 1)");

my $db = read_pid('db/mariadbd.pid');
my $pool = supervisor_pid();
my ($n) = sql('ro', 'SELECT COUNT(*) FROM schema_migrations');

my $out = `$ENV{DGJ_STACK} start 2>&1`;
is($?, 0, 'again-1.1: starting a running stack succeeds') or diag($out);
like($out, qr/schema up to date/, 'again-1.2: no migration is applied twice');

is(read_pid('db/mariadbd.pid'), $db, 'again-2.1: MariaDB was left running');
is(supervisor_pid(), $pool, 'again-2.2: the FastCGI pool was left running');

my ($m) = sql('ro', 'SELECT COUNT(*) FROM schema_migrations');
is($m->[0], $n->[0], 'again-3.1: the migration record is unchanged');
my ($probe) = sql('ro', "SELECT name FROM calendar_days"
                        . " WHERE day = '2027-12-27'");
is($probe->[0], 'start-again probe', 'again-3.2: the data is kept');

my ($res) = get_json('/api/v1/overview');
is($res->{status}, 200, 'again-4.1: the API answers');

sql('migrate', "DELETE FROM calendar_days WHERE day = '2027-12-27'");

done_testing();
