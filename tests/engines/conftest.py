"""A real tritonserver per test module. Without `.venv-triton` the engine tests skip with the
fix in the reason, except under CI=true, where they fail: CI must run them."""

import os
from collections.abc import Iterator

import pytest

from tests.engines.triton_server import TritonInstall, TritonServer


@pytest.fixture(scope="module")
def triton(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TritonServer]:
    try:
        install = TritonInstall.find()
    except FileNotFoundError as error:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{error}; CI requires the Triton engine tests", pytrace=False)
        pytest.skip(str(error))
    server = TritonServer(install, tmp_path_factory.mktemp("triton"))
    server.start()
    try:
        yield server
    finally:
        server.stop()
