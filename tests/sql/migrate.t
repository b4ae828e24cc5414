#!/usr/bin/perl
#
# tests/sql/migrate.t -- what an operator sees from sql/migrate and the
# reference data it loads: migrations applied once and in order, recorded
# with their sha256; a second run that changes nothing; refusals of edited,
# missing, duplicated or out-of-order files; --check that changes nothing;
# and the real reference rows (districts, departments, categories, the 2026
# and 2027 calendars).
#
# Needs DGJ_ROOT (repo root) and DGJ_ADMIN_CNF (mariadb client defaults file
# of an account that may create and drop databases).  Works in scratch
# databases dgj_scratch_<pid>*, dropped at the end.

use strict;
use warnings;
use utf8;

use Test::More;
use Digest::SHA qw(sha256_hex);
use Encode qw(decode);
use File::Basename qw(basename);
use File::Copy qw(copy);
use File::Temp qw(tempdir);
use IPC::Open3 qw(open3);
use Time::Local qw(timegm);

binmode Test::More->builder->$_, ':encoding(UTF-8)'
    for qw(output failure_output todo_output);

my $root = $ENV{DGJ_ROOT};
my $cnf = $ENV{DGJ_ADMIN_CNF};

# A missing prerequisite fails the run; it is never skipped silently.
unless ($root && $cnf) {
    fail('DGJ_ROOT and DGJ_ADMIN_CNF must be set (make test sets them)');
    done_testing();
    exit 1;
}

-r $cnf or BAIL_OUT("cannot read DGJ_ADMIN_CNF $cnf");

my $migrate = "$root/sql/migrate";
my $srcdir = "$root/sql/migrations";
my $db = "dgj_scratch_$$";
my $db_empty = "dgj_scratch_${$}_empty";
my @created;

END {
    local $?;
    for my $name (@created) {
        run('mariadb', "--defaults-file=$cnf", '-e',
            "DROP DATABASE IF EXISTS `$name`");
    }
}

# Runs a command; returns its exit code and its stdout and stderr together,
# decoded from UTF-8.
sub run {
    my @cmd = @_;

    my $pid = open3(my $in, my $out, undef, @cmd);
    close $in;
    my $text = do { local $/; <$out> } // '';
    waitpid $pid, 0;

    return ($? >> 8, decode('UTF-8', $text));
}

sub migrate {
    return run($migrate, "--defaults-file=$cnf", @_);
}

sub sql_try {
    my ($name, $query) = @_;

    return run('mariadb', "--defaults-file=$cnf", '--batch',
               '--skip-column-names', '--default-character-set=utf8mb4',
               ($name ? ("--database=$name") : ()), '-e', $query);
}

# Rows of a query as array refs; dies on an SQL error.
sub sql {
    my ($name, $query) = @_;

    my ($rc, $out) = sql_try($name, $query);
    die "query failed ($rc): $query\n$out" if $rc;

    return map { [split /\t/, $_, -1] } split /\n/, $out;
}

sub sql_value {
    my @rows = sql(@_);
    return @rows ? $rows[0][0] : undef;
}

sub table_exists {
    my ($name, $table) = @_;

    return sql_value(undef, "SELECT COUNT(*) FROM information_schema.TABLES"
                            . " WHERE TABLE_SCHEMA = '$name'"
                            . " AND TABLE_NAME = '$table'");
}

sub recorded {
    return sql($db, 'SELECT version, name, checksum, applied_at'
                    . ' FROM schema_migrations ORDER BY version');
}

sub slurp {
    my ($path) = @_;

    open my $fh, '<:raw', $path or die "$path: $!";
    local $/;
    return <$fh>;
}

# A copy of the migrations folder to break on purpose.
sub copy_of_migrations {
    my $dir = tempdir('dgj-migrations-XXXXXX', TMPDIR => 1, CLEANUP => 1);

    copy($_, "$dir/" . basename($_)) or die "copy $_: $!" for files();
    return $dir;
}

sub write_file {
    my ($path, $text, $mode) = @_;

    open my $fh, $mode // '>', $path or die "$path: $!";
    binmode $fh, ':encoding(UTF-8)';
    print $fh $text;
    close $fh or die "$path: $!";
}

sub files {
    return sort glob "$srcdir/[0-9][0-9][0-9][0-9]_*.sql";
}

my @files = files();
my @names = map { basename($_) } @files;
my $n = @files;

ok($n >= 6, "the repository has the reference migrations ($n files)");

sql(undef, "CREATE DATABASE `$db`"
           . ' CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci');
push @created, $db;


# first and second run

{
    my ($rc, $out) = migrate("--database=$db");
    is($rc, 0, 'first run on an empty database succeeds') or diag $out;

    my @applied = $out =~ /^applied (\S+)$/mg;
    is_deeply(\@applied, \@names,
              'first run prints one "applied" line per migration,'
              . ' in version order');
}

my @rows = recorded();

is_deeply([map { [$_->[0], $_->[1], $_->[2]] } @rows],
          [map { [int(substr($names[$_], 0, 4)), $names[$_],
                  sha256_hex(slurp($files[$_]))] } 0 .. $#files],
          'schema_migrations records every file with its version and the'
          . ' sha256 of its bytes');

is(scalar(grep { $_->[3] =~ /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/ } @rows), $n,
   'every schema_migrations row has its applied_at time');

is(sql_value($db, "SELECT COUNT(*) FROM schema_migrations"
                  . " WHERE applied_by LIKE '%@%'"), $n,
   'every schema_migrations row says who applied it');

{
    my ($rc, $out) = migrate("--database=$db");
    is($rc, 0, 'second run succeeds');
    is($out, "schema up to date ($n migrations)\n",
       'second run applies nothing and says the schema is up to date');
    is_deeply([recorded()], \@rows,
              'second run leaves schema_migrations as it was');
}

{
    my ($rc, $out) = migrate("--database=$db", '--check');
    is($rc, 0, '--check on an up-to-date database exits 0');
    is($out, "schema up to date ($n migrations)\n",
       '--check says the schema is up to date');
}

is_deeply([sql($db, "SELECT COUNT(*) FROM information_schema.TABLES"
                    . " WHERE TABLE_SCHEMA = '$db'"
                    . " AND (ENGINE <> 'InnoDB'"
                    . " OR TABLE_COLLATION <> 'utf8mb4_unicode_ci'"
                    . " OR TABLE_COMMENT = '')")],
          [[0]],
          'every table is InnoDB, utf8mb4_unicode_ci, with a comment');


# districts: the city level, 4 subdistricts and 28 towns, official codes

is_deeply({map { $_->[0] => $_->[1] }
           sql($db, 'SELECT kind, COUNT(*) FROM districts GROUP BY kind')},
          {municipal => 1, subdistrict => 4, town => 28},
          'districts: 1 municipal, 4 subdistricts, 28 towns');

is_deeply([sql($db, "SELECT code, name FROM districts"
                    . " WHERE kind = 'municipal'")],
          [['441900', '市直']],
          'the municipal level is 市直 with the city code 441900');

is_deeply([sort map { $_->[0] }
           sql($db, "SELECT name FROM districts WHERE kind = 'subdistrict'")],
          [sort qw(莞城街道 南城街道 东城街道 万江街道)],
          'the four subdistricts are the real ones');

is_deeply([sort map { $_->[0] }
           sql($db, "SELECT name FROM districts WHERE kind = 'town'")],
          [sort qw(石碣镇 石龙镇 茶山镇 石排镇 企石镇 横沥镇 桥头镇 谢岗镇
                   东坑镇 常平镇 寮步镇 樟木头镇 大朗镇 黄江镇 清溪镇 塘厦镇
                   凤岗镇 大岭山镇 长安镇 虎门镇 厚街镇 沙田镇 道滘镇 洪梅镇
                   麻涌镇 望牛墩镇 中堂镇 高埗镇)],
          'the 28 towns are the real ones');

is(sql_value($db, "SELECT COUNT(*) FROM districts"
                  . " WHERE kind <> 'municipal'"
                  . " AND code REGEXP '^441900[0-9]{3}\$'"), 32,
   'every town and subdistrict has a 9-digit code under 441900');

is_deeply({map { $_->[0] => $_->[1] }
           sql($db, "SELECT name, code FROM districts WHERE name IN"
                    . " ('东城街道', '莞城街道', '石碣镇', '长安镇',"
                    . " '虎门镇', '高埗镇')")},
          {'东城街道' => '441900003', '莞城街道' => '441900006',
           '石碣镇' => '441900101', '长安镇' => '441900119',
           '虎门镇' => '441900121', '高埗镇' => '441900129'},
          'spot check of official codes (虎门 is 121: 120 is unused)');


# departments

my $ndept = sql_value($db, 'SELECT COUNT(*) FROM departments'
                           . ' WHERE active = 1');
ok($ndept >= 30, "at least 30 active departments ($ndept)");

is(sql_value($db, "SELECT COUNT(*) FROM departments"
                  . " WHERE kind = 'city' AND name IN"
                  . " ('市住房和城乡建设局', '市交通运输局', '市生态环境局',"
                  . " '市人力资源和社会保障局', '市教育局', '市卫生健康局',"
                  . " '市医疗保障局', '市市场监督管理局', '市公安局',"
                  . " '市城市管理和综合执法局', '市政务服务和数据管理局')"),
   11, 'the main city bureaus are there, as kind city');

is_deeply([sql($db, "SELECT COUNT(*), COUNT(DISTINCT dep.district_id)"
                    . " FROM departments AS dep"
                    . " JOIN districts AS d ON d.id = dep.district_id"
                    . " WHERE dep.kind = 'town'"
                    . " AND d.kind IN ('subdistrict', 'town')")],
          [[32, 32]],
          'each of the 32 towns and subdistricts has its own government');

is(sql_value($db, "SELECT name FROM departments WHERE code = 'town.441900121'"),
   '虎门镇人民政府', 'a town government is named 镇人民政府');


# categories

my ($ntop, $nleaf) = @{(sql($db, 'SELECT SUM(level = 1), SUM(level = 2)'
                                 . ' FROM categories'))[0]};
ok($ntop >= 10 && $ntop <= 15, "about 10 topics ($ntop)");
ok($nleaf >= 35 && $nleaf <= 60, "about 40 leaves ($nleaf)");

is(sql_value($db, 'SELECT COUNT(*) FROM categories AS c'
                  . ' JOIN categories AS p ON p.id = c.parent_id'
                  . ' JOIN departments AS d'
                  . ' ON d.id = c.default_department_id AND d.active = 1'
                  . ' WHERE c.level = 2 AND p.level = 1'
                  . ' AND c.code LIKE CONCAT(p.code, \'__\')'
                  . ' AND c.handling_days > 0'),
   $nleaf,
   'every leaf sits under a topic whose code it extends, has an active'
   . ' default department and a time limit');

is(sql_value($db, "SELECT COUNT(*) FROM categories WHERE level = 2 AND NOT ("
                  . " (appeal_type = 'consultation'"
                  . " AND handling_days BETWEEN 1 AND 3)"
                  . " OR (appeal_type = 'help'"
                  . " AND handling_days BETWEEN 3 AND 5)"
                  . " OR (appeal_type IN ('complaint', 'suggestion', 'report')"
                  . " AND handling_days BETWEEN 5 AND 15)"
                  . " OR (appeal_type = 'praise'"
                  . " AND handling_days BETWEEN 1 AND 15))"),
   0, 'time limits follow the domain rules per appeal type');

is(sql_value($db, "SELECT COUNT(*) FROM categories"
                  . " WHERE appeal_type = 'report' AND is_public <> 0"),
   0, 'no report (举报) leaf is public');

ok(sql_value($db, "SELECT COUNT(*) FROM categories"
                  . " WHERE appeal_type = 'report'") > 0,
   'there are report leaves to keep private');

{
    my ($rc, $out) = sql_try($db, "UPDATE categories SET is_public = 1"
                                  . " WHERE appeal_type = 'report'");
    isnt($rc, 0, 'the database refuses to make a report leaf public');
}

{
    my ($rc, $out) = sql_try($db, 'DELETE FROM departments WHERE id ='
                                  . ' (SELECT MIN(default_department_id)'
                                  . ' FROM categories)');
    isnt($rc, 0, 'a department that categories dispatch to cannot be'
                 . ' deleted');
}


# calendars

sub working_days {
    my ($year) = @_;

    my %kind = map { $_->[0] => $_->[1] }
               sql($db, 'SELECT day, kind FROM calendar_days'
                        . " WHERE day BETWEEN '$year-01-01'"
                        . " AND '$year-12-31'");
    my $count = 0;

    for (my $t = timegm(0, 0, 12, 1, 0, $year);
         (gmtime $t)[5] + 1900 == $year;
         $t += 86400)
    {
        my @tm = gmtime $t;
        my $day = sprintf '%04d-%02d-%02d', $year, $tm[4] + 1, $tm[3];
        my $k = $kind{$day} // '';
        my $weekday = $tm[6] >= 1 && $tm[6] <= 5;

        $count++ if $k eq 'workday' || ($weekday && $k ne 'holiday');
    }

    return $count;
}

is_deeply([sql($db, 'SELECT year, provisional FROM calendar_years'
                    . ' ORDER BY year')],
          [[2026, 0], [2027, 1]],
          'calendar: 2026 official, 2027 provisional');

like(sql_value($db, 'SELECT source FROM calendar_years WHERE year = 2026'),
     qr/国务院办公厅关于2026年部分节假日安排的通知/,
     '2026 names the State Council notice it comes from');

# 2026 has 261 Mon-Fri days; 19 of them are holidays (Jan 1-2, Feb 16-20
# and 23, Apr 6, May 1, 4 and 5, Jun 19, Sep 25, Oct 1-2 and 5-7); 6
# weekend days are worked: 261 - 19 + 6 = 248.
is(working_days(2026), 248, '2026 has 248 working days');

is_deeply({map { $_->[0] => $_->[1] }
           sql($db, "SELECT name, COUNT(*) FROM calendar_days"
                    . " WHERE YEAR(day) = 2026 AND kind = 'holiday'"
                    . " GROUP BY name")},
          {'元旦' => 3, '春节' => 9, '清明节' => 3, '劳动节' => 5,
           '端午节' => 3, '中秋节' => 3, '国庆节' => 7},
          '2026 holidays are named, with the lengths of the notice');

is_deeply([map { $_->[0] }
           sql($db, "SELECT day FROM calendar_days"
                    . " WHERE kind = 'workday' ORDER BY day")],
          [qw(2026-01-04 2026-02-14 2026-02-28 2026-05-09 2026-09-20
              2026-10-10)],
          'the six swapped working days of 2026, and none for 2027');

is_deeply([sql($db, "SELECT day, name FROM calendar_days"
                    . " WHERE YEAR(day) = 2027 AND provisional = 1"
                    . " ORDER BY day")],
          [['2027-01-01', '元旦'],
           ['2027-02-05', '春节'], ['2027-02-06', '春节'],
           ['2027-02-07', '春节'], ['2027-02-08', '春节'],
           ['2027-04-05', '清明节'],
           ['2027-05-01', '劳动节'], ['2027-05-02', '劳动节'],
           ['2027-06-09', '端午节'],
           ['2027-09-15', '中秋节'],
           ['2027-10-01', '国庆节'], ['2027-10-02', '国庆节'],
           ['2027-10-03', '国庆节']],
          '2027: the 13 statutory days off, all provisional');

is(sql_value($db, 'SELECT COUNT(*) FROM calendar_days'
                  . ' WHERE YEAR(day) = 2027 AND provisional = 0'), 0,
   'no 2027 day claims to be official');

is(working_days(2027), 254, '2027 counts 254 working days until published');

{
    my ($rc, $out) = sql_try($db, "INSERT INTO calendar_days"
                                  . " (day, kind, name, provisional)"
                                  . " VALUES ('2026-03-04', 'workday',"
                                  . " 'x', 0)");
    isnt($rc, 0, 'a weekday cannot be entered as a swapped working day');
}

is_deeply([sql($db, 'START TRANSACTION;'
                    . ' DELETE FROM calendar_years WHERE year = 2027;'
                    . ' SELECT COUNT(*) FROM calendar_days'
                    . ' WHERE YEAR(day) = 2027;'
                    . ' ROLLBACK')],
          [[0]],
          'deleting a year (to replace it) removes its days with it');


# refusals: nothing is applied when an applied file changed

{
    my $dir = copy_of_migrations();
    my $edited = $names[1];

    write_file("$dir/$edited", "\n-- edited after it was applied\n", '>>');
    write_file("$dir/0090_probe_edited.sql",
               "CREATE TABLE probe_edited (id INT PRIMARY KEY);\n");

    my ($rc, $out) = migrate("--database=$db", "--dir=$dir");
    is($rc, 1, 'an edited applied migration makes the run fail');
    like($out, qr/\Q$edited\E was edited after it was applied/,
         'the refusal names the edited file');
    ok(!table_exists($db, 'probe_edited'),
       'nothing is applied when a file was edited, not even new ones');
    is_deeply([recorded()], \@rows, 'schema_migrations is unchanged');

    ($rc, $out) = migrate("--database=$db", "--dir=$dir", '--check');
    is($rc, 1, '--check reports the edited file too');
}

{
    my $dir = copy_of_migrations();
    my $gone = $names[2];

    unlink "$dir/$gone" or die "$dir/$gone: $!";

    my ($rc, $out) = migrate("--database=$db", "--dir=$dir");
    is($rc, 1, 'a missing applied migration makes the run fail');
    like($out, qr/applied migration \Q$gone\E .*is missing/,
         'the refusal names the missing file');
}

{
    my $dir = copy_of_migrations();
    my $renamed = $names[3];
    my $to = substr($renamed, 0, 5) . 'renamed.sql';

    rename "$dir/$renamed", "$dir/$to" or die "$to: $!";

    my ($rc, $out) = migrate("--database=$db", "--dir=$dir");
    is($rc, 1, 'a renamed applied migration makes the run fail');
    like($out, qr/\Q$to\E .*was applied as \Q$renamed\E/,
         'the refusal names both the new and the applied name');
}

{
    my $dir = copy_of_migrations();
    my $dup = substr($names[2], 0, 5) . 'duplicate.sql';

    write_file("$dir/$dup", "SELECT 1;\n");

    my ($rc, $out) = migrate("--database=$db", "--dir=$dir");
    is($rc, 1, 'a duplicated version makes the run fail');

    my ($line) = $out =~ /^(.*duplicate version.*)$/m;
    ok(defined $line && index($line, $names[2]) >= 0
       && index($line, $dup) >= 0,
       'the refusal names both files of the duplicated version')
        or diag $out;
}

{
    my $dir = copy_of_migrations();

    write_file("$dir/12_badname.sql", "SELECT 1;\n");

    my ($rc, $out) = migrate("--database=$db", "--dir=$dir");
    is($rc, 1, 'a .sql file without a NNNN_ name is refused, not skipped');
    like($out, qr/12_badname\.sql: not a migration name/,
         'the refusal names the badly named file');
}


# a failing migration stops the run and is not recorded

{
    my $dir = copy_of_migrations();

    write_file("$dir/0091_probe_first.sql",
               "CREATE TABLE IF NOT EXISTS probe_first (id INT PRIMARY KEY)"
               . " ENGINE=InnoDB;\n");
    write_file("$dir/0092_broken.sql",
               "CREATE TABLE probe_broken (id INT PRIMARY KEY);\n"
               . "THIS IS NOT SQL;\n");
    write_file("$dir/0093_probe_after.sql",
               "CREATE TABLE probe_after (id INT PRIMARY KEY);\n");

    my ($rc, $out) = migrate("--database=$db", "--dir=$dir");
    is($rc, 1, 'a failing migration makes the run fail');
    like($out, qr/^applied 0091_probe_first\.sql$/m,
         'migrations before the failing one are applied');
    like($out, qr/0092_broken\.sql failed/, 'the failing file is named');
    like($out, qr/ERROR .*at line 2/,
         'the database error with its line in the file is shown');
    unlike($out, qr/0093/, 'the migration after it is not run');
    ok(!table_exists($db, 'probe_after'), '... and its table is absent');
    is(sql_value($db, 'SELECT GROUP_CONCAT(version ORDER BY version)'
                      . ' FROM schema_migrations WHERE version > 90'),
       '91', 'only the migration that succeeded is recorded');

    sql($db, 'DROP TABLE probe_first, probe_broken;'
             . ' DELETE FROM schema_migrations WHERE version = 91');
}


# --check applies nothing; a new migration is applied alone

{
    my $dir = copy_of_migrations();

    write_file("$dir/0095_probe.sql",
               "CREATE TABLE IF NOT EXISTS probe (id INT PRIMARY KEY)"
               . " ENGINE=InnoDB;\n");

    my ($rc, $out) = migrate("--database=$db", "--dir=$dir", '--check');
    is($rc, 3, '--check with a pending migration exits 3');
    like($out, qr/^pending 0095_probe\.sql$/m,
         '--check lists the pending migration');
    ok(!table_exists($db, 'probe'), '--check does not apply it');
    is_deeply([recorded()], \@rows, '--check records nothing');

    ($rc, $out) = migrate("--database=$db", "--dir=$dir");
    is($rc, 0, 'the run with a new migration succeeds');
    is($out, "applied 0095_probe.sql\n",
       'only the new migration is applied');
    ok(table_exists($db, 'probe'), '... and its table exists');

    write_file("$dir/0094_late.sql", "SELECT 1;\n");
    ($rc, $out) = migrate("--database=$db", "--dir=$dir");
    is($rc, 1, 'a new file numbered below an applied one is refused');
    like($out, qr/0094_late\.sql is not applied but a later version/,
         'the refusal names the late file');
}


# --check on an empty database changes nothing

sql(undef, "CREATE DATABASE `$db_empty`"
           . ' CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci');
push @created, $db_empty;

{
    my ($rc, $out) = migrate("--database=$db_empty", '--check');
    is($rc, 3, '--check on an empty database exits 3');
    is_deeply([$out =~ /^pending (\S+)$/mg], \@names,
              '--check lists every migration as pending, in order');
    is(sql_value(undef, "SELECT COUNT(*) FROM information_schema.TABLES"
                        . " WHERE TABLE_SCHEMA = '$db_empty'"), 0,
       '--check creates no table, not even schema_migrations');
}


# operator mistakes

{
    my ($rc, $out) = migrate("--database=dgj_scratch_${$}_missing");
    is($rc, 2, 'a missing database exits 2');
    like($out, qr/database 'dgj_scratch_${$}_missing' does not exist/,
         'and says the database does not exist');
}

{
    my ($rc, $out) = run($migrate);
    is($rc, 2, 'no arguments is a usage error');
    like($out, qr/^usage: /m, 'and prints the usage');
}

done_testing();
