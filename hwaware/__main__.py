"""``python -m hwaware``: the ``hwaware`` command (:func:`hwaware.cli.main`), for an environment whose scripts folder
is not on ``PATH``."""
import sys

from hwaware.cli import main

sys.exit(main())
