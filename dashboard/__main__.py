"""`python -m dashboard --api http://host:port --port 8050`: the dashboard on its own."""

import argparse
import os

from dashboard.app import create_dashboard


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m dashboard", description=__doc__)
    parser.add_argument(
        "--api", default="http://127.0.0.1:8000", help="base URL of the monitor's REST API"
    )
    parser.add_argument(
        "--api-key",
        default=os.environ.get("MONITOR_DASHBOARD_API_KEY"),
        help="a `read` key (default: $MONITOR_DASHBOARD_API_KEY)",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind")
    parser.add_argument("--port", type=int, default=8050, help="port to bind")
    options = parser.parse_args()
    if not options.api_key:
        parser.error("--api-key or MONITOR_DASHBOARD_API_KEY is required (a `read` key)")
    app = create_dashboard(options.api, options.api_key)
    app.run(host=options.host, port=options.port, debug=False)


if __name__ == "__main__":
    main()
