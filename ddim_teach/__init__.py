"""ddim_teach: the companion package of the DDPM/DDIM course.

Modules, one idea each: ``schedules`` (betas, alpha_bars, the forward process, timestep lists),
``samplers`` (DDIM and DDPM steps, one loop, inversion, slerp), ``oracles`` (exact eps-predictors),
``unet`` (the compact U-Net), ``data`` (MNIST offline), ``train``, ``checkpoint``, ``classifier``,
``metrics``, ``pretrained``, ``bench``, ``viz`` (plots for the notebooks), ``explorer`` (the η / steps /
spacing / seed widget: cache, background worker, figure, widget), ``ode`` (the probability-flow ODE: DDIM
as Euler, Heun), ``diagnose`` (the "samples are only noise" checklist) and ``pitfalls`` (deliberately broken
updates for the clinic notebook). Notebook 2's math: ``derivations``
(SymPy: DDPM's posterior by Bayes' rule, Algorithm 2, the ELBO's weights), ``elbo`` (L_simple and the loss per
timestep) and ``tweedie`` (score, Tweedie's formula, how x0_hat magnifies the model's error).

Notation: ``alphas`` is DDPM's alpha_t; ``alpha_bars`` is DDPM's alpha_bar_t, the DDIM paper's alpha_t.
"""
__version__ = "0.1.0"
