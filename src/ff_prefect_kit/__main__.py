"""`python -m ff_prefect_kit`: the `ff-prefect-kit` command."""

import sys

from ff_prefect_kit.cli import main

sys.exit(main())
