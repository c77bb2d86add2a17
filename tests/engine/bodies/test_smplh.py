"""The shipped SMPL+H default body (assets/body/default_body_smplh.npz) and hand poses."""
import numpy as np
import pytest
import smplx
import smplx.joint_names
import torch

from engine.bodies.model import DEFAULT_BODY, DEFAULT_BODY_SMPLH, BodyModel, load_body
from engine.bodies.pickle_loader import ModelFileError
from engine.bodies.skeleton import (
    FINGERS, HAND_JOINT_NAMES, LANDMARK_NAMES, NUM_BODY_JOINTS, SMPLH_JOINT_INDEX, SMPLH_JOINT_NAMES, SMPLH_PARENTS,
)

ASSET = dict(np.load(DEFAULT_BODY_SMPLH))
SMPL_ASSET = dict(np.load(DEFAULT_BODY))
JOINTS = len(SMPLH_JOINT_NAMES)
TIP = {name: JOINTS + i for i, name in enumerate(LANDMARK_NAMES)}
"""Index of each landmark joint in the output's joints."""
SIDES = {"left": "l", "right": "r"}


def _curl(angle: float, sides: tuple[str, ...] = ("left", "right")) -> torch.Tensor:
    """A hand pose (1, 30, 3) bending every joint of the four fingers (not the thumb) by angle towards the palm.
    In the T-pose the palms face down (-y) and the fingers point outwards: left along +x, so they bend about -z;
    right along -x, about +z."""
    pose = torch.zeros(1, 30, 3)
    for side in sides:
        first = SMPLH_JOINT_INDEX[f"{side}_index1"] - NUM_BODY_JOINTS
        pose[0, first:first + 12, 2] = -angle if side == "left" else angle  # index, middle, pinky, ring
    return pose


def _hand_weight(body: BodyModel, side: str) -> torch.Tensor:
    """Per vertex, the skinning weight of the side's finger joints."""
    fingers = [SMPLH_JOINT_INDEX[f"{side}_{name}"] for name in HAND_JOINT_NAMES]
    return body.layer.lbs_weights[:, fingers].sum(dim=1)


class TestSmplhDefaultBody:
    def test_smoke(self, smplh_body):
        out = smplh_body()
        assert isinstance(smplh_body, BodyModel) and smplh_body.model_type == "smplh"
        assert smplh_body.num_pose_joints == NUM_BODY_JOINTS and smplh_body.num_hand_joints == 30
        assert smplh_body.layer.J_regressor.shape == (JOINTS, smplh_body.num_vertices)
        assert smplh_body.layer.parents.tolist()[1:] == list(SMPLH_PARENTS[1:])
        assert out.vertices.shape == (1, smplh_body.num_vertices, 3)
        assert out.joints.shape == (1, JOINTS + len(LANDMARK_NAMES), 3)  # with smplx's fingertip joints

    def test_joint_order_is_smplx_smplh_order(self):
        names = smplx.joint_names.JOINT_NAMES
        assert list(SMPLH_JOINT_NAMES) == names[:NUM_BODY_JOINTS] + names[25:55]  # SMPL-X adds jaw and eyes
        assert [SMPLH_JOINT_NAMES[22 + 3 * k] for k in range(5)] == [f"left_{finger}1" for finger in FINGERS]
        for j, name in enumerate(SMPLH_JOINT_NAMES[NUM_BODY_JOINTS:], start=NUM_BODY_JOINTS):
            wrist = SMPLH_JOINT_INDEX[name.split("_")[0] + "_wrist"]
            assert SMPLH_PARENTS[j] == (wrist if name.endswith("1") else j - 1), name

    def test_plain_smplx_reads_the_file(self, smplh_body):
        landmarks = dict(zip(ASSET["landmark_names"].tolist(), ASSET["landmark_vertex_ids"].tolist()))
        layer = smplx.SMPLH(str(DEFAULT_BODY_SMPLH), ext="npz", use_pca=False, flat_hand_mean=True,
                            vertex_ids=landmarks)
        hand = _curl(0.3).reshape(1, 2, 45)
        out = layer(left_hand_pose=hand[:, 0], right_hand_pose=hand[:, 1])
        torch.testing.assert_close(out.vertices, smplh_body(hand_pose=_curl(0.3)).vertices, atol=1e-6, rtol=0)

    def test_shares_the_smpl_body(self):
        for key in ("v_template", "f", "shapedirs", "landmark_names", "landmark_vertex_ids", "check_betas"):
            np.testing.assert_array_equal(ASSET[key], SMPL_ASSET[key], err_msg=key)
        np.testing.assert_array_equal(ASSET["J_regressor"][:NUM_BODY_JOINTS], SMPL_ASSET["J_regressor"][:NUM_BODY_JOINTS])
        np.testing.assert_allclose(ASSET["weights"].sum(axis=1), 1.0, atol=1e-5)
        assert DEFAULT_BODY_SMPLH.stat().st_size < 1.2 * DEFAULT_BODY.stat().st_size  # small enough for git

    def test_body_joints_and_flat_hand_mesh_match_smpl_at_random_betas(self, default_body, smplh_body):
        generator = torch.Generator().manual_seed(0)
        betas = 3.0 * (2.0 * torch.rand(4, 10, generator=generator) - 1.0)
        pose = 0.3 * torch.randn(4, 24, 3, generator=generator)
        pose[:, NUM_BODY_JOINTS:] = 0.0  # SMPL's hand joints: the SMPL+H fingers are flat
        smpl, smplh = default_body(betas=betas, pose=pose), smplh_body(betas=betas, pose=pose[:, :NUM_BODY_JOINTS])
        torch.testing.assert_close(smplh.joints[:, :NUM_BODY_JOINTS], smpl.joints[:, :NUM_BODY_JOINTS], atol=1e-5, rtol=0)
        torch.testing.assert_close(smplh.vertices, smpl.vertices, atol=1e-5, rtol=0)

    def test_rest_finger_joints_match_anny_bones(self, smplh_body):
        joints = smplh_body().joints[0, :JOINTS].detach().numpy()
        np.testing.assert_allclose(joints, ASSET["anny_joints"], atol=1e-3)

    def test_held_out_anny_shapes(self, smplh_body):
        out = smplh_body(betas=torch.from_numpy(ASSET["check_betas"]))
        error = (out.joints[:, NUM_BODY_JOINTS:JOINTS] - torch.from_numpy(ASSET["check_joints"][:, NUM_BODY_JOINTS:]))
        assert error.norm(dim=-1).mean() < 0.002 and error.norm(dim=-1).max() < 0.005  # finger joints follow the shape

    @pytest.mark.parametrize("side", ["left", "right"])
    def test_fingertips_lie_beyond_the_last_joints(self, smplh_body, side):
        joints = smplh_body().joints[0]
        for finger in ("thumb", "index", "middle", "ring", "pinky"):
            middle, last = (joints[SMPLH_JOINT_INDEX[f"{side}_{finger}{k}"]] for k in (2, 3))
            tip = joints[TIP[f"{SIDES[side]}{finger}"]]
            assert (tip - last) @ (last - middle) > 0 and 0.01 < (tip - last).norm() < 0.04

    def test_curl_brings_fingertips_towards_the_palm(self, smplh_body):
        rest, curled = smplh_body(), smplh_body(hand_pose=_curl(0.5, ("left",)))
        wrist = SMPLH_JOINT_INDEX["left_wrist"]
        for finger in ("index", "middle", "ring", "pinky"):
            before, after = rest.joints[0, TIP[f"l{finger}"]], curled.joints[0, TIP[f"l{finger}"]]
            to_wrist = (before - rest.joints[0, wrist]).norm() - (after - rest.joints[0, wrist]).norm()
            assert to_wrist > 0.02 and after[1] < before[1] - 0.02  # closer to the wrist, down to the palm's side
        torch.testing.assert_close(curled.joints[0, :NUM_BODY_JOINTS], rest.joints[0, :NUM_BODY_JOINTS])  # wrist too
        torch.testing.assert_close(curled.joints[0, TIP["lthumb"]], rest.joints[0, TIP["lthumb"]])
        moved = (curled.vertices[0] - rest.vertices[0]).norm(dim=-1)
        assert moved[_hand_weight(smplh_body, "left") == 0].max() < 1e-6  # the body and the right hand stay
        assert moved[_hand_weight(smplh_body, "left") > 0.9].median() > 0.01

    def test_right_curl_mirrors_left(self, smplh_body):
        left, right = (smplh_body(hand_pose=_curl(0.5, (side,))).joints[0] for side in ("left", "right"))
        mirror = torch.tensor([-1.0, 1.0, 1.0])
        torch.testing.assert_close(right[TIP["rmiddle"]] * mirror, left[TIP["lmiddle"]], atol=0.01, rtol=0)

    @pytest.mark.parametrize("batch", [1, 3])
    def test_batch_shapes(self, smplh_body, batch):
        out = smplh_body(pose=torch.zeros(batch, NUM_BODY_JOINTS, 3), hand_pose=_curl(0.4))
        assert out.vertices.shape == (batch, smplh_body.num_vertices, 3)
        assert out.joints.shape == (batch, JOINTS + len(LANDMARK_NAMES), 3)
        torch.testing.assert_close(out.vertices[-1], smplh_body(hand_pose=_curl(0.4)).vertices[0])
        hands = smplh_body(hand_pose=torch.cat([torch.zeros(1, 30, 3), _curl(0.4)]))
        assert hands.vertices.shape[0] == 2 and not torch.allclose(hands.vertices[0], hands.vertices[1])

    @pytest.mark.parametrize("kwargs, message", [
        ({"hand_pose": torch.zeros(1, 15, 3)}, r"hand_pose must have shape \(B, 30, 3\)"),
        ({"hand_pose": torch.zeros(30, 3)}, "hand_pose must have shape"),
        ({"hand_pose": torch.zeros(1, 30, 4)}, "hand_pose must have shape"),
        ({"hand_pose": torch.full((1, 30, 3), float("nan"))}, "hand_pose holds NaN or infinite values"),
        ({"hand_pose": torch.full((1, 30, 3), float("inf"))}, "hand_pose holds NaN or infinite values"),
        ({"pose": torch.full((1, 22, 3), float("nan"))}, "pose holds NaN"),
        ({"hand_pose": torch.zeros(2, 30, 3), "pose": torch.zeros(3, 22, 3)}, "batch size"),
        ({"pose": torch.zeros(1, 24, 3)}, r"pose must have shape \(B, 22, 3\)"),
    ])
    def test_bad_input(self, smplh_body, kwargs, message):
        with pytest.raises(ValueError, match=message) as error:
            smplh_body(**kwargs)
        assert "\n" not in str(error.value)

    def test_smpl_has_no_hand_pose(self, default_body):
        with pytest.raises(ValueError, match="is a SMPL model, which has no hand_pose") as error:
            default_body(hand_pose=torch.zeros(1, 30, 3))
        assert "\n" not in str(error.value)

    @pytest.mark.parametrize("path, model_type, message", [
        (DEFAULT_BODY, "smplh", "'default_body.npz' is a SMPL model .*, not SMPL-H$"),
        (DEFAULT_BODY_SMPLH, "smpl", "'default_body_smplh.npz' is a SMPL-H model .*, not SMPL$"),
        (None, "smplx", "the default body comes as SMPL or SMPL-H, not SMPL-X"),
    ])
    def test_wrong_model_type(self, path, model_type, message):
        with pytest.raises(ModelFileError, match=message) as error:
            load_body(path, model_type=model_type)
        assert "\n" not in str(error.value)

    def test_the_file_loads_by_path(self, smplh_body):
        body = load_body(DEFAULT_BODY_SMPLH)
        assert body.model_type == "smplh" and body.name == "default_body_smplh.npz"
        torch.testing.assert_close(body(hand_pose=_curl(0.3)).joints, smplh_body(hand_pose=_curl(0.3)).joints)

    def test_gradients_reach_hand_pose(self, smplh_body):
        hand_pose = (0.1 * torch.randn(2, 30, 3, generator=torch.Generator().manual_seed(0))).requires_grad_()
        smplh_body(hand_pose=hand_pose).joints.square().sum().backward()
        assert torch.isfinite(hand_pose.grad).all() and (hand_pose.grad.abs().sum(dim=-1) > 0).all()

    def test_device(self, device):
        body = load_body(model_type="smplh")
        out = body(pose=torch.zeros(2, NUM_BODY_JOINTS, 3, device=device), hand_pose=_curl(0.4).to(device))
        assert out.vertices.device.type == device.type and out.joints.device.type == device.type
        torch.testing.assert_close(out.joints[0].cpu(), load_body(model_type="smplh")(hand_pose=_curl(0.4)).joints[0],
                                   atol=1e-5, rtol=0)
