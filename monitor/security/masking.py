"""Secrets on the way out: enough of a value to recognise it, never to use it."""

import re
from urllib.parse import urlsplit

# The signature of a signed link (the training-data link of an HTTP pipeline): whoever has it
# downloads without a key, so it is only ever given to the pipeline.
_LINK_SIGNATURE = re.compile(r"([?&]signature=)[^&\s\"'<>]+")


def mask(value: str) -> str:
    """Enough of a secret to recognise it: a URL's origin, or a token's last four characters."""
    parts = urlsplit(value)
    if parts.scheme in ("http", "https") and parts.hostname:
        port = f":{parts.port}" if parts.port else ""
        return f"{parts.scheme}://{parts.hostname}{port}/****"
    return "****" + value[-4:] if len(value) >= 16 else "****"


def redact_signed_links(text: str) -> str:
    """`text` with the signature of every signed link in it replaced by `****`."""
    return _LINK_SIGNATURE.sub(r"\1****", text)
