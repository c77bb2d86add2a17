#!/usr/bin/env bash
# The real meshes that bench pose6d's held-out table uses and that no shipped checkpoint was trained on: 30
# object and robot-part meshes of robosuite's wheel (MIT licence) from PyPI: the KUKA iiwa, Franka panda and
# Kinova Gen3 links and four grocery objects. Usage: bash scripts/heldout_meshes.sh DIR  (then
# feedbacklab bench pose6d --meshes DIR ...). Nothing here is committed to the repository.
set -euo pipefail
out="${1:?usage: bash scripts/heldout_meshes.sh DIR}"
cd "$(dirname "$0")/.."
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
.venv/bin/python -m pip download robosuite==1.5.2 --no-deps -q -d "$work"
unzip -q "$work"/robosuite-1.5.2-*.whl 'robosuite/models/assets/*' -d "$work"
assets="$work/robosuite/models/assets"
mkdir -p "$out"
for i in 0 1 2 3 4 5 6 7; do cp "$assets/robots/iiwa/meshes/link_$i.stl" "$out/iiwa_link_$i.stl"; done
for f in "$assets"/robots/panda/meshes/*.stl; do cp "$f" "$out/panda_$(basename "$f")"; done
for name in base_link forearm_link half_arm_1_link half_arm_2_link shoulder_link spherical_wrist_1_link \
            spherical_wrist_2_link bracelet_with_vision_link; do
  cp "$assets/robots/kinova3/meshes/$name.stl" "$out/kinova3_$name.stl"
done
for name in bread cereal handles milk; do cp "$assets/objects/meshes/$name.stl" "$out/$name.stl"; done
echo "heldout_meshes: $(ls "$out" | wc -l) meshes in $out"
