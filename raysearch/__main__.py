import sys

from raysearch.cli import main

sys.exit(main())
