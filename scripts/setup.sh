#!/usr/bin/env bash
# Sets feedbacklab up on a fresh Debian/Ubuntu machine: the system OpenGL and X11 libraries for headless
# rendering and the app, Xvfb for the app's tests, the CMU motion-capture clips of assimp-testmodels (ik's real
# test motion) (apt, as root, only when missing), and the Python dependencies in .venv (CPU torch when no
# NVIDIA GPU).
set -euo pipefail
cd "$(dirname "$0")/.."

system_packages=(libegl1 libegl-mesa0 libgl1-mesa-dri libosmesa6 libglu1-mesa libgl1 libx11-6 xvfb xauth
                 assimp-testmodels)
missing=()
for pkg in "${system_packages[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing system libraries: ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}"
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
pip=(.venv/bin/python -m pip install -q)

if ! .venv/bin/python -c "import torch" >/dev/null 2>&1; then
  if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
    "${pip[@]}" "torch==2.13.0"
  else
    # CPU build: a local wheel or index configured for pip first, else PyTorch's CPU index.
    "${pip[@]}" "torch==2.13.0+cpu" 2>/dev/null \
      || "${pip[@]}" "torch==2.13.0" --index-url https://download.pytorch.org/whl/cpu
  fi
fi
"${pip[@]}" -e ".[test]"
# pyrender pins PyOpenGL 3.1.0, whose OSMesa binding is broken; 3.1.5+ fixes it and keeps EGL working.
"${pip[@]}" --no-deps "PyOpenGL==3.1.10"
echo "setup: done (.venv)"
