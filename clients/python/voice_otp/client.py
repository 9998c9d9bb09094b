"""A client for backends, on the standard library alone (urllib, json).

It does what the TypeScript client does, under snake_case names: the same operations, the
same errors, the same retries. A 403 from /validate-auth is an answer (``approved`` False),
not an exception. One client may be shared by threads: it keeps no state between requests.
"""

from __future__ import annotations

import errno
import json
import random
import re
import socket
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import date, datetime, timezone
from email.message import Message
from http.client import HTTPException
from typing import Any, Iterator, Literal, Mapping, Sequence, Tuple, Union

from ._version import __version__
from .errors import ServiceUnavailableError, VoiceOtpError, error_for
from .models import (
    Challenge,
    ChallengePage,
    ChallengeStatus,
    ChallengeView,
    EventType,
    Service,
    ServiceWebhook,
    SigningKey,
    Stats,
    Validation,
)

#: A point in time for a query: an aware datetime, a date (a UTC day), or ISO 8601 text.
TimeLike = Union[datetime, date, str]

# When a failed attempt may be sent again without harm:
#   reads          no side effect: after any transport failure, or a 503
#   not-delivered  only when the request cannot have been processed (refused connection, 503)
#   never          a repeat could ring a phone twice
_Retry = Literal["reads", "not-delivered", "never"]


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # The service never redirects; following one would send the API key wherever it pointed.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class VoiceOtpClient:
    """The service's API for a backend.

    ``base_url``: where the service is, e.g. ``https://otp.internal.example.com``.
    ``api_key``: a key from the service's API_KEYS or ``voice-otp keys create``; leave it out
    for a development service running without API_KEYS. ``timeout``: seconds each attempt may
    wait for the service to connect or to send more of its answer (default 15: a carrier may
    take seconds to accept a call). ``retries``: repeats of requests that are safe to repeat
    (default 2). ``ssl_context``: for a service whose certificate a private CA signed.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        timeout: float = 15.0,
        retries: int = 2,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if not re.match(r"^https?://", base_url):
            raise ValueError("base_url must be an http:// or https:// URL")
        if api_key == "":
            raise ValueError("api_key is empty: pass a key, or leave api_key out for a service running without API_KEYS")
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self.timeout = timeout
        self.retries = retries
        handlers: list[urllib.request.BaseHandler] = [_NoRedirects()]
        if ssl_context is not None:
            handlers.append(urllib.request.HTTPSHandler(context=ssl_context))
        self._opener = urllib.request.build_opener(*handlers)

    def __repr__(self) -> str:
        # Never the key: a repr ends up in logs and tracebacks.
        return f"VoiceOtpClient({self.base_url!r})"

    # Verification

    def request_auth(
        self,
        number: str,
        *,
        language: str | None = None,
        client_ip: str | None = None,
        idempotency_key: str | None = None,
        code: str | None = None,
    ) -> Challenge:
        """Asks the service to call the number and read it a code.

        ``number``: E.164, or a national number in the service's DEFAULT_COUNTRY.
        ``client_ip``: the end user's address, so that the per-address limit applies to it.
        ``idempotency_key``: makes a retry safe (one per sign-in attempt, e.g. a UUID); only
        then is the request sent again after a network failure, since the service replays
        its first answer instead of placing a second call. ``code``: your own code to read
        (4 to 10 digits, e.g. from your sign-in system), for a service with
        ``allow_custom_code``; elsewhere a VoiceOtpError 403 ``custom_code_not_allowed``. By
        default the service makes the code, and nobody but the phone ever hears it.
        """
        body: dict[str, Any] = {"number": number}
        if language is not None:
            body["language"] = language
        if client_ip is not None:
            body["client_ip"] = client_ip
        if code is not None:
            body["code"] = _digits("code", code)
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        answer = self._send("POST", "/request-auth", body, "reads" if idempotency_key else "never", headers)
        return Challenge.from_json(answer)

    def validate_auth(self, *, code: str, number: str | None = None, challenge_id: str | None = None) -> Validation:
        """Checks the code the user typed, against the challenge with this id or the number's latest.

        A wrong, expired or used-up code is a ``Validation`` with ``approved`` False and a
        ``reason``, not an exception.
        """
        if (number is None) == (challenge_id is None):
            raise ValueError("pass either number or challenge_id, not both")
        target = {"number": number} if challenge_id is None else {"id": challenge_id}
        answer = self._send("POST", "/validate-auth", {**target, "auth_code": _digits("code", code)}, "not-delivered")
        return Validation.from_json(answer)

    # Challenges and statistics

    def get_challenge(self, challenge_id: str) -> ChallengeView:
        """A challenge's state and call history (never its code); a VoiceOtpError 404 for an unknown id."""
        answer = self._send("GET", f"/challenges/{_segment(challenge_id)}", None, "reads")
        return ChallengeView.from_json(answer)

    def cancel_challenge(self, challenge_id: str) -> ChallengeView:
        """Ends a pending challenge: its code is wiped and a call still ringing hears no code.

        Canceling twice is harmless; a challenge that ended otherwise raises a VoiceOtpError
        with code ``challenge_not_pending`` (its ``details["status"]`` says how it ended).
        """
        # Repeating a cancel gives the same answer: safe to retry.
        answer = self._send("POST", f"/challenges/{_segment(challenge_id)}/cancel", None, "reads")
        return ChallengeView.from_json(answer)

    def list_challenges(
        self,
        *,
        number: str | None = None,
        status: ChallengeStatus | None = None,
        since: TimeLike | None = None,
        until: TimeLike | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> ChallengePage:
        """One page of the service's challenges, newest first (``limit`` 1-100, default 20).

        ``since`` / ``until``: created at or after / before. ``cursor``: the previous page's
        ``next_cursor``.
        """
        query = {"number": number, "status": status, "since": _time(since), "until": _time(until), "limit": limit, "cursor": cursor}
        answer = self._send("GET", f"/challenges{_query(query)}", None, "reads")
        return ChallengePage.from_json(answer)

    def each_challenge(
        self,
        *,
        number: str | None = None,
        status: ChallengeStatus | None = None,
        since: TimeLike | None = None,
        until: TimeLike | None = None,
        limit: int | None = None,
    ) -> Iterator[ChallengeView]:
        """Every challenge the query matches, newest first, fetching the pages as they are read."""
        cursor: str | None = None
        while True:
            page = self.list_challenges(number=number, status=status, since=since, until=until, limit=limit, cursor=cursor)
            yield from page.challenges
            if not page.next_cursor:
                return
            cursor = page.next_cursor

    def get_stats(
        self,
        *,
        since: TimeLike | None = None,
        until: TimeLike | None = None,
        group_by: Literal["day", "country"] | None = None,
    ) -> Stats:
        """The service's statistics over a range (default: the last 7 UTC days), by day or by country."""
        query = {"since": _time(since), "until": _time(until), "group_by": group_by}
        answer = self._send("GET", f"/stats{_query(query)}", None, "reads")
        return Stats.from_json(answer)

    # The admin API: these take a client made with an admin key (ADMIN_API_KEYS or `voice-otp keys create NAME --admin`).

    def list_services(self) -> list[Service]:
        """Every service, the default service (the environment's) first."""
        answer = self._send("GET", "/services", None, "reads")
        return [Service.from_json(s) for s in answer["services"]]

    def create_service(self, name: str, settings: Mapping[str, Any] | None = None) -> Service:
        """Creates a service with the settings it sets (``{"code_length": 8}``); the rest are the default service's."""
        body: dict[str, Any] = {"name": name}
        if settings is not None:
            body["settings"] = dict(settings)
        # A repeat that reached the service would be refused as a name taken: retried only when it cannot have.
        answer = self._send("POST", "/services", body, "not-delivered")
        return Service.from_json(answer)

    def get_service(self, service_id: str) -> Service:
        """A service by its id (``svc_…``, or ``default``), not its name."""
        answer = self._send("GET", f"/services/{_segment(service_id)}", None, "reads")
        return Service.from_json(answer)

    def update_service(self, service_id: str, *, name: str | None = None, settings: Mapping[str, Any] | None = None) -> Service:
        """Renames a service or changes its settings; a setting set to None goes back to the default service's."""
        body: dict[str, Any] = {}
        if name is not None:
            body["name"] = name
        if settings is not None:
            body["settings"] = dict(settings)
        # The same change twice leaves the same service: safe to repeat.
        answer = self._send("PATCH", f"/services/{_segment(service_id)}", body, "reads")
        return Service.from_json(answer)

    def delete_service(self, service_id: str) -> Service:
        """Deletes a service and revokes its keys; returns it as it was."""
        answer = self._send("DELETE", f"/services/{_segment(service_id)}", None, "not-delivered")
        return Service.from_json(answer)

    def get_service_webhook(self, service_id: str) -> ServiceWebhook:
        """A service's event webhook; a VoiceOtpError with status 404 when it has none."""
        answer = self._send("GET", f"/services/{_segment(service_id)}/webhook", None, "reads")
        return ServiceWebhook.from_json(answer)

    def set_service_webhook(self, service_id: str, url: str, events: Sequence[EventType] | None = None) -> ServiceWebhook:
        """Sets where a service's events go and which types (None: all), keeping its secret.

        A first webhook gets a new secret, in ``secret``, this once: store it.
        """
        body: dict[str, Any] = {"url": url}
        if events is not None:
            body["events"] = list(events)
        # Not repeated once it may have arrived: the repeat would answer without the secret the first one made.
        answer = self._send("PUT", f"/services/{_segment(service_id)}/webhook", body, "not-delivered")
        return ServiceWebhook.from_json(answer)

    def rotate_service_webhook_secret(self, service_id: str) -> ServiceWebhook:
        """A new secret for a service's webhook, this once; the previous one keeps signing until ``previous_valid_until``."""
        answer = self._send("POST", f"/services/{_segment(service_id)}/webhook/rotate", None, "not-delivered")
        return ServiceWebhook.from_json(answer)

    def delete_service_webhook(self, service_id: str) -> ServiceWebhook:
        """Removes a service's webhook: no more events are written for it. Returns it as it was."""
        answer = self._send("DELETE", f"/services/{_segment(service_id)}/webhook", None, "not-delivered")
        return ServiceWebhook.from_json(answer)

    def list_signing_keys(self) -> list[SigningKey]:
        """The keys that sign verification tokens, the active one first."""
        answer = self._send("GET", "/signing-keys", None, "reads")
        return [SigningKey.from_json(k) for k in answer["keys"]]

    def rotate_signing_key(self) -> list[SigningKey]:
        """Makes a new token-signing key and retires the active one, which stays published until
        its tokens have expired. Returns the keys, the new one first."""
        # Not repeated once it may have arrived: a repeat would rotate twice.
        answer = self._send("POST", "/signing-keys/rotate", None, "not-delivered")
        return [SigningKey.from_json(k) for k in answer["keys"]]

    # Transport

    def _send(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None,
        retry: _Retry,
        extra_headers: Mapping[str, str] | None = None,
    ) -> Any:
        """The answer's JSON body: a success's, or a denial's from /validate-auth; else raises."""
        headers = {"Accept": "application/json", "User-Agent": f"voice-otp-python/{__version__}"}
        if self._api_key is not None:
            headers["Authorization"] = f"Bearer {self._api_key}"
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(body, separators=(",", ":")).encode()
        headers.update(extra_headers or {})
        attempt = 0
        while True:
            request = urllib.request.Request(f"{self.base_url}{path}", data=data, method=method, headers=headers)
            try:
                status, answer_headers, raw = self._exchange(request)
            except (OSError, HTTPException) as err:
                failure, not_delivered = _transport_failure(err, self.timeout)
                if (retry == "reads" or (retry == "not-delivered" and not_delivered)) and attempt < self.retries:
                    time.sleep(_backoff(attempt))
                    attempt += 1
                    continue
                raise failure from err
            request_id = answer_headers.get("X-Request-Id")
            answer = _json_or_none(raw)
            denial = status == 403 and path == "/validate-auth" and isinstance(answer, dict) and answer.get("status") == "denied"
            if 200 <= status < 300 or denial:
                if answer is None:
                    raise VoiceOtpError(f"the service answered {status} with a body that is not JSON", status, "bad_response", request_id)
                return answer
            if status == 503 and retry != "never" and attempt < self.retries:
                time.sleep(max(_backoff(attempt), min(5.0, _seconds(answer_headers.get("Retry-After")))))
                attempt += 1
                continue
            raise error_for(status, answer, request_id)

    def _exchange(self, request: urllib.request.Request) -> Tuple[int, Message, bytes]:
        """One request: its answer's status, headers and body, whatever the status."""
        try:
            with self._opener.open(request, timeout=self.timeout) as res:
                return res.status, res.headers, res.read()
        except urllib.error.HTTPError as err:
            # urllib raises every status from 300 up; here they are answers like any other.
            try:
                return err.code, err.headers, err.read()
            finally:
                err.close()


def _transport_failure(err: BaseException, timeout: float) -> Tuple[ServiceUnavailableError, bool]:
    """The error for a request that got no answer, and whether it surely never reached the service."""
    reason = err.reason if isinstance(err, urllib.error.URLError) and isinstance(err.reason, BaseException) else err
    if isinstance(reason, (socket.timeout, TimeoutError)):
        return ServiceUnavailableError(f"no answer from voice-otp within {timeout:g} s", 0, "timeout"), False
    name = errno.errorcode.get(reason.errno or 0) if isinstance(reason, OSError) else None
    label = name or f"{type(reason).__name__}: {reason}"
    # A refused connection or an unknown host never reached the service; anything later might have.
    not_delivered = isinstance(reason, (ConnectionRefusedError, socket.gaierror))
    return ServiceUnavailableError(f"cannot reach voice-otp ({label})", 0, "network"), not_delivered


def _backoff(attempt: int) -> float:
    return 0.2 * 2.0**attempt + random.random() * 0.1


def _seconds(value: str | None) -> float:
    """A Retry-After in seconds; its HTTP-date form (which the service never sends) counts as none."""
    try:
        return max(0.0, float(value or 0.0))
    except ValueError:
        return 0.0


def _json_or_none(raw: bytes) -> Any:
    if not raw:
        return {}
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _digits(name: str, value: Any) -> str:
    # An int would lose leading zeros (0471 is not 471): the service takes codes as strings.
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string of digits, not {type(value).__name__}")
    return value


def _segment(value: str) -> str:
    return urllib.parse.quote(value, safe="")


def _time(value: TimeLike | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("pass an aware datetime (datetime.now(timezone.utc)): a naive one names no instant")
        return value.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return value.isoformat()


def _query(params: Mapping[str, Any]) -> str:
    """``?a=1&b=2`` of the parameters that are set, or nothing."""
    given = [(k, str(v)) for k, v in params.items() if v is not None]
    return f"?{urllib.parse.urlencode(given)}" if given else ""
