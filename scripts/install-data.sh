#!/usr/bin/env bash
# Fashion-MNIST from Debian's dataset-fashion-mnist, installed when missing and we are root.
# Without root (or off Debian) raysearch falls back to torchvision's download on first use.
set -euo pipefail
DIR=/usr/share/datasets/fashion-mnist
if [ -f "$DIR/train-images-idx3-ubyte.gz" ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian's dataset-fashion-mnist into $DIR"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist >/dev/null
else
  echo "note: $DIR is missing and this is not a root Debian machine;" \
       "fashion_mnist_* trainables will download the data with torchvision on first use" >&2
fi
