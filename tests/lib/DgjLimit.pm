package DgjLimit;

# DgjLimit: what the rate-limiting tests share: test-only nginx config in
# var/conf/nginx.d/ (added, reloaded, removed), requests to the control
# server on its unix socket, the Prometheus counters, and a kept-alive
# client that counts statuses.

use strict;
use warnings;

use Exporter 'import';
use HTTP::Tiny;
use IO::Socket::UNIX;
use Socket qw(SOCK_STREAM);
use Time::HiRes qw(time sleep);
use DgjTest qw(base_url stack wait_until);
use DgjPool qw(nginx_settled read_pid);

our @EXPORT_OK = qw(limit_conf limit_conf_remove ctl metrics counter
                    client hit statuses nginx_error_log_since);


sub conf_dir {
    return "$ENV{DGJ_VAR}/conf/nginx.d";
}


sub nginx_workers {
    my $master = read_pid('nginx.pid') or return ();
    return split ' ', `pgrep -P $master`;
}


# a reload is done when every worker is new and no old one lingers
sub reload_settled {
    my %old = map { $_ => 1 } nginx_workers();

    stack('reload') or die "stack reload failed\n";

    wait_until(30, sub {
        my @now = nginx_workers();
        return @now && !(grep { $old{$_} } @now) && nginx_settled();
    }) or die "nginx did not take the new configuration\n";
}


# limit_conf(NAME, HTTP_TEXT, SERVER_TEXT): test-only zones (http level)
# and locations (main server), then a reload
sub limit_conf {
    my ($name, $http, $server) = @_;

    for ([ "http-limit-$name.conf", $http ],
         [ "server-limit-$name.conf", $server ])
    {
        my ($f, $text) = @$_;
        next unless defined $text;
        open(my $fh, '>', conf_dir() . "/$f") or die "$f: $!";
        print $fh $text;
        close($fh);
    }

    reload_settled();
}


sub limit_conf_remove {
    my ($name) = @_;

    unlink(conf_dir() . "/http-limit-$name.conf",
           conf_dir() . "/server-limit-$name.conf");

    reload_settled();
}


# ctl(METHOD, PATH, BODY?) -> (status, body): the control server
sub ctl {
    my ($method, $path, $body) = @_;

    $body //= '';

    my $s = IO::Socket::UNIX->new(Peer => "$ENV{DGJ_VAR}/run/ctl/nginx.sock",
                                  Type => SOCK_STREAM)
        or die "control socket: $!";

    print $s "$method $path HTTP/1.0\r\nHost: localhost\r\n"
             . "Content-Length: " . length($body) . "\r\n\r\n$body";

    local $/;
    my $res = <$s> // '';
    close($s);

    my ($head, $content) = split /\r\n\r\n/, $res, 2;
    my ($status) = ($head // '') =~ m{^HTTP/\S+ (\d+)};

    return ($status // 0, $content // '');
}


# metrics() -> { 'name{labels}' => value }
sub metrics {
    my ($status, $text) = ctl('GET', '/_dgj/limit/status');
    die "status API answered $status\n" unless $status == 200;

    my %m;
    for (split /\n/, $text) {
        next if /^#/;
        $m{$1} = $2 if /^(\S+(?:\{.*\})?) (\d+)$/;
    }

    return \%m;
}


# counter(ZONE, RULE, RESULT)
sub counter {
    my ($zone, $rule, $result) = @_;

    my $m = metrics();

    return $m->{"dgj_limit_requests_total{zone=\"$zone\",rule=\"$rule\","
                . "result=\"$result\"}"} // 0;
}


sub client {
    return HTTP::Tiny->new(timeout => 15, keep_alive => 1);
}


# hit(HTTP, PATH, HEADERS?) -> response
sub hit {
    my ($http, $path, $headers) = @_;

    return $http->get(base_url() . $path, { headers => $headers || {} });
}


# statuses(N, PATH, HEADERS?) -> list of statuses of N sequential requests
sub statuses {
    my ($n, $path, $headers) = @_;

    my $http = client();

    return map { hit($http, $path, $headers)->{status} } 1 .. $n;
}


# the lines the gateway's error log gained since OFFSET (bytes)
sub nginx_error_log_since {
    my ($offset) = @_;

    open(my $fh, '<', "$ENV{DGJ_VAR}/log/nginx/error.log") or return '';
    seek($fh, $offset, 0);
    local $/;

    return scalar(<$fh>) // '';
}

1;
