"""``python -m app.cli``: how the launcher starts the hosted dashboard in window 0."""

import sys

from app.cli import main

sys.exit(main())
