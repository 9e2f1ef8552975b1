"""dip_teach: the helper package of a course on the Deep Image Prior.

Modules, in the order data flows through them:

- :mod:`dip_teach.settings`   run modes, device, budgets, seeds (one place decides sizes)
- :mod:`dip_teach.images`     load, save, crop, convert; the catalogue of ``data/`` and its training images
- :mod:`dip_teach.synthetic`  the images the kit draws itself (cartoon, texture)
- :mod:`dip_teach.operators`  forward models y = A(x) + n: noise, masks, downsampling
- :mod:`dip_teach.priors`     handcrafted priors (Tikhonov, TV, wavelets) and their minimiser
- :mod:`dip_teach.denoiser`   a learned prior: a small DnCNN (``python -m dip_teach.train_denoiser``)
- :mod:`dip_teach.nets`       generator networks: the paper's skip network, hourglass, Deep Decoder, a pixel-MLP control
- :mod:`dip_teach.architecture`  the skip network scale by scale: shapes, parameters, cost
- :mod:`dip_teach.fit`        the DIP loop: fit a network's weights to one corrupted image
- :mod:`dip_teach.stopping`   early stopping: oracle, fixed budget, ES-WMV
- :mod:`dip_teach.pretrain`   a warm start: generator weights meta-learned on a dataset (Reptile)
- :mod:`dip_teach.red`        DIP plus a denoiser's pull (DeepRED): a prior term handed to the fit, NLM or the DnCNN
- :mod:`dip_teach.classifier` AlexNet through torch's weight cache, or the kit's offline classifier
- :mod:`dip_teach.inversion`  feature inversion and activation maximisation: pixels, TV or a DIP
- :mod:`dip_teach.metrics`    PSNR (whole image, on missing pixels, on luminance; MSE to dB) and SSIM
- :mod:`dip_teach.evaluate`   how much fine detail an image has (no clean image needed)
- :mod:`dip_teach.spectral`   error per frequency band (structure before noise)
- :mod:`dip_teach.baselines`  TV, non-local means and the learned denoiser: against the DIP on one image, and over the test set
- :mod:`dip_teach.tables`     Markdown tables, the one way result objects print
- :mod:`dip_teach.plots`      one-line figures for notebooks
- :mod:`dip_teach.live`       widgets that watch a fit while it trains
- :mod:`dip_teach.progress`   tqdm progress bars for long work (fits, training, benchmarks)
- :mod:`dip_teach.exercises`  ``q.check()``, ``q.hint()``, ``q.hint(2)``, ``q.solution()``; how to write one
- :mod:`dip_teach.cli`        ``python -m dip_teach denoise|inpaint|superres ...``
"""
__version__ = "0.1.0"
