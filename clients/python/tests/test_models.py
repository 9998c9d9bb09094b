"""The models hold every field the service documents, under the service's names.

The service's OpenAPI document is the judge: a field added to a response, or to a
request body, fails here until the client carries it too.
"""

from __future__ import annotations

import dataclasses
import inspect
import unittest
from datetime import datetime, timezone
from typing import Any, Dict, Set

from harness import needs_service, served_schemas

from voice_otp import (
    Call,
    CallEvent,
    Challenge,
    ChallengeEvent,
    ChallengePage,
    ChallengeView,
    Service,
    ServiceSettings,
    ServiceWebhook,
    SigningKey,
    Stats,
    StatsCounts,
    StatsGroup,
    Validation,
    VoiceOtpClient,
)
from voice_otp.models import parse_time


def fields(model: type) -> Set[str]:
    return {f.name for f in dataclasses.fields(model)}


def parameters(method: Any) -> Set[str]:
    return set(inspect.signature(method).parameters) - {"self"}


@needs_service
class AgainstTheServedDocumentTest(unittest.TestCase):
    schemas: Dict[str, Any]

    @classmethod
    def setUpClass(cls) -> None:
        cls.schemas = served_schemas()

    def properties(self, schema: Dict[str, Any]) -> Dict[str, Any]:
        """A schema's properties, through a $ref, an array's items, or a nullable's anyOf."""
        if "$ref" in schema:
            return self.properties(self.schemas[schema["$ref"].rsplit("/", 1)[-1]])
        if "items" in schema:
            return self.properties(schema["items"])
        for alternative in schema.get("anyOf", []):
            if alternative.get("type") != "null":
                return self.properties(alternative)
        return schema["properties"]

    def names(self, schema: Any) -> Set[str]:
        return set(self.properties(schema if isinstance(schema, dict) else self.schemas[schema]))

    def test_responses_map_field_for_field(self) -> None:
        challenge = self.properties(self.schemas["Challenge"])
        stats = self.properties(self.schemas["Stats"])
        for schema, model in (
            ("ChallengeCreated", Challenge),
            ("Challenge", ChallengeView),
            (challenge["call"], Call),
            (self.properties(challenge["call"])["events"], CallEvent),
            (challenge["events"], ChallengeEvent),
            ("ChallengePage", ChallengePage),
            ("Stats", Stats),
            (stats["totals"], StatsCounts),
            (stats["groups"], StatsGroup),
            ("Service", Service),
            ("ServiceWebhookSet", ServiceWebhook),
        ):
            with self.subTest(schema=schema if isinstance(schema, str) else model.__name__):
                self.assertEqual(self.names(schema), fields(model))
        self.assertEqual(self.names("ServiceWebhook"), fields(ServiceWebhook) - {"secret"})
        self.assertEqual(self.names("ServiceSettings"), set(ServiceSettings.__annotations__))
        self.assertEqual(self.names("OwnServiceSettings"), set(ServiceSettings.__annotations__))
        if "SigningKey" in self.schemas:  # a service from before verification tokens has none
            self.assertEqual(self.names("SigningKey"), fields(SigningKey))

    def test_a_verdict_holds_what_either_answer_says(self) -> None:
        # `status` becomes `approved`; a denial's `challenge_id` is its `id`; its `error` repeats `reason`.
        self.assertLessEqual(self.names("CodeApproved") - {"status"}, fields(Validation))
        denied = {"id" if n == "challenge_id" else n for n in self.names("CodeDenied") - {"status", "error"}}
        self.assertLessEqual(denied, fields(Validation))

    def test_every_request_field_is_a_parameter(self) -> None:
        self.assertLessEqual(self.names("RequestAuthBody"), parameters(VoiceOtpClient.request_auth))
        renamed = {"id": "challenge_id", "auth_code": "code"}
        self.assertEqual({renamed.get(n, n) for n in self.names("ValidateAuthBody")}, parameters(VoiceOtpClient.validate_auth))
        self.assertLessEqual(self.names("UpdateServiceBody"), parameters(VoiceOtpClient.update_service) - {"service_id"})
        self.assertEqual(self.names("CreateServiceBody"), parameters(VoiceOtpClient.create_service))
        self.assertEqual(self.names("SetServiceWebhookBody"), parameters(VoiceOtpClient.set_service_webhook) - {"service_id"})


class ParsingTest(unittest.TestCase):
    def test_reads_the_services_timestamps_as_aware_datetimes(self) -> None:
        self.assertEqual(parse_time("2026-11-23T00:05:45.167Z"), datetime(2026, 11, 23, 0, 5, 45, 167000, tzinfo=timezone.utc))

    def test_reads_both_verdicts_and_ignores_fields_it_does_not_know(self) -> None:
        self.assertEqual(
            Validation.from_json({"status": "approved", "id": "ch_1", "verification_token": "tok", "later_field": 1}),
            Validation(approved=True, id="ch_1", verification_token="tok"),
        )
        self.assertEqual(Validation.from_json({"status": "approved", "id": "ch_1"}).verification_token, None)
        denied = {"status": "denied", "reason": "locked", "attempts_remaining": 0, "error": {"code": "locked", "message": "…"}}
        self.assertEqual(Validation.from_json(denied), Validation(approved=False, reason="locked", attempts_remaining=0))


if __name__ == "__main__":
    unittest.main()
