#!/usr/bin/env bash
# Sets up, builds, and runs the whole test suite (CTest + GoogleTest).
# Tests that need ../shared/data skip with a message when it is absent.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# One test at a time: the trainer and end-to-end tests use the cores themselves.
ctest --test-dir build --output-on-failure -j1 "$@"
