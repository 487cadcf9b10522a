"""Bad input is refused before any simulation starts, with a message saying what to do."""

import re

import numpy as np
import pytest

from dbcode.data import load_dataset
from dbcode.data.mnist import load_mnist
from dbcode.data.natural import load_scenes
from dbcode.model.params import ParameterError, preset
from dbcode.model.simulate import train
from dbcode.run.jobs import Job, run_network

GOOD = np.random.default_rng(0).random((20, 64))


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"variant": "hebbian"}, "unknown variant 'hebbian'; choose one of sb, db"),
        ({"tau": -10.0}, "tau must be a positive finite number"),
        ({"dt": 0.0}, "dt must be a positive finite number"),
        ({"eta_F": -1e-4}, "eta_F must be a non-negative number"),
        ({"eta_W": float("nan")}, "eta_W must be a non-negative number"),
        ({"rho": 2000.0}, "at most one spike per step: lower rho or dt"),
        ({"n_z": 0}, "n_z must be a positive integer"),
        ({"fade": 1.5}, "fade is a fraction"),
        ({"t_present": 100.5}, "not a whole number of steps"),
        ({"variant": "db-slow", "init": "zero"}, "cannot start from F = 0: use init='small'"),
        ({"phases": (("everything", 10),)}, "phases entries are (what, presentations)"),
        ({"n_test_eval": 5000}, "exceeds the test set"),
    ],
)
def test_impossible_parameters(overrides, message):
    with pytest.raises(ParameterError, match=re.escape(message)):
        preset("bars", "ci", **overrides)


def test_unknown_parameter_name_lists_valid_names():
    with pytest.raises(ParameterError, match=r"unknown parameter\(s\) \['eta_f'\]; valid names"):
        preset("bars", "ci", eta_f=1e-3)


def test_unknown_experiment_and_scale():
    with pytest.raises(ParameterError, match="unknown experiment 'faces'"):
        preset("faces")
    with pytest.raises(ParameterError, match="unknown scale 'huge'; choose one of ci, paper"):
        preset("bars", "huge")
    with pytest.raises(ValueError, match="bars"):
        load_dataset("faces", n_train=1, n_test=1, seed=0)


@pytest.mark.parametrize(
    "train_images, test_images, message",
    [
        (GOOD[:, :10].ravel(), GOOD, "must be a 2-D array"),
        (GOOD, GOOD[:, :32], "have 32 inputs per image but the network has 64"),
        (np.where(GOOD > 0.9, np.nan, GOOD), GOOD, "contain NaN or infinite values"),
        (GOOD[:0], GOOD, "is empty"),
    ],
)
def test_bad_input_arrays(train_images, test_images, message):
    p = preset("bars", "ci", n_presentations=10, n_test_eval=5, n_test=5)
    with pytest.raises(ParameterError, match=message):
        train(p, train_images, test_images, seed=0, progress=False)


def test_bad_parameters_fail_before_simulation(monkeypatch):
    """A sweep job with an impossible parameter fails when it is built, not in numba."""
    import dbcode.model.simulate as simulate

    def boom(*args, **kwargs):
        raise AssertionError("simulation started")

    monkeypatch.setattr(simulate.kernels, "run_presentations", boom)
    with pytest.raises(ParameterError, match="rho"):
        run_network(Job("bars", overrides={"rho": 5000.0}))


def test_missing_data_files_say_how_to_get_them(tmp_path):
    with pytest.raises(FileNotFoundError, match="download_mnist"):
        load_mnist(10, 10, seed=0, source="idx", cache_dir=tmp_path)
    with pytest.raises(FileNotFoundError, match="download_images_mat"):
        load_scenes(10, 10, seed=0, source="images_mat", cache_dir=tmp_path)


def test_invalid_bar_correlation():
    with pytest.raises(ValueError, match="c"):
        load_dataset("bars", n_train=5, n_test=5, seed=0, c=1.5)
