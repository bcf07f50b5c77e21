"""A small Octopush SMS API v1 client: typed models, typed errors, safe retries.

It imports nothing from the rest of ``bot``, so it can be published on its own.
"""

from .callbacks import CallbackEvent as CallbackEvent
from .callbacks import CallbackParseError as CallbackParseError
from .callbacks import DeliveryReceipt as DeliveryReceipt
from .callbacks import DeliveryStatus as DeliveryStatus
from .callbacks import InboundReply as InboundReply
from .callbacks import OptOut as OptOut
from .callbacks import describe_status as describe_status
from .callbacks import is_ack_word as is_ack_word
from .callbacks import is_stop_word as is_stop_word
from .callbacks import parse_callback as parse_callback
from .client import DEFAULT_BASE_URL as DEFAULT_BASE_URL
from .client import OctopushClient as OctopushClient
from .codes import CODES as CODES
from .codes import CodeInfo as CodeInfo
from .codes import hint_for as hint_for
from .errors import OctopushAPIError as OctopushAPIError
from .errors import OctopushAuthenticationError as OctopushAuthenticationError
from .errors import OctopushBatchError as OctopushBatchError
from .errors import OctopushConnectionError as OctopushConnectionError
from .errors import OctopushDuplicateRequestError as OctopushDuplicateRequestError
from .errors import OctopushError as OctopushError
from .errors import OctopushRateLimitError as OctopushRateLimitError
from .errors import OctopushResponseError as OctopushResponseError
from .errors import OctopushValidationError as OctopushValidationError
from .models import MAX_RECIPIENTS_PER_REQUEST as MAX_RECIPIENTS_PER_REQUEST
from .models import Balance as Balance
from .models import Purpose as Purpose
from .models import Recipient as Recipient
from .models import SmsCampaign as SmsCampaign
from .models import SmsCampaignResult as SmsCampaignResult
from .models import SmsType as SmsType
from .voice import VoiceCampaign as VoiceCampaign
from .voice import VoiceCampaignResult as VoiceCampaignResult
from .voice import voice_language as voice_language
