"""The jpeg problem: clean or JPEG inputs, shapes, metrics and the built-in scene."""
import numpy as np
import pytest
import torch

from engine.problems.jpeg.codec import roundtrip_batch
from engine.problems.jpeg.images import LoadedImage
from engine.problems.jpeg.problem import JpegConfig, image_tensor, make_problem
from engine.problems.jpeg.scene import procedural_scene

from .conftest import textured_image


def test_the_built_in_scene_is_fixed_by_its_seed_and_has_blocks_to_show():
    scene = procedural_scene(64, seed=3)
    assert scene.shape == (64, 64) and scene.dtype == np.float32 and 0 <= scene.min() and scene.max() <= 1
    np.testing.assert_array_equal(scene, procedural_scene(64, seed=3))
    assert not np.array_equal(scene, procedural_scene(64, seed=4))
    assert procedural_scene(32, colour=True).shape == (32, 32, 3)


@pytest.mark.parametrize("colour", [False, True])
def test_a_clean_image_is_compressed_at_the_configured_quality(device, colour):
    image = LoadedImage(textured_image(48, 40, colour=True), None, "t.png")
    problem = make_problem(JpegConfig(quality=20, colour=colour), image, device, batch_size=2)
    channels = 3 if colour else 1
    assert problem.shape == (channels, 48, 40) and problem.batch_size == 2 and problem.quality == 20
    truth = problem.sample_ground_truth(torch.Generator())
    assert truth.shape == (2, channels * 48 * 40) and truth.device.type == device.type
    observation = problem.forward(truth)
    torch.testing.assert_close(observation, roundtrip_batch(problem.clean, 20))
    torch.testing.assert_close(problem.initial_estimate(), observation.flatten(1))
    assert problem.loaded_observation() is None


def test_an_opened_jpeg_is_the_observation_at_its_own_quality():
    image = LoadedImage(textured_image(32, 32, colour=True), 37, "photo.jpg")
    problem = make_problem(JpegConfig(quality=10), image)
    assert problem.quality == 37 and problem.clean is None
    torch.testing.assert_close(problem.loaded_observation(), image_tensor(image.pixels, False))
    with pytest.raises(ValueError, match="its clean image is unknown"):
        problem.sample_ground_truth(torch.Generator())
    again = make_problem(JpegConfig(quality=10, file_quality=False), image)
    assert again.quality == 10 and again.loaded_observation() is None


def test_metrics_psnr_ssim_and_gain_against_the_clean_image():
    problem = make_problem(JpegConfig(quality=10, scene_size=64), None, batch_size=2)
    truth = problem.sample_ground_truth(torch.Generator())
    observation = problem.forward(truth)
    exact = problem.metrics(truth, problem.forward(truth), observation, truth)
    assert torch.all(exact["psnr"] == 100.0) and torch.allclose(exact["ssim"], torch.ones(2))
    jpeg = problem.metrics(observation.flatten(1), problem.forward(observation.flatten(1)), observation, truth)
    assert torch.all(jpeg["psnr"] < 40) and torch.allclose(jpeg["psnr_gain"], torch.zeros(2))
    assert torch.all(exact["psnr_gain"] > 10)
    assert set(problem.metrics(truth, observation, observation, None)) == {"jpeg_psnr"}


def test_energy_is_the_mean_squared_jpeg_residual_in_grey_levels():
    problem = make_problem(JpegConfig(scene_size=32), None)
    observation = torch.zeros(1, 1, 32, 32)
    prediction = torch.full((1, 1, 32, 32), 2 / 255)
    torch.testing.assert_close(problem.energy(prediction, observation, None), torch.tensor([4.0]))


def test_estimates_of_the_wrong_size_are_refused():
    problem = make_problem(JpegConfig(scene_size=32), None)
    with pytest.raises(ValueError, match=r"shape \(B, 1024\) for 1x32x32 images, got \(1, 10\)"):
        problem.forward(torch.zeros(1, 10))


def test_grey_from_colour_is_the_bt601_luma():
    pixels = np.zeros((2, 2, 3), np.float32)
    pixels[..., 1] = 1.0
    np.testing.assert_allclose(image_tensor(pixels, False).numpy(), np.full((1, 1, 2, 2), 150 / 255), rtol=1e-6)
    assert image_tensor(pixels[..., 0], True).shape == (1, 3, 2, 2)


@pytest.mark.parametrize("values", [{"quality": 0}, {"quality": 101}, {"scene_size": 8}])
def test_settings_out_of_range_are_refused(values):
    with pytest.raises(ValueError, match="--(quality|scene-size)"):
        JpegConfig(**values)
