#!/bin/sh
# `fer --help` and `fer predict` must not load libtorch (docs/architecture.md:
# the runtime commands live in `fer`, the libtorch ones in fer-torch). The
# dynamic loader's own trace (LD_DEBUG=libs) lists every library the process
# loads, dlopen included; the test fails on any libtorch or c10 library, and
# when the trace is missing (so that it cannot pass by seeing nothing).
# Usage: no-libtorch.sh FER_EXE IMAGE
set -u
fer="$1"
image="$2"
status=0
check() {
  what="$1"
  shift
  trace=$(LD_DEBUG=libs "$@" 2>&1 >/dev/null)
  code=$?
  if [ "$code" -ne 0 ]; then
    echo "FAIL: $what exited with $code"
    echo "$trace" | grep -v "^ *[0-9]*:" | tail -5
    status=1
    return
  fi
  if ! echo "$trace" | grep -q "calling init: .*libc\.so"; then
    echo "FAIL: $what: no loader trace (LD_DEBUG=libs unsupported?)"
    status=1
    return
  fi
  loaded=$(echo "$trace" | grep "calling init:" | grep -E "libtorch|libc10|libcaffe2" || true)
  if [ -n "$loaded" ]; then
    echo "FAIL: $what loads libtorch:"
    echo "$loaded"
    status=1
    return
  fi
  n=$(echo "$trace" | grep -c "calling init:")
  echo "ok: $what loads $n libraries, none of libtorch"
}
check "fer --help" "$fer" --help
check "fer predict" "$fer" predict "$image"
exit $status
