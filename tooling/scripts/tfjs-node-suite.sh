#!/usr/bin/env bash
# Runs the tensor-core and t5-model test suites on the native `tensorflow` backend (tfjs-node) when it
# can be built on this machine without internet, via ../shared/tools/tfjs-node-offline.sh (a workplace
# tool beside the repo). Where that tool is absent, finds no TensorFlow wheel, or cannot build, this
# prints why and exits 0: the wasm/cpu suites already ran, and users with internet get tfjs-node from
# npm as published. A test failure on the tensorflow backend exits non-zero.
#
# Usage (from anywhere): bash tooling/scripts/tfjs-node-suite.sh
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd -P)
TOOL="$ROOT/../shared/tools/tfjs-node-offline.sh"
# @tensorflow/tfjs-node is an optional dependency of the workspace root; its download fails offline, and the root
# postinstall (tooling/scripts/tfjs-node-setup.mjs) has usually built it already; the tool then exits at once.
PKG="$ROOT/node_modules/@tensorflow/tfjs-node"

skip() { echo "tfjs-node-suite: skipped: $*"; exit 0; }

[ -f "$TOOL" ] || skip "$TOOL not found (no offline TensorFlow build tool on this machine)"
[ -d "$PKG" ] || skip "$PKG not installed (run pnpm install)"

bash "$TOOL" "$PKG"
rc=$?
case $rc in
  0) ;;
  3) skip "no TensorFlow wheel on this machine (tfjs-node-offline exit 3)" ;;
  *) skip "building tfjs-node's addon failed (tfjs-node-offline exit $rc); the tensorflow backend is not tested" ;;
esac

export TAGI_TEST_BACKENDS=tensorflow
status=0
for pkg in tensor-core t5-model; do
  dir="$ROOT/packages/$pkg"
  echo "tfjs-node-suite: $pkg on TAGI_TEST_BACKENDS=$TAGI_TEST_BACKENDS"
  ( cd "$dir" && ./node_modules/.bin/vitest run ) || status=1
done
exit $status
