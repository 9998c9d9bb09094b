"""The admin API, with an admin key: services and their event webhooks."""

from __future__ import annotations

import unittest
from datetime import datetime

from harness import ADMIN_KEY, URL, needs_service, served_schemas

from voice_otp import Service, ServiceWebhook, VoiceOtpClient, VoiceOtpError


@needs_service
class AdminTest(unittest.TestCase):
    def setUp(self) -> None:
        self.admin = VoiceOtpClient(URL, api_key=ADMIN_KEY)

    def test_creates_reads_changes_and_deletes_a_service(self) -> None:
        created = self.admin.create_service("py-billing", {"code_length": 8, "org_name": "Billing"})
        self.assertIsInstance(created, Service)
        self.assertRegex(created.id, r"^svc_")
        self.assertEqual(created.own_settings, {"code_length": 8, "org_name": "Billing"})
        self.assertEqual((created.settings["code_length"], created.settings["max_attempts"]), (8, 5))
        self.assertTrue(created.editable)
        self.assertIsInstance(created.created_at, datetime)

        listed = self.admin.list_services()
        self.assertEqual(listed[0].id, "default")
        self.assertFalse(listed[0].editable)
        self.assertIn(created, listed)
        self.assertEqual(self.admin.get_service(created.id), created)

        changed = self.admin.update_service(created.id, name="py-invoices", settings={"code_length": None})
        self.assertEqual((changed.name, changed.own_settings), ("py-invoices", {"org_name": "Billing"}))
        self.assertEqual(changed.settings["code_length"], 6)

        with self.assertRaises(VoiceOtpError) as taken:
            self.admin.create_service("py-invoices")
        self.assertEqual((taken.exception.status, taken.exception.code), (409, "name_taken"))

        self.assertEqual(self.admin.delete_service(created.id).id, created.id)
        with self.assertRaises(VoiceOtpError) as gone:
            self.admin.get_service(created.id)
        self.assertEqual(gone.exception.status, 404)

    def test_sets_rotates_and_removes_a_services_webhook(self) -> None:
        service = self.admin.create_service("py-hooks")
        first = self.admin.set_service_webhook(service.id, "http://127.0.0.1:9/hooks", events=["challenge.approved"])
        self.assertIsInstance(first, ServiceWebhook)
        self.assertEqual((first.url, first.events), ("http://127.0.0.1:9/hooks", ["challenge.approved"]))
        self.assertRegex(first.secret or "", r"^whsec_")

        # Read back, or changed, it never shows the secret again.
        self.assertIsNone(self.admin.get_service_webhook(service.id).secret)
        moved = self.admin.set_service_webhook(service.id, "http://127.0.0.1:9/moved")
        self.assertEqual((moved.url, moved.events, moved.secret), ("http://127.0.0.1:9/moved", None, None))

        rotated = self.admin.rotate_service_webhook_secret(service.id)
        self.assertRegex(rotated.secret or "", r"^whsec_")
        self.assertNotEqual(rotated.secret, first.secret)
        self.assertIsInstance(rotated.previous_valid_until, datetime)

        self.assertEqual(self.admin.delete_service_webhook(service.id).url, "http://127.0.0.1:9/moved")
        with self.assertRaises(VoiceOtpError) as none:
            self.admin.get_service_webhook(service.id)
        self.assertEqual(none.exception.status, 404)
        self.admin.delete_service(service.id)

    def test_rotates_the_token_signing_key(self) -> None:
        if "SigningKey" not in served_schemas():
            self.skipTest("this service issues no verification tokens")
        before = self.admin.list_signing_keys()
        self.assertEqual([k.active for k in before][:1], [True])
        after = self.admin.rotate_signing_key()
        self.assertTrue(after[0].active)
        self.assertNotEqual(after[0].kid, before[0].kid)
        # The key it replaced still verifies the tokens it signed, until they have expired.
        retired = next(k for k in after if k.kid == before[0].kid)
        self.assertEqual((retired.active, retired.published), (False, True))
        self.assertIsInstance(retired.published_until, datetime)
        self.assertEqual(self.admin.list_signing_keys(), after)


if __name__ == "__main__":
    unittest.main()
