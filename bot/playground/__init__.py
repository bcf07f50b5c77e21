"""``sms-bot playground``: the real app on 127.0.0.1 with a local Slack and simulated phones.

The Bolt app, its WSGI wrapper and the signature check are production's own
(:mod:`bot.runtime`); only the outside world is replaced: :mod:`.slack_api` stands in
for the Slack Web API and the Slack client, :mod:`.octopush_sim` for the Octopush
gateway and the phones. Nothing here reaches the network beyond 127.0.0.1.
"""
