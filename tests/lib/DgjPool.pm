package DgjPool;

# DgjPool: looks at the running stack's processes from a test: pids from
# their pid files, a pool's supervisor and workers, nginx after a reload,
# and a load loop run in a child process.

use strict;
use warnings;

use Exporter 'import';
use HTTP::Tiny;
use Time::HiRes qw(time sleep);

our @EXPORT_OK = qw(read_pid supervisor_pid worker_pids start_load
                    finish_load nginx_settled);


# read_pid('nginx.pid' | 'db/mariadbd.pid' | ...): the pid in a pid file
# under $DGJ_VAR/run, or undef
sub read_pid {
    my ($f) = @_;

    open(my $fh, '<', "$ENV{DGJ_VAR}/run/$f") or return undef;
    chomp(my $pid = <$fh> // '');

    return $pid =~ /^\d+$/ ? $pid : undef;
}


sub supervisor_pid {
    my ($pool) = @_;

    return read_pid('fcgi/' . ($pool // 'main') . '.pid');
}


sub worker_pids {
    my ($pool) = @_;

    my $sup = supervisor_pid($pool) or return ();

    return sort { $a <=> $b } split ' ', `pgrep -P $sup`;
}


# nginx_settled(): no nginx worker of an earlier configuration is still
# shutting down after a reload.
sub nginx_settled {
    my $master = read_pid('nginx.pid') or return 0;

    my @old = grep { /shutting down/ } `ps --ppid $master -o args=`;

    return @old == 0;
}


# start_load(URL, SECONDS): a child GETs URL in a loop for SECONDS and
# writes one status per line to a file; finish_load() returns the statuses.
sub start_load {
    my ($url, $seconds) = @_;

    my $file = "$ENV{DGJ_VAR}/load.$$." . int(time() * 1000);

    my $pid = fork();
    die "fork: $!" unless defined $pid;

    if ($pid == 0) {
        open(my $out, '>', $file) or exit 1;
        my $http = HTTP::Tiny->new(timeout => 10, keep_alive => 1);
        my $end = time() + $seconds;
        my $n = 0;
        while (time() < $end && $n < 100000) {
            my $res = $http->get($url);

            # Like a browser (RFC 9112 9.3.1): a GET on a reused connection
            # that the server closed at the same moment is retried once on
            # a new one.  nginx closes idle client connections on reload.
            if ($res->{status} == 599
                && $res->{content} =~ /reset|closed|Unexpected end|pipe/i)
            {
                $http = HTTP::Tiny->new(timeout => 10, keep_alive => 1);
                $res = $http->get($url);
            }

            my $line = $res->{status};
            $line .= " $res->{content}" if $res->{status} == 599;
            $line =~ s/\s+/ /g;
            print $out "$line\n";
            $n++;
        }
        close($out);
        exit 0;
    }

    return { pid => $pid, file => $file };
}


sub finish_load {
    my ($load) = @_;

    waitpid($load->{pid}, 0);

    open(my $fh, '<', $load->{file}) or return ();
    chomp(my @statuses = <$fh>);
    close($fh);
    unlink($load->{file});

    return @statuses;
}

1;
