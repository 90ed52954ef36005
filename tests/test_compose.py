"""docker-compose.yml and the Dockerfile: every command they run exists with the options given,
every `MONITOR_*` variable is a setting, and the start order and health checks hold together."""

import json
import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from monitor.settings import Settings

REPO = Path(__file__).resolve().parents[1]
COMPOSE_FILE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "Dockerfile"

CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}
# Compose interpolation: ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}, ${NAME?error}
VARIABLE = re.compile(r"\$\{(?P<name>\w+)(?:(?P<operator>:?[-?])(?P<rest>[^}]*))?\}")
SECRET_NAME = re.compile(r"PASSWORD|API_KEY|SECRET|TOKEN")
PROBED_URL = re.compile(r"http://127\.0\.0\.1:(?P<port>\d+)(?P<path>/[^'\"\s]*)")


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text())
    return loaded


def _services() -> dict[str, dict[str, Any]]:
    services: dict[str, dict[str, Any]] = _compose()["services"]
    return services


def _interpolate(text: str) -> str:
    """What compose would substitute, with a stand-in for values the operator supplies."""

    def substitute(match: re.Match[str]) -> str:
        if match["operator"] in {":-", "-"}:
            return match["rest"]
        return "example"

    return VARIABLE.sub(substitute, text).replace("$$", "$")


def _dockerfile_stages() -> dict[str, dict[str, Any]]:
    """Per stage: its base and its last instruction of each kind (continuations joined)."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    stages: dict[str, dict[str, Any]] = {}
    current: dict[str, Any] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        instruction, _, arguments = line.partition(" ")
        instruction = instruction.upper()
        if instruction == "FROM":
            image, _, name = arguments.partition(" AS ")
            inherited = stages.get(image.strip(), {})
            current = {**inherited, "FROM": inherited.get("FROM", image.strip())}
            stages[name.strip() or image.strip()] = current
        else:
            current[instruction] = arguments.strip()
    return stages


def _exec_form(arguments: str) -> list[str]:
    parsed = json.loads(arguments)
    assert isinstance(parsed, list), f"{arguments!r} is not the exec (JSON array) form"
    return [str(part) for part in parsed]


def _clis() -> dict[str, click.Command]:
    from mlflow.cli import cli as mlflow_cli

    from monitor.cli import main as monitor_cli

    return {"monitor": monitor_cli, "mlflow": mlflow_cli}


def _check_command_line(argv: list[str], where: str) -> None:
    """Resolve the subcommand path in the program's click CLI, then parse the options there."""
    program, *arguments = argv
    clis = _clis()
    assert program in clis, f"{where}: runs {program!r}, which is not a CLI of this image"
    command = clis[program]
    path = [program]
    while isinstance(command, click.Group) and arguments and not arguments[0].startswith("-"):
        name = arguments.pop(0)
        found = command.get_command(click.Context(command), name)
        assert found is not None, f"{where}: `{' '.join(path)}` has no subcommand {name!r}"
        command, path = found, [*path, name]
    assert not isinstance(command, click.Group), f"{where}: `{' '.join(path)}` needs a subcommand"
    declared = {opt for param in command.params for opt in (*param.opts, *param.secondary_opts)}
    for argument in arguments:
        option = argument.split("=", 1)[0]
        if option.startswith("-"):
            assert option in declared, (
                f"{where}: `{' '.join(path)}` has no option {option} (it has {sorted(declared)})"
            )
    try:
        command.make_context(" ".join(path), arguments)
    except click.UsageError as error:
        pytest.fail(f"{where}: `{' '.join(argv)}`: {error.format_message()}")


def _built_services() -> Iterator[tuple[str, dict[str, Any]]]:
    for name, service in _services().items():
        if "build" in service:
            yield name, service


def _argv(service: dict[str, Any]) -> list[str]:
    """What the container runs: its stage's entrypoint (or an override) and its command."""
    stage = _dockerfile_stages()[service["build"]["target"]]
    entrypoint = service.get("entrypoint") or _exec_form(stage["ENTRYPOINT"])
    command = service.get("command") or _exec_form(stage["CMD"])
    if isinstance(command, str):  # compose splits a string command the way a shell would
        command = shlex.split(command)
    return [_interpolate(part) for part in [*entrypoint, *command]]


def _environment(service: dict[str, Any]) -> dict[str, str | None]:
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        pairs = [item.split("=", 1) for item in environment]
        return {pair[0]: pair[1] if len(pair) > 1 else None for pair in pairs}
    return {name: None if value is None else str(value) for name, value in environment.items()}


def _depends_on(service: dict[str, Any]) -> dict[str, dict[str, Any]]:
    depends_on = service.get("depends_on") or {}
    if isinstance(depends_on, list):
        return {name: {"condition": "service_started"} for name in depends_on}
    return dict(depends_on)


def _one_shots() -> set[str]:
    return {
        target
        for service in _services().values()
        for target, rule in _depends_on(service).items()
        if rule.get("condition") == "service_completed_successfully"
    }


def _services_running(subcommand: str) -> list[str]:
    return [name for name, service in _built_services() if _argv(service)[1:2] == [subcommand]]


@pytest.mark.parametrize("name", [name for name, _ in _built_services()])
def test_built_services_run_commands_and_options_their_cli_accepts(name: str) -> None:
    _check_command_line(_argv(_services()[name]), f"service {name}")


def test_the_monitor_image_serves_the_control_plane_by_default() -> None:
    stages = _dockerfile_stages()
    runs_monitor = [
        name for name, stage in stages.items() if stage.get("ENTRYPOINT") == '["monitor"]'
    ]
    assert runs_monitor, 'no Dockerfile stage has ENTRYPOINT ["monitor"]'
    for name in runs_monitor:
        argv = [*_exec_form(stages[name]["ENTRYPOINT"]), *_exec_form(stages[name]["CMD"])]
        assert argv[:2] == ["monitor", "serve"], f"stage {name} runs {argv}"
        _check_command_line(argv, f"Dockerfile stage {name}")


def test_every_dockerfile_stage_with_a_default_command_runs_one_that_exists() -> None:
    for name, stage in _dockerfile_stages().items():
        if "ENTRYPOINT" in stage:
            argv = [*_exec_form(stage["ENTRYPOINT"]), *_exec_form(stage.get("CMD", "[]"))]
            _check_command_line(argv, f"Dockerfile stage {name}")


def test_the_images_run_as_a_non_root_user_on_python_3_11_slim() -> None:
    for name, stage in _dockerfile_stages().items():
        if "ENTRYPOINT" in stage:
            assert stage["FROM"] == "python:3.11-slim", f"stage {name} is built on {stage['FROM']}"
            assert stage.get("USER", "root") not in {"root", "0"}, f"stage {name} runs as root"


def test_the_monitor_image_checks_its_own_health() -> None:
    stage = _dockerfile_stages()["monitor"]
    assert "HEALTHCHECK" in stage
    assert "/readyz" in stage["HEALTHCHECK"]


def test_services_build_stages_the_dockerfile_has() -> None:
    stages = _dockerfile_stages()
    for name, service in _built_services():
        assert service["build"].get("target") in stages, f"service {name}: unknown build target"


def test_depends_on_names_existing_services_with_valid_conditions() -> None:
    services = _services()
    for name, service in services.items():
        for target, rule in _depends_on(service).items():
            assert target in services, f"service {name} depends on unknown service {target}"
            assert rule.get("condition") in CONDITIONS, (
                f"service {name}: depends_on {target} has condition {rule.get('condition')!r}; "
                f"use one of {sorted(CONDITIONS)}"
            )


def test_a_service_waited_on_until_healthy_has_a_healthcheck() -> None:
    services = _services()
    for name, service in services.items():
        for target, rule in _depends_on(service).items():
            if rule["condition"] == "service_healthy":
                assert "healthcheck" in services[target], (
                    f"service {name} waits for {target} to be healthy, which has no healthcheck"
                )


def test_every_long_running_service_has_a_healthcheck() -> None:
    one_shots = _one_shots()
    for name, service in _services().items():
        if name in one_shots:
            assert service.get("restart") == "no", f"one-shot service {name} must not restart"
            continue
        healthcheck = service.get("healthcheck") or {}
        assert healthcheck.get("test") and not healthcheck.get("disable"), (
            f"long-running service {name} has no healthcheck"
        )


def test_healthchecks_probe_the_port_each_service_listens_on() -> None:
    compared = 0
    for name, service in _built_services():
        probed = PROBED_URL.search(" ".join(service.get("healthcheck", {}).get("test", [])))
        argv = _argv(service)
        listens = [part.split("=", 1)[1] for part in argv if part.startswith("--port=")]
        if "--port" in argv:
            listens.append(argv[argv.index("--port") + 1])
        if probed and listens:
            assert probed["port"] == listens[0], f"service {name} probes another port"
            compared += 1
    assert compared >= 4, "fewer services than expected both listen on and probe a port"


def test_the_api_healthcheck_probes_a_route_the_app_has() -> None:
    from monitor.api.app import create_app

    routes = create_app(Settings(_env_file=None)).openapi()["paths"]
    for name in _services_running("serve"):
        probed = PROBED_URL.search(" ".join(_services()[name]["healthcheck"]["test"]))
        assert probed is not None, f"service {name}'s healthcheck probes no local URL"
        assert probed["path"] in routes, f"service {name} probes {probed['path']}, not a route"


def test_migrations_complete_before_the_api_and_the_scheduler_start() -> None:
    services = _services()
    migrators = _services_running("migrate")
    assert len(migrators) == 1, f"expected one `monitor migrate` service, found {migrators}"
    assert migrators[0] in _one_shots()
    dependants = _services_running("serve") + _services_running("scheduler")
    assert len(dependants) >= 2
    for name in dependants:
        rule = _depends_on(services[name]).get(migrators[0], {})
        assert rule.get("condition") == "service_completed_successfully", (
            f"service {name} must wait for {migrators[0]} to complete successfully"
        )
    for target, rule in _depends_on(services[migrators[0]]).items():
        assert rule["condition"] == "service_healthy", f"migrate must wait for {target} healthy"


def test_gpu_profile_services_reserve_a_gpu() -> None:
    gpu_services = [
        (name, service)
        for name, service in _services().items()
        if "gpu" in service.get("profiles", [])
    ]
    assert gpu_services, "no service in the gpu profile"
    for name, service in gpu_services:
        devices = service["deploy"]["resources"]["reservations"]["devices"]
        assert {"driver": "nvidia", "count": 1, "capabilities": ["gpu"]} in devices, name


def _monitor_variables() -> list[tuple[str, str]]:
    found = [
        (name, variable)
        for name, service in _services().items()
        for variable in _environment(service)
        if variable.startswith("MONITOR_")
    ]
    found += [
        ("Dockerfile", match) for match in re.findall(r"\bMONITOR_\w+(?==)", DOCKERFILE.read_text())
    ]
    return found


@pytest.mark.parametrize(("where", "variable"), _monitor_variables())
def test_monitor_variables_are_settings_fields(where: str, variable: str) -> None:
    # Written in parallel with this file; imported here so the rest runs without it.
    from monitor.sidecar.settings import SidecarSettings

    for settings_class in (SidecarSettings, Settings):
        prefix = str(settings_class.model_config.get("env_prefix", ""))
        if variable.startswith(prefix):
            field = variable.removeprefix(prefix).lower()
            assert field in settings_class.model_fields, (
                f"{where}: {variable} is not a setting of {settings_class.__name__}"
            )
            return


@pytest.mark.parametrize(
    "name",
    [name for name, service in _built_services() if "MONITOR_ENVIRONMENT" in _environment(service)],
)
def test_control_plane_services_get_valid_production_settings(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    environment = _environment(_services()[name])
    for variable, value in environment.items():
        monkeypatch.setenv(variable, "example" if value is None else _interpolate(value))
    settings = Settings(_env_file=None)
    assert settings.environment == "production"
    assert settings.resolved_database_url.startswith("postgresql")
    if _argv(_services()[name])[1] == "serve":
        assert settings.scheduler is False, f"{name}: the scheduler service schedules"


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield str(key)
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)
    elif isinstance(node, str):
        yield node


def test_secrets_have_no_default_values() -> None:
    for text in _strings(_compose()):
        for match in VARIABLE.finditer(text):
            if SECRET_NAME.search(match["name"]):
                assert match["operator"] in {None, ":?", "?"}, (
                    f"{match[0]}: a secret must come from the environment or .env, "
                    "never from a default written in docker-compose.yml"
                )
    for name, service in _services().items():
        for variable, value in _environment(service).items():
            if SECRET_NAME.search(variable) and value is not None:
                assert VARIABLE.search(value), (
                    f"service {name}: {variable} is written into docker-compose.yml"
                )
