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

# The Cancel button on a scheduled send's post (value: the audit id).
CANCEL_SCHEDULED = "sms_cancel_scheduled"
CANCEL_SCHEDULED_BLOCK = "sms_cancel_scheduled_block"

# The App Home's buttons (the Home's Acknowledge reuses ACK_PAGE).
HOME_SEND_FORM = "sms_home_send_form"
HOME_COVER = "sms_home_cover"
HOME_HAND_BACK = "sms_home_hand_back"
HOME_PAGE = "sms_home_page"
HOME_PAGE_MODAL = "sms_home_page_modal"
HOME_PAGE_ROTATION_BLOCK = "home_page_rotation_block"
HOME_PAGE_ROTATION_SELECT = "home_page_rotation_select"
HOME_PAGE_TEXT_BLOCK = "home_page_text_block"
HOME_PAGE_TEXT_INPUT = "home_page_text_input"
HOME_PAGE_CHANNEL_BLOCK = "home_page_channel_block"
HOME_PAGE_CHANNEL_SELECT = "home_page_channel_select"

# Workflow Builder custom steps (the opt-in manifest: `sms-bot manifest --workflow-steps`).
STEP_SEND_SMS = "send_sms"
STEP_PAGE_ONCALL = "page_oncall"
#: The step Workflow Builder runs to fill ``page_oncall``'s rotation menu.
STEP_LIST_ROTATIONS = "list_rotations"

# The Resolve and Escalate buttons beside Acknowledge (value: the page id).
RESOLVE_PAGE = "sms_resolve_page"
ESCALATE_PAGE = "sms_escalate_page"
# An alert's link buttons (generator, silence, dashboard, runbook): links only.
ALERT_LINK_PREFIX = "sms_alert_link_"
