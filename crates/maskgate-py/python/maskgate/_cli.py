"""The ``maskgate`` command installed with the package: the same command line as the binary."""

import sys

from . import _native


def main() -> None:
    sys.exit(_native.cli_main(["maskgate", *sys.argv[1:]]))


if __name__ == "__main__":
    main()
