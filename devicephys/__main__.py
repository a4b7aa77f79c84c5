"""``python -m devicephys`` runs the command line."""

import sys

from devicephys.cli import main

sys.exit(main())
