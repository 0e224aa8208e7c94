#!/usr/bin/env bash
# Publishes the web app's static site (web/build.sh -> build/web/site) to a
# static HTTPS host, then checks what the host answers. docs/web-app.md,
# "Publishing the site", explains the headers.
#
#   web/publish.sh DEST [--site DIR] [--headers nginx|netlify|apache|none]
#   web/publish.sh --check URL [--insecure]
#
# DEST: a local folder (a web root, a checkout of a GitHub Pages branch, the
# folder a host's CLI deploys) or, with rsync installed, user@host:/path.
# Files are put in place in an order that never leaves a visitor with a new
# page and missing files: the models and WebAssembly first, then the scripts,
# index.html and sw.js (whose new version makes browsers re-cache) last, then
# files the new build no longer has are removed.
# --headers netlify|apache copies web/hosting/_headers or .htaccess into DEST;
# nginx: use web/hosting/nginx.conf in the server's configuration.
# --check URL: the page, the service worker, the WebAssembly, the models and
# the manifest answer 200 with the right types and caching (exit 1 if not).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
site="$root/build/web/site"
dest="" check="" headers="none" insecure=()
while (($#)); do
  case "$1" in
    --site) site="$2"; shift 2 ;;
    --headers) headers="$2"; shift 2 ;;
    --check) check="$2"; shift 2 ;;
    --insecure) insecure=(--insecure); shift ;;
    -h|--help) sed -n 2,19p "$0"; exit 0 ;;
    -*) echo "web/publish.sh: unknown option $1" >&2; exit 2 ;;
    *) dest="$1"; shift ;;
  esac
done
[[ -n "$dest" || -n "$check" ]] || { echo "web/publish.sh: give DEST or --check URL (--help)" >&2; exit 2; }

publish() {
  [[ -f "$site/index.html" && -f "$site/sw.js" && -f "$site/fer-simd.wasm.gz" ]] ||
    { echo "web/publish.sh: $site is not a built site (run web/build.sh)" >&2; exit 2; }
  grep -q '__FER_BUILD_VERSION__' "$site/sw.js" &&
    { echo "web/publish.sh: $site/sw.js has no build version (not made by web/build.sh)" >&2; exit 2; }
  local extra=""
  case "$headers" in
    netlify) extra="$root/web/hosting/_headers" ;;
    apache) extra="$root/web/hosting/.htaccess" ;;
    nginx|none) ;;
    *) echo "web/publish.sh: --headers must be nginx, netlify, apache or none" >&2; exit 2 ;;
  esac
  local last=(index.html sw.js)
  if [[ "$dest" == *:* ]]; then
    command -v rsync >/dev/null || { echo "web/publish.sh: $dest is remote: rsync is needed" >&2; exit 2; }
    rsync -rlt --checksum --delay-updates --exclude index.html --exclude sw.js "$site/" "$dest/"
    [[ -n "$extra" ]] && rsync -t "$extra" "$dest/"
    rsync -rlt --checksum --delete-after --filter "P $(basename "${extra:-none}")" "$site/" "$dest/"
  else
    mkdir -p "$dest"
    local stage="$dest/.fer-publish.tmp"
    rm -rf "$stage" && cp -R "$site" "$stage"
    [[ -n "$extra" ]] && cp "$extra" "$stage/"
    # Each file replaces its old copy by a rename (atomic): a visitor gets
    # the old file or the new one, never half of one.
    (cd "$stage" && find . -type f ! -name index.html ! -name sw.js -print0 | sort -z) |
      while IFS= read -r -d '' f; do mkdir -p "$dest/$(dirname "$f")"; mv -f "$stage/$f" "$dest/$f"; done
    for f in "${last[@]}"; do mv -f "$stage/$f" "$dest/$f"; done
    rm -rf "$stage"
    # What the new build no longer has (an old build's files).
    (cd "$dest" && find . -type f ! -path './.fer-publish.tmp/*' -print0) | while IFS= read -r -d '' f; do
      case "$f" in ./_headers|./.htaccess) continue ;; esac
      [[ -e "$site/$f" ]] || rm -f "$dest/$f"
    done
  fi
  echo "web/publish.sh: $site -> $dest ($(grep -o "fer-[0-9a-f]\{12\}" "$site/sw.js"))"
}

# One header of an answer (case-insensitive name), "" if absent.
header() { grep -i "^$2:" <<<"$1" | head -1 | cut -d: -f2- | tr -d '\r' | sed 's/^ *//'; }

check_site() {
  local url="${check%/}/" failed=0
  case "$url" in
    https://*) ;;
    http://localhost*|http://127.0.0.1*) echo "note: plain http is a secure context on this machine only" ;;
    *) echo "FAIL $url: phones give the camera only to https:// pages"; failed=1 ;;
  esac
  # path, expected Content-Type (a regex)
  local checks=("|text/html" "sw.js|(text|application)/javascript" "app.js|(text|application)/javascript"
                "worker.js|(text|application)/javascript" "fer-simd.js|(text|application)/javascript"
                "manifest.webmanifest|application/(manifest\+)?json" "fer-simd.wasm|application/wasm"
                "fer-simd.wasm.gz|." "model/fernet-int8.tflite.gz|." "model/yunet-int8.tflite.gz|.")
  for c in "${checks[@]}"; do
    local path="${c%%|*}" type_re="${c#*|}" head status type cache encoding
    head="$(curl -sS -o /dev/null -D - "${insecure[@]}" -H 'Accept-Encoding: gzip' "$url$path" 2>&1)" || true
    status="$(head -1 <<<"$head" | awk '{print $2}')"
    type="$(header "$head" content-type)" cache="$(header "$head" cache-control)" encoding="$(header "$head" content-encoding)"
    local problems=()
    [[ "$status" == 200 ]] || problems+=("HTTP ${status:-no answer}")
    [[ -z "$status" || "$type" =~ ^($type_re) ]] || problems+=("Content-Type '$type', not $type_re")
    # A long max-age on a file without a version in its name mixes builds.
    if [[ "$cache" =~ max-age=([0-9]+) ]] && ((BASH_REMATCH[1] > 600)) && [[ ! "$cache" =~ no-cache ]]; then
      problems+=("Cache-Control '$cache': names carry no version, use no-cache")
    fi
    if ((${#problems[@]})); then
      echo "FAIL /$path: ${problems[*]}"; failed=1
    else
      echo "ok   /$path: ${type:-?}${cache:+, $cache}${encoding:+, Content-Encoding $encoding}"
    fi
  done
  return "$failed"
}

[[ -n "$dest" ]] && publish
if [[ -n "$check" ]]; then
  check_site || { echo "web/publish.sh: $check does not serve the app as it should" >&2; exit 1; }
fi
