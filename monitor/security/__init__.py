"""What keeps secrets secret and the network safe: masking and redaction on the way out,
encryption at rest, and the egress policy for outgoing requests."""
