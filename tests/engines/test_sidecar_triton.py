"""The sidecar in front of Triton, as deployed on a GPU host: a real `monitor sidecar` with a
real tritonserver upstream, shipping to a real `monitor serve`. Callers get Triton's own answers
over the Open Inference Protocol v2 under the public model name, while Triton serves the model
under the endpoint's `v2_model_name`; the control plane gets one record per input row."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from monitor.deployers.triton import TritonDeployer
from tests.e2e.server import MonitorServer, bearer, running_server
from tests.engines.logistic import FEATURES, fit_classifier, write_logistic_model
from tests.engines.triton_server import TritonServer
from tests.sidecar.processes import arrived, sidecar_client, wait_for

pytestmark = pytest.mark.slow

MODEL = "churn"
TRITON_MODEL = "churn_v2"  # the name in Triton's repository, not the public one
ROWS = np.random.default_rng(11).normal(size=(3, len(FEATURES))).astype(np.float32)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sidecar-triton")


@pytest.fixture(scope="module")
def upstream(triton: TritonServer) -> str:
    """Triton serving version 1 of the churn classifier as `churn_v2`."""
    config = write_logistic_model(
        triton.repository, TRITON_MODEL, version=1, classifier=fit_classifier()
    )
    with TritonDeployer(triton.url, timeout=60) as deployer:
        deployer.load(config, version=1)
    return triton.url


@pytest.fixture(scope="module")
def admin(workdir: Path, upstream: str) -> Iterator[tuple[MonitorServer, httpx.Client]]:
    """The control plane with `churn` registered and Triton as its endpoint."""
    with running_server(workdir) as server:
        headers = bearer(server.create_key("admin"))
        with httpx.Client(base_url=server.base_url, headers=headers, timeout=30.0) as client:
            model = {
                "name": MODEL,
                "task": "binary_classification",
                "features": [{"name": name, "kind": "numerical"} for name in FEATURES],
                "class_labels": ["0", "1"],
            }
            assert client.post("/api/v1/models", json=model).status_code == 201
            endpoint = {
                "name": "triton",
                "url": upstream,
                "protocol": "v2",
                "model_version": "1",
                "v2_model_name": TRITON_MODEL,
            }
            reply = client.post(f"/api/v1/models/{MODEL}/endpoints", json=endpoint)
            assert reply.status_code == 201, reply.text
            yield server, client


@pytest.fixture(scope="module")
def sidecar(
    workdir: Path, upstream: str, admin: tuple[MonitorServer, httpx.Client]
) -> Iterator[httpx.Client]:
    control_plane, _ = admin
    with sidecar_client(workdir, control_plane, model=MODEL, upstream=upstream) as client:
        wait_for(
            "the sidecar to read the routing naming Triton's model",
            lambda: (
                client.get("/sidecar/status").json()["variants"][0]["v2_model_name"] == TRITON_MODEL
            ),
        )
        yield client


def v2_request(rows: np.ndarray[Any, Any]) -> dict[str, Any]:
    data = rows.flatten().tolist()
    return {
        "inputs": [
            {"name": "input__0", "shape": list(rows.shape), "datatype": "FP32", "data": data}
        ]
    }


def test_callers_get_tritons_own_answers_through_the_sidecar(
    sidecar: httpx.Client, upstream: str
) -> None:
    body = v2_request(ROWS)

    through = sidecar.post(f"/v2/models/{MODEL}/infer", json=body)
    direct = httpx.post(f"{upstream}/v2/models/{TRITON_MODEL}/infer", json=body, timeout=30.0)

    assert through.status_code == direct.status_code == 200
    assert through.json() == direct.json()
    assert through.json()["model_name"] == TRITON_MODEL
    assert (through.headers["X-Model-Variant"], through.headers["X-Model-Version"]) == (
        "stable",
        "1",
    )


def test_the_public_name_reaches_tritons_model_on_every_v2_path(
    sidecar: httpx.Client, upstream: str
) -> None:
    assert httpx.get(f"{upstream}/v2/models/{MODEL}/ready", timeout=30.0).status_code != 200
    assert sidecar.get(f"/v2/models/{MODEL}/ready").status_code == 200
    assert sidecar.get(f"/v2/models/{MODEL}").json()["name"] == TRITON_MODEL
    pinned = sidecar.post(f"/v2/models/{MODEL}/versions/1/infer", json=v2_request(ROWS))
    assert (pinned.status_code, pinned.json()["model_version"]) == (200, "1")


def test_each_input_row_arrives_with_its_features_in_schema_order_and_probabilities(
    sidecar: httpx.Client, admin: tuple[MonitorServer, httpx.Client]
) -> None:
    _, client = admin
    answer = sidecar.post(f"/v2/models/{MODEL}/infer", json=v2_request(ROWS))
    (output,) = answer.json()["outputs"]
    served = np.asarray(output["data"]).reshape(output["shape"])
    batch = answer.headers["X-Request-Id"]

    stored = arrived(client, MODEL, {f"{batch}:{row}" for row in range(len(ROWS))})

    for row, values in enumerate(ROWS):
        record = stored[f"{batch}:{row}"]
        expected = dict(zip(FEATURES, values.tolist(), strict=True))
        assert record["features"] == pytest.approx(expected)
        assert record["prediction"] == pytest.approx({"0": served[row][0], "1": served[row][1]})
        assert (record["variant"], record["status_code"]) == ("stable", 200)
