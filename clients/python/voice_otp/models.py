"""What the service answers, as typed values: one dataclass per schema of its OpenAPI document.

Fields keep the service's snake_case names; timestamps are timezone-aware ``datetime``s.
Each ``from_json`` reads the fields its class declares and ignores any other, so a newer
service that answers with more fields does not break an older client. A field added to
the service after a client version (``verification_token``) is optional here, so the
client works against services from before and after it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Mapping, TypedDict

ChallengeStatus = Literal["pending", "approved", "expired", "superseded", "failed", "too_many_attempts", "canceled"]
DenialReason = Literal["incorrect", "expired", "no_pending_challenge", "too_many_attempts", "locked"]
EventType = Literal[
    "call.answered",
    "call.unanswered",
    "call.machine",
    "challenge.approved",
    "challenge.expired",
    "challenge.too_many_attempts",
    "challenge.locked",
    "challenge.canceled",
    "challenge.failed",
]


def parse_time(value: str) -> datetime:
    """An ISO 8601 timestamp from the service (``2026-11-23T00:05:45.167Z``) as an aware datetime."""
    # datetime.fromisoformat reads a trailing Z only from Python 3.11 on.
    return datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith("Z") else value)


def _time_or_none(value: str | None) -> datetime | None:
    return None if value is None else parse_time(value)


@dataclass(frozen=True)
class Challenge:
    """The call placed: POST /request-auth's answer. The phone is ringing; nobody has answered yet."""

    id: str
    #: The number called, normalised to E.164.
    number: str
    status: Literal["pending"]
    expires_at: datetime
    #: Guesses this code gets: fewer than OTP_MAX_ATTEMPTS when wrong guesses carried over.
    attempts_allowed: int

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> Challenge:
        return cls(
            id=body["id"],
            number=body["number"],
            status=body["status"],
            expires_at=parse_time(body["expires_at"]),
            attempts_allowed=body["attempts_allowed"],
        )


@dataclass(frozen=True)
class Validation:
    """POST /validate-auth's verdict. A wrong code is this, with ``approved`` False, not an exception."""

    approved: bool
    #: The challenge approved; on a denial, the one the code was judged against, when there is one
    #: (for ``no_pending_challenge`` the number's latest, ended: ``get_challenge`` tells why).
    id: str | None = None
    #: Why the code was refused (None when approved).
    reason: DenialReason | None = None
    #: Guesses left for this code on a denial (0 unless ``incorrect``); None when approved.
    attempts_remaining: int | None = None
    #: On an approval, a JWT (EdDSA) saying the number was verified by a phone call: ``sub`` the
    #: number, ``aud`` the key's service, ``jti`` the challenge. Another service checks it against
    #: the service's /.well-known/jwks.json. None on a denial, and from a service too old to issue one.
    verification_token: str | None = None
    #: The token's ``exp``: 5 minutes after the approval.
    verification_token_expires_at: datetime | None = None

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> Validation:
        if body.get("status") == "approved":
            return cls(
                approved=True,
                id=body["id"],
                verification_token=body.get("verification_token"),
                verification_token_expires_at=_time_or_none(body.get("verification_token_expires_at")),
            )
        return cls(
            approved=False,
            id=body.get("challenge_id"),
            reason=body["reason"],
            attempts_remaining=body["attempts_remaining"],
        )


@dataclass(frozen=True)
class CallEvent:
    """A status the call reached, and when."""

    status: str
    at: datetime

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> CallEvent:
        return cls(status=body["status"], at=parse_time(body["at"]))


@dataclass(frozen=True)
class Call:
    """The call placed for a challenge, as the carrier reported it."""

    carrier: str
    sid: str | None
    #: queued, initiated, ringing, in-progress, completed, busy, no-answer, failed, canceled.
    status: str | None
    #: The carrier's answering-machine verdict, when detection is on.
    answered_by: str | None
    events: list[CallEvent]

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> Call:
        return cls(
            carrier=body["carrier"],
            sid=body["sid"],
            status=body["status"],
            answered_by=body["answered_by"],
            events=[CallEvent.from_json(e) for e in body["events"]],
        )


@dataclass(frozen=True)
class ChallengeEvent:
    """An event webhook delivery about the challenge (``challenge.approved``, …), never its body."""

    id: str
    type: str
    state: Literal["pending", "delivered", "failed"]
    attempts: int
    last_status: int | None
    created_at: datetime
    delivered_at: datetime | None

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> ChallengeEvent:
        return cls(
            id=body["id"],
            type=body["type"],
            state=body["state"],
            attempts=body["attempts"],
            last_status=body["last_status"],
            created_at=parse_time(body["created_at"]),
            delivered_at=_time_or_none(body["delivered_at"]),
        )


@dataclass(frozen=True)
class ChallengeView:
    """GET /challenges/{id}: a challenge's state and call history, never its code."""

    id: str
    #: The id of the service it was made in (``default`` for the environment's).
    service: str
    number: str
    status: ChallengeStatus
    language: str
    attempts_used: int
    attempts_allowed: int
    created_at: datetime
    expires_at: datetime
    ended_at: datetime | None
    #: Why it failed: ``rejected:21211``, ``timeout:timeout``, ``call-busy``, …
    failure_code: str | None
    #: The key that asked for the call: ``env:<8 hex>``, a database key's name, or ``open``.
    api_key: str | None
    call: Call
    events: list[ChallengeEvent]

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> ChallengeView:
        return cls(
            id=body["id"],
            service=body["service"],
            number=body["number"],
            status=body["status"],
            language=body["language"],
            attempts_used=body["attempts_used"],
            attempts_allowed=body["attempts_allowed"],
            created_at=parse_time(body["created_at"]),
            expires_at=parse_time(body["expires_at"]),
            ended_at=_time_or_none(body["ended_at"]),
            failure_code=body["failure_code"],
            api_key=body["api_key"],
            call=Call.from_json(body["call"]),
            events=[ChallengeEvent.from_json(e) for e in body["events"]],
        )


@dataclass(frozen=True)
class ChallengePage:
    """A page of challenges, newest first; ``next_cursor`` is None on the last page."""

    challenges: list[ChallengeView]
    next_cursor: str | None

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> ChallengePage:
        return cls(challenges=[ChallengeView.from_json(c) for c in body["challenges"]], next_cursor=body["next_cursor"])


@dataclass(frozen=True)
class StatsCounts:
    """One group's counts, or the range's totals."""

    requests: int
    calls_placed: int
    answered: int
    approved: int
    conversion_rate: float
    median_seconds_to_approval: float | None
    #: Refusals by the limit's name, as the service spells it (``resend_cooldown``).
    refusals: dict[str, int]

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> StatsCounts:
        return cls(**_counts(body))


def _counts(body: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "requests": body["requests"],
        "calls_placed": body["calls_placed"],
        "answered": body["answered"],
        "approved": body["approved"],
        "conversion_rate": body["conversion_rate"],
        "median_seconds_to_approval": body["median_seconds_to_approval"],
        "refusals": dict(body["refusals"]),
    }


@dataclass(frozen=True)
class StatsGroup(StatsCounts):
    """The counts of one UTC day (``2026-11-22``) or one country (``US``)."""

    key: str

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> StatsGroup:
        return cls(**_counts(body), key=body["key"])


@dataclass(frozen=True)
class Stats:
    """GET /stats: the service's statistics by UTC day or by country, and the range's totals."""

    since: datetime
    until: datetime
    group_by: Literal["day", "country"]
    groups: list[StatsGroup]
    totals: StatsCounts

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> Stats:
        return cls(
            since=parse_time(body["since"]),
            until=parse_time(body["until"]),
            group_by=body["group_by"],
            groups=[StatsGroup.from_json(g) for g in body["groups"]],
            totals=StatsCounts.from_json(body["totals"]),
        )


class ServiceSettings(TypedDict, total=False):
    """A service's settings by their admin-API names: ``Service.settings`` has them all,
    ``Service.own_settings`` only those the service sets itself."""

    org_name: str
    language: str
    languages: list[str]
    voice: str | None
    gate: bool
    machine_detection: bool
    code_length: int
    code_ttl_seconds: int
    max_attempts: int
    allowed_countries: list[str]
    blocked_prefixes: list[str]
    resend_cooldown_seconds: int
    calls_per_number_per_10_min: int
    calls_per_number_per_day: int
    failed_validations_per_number_per_day: int
    calls_per_day: int
    #: The sentence around the code, by language or tag (``{"en": "Your {org} code is {code}."}``);
    #: empty: the languages' own phrases.
    templates: dict[str, str]
    #: Whether a request may bring its own code (``request_auth(code=...)``).
    allow_custom_code: bool


@dataclass(frozen=True)
class Service:
    """A service, from the admin API: every setting its calls use, and the ones it sets itself."""

    #: ``svc_…``, or ``default`` for the environment's service.
    id: str
    name: str
    settings: ServiceSettings
    own_settings: ServiceSettings
    #: False for the default service, whose settings are the environment's.
    editable: bool
    created_at: datetime | None
    updated_at: datetime | None

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> Service:
        return cls(
            id=body["id"],
            name=body["name"],
            settings=body["settings"],
            own_settings=body["own_settings"],
            editable=body["editable"],
            created_at=_time_or_none(body["created_at"]),
            updated_at=_time_or_none(body["updated_at"]),
        )


@dataclass(frozen=True)
class ServiceWebhook:
    """Where a service's events go and which types (None: all). ``secret`` is there only in the
    answer that made it (a first webhook, a rotation): store it then, it is never shown again."""

    url: str
    events: list[str] | None
    disabled_at: datetime | None
    #: Until when the rotated-out secret still signs, beside the new one.
    previous_valid_until: datetime | None
    secret: str | None = None

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> ServiceWebhook:
        return cls(
            url=body["url"],
            events=body["events"],
            disabled_at=_time_or_none(body["disabled_at"]),
            previous_valid_until=_time_or_none(body["previous_valid_until"]),
            secret=body.get("secret"),
        )


@dataclass(frozen=True)
class SigningKey:
    """A key that signs verification tokens: its id and dates, never its private half."""

    #: The ``kid`` of the tokens it signs and of its entry in /.well-known/jwks.json.
    kid: str
    #: Whether it signs new tokens; one key does.
    active: bool
    #: Whether /.well-known/jwks.json lists it.
    published: bool
    created_at: datetime
    retired_at: datetime | None
    #: When it leaves the JWKS, once its last token has expired; None for the active key.
    published_until: datetime | None

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> SigningKey:
        return cls(
            kid=body["kid"],
            active=body["active"],
            published=body["published"],
            created_at=parse_time(body["created_at"]),
            retired_at=_time_or_none(body["retired_at"]),
            published_until=_time_or_none(body["published_until"]),
        )
