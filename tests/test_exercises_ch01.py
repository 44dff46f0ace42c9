"""Chapter 1 exercises: answers written as a student would write them pass, and each known mistake, written here as
a student would write it, is caught and named."""
import torch

from ddim_teach.exercises import check

from _exercise_helpers import named


def test_student_solutions_pass():
    assert check("alpha_bar_from_betas", lambda b: torch.cumprod(1 - b, dim=0)).ok
    assert check("q_sample", lambda x0, ab, e: ab.sqrt() * x0 + (1 - ab).sqrt() * e).ok
    assert check("snr", lambda b: torch.cumprod(1 - b, 0) / (1 - torch.cumprod(1 - b, 0))).ok


# ---- alpha_bar_from_betas
def test_alpha_bar_mistakes():
    def cumprod_betas(betas):
        return betas.cumprod(0)

    def one_step_alpha(betas):
        return 1.0 - betas

    def off_by_one(betas):
        out = torch.ones_like(betas)
        for t in range(1, len(betas)):
            out[t] = out[t - 1] * (1 - betas[t - 1])
        return out

    def first_order(betas):
        return 1 - betas.cumsum(0)

    def amplitude(betas):
        return torch.sqrt(torch.cumprod(1 - betas, 0))

    assert named("alpha_bar_from_betas", cumprod_betas) == "cumprod_betas"
    assert named("alpha_bar_from_betas", one_step_alpha) == "alpha_bar_from_betas_alpha_for_alpha_bar"
    assert named("alpha_bar_from_betas", off_by_one) == "shifted"
    assert named("alpha_bar_from_betas", first_order) == "one_minus_cumsum"
    assert named("alpha_bar_from_betas", amplitude) == "alpha_bar_from_betas_sqrt"
    assert "dtype" in check("alpha_bar_from_betas", lambda b: torch.cumprod(1 - b, 0).float()).message


# ---- q_sample
def test_q_sample_mistakes():
    assert named("q_sample", lambda x0, ab, e: ab * x0 + (1 - ab) * e) == "q_sample_no_sqrt"
    assert named("q_sample", lambda x0, ab, e: torch.sqrt(1 - ab) * x0 + torch.sqrt(ab) * e) \
        == "q_sample_coefficients_swapped"
    assert named("q_sample", lambda x0, ab, e: ab ** 0.5 * x0 + (1 - ab ** 0.5) * e) == "amplitude_complement"
    assert named("q_sample", lambda x0, ab, e: ab.sqrt() * x0 + e) == "unscaled_noise"
    assert named("q_sample", lambda x0, ab, e: x0 + (1 - ab).sqrt() * e) == "unscaled_signal"
    # something else that is wrong is caught without a name
    assert named("q_sample", lambda x0, ab, e: ab.sqrt() * x0 - (1 - ab).sqrt() * e) is None


# ---- snr
def test_snr_mistakes():
    def ab(b):
        return torch.cumprod(1 - b, 0)

    assert named("snr", lambda b: ab(b)) == "alpha_bar_only"
    assert named("snr", lambda b: (1 - ab(b)) / ab(b)) == "inverted"
    assert named("snr", lambda b: torch.sqrt(ab(b) / (1 - ab(b)))) == "amplitude"
    assert named("snr", lambda b: (1 - b) / b) == "snr_alpha_for_alpha_bar"
