"""`python -m bot` is the same program as `sms-bot`."""

from bot.cli.main import main

raise SystemExit(main())
