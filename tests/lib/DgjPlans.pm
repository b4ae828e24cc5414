# tests/lib/DgjPlans.pm: what the query-plan checks share
# (tests/sql/workflow_plans.t, tests/sql/board_plans.t and
# tests/bench/explain_workflow): running a command for its output, SQL
# literals for the mariadb client, and the workers' own SQL texts, read
# from the C sources through the preprocessor so that the plans checked
# are those of the statements the workers prepare.

package DgjPlans;

use strict;
use warnings;

use Encode qw(decode);
use Exporter qw(import);
use IPC::Open3 qw(open3);

our @EXPORT_OK = qw(run quote worker_sql);


# run(CMD, ARGS...) -> (exit status, stdout and stderr decoded as UTF-8)
sub run {
    my @cmd = @_;

    my $pid = open3(my $in, my $out, undef, @cmd);
    close $in;
    my $text = do { local $/; <$out> } // '';
    waitpid $pid, 0;

    return ($? >> 8, decode('UTF-8', $text));
}


# a value as an SQL literal: NULL, an integer as is, else a quoted string
sub quote {
    my ($v) = @_;

    return 'NULL' unless defined $v;
    return $v if $v =~ /^-?\d+$/;

    $v =~ s/\\/\\\\/g;
    $v =~ s/'/''/g;

    return "'$v'";
}


# worker_sql(ROOT, FILE...) -> { name => text } of every static dgj_sql_t
# in the C files (paths under ROOT), macros expanded by `cc -E`; dies when
# a file does not preprocess
sub worker_sql {
    my ($root, @files) = @_;

    my %sql;

    for my $file (@files) {
        my ($rc, $text) = run('cc', '-E', '-P', '-D_GNU_SOURCE',
                              map({ "-I$root/$_" } qw(fcgi/core fcgi/workflow
                                  fcgi/accounts modules/ngx_http_dgj_module)),
                              "$root/$file");
        die "cc -E $file failed:\n$text" if $rc;

        while ($text =~ /static\s+const\s+dgj_sql_t\s+\w+\s*=\s*\{\s*
                         "([^"]+)"\s*,\s*((?:"(?:[^"\\]|\\.)*"\s*)+)\}/gx)
        {
            my ($name, $lits) = ($1, $2);
            my $s = join '', $lits =~ /"((?:[^"\\]|\\.)*)"/g;
            $s =~ s/\\(.)/$1/g;
            $sql{$name} = $s;
        }
    }

    return \%sql;
}


1;
