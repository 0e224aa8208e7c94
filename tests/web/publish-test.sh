#!/usr/bin/env bash
# web/publish.sh and web/hosting/nginx.conf (docs/web-app.md, "Publishing the
# site") with a real nginx over HTTPS:
#   1. publish the built site into a web root twice (the second time over a
#      stale file of an "old build", which must go), byte for byte the site;
#   2. nginx with the documented server block (its ports, certificate and
#      root swapped for the test's): `publish.sh --check` passes;
#   3. the same block with a day-long max-age: --check fails, naming it.
#   tests/web/publish-test.sh SITE WORKDIR
# Exit 0 pass, 1 fail, 77 skipped (nginx, openssl or curl missing).
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
site="${1:-$root/build/web/site}" work="${2:-/tmp/fer-publish-test}"
for tool in nginx openssl curl node; do
  command -v "$tool" >/dev/null || { echo "SKIPPED: $tool is missing"; exit 77; }
done
[[ -f "$site/index.html" ]] || { echo "SKIPPED: no site in $site (web/build.sh builds it)"; exit 77; }
failures=0
check() { if eval "$2"; then echo "ok   $1"; else echo "FAIL $1"; failures=$((failures + 1)); fi; }

rm -rf "$work" && mkdir -p "$work/www" "$work/nginx"
echo stale > "$work/www/fer-old.wasm.gz"
"$root/web/publish.sh" "$work/www" --site "$site" >/dev/null
"$root/web/publish.sh" "$work/www" --site "$site" --headers netlify
check "published: the web root holds the site, byte for byte" "diff -r -x _headers '$site' '$work/www' >/dev/null"
check "published: the old build's file is gone" "[[ ! -e '$work/www/fer-old.wasm.gz' ]]"
check "published: --headers netlify adds _headers" "cmp -s '$root/web/hosting/_headers' '$work/www/_headers'"
check "published: no staging folder left" "[[ ! -e '$work/www/.fer-publish.tmp' ]]"

openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/nginx/key.pem" -out "$work/nginx/cert.pem" -days 2 \
  -subj /CN=localhost -addext subjectAltName=DNS:localhost >/dev/null 2>&1 || { echo "SKIPPED: openssl failed"; exit 77; }
port="$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close();})")"

# The documented server block, with the test's port, certificate and root.
start_nginx() {  # $1: extra sed expression applied to the block
  sed -e "s|listen 443 ssl http2;|listen 127.0.0.1:$port ssl;|" -e '/listen \[::\]/d' \
      -e "s|/etc/letsencrypt/live/fer.example.org/fullchain.pem|$work/nginx/cert.pem|" \
      -e "s|/etc/letsencrypt/live/fer.example.org/privkey.pem|$work/nginx/key.pem|" \
      -e "s|root /var/www/fer;|root $work/www;|" -e "$1" "$root/web/hosting/nginx.conf" > "$work/nginx/site.conf"
  cat > "$work/nginx/nginx.conf" <<EOF
daemon on;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events {}
http {
  access_log off;
  client_body_temp_path $work/nginx/body; proxy_temp_path $work/nginx/proxy; fastcgi_temp_path $work/nginx/fcgi;
  uwsgi_temp_path $work/nginx/uwsgi; scgi_temp_path $work/nginx/scgi;
  include $work/nginx/site.conf;
}
EOF
  nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" || { cat "$work/nginx/error.log"; return 1; }
  for _ in $(seq 1 100); do curl -sk -o /dev/null "https://localhost:$port/" && return 0; sleep 0.1; done
  return 1
}
# Stops nginx and waits until its master is gone (the port is free again).
stop_nginx() {
  local pid
  pid="$(cat "$work/nginx/nginx.pid" 2>/dev/null)" || return 0
  kill "$pid" 2>/dev/null
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
}

if start_nginx ''; then
  out="$("$root/web/publish.sh" --check "https://localhost:$port/" --insecure 2>&1)"; rc=$?
  echo "$out"
  check "nginx with web/hosting/nginx.conf: publish.sh --check passes" "[[ $rc == 0 ]]"
  check "the .gz files are sent as they are (no Content-Encoding)" "! grep -q 'gz: .*Content-Encoding' <<<\"\$out\""
  check "the scripts are compressed on the fly" "grep -q 'app.js: .*Content-Encoding gzip' <<<\"\$out\""
  stop_nginx
else
  check "nginx starts with web/hosting/nginx.conf" false
fi
if start_nginx 's|add_header Cache-Control "no-cache" always;|add_header Cache-Control "max-age=86400" always;|'; then
  out="$("$root/web/publish.sh" --check "https://localhost:$port/" --insecure 2>&1)"; rc=$?
  check "a day-long max-age: --check fails and says why" "[[ $rc != 0 ]] && grep -q 'use no-cache' <<<\"\$out\""
  stop_nginx
fi
[[ $failures == 0 ]] && echo "publish: passed" || echo "publish: $failures check(s) failed"
exit $((failures > 0))
