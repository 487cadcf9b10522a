"""``python -m dbcode``: the command line of :mod:`dbcode.book.cli`."""

import sys

from dbcode.book.cli import main

if __name__ == "__main__":
    sys.exit(main())
