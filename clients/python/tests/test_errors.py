"""Failures raise the TypeScript client's error classes, mapped from the same answers."""

from __future__ import annotations

import pickle
import socket
import unittest

from harness import API_KEY, URL, fresh_number, needs_service, script_phone

from voice_otp import (
    CarrierError,
    InvalidNumberError,
    RateLimitedError,
    ServiceUnavailableError,
    UnauthorizedError,
    VoiceOtpClient,
    VoiceOtpError,
)


@needs_service
class ServiceRefusalsTest(unittest.TestCase):
    def setUp(self) -> None:
        self.otp = VoiceOtpClient(URL, api_key=API_KEY)

    def test_refuses_a_number_it_cannot_call_with_invalid_number_error(self) -> None:
        for number, code in (("12", "invalid_number"), ("+19005550123", "destination_not_allowed")):
            with self.subTest(number=number), self.assertRaises(InvalidNumberError) as caught:
                self.otp.request_auth(number)
            self.assertEqual((caught.exception.status, caught.exception.code), (400, code))
            self.assertIn("number", str(caught.exception))

        refused = fresh_number()
        script_phone(refused, "carrier-refuses")
        with self.assertRaises(InvalidNumberError) as caught:
            self.otp.request_auth(refused)
        self.assertEqual(caught.exception.code, "invalid_number")
        self.assertEqual(caught.exception.details, {"carrier": "twilio", "carrier_code": "21211", "carrier_status": 400})

    def test_refuses_a_wrong_key_with_unauthorized_error(self) -> None:
        wrong = VoiceOtpClient(URL, api_key="wrong-key-0123456789")
        with self.assertRaises(UnauthorizedError) as caught:
            wrong.get_challenge("ch_x")
        self.assertEqual((caught.exception.status, caught.exception.code), (401, "unauthorized"))
        self.assertRegex(caught.exception.request_id or "", r"^[0-9a-f-]{36}$")

    def test_refuses_a_second_call_too_soon_with_rate_limited_error(self) -> None:
        number = fresh_number()
        self.otp.request_auth(number)
        with self.assertRaises(RateLimitedError) as caught:
            self.otp.request_auth(number)
        limited = caught.exception
        self.assertEqual((limited.status, limited.code, limited.limit), (429, "rate_limited", "resend_cooldown"))
        self.assertGreater(limited.retry_after_seconds, 0)
        self.assertLessEqual(limited.retry_after_seconds, 30)
        self.assertRegex(limited.request_id or "", r"^[0-9a-f-]{36}$")

    def test_reports_the_carrier_failing_with_carrier_error(self) -> None:
        failing = fresh_number()
        script_phone(failing, "carrier-fails")
        with self.assertRaises(CarrierError) as caught:
            self.otp.request_auth(failing)
        failed = caught.exception
        self.assertEqual((failed.status, failed.carrier, failed.carrier_code, failed.timed_out), (502, "twilio", "20500", False))
        self.assertRegex(failed.challenge_id or "", r"^ch_")
        self.assertEqual(self.otp.get_challenge(failed.challenge_id or "").status, "failed")

        silent = fresh_number()
        script_phone(silent, "carrier-silent")
        with self.assertRaises(CarrierError) as caught:
            self.otp.request_auth(silent)
        self.assertEqual((caught.exception.status, caught.exception.code, caught.exception.timed_out), (504, "carrier_timeout", True))

    def test_gives_up_after_its_timeout_with_service_unavailable_error(self) -> None:
        silent = fresh_number()
        script_phone(silent, "carrier-silent")
        impatient = VoiceOtpClient(URL, api_key=API_KEY, timeout=0.1)
        with self.assertRaises(ServiceUnavailableError) as caught:
            impatient.request_auth(silent)
        # Not repeated without an Idempotency-Key (a repeat could ring the phone twice): a
        # repeat would have met the resend cooldown and raised RateLimitedError instead.
        self.assertEqual((caught.exception.status, caught.exception.code), (0, "timeout"))

    def test_raises_the_base_class_for_the_rest(self) -> None:
        with self.assertRaises(VoiceOtpError) as caught:
            self.otp.get_challenge("ch_nope")
        self.assertIs(type(caught.exception), VoiceOtpError)
        self.assertEqual((caught.exception.status, caught.exception.code), (404, "not_found"))


class WithoutAServiceTest(unittest.TestCase):
    def test_reports_an_unreachable_service_after_retrying_what_is_safe(self) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            closed = s.getsockname()[1]
        gone = VoiceOtpClient(f"http://127.0.0.1:{closed}", api_key="some-key-0123456789", retries=1)
        for attempt in (lambda: gone.get_challenge("ch_x"), lambda: gone.validate_auth(challenge_id="ch_x", code="123456")):
            with self.assertRaises(ServiceUnavailableError) as caught:
                attempt()
            self.assertEqual((caught.exception.status, caught.exception.code), (0, "network"))
            self.assertIn("ECONNREFUSED", str(caught.exception))
            self.assertIsInstance(caught.exception.__cause__, OSError)

    def test_refuses_mistakes_before_sending_anything(self) -> None:
        with self.assertRaisesRegex(ValueError, "leave api_key out"):
            VoiceOtpClient("http://127.0.0.1:3000", api_key="")
        with self.assertRaisesRegex(ValueError, "http:// or https://"):
            VoiceOtpClient("127.0.0.1:3000")
        otp = VoiceOtpClient("http://127.0.0.1:3000", api_key="some-key-0123456789")
        with self.assertRaisesRegex(TypeError, "string of digits"):
            otp.validate_auth(number="+12125550100", code=47190)  # type: ignore[arg-type]
        with self.assertRaisesRegex(ValueError, "either number or challenge_id"):
            otp.validate_auth(number="+12125550100", challenge_id="ch_x", code="471903")
        self.assertNotIn("some-key", repr(otp))

    def test_keeps_an_error_whole_through_pickling(self) -> None:
        limited = RateLimitedError("wait", 429, "rate_limited", "req-1", {"limit": "resend_cooldown", "retry_after_seconds": 12})
        again = pickle.loads(pickle.dumps(limited))
        self.assertIsInstance(again, RateLimitedError)
        self.assertEqual((str(again), again.request_id, again.limit, again.retry_after_seconds), ("wait", "req-1", "resend_cooldown", 12))


if __name__ == "__main__":
    unittest.main()
