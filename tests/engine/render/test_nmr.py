import pytest
import torch

from engine.render.nmr import rasterize_silhouette_nmr

# A 10x10 pixel square from two triangles, in a 32x32 image.
SQUARE = torch.tensor([[[10.0, 10.0], [20.0, 10.0], [20.0, 20.0], [10.0, 20.0]]])
SQUARE_FACES = torch.tensor([[0, 1, 2], [0, 2, 3]])


def render(uv, faces=SQUARE_FACES, size=32, depth=None):
    depth = torch.full(uv.shape[:2], 2.0, dtype=uv.dtype, device=uv.device) if depth is None else depth
    return rasterize_silhouette_nmr(uv, depth, faces.to(uv.device), size, size)


def test_square_covers_its_pixels(device):
    image = render(SQUARE.to(device))
    assert image.device.type == device.type
    assert image.shape == (1, 32, 32)
    assert image.sum().item() == 100
    assert image[0, 10:20, 10:20].all()


def test_batch_with_per_item_faces_and_padding():
    uv = torch.cat([SQUARE, SQUARE + 5.0])
    faces = torch.stack([SQUARE_FACES, torch.tensor([[0, 1, 2], [0, 0, 0]])])  # second item: one face + padding
    image = render(uv, faces)
    assert image.shape == (2, 32, 32)
    assert image[0].sum() == 100 and 40 <= image[1].sum() <= 60


def test_faces_behind_near_plane_are_not_drawn():
    depth = torch.tensor([[2.0, 2.0, 2.0, 0.01]])
    # Only face (0, 1, 2) is drawn: 45 pixel centres below the diagonal and the 10 on it.
    assert render(SQUARE, depth=depth).sum() == 55


def test_gradient_pulls_square_towards_target(device):
    target = render(SQUARE.to(device) + torch.tensor([3.0, -2.0], device=device))
    uv = SQUARE.clone().to(device).requires_grad_(True)
    loss = (render(uv) - target).square().sum()
    loss.backward()
    total = uv.grad.sum(dim=1)[0]
    assert total[0] < 0 and total[1] > 0  # descent moves right (+u) and up (-v)


def test_gradient_shrinks_when_target_is_smaller():
    centre = SQUARE.mean(dim=1, keepdim=True)
    target = render(centre + (SQUARE - centre) * 0.6)
    uv = SQUARE.clone().requires_grad_(True)
    (render(uv) - target).square().sum().backward()
    outward = ((SQUARE - centre) * uv.grad).sum()
    assert outward > 0  # descent (minus the gradient) moves corners inwards


def test_descent_recovers_a_screen_translation():
    target = render(SQUARE + torch.tensor([2.5, 1.5]))
    offset = torch.zeros(1, 1, 2, requires_grad=True)
    optimizer = torch.optim.Adam([offset], lr=0.2)
    for _ in range(60):
        optimizer.zero_grad()
        (render(SQUARE + offset) - target).square().sum().backward()
        optimizer.step()
    assert torch.allclose(offset.detach().view(2), torch.tensor([2.5, 1.5]), atol=0.6)


@pytest.mark.parametrize(
    "uv, faces, message",
    [
        (torch.zeros(1, 4, 3), SQUARE_FACES, r"\(B, V, 2\)"),
        (SQUARE, torch.tensor([[0, 1, 7]]), "face indices"),
        (SQUARE, torch.zeros(2, 3), "integer"),
        (SQUARE, torch.zeros(3, 2, 3, dtype=torch.long), r"\(F, 3\) or \(B, F, 3\)"),
    ],
)
def test_bad_input_rejected(uv, faces, message):
    with pytest.raises(ValueError, match=message):
        rasterize_silhouette_nmr(uv, torch.ones(uv.shape[:2]), faces, 32, 32)
