"""How often the test servers' ``serve_forever`` loops look for a shutdown request."""

from __future__ import annotations

#: ``socketserver``'s default poll interval, 0.5 s, makes each ``shutdown()`` wait up to
#: half a second for the loop to notice: with a fake Slack and a served app per test,
#: about a second of teardown per test across the suite. Polling a socket every 10 ms
#: costs nothing measurable.
SHUTDOWN_POLL = 0.01
