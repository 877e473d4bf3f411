"""Run the sandbox: ``python -m sandbox --port 8081 --token 123:ABC``."""

import sys

from sandbox.cli import main

if __name__ == "__main__":
    sys.exit(main())
