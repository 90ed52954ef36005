"""The Triton deployer against a real tritonserver: load -> ready -> infer over the Open Inference
Protocol v2 -> unload, version pinning, and Triton's own words in errors."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from numpy.typing import NDArray

from monitor.deployers.triton import TritonDeployer, TritonError, write_model_version
from tests.engines.logistic import (
    FEATURES,
    fit_classifier,
    logistic_config,
    write_logistic_model,
)
from tests.engines.triton_server import TritonServer

ROWS = np.random.default_rng(7).normal(size=(5, len(FEATURES))).astype(np.float32)


def infer(url: str, model: str, rows: NDArray[np.float32]) -> httpx.Response:
    """One OIP v2 inference request with the JSON tensor shape of the protocol: row-major data."""
    body = {
        "inputs": [
            {
                "name": "input__0",
                "shape": list(rows.shape),
                "datatype": "FP32",
                "data": rows.flatten().tolist(),
            }
        ]
    }
    return httpx.post(f"{url}/v2/models/{model}/infer", json=body, timeout=30)


def probabilities(response: httpx.Response) -> NDArray[np.float64]:
    assert response.status_code == 200, response.text
    (output,) = response.json()["outputs"]
    assert (output["name"], output["datatype"]) == ("predict_proba", "FP32")
    return np.asarray(output["data"], dtype=np.float64).reshape(output["shape"])


@pytest.fixture
def deployer(triton: TritonServer) -> Iterator[TritonDeployer]:
    with TritonDeployer(triton.url, timeout=60) as client:
        yield client


def test_a_loaded_version_serves_the_classifiers_probabilities(
    triton: TritonServer, deployer: TritonDeployer
) -> None:
    classifier = fit_classifier()
    config = write_logistic_model(triton.repository, "churn", version=1, classifier=classifier)

    deployer.load(config, version=1)

    assert deployer.server_ready()
    assert deployer.is_ready("churn", version=1)
    assert [(e.version, e.state) for e in deployer.index() if e.name == "churn"] == [("1", "READY")]
    response = infer(triton.url, "churn", ROWS)
    assert response.json()["model_version"] == "1"
    np.testing.assert_allclose(probabilities(response), classifier.predict_proba(ROWS), atol=1e-5)


def test_an_unloaded_model_is_not_ready_and_refuses_inference(
    triton: TritonServer, deployer: TritonDeployer
) -> None:
    config = write_logistic_model(
        triton.repository, "retired", version=1, classifier=fit_classifier()
    )
    deployer.load(config, version=1)

    deployer.unload("retired")

    assert not deployer.is_ready("retired")
    assert infer(triton.url, "retired", ROWS).status_code == 404


def test_load_serves_the_requested_version_alone(
    triton: TritonServer, deployer: TritonDeployer
) -> None:
    first, second = fit_classifier(seed=1), fit_classifier(seed=2)
    write_logistic_model(triton.repository, "pinned", version=1, classifier=first)
    config = write_logistic_model(triton.repository, "pinned", version=2, classifier=second)

    deployer.load(config, version=1)
    assert not deployer.is_ready("pinned", version=2)
    np.testing.assert_allclose(
        probabilities(infer(triton.url, "pinned", ROWS)), first.predict_proba(ROWS), atol=1e-5
    )

    deployer.load(config, version=2)
    assert not deployer.is_ready("pinned", version=1)
    response = infer(triton.url, "pinned", ROWS)
    assert response.json()["model_version"] == "2"
    np.testing.assert_allclose(probabilities(response), second.predict_proba(ROWS), atol=1e-5)


def test_loading_a_model_missing_from_the_repository_names_it(deployer: TritonDeployer) -> None:
    with pytest.raises(TritonError, match="model 'ghost': failed to load 'ghost'"):
        deployer.load(logistic_config("ghost"), version=1)


def test_a_model_that_fails_to_start_reports_tritons_reason(
    triton: TritonServer, deployer: TritonDeployer, tmp_path: Path
) -> None:
    (tmp_path / "model.py").write_text("raise ImportError('scorer dependency missing')\n")
    config = logistic_config("broken")
    write_model_version(triton.repository, config, version=1, source=tmp_path)

    with pytest.raises(TritonError, match=r"model 'broken'.*scorer dependency missing"):
        deployer.load(config, version=1)


def test_the_written_config_pbtxt_is_the_config_triton_reads(
    triton: TritonServer, deployer: TritonDeployer
) -> None:
    config = write_logistic_model(
        triton.repository, "from-file", version=1, classifier=fit_classifier()
    )

    # Loaded with no config in the request: Triton parses the repository's config.pbtxt.
    httpx.post(f"{triton.url}/v2/repository/models/from-file/load", timeout=60).raise_for_status()
    served = httpx.get(f"{triton.url}/v2/models/from-file/config").json()

    expected = config.as_json()
    for key in ("name", "backend", "max_batch_size", "input", "output"):
        assert _comparable(served[key]) == _comparable(expected[key]), key
    assert served["instance_group"][0]["kind"] == "KIND_CPU"
    deployer.unload("from-file")


def test_an_existing_version_is_never_overwritten(tmp_path: Path) -> None:
    repository, files = tmp_path / "models", tmp_path / "files"
    files.mkdir()
    (files / "model.py").write_text("")
    config = logistic_config("churn")
    write_model_version(repository, config, version=1, source=files)

    with pytest.raises(ValueError, match="version 1 of model 'churn' already exists"):
        write_model_version(repository, config, version=1, source=files)


def _comparable(value: Any) -> Any:
    """Triton's JSON with only the fields we set, and dims as numbers (it writes int64 as text)."""
    if isinstance(value, list):
        return [_comparable(item) for item in value]
    if isinstance(value, dict):
        fields = ("name", "data_type", "dims")
        return {key: _comparable(value[key]) for key in fields} if "dims" in value else value
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    return value
