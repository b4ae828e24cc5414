package DgjTest;

# DgjTest: what every Perl test of the running stack shares: the base URL,
# JSON requests, SQL through the mariadb client, stack control and waiting.
# Core modules only (CPAN is not reachable).

use strict;
use warnings;
use utf8;

use Exporter 'import';
use HTTP::Tiny;
use JSON::PP;
use Time::HiRes qw(sleep time);

our @EXPORT_OK = qw(base_url http get_json post_json request_json
                    mysql_cnf sql stack wait_until decode_json_body
                    spread_sources source_address);

my $json = JSON::PP->new->utf8->canonical;


sub env_or_die {
    my ($name) = @_;

    my $v = $ENV{$name};
    die "$name is not set: run the tests with `make test`\n"
        unless defined $v && length $v;

    return $v;
}


sub base_url {
    return env_or_die('DGJ_BASE_URL');
}


# The shipped policy allows 5 sign-ins a minute per client address
# (conf/nginx.conf.in).  Tests of other concerns call spread_sources() so
# each request comes from its own loopback address (127.x.y.z: all of
# 127/8 is this host); tests/nginx/limit_*.t test the policy itself from
# one address.  `local $DgjTest::SPREAD = 0` pins a request to 127.0.0.1.
our $SPREAD = 0;

sub spread_sources {
    $SPREAD = 1;
}


# the source address for the next request: undef (the kernel's choice,
# 127.0.0.1) or a random loopback address
sub source_address {
    return undef unless $SPREAD;

    return sprintf '127.%d.%d.%d', 1 + int(rand 254), int(rand 256),
                   1 + int(rand 254);
}


sub http {
    my (%opt) = @_;

    my $src = source_address();

    return HTTP::Tiny->new(timeout => 15, keep_alive => 0,
                           max_redirect => 0,
                           (defined $src ? (local_address => $src) : ()),
                           %opt);
}


# Decodes a response body as JSON; undef when it is not JSON.
sub decode_json_body {
    my ($res) = @_;

    my $v = eval { $json->decode($res->{content}) };

    return $v;
}


# request_json(METHOD, PATH, BODY_STRING?, HEADERS?) -> (res, decoded)
sub request_json {
    my ($method, $path, $body, $headers) = @_;

    my %opt = (headers => { 'Accept' => 'application/json',
                            %{ $headers || {} } });

    if (defined $body) {
        $opt{content} = $body;
        $opt{headers}{'Content-Type'} //= 'application/json';
    }

    my $res = http()->request($method, base_url() . $path, \%opt);

    return ($res, decode_json_body($res));
}


sub get_json {
    my ($path, $headers) = @_;

    return request_json('GET', $path, undef, $headers);
}


sub post_json {
    my ($path, $body, $headers) = @_;

    $body = $json->encode($body) if ref $body;

    return request_json('POST', $path, $body, $headers);
}


# mysql_cnf('admin' | 'migrate' | 'app' | 'ro') -> client defaults file
sub mysql_cnf {
    my ($which) = @_;

    return env_or_die('DGJ_' . uc($which) . '_CNF');
}


# sql(CNF_NAME, QUERY) -> list of rows (array refs of strings; NULL as undef)
sub sql {
    my ($which, $query) = @_;

    my $cnf = mysql_cnf($which);

    open(my $fh, '-|', 'mariadb', "--defaults-file=$cnf", '--batch',
         '--skip-column-names', '--database=dgj', '-e', $query)
        or die "mariadb: $!";
    binmode($fh, ':encoding(UTF-8)');

    my @rows;
    while (my $line = <$fh>) {
        chomp $line;
        push @rows, [ map { $_ eq 'NULL' ? undef : $_ } split /\t/, $line, -1 ];
    }

    close($fh) or die "mariadb failed ($?) for: $query\n";

    return @rows;
}


# stack('stop-db') etc.: runs conf/stack.sh with the test environment.
sub stack {
    my (@args) = @_;

    my $cmd = env_or_die('DGJ_STACK') . ' ' . join(' ', @args)
              . ' >/dev/null 2>&1';

    return system($cmd) == 0;
}


# wait_until(SECONDS, CODE): polls CODE every 100 ms; true when it held.
sub wait_until {
    my ($seconds, $code) = @_;

    my $deadline = time() + $seconds;

    while (time() < $deadline) {
        return 1 if $code->();
        sleep(0.1);
    }

    return $code->() ? 1 : 0;
}

1;
