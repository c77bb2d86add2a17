import pytest
import torch

from engine.render.softras import influence_radius_pixels, rasterize_silhouette_softras

SQUARE = torch.tensor([[[10.0, 10.0], [20.0, 10.0], [20.0, 20.0], [10.0, 20.0]]])
SQUARE_FACES = torch.tensor([[0, 1, 2], [0, 2, 3]])


def render(uv, faces=SQUARE_FACES, size=32, **options):
    depth = torch.full(uv.shape[:2], 2.0, dtype=uv.dtype, device=uv.device)
    return rasterize_silhouette_softras(uv, depth, faces.to(uv.device), size, size, **options)


def test_soft_square_is_a_blurred_hard_square(device):
    image = render(SQUARE.to(device))
    assert image.device.type == device.type and image.shape == (1, 32, 32)
    assert image.min() >= 0 and image.max() <= 1
    # Inside: 1, except on the shared diagonal, where each face gives D = 0.5 (SoftRas' own internal-edge seam).
    assert (image[0, 11:19, 11:19] >= 0.75 - 1e-6).all() and (image[0, 11:19, 11:19] > 0.99).sum() == 64 - 8
    assert image[0, 0, 0] == 0 and image[0, 15, 24] == 0  # beyond the influence radius
    assert ((image > 0.5).sum() - 100).abs() <= 8


def test_small_sigma_approaches_hard_silhouette():
    sharp = render(SQUARE, sigma=1e-7)
    assert ((sharp > 0.5).float().sum() - 100).abs() <= 2


def test_batch_shapes_with_padding():
    uv = torch.cat([SQUARE, SQUARE + 4.0, SQUARE - 3.0])
    faces = torch.stack([SQUARE_FACES, SQUARE_FACES, torch.zeros(2, 3, dtype=torch.long)])
    image = render(uv, faces)
    assert image.shape == (3, 32, 32)
    assert image[2].sum() == 0


def test_gradient_matches_finite_differences():
    generator = torch.Generator().manual_seed(0)
    uv = (SQUARE.double() + 0.37 * torch.rand(1, 4, 2, generator=generator, dtype=torch.float64)).requires_grad_()
    weights = torch.rand(1, 32, 32, generator=generator, dtype=torch.float64)

    def loss(points):
        return (render(points, sigma=3e-3, eps=1e-9) * weights).sum()

    assert torch.autograd.gradcheck(loss, (uv,), eps=1e-5, atol=1e-4, rtol=1e-3)


def test_influence_radius():
    assert influence_radius_pixels(1e-4, 1e-4, 128) == pytest.approx(1.94, abs=0.01)


@pytest.mark.parametrize("options", [{"sigma": 0.0}, {"eps": 0.7}])
def test_bad_settings_rejected(options):
    with pytest.raises(ValueError, match="sigma"):
        render(SQUARE, **options)


def test_bad_shapes_rejected():
    with pytest.raises(ValueError, match=r"\(B, V, 2\)"):
        rasterize_silhouette_softras(torch.zeros(4, 2), torch.ones(4), SQUARE_FACES, 32, 32)
