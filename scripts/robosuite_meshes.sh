#!/usr/bin/env bash
# Real meshes from robosuite's wheel on PyPI (object and robot-part meshes, MIT licence), for pose6d; nothing
# here is committed to the repository.
#   bash scripts/robosuite_meshes.sh heldout DIR   the 30 meshes of bench pose6d's held-out table (KUKA iiwa,
#                                                  Franka panda and Kinova Gen3 links, bread, cereal, handles,
#                                                  milk), never trained on
#   bash scripts/robosuite_meshes.sh train DIR     every other robot, gripper and base STL, without byte-equal
#                                                  copies (train pose6d --add-meshes DIR)
set -euo pipefail
set_name="${1:?usage: bash scripts/robosuite_meshes.sh heldout|train DIR}"
out="${2:?usage: bash scripts/robosuite_meshes.sh heldout|train DIR}"
cd "$(dirname "$0")/.."
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
.venv/bin/python -m pip download robosuite==1.5.2 --no-deps -q -d "$work"
unzip -q "$work"/robosuite-1.5.2-*.whl 'robosuite/models/assets/*' -d "$work"
assets="$work/robosuite/models/assets"
mkdir -p "$out"
case "$set_name" in
  heldout)
    for i in 0 1 2 3 4 5 6 7; do cp "$assets/robots/iiwa/meshes/link_$i.stl" "$out/iiwa_link_$i.stl"; done
    for f in "$assets"/robots/panda/meshes/*.stl; do cp "$f" "$out/panda_$(basename "$f")"; done
    for name in base_link forearm_link half_arm_1_link half_arm_2_link shoulder_link spherical_wrist_1_link \
                spherical_wrist_2_link bracelet_with_vision_link; do
      cp "$assets/robots/kinova3/meshes/$name.stl" "$out/kinova3_$name.stl"
    done
    for name in bread cereal handles milk; do cp "$assets/objects/meshes/$name.stl" "$out/$name.stl"; done ;;
  train)
    # The held-out robots (any file naming them) and objects stay out; one file per distinct content.
    (cd "$assets" && find . -name '*.stl' | grep -iv 'panda\|iiwa\|kinova\|objects/meshes/\(bread\|cereal\|handles\|milk\)' \
      | sort | while read -r f; do echo "$(md5sum "$f" | cut -c1-32) $f"; done) \
      | sort -s -u -k1,1 | while read -r _ f; do
          name="${f#./}"; cp "$assets/$f" "$out/${name//\//_}"
        done
    # Files the mesh loader refuses (a wheel link with no triangles) would stop a training run.
    .venv/bin/python -c "
import pathlib, sys
from engine.meshes import MeshError, load_mesh
for path in sorted(pathlib.Path(sys.argv[1]).iterdir()):
    try:
        load_mesh(path)
    except MeshError as error:
        print(f'robosuite_meshes: left out {error}')
        path.unlink()
" "$out" ;;
  *) echo "robosuite_meshes: the set is 'heldout' or 'train', not '$set_name'" >&2; exit 2 ;;
esac
echo "robosuite_meshes: $(ls "$out" | wc -l) meshes in $out"
