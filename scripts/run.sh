#!/usr/bin/env bash
# Sets up, builds, and runs the main job on the bundled default model:
# finds and classifies the faces of a bundled photo, then the face crops in samples/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
echo "== every face of a photo (samples/group-photo.jpg: five samples/ faces on a canvas);"
echo "   annotated copy with boxes, labels and class activation maps in predictions/"
build/tools/fer/fer predict samples/group-photo.jpg --out predictions --cam "$@"
echo "== the FER2013 crops in samples/, each taken as one face (--whole)"
build/tools/fer/fer predict --whole samples/*-PublicTest_*.jpg
