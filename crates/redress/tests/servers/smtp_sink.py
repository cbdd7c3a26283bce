#!/usr/bin/python3
"""An SMTP server for the integration tests: it keeps every message it accepts as files.

    /usr/bin/python3 smtp_sink.py --dir DIR --cert CERT.pem --key KEY.pem \
        --user USER --password PASS [--delay-data SECONDS]

It listens on a free port of 127.0.0.1 and prints `listening PORT` once it accepts connections.
Clients must STARTTLS (with CERT/KEY), then AUTH (PLAIN or LOGIN) as USER/PASS, before MAIL.

Each accepted message n (1, 2, ...) becomes DIR/n.json ({"mail_from", "rcpt_tos", "message_id"})
and then DIR/n.eml (the raw bytes as received, CRLF line ends). Both are renamed into place from
a temporary name, and the .eml comes last, so a reader that sees n.eml finds n.json complete.

Recipients whose local part starts with `reject` get `550 5.1.1` at RCPT, those starting with
`tempfail` get `451 4.3.0`. `--delay-data S` waits S seconds after the message's final dot
before storing it and answering 250; a client that disconnects meanwhile cancels the
transaction (aiosmtpd cancels the handler), so nothing is stored for it.

SIGTERM or SIGINT stops it cleanly (exit status 0).
"""

import argparse
import asyncio
import email.parser
import email.policy
import json
import logging
import os
import signal
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Sink:
    """The aiosmtpd handler: the RCPT rules and the message store."""

    def __init__(self, directory, delay_data):
        self.directory = directory
        self.delay_data = delay_data
        self.count = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.rsplit("@", 1)[0].lower()
        if local.startswith("reject"):
            return "550 5.1.1 mailbox unavailable"
        if local.startswith("tempfail"):
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.delay_data > 0:
            await asyncio.sleep(self.delay_data)
        # From here to the reply there is no await: the message is stored whole or not at all.
        raw = envelope.original_content
        self.count += 1
        n = self.count
        meta = {
            # aiosmtpd keeps the null reverse-path as "<>"; the address alone is "" then.
            "mail_from": "" if envelope.mail_from == "<>" else envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "message_id": message_id(raw),
        }
        self.write(f"{n}.json", json.dumps(meta).encode("ascii"))
        self.write(f"{n}.eml", raw)
        return "250 OK"

    def write(self, name, data):
        tmp = os.path.join(self.directory, f".{name}.tmp")
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, os.path.join(self.directory, name))


def message_id(raw):
    """The Message-ID header's value (unfolded, trimmed), or None without one."""
    headers = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(raw)
    value = headers.get("Message-ID")
    if value is None:
        return None
    return " ".join(str(value).split())


def authenticator(user, password):
    def check(server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == user.encode()
            and auth_data.password == password.encode()
        )
        # handled=False: aiosmtpd itself then answers a failure with 535.
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    return check


async def serve(args):
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(args.cert, args.key)
    sink = Sink(args.dir, args.delay_data)
    check = authenticator(args.user, args.password)

    def protocol():
        return SMTP(
            sink,
            hostname="localhost",
            tls_context=tls,
            require_starttls=True,
            auth_required=True,
            auth_require_tls=True,
            authenticator=check,
            enable_SMTPUTF8=True,
        )

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    server = await loop.create_server(protocol, host="127.0.0.1", port=0)
    port = server.sockets[0].getsockname()[1]
    print(f"listening {port}", flush=True)
    await stop.wait()
    # No wait_closed(): on newer Pythons it waits for the clients too; asyncio.run cancels them.
    server.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--delay-data", type=float, default=0.0)
    args = parser.parse_args()
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
    # aiosmtpd itself sets the deprecated Session.login_data on every AUTH and warns about it.
    logging.getLogger("mail.log").addFilter(lambda r: "login_data is deprecated" not in r.getMessage())
    asyncio.run(serve(args))


if __name__ == "__main__":
    main()
