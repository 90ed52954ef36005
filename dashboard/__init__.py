"""The web dashboard: a Plotly Dash app that reads the monitor's REST API, never its store."""
