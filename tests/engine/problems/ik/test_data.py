import pytest
import torch

from engine.bodies.bvh import BvhError
from engine.bodies.poses import within_limits
from engine.problems.ik import data
from engine.problems.ik.data import (
    cmu_clips,
    library_poses,
    load_motion,
    select_frames,
    split_poses,
    walk_cycle_poses,
)

LEGS = [("Hips", -1, (0, 95, 0)), ("LeftUpLeg", 0, (10, -5, 0)), ("LeftLeg", 1, (0, -45, 0)),
        ("RightUpLeg", 0, (-10, -5, 0)), ("RightLeg", 3, (0, -45, 0))]


def legs_bvh(frames, names=None, drop_values=0):
    """A five-joint CMU-named BVH text (hips and legs), `frames` rows of zero channels with a hip swing."""
    names = names or [name for name, _, _ in LEGS]
    lines = ["HIERARCHY"]
    for i, (_, parent, offset) in enumerate(LEGS):
        if i and parent != i - 1:  # close the left leg before the right one
            lines += ["End Site { OFFSET 0 -40 0 }", "}", "}"]
        kind = "ROOT" if parent < 0 else "JOINT"
        channels = "6 Xposition Yposition Zposition Zrotation Yrotation Xrotation" if parent < 0 \
            else "3 Zrotation Yrotation Xrotation"
        lines += [f"{kind} {names[i]}", "{", f"OFFSET {offset[0]} {offset[1]} {offset[2]}", f"CHANNELS {channels}"]
    lines += ["End Site { OFFSET 0 -40 0 }", "}", "}", "}"]
    rows = [" ".join(["0"] * 6 + ["0", "0", str(10.0 * f)] + ["0"] * 9) for f in range(frames)]
    values = " ".join(rows).split()
    values = values[: len(values) - drop_values]
    return "\n".join([*lines, "MOTION", f"Frames: {frames}", "Frame Time: 0.008333", " ".join(values)]) + "\n"


def write(tmp_path, text, name="clip.bvh"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_load_motion(tmp_path):
    poses = load_motion(write(tmp_path, legs_bvh(3)))
    assert poses.shape == (3, 24, 3)
    swing = (poses[2] - poses[0]).norm(dim=-1)
    assert swing[1] > 0.1 and swing[2:].max() < 1e-5  # only the left hip swings (Xrotation 20 degrees)


@pytest.mark.parametrize("text, problem", [
    (legs_bvh(3, drop_values=4), "truncated"),
    (legs_bvh(3).split("MOTION")[0], "ends early"),
    (legs_bvh(0), "at least one frame"),
    (legs_bvh(2, names=["Root0", "A", "B", "C", "D"]), "found no BVH joint"),
])
def test_load_motion_bad_files(tmp_path, text, problem):
    with pytest.raises(ValueError, match=problem) as caught:
        load_motion(write(tmp_path, text, "bad_clip.bvh"))
    assert isinstance(caught.value, BvhError)
    assert "'bad_clip.bvh'" in str(caught.value) and "\n" not in str(caught.value)


def test_load_motion_missing_file(tmp_path):
    with pytest.raises(ValueError, match="nowhere.bvh"):
        load_motion(tmp_path / "nowhere.bvh")


def test_select_frames():
    assert select_frames("3", 5).tolist() == [0, 2, 4]
    assert select_frames("1", 5).tolist() == [0]
    assert select_frames("5", 5).tolist() == [0, 1, 2, 3, 4]
    assert select_frames("1:4", 5).tolist() == [1, 2, 3]
    assert select_frames("0:5:2", 5).tolist() == [0, 2, 4]
    assert select_frames(":2", 5).tolist() == [0, 1]
    assert select_frames("3:", 5).tolist() == [3, 4]


@pytest.mark.parametrize("text", ["0", "6", "abc", "1:2:3:4", "-1:3", "3:3", "4:2", "0:6", "0:5:0", ""])
def test_select_frames_bad_text(text):
    with pytest.raises(ValueError, match=r"--frames .*the clip has 5 frames"):
        select_frames(text, 5)


def test_cmu_clips_follow_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("FEEDBACKLAB_CMU_DIR", str(tmp_path))
    assert cmu_clips() == []
    with pytest.raises(ValueError, match="assimp-testmodels"):
        split_poses("cmu", 4)
    write(tmp_path, legs_bvh(9), "01_03.bvh")
    assert cmu_clips() == [tmp_path / "01_03.bvh"]
    assert split_poses("cmu", 4).shape == (4, 24, 3)


def test_splits_are_disjoint_and_reproducible():
    count = 80
    splits = {name: split_poses(name, count, seed=1) for name in ("train", "val", "test")}
    for poses in splits.values():
        assert poses.shape == (count, 24, 3)
    torch.testing.assert_close(split_poses("test", count, seed=1), splits["test"])
    fixed = torch.cat([library_poses(), walk_cycle_poses()])
    torch.testing.assert_close(splits["train"][: len(fixed)], fixed)
    assert within_limits(splits["val"]).all() and within_limits(splits["test"]).all()
    rows = {name: {tuple(p.flatten().tolist()) for p in poses} for name, poses in splits.items()}
    rows["train-seed-0"] = {tuple(p.flatten().tolist()) for p in split_poses("train", count, seed=0)[len(fixed):]}
    rows["val-seed-0"] = {tuple(p.flatten().tolist()) for p in split_poses("val", count, seed=0)}
    names = list(rows)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            if {a, b} != {"train", "train-seed-0"}:  # both hold the library and the walk cycle
                assert not rows[a] & rows[b], (a, b)


def test_split_bad_arguments():
    with pytest.raises(ValueError, match="unknown IK split"):
        split_poses("holdout", 3)
    with pytest.raises(ValueError, match="non-negative"):
        split_poses("val", -1)
    assert split_poses("train", 3).shape == (3, 24, 3)  # fewer than the fixed poses


def test_rest_joints_are_the_default_body(rest_joints):
    torch.testing.assert_close(data.default_rest_joints(), rest_joints)
