"""Email over SMTP to aiosmtpd (STARTTLS, AUTH, HTML and text, one-click unsubscribe headers,
bounces), SMS in the Twilio Messages API shape and push in the FCM HTTP v1 shape, each to a
local receiver that checks the request."""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from tests.test_destinations_support import Env, person

from touchpath.demo.receivers import HttpReceiver, SmtpReceiver
from touchpath.destinations import OutboxMessage
from touchpath.events import names

pytest_plugins = ("tests.test_destinations_support",)


def _msg(key: str, dest: str, channel: str, pid: str, content: dict[str, object]) -> OutboxMessage:
    return OutboxMessage(
        idempotency_key=key, destination=dest, channel=channel, profile_id=pid, content=content
    )


def test_email_over_starttls_with_auth(env: Env) -> None:
    with SmtpReceiver(user=("shop", "s3cret"), bounce={"gone@example.com"}) as smtp:
        env.put(
            "mail",
            {
                "kind": "smtp",
                "host": "127.0.0.1",
                "port": smtp.port,
                "security": "starttls",
                "username": "shop",
                "from_address": "news@shop.example",
                "from_name": "The Shop",
                "ca_cert": smtp.cert_pem.decode(),
            },
            {"password": "s3cret"},
        )
        ada = person(env.tp, "u1", email="ada@example.com", first_name="Ada")
        gone = person(env.tp, "u2", email="gone@example.com")
        html = '<html><body><p>Hi {{ traits.first_name }}</p><a href="https://shop.example/sale?a=1&amp;b=2">Sale</a></body></html>'
        content = {
            "subject": "Hello {{ traits.first_name | default('you') }}",
            "text": "Hi",
            "html": html,
        }
        env.send(_msg("e1", "mail", "email", ada, content))
        (got,) = list(smtp.received)
        mail = got.data
        assert got.path == "ada@example.com"
        assert mail["Subject"] == "Hello Ada" and mail["From"] == "The Shop <news@shop.example>"
        assert mail["List-Unsubscribe"].startswith("<http://127.0.0.1:9999/v1/m/unsubscribe/")
        assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        text = mail.get_body(("plain",)).get_content()
        body = mail.get_body(("html",)).get_content()
        assert text.strip() == "Hi"
        assert "Hi Ada" in body and "/v1/m/open/" in body and "/v1/m/click/" in body
        assert "https://shop.example/sale" not in body  # the link goes through the redirect
        row = env.row("e1")
        assert row["state"] == "sent" and row["provider_id"] == f"<{row['id']}@shop.example>"
        env.send(_msg("e2", "mail", "email", gone, {"subject": "x", "text": "y"}))
        row = env.row("e2")
        assert (row["state"], row["last_status"]) == ("dead", 550)
        (bounce,) = env.events(names.MESSAGE_BOUNCED)
        assert bounce["user_id"] == "u2" and "550" in bounce["properties"]["reason"]
        env.send(_msg("e3", "mail", "email", gone, {"subject": "x", "text": "y"}))
        assert env.row("e3")["last_error"] == "unsubscribed: every email message"
        # the address itself is suppressed too, whoever names it
        env.send(
            OutboxMessage(
                idempotency_key="e4",
                destination="mail",
                channel="email",
                recipient="gone@example.com",
                content={"subject": "x", "text": "y"},
            )
        )
        assert env.row("e4")["last_error"] == "the address hard-bounced (5.1.1)"


def test_email_with_a_wrong_password_is_retried(env: Env) -> None:
    with SmtpReceiver(user=("shop", "right")) as smtp:
        env.put(
            "mail",
            {"kind": "smtp", "host": "127.0.0.1", "port": smtp.port, "username": "shop",
             "from_address": "a@shop.example", "ca_cert": smtp.cert_pem.decode()},
            {"password": "wrong"},
        )  # fmt: skip
        pid = person(env.tp, "u3", email="b@example.com")
        env.send(_msg("w", "mail", "email", pid, {"subject": "s", "text": "t"}))
        row = env.row("w")
        assert row["state"] == "dead" and row["last_status"] == 535 and not smtp.received


def test_sms_in_the_twilio_shape(env: Env) -> None:
    with HttpReceiver(twilio_auth=("AC123", "tok")) as r:
        env.put(
            "texts",
            {"kind": "twilio", "account_sid": "AC123", "from_number": "+15005550006",
             "base_url": r.url},
            {"auth_token": "tok"},
        )  # fmt: skip
        pid = person(env.tp, "u4", phone="+4915100000009", name="Cy")
        env.send(_msg("s1", "texts", "sms", pid, {"body": "Hi {{ traits.name }}"}))
        (got,) = r.of("sms")
        assert got.data["To"] == "+4915100000009" and got.data["Body"] == "Hi Cy"
        assert got.data["From"] == "+15005550006"
        assert got.data["StatusCallback"] == "http://127.0.0.1:9999/v1/m/callbacks/twilio"
        row = env.row("s1")
        assert row["state"] == "sent" and row["provider_id"].startswith("SM")


def test_push_in_the_fcm_v1_shape_with_a_service_account(env: Env) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()  # fmt: skip
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    with HttpReceiver(fcm_public_key=public, fcm_token="ya29.test") as r:
        env.put(
            "push",
            {"kind": "fcm", "project_id": "shop-app", "base_url": r.url,
             "token_uri": r.url + "/token", "client_email": "svc@shop-app.iam.example"},
            {"private_key": pem},
        )  # fmt: skip
        pid = person(env.tp, "u5", push_token="device-token-1")
        content = {"title": "Sale", "body": "Now on", "data": {"sku": 42}}
        env.send(_msg("p1", "push", "push", pid, content), _msg("p2", "push", "push", pid, content))
        assert len(r.of("token")) == 1  # the access token is kept
        got = r.of("push")[0].data
        assert got["token"] == "device-token-1"
        assert got["notification"] == {"title": "Sale", "body": "Now on"}
        assert got["data"]["sku"] == "42" and got["data"]["touchpath_message_id"].startswith("msg_")
        assert env.row("p1")["provider_id"].startswith("projects/shop-app/messages/")
