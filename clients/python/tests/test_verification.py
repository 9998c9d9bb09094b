"""A backend's whole trip: ask for a call, hear the code, check it; and what it reads afterwards."""

from __future__ import annotations

import unittest
from datetime import datetime, timedelta, timezone

from harness import API_KEY, URL, AnswerLosingProxy, code_heard, fresh_number, needs_service, raw, served_schemas

from voice_otp import (
    Challenge,
    ChallengeView,
    ServiceUnavailableError,
    Validation,
    VoiceOtpClient,
    VoiceOtpError,
)


def other_than(code: str) -> str:
    return "111111" if code == "000000" else "000000"


@needs_service
class VerificationTest(unittest.TestCase):
    def setUp(self) -> None:
        self.otp = VoiceOtpClient(URL, api_key=API_KEY)

    def test_requests_a_call_hears_the_code_and_has_it_approved(self) -> None:
        number = fresh_number()
        challenge = self.otp.request_auth(number, language="en", client_ip="198.51.100.4")
        self.assertIsInstance(challenge, Challenge)
        self.assertEqual((challenge.number, challenge.status, challenge.attempts_allowed), (number, "pending", 5))
        self.assertRegex(challenge.id, r"^ch_")
        now = datetime.now(timezone.utc)
        self.assertTrue(now < challenge.expires_at < now + timedelta(hours=1), challenge.expires_at)

        result = self.otp.validate_auth(challenge_id=challenge.id, code=code_heard(challenge.id))
        self.assertTrue(result.approved)
        self.assertEqual(result.id, challenge.id)
        self.assertIsNone(result.reason)
        # A token comes with the approval from a service that issues them; from an older one, None.
        if "verification_token" in served_schemas()["CodeApproved"]["properties"]:
            self.assertRegex(result.verification_token or "", r"^[\w-]+\.[\w-]+\.[\w-]+$")
            self.assertIsInstance(result.verification_token_expires_at, datetime)
            self.assertTrue(now < (result.verification_token_expires_at or now) <= now + timedelta(minutes=6))
        else:
            self.assertEqual((result.verification_token, result.verification_token_expires_at), (None, None))

        view = self.otp.get_challenge(challenge.id)
        self.assertIsInstance(view, ChallengeView)
        self.assertEqual((view.id, view.status, view.number, view.language), (challenge.id, "approved", number, "en"))
        self.assertEqual(view.attempts_used, 0)
        self.assertRegex(view.api_key or "", r"^env:[0-9a-f]{8}$")
        self.assertEqual((view.call.carrier, view.call.status), ("twilio", "completed"))
        self.assertIn("ringing", [e.status for e in view.call.events])
        self.assertIsInstance(view.ended_at, datetime)
        self.assertEqual(view.expires_at, challenge.expires_at)

    def test_answers_a_wrong_code_with_a_denial_not_an_exception(self) -> None:
        number = fresh_number()
        challenge = self.otp.request_auth(number)
        code = code_heard(challenge.id)

        wrong = self.otp.validate_auth(number=number, code=other_than(code))
        self.assertEqual(wrong, Validation(approved=False, id=challenge.id, reason="incorrect", attempts_remaining=4))
        status, body = raw("POST", "/validate-auth", {"number": number, "auth_code": other_than(code)})
        self.assertEqual((status, body["reason"]), (403, "incorrect"))

        approved = self.otp.validate_auth(number=number, code=code)
        self.assertEqual((approved.approved, approved.id, approved.reason), (True, challenge.id, None))
        # Approved, the challenge has ended: a denial still names it, so that get_challenge can say why.
        self.assertEqual(
            self.otp.validate_auth(number=number, code=code),
            Validation(approved=False, id=challenge.id, reason="no_pending_challenge", attempts_remaining=0),
        )
        self.assertEqual(self.otp.get_challenge(challenge.id).attempts_used, 2)

    def test_names_no_challenge_for_a_number_never_called(self) -> None:
        self.assertEqual(
            self.otp.validate_auth(number=fresh_number(), code="123456"),
            Validation(approved=False, id=None, reason="no_pending_challenge", attempts_remaining=0),
        )

    def test_replays_a_request_with_the_same_idempotency_key_instead_of_calling_twice(self) -> None:
        number = fresh_number()
        first = self.otp.request_auth(number, idempotency_key="py-order-1")
        # Without the replay this would be a second call inside the resend cooldown: a 429.
        self.assertEqual(self.otp.request_auth(number, idempotency_key="py-order-1"), first)
        with self.assertRaises(VoiceOtpError) as reused:
            self.otp.request_auth(fresh_number(), idempotency_key="py-order-1")
        self.assertEqual((reused.exception.status, reused.exception.code), (422, "idempotency_key_reused"))

    def test_asks_again_for_a_call_whose_answer_was_lost_only_under_an_idempotency_key(self) -> None:
        with AnswerLosingProxy(URL, lose=1) as proxy:
            number = fresh_number()
            challenge = VoiceOtpClient(proxy.url, api_key=API_KEY).request_auth(number, idempotency_key="py-order-lost")
            # The repeat got the first request's answer: one call, the one the caller now knows of.
            self.assertEqual([c.id for c in self.otp.list_challenges(number=number).challenges], [challenge.id])

        with AnswerLosingProxy(URL, lose=1) as proxy:
            number = fresh_number()
            with self.assertRaises(ServiceUnavailableError) as caught:
                VoiceOtpClient(proxy.url, api_key=API_KEY).request_auth(number)
            self.assertEqual(caught.exception.code, "network")
            # No key, no repeat: the phone rang once, though the caller saw an error.
            self.assertEqual(len(self.otp.list_challenges(number=number).challenges), 1)

    def test_reads_the_code_the_caller_supplies_where_the_service_takes_one(self) -> None:
        # The harness's service has ALLOW_CUSTOM_CODE=true; a service from before `code` has no such field.
        if "code" not in served_schemas()["RequestAuthBody"]["properties"]:
            self.skipTest("this service makes every code itself (RequestAuthBody has no code)")
        number = fresh_number()
        challenge = self.otp.request_auth(number, code="480916")
        self.assertEqual(code_heard(challenge.id), "480916")
        self.assertTrue(self.otp.validate_auth(challenge_id=challenge.id, code="480916").approved)

    def test_lists_cancels_and_counts_challenges(self) -> None:
        number = fresh_number()
        first = self.otp.request_auth(number)
        code_heard(first.id)
        second = self.otp.request_auth(fresh_number())

        page = self.otp.list_challenges(number=number)
        self.assertEqual([c.id for c in page.challenges], [first.id])
        self.assertIsNone(page.next_cursor)
        since = datetime.now(timezone.utc) - timedelta(minutes=5)
        one_page = self.otp.list_challenges(since=since, limit=100)
        self.assertIn(second.id, [c.id for c in one_page.challenges])
        # Page after page, one challenge each: the same challenges in the same order.
        one_by_one = list(self.otp.each_challenge(since=since, limit=1))
        self.assertEqual([c.id for c in one_by_one], [c.id for c in one_page.challenges])
        self.assertIsNotNone(self.otp.list_challenges(since=since, limit=1).next_cursor)

        canceled = self.otp.cancel_challenge(second.id)
        self.assertEqual((canceled.id, canceled.status), (second.id, "canceled"))
        self.assertEqual(self.otp.cancel_challenge(second.id).status, "canceled")
        self.assertEqual([c.id for c in self.otp.list_challenges(status="canceled", since=since).challenges], [second.id])

        self.otp.validate_auth(challenge_id=first.id, code=code_heard(first.id))
        with self.assertRaises(VoiceOtpError) as ended:
            self.otp.cancel_challenge(first.id)
        self.assertEqual((ended.exception.status, ended.exception.code), (409, "challenge_not_pending"))
        self.assertEqual(ended.exception.details["status"], "approved")

        stats = self.otp.get_stats(group_by="country")
        self.assertEqual(stats.group_by, "country")
        self.assertLess(stats.since, stats.until)
        us = next(g for g in stats.groups if g.key == "US")
        self.assertGreaterEqual(us.requests, 2)
        self.assertGreaterEqual(stats.totals.approved, 1)
        self.assertIsInstance(stats.totals.refusals, dict)
        by_day = self.otp.get_stats(since=datetime.now(timezone.utc).date())
        self.assertEqual(by_day.group_by, "day")
        self.assertEqual([g.key for g in by_day.groups], [datetime.now(timezone.utc).date().isoformat()])


if __name__ == "__main__":
    unittest.main()
