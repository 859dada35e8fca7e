import sys

from talentfed.cli.main import main

sys.exit(main())
