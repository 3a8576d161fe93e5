"""The newsletter service: mail From the domain, sent by SMTP from the controller's address on the lab network.

It is no host of the inventory and not in the domain's SPF record. Without a key it sends unsigned
(its mail fails DMARC at the receiver); with one it signs as the domain with dkimpy (it aligns).

    python newsletter.py SERVER FROM TO COUNT LABEL [KEY_FILE SELECTOR]
"""
import smtplib
import sys
import uuid
from email.message import EmailMessage
from email.utils import formatdate

import dkim


def message(sender, recipient, label, number):
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Date"] = "Newsletter <%s>" % sender, recipient, formatdate()
    msg["Subject"] = "Newsletter %s %d" % (label, number)
    msg["Message-ID"] = "<%s@%s>" % (uuid.uuid4().hex, sender.split("@")[1])
    msg.set_content("Newsletter number %d of %s.\n" % (number, label))
    return msg.as_bytes()


def main(server, sender, recipient, count, label, key_file=None, selector=None):
    domain = sender.split("@")[1]
    with smtplib.SMTP(server, 25, local_hostname="news." + domain, timeout=60) as smtp:
        for number in range(1, int(count) + 1):
            raw = message(sender, recipient, label, number)
            if key_file:
                with open(key_file, "rb") as f:
                    raw = dkim.sign(raw, selector.encode(), domain.encode(), f.read(),
                                    include_headers=[b"from", b"to", b"subject", b"date", b"message-id"]) + raw
            smtp.sendmail("bounces@" + domain, [recipient], raw)


if __name__ == "__main__":
    main(*sys.argv[1:])
