"""``python -m firth`` (and ``torchrun ... -m firth``): the ``firth`` command line."""

import sys

from firth.cli import entry

sys.exit(entry())
