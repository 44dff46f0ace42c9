"""ddim_teach: the companion package of the DDPM/DDIM course.

Modules, one idea each: ``schedules`` (betas, alpha_bars, the forward process, timestep lists),
``samplers`` (DDIM and DDPM steps, one loop, inversion, slerp), ``oracles`` (exact eps-predictors),
``unet`` (the compact U-Net), ``data`` (MNIST offline), ``train``, ``checkpoint``, ``classifier``,
``metrics``, ``pretrained``, ``bench``, ``viz`` (plots and widgets for the notebooks).

Notation: ``alphas`` is DDPM's alpha_t; ``alpha_bars`` is DDPM's alpha_bar_t, the DDIM paper's alpha_t.
"""
__version__ = "0.1.0"
