"""The shipped weights make recognisable digits: checked by distance to real digits, not confidence alone."""
import pytest
import torch

from ddim_teach import bench, data, metrics, samplers
from ddim_teach.pretrained import load_classifier, load_pretrained


@pytest.fixture(scope="module")
def shipped():
    return load_pretrained(), load_classifier()


@pytest.fixture(scope="module")
def real():
    """(train, held-out) real digits in random order, disjoint: the benchmark's own sampling."""
    te, tr = bench.real_sets(999)
    return tr, te


def test_classifier_is_accurate_on_held_out_digits(shipped):
    _, clf = shipped
    x, y = data.load_mnist("test", source="bundled")
    acc = (clf(data.to_tensor(x)).argmax(1) == torch.from_numpy(y).long()).float().mean().item()
    assert acc > 0.97 and acc == pytest.approx(clf.heldout_accuracy, abs=1e-6)


@pytest.mark.slow
def test_samples_are_digits(shipped, real):
    (model, schedule), clf = shipped
    tr, te = real
    n = 192   # DDIM S = 20: FD 30.9 against a floor of 32.4 and 78 % confident (S = 50: 27.5 and 80 %, at 2.4x the time)
    x_T = torch.randn(n, 1, 28, 28, generator=torch.Generator().manual_seed(123))
    x = samplers.sample(model, schedule, x_T, steps=20, eta=0.0, spacing="trailing",
                        record_every=None, progress=False).final
    fd = metrics.mnist_fd(clf, x, te[:n])
    floor = metrics.mnist_fd(clf, tr[:n], te[:n])
    noise_fd = metrics.mnist_fd(clf, torch.randn(n, 1, 28, 28).clamp(-1, 1), te[:n])
    probs = metrics.probabilities(clf, x)
    hist = metrics.class_histogram(probs)
    print(f"MNIST-FD {fd:.1f}, floor {floor:.1f}, noise {noise_fd:.1f}, confident {metrics.confidence(probs):.2f}, "
          f"classes {hist.tolist()}")
    assert fd < 3 * floor, (fd, floor)
    assert noise_fd > 10 * fd  # the metric separates noise from digits
    assert metrics.confidence(probs) > 0.75
    assert (hist > 0).all() and hist.max() < 3 * n / 10  # all ten digits, none dominating


@pytest.mark.slow
def test_untrained_model_fails_the_bar(shipped, real):
    """The same check on an untrained U-Net must fail, or the test above proves nothing."""
    from ddim_teach.unet import UNet
    (_, schedule), clf = shipped
    tr, te = real
    torch.manual_seed(0)
    x = samplers.sample(UNet().eval(), schedule, torch.randn(64, 1, 28, 28), steps=10,
                        record_every=None, progress=False).final
    assert metrics.mnist_fd(clf, x, te[:64]) > 3 * metrics.mnist_fd(clf, tr[:64], te[:64])


def test_frechet_distance_against_closed_form():
    # two Gaussians with diagonal covariances: FD = |mu1-mu2|^2 + sum (s1 - s2)^2
    g = torch.Generator().manual_seed(0)
    a = torch.randn(200_000, 3, generator=g, dtype=torch.float64) * torch.tensor([1.0, 2.0, 0.5])
    b = torch.randn(200_000, 3, generator=g, dtype=torch.float64) * torch.tensor([1.5, 1.0, 0.5]) + 1.0
    expect = 3 * 1.0 + (0.5 ** 2 + 1.0 ** 2 + 0.0)
    assert metrics.frechet_distance(a, b) == pytest.approx(expect, abs=0.05)
    assert metrics.frechet_distance(a, a) == pytest.approx(0.0, abs=1e-9)
