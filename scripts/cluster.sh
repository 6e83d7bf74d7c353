#!/usr/bin/env bash
# A local sesame cluster in one command: a throw-away PostgreSQL, a
# versitygw S3 server, sesame replicas sharing both (and one master key),
# and nginx in front of them, round-robin. It prints the URL and an admin
# token, and stops and removes everything on Ctrl-C.
#
# Usage: scripts/cluster.sh [--replicas N] [--port PORT] [--state FILE]
#   --replicas N  how many sesame replicas (default 2)
#   --port PORT   the proxy's port on 127.0.0.1 (default: a free one)
#   --state FILE  also write the cluster's addresses, process ids and admin
#                 token to FILE as KEY=VALUE lines, once everything is up
#
# SESAME_* variables in the environment reach every replica (for example
# SESAME_NOTIFY_EMAIL=smtp with SESAME_SMTP_HOST and friends).
# Needs: go (with cgo), and Debian's postgresql and nginx packages, which
# it installs when missing; versitygw is built once into the Go bin
# directory.
set -euo pipefail
umask 077 # the key, the state file and the logs hold secrets
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/services.sh
. scripts/lib/services.sh
export CGO_ENABLED=1

replicas=2 proxy_port="" state=""
while [ $# -gt 0 ]; do
  case "$1" in
  --replicas) replicas=$2; shift 2 ;;
  --port) proxy_port=$2; shift 2 ;;
  --state) state=$2; shift 2 ;;
  -h | --help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "cluster: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

case "$replicas" in
'' | *[!0-9]* | 0) echo "cluster: --replicas wants a positive number, not '$replicas'" >&2; exit 2 ;;
esac

need=()
[ -n "$(pg_bin)" ] || need+=(postgresql)
[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null 2>&1 || need+=(nginx)
if [ ${#need[@]} -gt 0 ]; then
  echo "cluster: installing ${need[*]}"
  apt_install "${need[@]}"
fi
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
install_versitygw

dir=$(mktemp -d /tmp/sesame-cluster.XXXXXX)
pids=() nginx_pid=""
stop_cluster() {
  trap "" INT TERM
  trap - EXIT
  [ -z "$nginx_pid" ] || kill "$nginx_pid" 2>/dev/null || true
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}" $nginx_pid; do wait "$p" 2>/dev/null || true; done
  stop_versitygw
  stop_postgres
  rm -rf "$dir"
  [ -z "$state" ] || rm -f "$state"
}
trap stop_cluster EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "cluster: building sesame"
go build -o "$dir/sesame" ./cmd/sesame

echo "cluster: starting PostgreSQL and versitygw"
start_postgres
"$(pg_bin)/createdb" -h 127.0.0.1 -p "$pg_port" -U postgres sesame
start_versitygw

[ -n "$proxy_port" ] || proxy_port=$(free_port)
public_url="http://127.0.0.1:$proxy_port"
"$dir/sesame" keygen >"$dir/secret.key"
export SESAME_DATABASE_URL="$pg_url/sesame?sslmode=disable"
export SESAME_SECRET_KEY_FILE="$dir/secret.key"
export SESAME_STORAGE_BACKEND=s3
export SESAME_STORAGE_S3_ENDPOINT="$s3_endpoint" SESAME_STORAGE_S3_BUCKET=sesame SESAME_STORAGE_S3_TLS=false
export SESAME_STORAGE_S3_ACCESS_KEY="$s3_access_key" SESAME_STORAGE_S3_SECRET_KEY="$s3_secret_key"
export SESAME_PUBLIC_URL="$public_url"
export SESAME_HTTP_TRUSTED_PROXIES="${SESAME_HTTP_TRUSTED_PROXIES:-127.0.0.1/32}"

# What every replica and CLI command of this cluster reads.
env | grep -E '^SESAME_(DATABASE_URL|SECRET_KEY_FILE|STORAGE_|PUBLIC_URL)' | sed "s/^\([^=]*\)=\(.*\)$/export \1='\2'/" >"$dir/sesame.env"

token=$("$dir/sesame" token create --data "$dir/cli" --name cluster-admin --scopes admin 2>>"$dir/cli.log")

# start_replica starts replica $1 on a free port (the next one when the
# first is taken by the time it binds) and waits until it is ready.
replica_urls=() replica_ports=()
start_replica() {
  local i=$1 port pid
  port=$(free_port)
  for _ in $(seq 1 20); do
    "$dir/sesame" serve --data "$dir/replica-$i" --listen "127.0.0.1:$port" >"$dir/replica-$i.log" 2>&1 &
    pid=$!
    for _ in $(seq 1 300); do
      if curl -fsS -o /dev/null --max-time 1 "http://127.0.0.1:$port/readyz" 2>/dev/null; then
        pids+=("$pid") replica_ports+=("$port") replica_urls+=("http://127.0.0.1:$port")
        return 0
      fi
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    port=$(free_port)
  done
  echo "cluster: replica $i did not start:"; tail -20 "$dir/replica-$i.log"; return 1
}
echo "cluster: starting $replicas replicas"
for i in $(seq 1 "$replicas"); do start_replica "$i"; done

# nginx: round-robin over the replicas, request and response bodies
# streamed, the client's address in X-Forwarded-For, and the replica that
# answered in the access log and in X-Sesame-Replica.
mkdir -p "$dir/nginx/tmp"
{
  [ "$(id -u)" = 0 ] && echo "user root;"
  cat <<EOF
worker_processes 1;
pid $dir/nginx/nginx.pid;
error_log $dir/nginx/error.log warn;
events { worker_connections 1024; }
http {
  log_format replica '\$remote_addr "\$request" \$status \$body_bytes_sent \$upstream_addr';
  access_log $dir/nginx/access.log replica;
  client_body_temp_path $dir/nginx/tmp/body;
  proxy_temp_path $dir/nginx/tmp/proxy;
  fastcgi_temp_path $dir/nginx/tmp/fastcgi;
  uwsgi_temp_path $dir/nginx/tmp/uwsgi;
  scgi_temp_path $dir/nginx/tmp/scgi;
  client_max_body_size 0;
  proxy_request_buffering off;
  proxy_buffering off;
  proxy_http_version 1.1;
  proxy_read_timeout 2h;
  proxy_send_timeout 2h;
  upstream sesame {
EOF
  for p in "${replica_ports[@]}"; do echo "    server 127.0.0.1:$p max_fails=1 fail_timeout=10s;"; done
  cat <<EOF
    keepalive 32;
  }
  server {
    listen 127.0.0.1:$proxy_port;
    location / {
      proxy_pass http://sesame;
      proxy_set_header Host \$http_host;
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto \$scheme;
      proxy_set_header Connection "";
      add_header X-Sesame-Replica \$upstream_addr always;
    }
  }
}
EOF
} >"$dir/nginx/nginx.conf"
"$nginx_bin" -p "$dir/nginx" -c "$dir/nginx/nginx.conf" -e "$dir/nginx/error.log" -g 'daemon off;' &
nginx_pid=$!
ready=""
for _ in $(seq 1 100); do
  if curl -fsS -o /dev/null --max-time 1 "$public_url/readyz" 2>/dev/null; then ready=1; break; fi
  kill -0 "$nginx_pid" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$ready" ]; then
  echo "cluster: nginx did not start on port $proxy_port:"; cat "$dir/nginx/error.log"; exit 1
fi

if [ -n "$state" ]; then
  cat >"$state.tmp" <<EOF
URL="$public_url"
TOKEN="$token"
REPLICAS="${replica_urls[*]}"
PIDS="${pids[*]}"
DATABASE_URL="$SESAME_DATABASE_URL"
S3_ENDPOINT="$s3_endpoint"
ACCESS_LOG="$dir/nginx/access.log"
DIR="$dir"
ENV_FILE="$dir/sesame.env"
EOF
  mv "$state.tmp" "$state"
fi

cat <<EOF

sesame cluster is up
  URL:         $public_url
  admin token: $token
  replicas:    ${replica_urls[*]}
  PostgreSQL:  $SESAME_DATABASE_URL
  S3:          http://$s3_endpoint (bucket sesame, key $s3_access_key / $s3_secret_key)
  logs:        $dir (replica-N.log, nginx/access.log)
  CLI:         (. $dir/sesame.env && $dir/sesame token list --data $dir/cli)
Try: curl -s $public_url/v1/list -H "Authorization: Bearer $token" -d '{"filter":{"folder":"/"}}'
Press Ctrl-C to stop and remove it all.
EOF

# Wait until stopped. A replica that dies (or is killed) is reported; the
# others keep serving.
while true; do
  sleep 1 &
  wait $! || true
  for i in "${!pids[@]}"; do
    if [ -n "${pids[$i]}" ] && ! kill -0 "${pids[$i]}" 2>/dev/null; then
      echo "cluster: replica $((i + 1)) (${replica_urls[$i]}) stopped; the others keep serving"
      pids[i]=""
    fi
  done
done
