"""`python -m tui_chat` is the same program as the `tui-chat` command."""

import sys

from tui_chat.cli import main

sys.exit(main())
