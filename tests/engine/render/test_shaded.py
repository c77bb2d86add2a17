"""The flat-shaded mesh picture: coverage where the mesh is, the nearest face wins, bad shapes refused."""
import pytest
import torch

from engine.render.shaded import shade_mesh

BACKGROUND, COLOUR = (10, 20, 30), (200, 200, 200)


def square(z: float, half: float = 0.5) -> tuple[torch.Tensor, torch.Tensor]:
    vertices = torch.tensor([[-half, -half, z], [half, -half, z], [half, half, z], [-half, half, z]])
    return vertices, torch.tensor([[0, 1, 2], [0, 2, 3]])


def test_square_covers_its_pixels():
    vertices, faces = square(0.0)
    picture = shade_mesh(vertices, faces, (40, 40), (0.0, 0.0), 2.0, COLOUR, BACKGROUND)
    assert picture.shape == (40, 40, 3) and picture.dtype == torch.uint8
    covered = (picture != torch.tensor(BACKGROUND, dtype=torch.uint8)).any(-1)
    assert covered[10:30, 10:30].all() and not covered[:9].any() and not covered[31:].any()


def test_nearest_face_wins():
    near, faces = square(0.5, half=0.25)
    far, _ = square(-0.5)
    both = torch.cat([faces, faces + 4])
    tilted = near.clone()
    tilted[:, 2] += tilted[:, 0]  # a darker (tilted) face in front
    shaded_front = shade_mesh(torch.cat([far, tilted]), both, (40, 40), (0.0, 0.0), 2.0, COLOUR, BACKGROUND)
    alone = shade_mesh(far, faces, (40, 40), (0.0, 0.0), 2.0, COLOUR, BACKGROUND)
    assert not torch.equal(shaded_front[20, 20], alone[20, 20])  # the centre shows the nearer, tilted face
    assert torch.equal(shaded_front[2 + 5, 5], alone[7, 5])  # outside it, the far square


def test_bad_shapes():
    with pytest.raises(ValueError, match=r"vertices \(V, 3\)"):
        shade_mesh(torch.zeros(4, 2), torch.zeros(2, 3, dtype=torch.long), (8, 8), (0, 0), 1.0, COLOUR, BACKGROUND)
