package DgjAudit;

# DgjAudit: audit log lines for the console's tests, written the way the
# gateway writes them (dgj_audit_chain.h: one JSON object a line, each
# sealed with HMAC(K_ep, previous mac || line) under the stack's own
# verify key, epoch keys evolved with SHA-256), and stored in audit_records
# as the ingester stores them.  Tampering helpers work as the database
# root, which is what an attacker with database access would be.
# Core modules only.

use strict;
use warnings;
use utf8;

use Exporter 'import';
use Digest::SHA qw(hmac_sha256 sha256);
use Encode qw(encode_utf8);
use IO::Socket::INET;
use JSON::PP;
use Time::HiRes ();

use DgjTest qw(sql wait_until);

our @EXPORT_OK = qw(audit_key new_chain start_line rec_line store
                    tamper time_local ms_now recorded_as audit_nginx
                    audit_nginx_quit);

# audit_nginx(DIR, WORKERS, LOG_ARGS): a private nginx under DIR for the
# module's own tests: the audit log DIR/log/audit.log with LOG_ARGS (its
# buffer=, flush=, ... settings), keys from DIR/keys (`dgj-audit keygen`),
# access_log off, every location answering "ok", on a free port.  Writes
# DIR/nginx.conf and returns (the port, a function that runs the nginx
# binary on that configuration, true when it exits 0: no arguments start
# it, ('-s', 'reopen') signals it).
sub audit_nginx {
    my ($dir, $workers, $log_args) = @_;

    my $root = $ENV{DGJ_ROOT} or die "DGJ_ROOT is not set: run make test\n";
    my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1',
                                  LocalPort => 0, ReuseAddr => 1)
        or die "no free port: $!\n";
    my $port = $s->sockport;
    close($s);

    mkdir "$dir/log";
    mkdir "$dir/tmp";
    my $user = $> == 0 ? 'user root;' : '';

    open(my $fh, '>', "$dir/nginx.conf") or die "$dir/nginx.conf: $!\n";
    print $fh <<"CONF";
$user
worker_processes $workers;
error_log $dir/error.log info;
pid $dir/nginx.pid;
load_module $root/build/modules/ngx_http_dgj_module.so;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path $dir/tmp/body;
    fastcgi_temp_path $dir/tmp/fastcgi;
    proxy_temp_path $dir/tmp/proxy;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    dgj_audit_log $dir/log/audit.log $log_args;
    dgj_audit_keys epoch=$dir/keys/epoch/epoch.key
                   sign=$dir/keys/checkpoint.key;
    dgj_audit on;
    server {
        listen 127.0.0.1:$port;
        location / { return 200 "ok\\n"; }
    }
}
CONF
    close($fh);

    my $nginx = sub {
        return system('/usr/sbin/nginx', '-p', "$dir/", '-c',
                      "$dir/nginx.conf", '-e', "$dir/error.log", @_) == 0;
    };

    return ($port, $nginx);
}


# audit_nginx_quit(DIR): a graceful stop of audit_nginx's nginx under DIR;
# true once its master has exited (within 10 s)
sub audit_nginx_quit {
    my ($dir) = @_;

    open(my $p, '<', "$dir/nginx.pid") or return 0;
    chomp(my $master = <$p> // '');
    close($p);

    return 0 unless $master =~ /^\d+$/;

    kill 'QUIT', $master;

    return wait_until(10, sub { !kill(0, $master) });
}


# character strings: a line is encoded to UTF-8 once, where it is sealed
my $jv = JSON::PP->new->allow_nonref->canonical;


sub var_dir {
    my $v = $ENV{DGJ_VAR};
    die "DGJ_VAR is not set: run the tests with `make test`\n" unless $v;

    return $v;
}


# audit_key() -> { alg, t0, epoch_len, key }: the stack's verify key
# (made by conf/stack.sh at first start; sha256 unless DGJ_AUDIT_ALG)
sub audit_key {
    my $file = var_dir() . '/secrets/audit/verify.key';

    open(my $fh, '<', $file) or die "$file: $!";

    my %k;
    while (my $line = <$fh>) {
        next if $line =~ /^\s*(#|$)/;
        my ($name, $value) = split ' ', $line;
        $k{$name} = $value;
    }

    die "$file: not a sha256 epoch-0 key\n"
        unless ($k{alg} // '') eq 'sha256' && ($k{epoch} // '') eq '0'
               && ($k{key} // '') =~ /^[0-9a-f]{64}$/;

    return { alg => 'sha256', t0 => $k{t0}, epoch_len => $k{epoch_len},
             key => pack('H*', $k{key}) };
}


sub ms_now {
    return int(Time::HiRes::time() * 1000);
}


# "2026-11-30T21:15:12.345+08:00" for Unix milliseconds
sub time_local {
    my ($ms) = @_;

    my @t = gmtime(int($ms / 1000) + 8 * 3600);

    return sprintf '%04d-%02d-%02dT%02d:%02d:%02d.%03d+08:00',
                   $t[5] + 1900, $t[4] + 1, $t[3], $t[2], $t[1], $t[0],
                   $ms % 1000;
}


sub time_utc_sql {
    my ($ms) = @_;

    my @t = gmtime(int($ms / 1000));

    return sprintf '%04d-%02d-%02d %02d:%02d:%02d.%03d',
                   $t[5] + 1900, $t[4] + 1, $t[3], $t[2], $t[1], $t[0],
                   $ms % 1000;
}


sub epoch_of {
    my ($k, $sec) = @_;

    return 0 if $sec <= $k->{t0} || $k->{epoch_len} <= 0;

    return int(($sec - $k->{t0}) / $k->{epoch_len});
}


sub epoch_key {
    my ($k, $ep) = @_;

    my $key = $k->{key};
    $key = sha256('dgj-audit-evolve/1' . $key) for 1 .. $ep;

    return $key;
}


# new_chain(ID) -> chain: lines are made with $chain->line(...)
sub new_chain {
    my ($id) = @_;

    my $k = audit_key();

    return bless { id => $id, seq => 0, prev => "\0" x 32, k => $k,
                   ep => undef, lines => [] }, __PACKAGE__;
}


# seals one line of type at ms with the fields text (",\"k\":v..."),
# adding an "epoch" line first when the epoch moved on
sub line {
    my ($ch, $type, $ms, $fields) = @_;

    my $ep = epoch_of($ch->{k}, int($ms / 1000));

    if (defined $ch->{ep} && $ep != $ch->{ep}) {
        my $from = $ch->{ep};
        $ch->{ep} = $ep;
        $ch->seal('epoch', $ms, $ep, ",\"from\":$from", {});
    }

    $ch->{ep} = $ep;

    return $ch->seal($type, $ms, $ep, $fields, @_[4 .. $#_]);
}


sub seal {
    my ($ch, $type, $ms, $ep, $fields, $cols) = @_;

    my $body = sprintf '{"t":"%s","c":"%s","seq":%d,"ep":%d,"time":"%s"%s',
                       $type, $ch->{id}, $ch->{seq}, $ep, time_local($ms),
                       $fields;
    my $mac = hmac_sha256($ch->{prev} . encode_utf8($body),
                          epoch_key($ch->{k}, $ep));
    my $raw = $body . ',"mac":"' . unpack('H*', $mac) . '"}';

    my $row = { %{ $cols || {} }, chain => $ch->{id}, seq => $ch->{seq},
                ts => time_utc_sql($ms), line_type => $type, raw => $raw,
                ms => $ms };

    $ch->{prev} = $mac;
    $ch->{seq}++;
    push @{ $ch->{lines} }, $row;

    return $row;
}


# the chain's start line (seq 0)
sub start_line {
    my ($ch, $ms) = @_;

    return $ch->line('start', $ms, ',"alg":"sha256","node":"test",'
                     . '"pid":' . $$ . ',"slot":0,"after":null,'
                     . '"after_seq":null');
}


my @rec_keys = qw(rid uid roles dept ip port ua method path status auth
                  limit action object ms in out);

my %column = (rid => 'request_id', uid => 'user_id', dept => 'dept_id',
              limit => 'limit_outcome', object => 'object_id',
              ms => 'latency_ms', in => 'bytes_in', out => 'bytes_out');


# rec_line(CHAIN, MS, field => value, ...): a request record; fields not
# given take ordinary values
sub rec_line {
    my ($ch, $ms, %f) = @_;

    my %v = (rid => sprintf('%032x', int(rand(2**31)) * 65536 + $ch->{seq}),
             uid => undef, roles => '', dept => undef, ip => '203.0.113.5',
             port => 40000 + $ch->{seq}, ua => 'Mozilla/5.0 (X11; Linux '
             . 'x86_64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36',
             method => 'GET', path => '/', status => 200, auth => 'NONE',
             limit => 'PASSED', action => undef, object => undef, ms => 3,
             in => 420, out => 5120, %f);

    my $fields = '';
    my %cols;

    for my $k (@rec_keys) {
        $fields .= ',"' . $k . '":' . $jv->encode($v{$k});
        $cols{ $column{$k} // $k } = $v{$k};
    }

    return $ch->line('rec', $ms, $fields, \%cols);
}


my %numeric = map { $_ => 1 } qw(seq user_id dept_id port status latency_ms
                                   bytes_in bytes_out);

sub q_sql {
    my ($col, $v) = @_;

    return 'NULL' unless defined $v;
    return 0 + $v if $numeric{$col};

    (my $s = $v) =~ s/(['\\])/\\$1/g;

    return "'$s'";
}


my @columns = qw(chain seq ts line_type request_id user_id roles dept_id ip
                 port ua method path status auth limit_outcome action
                 object_id latency_ms bytes_in bytes_out raw);

my %not_null = (roles => '', ip => '', port => 0, ua => '', method => '',
                path => '', status => 0, auth => '', limit_outcome => '',
                latency_ms => 0, bytes_in => 0, bytes_out => 0);


# store(ROWS...): inserts lines as the ingester does (defaults for the
# columns a control line has not); each row gets its id back
sub store {
    my (@rows) = @_;

    while (my @batch = splice(@rows, 0, 100)) {
        my @values;

        for my $r (@batch) {
            push @values, '(' . join(',', map {
                my $v = $r->{$_};
                $v = $not_null{$_} if !defined $v && exists $not_null{$_};
                q_sql($_, $v);
            } @columns) . ')';
        }

        sql('admin', encode_utf8('INSERT INTO audit_records ('
            . join(',', @columns) . ') VALUES ' . join(',', @values)));

        for my $r (@batch) {
            ($r->{id}) = map { $_->[0] } sql('admin',
                "SELECT id FROM audit_records WHERE chain = "
                . q_sql('chain', $r->{chain}) . " AND seq = $r->{seq}");
        }
    }
}


# tamper(CODE): runs CODE with the append-only triggers of audit_records
# dropped, as an attacker holding the database root would, and puts them
# back after
sub tamper {
    my ($code) = @_;

    my @trg = sql('admin', "SELECT TRIGGER_NAME, ACTION_TIMING,"
                  . " EVENT_MANIPULATION, REPLACE(REPLACE(ACTION_STATEMENT,"
                  . " '\\n', ' '), '\\t', ' ')"
                  . " FROM information_schema.TRIGGERS"
                  . " WHERE EVENT_OBJECT_SCHEMA = 'dgj'"
                  . " AND EVENT_OBJECT_TABLE = 'audit_records'");

    sql('admin', "DROP TRIGGER $_->[0]") for @trg;

    my $ok = eval { $code->(); 1 };
    my $err = $@;

    for my $t (@trg) {
        sql('admin', "CREATE TRIGGER $t->[0] $t->[1] $t->[2]"
                     . " ON audit_records FOR EACH ROW $t->[3]");
    }

    die $err unless $ok;
}

# recorded_as(RES, ACTION): the request of RES is in the gateway's own log
# under ACTION: its audit module took the X-Dgj-Action header off the reply
# and the ingester stored the record (within 15 s)
sub recorded_as {
    my ($res, $action) = @_;

    return 0 if defined $res->{headers}{'x-dgj-action'};

    my $rid = $res->{headers}{'x-request-id'} // '';
    return 0 unless $rid =~ /^[0-9a-f]{32}$/;

    return wait_until(15, sub {
        my @r = sql('admin', "SELECT action FROM audit_records"
                    . " WHERE request_id = '$rid'");
        return @r && ($r[0][0] // '') eq $action;
    });
}

1;
