"""schemathesis against the live `/openapi.json` of a real `monitor serve` on PostgreSQL.

Every operation in the document is tested (none is listed here, so routes added later are
fuzzed too), in every phase schemathesis offers:

- examples: the examples the schemas carry;
- coverage: boundary and just-out-of-bounds values of every constraint, deterministically;
- fuzzing: Hypothesis-generated valid and invalid requests;
- stateful: sequences that follow the OpenAPI links (register a model, then read it, add a
  monitor, run it, read the run...), so operations are reached with identifiers that exist.

Checks enabled, and why:

- `not_a_server_error`: no input, however malformed, may produce a 5xx (a 503 while the
  database is away is the one documented exception, and the database stays up here);
- `status_code_conformance`: every status the server answers is declared for the operation,
  so client generators know all outcomes;
- `response_schema_conformance` and `content_type_conformance`: bodies match the declared
  models, so generated clients can parse them.

Not enabled: `positive_data_acceptance` (a schema-valid body may still be refused for state
the schema cannot express: a name already taken, a model that does not exist yet) and
`negative_data_rejection` (patterns such as model names are checked where a path is matched,
and a few bodies are accepted loosely on purpose, e.g. integer class labels as text).
`use_after_free` and the other stateful-only checks run with the stateful phase by default.

The run is bounded (5 examples per operation in the fuzzing phase, deterministic generation,
one worker, no unexpected-method probes: see schemathesis.toml) and finds the same cases on
every run. The fuzzer may revoke or rotate the key it uses; auth_hooks.py then issues another.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.api.fuzzing.auth_hooks import DATABASE_URL_VARIABLE
from tests.e2e.server import running_server

MAX_EXAMPLES = 5
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "response_schema_conformance",
    "content_type_conformance",
)
PHASES = ("examples", "coverage", "fuzzing", "stateful")
# About a minute on an idle 2-core machine; several times that on a loaded one.
RUN_TIMEOUT_S = 840
REPOSITORY = Path(__file__).resolve().parents[3]
CONFIG = Path(__file__).with_name("schemathesis.toml")


def _schemathesis_command(*args: str) -> list[str]:
    script = Path(sys.executable).with_name("st")
    if not script.exists():
        pytest.fail(f"schemathesis' `st` is not installed next to {sys.executable}", False)
    return [str(script), *args]


def _operations(document: dict[str, object]) -> int:
    paths = document["paths"]
    assert isinstance(paths, dict)
    methods = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
    return sum(1 for item in paths.values() for method in item if method in methods)


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.timeout(RUN_TIMEOUT_S + 60)
def test_schemathesis_finds_no_failure_in_any_operation(
    postgres_database: str, tmp_path: Path
) -> None:
    settings = {"MONITOR_DATABASE_URL": postgres_database, "MONITOR_SCHEDULER": "false"}
    with running_server(tmp_path, settings) as server:
        document = httpx.get(f"{server.base_url}/openapi.json", timeout=10).json()
        env = {
            **os.environ,
            "PYTHONPATH": str(REPOSITORY),
            "SCHEMATHESIS_HOOKS": "tests.api.fuzzing.auth_hooks",
            DATABASE_URL_VARIABLE: postgres_database,
        }
        completed = subprocess.run(
            _schemathesis_command(
                "--config-file",
                str(CONFIG),
                "run",
                f"{server.base_url}/openapi.json",
                "--phases",
                ",".join(PHASES),
                "--checks",
                ",".join(CHECKS),
                "--max-examples",
                str(MAX_EXAMPLES),
                "--generation-deterministic",
                "--workers",
                "1",
                "--request-timeout",
                "20",
                "--no-color",
                "--report",
                "junit",
                "--report-junit-path",
                str(tmp_path / "schemathesis.xml"),
            ),
            cwd=tmp_path,  # schemathesis keeps a crash cache in its working directory
            env=env,
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT_S,
            check=False,
        )
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output[-20_000:]
    tested = re.search(r"Tested: (\d+)", output)
    assert tested is not None, output[-5_000:]
    assert int(tested.group(1)) == _operations(document), json.dumps(sorted(document["paths"]))
