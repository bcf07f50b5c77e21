"""Alerts into pages: webhook payloads, their auth, and the handler that pages.

Above paging (it opens, updates and resolves pages through the pager) and below the
Slack layer and the runtime (which posts, and serves the ``/hooks`` routes).
"""
