#!/usr/bin/env bash
# Builds the web app into one static folder that any HTTPS host can serve:
# the page, the worker, two WebAssembly builds of the runtime (SIMD128 and
# plain), the int8 model, the YuNet face detector (int8, the default) and the
# Haar cascade in fer's compact binary form (?detector=haar).
#
#   web/build.sh [--out DIR] [--cascade-tool PATH]      # default DIR: build/web/site
#
# Needs em++/emcmake (Debian's emscripten), node, cmake + ninja and opencv-data
# (the cascade XML, converted here, never committed). Builds under build/web/work.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/build/web/site"
cascade_tool=""
while (($#)); do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    --cascade-tool) cascade_tool="$2"; shift 2 ;;
    -h|--help) sed -n 2,9p "$0"; exit 0 ;;
    *) echo "web/build.sh: unknown argument $1" >&2; exit 1 ;;
  esac
done
work="$(dirname "$out")/work"   # objects and scratch next to the site, not inside it
haar_xml="${FER_HAAR_DIR:-/usr/share/opencv4/haarcascades}/haarcascade_frontalface_alt2.xml"
# The int8 model: 0.87 MB against 3.4 MB for float32, which alone would break
# the 1 MB first-load budget (docs/web-app.md has the sizes).
model="$root/models/fernet-int8.tflite"
export NODE_PATH="${NODE_PATH:-/usr/share/nodejs}"   # Debian's em++ finds acorn there

for tool in em++ node; do
  command -v "$tool" >/dev/null || { echo "web/build.sh: $tool is missing (scripts/setup.sh installs it)" >&2; exit 2; }
done
[[ -f "$haar_xml" ]] || { echo "web/build.sh: $haar_xml is missing (Debian package opencv-data)" >&2; exit 2; }

# fer-cascade comes from a runtime-only native build (no libtorch: seconds).
if [[ -z "$cascade_tool" ]]; then
  cmake -S "$root" -B "$work/native" -G Ninja -DCMAKE_BUILD_TYPE=Release -DFER_BUILD_TRAINING=OFF \
        -DFER_BUILD_TESTS=OFF -DFER_BUILD_BENCH=OFF >/dev/null
  ninja -C "$work/native" fer-cascade >/dev/null
  cascade_tool="$work/native/src/detect/fer-cascade"
fi

rm -rf "$out.tmp" && mkdir -p "$out.tmp/model" "$out.tmp/icons" "$work"

# The runtime as CMake defines it (src/CMakeLists.txt: the same sources and
# per-file flags as natively, x86 kernels left out under Emscripten), built
# with emcmake twice, then linked with the binding. Release: -O3.
# The glue (fer-*.js) is Emscripten's minimal runtime (4 KB instead of 12:
# every first visit downloads it), with web/wasm/module-exports.js to hand
# worker.js the exports and heaps; TextDecoder (every browser with
# WebAssembly has it), no errno strings. -I src: fer-web.cpp replaces the
# runtime's XML cascade reader (see there). emmalloc: 2.8 KB smaller than
# dlmalloc; the analysis allocates little per frame (1% per frame, within
# the noise of the measurement).
link=(-O3 -std=c++17 -fno-exceptions -I"$root/include" -I"$root/src"
      -sMINIMAL_RUNTIME=1 -sMODULARIZE=1 -sEXPORT_NAME=createFerModule -sENVIRONMENT=worker -sFILESYSTEM=0
      -sALLOW_MEMORY_GROWTH=1 -sMALLOC=emmalloc -sEXPORTED_FUNCTIONS=_malloc,_free -sEXPORTED_RUNTIME_METHODS=UTF8ToString
      -sTEXTDECODER=2 -sSUPPORT_ERRNO=0 --post-js "$root/web/wasm/module-exports.js")
for variant in simd plain; do
  flags=""
  [[ $variant == simd ]] && flags="-msimd128"
  emcmake cmake -S "$root" -B "$work/wasm-$variant" -G Ninja -DCMAKE_BUILD_TYPE=Release -DFER_BUILD_TRAINING=OFF \
          -DFER_BUILD_TESTS=OFF -DFER_BUILD_BENCH=OFF -DCMAKE_CXX_FLAGS="$flags" \
          -DCCACHE_PROGRAM=CCACHE_PROGRAM-NOTFOUND > "$work/wasm-$variant.log" 2>&1 ||
    { cat "$work/wasm-$variant.log" >&2; exit 2; }
  ninja -C "$work/wasm-$variant" fer_runtime >/dev/null
  em++ "${link[@]}" $flags "$root/web/wasm/fer-web.cpp" "$work/wasm-$variant/src/libfer_runtime.a" \
       -o "$out.tmp/fer-$variant.js"
done

"$cascade_tool" "$haar_xml" "$out.tmp/model/frontalface-alt2.fercascade" >/dev/null
cp "$model" "$out.tmp/model/fernet-int8.tflite"
cp "$root/models/yunet-int8.tflite" "$out.tmp/model/yunet-int8.tflite"   # the default face detector
cp "$root/models/LICENSE-yunet" "$out.tmp/model/LICENSE-yunet"
# Precompressed copies of the three big files: the worker inflates them itself
# (DecompressionStream), so the download stays under 1 MB on a host that does
# not compress; the plain files are the fallback for browsers without it.
# zopfli writes the same gzip format 1-5% smaller than gzip -9 (it searches
# harder for matches and block splits); gzip -9 where it is missing.
for f in fer-simd.wasm fer-plain.wasm model/fernet-int8.tflite model/yunet-int8.tflite model/frontalface-alt2.fercascade; do
  if command -v zopfli >/dev/null; then
    zopfli --gzip -c "$out.tmp/$f" > "$out.tmp/$f.gz"
  else
    gzip -9 -n -c "$out.tmp/$f" > "$out.tmp/$f.gz"
  fi
done
cp "$root"/web/{index.html,app.js,worker.js,style.css,manifest.webmanifest,sw.js} "$out.tmp/"
cp "$root/web/icons/icon.svg" "$out.tmp/icons/"
node "$root/web/tools/make-icons.js" "$out.tmp/icons"

# The worker's table of file sizes (its download progress), then the service
# worker's cache name, which changes with any byte of the site, so a new
# build replaces the old cache instead of mixing with it.
sizes="$(cd "$out.tmp" && for f in fer-simd.wasm fer-plain.wasm model/fernet-int8.tflite model/yunet-int8.tflite model/frontalface-alt2.fercascade; do
  printf "'%s': %d, '%s.gz': %d, " "$f" "$(stat -c %s "$f")" "$f" "$(stat -c %s "$f.gz")"; done)"
sed -i "s|^const FILE_BYTES = {};|const FILE_BYTES = { ${sizes%, } };|" "$out.tmp/worker.js"
grep -q "^const FILE_BYTES = { 'fer-simd.wasm'" "$out.tmp/worker.js" || { echo "web/build.sh: worker.js has no FILE_BYTES line" >&2; exit 2; }
# The site's copies of the scripts and style without comments and blanks
# (web/ keeps the commented sources): a first visit downloads them whole.
node "$root/web/tools/trim-text.js" "$out.tmp"/{app.js,worker.js,sw.js,style.css,index.html}
version="$(cd "$out.tmp" && find . -type f ! -name sw.js -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-12)"
sed -i "s/__FER_BUILD_VERSION__/$version/" "$out.tmp/sw.js"

rm -rf "$out" && mv "$out.tmp" "$out"
echo "web/build.sh: site in $out (version $version)"
(cd "$out" && find . -type f -printf '%s\t%P\n' | sort -k2)
