"""python -m liblane: the lanectl command."""

import sys

from .lanectl import main

sys.exit(main())
