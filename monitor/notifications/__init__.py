"""Notifications: new outbox events fanned out into deliveries per channel (filters, grouping),
and the dispatcher that sends them with retries, rate limits and an attempt log. All state lives
in the store, so a dispatcher that restarts carries on where it stopped."""
