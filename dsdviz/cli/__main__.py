"""``python -m dsdviz.cli`` (and ``torchrun -m dsdviz.cli``): the ``dsdviz`` command."""

import sys

from . import main

sys.exit(main())
