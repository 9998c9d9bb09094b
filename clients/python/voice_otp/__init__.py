"""voice-otp's Python client: calls a phone, reads it a code, checks the code the user typed.

    from voice_otp import VoiceOtpClient

    otp = VoiceOtpClient("https://otp.internal.example.com", api_key=os.environ["VOICE_OTP_API_KEY"])
    challenge = otp.request_auth("+14155550123")
    result = otp.validate_auth(challenge_id=challenge.id, code="471903")
    if result.approved: ...

Standard library only. Failures raise VoiceOtpError or one of its subclasses; a wrong code
is a Validation with ``approved`` False, not an exception.
"""

from ._version import __version__
from .client import TimeLike, VoiceOtpClient
from .errors import (
    CarrierError,
    InvalidNumberError,
    RateLimitedError,
    ServiceUnavailableError,
    UnauthorizedError,
    VoiceOtpError,
)
from .models import (
    Call,
    CallEvent,
    Challenge,
    ChallengeEvent,
    ChallengePage,
    ChallengeStatus,
    ChallengeView,
    DenialReason,
    EventType,
    Service,
    ServiceSettings,
    ServiceWebhook,
    SigningKey,
    Stats,
    StatsCounts,
    StatsGroup,
    Validation,
)

__all__ = [
    "__version__",
    "VoiceOtpClient",
    "TimeLike",
    "VoiceOtpError",
    "RateLimitedError",
    "InvalidNumberError",
    "UnauthorizedError",
    "CarrierError",
    "ServiceUnavailableError",
    "Challenge",
    "Validation",
    "DenialReason",
    "ChallengeView",
    "ChallengeStatus",
    "Call",
    "CallEvent",
    "ChallengeEvent",
    "ChallengePage",
    "Stats",
    "StatsCounts",
    "StatsGroup",
    "Service",
    "ServiceSettings",
    "ServiceWebhook",
    "SigningKey",
    "EventType",
]
