"""IlluminationProblem: forward shapes, physics sanity, shadows against the Lambertian renderer, gradients, the
energy's minimum, metrics, light parsing and placement, ground truth and rotations, config checks, subsets."""
from __future__ import annotations

import pytest
import torch
import trimesh

from engine.meshes import mesh_from_trimesh
from engine.problems.illumination import IlluminationConfig, IlluminationProblem
from engine.problems.illumination.meshes import resolve_lit_mesh, wound_outwards
from engine.problems.illumination.problem import hemisphere_lights, parse_light, random_rotations

SIZE = 64
LIGHTS = ("directional", "point")


def unit(*rows: tuple[float, float, float]) -> torch.Tensor:
    x = torch.tensor(rows, dtype=torch.float32)
    return x / x.norm(dim=1, keepdim=True)


@pytest.fixture(scope="module")
def car():
    return resolve_lit_mesh("car-1")


@pytest.fixture(scope="module")
def sphere():
    """A convex mesh: it casts no shadow on itself."""
    return wound_outwards(mesh_from_trimesh(trimesh.creation.icosphere(subdivisions=3), "icosphere"))


def problem_for(mesh, light: str = "directional", batch: int = 2, device: torch.device | str = "cpu",
                **config) -> IlluminationProblem:
    config = IlluminationConfig(light=light, **{"image_size": SIZE, **config})
    return IlluminationProblem.for_meshes(mesh, config=config, device=device, batch_size=batch)


@pytest.mark.parametrize("light", LIGHTS)
def test_forward_shapes_and_range(car, light, device):
    problem = problem_for(car, light, batch=3, device=device)
    x = unit((0.3, 0.4, 0.8), (-0.5, 0.2, 0.6), (0.0, -0.7, 0.7)).to(device)
    image = problem.forward(x)
    assert image.shape == (3, SIZE, SIZE, 3) and image.dtype == torch.float32 and image.device.type == device.type
    assert image.min() >= 0.0 and image.max() <= 1.0 and image.mean() > 0.02
    assert torch.equal(image[..., 0], image[..., 1]) and torch.equal(image[..., 1], image[..., 2])  # grey
    rendered = problem.forward_differentiable(x)
    assert rendered.shape == (3, SIZE, SIZE, 3) and rendered.device.type == device.type
    assert rendered.min() >= 0.0 and rendered.max() <= 1.0
    assert not torch.equal(image[0], image[1])  # each item has its own light


def test_render_depth_is_positive_on_the_object(car):
    problem = problem_for(car, batch=1)
    colour, depth = problem.render(unit((0.2, 0.3, 0.9)))
    assert depth.shape == (1, SIZE, SIZE)
    covered = depth > 0
    assert 0.05 < covered.float().mean() < 0.8
    config = problem.config
    assert depth[covered].min() >= config.distance - config.object_radius - 1e-3
    assert depth[covered].max() <= config.distance + config.object_radius + 1e-3
    near = torch.nn.functional.max_pool2d(covered.float()[:, None], 3, 1, 1)[:, 0] > 0
    assert (colour[~near] == 0).all()  # black background, but for anti-aliased edges
    assert colour[covered].mean() > 0.1
    # The differentiable renderer's visibility is the same silhouette up to anti-aliased edges.
    assert (problem.surface().mask == covered).float().mean() > 0.98


@pytest.mark.parametrize("light", LIGHTS)
def test_lit_from_the_camera_side_is_brighter_than_from_behind(sphere, light):
    problem = problem_for(sphere, light, batch=2)
    front, behind = problem.forward(torch.tensor([[0.0, 0.0, 1.0], [0.0, 0.0, -1.0]]))
    covered = problem.render(torch.tensor([[0.0, 0.0, 1.0]] * 2))[1][0] > 0
    assert front[covered].mean() > behind[covered].mean() + 0.3
    # From behind the visible half sees the ambient light only: albedo * ambient, gamma-encoded.
    ambient = (problem.config.albedo * problem.config.ambient) ** (1 / 2.2)
    assert behind[covered].median().item() == pytest.approx(ambient, abs=0.02)


@pytest.mark.parametrize("light", LIGHTS)
def test_the_lambertian_renderer_agrees_with_pyrender_where_no_shadow_falls(sphere, light):
    problem = problem_for(sphere, light, batch=3)
    x = unit((0.3, 0.4, 0.8), (-0.5, 0.2, 0.6), (0.6, -0.6, 0.5))
    observed, differentiable = problem.forward(x), problem.forward_differentiable(x)
    difference = (observed - differentiable).abs()
    assert difference.mean() < 0.03  # anti-aliased edges, 8-bit quantisation and pyrender's Fresnel term
    assert difference.flatten(1).mean(1).max() < 0.05


def test_shadows_make_pyrender_differ_from_the_lambertian_renderer(car):
    problem = problem_for(car, batch=1)
    x = unit((0.9, 0.3, 0.3))  # grazing: the car's body shadows parts of itself
    observed, differentiable = problem.forward(x), problem.forward_differentiable(x)
    covered = problem.surface().mask[..., None].expand_as(observed)
    darker = (differentiable - observed)[covered]
    assert (darker > 0.1).float().mean() > 0.01  # shadowed pixels: lit in the Lambertian image only
    assert (observed - differentiable).abs().mean() < 0.05


@pytest.mark.parametrize("light", LIGHTS)
def test_forward_differentiable_gradient_matches_finite_differences(car, light):
    problem = problem_for(car, light, batch=2, image_size=32)
    x = unit((0.3, 0.4, 0.8), (-0.5, 0.2, 0.6)).double().requires_grad_(True)
    weights = torch.rand(2, 32, 32, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda light: (problem.forward_differentiable(light) * weights).sum(), (x,),
                                    eps=1e-6, atol=1e-5, rtol=1e-4)


def test_other_light_kind_through_forward_differentiable(car):
    problem = problem_for(car, "directional", batch=1)
    x = unit((0.3, 0.4, 0.8))
    point = problem_for(car, "point", batch=1).forward_differentiable(x)
    assert torch.equal(problem.forward_differentiable(x, light="point"), point)
    assert not torch.equal(problem.forward_differentiable(x), point)


def test_point_lights_near_and_far_render_in_one_batch(car):
    """A far light's narrow spot cone, then a near light's wide one (the renderer reuses its light node)."""
    problem = problem_for(car, "point", batch=3)
    image = problem.forward(torch.tensor([[0.0, 0.0, 2.0], [0.0, 0.0, 0.6], [0.3, 0.0, 0.9]]))
    assert torch.isfinite(image).all() and image.shape == (3, SIZE, SIZE, 3)
    assert image[1].mean() > image[0].mean()  # nearer is brighter (1 / distance^2)


def test_energy_is_smallest_at_the_truth_along_a_line(car):
    problem = problem_for(car, batch=1)
    truth = unit((0.3, 0.4, 0.8))
    observation = problem.forward(truth)
    direction = unit((1.0, -0.5, 0.0))
    steps = torch.linspace(-0.4, 0.4, 9)
    xs = truth + steps[:, None] * direction
    lines = IlluminationProblem.for_meshes(problem.meshes[0], config=problem.config, batch_size=len(steps))
    pyrender_energy = lines.energy(lines.forward(xs), observation.expand(len(steps), -1, -1, -1), xs)
    lambertian_energy = lines.energy(lines.forward_differentiable(xs), observation.expand(len(steps), -1, -1, -1),
                                     xs)
    assert int(pyrender_energy.argmin()) == 4 and pyrender_energy[4] == pytest.approx(0.0, abs=1e-7)
    assert abs(int(lambertian_energy.argmin()) - 4) <= 1  # no shadows: near the truth, not necessarily on it
    assert pyrender_energy[0] > 10 * pyrender_energy[3] and pyrender_energy[-1] > 10 * pyrender_energy[5]
    assert (pyrender_energy[:4].diff() < 0).all() and (pyrender_energy[4:].diff() > 0).all()


def test_energy_prior_keeps_the_light_on_the_unit_sphere(car):
    problem = problem_for(car, batch=2, prior_weight=0.5)
    image = torch.zeros(2, SIZE, SIZE, 3)
    energy = problem.energy(image, image, torch.tensor([[0.0, 0.0, 1.0], [0.0, 0.0, 3.0]]))
    assert energy.tolist() == pytest.approx([0.0, 0.5 * 4.0])


def test_metrics(car):
    problem = problem_for(car, batch=3, outlier_distance=0.35)
    truth = unit((0.0, 0.0, 1.0), (0.0, 0.0, 1.0), (0.0, 0.0, 1.0))
    x = torch.tensor([[0.0, 0.0, 1.0], [0.0, 0.3, 1.0], [1.0, 0.0, 0.0]])
    rendering = torch.zeros(3, SIZE, SIZE, 3)
    observation = rendering.clone()
    observation[1] = 0.5
    metrics = problem.metrics(x, rendering, observation, truth)
    assert set(metrics) == {"image_rmse", "mse", "angle_error_deg", "outlier"}
    assert metrics["image_rmse"].tolist() == pytest.approx([0.0, 0.5, 0.0])
    assert metrics["mse"].tolist() == pytest.approx([0.0, 0.09 / 3, 2.0 / 3])
    assert metrics["angle_error_deg"].tolist() == pytest.approx([0.0, 16.699, 90.0], abs=1e-2)
    assert metrics["outlier"].tolist() == [0.0, 0.0, 1.0]  # 0.3 < 0.35 < sqrt(2)
    strict = problem_for(car, batch=3, outlier_distance=0.25).metrics(x, rendering, observation, truth)
    assert strict["outlier"].tolist() == [0.0, 1.0, 1.0]
    assert set(problem.metrics(x, rendering, observation, None)) == {"image_rmse"}


def test_parse_light():
    assert parse_light("0.1, 0.2,0.97")[0].tolist() == pytest.approx([0.1, 0.2, 0.97])
    assert parse_light("0,0,-1").shape == (1, 3)  # behind the object is allowed: only inside is not
    with pytest.raises(ValueError, match="is not 3 comma-separated numbers"):
        parse_light("a,b,c")
    with pytest.raises(ValueError, match="has 2 numbers; give 3"):
        parse_light("1,2")
    with pytest.raises(ValueError, match="NaN or infinite"):
        parse_light("nan,0,1")
    with pytest.raises(ValueError, match="NaN or infinite"):
        parse_light("inf,0,1")
    with pytest.raises(ValueError, match="inside the object"):
        parse_light("0,0,0.3")
    with pytest.raises(ValueError, match="inside the object"):
        parse_light("0,0,0.6", IlluminationConfig(object_radius=0.8))
    assert parse_light("0,0,0.6", IlluminationConfig(object_radius=0.2)).shape == (1, 3)


def test_placed_lights_moves_an_estimate_out_of_the_object(car):
    problem = problem_for(car, batch=3)
    clearance = problem.config.min_light_distance
    placed = problem.placed_lights(torch.tensor([[0.0, 0.1, 0.0], [0.0, 0.0, 0.0], [0.3, 0.4, 1.2]]))
    assert placed[0].tolist() == pytest.approx([0.0, clearance, 0.0])
    assert placed[1].tolist() == pytest.approx([0.0, 0.0, clearance])  # no direction: towards the camera
    assert placed[2].tolist() == pytest.approx([0.3, 0.4, 1.2])  # outside: unchanged
    inside = problem.forward(torch.tensor([[0.0, 0.1, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.2]]))
    assert torch.isfinite(inside).all()
    assert torch.equal(inside[1], inside[2])  # both placed at (0, 0, clearance)


def test_hemisphere_lights_lie_on_the_camera_side_of_the_unit_sphere():
    lights = hemisphere_lights(500, torch.Generator().manual_seed(0))
    assert lights.shape == (500, 3) and (lights[:, 2] > 0).all()
    assert torch.allclose(lights.norm(dim=1), torch.ones(500), atol=1e-6)
    assert lights[:, 0].min() < -0.9 and lights[:, 0].max() > 0.9 and lights[:, :2].mean(0).abs().max() < 0.1


def test_random_rotations_are_rotations():
    rotations = random_rotations(100, torch.Generator().manual_seed(0))
    assert rotations.shape == (100, 3, 3)
    assert torch.allclose(rotations @ rotations.transpose(1, 2), torch.eye(3).expand(100, 3, 3), atol=1e-5)
    assert torch.allclose(torch.linalg.det(rotations), torch.ones(100), atol=1e-5)


def test_ground_truth_and_initial_estimate(car, device):
    problem = problem_for(car, batch=4, device=device)
    truth = problem.sample_ground_truth(torch.Generator().manual_seed(3))
    assert truth.shape == (4, 3) and truth.device.type == device.type and (truth[:, 2] > 0).all()
    assert problem.initial_estimate().tolist() == [[0.0, 0.0, 1.0]] * 4


def test_config_checks():
    with pytest.raises(ValueError, match="--light 'spot': choose one of directional, point"):
        IlluminationConfig(light="spot")
    with pytest.raises(ValueError, match="image"):
        IlluminationConfig(image_size=8)
    assert IlluminationConfig(light="point").lighting().kind == "point"
    assert IlluminationConfig().min_light_distance == pytest.approx(0.55)


def test_bad_estimates_and_problems(car):
    problem = problem_for(car, batch=2)
    with pytest.raises(ValueError, match=r"must have shape \(B, 3\)"):
        problem.forward(torch.zeros(2, 4))
    with pytest.raises(ValueError, match="3 estimates for a batch of 2 problems"):
        problem.forward_differentiable(torch.ones(3, 3))
    with pytest.raises(ValueError, match="at least one mesh"):
        IlluminationProblem((), torch.zeros(0, 3, 3))
    with pytest.raises(ValueError, match="expected 2 object rotations"):
        IlluminationProblem((car, car), torch.eye(3)[None])


def test_subset(car, sphere):
    rotations = random_rotations(3, torch.Generator().manual_seed(1))
    problem = IlluminationProblem.for_meshes([car, sphere, car], rotations, IlluminationConfig(image_size=SIZE))
    x = unit((0.3, 0.4, 0.8), (-0.5, 0.2, 0.6), (0.0, -0.7, 0.7))
    part = problem.subset(torch.tensor([2, 1]))
    assert part.batch_size == 2 and part.meshes == (car, sphere) and torch.equal(part.rotations, rotations[[2, 1]])
    assert torch.equal(part.forward(x[[2, 1]]), problem.forward(x)[[2, 1]])
    assert torch.allclose(part.forward_differentiable(x[[2, 1]]), problem.forward_differentiable(x)[[2, 1]])
