"""``python -m cayley``: the ``cayley`` command."""

import sys

from cayley.cli import main

if __name__ == "__main__":
    sys.exit(main())
