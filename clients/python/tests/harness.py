"""What the tests need from around them: a running service, and a line to its simulated phones.

test/python-client.test.ts starts the service (on the carrier simulator) and runs these
tests with:

- VOICE_OTP_URL, VOICE_OTP_API_KEY: the service, and a key of its default service;
- VOICE_OTP_ADMIN_KEY: an admin key, for the admin API;
- VOICE_OTP_TEST_PHONES: the simulator's phones over HTTP (test/helpers/phone-line.ts):
  what a challenge's call said, and what a number's phone does next.

Without them, the tests that need the service are skipped; the others still run.
"""

from __future__ import annotations

import itertools
import json
import os
import socket
import threading
import unittest
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Dict, Optional, Tuple

URL = os.environ.get("VOICE_OTP_URL", "")
API_KEY = os.environ.get("VOICE_OTP_API_KEY", "")
ADMIN_KEY = os.environ.get("VOICE_OTP_ADMIN_KEY", "")
PHONES = os.environ.get("VOICE_OTP_TEST_PHONES", "")

needs_service = unittest.skipUnless(
    URL and API_KEY and ADMIN_KEY and PHONES,
    "set VOICE_OTP_URL, VOICE_OTP_API_KEY, VOICE_OTP_ADMIN_KEY and VOICE_OTP_TEST_PHONES (test/python-client.test.ts does)",
)

_numbers = itertools.count(200)


def fresh_number() -> str:
    """A valid US number no other test of this run has called."""
    return f"+1212555{next(_numbers):04d}"


def code_heard(challenge_id: str) -> str:
    """The code the phone heard on the call placed for this challenge, once the call has ended."""
    _, body = _call(f"{PHONES}/heard/{urllib.parse.quote(challenge_id, safe='')}", "GET")
    return body["code"]


def script_phone(number: str, outcome: str) -> None:
    """What the phone at this number does from now on: carrier-refuses, carrier-fails or carrier-silent."""
    _call(f"{PHONES}/phones/{urllib.parse.quote(number, safe='')}", "PUT", outcome.encode())


def raw(method: str, path: str, body: Optional[Dict[str, Any]] = None, key: Optional[str] = None) -> Tuple[int, Any]:
    """The service's own answer to a request, without the client, to judge the client by."""
    data = None if body is None else json.dumps(body).encode()
    headers = {"Authorization": f"Bearer {key or API_KEY}"}
    if data is not None:
        headers["Content-Type"] = "application/json"
    try:
        return _call(f"{URL}{path}", method, data, headers)
    except urllib.error.HTTPError as err:
        with err:
            return err.code, json.loads(err.read() or b"null")


def served_schemas() -> Dict[str, Any]:
    """The schemas of the service's OpenAPI document, by name."""
    _, doc = _call(f"{URL}/openapi.json", "GET")
    return doc["components"]["schemas"]


def _call(url: str, method: str, data: Optional[bytes] = None, headers: Optional[Dict[str, str]] = None) -> Tuple[int, Any]:
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    with urllib.request.urlopen(request, timeout=20) as res:
        text = res.read()
        return res.status, json.loads(text) if text else None


class AnswerLosingProxy:
    """A TCP forwarder in front of the service that delivers every request but loses the
    answers to the first ``lose`` of them, as a connection dropped on the way back would:
    the service acted, the client never hears of it. One request per connection, as
    urllib sends them (``Connection: close``)."""

    def __init__(self, target: str, lose: int) -> None:
        parsed = urllib.parse.urlsplit(target)
        self._target = (parsed.hostname or "127.0.0.1", parsed.port or 80)
        self._lose = lose
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        threading.Thread(target=self._serve, daemon=True).start()

    def __enter__(self) -> AnswerLosingProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self._listener.close()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # closed
            lose, self._lose = self._lose > 0, self._lose - 1
            threading.Thread(target=self._forward, args=(client, lose), daemon=True).start()

    def _forward(self, client: socket.socket, lose: bool) -> None:
        with client, socket.create_connection(self._target) as upstream:
            request = b""
            while b"\r\n\r\n" not in request or len(request.split(b"\r\n\r\n", 1)[1]) < _content_length(request):
                chunk = client.recv(65536)
                if not chunk:
                    return
                request += chunk
            upstream.sendall(request)
            answer = b""
            while chunk := upstream.recv(65536):
                answer += chunk
            if not lose:
                client.sendall(answer)


def _content_length(request: bytes) -> int:
    head = request.split(b"\r\n\r\n", 1)[0]
    return next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")), 0)
