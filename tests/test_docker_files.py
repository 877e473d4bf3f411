"""What can be checked of docker/ and .env.example without a Docker engine."""

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from bot.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
DOCKER = ROOT / "docker"
# Every setting the bot reads, taken from the model itself so a new one cannot be forgotten.
SETTINGS = {f"DTEAM_{name.upper()}" for name in Settings.model_fields}


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments dropped."""
    lines = [
        line
        for line in (DOCKER / "Dockerfile").read_text(encoding="utf-8").splitlines()
        if not line.lstrip().startswith("#")
    ]
    joined = re.sub(r"\\\n", " ", "\n".join(lines))
    result = []
    for line in joined.splitlines():
        if line.strip():
            keyword, _, args = line.strip().partition(" ")
            result.append((keyword.upper(), args.strip()))
    return result


def compose() -> dict[str, Any]:
    yaml = pytest.importorskip("yaml", reason="PyYAML is needed to parse docker/compose.yaml")
    data = yaml.safe_load((DOCKER / "compose.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def pyproject() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_dockerfile_base_user_and_command() -> None:
    instructions = dockerfile_instructions()
    assert instructions[0] == ("FROM", "python:3.11-slim")
    keywords = [keyword for keyword, _ in instructions]
    users = [args for keyword, args in instructions if keyword == "USER"]
    assert users, "the image must not run as root"
    assert users[-1] not in {"root", "0"}
    assert keywords.index("USER") < keywords.index("CMD")
    cmd = dict(instructions)["CMD"]
    assert json.loads(cmd) == ["dteam", "run"]
    assert "dteam" in pyproject()["project"]["scripts"]


def test_dockerfile_copies_existing_paths_and_every_package() -> None:
    copied = set()
    for keyword, args in dockerfile_instructions():
        if keyword == "COPY":
            *sources, _dest = args.split()
            for source in sources:
                assert not source.startswith("--"), "COPY --from/--chown not expected here"
                copied.add(source)
    included = pyproject()["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = {pattern.rstrip("*").split(".")[0] for pattern in included}
    assert packages <= copied, f"packages not copied into the image: {packages - copied}"
    readme = pyproject()["project"].get("readme")
    if readme:
        assert readme in copied, "pip install needs the readme that pyproject.toml names"
    for source in copied:
        assert (ROOT / source).exists(), f"docker/Dockerfile copies missing path {source}"


def test_dockerfile_healthcheck_queries_healthz_on_listen_port() -> None:
    checks = [args for keyword, args in dockerfile_instructions() if keyword == "HEALTHCHECK"]
    assert len(checks) == 1
    _options, _, command = checks[0].partition("CMD ")
    argv = json.loads(command)
    assert argv[:2] == ["python", "-c"]
    code = argv[2]
    compile(code, "<healthcheck>", "exec")
    assert "/healthz" in code
    assert "DTEAM_LISTEN_PORT" in code
    assert "'8080'" in code


def test_compose_services_volume_and_health() -> None:
    data = compose()
    services = data["services"]
    assert set(services) == {"postgres", "bot", "bot-webhook"}
    postgres = services["postgres"]
    assert postgres["image"] == "postgres:16"
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    volume = postgres["volumes"][0].split(":")[0]
    assert volume in data["volumes"]
    assert {services["bot"]["profiles"][0], services["bot-webhook"]["profiles"][0]} == {
        "polling",
        "webhook",
    }
    assert services["bot"]["command"] == ["dteam", "run"]
    assert services["bot-webhook"]["command"] == ["dteam", "run", "--webhook"]


@pytest.mark.parametrize("service", ["bot", "bot-webhook"])
def test_compose_bot_paths_and_database(service: str) -> None:
    bot = compose()["services"][service]
    context = (DOCKER / bot["build"]["context"]).resolve()
    assert context == ROOT
    assert (context / bot["build"]["dockerfile"]).is_file()
    env_file = (DOCKER / bot["env_file"]).resolve()
    assert env_file == ROOT / ".env"
    assert (ROOT / ".env.example").is_file(), ".env.example documents what .env holds"
    url = bot["environment"]["DTEAM_DATABASE_URL"]
    assert re.fullmatch(
        r"postgresql\+asyncpg://dteam:\$\{POSTGRES_PASSWORD[^}]*\}@postgres:5432/dteam", url
    )
    assert bot["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_env_example_documents_every_setting() -> None:
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    named = set(re.findall(r"^#?\s*(DTEAM_[A-Z_]+)=", text, flags=re.MULTILINE))
    assert named == SETTINGS
    used_in_docker = set(
        re.findall(r"DTEAM_[A-Z_]+", (DOCKER / "compose.yaml").read_text(encoding="utf-8"))
        + re.findall(r"DTEAM_[A-Z_]+", (DOCKER / "Dockerfile").read_text(encoding="utf-8"))
    )
    assert used_in_docker <= SETTINGS


@pytest.mark.parametrize(
    ("name", "default"),
    [
        ("DTEAM_API_URL", "https://api.telegram.org"),
        ("DTEAM_DATABASE_URL", "sqlite+aiosqlite:///dteam.sqlite"),
        ("DTEAM_LANGUAGE", "de"),
        ("DTEAM_TIMEZONE", "Europe/Berlin"),
        ("DTEAM_PRIVACY_THRESHOLD", "3"),
        ("DTEAM_RETENTION_DAYS", "30"),
        ("DTEAM_RETENTION_SWEEP_MINUTES", "60"),
        ("DTEAM_LOG_LEVEL", "INFO"),
    ],
)
def test_env_example_defaults(name: str, default: str) -> None:
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    assert f"# {name}={default}\n" in text


LOCK = DOCKER / "requirements.lock"
_REQ = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*(.*)$")


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement(spec: str) -> tuple[str, str]:
    match = _REQ.match(spec.split(";")[0].strip())
    assert match, spec
    return _canonical(match[1]), match[3]


def _locked() -> dict[str, str]:
    """Returns name -> the whole requirement entry (continuation lines joined)."""
    text = re.sub(r"\\\n\s*", " ", LOCK.read_text(encoding="utf-8"))
    entries = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    return {_canonical(entry.split("==")[0]): entry for entry in entries}


@pytest.mark.parametrize("group", ["dependencies", "dev"])
def test_every_dependency_has_an_upper_bound(group: str) -> None:
    project = pyproject()["project"]
    specs = (
        project["dependencies"]
        if group == "dependencies"
        else project["optional-dependencies"]["dev"]
    )
    unbounded = [spec for spec in specs if "<" not in _requirement(spec)[1]]
    assert unbounded == [], "a new major release may break the bot: bound it"


def test_lock_pins_every_runtime_dependency_with_hashes() -> None:
    locked = _locked()
    for spec in pyproject()["project"]["dependencies"]:
        name, _ = _requirement(spec)
        assert name in locked, f"{name} is not in docker/requirements.lock"
    for name, entry in locked.items():
        assert re.search(r"==[\w.+!-]+", entry), f"{name} is not pinned to one version"
        assert "--hash=sha256:" in entry, f"{name} has no hash"


def test_dockerfile_installs_the_lock_without_resolving() -> None:
    runs = [args for keyword, args in dockerfile_instructions() if keyword == "RUN"]
    install = next((r for r in runs if "requirements.lock" in r), "")
    assert "--require-hashes" in install
    assert "--no-deps" in install
    project = next((r for r in runs if "pip install" in r and " ." in r), "")
    assert "--no-deps" in project, "the project itself must not pull unpinned dependencies"
    assert "pip check" in " ".join(runs)
