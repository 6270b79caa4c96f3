import sys

from seedsmetrics.cli import main

sys.exit(main())
