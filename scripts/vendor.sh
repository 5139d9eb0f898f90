#!/usr/bin/env bash
# Install the front-end packages from package-lock.json (npm ci) and copy the dist files the
# templates load into app/static/vendor/ (git-ignored). Never a CDN. Without npm it says so and
# exits 0: the Python tests that do not drive a browser still run.
set -euo pipefail
cd "$(dirname "$0")/.."
VENDOR=app/static/vendor
if ! command -v npm >/dev/null 2>&1; then
    echo "npm not found: app/static/vendor not built (studio and diagram pages need it; apt-get install npm)" >&2
    exit 0
fi
npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
rm -rf "$VENDOR"
mkdir -p "$VENDOR/bpmn-js" "$VENDOR/dmn-js" "$VENDOR/htmx" "$VENDOR/echarts"
cp node_modules/bpmn-js/dist/bpmn-modeler.production.min.js \
   node_modules/bpmn-js/dist/bpmn-viewer.production.min.js \
   node_modules/bpmn-js/dist/bpmn-navigated-viewer.production.min.js "$VENDOR/bpmn-js/"
cp -r node_modules/bpmn-js/dist/assets "$VENDOR/bpmn-js/assets"
cp node_modules/dmn-js/dist/dmn-modeler.production.min.js \
   node_modules/dmn-js/dist/dmn-viewer.production.min.js "$VENDOR/dmn-js/"
cp -r node_modules/dmn-js/dist/assets "$VENDOR/dmn-js/assets"
cp node_modules/htmx.org/dist/htmx.min.js "$VENDOR/htmx/"
cp node_modules/echarts/dist/echarts.min.js "$VENDOR/echarts/"
cp package-lock.json "$VENDOR/.stamp"
echo "vendored front-end packages into $VENDOR"
