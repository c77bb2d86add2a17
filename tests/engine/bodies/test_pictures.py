import numpy as np
import pytest
import torch

from engine.bodies.pictures import (BACKGROUND, BOX_ABOVE, BOX_BELOW, RAMP_MM, TARGET_RGB, error_legend_mm,
                                    fitted_body_views, keypoint_error_legend, keypoints_view, vertex_error_colours)
from engine.bodies.skeleton import JOINT_INDEX, NUM_JOINTS, PARENTS
from engine.colour_ramp import ERROR_RGB

SIZE = (160, 260)  # (H, W): two views of 130 x 160



@pytest.fixture(scope="module")
def posed(default_body):
    """pose (axis-angle (24, 3)) -> (vertices, joints) NumPy of the default body, 1 m off the origin."""
    def pose(rotations: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        with torch.no_grad():
            out = default_body(pose=rotations[None], transl=torch.tensor([[0.3, 0.9, -1.0]]))
        return out.vertices[0].double().numpy(), out.joints[0, :NUM_JOINTS].double().numpy()
    return pose


@pytest.fixture(scope="module")
def rest(posed):
    return posed(torch.zeros(NUM_JOINTS, 3))


@pytest.fixture(scope="module")
def faces(default_body):
    return default_body.faces.numpy()


def _red(image: np.ndarray) -> np.ndarray:
    rgb = image.astype(int)
    return (rgb[..., 0] > 140) & (rgb[..., 0] - rgb[..., 1] > 90) & (rgb[..., 0] - rgb[..., 2] > 90)


def _green(image: np.ndarray) -> np.ndarray:
    rgb = image.astype(int)
    return (rgb[..., 1] - rgb[..., 0] > 50) & (rgb[..., 1] - rgb[..., 2] > 50)


def test_vertex_error_colours_follow_the_ramp():
    colours = vertex_error_colours(np.array([0.0, 25.0, 50.0, 100.0, 500.0]))
    assert colours.dtype == np.uint8 and colours.shape == (5, 3)
    assert [tuple(c) for c in colours[[0, 2, 3, 4]]] == [*ERROR_RGB, ERROR_RGB[-1]]  # clipped beyond 100 mm
    assert ERROR_RGB[0][0] < colours[1][0] < ERROR_RGB[1][0]  # between green and yellow
    assert error_legend_mm() == [("0 mm", ERROR_RGB[0]), ("50 mm", ERROR_RGB[1]), (">= 100 mm", ERROR_RGB[2])]
    assert [label for label, _ in keypoint_error_legend()] == ["0", "0.05", ">= 0.1"]
    assert RAMP_MM == (0.0, 50.0, 100.0)


@pytest.mark.usefixtures("gl")
class TestFittedBodyViews:
    def test_shape_and_two_views(self, rest, faces):
        vertices, joints = rest
        image = fitted_body_views(vertices, faces, joints, PARENTS, size=SIZE)
        assert image.shape == (*SIZE, 3) and image.dtype == np.uint8
        body = np.abs(image.astype(int) - BACKGROUND).sum(-1) > 30
        half = SIZE[1] // 2
        for view in (body[:, :half], body[:, half + 2:]):
            assert 0.05 < view.mean() < 0.6
        assert not _red(image).any() and not _green(image).any()  # skin without the truth

    def test_error_colouring(self, posed, rest, faces):
        vertices, joints = rest
        exact = fitted_body_views(vertices, faces, joints, PARENTS, vertices, size=SIZE)
        assert _green(exact).sum() > 500 and not _red(exact).any()
        pose = torch.zeros(NUM_JOINTS, 3)
        pose[JOINT_INDEX["left_shoulder"], 2] = 0.9  # the left arm raised
        raised, raised_joints = posed(pose)
        off = fitted_body_views(raised, faces, raised_joints, PARENTS, vertices, size=SIZE)
        red = _red(off)[:, : SIZE[1] // 2]  # front view: the body's left is on the image's right
        assert red.sum() > 15
        assert np.flatnonzero(red.any(axis=0)).min() > SIZE[1] // 4 + 5
        assert (np.abs(off.astype(int) - exact).sum(-1) > 30).mean() > 0.01

    def test_framing_follows_the_pelvis(self, rest, faces):
        vertices, joints = rest
        image = fitted_body_views(vertices, faces, joints, PARENTS, vertices, size=SIZE)
        for shift in ((2.0, -1.0, 5.0), (1e4, 3e3, -2e4)):
            moved = fitted_body_views(vertices + shift, faces, joints + shift, PARENTS, vertices + shift, size=SIZE)
            assert np.abs(moved.astype(int) - image).mean() < 0.5

    def test_skeleton_drawn_over_the_mesh(self, rest, faces):
        vertices, joints = rest
        height, view_width = SIZE[0], SIZE[1] // 2
        middle = 0.5 * (joints[JOINT_INDEX["left_hip"]] + joints[JOINT_INDEX["left_knee"]]) - joints[0]
        scale = height / (BOX_BELOW + BOX_ABOVE)
        column, row = round(view_width / 2 + middle[0] * scale), round((BOX_ABOVE - middle[1]) * scale)
        with_bones = fitted_body_views(vertices, faces, joints, PARENTS, size=SIZE)
        joints_only = fitted_body_views(vertices, faces, joints, [-1] * NUM_JOINTS, size=SIZE)
        assert with_bones[row, column].astype(int).sum() < 250  # dark bone over the thigh
        assert joints_only[row, column].astype(int).sum() > 350  # the thigh itself is lit skin

    def test_truth_silhouette_behind_the_fit(self, posed, rest, faces):
        vertices, joints = rest
        pose = torch.zeros(NUM_JOINTS, 3)
        pose[JOINT_INDEX["left_shoulder"], 2] = 0.9
        raised, raised_joints = posed(pose)
        alone = fitted_body_views(raised, faces, raised_joints, PARENTS, size=SIZE)
        with_truth = fitted_body_views(raised, faces, raised_joints, PARENTS, vertices, size=SIZE)
        empty = (np.abs(alone.astype(int) - BACKGROUND).sum(-1) < 10)
        bluish = (with_truth[..., 2].astype(int) - with_truth[..., 0] > 15)
        assert (empty & bluish).sum() > 30  # the truth's lowered arm where the fit is not

    @pytest.mark.parametrize("which", ["vertices", "joints", "truth"])
    def test_nan_is_refused(self, rest, faces, which):
        vertices, joints = rest
        arrays = {"vertices": vertices.copy(), "joints": joints.copy(), "truth": vertices.copy()}
        arrays[which][3, 1] = np.nan
        with pytest.raises(ValueError, match="NaN"):
            fitted_body_views(arrays["vertices"], faces, arrays["joints"], PARENTS, arrays["truth"], size=SIZE)

    @pytest.mark.parametrize("change, message", [
        (dict(faces=np.zeros((2, 4), np.int64)), "faces must have shape"),
        (dict(faces=np.array([[0, 1, 10 ** 6]])), "faces must lie in"),
        (dict(faces=np.zeros((0, 3), np.int64)), "at least one triangle"),
        (dict(parents=PARENTS[:-1]), "parents must have shape"),
        (dict(truth_vertices=np.zeros((5, 3))), "truth_vertices must have shape"),
        (dict(size=(10, 200)), "size"),
    ])
    def test_bad_input(self, rest, faces, change, message):
        vertices, joints = rest
        arguments = dict(vertices=vertices, faces=faces, joints=joints, parents=PARENTS, truth_vertices=None,
                         size=SIZE) | change
        with pytest.raises(ValueError, match=message):
            fitted_body_views(**arguments)


def _keypoints() -> tuple[np.ndarray, np.ndarray]:
    target = np.array([[0.0, 0.0, 1.0], [0.0, 0.6, 1.0], [0.5, 0.6, 0.5], [-0.5, -0.6, 1.0]])
    return target, target[:, :2].copy()


class TestKeypointsView:
    def test_shape_and_v_up(self):
        target, estimate = _keypoints()
        image = keypoints_view(target, estimate, [-1, 0, 1, 0], size=(160, 200))
        assert image.shape == (160, 200, 3) and image.dtype == np.uint8
        scale = 160 / 2.2
        top = image[round(80 - 0.6 * scale), round(100)]  # (0, 0.6): above the centre
        assert _green(top[None])[0]

    def test_error_colours_estimates(self):
        target, estimate = _keypoints()
        estimate[1] += (0.3, 0.0)
        image = keypoints_view(target, estimate, [(0, 1), (1, 2), (0, 3)], size=(200, 200))
        scale = 200 / 2.2
        moved = image[round(100 - 0.6 * scale), round(100 + 0.3 * scale)]
        assert _red(moved[None])[0]
        assert _green(image[100, 100][None])[0]  # (0, 0) is where its target is

    def test_dropped_keypoints_drawn_hollow(self):
        target, estimate = _keypoints()
        estimate[3] = (0.9, 0.9)  # away from its target
        kept = keypoints_view(target, estimate, [-1, 0, 1, 0], size=(200, 200))
        target[3, 2] = 0.0
        dropped = keypoints_view(target, estimate, [-1, 0, 1, 0], size=(200, 200))
        scale = 200 / 2.2
        row, column = round(100 + 0.6 * scale), round(100 - 0.5 * scale)
        assert np.abs(kept[row, column].astype(int) - TARGET_RGB).sum() < 30  # a filled grey dot
        assert np.abs(dropped[row, column].astype(int) - BACKGROUND).sum() < 10  # hollow
        ring = dropped[row - 6:row + 7, column - 6:column + 7].astype(int)
        assert (np.abs(ring - TARGET_RGB).sum(-1) < 60).sum() > 5
        assert not np.array_equal(kept, dropped)

    def test_confidence_sets_opacity(self):
        target, estimate = _keypoints()
        estimate[2] = (-0.9, -0.9)
        scale = 200 / 2.2
        row, column = round(100 - 0.6 * scale), round(100 + 0.5 * scale)
        contrast = []
        for confidence in (0.2, 1.0):
            target[2, 2] = confidence
            image = keypoints_view(target, estimate, [], size=(200, 200))
            contrast.append(np.abs(image[row, column].astype(int) - BACKGROUND).sum())
        assert 10 < contrast[0] < contrast[1]

    @pytest.mark.parametrize("target, estimate, skeleton, message", [
        (np.zeros((4, 2)), np.zeros((4, 2)), [], "target must have shape"),
        (np.zeros((4, 3)), np.zeros((3, 2)), [], "estimate must have shape"),
        (np.full((4, 3), np.nan), np.zeros((4, 2)), [], "NaN"),
        (np.zeros((4, 3)), np.zeros((4, 2)), [-1, 0, 1], "parents_of_keypoints must have shape"),
        (np.zeros((4, 3)), np.zeros((4, 2)), [(0, 4)], "edges must lie in"),
    ])
    def test_bad_input(self, target, estimate, skeleton, message):
        with pytest.raises(ValueError, match=message):
            keypoints_view(target, estimate, skeleton)
