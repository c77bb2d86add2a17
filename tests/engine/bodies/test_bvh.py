import math
from pathlib import Path

import pytest
import torch

from engine.bodies.bvh import BvhError, joint_map, load_bvh, parse_bvh, retarget_bvh
from engine.bodies.skeleton import JOINT_INDEX, JOINT_NAMES, NUM_JOINTS, PARENTS
from engine.rotations import axis_angle_to_matrix, euler_to_matrix

CMU_NAMES = {
    "pelvis": "Hips", "spine1": "LowerBack", "spine2": "Spine", "spine3": "Spine1", "neck": "Neck", "head": "Head",
    **{f"{side}_{joint}": f"{prefix}{name}" for side, prefix in (("left", "Left"), ("right", "Right"))
       for joint, name in (("hip", "UpLeg"), ("knee", "Leg"), ("ankle", "Foot"), ("foot", "ToeBase"),
                           ("collar", "Shoulder"), ("shoulder", "Arm"), ("elbow", "ForeArm"), ("wrist", "Hand"),
                           ("hand", "FingerBase"))},
}
BOXING_NAMES = {  # the LeftCollar / LeftShoulder convention of Boxing_Toes.bvh (spine3 and hands named here too)
    "pelvis": "Hips", "spine1": "Ab", "spine2": "Chest", "spine3": "UpperChest", "neck": "Neck", "head": "Head",
    **{f"{side}_{joint}": f"{prefix}{name}" for side, prefix in (("left", "Left"), ("right", "Right"))
       for joint, name in (("hip", "Hip"), ("knee", "Knee"), ("ankle", "Ankle"), ("foot", "Toes"),
                           ("collar", "Collar"), ("shoulder", "Shoulder"), ("elbow", "Elbow"), ("wrist", "Wrist"),
                           ("hand", "Fingers"))},
}
ASSIMP_BVH = Path("/usr/share/assimp/models/BVH")
CMU_POSE_SUMS = {  # per SMPL joint, the sum of |axis-angle| over every frame, as retargeted before Boxing_Toes
    "01_01.bvh": [3536.48, 1062.18, 1131.34, 393.81, 1555.83, 1672.8, 1024.16, 2037.07, 2000.57, 769.1, 384.99,
                  491.67, 1763.94, 1575.3, 1873.3, 1359.89, 7641.84, 7493.31, 4383.58, 3919.96, 570.35, 756.97,
                  2135.21, 1937.32],
    "01_03.bvh": [8980.65, 2597.59, 2985.98, 1305.63, 2737.09, 2746.23, 1976.8, 3550.55, 3389.45, 1228.55, 993.92,
                  1801.37, 2924.67, 2582.19, 3070.67, 4174.61, 11914.11, 12354.01, 5972.08, 6275.34, 1228.89,
                  1014.35, 2712.85, 3310.0],
}
ROOT_CHANNELS = "Xposition Yposition Zposition Zrotation Yrotation Xrotation"
CHANNELS = "Zrotation Xrotation Yrotation"


@pytest.fixture(scope="module")
def rest_joints(default_body):
    return default_body().joints[0, :NUM_JOINTS].detach()


def bvh_text(rest, frames, offsets=None, channels=None, names=CMU_NAMES):
    """A BVH of SMPL's tree (CMU-named unless names says otherwise), in centimetres; frames: list of
    {joint: [channel values]}."""
    offsets = offsets or {}
    channels = channels or {}
    children = {j: [c for c, p in enumerate(PARENTS) if p == j] for j in range(NUM_JOINTS)}
    order = []  # MOTION columns follow the hierarchy's depth-first order

    def block(j, depth):
        order.append(j)
        pad = "  " * depth
        offset = offsets.get(JOINT_NAMES[j], (rest[j] - (rest[PARENTS[j]] if j else 0)) * 100)
        kind = "ROOT" if j == 0 else "JOINT"
        listed = channels.get(JOINT_NAMES[j], ROOT_CHANNELS if j == 0 else CHANNELS)
        lines = [f"{pad}{kind} {names[JOINT_NAMES[j]]}", f"{pad}{{",
                 f"{pad}  OFFSET {' '.join(f'{float(v):.6f}' for v in offset)}",
                 f"{pad}  CHANNELS {len(listed.split())} {listed}"]
        for c in children[j]:
            lines += block(c, depth + 1)
        if not children[j]:
            lines += [f"{pad}  End Site", f"{pad}  {{", f"{pad}    OFFSET 0 5 0", f"{pad}  }}"]
        return lines + [f"{pad}}}"]

    hierarchy = block(0, 0)
    rows = []
    for frame in frames:
        row = []
        for j in order:
            count = len(channels.get(JOINT_NAMES[j], ROOT_CHANNELS if j == 0 else CHANNELS).split())
            row += list(frame.get(JOINT_NAMES[j], [0.0] * count))
        rows.append(" ".join(f"{v:.6f}" for v in row))
    return "\n".join(["HIERARCHY", *hierarchy, "MOTION", f"Frames: {len(frames)}", "Frame Time: 0.033333",
                      *rows]) + "\n"


class TestBvh:
    def test_rest_pose_retargets_to_zero(self, rest_joints):
        motion = retarget_bvh(parse_bvh(bvh_text(rest_joints, [{}, {}])), rest_joints)
        assert motion.poses.shape == (2, NUM_JOINTS, 3) and motion.transl.shape == (2, 3)
        torch.testing.assert_close(motion.poses, torch.zeros(2, NUM_JOINTS, 3), atol=1e-5, rtol=0)
        assert motion.frame_time == pytest.approx(0.033333)

    def test_elbow_rotation_reaches_the_elbow(self, rest_joints):
        text = bvh_text(rest_joints, [{"left_elbow": [0.0, 0.0, -90.0]}])
        pose = retarget_bvh(parse_bvh(text), rest_joints).poses[0]
        torch.testing.assert_close(pose[JOINT_INDEX["left_elbow"]], torch.tensor([0.0, -math.pi / 2, 0.0]),
                                   atol=1e-5, rtol=0)
        others = [j for j in range(NUM_JOINTS) if j != JOINT_INDEX["left_elbow"]]
        assert pose[others].abs().max() < 1e-5

    @pytest.mark.parametrize("order", ["XYZ", "ZXY", "YZX"])
    def test_channel_order(self, rest_joints, order):
        listed = " ".join(f"{axis}rotation" for axis in order)
        angles = [30.0, -20.0, 45.0]
        text = bvh_text(rest_joints, [{"left_hip": angles}], channels={"left_hip": listed})
        pose = retarget_bvh(parse_bvh(text), rest_joints).poses[0]
        expected = euler_to_matrix(torch.tensor(angles) * math.pi / 180, order)
        torch.testing.assert_close(axis_angle_to_matrix(pose[JOINT_INDEX["left_hip"]]), expected, atol=1e-5, rtol=0)

    def test_a_pose_rest_is_compensated(self, default_body, rest_joints):
        down = torch.tensor([math.cos(math.radians(45)), -math.sin(math.radians(45)), 0.0])
        upper = (rest_joints[18] - rest_joints[16]).norm() * 100
        fore = (rest_joints[20] - rest_joints[18]).norm() * 100
        offsets = {"left_elbow": down * upper, "left_wrist": down * fore, "left_hand": down * 10}
        pose = retarget_bvh(parse_bvh(bvh_text(rest_joints, [{}], offsets=offsets)), rest_joints).poses
        joints = default_body(pose=pose).joints[0]
        direction = joints[JOINT_INDEX["left_elbow"]] - joints[JOINT_INDEX["left_shoulder"]]
        torch.testing.assert_close(direction / direction.norm(), down, atol=1e-4, rtol=0)
        hand = joints[JOINT_INDEX["left_wrist"]] - joints[JOINT_INDEX["left_elbow"]]
        torch.testing.assert_close(hand / hand.norm(), down, atol=1e-4, rtol=0)

    def test_root_translation_in_metres(self, rest_joints):
        root = (rest_joints[0] * 100).tolist()
        frames = [{"pelvis": [root[0] + 10.0 * f, root[1], root[2], 0.0, 0.0, 0.0]} for f in range(3)]
        motion = retarget_bvh(parse_bvh(bvh_text(rest_joints, frames)), rest_joints)
        torch.testing.assert_close(motion.transl[:, 0], torch.tensor([0.0, 0.1, 0.2]), atol=1e-4, rtol=0)

    def test_name_variants(self):
        names = ["mixamorig:Hips", "mixamorig:Spine", "mixamorig:Spine1", "mixamorig:Spine2", "mixamorig:LeftUpLeg"]
        mapping = joint_map(names)
        found = [mapping[JOINT_INDEX[j]] for j in ("pelvis", "spine1", "spine2", "spine3", "left_hip")]
        assert found == [0, 1, 2, 3, 4]
        cmu = joint_map(["Hips", "LowerBack", "Spine", "Spine1"])
        assert [cmu[JOINT_INDEX[j]] for j in ("spine1", "spine2", "spine3")] == [1, 2, 3]

    @pytest.mark.parametrize("names", [CMU_NAMES, BOXING_NAMES], ids=["cmu", "boxing"])
    def test_collar_and_shoulder_conventions(self, rest_joints, names):
        bvh = parse_bvh(bvh_text(rest_joints, [{"left_shoulder": [0.0, 0.0, -90.0]}], names=names))
        assert {joint: bvh.names[i] for joint, i in zip(JOINT_NAMES, joint_map(bvh.names))} == names
        pose = retarget_bvh(bvh, rest_joints).poses[0]
        torch.testing.assert_close(pose[JOINT_INDEX["left_shoulder"]], torch.tensor([0.0, -math.pi / 2, 0.0]),
                                   atol=1e-5, rtol=0)
        others = [j for j in range(NUM_JOINTS) if j != JOINT_INDEX["left_shoulder"]]
        assert pose[others].abs().max() < 1e-5

    def test_shoulder_without_arm_or_collar_is_the_upper_arm(self):
        mapping = joint_map(["Hips", "LeftShoulder", "LeftElbow", "LeftWrist"])
        assert [mapping[JOINT_INDEX[j]] for j in ("left_collar", "left_shoulder", "left_elbow")] == [-1, 1, 2]

    def test_extra_whole_frames_are_ignored(self, rest_joints):
        frames = [{"left_knee": [0.0, 10.0 * f, 0.0]} for f in range(4)]
        text = bvh_text(rest_joints, frames).replace("Frames: 4", "Frames: 2")
        bvh = parse_bvh(text)
        torch.testing.assert_close(bvh.motion, parse_bvh(bvh_text(rest_joints, frames[:2])).motion)

    def test_load_from_file(self, tmp_path, rest_joints):
        path = tmp_path / "walk.bvh"
        path.write_text(bvh_text(rest_joints, [{}, {}, {}]))
        bvh = load_bvh(path)
        assert bvh.num_frames == 3 and bvh.names[0] == "Hips" and len(bvh.names) == NUM_JOINTS


class TestBvhErrors:
    def test_missing_file(self, tmp_path):
        with pytest.raises(BvhError, match="does not exist"):
            load_bvh(tmp_path / "none.bvh")

    def test_truncated_motion(self, rest_joints):
        text = bvh_text(rest_joints, [{}, {}])
        with pytest.raises(BvhError, match="MOTION has .* values but 2 frames"):
            parse_bvh(text[: text.rindex("\n", 0, len(text) - 1)])

    def test_partial_extra_frame(self, rest_joints):
        text = bvh_text(rest_joints, [{}, {}]).replace("Frames: 2", "Frames: 1")
        with pytest.raises(BvhError, match=r"^'clip.bvh': MOTION has .* values but 1 frames x 75 channels need 75 "):
            parse_bvh(text.rstrip()[: text.rstrip().rindex(" ")], "'clip.bvh'")

    def test_wrong_channel_count(self, rest_joints):
        text = bvh_text(rest_joints, [{}]).replace(f"CHANNELS 3 {CHANNELS}", "CHANNELS 4 " + CHANNELS, 1)
        with pytest.raises(BvhError, match="declares 4 channels"):
            parse_bvh(text, "bad.bvh")

    @pytest.mark.parametrize("text, message", [
        ("MOTION\nFrames: 1", "must start with HIERARCHY"),
        ("HIERARCHY\nROOT Hips\n{\nOFFSET 0 0", "file ends early"),
        ("HIERARCHY\nROOT Hips\n{\nOFFSET 0 0 zero", "expected a number"),
    ])
    def test_malformed(self, text, message):
        with pytest.raises(BvhError, match=message):
            parse_bvh(text)

    def test_unknown_skeleton(self):
        text = "HIERARCHY\nROOT Base\n{\nOFFSET 0 0 0\nCHANNELS 3 Zrotation Xrotation Yrotation\n}\n" \
               "MOTION\nFrames: 1\nFrame Time: 0.1\n0 0 0\n"
        with pytest.raises(BvhError, match="found no BVH joint for SMPL's pelvis"):
            retarget_bvh(parse_bvh(text), torch.zeros(NUM_JOINTS, 3))


@pytest.mark.skipif(not all((ASSIMP_BVH / name).is_file() for name in CMU_POSE_SUMS),
                    reason="needs the CMU clips of assimp-testmodels")
@pytest.mark.parametrize("name", list(CMU_POSE_SUMS))
def test_cmu_clips_retarget_as_before(rest_joints, name):
    bvh = load_bvh(ASSIMP_BVH / name)
    assert {joint: bvh.names[i] for joint, i in zip(JOINT_NAMES, joint_map(bvh.names))} == CMU_NAMES
    poses = retarget_bvh(bvh, rest_joints).poses
    torch.testing.assert_close(poses.double().abs().sum(dim=(0, 2)), torch.tensor(CMU_POSE_SUMS[name],
                               dtype=torch.float64), atol=0.02, rtol=1e-5)


@pytest.mark.skipif(not (ASSIMP_BVH / "Boxing_Toes.bvh").is_file(), reason="needs assimp-testmodels' Boxing_Toes.bvh")
def test_boxing_toes(default_body, rest_joints):
    bvh = load_bvh(ASSIMP_BVH / "Boxing_Toes.bvh")  # its MOTION holds 3070 frames; the header declares 3069
    assert bvh.motion.shape == (3069, 66) and bvh.frame_time == pytest.approx(0.01)
    mapped = {joint: bvh.names[i] for joint, i in zip(JOINT_NAMES, joint_map(bvh.names)) if i >= 0}
    assert mapped == {joint: name for joint, name in BOXING_NAMES.items() if joint not in
                      ("spine3", "left_hand", "right_hand")}
    poses = retarget_bvh(bvh, rest_joints).poses
    assert poses.isfinite().all()
    body = poses[:1].clone()
    body[:, 0] = 0.0  # frame 0 in the body's frame: +y up, +z forward, +x the body's left
    joints = default_body(pose=body).joints[0, :NUM_JOINTS].detach()
    joints = joints - joints[0]
    y = {name: float(joints[JOINT_INDEX[name], 1]) for name in ("head", "neck", "left_ankle", "right_ankle")}
    assert y["head"] > y["neck"] > 0.4 and y["left_ankle"] < -0.7 and y["right_ankle"] < -0.7
    for joint in ("hip", "knee", "ankle", "shoulder", "elbow", "wrist"):
        assert joints[JOINT_INDEX[f"left_{joint}"], 0] > 0.05 > -0.05 > joints[JOINT_INDEX[f"right_{joint}"], 0]
    toes = joints[[JOINT_INDEX["left_foot"], JOINT_INDEX["right_foot"]]]
    ankles = joints[[JOINT_INDEX["left_ankle"], JOINT_INDEX["right_ankle"]]]
    assert (toes[:, 2] - ankles[:, 2] > 0.05).all()
