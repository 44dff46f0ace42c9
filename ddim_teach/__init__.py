"""ddim_teach: the companion package of the DDPM/DDIM course.

Read it from the bottom up. ``checks`` (argument checks) and ``formulas`` (every formula once, as a function
of alpha_bar) import nothing else; ``schedules`` (betas, alpha_bars, timestep lists) and ``denoiser`` (wraps a
model: prediction type, clipping, both eps_hat and x0_hat) build on them; ``samplers`` (the pure DDIM and DDPM
steps, one short loop per sampler with a callback, inversion and its norm shortfall, slerp) and ``ode`` (the probability-flow ODE:
DDIM as Euler, Heun) use those. Around them: ``oracles`` (exact eps-predictors), ``unet`` (the compact U-Net),
``data`` (MNIST offline), ``train``, ``classifier``, ``metrics``, ``pretrained``, ``bench``, ``viz`` (plots for
the notebooks), ``explorer`` (the η / steps / spacing / seed widget: cache, background worker, figure, widget),
``diagnose`` (the "samples are only noise" checklist), ``pitfalls`` (deliberately broken updates for the
clinic notebook) and ``mistakes`` (the catalogue of named mistakes that the clinic's broken updates and the
exercise checker, ``exercises``, share). Notebook 2's math: ``derivations`` (SymPy: DDPM's posterior by Bayes'
rule, Algorithm 2, the ELBO's weights), ``elbo`` (L_simple and the loss per timestep) and ``tweedie`` (score,
Tweedie's formula, how x0_hat magnifies the model's error, and x0_hat's error split into the blur of the exact
posterior mean over the training digits and the model's own speckle). ``_infra`` holds what is not math: atomic writes,
checkpoints, hashes, downloads.

Notation: ``alphas`` is DDPM's alpha_t; ``alpha_bars`` is DDPM's alpha_bar_t, the DDIM paper's alpha_t.
"""
__version__ = "0.1.0"
