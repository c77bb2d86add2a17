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


def _png_header(path, width, height):
    """A PNG whose header claims width x height and whose pixel data is missing: only a reader that checks the
    header before decoding can tell how large it is."""
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b""))
    return path


@pytest.mark.parametrize("side", [8000, 30000])
def test_too_large_image_is_refused_from_its_header(tmp_path, side):
    path = _png_header(tmp_path / "huge.png", side, side)
    with pytest.raises(ImageError, match="larger than the limit of 2048 pixels per side") as error:
        load_silhouette(path, max_size=2048)
    assert "valid PNG" not in str(error.value)
