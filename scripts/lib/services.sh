# Throw-away servers for scripts/test.sh and scripts/cluster.sh: a
# PostgreSQL cluster (Debian's package), a versitygw S3 server and helpers
# to find free loopback ports. Source it; each start_ function records what
# its stop_ function needs in shell variables.

VERSITYGW_VERSION=v1.8.0

# gobin is the directory go install writes to.
gobin() {
  local d
  d=$(go env GOBIN)
  echo "${d:-$(go env GOPATH)/bin}"
}

# pg_bin is the newest installed PostgreSQL's bin directory, or nothing.
pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

# port_taken reports whether something listens on 127.0.0.1:$1.
port_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# free_port prints a port of 127.0.0.1 that nothing listens on, from a
# random start in 20000–29999 (the caller must cope with a race).
free_port() {
  local p=$((20000 + RANDOM % 10000))
  while port_taken "$p"; do p=$((p + 1)); done
  echo "$p"
}

# start_postgres starts a throw-away PostgreSQL cluster (127.0.0.1 only,
# no fsync; user postgres with a new random password, so that other local
# users cannot log in) in a new temporary directory and sets pg_dir,
# pg_port, pg_password, pg_url BASE (postgres://postgres:PASSWORD@HOST:PORT)
# and pg_dsn (its postgres database). PGPASSWORD is exported for the
# client tools. stop_postgres stops it and removes the directory.
start_postgres() {
  pg_dir=$(mktemp -d /tmp/sesame-pg.XXXXXX)
  pg_run=()
  pg_password="$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  (umask 077 && printf '%s\n' "$pg_password" >"$pg_dir/pwfile")
  if [ "$(id -u)" = 0 ]; then # initdb refuses to run as root
    chown -R postgres "$pg_dir"
    pg_run=(runuser -u postgres --)
  fi
  "${pg_run[@]}" "$(pg_bin)/initdb" -D "$pg_dir/data" -A scram-sha-256 --pwfile="$pg_dir/pwfile" -U postgres -E UTF8 >"$pg_dir/initdb.log"
  rm -f "$pg_dir/pwfile"
  export PGPASSWORD="$pg_password"
  # A port that looks free may be taken by the time the server binds it:
  # try the next one then.
  local tries=0
  pg_port=$(free_port)
  until "${pg_run[@]}" "$(pg_bin)/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/server.log" -w -o \
    "-p $pg_port -k $pg_dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
    start >/dev/null; do
    tries=$((tries + 1))
    if [ $tries -ge 20 ]; then
      echo "PostgreSQL did not start:"; tail -20 "$pg_dir/server.log"; return 1
    fi
    pg_port=$((pg_port + 1))
  done
  pg_url="postgres://postgres:$pg_password@127.0.0.1:$pg_port"
  pg_dsn="$pg_url/postgres?sslmode=disable"
}

stop_postgres() {
  [ -n "${pg_dir:-}" ] || return 0
  "${pg_run[@]}" "$(pg_bin)/pg_ctl" -D "$pg_dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$pg_dir"
  pg_dir=
}

# install_versitygw puts versitygw $VERSITYGW_VERSION into the Go bin
# directory unless it is there (the first build takes minutes).
install_versitygw() {
  [ -x "$(gobin)/versitygw" ] && return 0
  echo "== installing versitygw $VERSITYGW_VERSION (once; the build takes a few minutes)"
  (cd / && go install "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION")
}

# start_versitygw starts versitygw over a new temporary directory with new
# root credentials and sets s3_dir, s3_pid, s3_endpoint (host:port),
# s3_access_key and s3_secret_key. stop_versitygw stops it and removes the
# directory.
start_versitygw() {
  local port i
  s3_dir=$(mktemp -d /tmp/sesame-s3.XXXXXX)
  mkdir "$s3_dir/data"
  s3_access_key=sesame
  s3_secret_key="$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  port=$(free_port)
  # A port can look free and still be taken: then the server exits, and
  # the next port is tried.
  for _ in $(seq 1 20); do
    ROOT_ACCESS_KEY_ID="$s3_access_key" ROOT_SECRET_ACCESS_KEY="$s3_secret_key" \
      "$(gobin)/versitygw" --port "127.0.0.1:$port" posix "$s3_dir/data" >"$s3_dir/server.log" 2>&1 &
    s3_pid=$!
    for i in $(seq 1 100); do
      if port_taken "$port" && kill -0 "$s3_pid" 2>/dev/null; then
        s3_endpoint="127.0.0.1:$port"
        return 0
      fi
      kill -0 "$s3_pid" 2>/dev/null || break
      sleep 0.1
    done
    kill "$s3_pid" 2>/dev/null || true
    wait "$s3_pid" 2>/dev/null || true
    s3_pid=
    port=$(free_port)
  done
  echo "versitygw did not start:"; cat "$s3_dir/server.log"; return 1
}

stop_versitygw() {
  if [ -n "${s3_pid:-}" ]; then
    kill "$s3_pid" 2>/dev/null || true
    wait "$s3_pid" 2>/dev/null || true
    s3_pid=
  fi
  if [ -n "${s3_dir:-}" ]; then rm -rf "$s3_dir"; fi
  s3_dir=
}

# apt_install installs Debian packages (as root, or through sudo).
apt_install() {
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@"
}
