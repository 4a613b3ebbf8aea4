"""``python -m simt``: the ``simt`` command (see :mod:`simt.cli`)."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
