import imageio.v3 as iio
import numpy as np
import pytest

from engine.images import ImageError, load_silhouette, save_silhouette


def test_round_trip_and_channel_layouts(tmp_path):
    silhouette = np.zeros((32, 32), np.float32)
    silhouette[8:20, 5:25] = 1
    save_silhouette(tmp_path / "grey.png", silhouette)
    assert np.array_equal(load_silhouette(tmp_path / "grey.png"), silhouette)
    rgb = np.repeat((silhouette * 200).astype(np.uint8)[..., None], 3, axis=2)
    iio.imwrite(tmp_path / "rgb.png", rgb)
    assert np.array_equal(load_silhouette(tmp_path / "rgb.png"), silhouette)
    rgba = np.concatenate([rgb, (silhouette * 255).astype(np.uint8)[..., None]], axis=2)
    iio.imwrite(tmp_path / "rgba.png", rgba)
    assert np.array_equal(load_silhouette(tmp_path / "rgba.png"), silhouette)


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("missing.png", None, "no such observation"),
        ("garbage.png", b"definitely not a png", "cannot read"),
        ("notes.txt", b"text", "must be"),
        ("wide.png", np.full((32, 48), 255, np.uint8), "square"),
        ("empty.png", np.zeros((32, 32), np.uint8), "empty"),
        ("tiny.png", np.full((8, 8), 255, np.uint8), "at least 16"),
    ],
)
def test_bad_observations(tmp_path, name, content, message):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        iio.imwrite(path, content)
    with pytest.raises(ImageError, match=message) as error:
        load_silhouette(path)
    assert name in str(error.value)


def test_save_to_missing_directory(tmp_path):
    with pytest.raises(ImageError, match="does not exist"):
        save_silhouette(tmp_path / "nowhere" / "obs.png", np.zeros((4, 4)))
