package DgjAuth;

# DgjAuth: what the auth tests share: tokens minted with build/bin/dgj-token
# against the running stack's key ring, fresh sessions, and test-only
# nginx locations added under var/conf/nginx.d/ (and removed again).

use strict;
use warnings;

use Exporter 'import';
use DgjTest qw(base_url http stack wait_until);
use DgjPool qw(read_pid);
use Time::HiRes qw(sleep);

our @EXPORT_OK = qw(keys_file mint csrf new_session add_server_conf
                    remove_server_conf);


sub keys_file {
    return "$ENV{DGJ_VAR}/secrets/token.keys";
}


sub tool {
    my (@args) = @_;

    open(my $fh, '-|', "$ENV{DGJ_ROOT}/build/bin/dgj-token", @args)
        or die "dgj-token: $!";
    chomp(my $out = <$fh> // '');
    close($fh);

    return $out;
}


# mint(user => N, roles => 'a,b', dept => N, session => HEX, ttl => S,
#      level => L, iat => T, keys => FILE) -> token
sub mint {
    my (%a) = @_;

    my @args = ('mint', '--keys', $a{keys} // keys_file(),
                '--user', $a{user} // 1, '--roles', $a{roles} // '',
                '--dept', $a{dept} // 0,
                '--session', $a{session} // new_session(),
                '--ttl', $a{ttl} // 120, '--level', $a{level} // 1);
    push @args, '--iat', $a{iat} if defined $a{iat};

    my $t = tool(@args);
    die "dgj-token mint failed\n" unless length $t;

    return $t;
}


sub csrf {
    my ($session) = @_;

    return tool('csrf', '--keys', keys_file(), '--session', $session);
}


sub new_session {
    return tool('session');
}


sub conf_path {
    my ($name) = @_;

    return "$ENV{DGJ_VAR}/conf/nginx.d/server-$name.conf";
}


# marker(NAME) -> status of the marker location each added file carries
sub marker {
    my ($name) = @_;

    return http()->get(base_url() . "/_test_marker/$name")->{status};
}


# reload(NAME, WANT): stack reload, then wait until no worker of the old
# configuration accepts (each is gone or shutting down, which closes its
# listeners) and the marker of NAME answers WANT
sub reload {
    my ($name, $want) = @_;

    my $master = read_pid('nginx.pid') or die "nginx is not running\n";
    my @old = split ' ', `pgrep -P $master`;

    stack('reload') or die "stack reload failed (server-$name.conf)\n";

    wait_until(20, sub {
        for my $pid (@old) {
            my $args = `ps -o args= -p $pid 2>/dev/null`;
            return 0 if length($args) && $args !~ /shutting down/;
        }
        return 1;
    }) or die "old nginx workers still accept after a reload\n";

    sleep(0.2);

    wait_until(20, sub { marker($name) == $want })
        or die "nginx did not take the change to server-$name.conf\n";
}


# add_server_conf(NAME, TEXT): locations in the main server; reloads and
# returns once new connections see them
sub add_server_conf {
    my ($name, $text) = @_;

    open(my $fh, '>', conf_path($name)) or die conf_path($name) . ": $!";
    print $fh "location = /_test_marker/$name { return 204; }\n$text";
    close($fh);

    reload($name, 204);
}


sub remove_server_conf {
    my ($name) = @_;

    unlink(conf_path($name));
    reload($name, 404);
}

1;
