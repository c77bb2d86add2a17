import math

import numpy as np
import pytest
import torch
import trimesh

from engine.bodies.model import DEFAULT_BODY, BodyModel, load_body
from engine.bodies.pickle_loader import ModelFileError
from engine.bodies.skeleton import JOINT_INDEX, LANDMARK_NAMES, NUM_JOINTS

ASSET = dict(np.load(DEFAULT_BODY))


def _arm_weight(body: BodyModel, side: str) -> torch.Tensor:
    joints = [JOINT_INDEX[f"{side}_{name}"] for name in ("elbow", "wrist", "hand")]
    return body.layer.lbs_weights[:, joints].sum(dim=1)


class TestDefaultBody:
    def test_smoke(self, default_body):
        out = default_body()
        assert isinstance(default_body, BodyModel) and default_body.model_type == "smpl"
        assert 5000 <= default_body.num_vertices <= 8000
        assert out.vertices.shape == (1, default_body.num_vertices, 3)
        assert out.joints.shape == (1, NUM_JOINTS + len(LANDMARK_NAMES), 3)
        assert out.vertices.dtype == torch.float32

    def test_sane_human(self, default_body):
        vertices = default_body().vertices[0].detach().numpy()
        mesh = trimesh.Trimesh(vertices, default_body.faces.numpy(), process=False)
        assert 1.5 < np.ptp(vertices[:, 1]) < 2.0  # height in metres, +y up
        assert mesh.is_watertight and mesh.is_winding_consistent
        assert mesh.volume > 0.04  # positive: every face's normal points outwards
        assert np.ptp(vertices[:, 0]) > np.ptp(vertices[:, 1]) * 0.9  # T-pose: arm span ~ height

    def test_rest_joints_match_anny_bones(self, default_body):
        joints = default_body().joints[0, :NUM_JOINTS].detach().numpy()
        np.testing.assert_allclose(joints, ASSET["anny_joints"], atol=1e-3)

    def test_landmarks_where_they_belong(self, default_body):
        joints = default_body().joints[0].detach().numpy()
        landmark = {name: joints[NUM_JOINTS + i] for i, name in enumerate(LANDMARK_NAMES)}
        head, left_ankle = joints[JOINT_INDEX["head"]], joints[JOINT_INDEX["left_ankle"]]
        assert landmark["nose"][2] > head[2] + 0.05 and landmark["nose"][1] > joints[JOINT_INDEX["neck"]][1]
        assert landmark["leye"][0] > 0 > landmark["reye"][0]
        assert landmark["lear"][0] > landmark["leye"][0] and landmark["rear"][0] < landmark["reye"][0]
        assert landmark["LBigToe"][2] > left_ankle[2] + 0.1 > landmark["LHeel"][2] + 0.1
        assert landmark["lmiddle"][0] > joints[JOINT_INDEX["left_hand"]][0]

    def test_held_out_anny_shapes(self, default_body):
        out = default_body(betas=torch.from_numpy(ASSET["check_betas"]))
        vertex_error = (out.vertices - torch.from_numpy(ASSET["check_vertices"])).norm(dim=-1)
        joint_error = (out.joints[:, :NUM_JOINTS] - torch.from_numpy(ASSET["check_joints"])).norm(dim=-1)
        assert vertex_error.mean() < 0.005  # the shape space reproduces unseen Anny bodies
        assert joint_error.mean() < 0.02 and joint_error.max() < 0.08  # see convert_anny.fit_regressor

    def test_left_elbow_bend_moves_only_the_left_forearm(self, default_body):
        pose = torch.zeros(1, NUM_JOINTS, 3)
        pose[0, JOINT_INDEX["left_elbow"], 1] = -math.pi / 2  # flexion: the forearm swings forward
        rest, bent = default_body().vertices[0], default_body(pose=pose).vertices[0]
        moved = (bent - rest).norm(dim=-1)
        forearm = _arm_weight(default_body, "left") > 0.5
        untouched = _arm_weight(default_body, "left") == 0
        assert moved[forearm].median() > 0.1 and moved[forearm].min() > 0.0
        assert moved[untouched].max() < 1e-6  # torso, legs, head and the right arm stay where they were
        assert untouched[_arm_weight(default_body, "right") > 0.5].all()
        assert bent[forearm, 2].max() > rest[forearm, 2].max() + 0.2  # the hand is now in front of the body

    def test_betas_change_the_shape_smoothly(self, default_body):
        steps = torch.linspace(-2.0, 2.0, 9)
        betas = torch.zeros(9, 10)
        betas[:, 0] = steps
        vertices = default_body(betas=betas).vertices
        step = vertices[1:] - vertices[:-1]
        assert step.norm(dim=-1).max() < 0.15  # a half-beta step moves no vertex more than 15 cm
        torch.testing.assert_close(step[1:], step[:-1], atol=1e-4, rtol=0)  # linear, no jumps
        heights = vertices[..., 1].amax(1) - vertices[..., 1].amin(1)
        assert (heights.max() - heights.min()) > 0.05

    @pytest.mark.parametrize("batch", [1, 3])
    def test_batch_shapes(self, default_body, batch):
        out = default_body(betas=torch.zeros(1, 4), pose=torch.zeros(batch, NUM_JOINTS, 3), transl=torch.ones(batch, 3))
        assert out.vertices.shape == (batch, default_body.num_vertices, 3)
        assert out.joints.shape[:2] == (batch, NUM_JOINTS + len(LANDMARK_NAMES))
        torch.testing.assert_close(out.vertices[0] - 1.0, default_body().vertices[0], atol=1e-5, rtol=0)

    @pytest.mark.parametrize("kwargs, message", [
        ({"betas": torch.zeros(1, 11)}, "10 shape components"),
        ({"betas": torch.zeros(10)}, "betas must have shape"),
        ({"pose": torch.zeros(1, 23, 3)}, "pose must have shape"),
        ({"transl": torch.zeros(1, 2)}, "transl must have shape"),
        ({"pose": torch.zeros(2, 24, 3), "betas": torch.zeros(3, 10)}, "batch size"),
    ])
    def test_bad_input(self, default_body, kwargs, message):
        with pytest.raises(ValueError, match=message):
            default_body(**kwargs)

    def test_gradients_reach_pose_and_betas(self, default_body):
        pose = (0.1 * torch.randn(2, NUM_JOINTS, 3, generator=torch.Generator().manual_seed(0))).requires_grad_()
        betas = torch.zeros(2, 10, requires_grad=True)
        default_body(betas=betas, pose=pose).joints.square().sum().backward()
        assert torch.isfinite(pose.grad).all() and pose.grad.abs().sum() > 0 and betas.grad.abs().sum() > 0

    def test_device(self, device):
        body = load_body()
        out = body(betas=torch.zeros(2, 10, device=device), pose=torch.zeros(2, NUM_JOINTS, 3, device=device))
        assert out.vertices.device.type == device.type and out.joints.device.type == device.type
        torch.testing.assert_close(out.vertices[0].cpu(), load_body()().vertices[0], atol=1e-5, rtol=0)


class TestLoadBodyErrors:
    def test_wrong_path(self, tmp_path):
        with pytest.raises(ModelFileError, match="does not exist"):
            load_body(tmp_path / "SMPL_NEUTRAL.pkl")

    def test_directory_and_extension(self, tmp_path):
        with pytest.raises(ModelFileError, match="is a directory"):
            load_body(tmp_path)
        (tmp_path / "model.obj").write_text("v 0 0 0")
        with pytest.raises(ModelFileError, match=r"\.pkl or \.npz"):
            load_body(tmp_path / "model.obj")

    def test_wrong_model_type(self, tmp_path):
        mano = {"v_template": np.zeros((778, 3)), "weights": np.zeros((778, 16)), "shapedirs": np.zeros((778, 3, 10)),
                "f": np.zeros((1538, 3), dtype=np.int64), "J_regressor": np.zeros((16, 778)),
                "kintree_table": np.zeros((2, 16), dtype=np.int64), "posedirs": np.zeros((778, 3, 135))}
        np.savez(tmp_path / "MANO_RIGHT.npz", **mano)
        with pytest.raises(ModelFileError, match="is a MANO model .*not SMPL"):
            load_body(tmp_path / "MANO_RIGHT.npz", model_type="smpl")
        with pytest.raises(ModelFileError, match="unknown body model type"):
            load_body(model_type="smpl-y")

    def test_not_a_body_model(self, tmp_path):
        np.savez(tmp_path / "points.npz", points=np.zeros((5, 3)))
        with pytest.raises(ModelFileError, match="no 'v_template' array"):
            load_body(tmp_path / "points.npz")

    @pytest.mark.parametrize("damage, message", [
        (lambda a: a["f"].__setitem__((0, 0), 7000), "its faces 'f' must be (F, 3) indices of its 6890 vertices"),
        (lambda a: a["f"].__setitem__((0, 0), -1), "its faces 'f' must be"),
        (lambda a: a["shapedirs"].__setitem__((0, 0, 0), np.nan), "its 'shapedirs' array holds NaN or infinite"),
        (lambda a: a.__setitem__("v_template", a["v_template"].astype(str)), "'v_template' array holds <U"),
    ])
    def test_damaged_arrays_name_the_file(self, tmp_path, damage, message):
        arrays = {key: value.copy() for key, value in ASSET.items()}
        damage(arrays)
        np.savez(tmp_path / "damaged.npz", **arrays)
        with pytest.raises(ModelFileError) as error:
            load_body(tmp_path / "damaged.npz")
        assert str(error.value).startswith("'damaged.npz': ") and message in str(error.value)

    @pytest.mark.parametrize("betas", [[1e6, -1e6], [float("nan")], [5.5]])
    def test_betas_outside_a_human_range_are_refused(self, default_body, betas):
        with pytest.raises(ValueError, match="each value of betas must be a finite number from -5 to 5"):
            default_body(betas=torch.tensor([betas]))

    def test_betas_size_mismatch(self):
        with pytest.raises(ModelFileError, match="has 10 shape components .* 16 were asked for"):
            load_body(num_betas=16)


def _hand_parents(wrist: int, first: int) -> list[int]:
    """15 hand joints (5 fingers x 3) numbered from `first`, each finger starting at the wrist."""
    return [wrist if k % 3 == 0 else first + k - 1 for k in range(15)]


SMPL_BODY_PARENTS = [-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19]
SYNTHETIC = {  # type: (vertices, parents)
    "smplh": (6890, SMPL_BODY_PARENTS + _hand_parents(20, 22) + _hand_parents(21, 37)),
    "smplx": (10475, SMPL_BODY_PARENTS + [15, 15, 15] + _hand_parents(20, 25) + _hand_parents(21, 40)),
    "mano": (778, [-1] + _hand_parents(0, 1)),
}


def _synthetic_model(path, kind: str, betas: int = 20, vertices: int | None = None, **extra) -> None:
    """A random model with the array layout of an official file of this type (or with its own vertex count), and
    any extra arrays."""
    official, parents = SYNTHETIC[kind]
    vertices = vertices or official
    rng = np.random.default_rng(0)
    joints = len(parents)
    weights = np.zeros((vertices, joints))
    weights[np.arange(vertices), rng.integers(0, joints, vertices)] = 1.0
    arrays = {"v_template": rng.normal(size=(vertices, 3)), "f": rng.integers(0, vertices, (2 * vertices, 3)),
              "shapedirs": 1e-3 * rng.normal(size=(vertices, 3, betas)), "weights": weights,
              "posedirs": np.zeros((vertices, 3, 9 * (joints - 1))), "J_regressor": weights.T / weights.sum(0)[:, None],
              "kintree_table": np.array([parents, range(joints)])}
    if kind == "smplx":
        arrays.update(lmk_faces_idx=np.zeros(51, dtype=np.int64), lmk_bary_coords=np.full((51, 3), 1 / 3))
    np.savez(path, **arrays, **extra)


class TestOtherModelTypes:
    @pytest.mark.parametrize("kind, posable", [("smplh", 22), ("smplx", 22), ("mano", 16)])
    def test_builds_and_poses(self, tmp_path, kind, posable):
        path = tmp_path / f"{kind}.npz"
        _synthetic_model(path, kind)
        body = load_body(path, model_type=kind)
        assert body.model_type == kind and body.num_pose_joints == posable
        pose = torch.zeros(2, posable, 3)
        pose[1, 1, 0] = 1.0
        out = body(betas=torch.zeros(2, 10), pose=pose)
        assert out.vertices.shape == (2, SYNTHETIC[kind][0], 3)
        assert not torch.allclose(out.vertices[0], out.vertices[1])
        if kind != "mano":
            hands = torch.zeros(2, 30, 3)
            hands[1, 29, 0] = 1.0  # the right thumb's last joint
            out = body(hand_pose=hands)
            assert not torch.allclose(out.vertices[0], out.vertices[1])
        else:
            with pytest.raises(ValueError, match="is a MANO model, which has no hand_pose"):
                body(hand_pose=torch.zeros(1, 30, 3))

    def test_smplh_of_its_own_topology_needs_landmarks(self, tmp_path):
        landmarks = {"landmark_names": np.array(LANDMARK_NAMES), "landmark_vertex_ids": np.arange(len(LANDMARK_NAMES))}
        _synthetic_model(tmp_path / "own.npz", "smplh", vertices=3000, **landmarks)
        body = load_body(tmp_path / "own.npz", model_type="smplh")
        out = body()
        assert out.joints.shape == (1, 52 + len(LANDMARK_NAMES), 3)
        torch.testing.assert_close(out.joints[0, 52:], out.vertices[0, :len(LANDMARK_NAMES)])  # the file's landmarks
        _synthetic_model(tmp_path / "bare.npz", "smplh", vertices=3000)
        with pytest.raises(ModelFileError, match="52 joints like SMPL-H but 3000 vertices instead of 6890 and no "
                                                 "landmark_names"):
            load_body(tmp_path / "bare.npz")
        _synthetic_model(tmp_path / "short.npz", "smplh", vertices=3000, landmark_names=np.array(LANDMARK_NAMES[:-1]),
                         landmark_vertex_ids=np.arange(len(LANDMARK_NAMES) - 1))
        with pytest.raises(ModelFileError, match="must give a vertex id below 3000 .*; rpinky missing"):
            load_body(tmp_path / "short.npz")
        _synthetic_model(tmp_path / "far.npz", "smplh", vertices=3000, landmark_names=np.array(LANDMARK_NAMES),
                         landmark_vertex_ids=np.full(len(LANDMARK_NAMES), 3000))
        with pytest.raises(ModelFileError, match="must give a vertex id below 3000"):
            load_body(tmp_path / "far.npz")

    def test_type_mismatch(self, tmp_path):
        _synthetic_model(tmp_path / "smplh.npz", "smplh")
        with pytest.raises(ModelFileError, match="is a SMPL-H model .*not SMPL-X"):
            load_body(tmp_path / "smplh.npz", model_type="smplx")
