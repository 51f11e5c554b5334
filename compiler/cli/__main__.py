import sys

from tessera.compiler.cli import main

sys.exit(main())
