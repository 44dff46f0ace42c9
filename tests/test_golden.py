"""The samplers give, bit for bit, the tensors they gave before the package's core was redesigned.

tests/golden/ holds, for fixed seeds, the shipped weights and three exact oracles, what the old ``samplers.sample``
and ``samplers.ddim_invert`` returned (written by ``tests/_golden_cases.py``): small tensors as they were, the
large trajectories (x_t, x0_hat, eps_hat, z of every step) as SHA-256 of their bytes. Noise order included:
a sampler that drew its z in another order, or an extra time, would change the hashes.
"""
import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

import _golden_cases as G
from ddim_teach import samplers
from ddim_teach.denoiser import Denoiser

HERE = Path(__file__).parent / "golden"
SMALL = load_file(str(HERE / "samplers.safetensors"))
HASHES = json.loads((HERE / "samplers_sha256.json").read_text())


def _sample(model, schedule, x_T, prediction_type="epsilon", clip_sample=False, **kw):
    if prediction_type != "epsilon" or clip_sample:
        model = Denoiser(model, schedule, prediction_type, clip_sample=clip_sample)
    return G._traj(samplers.sample(model, schedule, x_T, **kw))


def _invert(model, schedule, x0, **kw):
    inv = samplers.ddim_invert(model, schedule, x0, **kw)
    return {"final": inv.x_T, "timesteps": inv.timesteps, "nfe": torch.tensor(inv.nfe)}


@pytest.fixture(scope="module")
def inputs():
    threads = torch.get_num_threads()
    torch.set_num_threads(2)  # the thread count the file was written with (FIELD-NOTES: it changes low bits)
    model, s, x_T = G.inputs()
    yield model, s, x_T, samplers.sample(model, s, x_T, steps=20).final  # a clean image to invert
    torch.set_num_threads(threads)


def _compare(name, got):
    for key, want in SMALL.items():
        case, field = key.split("/")
        if case != name or field not in got:
            continue
        assert got[field].dtype == want.dtype and torch.equal(got[field], want), f"{name}: {field} differs"
    for key, want in HASHES.items():
        case, field = key.split("/")
        if case == name:
            assert G.digest(got[field]) == want, f"{name}: {field} differs"
    assert any(k.startswith(name + "/") for k in SMALL), name


CASES = G.cases(_sample, _invert)


@pytest.mark.parametrize("name", list(CASES))
def test_shipped_model_runs_are_bit_identical(inputs, name):
    model, s, x_T, x0 = inputs
    _compare(name, CASES[name](model, s, x_T, x0))


@pytest.mark.parametrize("name", list(G.oracle_cases(_sample)))
def test_oracle_runs_are_bit_identical(inputs, name):
    _, s, x_T, _ = inputs
    _compare(name, G.oracle_cases(_sample)[name](s, x_T.double()))
