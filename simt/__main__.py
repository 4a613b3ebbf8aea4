"""``python -m simt``: the ``simt`` command (see :mod:`simt.cli`)."""

import sys

from .cli import main

sys.exit(main())
