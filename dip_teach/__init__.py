"""dip_teach: the helper package of a course on the Deep Image Prior.

Modules, in the order data flows through them:

- :mod:`dip_teach.settings`  run modes, device, budgets, seeds (one place decides sizes)
- :mod:`dip_teach.images`    load, save, crop, convert; the catalogue of ``data/``
- :mod:`dip_teach.operators` forward models y = A(x) + n: noise, masks, downsampling
- :mod:`dip_teach.metrics`   PSNR and SSIM
"""
__version__ = "0.1.0"
