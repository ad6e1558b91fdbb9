#!/usr/bin/env bash
# apt-install.sh PACKAGE PATH: install Debian's PACKAGE unless PATH exists, when we are root.
# Without root (or off Debian) it says what is missing and leaves the fallback to the caller.
set -euo pipefail
package=$1 marker=$2
[ -e "$marker" ] && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian's $package"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package" >/dev/null
else
  echo "note: $marker is missing and this is not a root Debian machine; install $package" >&2
fi
