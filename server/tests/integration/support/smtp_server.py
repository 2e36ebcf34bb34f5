"""The test SMTP server for the mail-transport tests (started by support/smtp.rs).

aiosmtpd writing every accepted message into a Maildir, as `python3 -m aiosmtpd -c
aiosmtpd.handlers.Mailbox` does, plus what those tests need: TLS from the first byte
(--implicit-tls) or STARTTLS (--starttls) with the given certificate, AUTH with one user
and password (--user, --password) by the mechanisms --mechanisms lists, and a recipient
refused for good (--reject, answered 550). Each stored message says how it arrived, in
X-Test-TLS (yes/no) and X-Test-Auth (the mechanism and user, or none), and every
refused recipient is appended to <maildir>/../rejected.
"""

import argparse
import asyncio
import pathlib
import ssl

from aiosmtpd.handlers import Mailbox
from aiosmtpd.smtp import SMTP, AuthResult

MECHANISMS = ("LOGIN", "PLAIN")


class Handler(Mailbox):
    def __init__(self, maildir, reject):
        super().__init__(maildir)
        self.reject = reject
        self.rejected_log = pathlib.Path(maildir).parent / "rejected"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address == self.reject:
            with open(self.rejected_log, "a") as log:
                log.write(address + "\n")
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = self.prepare_message(session, envelope)
        secure = server.transport.get_extra_info("ssl_object") is not None
        message["X-Test-TLS"] = "yes" if secure else "no"
        message["X-Test-Auth"] = session.auth_data or "none"
        self.handle_message(message)
        return "250 OK"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--listen", required=True, help="HOST:PORT")
    parser.add_argument("--maildir", required=True)
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--implicit-tls", action="store_true")
    parser.add_argument("--starttls", action="store_true")
    parser.add_argument("--user")
    parser.add_argument("--password")
    parser.add_argument("--mechanisms", default="LOGIN,PLAIN")
    parser.add_argument("--reject")
    args = parser.parse_args()

    context = None
    if args.cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.cert, args.key)

    def authenticator(server, session, envelope, mechanism, login_password):
        login = login_password.login.decode()
        password = login_password.password.decode()
        if login == args.user and password == args.password:
            return AuthResult(success=True, auth_data=f"{mechanism} {login}")
        return AuthResult(success=False, handled=False)

    handler = Handler(args.maildir, args.reject)
    allowed = set(args.mechanisms.split(","))
    options = {}
    if args.user:
        options = {
            "authenticator": authenticator,
            "auth_required": True,
            # On an implicit-TLS connection aiosmtpd does not see its own TLS.
            "auth_require_tls": not args.implicit_tls,
            "auth_exclude_mechanism": [m for m in MECHANISMS if m not in allowed],
        }
    if args.starttls:
        options["tls_context"] = context

    def factory():
        return SMTP(handler, hostname="smtp.test", **options)

    host, port = args.listen.rsplit(":", 1)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    server = loop.run_until_complete(
        loop.create_server(
            factory,
            host=host,
            port=int(port),
            ssl=context if args.implicit_tls else None,
            reuse_address=True,
        )
    )
    try:
        loop.run_forever()
    finally:
        server.close()


if __name__ == "__main__":
    main()
