"""One module per page: `layout(request, ...)` renders it, `register(app, api)` wires it."""
