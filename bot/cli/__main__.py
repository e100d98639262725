"""`python -m bot.cli` runs the `infrawire` command."""

import sys

from bot.cli import main

sys.exit(main())
