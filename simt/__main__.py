"""``python -m simt``: the ``simt`` command."""

import sys

from .cli import main

sys.exit(main())
