#!/bin/sh
#
# conf/stack.sh: starts, stops and reloads one Daguanjia stack (MariaDB,
# the dgj-fcgi pools, nginx) living under one var directory.  `make run`
# uses var/ on port 8080; the tests use build/test/var on free ports.
#
#   sh conf/stack.sh start|stop|restart|reload|upgrade|reopen|status|banner
#   sh conf/stack.sh rotate-keys
#   sh conf/stack.sh start-db|stop-db|start-fcgi|stop-fcgi|start-nginx|stop-nginx
#   sh conf/stack.sh backup | restore FILE | render | migrate | env
#   sh conf/stack.sh sweep | start-sweeper | stop-sweeper
#
# Environment: DGJ_VAR (default <root>/var), DGJ_PORT (default $PORT or 8080),
# DGJ_DB_PORT (default 3307), DGJ_FCGI_WORKERS, DGJ_NGINX_WORKERS,
# DGJ_NGINX_LOG_LEVEL, DGJ_DB_BUFFER_POOL, DGJ_SWEEP_INTERVAL; the audit log's DGJ_AUDIT_ALG
# (sha256 or sm3, at first start), DGJ_AUDIT_EPOCH_LEN (seconds, 3600),
# DGJ_AUDIT_KEEP_DAYS (184 at least), DGJ_AUDIT_SHIP_TO (HOST:PORT: a
# syslog-over-TCP copy off the host, docs/audit.md).

set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
VAR=${DGJ_VAR:-$ROOT/var}
PORT=${DGJ_PORT:-${PORT:-8080}}
DB_PORT=${DGJ_DB_PORT:-3307}
NGINX_WORKERS=${DGJ_NGINX_WORKERS:-2}
UPSTREAM_KEEPALIVE=${DGJ_UPSTREAM_KEEPALIVE:-16}
# Workers are bound by CPU and database round trips, not by connections:
# each holds up to DGJ_FCGI_CONNS kept-alive nginx connections at once.
FCGI_WORKERS=${DGJ_FCGI_WORKERS:-$(( $(nproc) * 4 ))}
NGINX_LOG_LEVEL=${DGJ_NGINX_LOG_LEVEL:-notice}
TLS_PORT=${DGJ_TLS_PORT:-8443}
PUBLIC_URL=${DGJ_PUBLIC_URL:-http://127.0.0.1:$PORT}
# Argon2id cost of new password hashes (docs/security.md)
ARGON2_M_KIB=${DGJ_ARGON2_M_KIB:-65536}
ARGON2_T=${DGJ_ARGON2_T:-3}
# SMS gateway and WeChat.  Unless real ones are configured, `make run`
# starts the local demo peer (tests/fakes/peers.mjs), which speaks their
# protocols and keeps the SMS it "sends" in var/log/sms-outbox.jsonl.
PEERS_PORT=${DGJ_PEERS_PORT:-8091}
SMS_URL=${DGJ_SMS_URL:-}
WECHAT_URL=${DGJ_WECHAT_URL:-}
WECHAT_AUTH_URL=${DGJ_WECHAT_AUTH_URL:-}
WECHAT_APPID=${DGJ_WECHAT_APPID:-wx5d3c0dgj00demo01}
if [ -z "$SMS_URL" ]; then
    DEMO_PEERS=yes
    SMS_URL=http://127.0.0.1:$PEERS_PORT
    WECHAT_URL=${WECHAT_URL:-$SMS_URL}
    WECHAT_AUTH_URL=${WECHAT_AUTH_URL:-$SMS_URL}
else
    DEMO_PEERS=no
fi
# tests only: a file holding a clock offset in seconds (dgj_clock.h)
CLOCK_FILE=${DGJ_CLOCK_FILE:-}
DB_BUFFER_POOL=${DGJ_DB_BUFFER_POOL:-256M}
# seconds between two runs of the time-driven workflow actions (dgj-fcgi
# -W); 0: no loop here (cron runs them, docs/operations.md)
SWEEP_INTERVAL=${DGJ_SWEEP_INTERVAL:-60}
AUDIT_ALG=${DGJ_AUDIT_ALG:-sha256}
AUDIT_EPOCH_LEN=${DGJ_AUDIT_EPOCH_LEN:-3600}
AUDIT_KEEP_DAYS=${DGJ_AUDIT_KEEP_DAYS:-184}
AUDIT_SHIP_TO=${DGJ_AUDIT_SHIP_TO:-}

NGINX=/usr/sbin/nginx
FCGI=$ROOT/build/bin/dgj-fcgi
AUDIT=$ROOT/build/bin/dgj-audit
CONF=$VAR/conf
SECRETS=$VAR/secrets
ADMIN_CNF=$SECRETS/client-admin.cnf
POOLS="main"

say()
{
    printf 'dgj: %s\n' "$*"
}


die()
{
    printf 'dgj: error: %s\n' "$*" >&2
    exit 1
}


# Service accounts.  As root, MariaDB runs as `mysql` and nginx workers and
# FastCGI workers as `www-data`, provided those users can reach the tree;
# a checkout under a private home directory falls back to the caller.
choose_users()
{
    WEB_USER=$(id -un)
    DB_USER=$WEB_USER

    [ "$(id -u)" = 0 ] || return 0

    if id www-data >/dev/null 2>&1 \
       && runuser -u www-data -- test -r "$ROOT/lua/init.lua" \
       && runuser -u www-data -- test -x "$VAR"
    then
        WEB_USER=www-data
    fi

    if id mysql >/dev/null 2>&1 \
       && runuser -u mysql -- test -x "$VAR"
    then
        DB_USER=mysql
    fi
}


ensure_dirs()
{
    umask 022
    mkdir -p "$VAR"
    chmod 0755 "$VAR"
    mkdir -p "$CONF" "$CONF/nginx.d" "$VAR/run" "$VAR/log" "$VAR/nginx" \
             "$VAR/run/db" "$VAR/run/fcgi" "$VAR/log/db" "$VAR/log/fcgi" \
             "$VAR/log/nginx" "$VAR/mariadb" "$SECRETS" "$VAR/backup" \
             "$VAR/run/ctl" "$VAR/state" "$VAR/files" "$VAR/log/audit"
    chmod 0700 "$SECRETS" "$VAR/backup"
    chmod 0750 "$VAR/run/ctl"

    choose_users

    # The web user may enter var/secrets (not list it) to re-read its own
    # database password when a pool reloads after dropping privileges.
    if [ "$WEB_USER" != "$(id -un)" ]; then
        chgrp "$(id -gn "$WEB_USER")" "$SECRETS"
        chmod 0710 "$SECRETS"
    fi

    chown "$DB_USER" "$VAR/mariadb" "$VAR/run/db" "$VAR/log/db"
    chmod 0750 "$VAR/mariadb"
    chown "$WEB_USER" "$VAR/nginx" "$VAR/run/fcgi" "$VAR/log/fcgi" \
          "$VAR/state" "$VAR/files"
    # attachments: personal data, the workers' alone
    chmod 0700 "$VAR/files"

    # the audit log: the nginx workers rotate it; nobody else reads it
    # but root (the ingester, the auditor's tools)
    chown "$WEB_USER" "$VAR/log/audit"
    chmod 0750 "$VAR/log/audit"

    # the ban list nginx reads at start and reload; the ban API writes it
    if [ ! -e "$VAR/state/bans.list" ]; then
        : > "$VAR/state/bans.list"
        chown "$WEB_USER" "$VAR/state/bans.list"
    fi

    # nginx makes its control socket 0666; this directory is what keeps it
    # to root and the web user (the FastCGI workers).
    if [ "$WEB_USER" != "$(id -un)" ]; then
        chgrp "$(id -gn "$WEB_USER")" "$VAR/run/ctl"
    fi
}


# One random secret per file, made once, never in git.
make_secret()
{
    f=$SECRETS/$1

    if [ ! -s "$f" ]; then
        (umask 077 && openssl rand -hex 24 | tr -d '\n' > "$f.tmp")
        mv "$f.tmp" "$f"
        say "generated secret $f"
    fi
    chmod 0600 "$f"
}


# A self-signed certificate for https://127.0.0.1:TLS_PORT, made once.
# docs/operations.md says how to put a real one in its place.
make_tls()
{
    d=$SECRETS/tls

    [ -s "$d/server.crt" ] && [ -s "$d/server.key" ] && return 0

    mkdir -p "$d"
    chmod 0700 "$d"
    (
        umask 077
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
            -nodes -days 825 -subj "/O=Daguanjia demo/CN=localhost" \
            -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
            -keyout "$d/server.key.tmp" -out "$d/server.crt.tmp" \
            > /dev/null 2>&1
    ) || die "openssl could not make the self-signed certificate"
    mv "$d/server.key.tmp" "$d/server.key"
    mv "$d/server.crt.tmp" "$d/server.crt"
    say "generated self-signed certificate $d/server.crt"
}


# The token key ring (docs/security.md#inline-authentication): one
# HMAC-SHA-256 key, signing, made at first start.  Read by the nginx master
# and by the FastCGI workers (group of the web user), never in git.
key_line()
{
    # $1 kid
    printf '%s hmac-sha256 %s' "$1" "$(openssl rand -hex 32)"
}


secure_keys()
{
    chmod 0640 "$1"
    chgrp "$(id -gn "$WEB_USER")" "$1"
}


make_token_keys()
{
    f=$SECRETS/token.keys

    if [ ! -s "$f" ]; then
        (
            umask 077
            printf '# token key ring: <kid> <alg> <64 hex> [sign]\n' \
                > "$f.tmp"
            printf '%s sign\n' "$(key_line "k$(date +%s)")" >> "$f.tmp"
        )
        mv "$f.tmp" "$f"
        say "generated token key ring $f"
    fi
    secure_keys "$f"

    # revoked sessions, appended by the workers, read by nginx
    if [ ! -e "$VAR/state/revoked.list" ]; then
        : > "$VAR/state/revoked.list"
    fi
    chown "$WEB_USER" "$VAR/state/revoked.list"
}


# The audit log's keys (docs/audit.md), made once: verify.key (epoch 0,
# the auditor's: root only, to be moved off the host in production),
# checkpoint.key (Ed25519, read by the nginx master), checkpoint.pub, and
# epoch/epoch.key, which the nginx workers move forward and rewrite.
make_audit_keys()
{
    d=$SECRETS/audit

    [ -x "$AUDIT" ] || die "$AUDIT is not built (run make)"

    if [ ! -s "$d/verify.key" ]; then
        "$AUDIT" keygen "$d" --alg "$AUDIT_ALG" \
            --epoch-len "$AUDIT_EPOCH_LEN" >/dev/null \
          || die "cannot make the audit keys in $d"
        say "generated audit keys in $d ($AUDIT_ALG)"
    fi

    chmod 0600 "$d/verify.key" "$d/checkpoint.key"
    chmod 0644 "$d/checkpoint.pub"
    chown -R "$WEB_USER" "$d/epoch"
    chmod 0700 "$d/epoch"
    chmod 0600 "$d/epoch/epoch.key"

    if [ "$WEB_USER" != "$(id -un)" ]; then
        chgrp "$(id -gn "$WEB_USER")" "$d"
        chmod 0710 "$d"
    else
        chmod 0700 "$d"
    fi
}


# The auditor's console verifies a range in the FastCGI workers
# (POST /api/v1/audit/verify), which run as the web user: they read the
# verify key through its group (docs/audit.md#the-auditors-console says
# what that costs and what the signed checkpoints keep).
share_audit_verify_key()
{
    if [ "$WEB_USER" != "$(id -un)" ]; then
        chgrp "$(id -gn "$WEB_USER")" "$SECRETS/audit/verify.key"
        chmod 0640 "$SECRETS/audit/verify.key"
    fi
}


write_client_cnf()
{
    # $1 file, $2 user, $3 password file or empty for socket auth
    (
        umask 077
        {
            printf '[client]\nsocket=%s\nuser=%s\n' \
                   "$VAR/run/db/mysqld.sock" "$2"
            if [ -n "$3" ]; then
                printf 'password=%s\n' "$(cat "$3")"
            fi
            printf 'default-character-set=utf8mb4\n'
        } > "$1.tmp"
    )
    mv "$1.tmp" "$1"
}


render_one()
{
    # $1 template, $2 output; @NAME@ placeholders
    sed -e "s|@ROOT@|$ROOT|g" \
        -e "s|@VAR@|$VAR|g" \
        -e "s|@PORT@|$PORT|g" \
        -e "s|@DB_PORT@|$DB_PORT|g" \
        -e "s|@DB_BUFFER_POOL@|$DB_BUFFER_POOL|g" \
        -e "s|@NGINX_WORKERS@|$NGINX_WORKERS|g" \
        -e "s|@NGINX_LOG_LEVEL@|$NGINX_LOG_LEVEL|g" \
        -e "s|@UPSTREAM_KEEPALIVE@|$UPSTREAM_KEEPALIVE|g" \
        -e "s|@FCGI_WORKERS@|$FCGI_WORKERS|g" \
        -e "s|@NGINX_USER_LINE@|$NGINX_USER_LINE|g" \
        -e "s|@DB_USER_LINE@|$DB_USER_LINE|g" \
        -e "s|@FCGI_USER_LINE@|$FCGI_USER_LINE|g" \
        -e "s|@POOL@|${POOL:-}|g" \
        -e "s|@FCGI_ROUTES@|${FCGI_ROUTES:-all}|g" \
        -e "s|@TLS_PORT@|$TLS_PORT|g" \
        -e "s|@PUBLIC_URL@|$PUBLIC_URL|g" \
        -e "s|@ARGON2_M_KIB@|$ARGON2_M_KIB|g" \
        -e "s|@ARGON2_T@|$ARGON2_T|g" \
        -e "s|@SMS_URL@|$SMS_URL|g" \
        -e "s|@WECHAT_URL@|$WECHAT_URL|g" \
        -e "s|@WECHAT_AUTH_URL@|$WECHAT_AUTH_URL|g" \
        -e "s|@WECHAT_APPID@|$WECHAT_APPID|g" \
        -e "s|@CLOCK_LINE@|$CLOCK_LINE|g" \
        "$1" > "$2.tmp"
    mv "$2.tmp" "$2"
}


render()
{
    ensure_dirs

    # each worker holds DGJ_FCGI_CONNS kept connections (dgj_fcgi.h)
    conns=$(sed -n 's/^#define DGJ_FCGI_CONNS  *\([0-9]*\).*/\1/p' \
                "$ROOT/fcgi/core/dgj_fcgi.h")
    conns=${conns:?cannot read DGJ_FCGI_CONNS from fcgi/core/dgj_fcgi.h}

    if [ $((FCGI_WORKERS * conns)) -le $((NGINX_WORKERS * UPSTREAM_KEEPALIVE)) ]
    then
        die "$FCGI_WORKERS FastCGI workers hold $((FCGI_WORKERS * conns)) kept" \
            "connections, not more than nginx keeps idle" \
            "($NGINX_WORKERS x $UPSTREAM_KEEPALIVE): raise DGJ_FCGI_WORKERS"
    fi

    CLOCK_LINE="# clock_file: tests only"
    if [ -n "$CLOCK_FILE" ]; then
        CLOCK_LINE="clock_file        = $CLOCK_FILE"
    fi

    NGINX_USER_LINE="# nginx workers run as the caller"
    DB_USER_LINE="# mariadbd runs as the caller"
    FCGI_USER_LINE="# workers run as the caller"

    if [ "$(id -u)" = 0 ]; then
        NGINX_USER_LINE="user $WEB_USER;"
        DB_USER_LINE="user = $DB_USER"
        # a pool started by its own user has no privileges to drop
        # (dgj-fcgi refuses to "drop" to root)
        if [ "$WEB_USER" != "$(id -un)" ]; then
            FCGI_USER_LINE="user = $WEB_USER"
        fi
    fi

    render_one "$ROOT/conf/my.cnf.in" "$CONF/my.cnf"
    render_one "$ROOT/conf/nginx.conf.in" "$CONF/nginx.conf"

    for POOL in $POOLS; do
        FCGI_ROUTES=all
        render_one "$ROOT/conf/fcgi-pool.conf.in" "$CONF/fcgi-$POOL.conf"
    done

    make_secret db-migrate.pw
    make_secret db-app.pw
    make_secret db-ro.pw
    make_secret sms.key
    make_secret wechat.secret
    make_secret query.key
    # read by the workers after they drop privileges
    chown "$WEB_USER" "$SECRETS/db-app.pw" "$SECRETS/sms.key" \
                      "$SECRETS/wechat.secret" "$SECRETS/query.key"
    make_tls
    make_token_keys
    make_audit_keys
    share_audit_verify_key

    if [ "$(id -u)" = 0 ]; then
        admin=root
    else
        admin=$(id -un)
    fi

    write_client_cnf "$ADMIN_CNF" "$admin" ""
    write_client_cnf "$SECRETS/client-migrate.cnf" dgj_migrate \
                     "$SECRETS/db-migrate.pw"
    write_client_cnf "$SECRETS/client-app.cnf" dgj_app "$SECRETS/db-app.pw"
    write_client_cnf "$SECRETS/client-ro.cnf" dgj_ro "$SECRETS/db-ro.pw"
}


# running PID: alive and not a zombie (an exited supervisor whose parent,
# here often a pid 1 that never reaps, has not collected it)
running()
{
    st=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
    case "$st" in
    Z*) return 1 ;;
    esac
}


pid_alive()
{
    [ -s "$1" ] && running "$(cat "$1")"
}


# wait_until SECONDS COMMAND [ARG...]: runs COMMAND every 0.1 s until it
# succeeds (0) or SECONDS have passed (1)
wait_until()
{
    n=$(($1 * 10))
    shift

    until "$@"; do
        n=$((n - 1))
        [ "$n" -ge 0 ] || return 1
        sleep 0.1
    done
}


not_running()
{
    ! running "$1"
}


wait_gone()
{
    # $1 pid, $2 seconds
    wait_until "$2" not_running "$1"
}


# stop_pidfile LABEL PIDFILE SIGNAL SECONDS: signal, wait, then SIGKILL
stop_pidfile()
{
    pid_alive "$2" || return 0

    pid=$(cat "$2")
    say "stopping $1 (pid $pid)"
    kill -"$3" "$pid"
    wait_gone "$pid" "$4" || { kill -KILL "$pid" 2>/dev/null || true; }
}


db_ping()
{
    mariadb-admin --defaults-file="$ADMIN_CNF" --connect-timeout=2 \
                  ping >/dev/null 2>&1
}


start_db()
{
    pidf=$VAR/run/db/mariadbd.pid

    if pid_alive "$pidf" && db_ping; then
        return 0
    fi

    if [ ! -d "$VAR/mariadb/mysql" ]; then
        say "initialising MariaDB data directory $VAR/mariadb"
        mariadb-install-db --defaults-file="$CONF/my.cnf" \
            --auth-root-authentication-method=socket --skip-test-db \
            > "$VAR/log/db/install.log" 2>&1 \
          || { tail -20 "$VAR/log/db/install.log"; die "mariadb-install-db failed"; }
    fi

    say "starting MariaDB (socket $VAR/run/db/mysqld.sock, 127.0.0.1:$DB_PORT)"
    nohup mariadbd --defaults-file="$CONF/my.cnf" \
        >> "$VAR/log/db/mariadb.out" 2>&1 < /dev/null &

    if ! wait_until 30 db_ping; then
        tail -20 "$VAR/log/db/mariadb.err" >&2 || true
        die "MariaDB did not start in 30 s"
    fi
}


stop_db()
{
    stop_pidfile MariaDB "$VAR/run/db/mariadbd.pid" TERM 60
}


# Database, accounts and grants: made idempotently on every start, with the
# passwords from var/secrets (sent on stdin, never on a command line).
bootstrap_db()
{
    mariadb --defaults-file="$ADMIN_CNF" <<EOF
CREATE DATABASE IF NOT EXISTS dgj
    CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS 'dgj_migrate'@'localhost';
CREATE USER IF NOT EXISTS 'dgj_app'@'localhost';
CREATE USER IF NOT EXISTS 'dgj_ro'@'localhost';
ALTER USER 'dgj_migrate'@'localhost'
    IDENTIFIED BY '$(cat "$SECRETS/db-migrate.pw")';
ALTER USER 'dgj_app'@'localhost' IDENTIFIED BY '$(cat "$SECRETS/db-app.pw")';
ALTER USER 'dgj_ro'@'localhost' IDENTIFIED BY '$(cat "$SECRETS/db-ro.pw")';
GRANT ALL PRIVILEGES ON dgj.* TO 'dgj_migrate'@'localhost';
GRANT SELECT ON dgj.* TO 'dgj_ro'@'localhost';
EOF

    # the app's rights are per table (grant_app): a database-wide grant
    # would include UPDATE and DELETE on the audit log
    if mariadb --defaults-file="$ADMIN_CNF" -N \
           -e "SHOW GRANTS FOR 'dgj_app'@'localhost'" \
       | grep -q 'ON `dgj`\.\*'
    then
        mariadb --defaults-file="$ADMIN_CNF" -e "REVOKE SELECT, INSERT,
            UPDATE, DELETE ON dgj.* FROM 'dgj_app'@'localhost'"
    fi
}


# After the migrations: the app account may read and change every table
# but audit_records, which it may only read and append to.
grant_app()
{
    mariadb --defaults-file="$ADMIN_CNF" -N -e "SELECT table_name FROM
        information_schema.tables WHERE table_schema = 'dgj'
        AND table_type = 'BASE TABLE'" \
    | while read -r t; do
        case $t in
        audit_records)
            echo "GRANT SELECT, INSERT ON dgj.$t TO 'dgj_app'@'localhost';"
            ;;
        *)
            echo "GRANT SELECT, INSERT, UPDATE, DELETE ON dgj.$t" \
                 "TO 'dgj_app'@'localhost';"
            ;;
        esac
    done | mariadb --defaults-file="$ADMIN_CNF" \
        || die "cannot grant the app account its tables"
}


migrate()
{
    sh "$ROOT/sql/migrate" --defaults-file="$SECRETS/client-migrate.cnf" \
        --database=dgj --dir="$ROOT/sql/migrations"
    grant_app
}


# The audit ingester (and the off-host shipper, when DGJ_AUDIT_SHIP_TO is
# set) follow var/log/audit/ while the stack runs; each keeps its place in
# var/state/ so a restart neither skips nor repeats a line.
start_audit()
{
    pidf=$VAR/run/audit-ingest.pid

    if ! pid_alive "$pidf"; then
        say "starting the audit ingester"
        nohup "$AUDIT" ingest -c "$CONF/fcgi-main.conf" \
            --state "$VAR/state/audit-ingest.pos" "$VAR/log/audit" \
            >> "$VAR/log/audit-ingest.log" 2>&1 < /dev/null &
        echo $! > "$pidf"
    fi

    pidf=$VAR/run/audit-ship.pid

    if [ -n "$AUDIT_SHIP_TO" ] && ! pid_alive "$pidf"; then
        say "shipping the audit log to $AUDIT_SHIP_TO"
        nohup "$AUDIT" ship --to "$AUDIT_SHIP_TO" \
            --state "$VAR/state/audit-ship.pos" "$VAR/log/audit" \
            >> "$VAR/log/audit-ship.log" 2>&1 < /dev/null &
        echo $! > "$pidf"
    fi
}


# after nginx: one last pass takes its workers' stop lines
stop_audit()
{
    stop_pidfile "audit ingester" "$VAR/run/audit-ingest.pid" TERM 10
    stop_pidfile "audit shipper" "$VAR/run/audit-ship.pid" TERM 10

    if [ -x "$AUDIT" ] && [ -s "$CONF/fcgi-main.conf" ] && db_ping; then
        "$AUDIT" ingest --once -c "$CONF/fcgi-main.conf" \
            --state "$VAR/state/audit-ingest.pos" "$VAR/log/audit" \
            >> "$VAR/log/audit-ingest.log" 2>&1 || true
    fi
}


# Retention (make audit-retention, daily from cron): audit_records keeps
# AUDIT_KEEP_DAYS (at least 184) days: whole months older than that are
# dropped, the next three months are made ahead of time; rotated files
# older than that go too.
audit_retention()
{
    [ "$AUDIT_KEEP_DAYS" -ge 184 ] 2>/dev/null \
        || die "DGJ_AUDIT_KEEP_DAYS must be 184 or more"
    db_ping || die "MariaDB is not running"

    cutoff=$(date -u -d "-$AUDIT_KEEP_DAYS days" +%Y-%m-%d)
    cnf=$SECRETS/client-migrate.cnf

    parts=$(mariadb --defaults-file="$cnf" -N -e "SELECT partition_name,
        REPLACE(partition_description, CHAR(39), '')
        FROM information_schema.partitions WHERE table_schema = 'dgj'
        AND table_name = 'audit_records' AND partition_name <> 'pmax'
        ORDER BY partition_ordinal_position") \
        || die "cannot read the partitions of audit_records"

    # a month whose every row is older than the cutoff
    echo "$parts" | while read -r name bound; do
        [ -n "$name" ] || continue
        if [ "$bound" \< "$cutoff" ] || [ "$bound" = "$cutoff" ]; then
            say "audit retention: dropping partition $name (before $bound)"
            mariadb --defaults-file="$cnf" dgj \
                -e "ALTER TABLE audit_records DROP PARTITION $name" \
                || die "cannot drop partition $name"
        fi
    done

    last=$(echo "$parts" | awk 'NF == 2 { b = $2 } END { print b }')
    for i in 0 1 2 3; do
        m=$(date -u -d "$(date -u +%Y-%m-01) +$i month" +%Y-%m-01)
        next=$(date -u -d "$m +1 month" +%Y-%m-01)
        if [ -z "$last" ] || [ "$last" \< "$next" ]; then
            name=p$(date -u -d "$m" +%Y%m)
            say "audit retention: adding partition $name (before $next)"
            mariadb --defaults-file="$cnf" dgj -e "ALTER TABLE audit_records
                REORGANIZE PARTITION pmax INTO (
                    PARTITION $name VALUES LESS THAN ('$next'),
                    PARTITION pmax VALUES LESS THAN (MAXVALUE))" \
                || die "cannot add partition $name"
            last=$next
        fi
    done

    find "$VAR/log/audit" -name 'audit.log.*' ! -name '*.lock' \
         -mtime +"$AUDIT_KEEP_DAYS" -print -delete \
    | sed 's/^/dgj: audit retention: removed /'
}


pool_up()
{
    [ -S "$VAR/run/fcgi/$1.sock" ] && pid_alive "$VAR/run/fcgi/$1.pid"
}


start_fcgi()
{
    [ -x "$FCGI" ] || die "$FCGI is not built (run make)"

    for POOL in $POOLS; do
        cf=$CONF/fcgi-$POOL.conf
        pidf=$VAR/run/fcgi/$POOL.pid

        if pid_alive "$pidf"; then
            continue
        fi

        "$FCGI" -t -c "$cf" || die "bad FastCGI config $cf"

        say "starting FastCGI pool $POOL ($FCGI_WORKERS workers)"
        TZ=Asia/Shanghai nohup "$FCGI" -c "$cf" \
            >> "$VAR/log/fcgi/$POOL.out" 2>&1 < /dev/null &

        if ! wait_until 10 pool_up "$POOL"; then
            tail -20 "$VAR/log/fcgi/$POOL.log" >&2 || true
            die "FastCGI pool $POOL did not start"
        fi
    done
}


stop_fcgi()
{
    for POOL in $POOLS; do
        stop_pidfile "FastCGI pool $POOL" "$VAR/run/fcgi/$POOL.pid" TERM 20
    done
}


peers_up()
{
    perl -MIO::Socket::INET -e '
        exit(IO::Socket::INET->new(PeerAddr => "127.0.0.1",
                                   PeerPort => $ARGV[0]) ? 0 : 1)' \
        "$PEERS_PORT"
}


# The demo SMS gateway and WeChat (tests/fakes/peers.mjs), only when no
# real ones are configured (DGJ_SMS_URL unset).
start_peers()
{
    [ "$DEMO_PEERS" = yes ] || return 0

    pidf=$VAR/run/peers.pid
    pid_alive "$pidf" && return 0

    say "starting the demo SMS/WeChat peer on 127.0.0.1:$PEERS_PORT"
    nohup node "$ROOT/tests/fakes/peers.mjs" --port "$PEERS_PORT" \
        --sms-key-file "$SECRETS/sms.key" \
        --wechat-appid "$WECHAT_APPID" \
        --wechat-secret-file "$SECRETS/wechat.secret" \
        --record-file "$VAR/log/sms-outbox.jsonl" \
        >> "$VAR/log/peers.log" 2>&1 < /dev/null &
    echo $! > "$pidf"

    wait_until 10 peers_up || die "the demo peer did not start (see $VAR/log/peers.log)"
}


stop_peers()
{
    stop_pidfile "demo peer" "$VAR/run/peers.pid" TERM 10
}


# One account per role, made once; credentials in var/secrets only.
demo_accounts()
{
    TZ=Asia/Shanghai "$FCGI" -c "$CONF/fcgi-main.conf" \
        -D "$SECRETS/demo-accounts.txt" \
      || die "could not create the demo accounts"
    chmod 0600 "$SECRETS/demo-accounts.txt"
}


# demo_appeals: on an empty database, a dozen appeals driven through the
# real API by the demo staff (tokens minted with their ids and departments),
# so the portal, the inbox and the disclosure list have something to show.
# `make run` only: the tests start from an empty workflow.
demo_appeals()
{
    n=$(mariadb --defaults-file="$ADMIN_CNF" -N -B dgj \
            -e "SELECT COUNT(*) FROM appeals") || return 0
    [ "$n" = 0 ] || return 0

    say "submitting demo appeals through the API"

    tok()
    {
        role=$2
        set -- $(mariadb --defaults-file="$ADMIN_CNF" -N -B dgj \
                    -e "SELECT id, department_id FROM users WHERE username = '$1'")
        [ -n "${1:-}" ] || return 1
        "$ROOT/build/bin/dgj-token" mint --keys "$SECRETS/token.keys" \
            --user "$1" --roles "$role" --dept "$2" --level 2 --ttl 600 \
            --session "$("$ROOT/build/bin/dgj-token" session)"
    }

    intake=$(tok demo.intake intake) || return 0
    reviewer=$(tok demo.reviewer reviewer) || return 0

    post()
    {
        curl -s -o "$VAR/demo-reply.json" -w '%{http_code}' \
            -H "Authorization: Bearer $1" -H 'Content-Type: application/json' \
            --data-binary "$3" "http://127.0.0.1:$PORT$2"
    }

    field()
    {
        sed -n "s/.*\"$1\":\"\{0,1\}\([^\",}]*\).*/\1/p" "$VAR/demo-reply.json"
    }

    act()
    {
        v=$(mariadb --defaults-file="$ADMIN_CNF" -N -B dgj \
                -e "SELECT version FROM appeals WHERE tracking_no = '$2'")
        body=$(printf '{"version":%s%s}' "$v" "${4:+,$4}")
        code=$(post "$1" "/api/v1/appeals/$2/actions/$3" "$body")
        [ "$code" = 200 ] || say "demo: $3 on $2 answered $code"
    }

    # category, town, title, content, how far it goes
    while IFS='|' read -r cat town title content goal; do
        [ -n "$cat" ] || continue
        body=$(printf '{"channel":"portal","category_code":"%s","district_code":"%s","title":"%s","content":"%s","name":"演示用户","phone":"13900000000","publish_consent":true}' \
                      "$cat" "$town" "$title" "$content")
        code=$(post "$intake" /api/v1/appeals "$body")
        [ "$code" = 201 ] || { say "demo: submission answered $code"; continue; }
        no=$(field tracking_no)
        dept=$(mariadb --defaults-file="$ADMIN_CNF" -N -B dgj \
                   -e "SELECT c.default_department_id FROM categories c WHERE c.code = '$cat'")
        handler_user=$(mariadb --defaults-file="$ADMIN_CNF" -N -B dgj \
                   -e "SELECT id FROM users WHERE username = 'demo.handler'")
        handler=$("$ROOT/build/bin/dgj-token" mint --keys "$SECRETS/token.keys" \
                      --user "$handler_user" --roles handler --dept "$dept" \
                      --level 2 --ttl 600 \
                      --session "$("$ROOT/build/bin/dgj-token" session)")

        case $goal in submitted) continue ;; esac
        act "$intake" "$no" dispatch
        case $goal in dispatched) continue ;; esac
        act "$handler" "$no" sign
        case $goal in handling) continue ;; esac
        act "$handler" "$no" reply '"reply":"经现场核查, 已责令整改并将持续跟踪。","outcome":"resolved"'
        case $goal in replied) continue ;; esac
        act "$reviewer" "$no" approve
        case $goal in awaiting) continue ;; esac
        act "$reviewer" "$no" publish "\"publish\":true,\"public_title\":\"$title\",\"public_content\":\"$content\""
    done <<'EOF_DEMO'
0301|441900101|夜间施工噪声扰民|小区旁工地每天夜里十一点后仍在施工, 影响居民休息。|published
0201|441900003|公交 K2 线晚高峰班次太少|K2 路晚高峰等车超过 30 分钟, 建议增加班次。|published
0101|441900102|物业不按时清运垃圾|小区垃圾站三天未清运, 气味很大。|awaiting
0401|441900103|工厂拖欠三个月工资|所在工厂拖欠工人三个月工资, 老板失联。|replied
0302|441900004|餐馆油烟直排|楼下餐馆油烟直接排到住宅区, 窗户无法打开。|handling
0501|441900005|学位申请材料咨询|请问非户籍子女申请公办学位需要哪些材料?|dispatched
0203|441900101|路口红绿灯时间过短|石碣大道与政府路交叉口行人绿灯只有 15 秒。|submitted
0303|441900102|河涌发黑发臭|村旁河涌近期发黑发臭, 有死鱼。|submitted
EOF_DEMO
    rm -f "$VAR/demo-reply.json"
}


# The ban file nginx reads, rewritten from MariaDB (a restored database
# brings its bans; the workers keep it current afterwards).
sync_bans()
{
    TZ=Asia/Shanghai "$FCGI" -c "$CONF/fcgi-main.conf" -B \
      || die "could not write the ban file from MariaDB"
    chown "$WEB_USER" "$VAR/state/bans.list"
}


# Time-driven workflow actions (auto-close after the rating window): one
# run of `dgj-fcgi -W`, as the web user.  Safe beside another run (cron,
# another host).
sweep()
{
    choose_users

    if [ "$(id -u)" = 0 ] && [ "$WEB_USER" != "$(id -un)" ]; then
        TZ=Asia/Shanghai runuser -u "$WEB_USER" -- \
            "$FCGI" -c "$CONF/fcgi-main.conf" -W
    else
        TZ=Asia/Shanghai "$FCGI" -c "$CONF/fcgi-main.conf" -W
    fi
}


# The loop `stack start` leaves running: a run every SWEEP_INTERVAL
# seconds; TERM ends it at once, between two runs or after the current.
sweep_loop()
{
    nap=
    trap 'kill "${nap:-}" 2>/dev/null; exit 0' TERM INT

    while :; do
        sweep || say "sweep failed (see $VAR/log/fcgi/main.log)"
        sleep "$SWEEP_INTERVAL" &
        nap=$!
        wait "$nap" || true
    done
}


start_sweeper()
{
    [ "$SWEEP_INTERVAL" -gt 0 ] || return 0

    pidf=$VAR/run/sweeper.pid
    pid_alive "$pidf" && return 0

    say "starting the workflow sweeper (every $SWEEP_INTERVAL s)"
    nohup sh "$0" sweep-loop >> "$VAR/log/fcgi/sweeper.out" 2>&1 < /dev/null &
    echo $! > "$pidf"
}


stop_sweeper()
{
    stop_pidfile "workflow sweeper" "$VAR/run/sweeper.pid" TERM 20
}


# totp USERNAME: the current one-time code of a demo account (RFC 6238)
totp()
{
    secret=$(awk -v u="$1" '$2 == u { print $4 }' \
                 "$SECRETS/demo-accounts.txt" 2>/dev/null)
    [ -n "$secret" ] || die "no demo account \"$1\" in $SECRETS/demo-accounts.txt"

    perl -MDigest::SHA=hmac_sha1 -e '
        my %v; @v{"A" .. "Z", "2" .. "7"} = (0 .. 31);
        my $bits = join "", map { sprintf "%05b", $v{$_} } split //, uc $ARGV[0];
        my $key = pack "B*", substr($bits, 0, int(length($bits) / 8) * 8);
        my $h = hmac_sha1(pack("NN", 0, int(time() / 30)), $key);
        my $o = ord(substr $h, -1) & 15;
        printf "%06d\n", (unpack("N", substr $h, $o, 4) & 0x7fffffff) % 1000000;
        ' "$secret"
}


nginx_cmd()
{
    "$NGINX" -p "$VAR/nginx/" -c "$CONF/nginx.conf" -e "$VAR/log/nginx/error.log" "$@"
}


start_nginx()
{
    [ -f "$ROOT/build/modules/ngx_http_dgj_module.so" ] \
        || die "the dgj nginx module is not built (run make)"

    nginx_cmd -t -q || die "nginx -t failed for $CONF/nginx.conf"

    # already running: take the configuration just rendered (e.g. another
    # PORT), gracefully
    if pid_alive "$VAR/run/nginx.pid"; then
        nginx_cmd -s reload
    else
        say "starting nginx on http://127.0.0.1:$PORT/"
        nginx_cmd
    fi

    # the master returns (or reloads) before it listens: wait up to 10 s
    perl -MIO::Socket::INET -e '
        for (1 .. 100) {
            exit 0 if IO::Socket::INET->new(PeerAddr => "127.0.0.1",
                                            PeerPort => $ARGV[0]);
            select(undef, undef, undef, 0.1);
        }
        exit 1;' "$PORT" || die "nginx does not answer on 127.0.0.1:$PORT"
}


stop_nginx()
{
    # QUIT: graceful, workers finish the requests in hand
    stop_pidfile nginx "$VAR/run/nginx.pid" QUIT 20
}


# nginx_new_master OLD: the pid file names a live master other than OLD,
# and OLD's pid file has moved to .oldbin
nginx_new_master()
{
    pidf=$VAR/run/nginx.pid

    [ -s "$pidf.oldbin" ] && pid_alive "$pidf" && [ "$(cat "$pidf")" != "$1" ]
}


has_children()
{
    [ -n "$(pgrep -P "$1")" ]
}


# nginx's own binary upgrade: USR2 starts a new master from the binary and
# modules now on disk (a reload would keep the loaded module: dlopen()
# reuses a library already loaded under the same path), sharing the
# listening sockets; QUIT then retires the old master gracefully.
upgrade_nginx()
{
    pidf=$VAR/run/nginx.pid

    pid_alive "$pidf" || die "nginx is not running"
    nginx_cmd -t -q || die "nginx -t failed; the running nginx is untouched"

    old=$(cat "$pidf")
    say "upgrading nginx (old master $old)"
    kill -USR2 "$old"

    wait_until 10 nginx_new_master "$old" \
        || die "the new nginx master did not start; the old one serves on"

    new=$(cat "$pidf")

    # the new master's workers must be up before the old master goes
    wait_until 10 has_children "$new" \
        || die "the new nginx master $new has no workers"

    say "new nginx master $new runs; retiring $old"
    kill -QUIT "$old"
    wait_gone "$old" 30 || die "the old nginx master $old did not exit"
}


reload()
{
    render

    # returns once the new workers serve: a caller measuring right after
    # `make reload` must not meet the old configuration (nor have its
    # kept-alive connections closed by it halfway)
    if pid_alive "$VAR/run/nginx.pid"; then
        say "reloading nginx"
    fi
    nginx_reload_wait

    for POOL in $POOLS; do
        pidf=$VAR/run/fcgi/$POOL.pid
        if pid_alive "$pidf"; then
            "$FCGI" -t -c "$CONF/fcgi-$POOL.conf" \
                || die "bad FastCGI config; pool $POOL keeps its config"
            say "recycling FastCGI pool $POOL"
            kill -HUP "$(cat "$pidf")"
        fi
    done
}


# nginx_reloaded MASTER OLD_WORKERS: every worker of the earlier
# configuration is gone or shutting down, and a new one runs
nginx_reloaded()
{
    fresh=0
    for w in $(pgrep -P "$1"); do
        case " $2 " in
        *" $w "*)
            ps -o args= -p "$w" 2>/dev/null | grep -q 'shutting down' \
                || return 1
            ;;
        *)
            fresh=1
            ;;
        esac
    done
    [ "$fresh" = 1 ]
}


# nginx_reload_wait: a graceful nginx reload that returns once new
# workers (with the new key ring) serve every new connection
nginx_reload_wait()
{
    nginx_cmd -t -q || die "nginx -t failed; the running nginx keeps its config"
    pid_alive "$VAR/run/nginx.pid" || return 0

    master=$(cat "$VAR/run/nginx.pid")
    old=$(pgrep -P "$master" | tr '\n' ' ')
    nginx_cmd -s reload
    wait_until 20 nginx_reloaded "$master" "$old" \
        || die "nginx did not take the new configuration in 20 s"
}


# Key rotation without a refused token: the new key first verifies
# everywhere, then signs; at most 3 keys stay (the signing one and the
# two newest others; a token lives at most 10 minutes).
rotate_keys()
{
    f=$SECRETS/token.keys
    [ -s "$f" ] || die "no key ring $f: start the stack first"

    kid=k$(date +%s)
    while grep -q "^$kid " "$f"; do
        sleep 1
        kid=k$(date +%s)
    done

    say "adding token key $kid (verifying only)"
    (
        umask 077
        awk -v new="$(key_line "$kid")" '
            /^[ \t]*(#|$)/ { print; next }
            { keys[n++] = $0; if ($NF == "sign") s = n - 1 }
            END {
                kept = 0
                for (i = n - 1; i >= 0; i--) {
                    if (i == s || kept < 1) { keep[i] = 1; if (i != s) kept++ }
                }
                for (i = 0; i < n; i++) if (keep[i]) print keys[i]
                print new
            }' "$f" > "$f.tmp"
    )
    secure_keys "$f.tmp"
    mv "$f.tmp" "$f"
    nginx_reload_wait

    say "token key $kid signs from now on"
    (
        umask 077
        awk -v kid="$kid" '
            /^[ \t]*(#|$)/ { print; next }
            { sub(/[ \t]+sign[ \t]*$/, "") }
            $1 == kid { print $0 " sign"; next }
            { print }' "$f" > "$f.tmp"
    )
    secure_keys "$f.tmp"
    mv "$f.tmp" "$f"

    # nginx (already verifying it) and the pools, which mint with it
    reload
}


# Live binary upgrade of the pools (SIGUSR2, see fcgi/core/dgj_supervisor.h):
# the rebuilt $FCGI checks the config, each supervisor execs it with the
# listening socket, and we wait until the pid file names a new supervisor
# whose workers run and the old one is gone.  The socket never disappears.
upgrade_fcgi()
{
    [ -x "$FCGI" ] || die "$FCGI is not built (run make)"

    for POOL in $POOLS; do
        cf=$CONF/fcgi-$POOL.conf
        pidf=$VAR/run/fcgi/$POOL.pid
        log=$VAR/log/fcgi/$POOL.log

        pid_alive "$pidf" || die "FastCGI pool $POOL is not running"
        old=$(cat "$pidf")

        "$FCGI" -t -c "$cf" >/dev/null \
            || die "the new $FCGI rejects $cf; pool $POOL (pid $old) keeps" \
                   "running the old binary"

        want=$(sed -n 's/^workers *= *\([0-9]*\).*/\1/p' "$cf")
        seen=$(wc -c < "$log" 2>/dev/null || echo 0)

        say "upgrading FastCGI pool $POOL (pid $old) to $FCGI"
        kill -USR2 "$old"

        n=0
        while :; do
            new=$(cat "$pidf" 2>/dev/null || true)
            if [ -n "$new" ] && [ "$new" != "$old" ] && running "$new" \
               && ! running "$old" \
               && [ "$(pgrep -c -P "$new")" -ge "${want:-1}" ]
            then
                break
            fi

            why=$(tail -c +"$((seen + 1))" "$log" 2>/dev/null \
                  | grep -m 1 'upgrade failed' || true)
            [ -z "$why" ] || die "pool $POOL (pid $old) keeps serving the" \
                                 "old binary: ${why#* upgrade failed: }" \
                                 "(see $log)"

            n=$((n + 1))
            [ "$n" -le 150 ] || die "pool $POOL was not upgraded in 15 s" \
                                    "(pid file: ${new:-none}, old $old);" \
                                    "see $log"
            sleep 0.1
        done

        say "FastCGI pool $POOL upgraded (pid $old -> $new)"
    done
}


# Online backup: one consistent InnoDB snapshot of the dgj database (no
# lock on running transactions), gzipped, then the attachment files
# (var/files, a tar beside it), each with its SHA-256.  The files are
# written before their rows commit and never change, so a tar taken after
# the snapshot holds every file the snapshot names.
# FILE.sha256 beside FILE, and whether it still matches (name relative,
# so the pair can be copied elsewhere and checked there)
checksum_write()
{
    (cd "$(dirname "$1")" && sha256sum "$(basename "$1")" > "$(basename "$1").sha256")
}

checksum_ok()
{
    [ -f "$1.sha256" ] \
        && (cd "$(dirname "$1")" && sha256sum -c --quiet "$(basename "$1").sha256")
}


backup()
{
    db_ping || die "MariaDB is not running"

    stamp=$(date +%Y%m%dT%H%M%S)
    f=$VAR/backup/dgj-$stamp.sql.gz
    t=$VAR/backup/dgj-$stamp.files.tar
    p=$VAR/backup/dgj-$stamp.audit.pos

    # the ingester's place, read before the snapshot: every line before it
    # is committed, so the snapshot holds it; a restore rewinds to it
    if [ -f "$VAR/state/audit-ingest.pos" ]; then
        (umask 077; cp "$VAR/state/audit-ingest.pos" "$p")
        checksum_write "$p"
    fi

    (
        umask 077
        mariadb-dump --defaults-file="$ADMIN_CNF" --single-transaction \
            --routines --triggers --events --hex-blob --databases dgj \
            | gzip -6 > "$f.tmp"
    ) || { rm -f "$f.tmp" "$p" "$p.sha256"; die "mariadb-dump failed"; }

    mv "$f.tmp" "$f"
    checksum_write "$f"

    # images and PDFs are compressed already: a plain tar
    (
        umask 077
        tar -C "$VAR/files" --exclude=./tmp -cf "$t.tmp" .
    ) || { rm -f "$t.tmp"; die "tar of $VAR/files failed"; }

    mv "$t.tmp" "$t"
    checksum_write "$t"
    say "backup written: $f ($(wc -c < "$f") bytes)"
    say "attachments:    $t ($(wc -c < "$t") bytes)"
}


restore()
{
    f=${1:-}

    [ -n "$f" ] || die "usage: make restore BACKUP=var/backup/dgj-....sql.gz"
    [ -f "$f" ] || die "no such backup: $f"

    [ -f "$f.sha256" ] || die "no checksum file $f.sha256; nothing restored"
    checksum_ok "$f" || die "checksum mismatch: $f is damaged; nothing restored"

    gzip -t "$f" || die "$f is not a complete gzip file; nothing restored"

    # the attachments taken with it, checked before anything changes
    t=${f%.sql.gz}.files.tar
    if [ -f "$t" ]; then
        [ -f "$t.sha256" ] || die "no checksum file $t.sha256; nothing restored"
        checksum_ok "$t" || die "checksum mismatch: $t is damaged; nothing restored"
    else
        say "no attachment archive $t: $VAR/files is left as it is"
        t=
    fi

    db_ping || die "MariaDB is not running"

    # the ingester must not write into tables being replaced; it starts
    # again from the backup's place, so the lines logged since the backup
    # (still in var/log/audit) come back; INSERT IGNORE drops the overlap
    ingesting=
    if pid_alive "$VAR/run/audit-ingest.pid"; then
        ingesting=1
        stop_pidfile "audit ingester" "$VAR/run/audit-ingest.pid" TERM 10
    fi

    say "restoring $f into database dgj"
    gunzip -c "$f" | mariadb --defaults-file="$ADMIN_CNF" \
        || die "restore failed part-way: restore again or from another backup"

    # content-addressed: a name always holds the same bytes, so extracting
    # puts back missing or damaged files and removes none
    if [ -n "$t" ]; then
        say "restoring the attachments of $t into $VAR/files"
        tar -C "$VAR/files" --no-same-owner -xf "$t" \
            || die "restoring the attachments failed: restore again"
        chown -R "$WEB_USER" "$VAR/files"
        chmod -R go-rwx "$VAR/files"
    fi

    bootstrap_db
    migrate
    sync_bans

    # without a good saved place (a backup from before it was kept), from
    # the start of every file still there: slower, never wrong
    p=${f%.sql.gz}.audit.pos
    if [ -f "$p" ] && checksum_ok "$p"; then
        (umask 077; cp "$p" "$VAR/state/audit-ingest.pos.tmp")
        mv "$VAR/state/audit-ingest.pos.tmp" "$VAR/state/audit-ingest.pos"
    else
        say "no audit ingest place with this backup: the ingester reads $VAR/log/audit from the start"
        rm -f "$VAR/state/audit-ingest.pos"
    fi

    if [ -n "$ingesting" ]; then
        start_audit
    fi

    say "restore complete (bans in force written to $VAR/state/bans.list;"
    say "restart nginx to drop bans the restored database does not hold)"
}


status()
{
    rc=0
    for what in "MariaDB:$VAR/run/db/mariadbd.pid" \
                "nginx:$VAR/run/nginx.pid"
    do
        name=${what%%:*}
        pidf=${what#*:}
        if pid_alive "$pidf"; then
            say "$name running (pid $(cat "$pidf"))"
        else
            say "$name stopped"
            rc=3
        fi
    done

    for POOL in $POOLS; do
        if pid_alive "$VAR/run/fcgi/$POOL.pid"; then
            say "FastCGI pool $POOL running (pid $(cat "$VAR/run/fcgi/$POOL.pid"))"
        else
            say "FastCGI pool $POOL stopped"
            rc=3
        fi
    done

    if pid_alive "$VAR/run/sweeper.pid"; then
        say "workflow sweeper running (pid $(cat "$VAR/run/sweeper.pid"))"
    elif [ "$SWEEP_INTERVAL" -gt 0 ]; then
        say "workflow sweeper stopped"
    fi

    return $rc
}


banner()
{
    cat <<EOF

  民生大莞家 Daguanjia is running.

    portal      http://127.0.0.1:$PORT/
    API         http://127.0.0.1:$PORT/api/v1/overview
                http://127.0.0.1:$PORT/api/v1/categories
                http://127.0.0.1:$PORT/api/v1/calendar/2026
    health      http://127.0.0.1:$PORT/api/v1/health

    try         curl -s http://127.0.0.1:$PORT/api/v1/districts
                curl -s -X POST -d '{"from":"2026-09-30","working_days":3}' \\
                     http://127.0.0.1:$PORT/api/v1/calendar/due

    https       https://127.0.0.1:$TLS_PORT/  (self-signed, $SECRETS/tls/)

    logs        $VAR/log/
    data        $VAR/mariadb/   secrets $VAR/secrets/
    stop        make stop       reload  make reload

  Demo accounts ($SECRETS/demo-accounts.txt; sign in with
  POST /api/v1/auth/login {"username","password","totp"}):

EOF
    sed 's/^/    /' "$SECRETS/demo-accounts.txt" 2>/dev/null || true
    cat <<EOF

    TOTP code   sh conf/stack.sh totp demo.intake
EOF
    if [ "$DEMO_PEERS" = yes ]; then
        cat <<EOF
    SMS codes   $VAR/log/sms-outbox.jsonl (demo SMS gateway, not real SMS)
EOF
    fi
    echo
}


print_env()
{
    cat <<EOF
DGJ_ROOT=$ROOT
DGJ_VAR=$VAR
DGJ_BASE_URL=http://127.0.0.1:$PORT
DGJ_TLS_URL=https://127.0.0.1:$TLS_PORT
DGJ_PEERS_URL=http://127.0.0.1:$PEERS_PORT
DGJ_DEMO_ACCOUNTS=$SECRETS/demo-accounts.txt
DGJ_PORT=$PORT
DGJ_DB_PORT=$DB_PORT
DGJ_DB_SOCKET=$VAR/run/db/mysqld.sock
DGJ_ADMIN_CNF=$ADMIN_CNF
DGJ_MIGRATE_CNF=$SECRETS/client-migrate.cnf
DGJ_APP_CNF=$SECRETS/client-app.cnf
DGJ_RO_CNF=$SECRETS/client-ro.cnf
EOF
}


cmd=${1:-}

case "$cmd" in
start)
    render
    start_db
    bootstrap_db
    migrate
    demo_accounts
    sync_bans
    start_peers
    start_fcgi
    start_nginx
    start_sweeper
    start_audit
    ;;
stop)
    stop_sweeper
    stop_nginx
    stop_audit
    stop_fcgi
    stop_peers
    stop_db
    ;;
restart)
    sh "$0" stop
    sh "$0" start
    ;;
reload)
    reload
    ;;
rotate-keys)
    render
    rotate_keys
    ;;
upgrade)
    render
    upgrade_fcgi
    upgrade_nginx
    ;;
reopen)
    nginx_cmd -s reopen
    for POOL in $POOLS; do
        pidf=$VAR/run/fcgi/$POOL.pid
        pid_alive "$pidf" && kill -USR1 "$(cat "$pidf")"
    done
    ;;
status)
    status
    ;;
demo-appeals)
    demo_appeals
    ;;
banner)
    banner
    ;;
render)
    render
    ;;
backup)
    render
    backup
    ;;
restore)
    render
    restore "${2:-}"
    ;;
migrate)
    migrate
    ;;
sweep)
    sweep
    ;;
sweep-loop)
    sweep_loop
    ;;
start-sweeper)
    start_sweeper
    ;;
stop-sweeper)
    stop_sweeper
    ;;
audit-retention)
    render
    audit_retention
    ;;
start-audit)
    start_audit
    ;;
stop-audit)
    stop_audit
    ;;
env)
    print_env
    ;;
start-db)
    render
    start_db
    ;;
stop-db)
    stop_db
    ;;
start-fcgi)
    start_fcgi
    ;;
stop-fcgi)
    stop_fcgi
    ;;
start-nginx)
    start_nginx
    ;;
start-peers)
    start_peers
    ;;
stop-peers)
    stop_peers
    ;;
totp)
    totp "${2:-}"
    ;;
stop-nginx)
    stop_nginx
    ;;
*)
    echo "usage: sh conf/stack.sh start|stop|restart|reload|upgrade|rotate-keys|reopen|status|banner|start-db|stop-db|start-fcgi|stop-fcgi|start-nginx|stop-nginx|start-peers|stop-peers|totp USER|render|migrate|env|backup|restore FILE|audit-retention|start-audit|stop-audit|sweep|start-sweeper|stop-sweeper" >&2
    exit 2
    ;;
esac
