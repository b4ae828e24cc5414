# tests/lib/stack-env.sh: sourced by tests/run and tests/bench/run.  Sets up
# the environment of an isolated stack under a fresh var directory on free
# ports, and defines `stack` (conf/stack.sh with that environment).
#
#   ROOT=... ; . "$ROOT/tests/lib/stack-env.sh" ; isolated_stack DIR

free_port()
{
    perl -MIO::Socket::INET -e '
        my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => "127.0.0.1",
                                      LocalPort => 0, ReuseAddr => 1)
            or die "no free port: $!";
        print $s->sockport, "\n";'
}


stack()
{
    sh "$ROOT/conf/stack.sh" "$@"
}


# isolated_stack DIR: exports DGJ_VAR=DIR, free ports and DGJ_STACK; a stack
# that a killed earlier run left in DIR is stopped and its data removed
isolated_stack()
{
    DGJ_VAR=$1
    DGJ_PORT=$(free_port)
    DGJ_DB_PORT=$(free_port)
    DGJ_TLS_PORT=$(free_port)
    DGJ_PEERS_PORT=$(free_port)
    # tests move the workers' clock by writing seconds into this file
    DGJ_CLOCK_FILE=$DGJ_VAR/clock-offset
    DGJ_STACK="sh $ROOT/conf/stack.sh"
    export DGJ_VAR DGJ_PORT DGJ_DB_PORT DGJ_TLS_PORT DGJ_PEERS_PORT \
           DGJ_CLOCK_FILE DGJ_STACK

    if [ -d "$DGJ_VAR" ]; then
        stack stop >/dev/null 2>&1 || true
        rm -rf "$DGJ_VAR"
    fi
}
