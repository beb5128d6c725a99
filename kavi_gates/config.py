"""Configuration: discovery, validation (unknown keys are errors) and digests."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, fields
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from kavi_gates import config_cache
from kavi_gates.config_policy import FieldProblem as FieldProblem  # re-exported
from kavi_gates.config_policy import PolicyConfig as PolicyConfig
from kavi_gates.config_policy import PolicyOverride as PolicyOverride
from kavi_gates.config_policy import Strict, before, check_names
from kavi_gates.digests import sha256
from kavi_gates.errors import ConfigError, shorten
from kavi_gates.models import as_json
from kavi_gates.paths import match_glob

if TYPE_CHECKING:
    from pydantic import TypeAdapter, ValidationError

SIDE_EFFECT_CLASSES = ("READ_ONLY", "FILE_WRITE", "NETWORK", "SECRET_READ", "MONEY", "MESSAGING")


@dataclass(frozen=True, kw_only=True)
class AgentsConfig(Strict):
    """How a change is recognised as an agent's (the diff-allowlist judges only those)."""

    branches: tuple[str, ...] = ("agent/**", "agents/**", "claude/**", "codex/**", "copilot/**")
    """Globs on the branch name (``GITHUB_HEAD_REF`` in CI, else the checked-out branch)."""
    authors: tuple[str, ...] = ("*[bot]*", "*noreply@anthropic.com*")
    """Globs on ``Name <email>`` of the commit author (the index: who is committing; a
    ``--base`` range: any commit in it)."""
    env: tuple[str, ...] = ("KAVI_AGENT", "CLAUDECODE")
    """Environment variables that, when set and non-empty, mark the change as an agent's
    (agent harnesses set them in the shells they run, so their commits are judged)."""


@dataclass(frozen=True, kw_only=True)
class DiffAllowlistConfig(Strict):
    allow: tuple[str, ...] = ("skills/*.py", "tests/skills/test_*.py")
    require: tuple[str, ...] = ()
    judge: Literal["agents", "all"] = "agents"
    """``agents``: judge only changes recognised as an agent's (``agents``), and every
    sandbox build of the forge; ``all``: judge every change, a person's too."""
    agents: AgentsConfig = field(default_factory=AgentsConfig)


@dataclass(frozen=True, kw_only=True)
class HashPinConfig(Strict):
    registry: str = "skills/registry.yaml"


@dataclass(frozen=True, kw_only=True)
class AttestationConfig(Strict):
    """Signed promotions: who may promote, and (optionally) which key this user signs with."""

    allowed_signers: str = ".kavi/allowed_signers"
    """git's allowed-signers format, relative to the project root; commit it."""
    signing_key: str | None = None
    """An SSH private key (or a public key whose private half is in ssh-agent) for
    ``kavi promote``; unset: git's ``user.signingkey`` when ``gpg.format=ssh``, else the
    key ``kavi keygen`` made."""


@dataclass(frozen=True, kw_only=True)
class Contract(Strict):
    source: str
    forbidden: tuple[str, ...]
    name: str | None = None


@dataclass(frozen=True, kw_only=True)
class InvariantsConfig(Strict):
    contracts: tuple[Contract, ...] = ()
    base_class: str = "kavi_skills.BaseSkill"
    tests_dir: str = "tests/skills"


@dataclass(frozen=True, kw_only=True)
class StorageConfig(Strict):
    """Per-project overrides of the XDG locations (relative paths are from the project root)."""

    data_dir: str | None = None
    config_dir: str | None = None
    cache_dir: str | None = None
    vault_dir: str | None = None


AGENT_ENV_DEFAULT = ("PATH", "LANG", "LC_ALL", "TERM", "TZ")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


@dataclass(frozen=True, kw_only=True)
class AgentPath(Strict):
    """A path of the coding agent's own (its login, its settings) made visible in its sandbox.

    Written as ``"~/.claude"`` (read-write) or ``{path: "~/.claude.json", mode: ro}``.
    """

    path: str
    mode: Literal["rw", "ro"] = "rw"

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> Any:
        return before(source, handler, lambda v: {"path": v} if isinstance(v, str) else v)

    def __post_init__(self) -> None:
        if not self.path.startswith(("/", "~/")) or "\0" in self.path:
            raise FieldProblem(
                "path", f"{shorten(repr(self.path))} must be absolute or start with ~/"
            )
        if ".." in self.path.split("/"):
            raise FieldProblem("path", f"{shorten(repr(self.path))} must not contain '..'")


def _renamed_keys(value: Any) -> Any:
    if isinstance(value, dict) and "agent_env_allow" in value:
        raise ValueError(
            "forge.agent_env_allow was replaced by forge.agent_env, an allowlist built "
            "from nothing: list every variable the agent needs, e.g. "
            f"[{', '.join(AGENT_ENV_DEFAULT)}, ANTHROPIC_API_KEY]"
        )
    return value


@dataclass(frozen=True, kw_only=True)
class ForgeConfig(Strict):
    agent: str = "claude -p --output-format text --allowedTools Edit Write Glob Grep Read"
    timeout: float = 900.0
    extra_allowed: tuple[str, ...] = ()
    checks: tuple[str, ...] = ("ruff", "mypy", "pytest")
    check_timeout: float = 600.0
    """Seconds each of ruff, mypy and pytest may take inside a sandbox."""
    agent_env: tuple[str, ...] = AGENT_ENV_DEFAULT
    """The agent's whole environment: these variables' values, nothing else (an allowlist
    built from nothing; add the agent's login, e.g. ANTHROPIC_API_KEY). A secret that a
    skill or a proposal declares never passes, whatever this says."""
    agent_paths: tuple[AgentPath, ...] = ()
    """Paths of the agent's own bound into its sandbox (e.g. ["~/.claude", "~/.claude.json"]);
    everything else of the home directory, the repository and Kavi's storage is invisible."""
    agent_network: Literal["host", "none"] = "host"
    """The agent's network: ``host`` (it needs its API) or ``none``."""
    advice: bool = True
    """Ask the OpenAI-compatible endpoint for retry advice (falls back when it is down)."""
    repeated_failure_limit: int = 3
    """Consecutive failures of one proposal that raise REPEATED_FAILURE."""
    max_diff_lines: int = 400
    """Changed lines in one build above which LARGE_DIFF is raised."""

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> Any:
        return before(source, handler, _renamed_keys)

    def __post_init__(self) -> None:
        check_names("agent_env", self.agent_env, _ENV_NAME, "an environment variable name")


@dataclass(frozen=True, kw_only=True)
class SandboxConfig(Strict):
    """The OS sandbox every untrusted process runs in (the agent, its tests, skills)."""

    enabled: bool = True
    """False runs untrusted code unconfined: an explicit opt-out, recorded and reported
    (``--no-sandbox`` does the same for one command). Skills still run in a child process,
    without isolation; every execution record says so."""
    timeout: float = 300.0
    """Seconds (more than 0) a skill's process may run before everything in its sandbox is
    killed."""
    memory_mb: int = 2048
    """Address-space limit (more than 0) of a skill's process, in MiB (the forge's tools
    have their own timeouts under ``forge``)."""

    def __post_init__(self) -> None:
        if not self.timeout > 0:
            raise FieldProblem("timeout", "must be more than 0 seconds")
        if not self.memory_mb > 0:
            raise FieldProblem("memory_mb", "must be more than 0 MiB")


TOOL_NAME = re.compile(r"[A-Za-z0-9._-]{1,128}\Z")
"""A name ``kavi serve`` can offer as an MCP tool (the spec's tool-name alphabet)."""
_HOST = re.compile(r"[A-Za-z0-9.:_-]{1,253}\Z")


@dataclass(frozen=True, kw_only=True)
class ServeConfig(Strict):
    """``kavi serve``: trusted skills as MCP tools."""

    allow: tuple[str, ...] = ()
    """Skills with side effects that may run over MCP. A side effect needs a confirmation
    on the CLI; an MCP client's own confirmation is not Kavi's, so such a skill is refused
    over MCP unless it is named here. ``kavi serve`` refuses a name the registry lacks."""
    host: str | None = None
    """The one address other than loopback ``kavi serve --http`` may listen on (unset:
    loopback only)."""
    port: int = 8765
    """The port of ``kavi serve --http`` (``--port`` overrides it; 1 to 65535)."""

    def __post_init__(self) -> None:
        check_names("allow", self.allow, TOOL_NAME, "a skill name")
        if self.host is not None and not _HOST.match(self.host):
            raise FieldProblem(
                "host", f"{shorten(repr(self.host))} is not a host name or IP address"
            )
        if not 1 <= self.port <= 65535:
            raise FieldProblem("port", "must be a port number from 1 to 65535")


CODE_SELECTOR = re.compile(r"[A-Z][A-Z0-9]*\Z")
"""A finding code or a prefix of codes: ``KAV401``, ``KAV4``, ``KAV``."""
_SELECTOR = "a finding code or code prefix (e.g. KAV401, KAV4)"


@dataclass(frozen=True, kw_only=True)
class KaviConfig(Strict):
    include: tuple[str, ...] = ("skills/**/*.py",)
    exclude: tuple[str, ...] = ()
    select: tuple[str, ...] = ()
    """Codes or prefixes to report (empty: every code); ``kavi check --select`` replaces it."""
    ignore: tuple[str, ...] = ()
    """Codes or prefixes never reported; ``kavi check --ignore`` adds to it."""
    per_path_ignores: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Glob -> codes or prefixes ignored in the files it matches."""
    baseline: str | None = None
    """A baseline file (``kavi check --write-baseline``): its findings are accepted."""
    policy: PolicyConfig = field(default_factory=PolicyConfig)
    overrides: tuple[PolicyOverride, ...] = ()
    diff_allowlist: DiffAllowlistConfig = field(default_factory=DiffAllowlistConfig)
    hash_pin: HashPinConfig = field(default_factory=HashPinConfig)
    attestation: AttestationConfig = field(default_factory=AttestationConfig)
    invariants: InvariantsConfig = field(default_factory=InvariantsConfig)
    storage: StorageConfig = field(default_factory=StorageConfig)
    forge: ForgeConfig = field(default_factory=ForgeConfig)
    sandbox: SandboxConfig = field(default_factory=SandboxConfig)
    serve: ServeConfig = field(default_factory=ServeConfig)

    def __post_init__(self) -> None:
        check_names("select", self.select, CODE_SELECTOR, _SELECTOR)
        check_names("ignore", self.ignore, CODE_SELECTOR, _SELECTOR)
        for codes in self.per_path_ignores.values():
            check_names("per_path_ignores", codes, CODE_SELECTOR, _SELECTOR)


@dataclass(frozen=True)
class LoadedConfig:
    """A validated config plus where it came from; ``root`` is the project root."""

    config: KaviConfig
    root: Path
    source: str  # a file path, "pyproject.toml [tool.kavi]" or "<embedded default>"

    def policy_digest(self) -> str:
        return policy_digest(self.config)

    def allowed_signers(self) -> Path:
        """The project's allowed-signers file (``attestation.allowed_signers``), absolute."""
        return self.root / Path(self.config.attestation.allowed_signers).expanduser()


# Settings that say how long to try, not what is allowed: they change no verdict on code
# that can be checked, so they are not part of the policy a skill was verified under.
NOT_POLICY = frozenset({"file_budget"})


def _policy_values(policy: PolicyConfig) -> dict[str, Any]:
    return {f.name: getattr(policy, f.name) for f in fields(policy)}


def policy_key(policy: PolicyConfig) -> bytes:
    """The policy's values as canonical JSON, without ``NOT_POLICY`` (a cache key's part)."""
    values = {k: v for k, v in _policy_values(policy).items() if k not in NOT_POLICY}
    return json.dumps(values, separators=(",", ":")).encode()


# Keys added after policies were first digested, with the value that means what a policy
# without them meant: left out of the digest at that value, so upgrading Kavi does not make
# every pinned skill's recorded policy digest stale.
_LATER_KEYS: dict[str, object] = {"imports": "deny", "allowed_imports": []}
_ABSENT = object()


def _digested(policy: PolicyConfig) -> dict[str, Any]:
    dumped = {k: as_json(v) for k, v in _policy_values(policy).items() if k not in NOT_POLICY}
    return {k: v for k, v in dumped.items() if _LATER_KEYS.get(k, _ABSENT) != v}


def policy_digest(config: KaviConfig) -> str:
    """sha256 of the canonical policy (base policy and per-path overrides)."""
    payload = {
        "policy": _digested(config.policy),
        "overrides": [
            {"paths": list(o.paths), "policy": policy}
            for o in config.overrides
            if (policy := {k: v for k, v in o.policy.items() if k not in NOT_POLICY})
        ],
    }
    blob = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    return "sha256:" + sha256(blob).hexdigest()


@cache
def _validator(model: type[Any]) -> TypeAdapter[Any]:
    """pydantic's validator of a settings class, built (and pydantic imported) on first use:
    a run that reads a remembered configuration needs none."""
    from pydantic import TypeAdapter

    return TypeAdapter(model)


def validation_summary(err: ValidationError) -> tuple[str, str]:
    """``(where, problem)`` of a validation error's first entry, each bounded: both can
    echo input (a key of any length, a validator's message quoting the value)."""
    first = err.errors(include_url=False, include_input=False)[0]
    loc = [str(p) for p in first["loc"]]
    cause = first.get("ctx", {}).get("error")
    if isinstance(cause, FieldProblem) and cause.field is not None:
        loc.append(cause.field)
    where = ".".join(loc) or "<root>"
    unknown = first["type"] in ("extra_forbidden", "unexpected_keyword_argument")
    problem = "unknown key" if unknown else first["msg"].removeprefix("Value error, ")
    return shorten(where), shorten(problem)


def _config_error(err: ValidationError, source: str, prefix: str = "") -> ConfigError:
    where, problem = validation_summary(err)
    where = f"{prefix}{where}"
    if problem == "unknown key":
        return ConfigError(f"{source}: unknown config key '{where}'")
    return ConfigError(f"{source}: invalid value for '{where}': {problem}")


def validate_policy(values: dict[str, Any]) -> PolicyConfig:
    """A policy from plain values (a file's, or a policy's merged with an override's);
    raises pydantic's ``ValidationError``."""
    policy: PolicyConfig = _validator(PolicyConfig).validate_python(values)
    return policy


def validate_config(data: Any, source: str) -> KaviConfig:
    """The configuration ``data`` (a file's parsed content) holds; ``ConfigError`` naming
    the first problem otherwise."""
    from pydantic import ValidationError

    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"{source}: expected a mapping at the top level, got {type(data).__name__}"
        )
    try:
        config: KaviConfig = _validator(KaviConfig).validate_python(data)
    except ValidationError as err:
        raise _config_error(err, source) from None
    for index, override in enumerate(config.overrides):
        # Alone on the default policy (its keys are known, its values valid), then applied
        # to this file's base policy (e.g. imports: allow with forbid_dynamic_exec: false).
        try:
            validate_policy({**_policy_values(PolicyConfig()), **override.policy})
        except ValidationError as err:
            raise _config_error(err, source, f"overrides.{index}.policy.") from None
        try:
            validate_policy({**_policy_values(config.policy), **override.policy})
        except ValidationError as err:
            _, problem = validation_summary(err)
            raise ConfigError(
                f"{source}: invalid value for 'overrides': override {index} on the base "
                f"policy: {problem}"
            ) from None
    return config


def read_text_or_config_error(path: Path, what: str) -> str:
    """A configuration-like file's text; any problem is a ``ConfigError`` naming ``what``."""
    return _decode_or_config_error(_read_bytes_or_config_error(path, what), path, what)


def _read_bytes_or_config_error(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{what} not found: {path}") from None
    except OSError as err:
        raise ConfigError(f"cannot read {what} {path}: {err}") from None


def _decode_or_config_error(raw: bytes, path: Path, what: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ConfigError(f"cannot read {what} {path}: {err}") from None


def _parse_config_file(path: Path, text: str) -> Any:
    try:
        if path.suffix == ".toml":
            import tomllib  # only a TOML config needs it

            data: Any = tomllib.loads(text)
            if path.name == "pyproject.toml":
                data = data.get("tool", {}).get("kavi")
            return data
        from kavi_gates.safe_yaml import load_yaml  # the YAML parser: only when validating

        return load_yaml(text)
    except ValueError as err:  # tomllib.TOMLDecodeError, YamlError
        detail = shorten(str(err).splitlines()[0] if str(err) else type(err).__name__)
        raise ConfigError(
            f"{path}: not valid {path.suffix.lstrip('.') or 'YAML'}: {detail}"
        ) from None


def _validated_file(path: Path, label: str, remember: bool) -> KaviConfig | None:
    """The configuration in ``path``, validated (``label`` names it in errors); None for a
    ``pyproject.toml`` without ``[tool.kavi]``. With ``remember``, kept in and read from
    ``kavi_gates.config_cache``."""
    raw = _read_bytes_or_config_error(path, "config file")
    hit, remembered = config_cache.lookup(KaviConfig, label, raw) if remember else (False, None)
    if hit:
        return remembered
    data = _parse_config_file(path, _decode_or_config_error(raw, path, "config file"))
    holds_none = data is None and path.name == "pyproject.toml"
    config = None if holds_none else validate_config(data, label)
    if remember:
        config_cache.store(label, raw, config)
    return config


def _loaded(config: KaviConfig, root: Path, source: str) -> LoadedConfig:
    return LoadedConfig(config=config, root=root, source=source)


EMBEDDED_DEFAULT = "<embedded default>"


def _embedded_default(remember: bool) -> KaviConfig:
    if not remember:
        return KaviConfig()
    hit, remembered = config_cache.lookup(KaviConfig, EMBEDDED_DEFAULT, b"")
    if hit and remembered is not None:
        return remembered
    config = KaviConfig()
    config_cache.store(EMBEDDED_DEFAULT, b"", config)
    return config


def find_project_root(start: Path) -> Path:
    """The nearest directory holding kavi.yaml, pyproject.toml or .git (else ``start``)."""
    start = start.resolve()
    for candidate in (start, *start.parents):
        for marker in ("kavi.yaml", "pyproject.toml", ".git"):
            if (candidate / marker).exists():
                return candidate
    return start


def load_config(
    config_file: str | Path | None = None, start: Path | None = None, *, remember: bool = False
) -> LoadedConfig:
    """Find and validate the configuration, in DESIGN.md order.

    ``--config FILE`` (YAML or TOML), then ``kavi.yaml``, then ``[tool.kavi]`` in the nearest
    ``pyproject.toml``, else the embedded default policy. ``remember``: keep the validated
    value in the user's cache and take it from there next time (``kavi_gates.config_cache``;
    the command-line entry points do, so that a warm run validates nothing).
    """
    start = (start or Path.cwd()).resolve()
    if config_file is not None:
        path = Path(config_file)
        if not path.is_absolute():
            path = (Path.cwd() / path).resolve()
        config = _validated_file(path, str(path), remember)
        root = find_project_root(path.parent) if path.name != "kavi.yaml" else path.parent
        if config is None:
            raise ConfigError(f"{path}: has no [tool.kavi] table")
        return _loaded(config, root, str(path))
    for directory in (start, *start.parents):
        kavi_yaml = directory / "kavi.yaml"
        if kavi_yaml.is_file():
            config = _validated_file(kavi_yaml, str(kavi_yaml), remember)
            assert config is not None  # only a pyproject.toml can hold no configuration
            return _loaded(config, directory, str(kavi_yaml))
        pyproject = directory / "pyproject.toml"
        if pyproject.is_file():
            source = f"{pyproject} [tool.kavi]"
            config = _validated_file(pyproject, source, remember)
            if config is not None:
                return _loaded(config, directory, source)
        if (directory / ".git").exists():
            break
    return _loaded(_embedded_default(remember), find_project_root(start), EMBEDDED_DEFAULT)


def effective_policy(config: KaviConfig, rel_path: str) -> PolicyConfig:
    """The policy for one file: the base policy with every matching override applied in order."""
    policy = config.policy
    for override in config.overrides:
        if any(match_glob(rel_path, pattern) for pattern in override.paths):
            from pydantic import ValidationError  # only a file that an override matches

            try:
                policy = validate_policy({**_policy_values(policy), **override.policy})
            except ValidationError as err:  # overrides that are valid alone, not together
                _, problem = validation_summary(err)
                raise ConfigError(
                    f"the overrides matching {rel_path} make an invalid policy: "
                    f"{problem.removeprefix('Value error, ')}"
                ) from None
    return policy
