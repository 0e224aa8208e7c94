#!/usr/bin/env bash
# Sets up, builds, and runs the main job on the bundled default model:
# classifies the bundled face images in samples/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
build/tools/fer/fer predict samples/ "$@"
