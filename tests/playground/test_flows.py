"""The real app in the playground, end to end without a browser: what a person does on
the page reaches the bot signed, and what the bot does shows in the channel and phones."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from typing import Any

from tests.playground.conftest import Running, text_of, wait_for


def post_ticket(post: dict[str, Any]) -> str:
    found = re.search(r"sms_[0-9a-f]+", text_of(post))
    assert found is not None
    return found.group(0)


def _public(running: Running) -> list[dict[str, Any]]:
    return [m for m in running.messages() if not m["ephemeral"]]


def _phone(running: Running, number: str) -> list[dict[str, Any]]:
    phones = {p["number"]: p for p in running.state()["phones"]}
    return list(phones.get(number, {}).get("messages", []))


def test_a_quick_send_reaches_the_phone_and_the_receipt_updates_the_post(
    running: Running,
) -> None:
    running.ui("message", user="U0ALICE", channel="C0OPS", text="/sms @bob Disk full")
    post = wait_for(lambda: _public(running))[0]
    assert "sms_" in text_of(post)
    received = wait_for(lambda: _phone(running, "+33600000002"))
    assert received[0]["text"] == "Disk full" and received[0]["sender"] == "Playground"
    updated = wait_for(
        lambda: [m for m in _public(running) if "delivered" in text_of(m)], timeout=15
    )
    assert updated[0]["ts"] == post["ts"] and updated[0]["edited"]
    # `sms-bot audit`, run with no settings in the same folder, shows the send.
    environment = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "OCTOPUSH_", "SMS_")) and k != "DATABASE_URL"
    }
    shown = subprocess.run(
        [sys.executable, "-m", "bot", "audit", "--format", "json"],
        cwd=running.started.audit_file.parent,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    records = json.loads(shown.stdout)
    assert [(r["status"], r["recipients"]) for r in records] == [
        ("sent", ["+33600000002"])
    ]
    assert records[0]["sms_ticket"] == post_ticket(post)


def test_a_page_acknowledged_by_sms_says_so_in_the_thread(running: Running) -> None:
    octopush = running.playground.octopush
    assert octopush is not None
    running.ui(
        "message", user="U0BOB", channel="C0OPS", text="/sms page db-oncall DB down"
    )
    wait_for(lambda: _phone(running, "+33600000001"))  # alice is on call this week
    running.ui("phone-reply", number="+33600000001", text="ACK")
    thread = wait_for(
        lambda: [
            m
            for m in _public(running)
            if m["thread_ts"] and "acknowledged" in text_of(m).lower()
        ]
    )
    page_post = [m for m in _public(running) if m["ts"] == thread[0]["thread_ts"]][0]
    assert "db-oncall" in text_of(page_post)


def test_a_person_not_allowed_to_send_is_told_and_nothing_is_sent(
    running: Running,
) -> None:
    running.ui("message", user="U0CAROL", channel="C0OPS", text="/sms @bob hello")
    refusal = wait_for(
        lambda: [m for m in running.messages("U0CAROL") if "allowed" in text_of(m)]
    )
    assert refusal[0]["ephemeral"]
    assert running.messages("U0ALICE") == []
    assert running.state()["phones"] == []


def test_the_form_previews_unicode_and_shows_errors_under_their_field(
    running: Running,
) -> None:
    running.ui("shortcut", user="U0ALICE", callback_id="sms_open_form")
    view = wait_for(lambda: running.state()["views"])[0]["view"]
    values = {
        "recipients_block": {
            "recipients_input": {"type": "plain_text_input", "value": "+3312"}
        },
        "text_block": {"text_input": {"type": "plain_text_input", "value": "Hi 😀"}},
        "channel_block": {
            "channel_select": {
                "type": "conversations_select",
                "selected_conversation": "C0OPS",
            }
        },
    }
    action = {
        "type": "plain_text_input",
        "action_id": "text_input",
        "block_id": "text_block",
        "value": "Hi 😀",
    }
    running.ui(
        "view-action", user="U0ALICE", view_id=view["id"], action=action, values=values
    )
    wait_for(lambda: "Unicode" in text_of(running.state()["views"][0]["view"]))
    running.ui("view-submit", user="U0ALICE", view_id=view["id"], values=values)
    errors = running.state()["views"][0]["errors"]
    assert "recipients_block" in errors
    assert running.state()["phones"] == []


def test_an_octopush_error_chosen_on_the_page_is_posted(running: Running) -> None:
    running.ui("octopush", fail_next="104")
    running.ui("message", user="U0ALICE", channel="C0OPS", text="/sms @bob hello")
    failed = wait_for(lambda: [m for m in running.messages() if "104" in text_of(m)])
    assert failed
    assert running.state()["phones"] == []
    assert running.state()["octopush"]["fail_next"] is None


def test_stop_from_a_phone_opts_the_number_out(running: Running) -> None:
    running.ui("message", user="U0ALICE", channel="C0OPS", text="/sms @bob hello")
    post = wait_for(lambda: _public(running))[0]
    running.ui("phone-reply", number="+33600000002", text="STOP")
    note = wait_for(
        lambda: [m for m in _public(running) if "STOP" in text_of(m) and m["thread_ts"]]
    )
    assert note[0]["thread_ts"] == post["ts"]
    running.ui("message", user="U0ALICE", channel="C0OPS", text="/sms @bob again")
    wait_for(
        lambda: [m for m in running.messages() if "opted out" in text_of(m).lower()]
    )
    assert len(_phone(running, "+33600000002")) == 2  # hello, and the phone's STOP
