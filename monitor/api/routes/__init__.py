"""One module per resource; each route parses, authorises, calls a service and shapes the reply."""
