"""The egress policy: outgoing requests reach only public addresses unless allowed."""

import pytest

from tests.notifications.receiver import Receiver
from triggers.egress import EgressRefused, check_destination
from triggers.notifications import OutboundRequest
from triggers.notifications.http import client_for, post


@pytest.mark.parametrize(
    ("host", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("localhost", "loopback"),
        ("169.254.169.254", "link-local"),
        ("10.0.0.7", "private"),
        ("192.168.1.1", "private"),
        ("::1", "loopback"),
        ("::ffff:169.254.169.254", "link-local"),
        ("0.0.0.0", "unspecified"),
    ],
)
def test_a_non_public_destination_is_refused_naming_the_setting(host: str, kind: str) -> None:
    with pytest.raises(EgressRefused, match=rf"\({kind}\).*MONITOR_EGRESS_ALLOW_PRIVATE"):
        check_destination(host, 80)


def test_a_public_address_passes() -> None:
    check_destination("8.8.8.8", 443)


def test_a_notification_to_loopback_is_not_sent_without_the_setting(receiver: Receiver) -> None:
    request = OutboundRequest(url=receiver.url + "/hook", body=b"{}", headers={}, secrets=())
    result = post(request, client_for(1.0, allow_private=False))
    assert result.status_code is None
    assert result.error is not None and "MONITOR_EGRESS_ALLOW_PRIVATE" in result.error
    assert receiver.requests == []
