#!/usr/bin/env bash
# plots.sh — the one command that redraws every figure of the docs from checked-in sources:
#   docs/data/inproc.jsonl, docs/data/servers.jsonl  -> docs/img/inproc.svg, docs/img/servers.svg
#                                                       (scripts/plots.py, matplotlib)
#   docs/img/architecture.dot                        -> docs/img/architecture.svg (Graphviz dot)
# It measures nothing (scripts/perf-data.sh does that), so it is quick, needs no build, and the
# SVGs come out byte-identical for identical inputs: a changed figure is a changed diff.
# Installs python3-matplotlib and graphviz from Debian if missing, as scripts/install-deps.sh
# does for the build; they are not build or CI dependencies.
#
#   scripts/plots.sh
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# shellcheck source=scripts/install-deps.sh
source "$ROOT/scripts/install-deps.sh"
CORIO_DEBIAN_PACKAGES=(python3-matplotlib graphviz)
corio_install_deps

# Debian's interpreter, where python3-matplotlib is installed (a python3 earlier on PATH, e.g.
# pyenv's, would not see it).
/usr/bin/python3 "$ROOT/scripts/plots.py" "$ROOT/docs/data" "$ROOT/docs/img"

# dot rather than matplotlib for the architecture: boxes, nesting and arrows laid out from a
# text source that reads like the picture, and that a reviewer can diff.
dot -Tsvg "$ROOT/docs/img/architecture.dot" -o "$ROOT/docs/img/architecture.svg"
echo "plots: wrote docs/img/inproc.svg docs/img/servers.svg docs/img/architecture.svg" >&2
