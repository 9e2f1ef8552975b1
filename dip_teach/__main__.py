"""``python -m dip_teach denoise|inpaint|superres ...``: see :mod:`dip_teach.cli`."""
import sys

from .cli import main

sys.exit(main())
