"""`python -m bot` is the same program as `sms-bot`."""

from bot.cli import main

raise SystemExit(main())
