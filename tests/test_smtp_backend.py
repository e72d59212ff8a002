"""R13.2 / issue 17: the SMTP backend the outbox sends email with (`notifications.channels.smtp`)
pipelines MAIL, RCPT and DATA where the server offers it, and writes the same messages as
Django's own backend — refusals raised as smtplib raises them, the session usable after each."""

import smtplib
from email import message_from_bytes
from email.policy import compat32

import pytest
from django.core.mail import EmailMultiAlternatives, get_connection

from notifications.channels.mime import flat_bytes
from notifications.channels.smtp import HEADER_LINES, EmailBackend, flatten


def message(n, to=("noc@msp-a.example", "oncall@msp-a.example"), subject=None, connection=None):
    mail = EmailMultiAlternatives(
        subject=subject or f"[A-{n}] Alert: Appliance backup-{n} offline",
        body=f"Appliance backup-{n} has not been seen for 2 hours.\n.A line that starts with a dot\n",
        to=list(to), headers={"X-Uniview-Alert": f"A-{n}"}, connection=connection,
    )
    mail.attach_alternative(f"<p>Appliance backup-{n} offline</p>", "text/html")
    return mail


@pytest.fixture
def mail(smtp):
    connection = get_connection(fail_silently=False)
    assert isinstance(connection, EmailBackend)
    connection.open()
    yield connection
    connection.close()


def test_r13_2_messages_are_pipelined_on_one_connection_and_arrive_whole(smtp, mail):
    writes = []
    send = mail.connection.send
    mail.connection.send = lambda data: writes.append(data) or send(data)
    assert mail.send_messages([message(n) for n in range(3)]) == 3
    assert mail.connection.has_extn("pipelining")
    assert writes.pop(0).startswith("ehlo")
    assert len(writes) == 2 * 3  # MAIL + 2 RCPT + DATA in one write, the message in another
    assert writes[0].startswith("MAIL FROM:") and writes[0].endswith("DATA\r\n")
    assert [m["Subject"] for m in smtp.messages] == [f"[A-{n}] Alert: Appliance backup-{n} offline" for n in range(3)]
    assert smtp.envelopes == [["noc@msp-a.example", "oncall@msp-a.example"]] * 3
    body = smtp.messages[0].get_body(("plain",)).get_content()
    assert ".A line that starts with a dot" in body.splitlines()  # dot-stuffed on the way, unstuffed at the server
    assert "backup-0 offline</p>" in smtp.messages[0].get_body(("html",)).get_content()


def test_r13_5_a_451_after_data_is_raised_and_the_next_message_goes_out_on_the_same_session(smtp, mail):
    smtp.server_error(times=1)
    with pytest.raises(smtplib.SMTPDataError) as refused:
        message(1, connection=mail).send()
    assert refused.value.smtp_code == 451
    message(2, connection=mail).send()
    assert [m["X-Uniview-Alert"] for m in smtp.messages] == ["A-2"]


def test_r13_2_a_refused_recipient_leaves_the_others_and_all_refused_is_raised(smtp, mail):
    smtp.refuse("oncall@msp-a.example")
    message(1, connection=mail).send()
    assert smtp.envelopes == [["noc@msp-a.example"]]
    smtp.refuse("noc@msp-a.example", "oncall@msp-a.example")
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        message(2, connection=mail).send()
    assert set(refused.value.recipients) == {"noc@msp-a.example", "oncall@msp-a.example"}
    smtp.heal()
    message(3, connection=mail).send()  # the session was reset, not left mid-transaction
    assert [m["X-Uniview-Alert"] for m in smtp.messages] == ["A-1", "A-3"]


@pytest.mark.parametrize("subject", [
    "[A-1] Alert: Appliance backup-1 offline",
    "[A-2] Alert: Ünïcode in the title — and a dash",
    "[A-3] Alert:  two spaces and\ta tab",
    "[A-4] Alert: " + "a very long title that goes on " * 6,
    "",
])
def test_header_lines_write_what_django_folding_writes(subject):
    """The short cut for one-line headers changes no byte of a message."""
    built = message(1, subject=subject).message()
    built.set_boundary("===============0123456789abcdef==")
    django_bytes = built.as_bytes(linesep="\r\n")
    built.policy = HEADER_LINES
    ours = built.as_bytes(linesep="\r\n")
    assert ours == django_bytes
    assert message_from_bytes(ours, policy=compat32)["Subject"] is not None


FIXED = {"Date": "Mon, 30 Nov 2026 21:56:29 -0000", "Message-ID": "<1.2.3@uniview.example>"}
BOUNDARY = "===============0123456789abcdef0123456789abcdef=="


def django_bytes(email):
    built = email.message()
    built.set_boundary(BOUNDARY)
    return built.as_bytes(linesep="\r\n")


@pytest.mark.parametrize("subject, body, html", [
    ("[A-1] Alert: Appliance backup-1 offline", "Line one\nLine two\n", "<p>one</p>\n"),
    ("[A-2] Alert: Ünïcode in the title — and a dash", "Organisation: Müller & Söhne\r\n— dash\n", "<p>Müller</p>"),
    ("[A-3] Alert:  two spaces and\ta tab", "no newline at the end", "<p>x</p>\r\n<p>y</p>"),
    ("[A-4] Alert: " + "a very long title that goes on " * 6, ".leading dot\n\nblank above\n", "<b>bold</b>\n"),
    ("", "x" * 998 + "\n", "<p>" + "y" * 990 + "</p>"),
])
def test_the_usual_message_is_written_straight_to_the_bytes_django_writes(subject, body, html):
    """Issue 17: a text-and-HTML message skips Django's MIME tree, byte for byte the same."""
    email = EmailMultiAlternatives(subject=subject, body=body, to=["noc@msp-a.example", "Jane <jane@msp-a.example>"],
                                   headers={**FIXED, "X-Uniview-Alert": "A-1", "X-Uniview-Event": "6f1c0d2e"})
    email.attach_alternative(html, "text/html")
    ours = flat_bytes(email, BOUNDARY, compat32)
    assert ours is not None
    assert ours == django_bytes(email)
    assert flat_bytes(email, BOUNDARY, HEADER_LINES) == ours  # the one-line short cut changes nothing either


def test_a_message_of_another_shape_takes_djangos_way():
    long_line = EmailMultiAlternatives(subject="s", body="z" * 999, to=["noc@msp-a.example"])
    long_line.attach_alternative("<p>x</p>", "text/html")
    attached = EmailMultiAlternatives(subject="s", body="b", to=["noc@msp-a.example"])
    attached.attach_alternative("<p>x</p>", "text/html")
    attached.attach("report.csv", "a,b\n", "text/csv")
    own_to = EmailMultiAlternatives(subject="s", body="b", to=["noc@msp-a.example"], headers={"To": "all@msp-a.example"})
    own_to.attach_alternative("<p>x</p>", "text/html")
    for email in (long_line, attached, own_to):
        assert flat_bytes(email, BOUNDARY, compat32) is None
        assert message_from_bytes(flatten(email))["Subject"] == "s"
