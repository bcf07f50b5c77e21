"""Every Slack callback_id, block_id and action_id the app uses, in one place.

Handlers, builders, the manifest and the tests import these names; nothing else
spells them out.
"""

from __future__ import annotations

COMMAND = "/sms"

# Shortcuts (also in manifest.yml).
GLOBAL_SHORTCUT = "sms_open_form"
MESSAGE_SHORTCUT = "sms_send_message"

# The send form.
SMS_MODAL = "sms_modal"
RECIPIENTS_BLOCK = "recipients_block"
RECIPIENTS_INPUT = "recipients_input"
PEOPLE_BLOCK = "people_block"
PEOPLE_SELECT = "people_select"
TEXT_BLOCK = "text_block"
TEXT_INPUT = "text_input"
PREVIEW_BLOCK = "preview_block"
SENDER_BLOCK = "sender_block"
SENDER_INPUT = "sender_input"
TYPE_BLOCK = "type_block"
TYPE_SELECT = "type_select"
PURPOSE_BLOCK = "purpose_block"
PURPOSE_SELECT = "purpose_select"
SEND_AT_BLOCK = "send_at_block"
SEND_AT_PICKER = "send_at_picker"
OPTIONS_BLOCK = "options_block"
OPTIONS_CHECKBOXES = "options_checkboxes"
OPTION_REPLIES = "with_replies"
OPTION_SIMULATION = "simulation"
CHANNEL_BLOCK = "channel_block"
CHANNEL_SELECT = "channel_select"

# The confirmation step shown above SMS_CONFIRM_ABOVE.
CONFIRM_MODAL = "sms_confirm_modal"
# What the form shows between its submission and the end of the checks, then "sending".
CHECKING_MODAL = "sms_checking_modal"
# The problems found after the ack, shown on top of the form given back.
PROBLEMS_BLOCK = "problems_block"

#: Which modal block shows the problems of each SendDraft field.
FIELD_BLOCKS = {
    "recipients": RECIPIENTS_BLOCK,
    "text": TEXT_BLOCK,
    "sender": SENDER_BLOCK,
    "sms_type": TYPE_BLOCK,
    "purpose": PURPOSE_BLOCK,
    "send_at": SEND_AT_BLOCK,
}

# Buttons of the confirmation asked for a large `/sms RECIPIENTS MESSAGE`.
CONFIRM_SEND = "sms_confirm_send"
CANCEL_SEND = "sms_cancel_send"

# Buttons of the question asked when a command's recipients/message split is ambiguous.
SEND_AS_SHOWN = "sms_send_as_shown"
SEND_CERTAIN = "sms_send_certain"
OPEN_FORM_PREFILLED = "sms_open_form_prefilled"

# The Acknowledge button on a page post (value: the page id).
ACK_PAGE = "sms_ack_page"
# The Resolve and Escalate buttons beside Acknowledge (value: the page id).
RESOLVE_PAGE = "sms_resolve_page"
ESCALATE_PAGE = "sms_escalate_page"
# An alert's link buttons (generator, silence, dashboard, runbook): links only.
ALERT_LINK_PREFIX = "sms_alert_link_"
