"""Configuration: discovery, validation (unknown keys are errors) and digests."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from kavi_gates import config_cache
from kavi_gates.errors import ConfigError, shorten
from kavi_gates.paths import match_glob

SIDE_EFFECT_CLASSES = ("READ_ONLY", "FILE_WRITE", "NETWORK", "SECRET_READ", "MONEY", "MESSAGING")


class _Strict(BaseModel):
    # Validators are built when first needed: a warm run rebuilds its validated config
    # from ``kavi_gates.config_cache`` and never needs them.
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


_DOTTED_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*\Z")


class PolicyConfig(_Strict):
    imports: Literal["deny", "allow"] = "deny"
    """``deny``: an import is a finding when ``forbidden_imports`` or a category (process,
    network, dynamic exec, ...) names it. ``allow``: an allowlist, and any import outside
    the curated safe standard library (``kavi_gates.policy.allowlist``) and
    ``allowed_imports`` is a finding too (KAV103)."""
    allowed_imports: tuple[str, ...] = ()
    """What the project adds to the curated set under ``imports: allow`` (``pydantic``,
    ``kavi_skills``): a module allows its submodules and names, ``pkg.name`` one name."""
    forbidden_imports: tuple[str, ...] = ("subprocess", "pty", "paramiko")
    forbidden_calls: tuple[str, ...] = ("os.system",)
    forbid_dynamic_exec: bool = True
    network: Literal["deny", "allow"] = "deny"
    process: Literal["deny", "allow"] = "deny"
    allowed_write_paths: tuple[str, ...] = ("vault_out/", "artifacts_out/")
    unsuppressible: tuple[str, ...] = ()
    file_budget: float = Field(default=10.0, gt=0, le=3600, allow_inf_nan=False)
    """Seconds one file's parse and analysis may take; a file past it cannot be proven
    safe, so it is a finding (KAV005), and the rest of the run goes on."""

    @field_validator("allowed_imports")
    @classmethod
    def _module_names(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for name in value:
            if not _DOTTED_NAME.match(name):
                raise ValueError(f"{name!r} is not a module or dotted name (e.g. pydantic)")
        return value

    @model_validator(mode="after")
    def _allowlist_holds(self) -> PolicyConfig:
        if self.imports == "allow" and not self.forbid_dynamic_exec:
            # exec("import socket") would import past the allowlist unseen.
            raise ValueError(
                "imports: allow needs forbid_dynamic_exec: true (code run by eval/exec "
                "could import any module, past the allowlist)"
            )
        return self


class PolicyOverride(_Strict):
    """Per-path policy changes: only the keys given replace the base policy's."""

    paths: tuple[str, ...]
    policy: dict[str, Any] = Field(default_factory=dict)

    @field_validator("policy")
    @classmethod
    def _known_keys(cls, value: dict[str, Any]) -> dict[str, Any]:
        PolicyConfig.model_validate({**PolicyConfig().model_dump(), **value})
        return value


class AgentsConfig(_Strict):
    """How a change is recognised as an agent's (the diff-allowlist judges only those)."""

    branches: tuple[str, ...] = ("agent/**", "agents/**", "claude/**", "codex/**", "copilot/**")
    """Globs on the branch name (``GITHUB_HEAD_REF`` in CI, else the checked-out branch)."""
    authors: tuple[str, ...] = ("*[bot]*", "*noreply@anthropic.com*")
    """Globs on ``Name <email>`` of the commit author (the index: who is committing; a
    ``--base`` range: any commit in it)."""
    env: tuple[str, ...] = ("KAVI_AGENT", "CLAUDECODE")
    """Environment variables that, when set and non-empty, mark the change as an agent's
    (agent harnesses set them in the shells they run, so their commits are judged)."""


class DiffAllowlistConfig(_Strict):
    allow: tuple[str, ...] = ("skills/*.py", "tests/skills/test_*.py")
    require: tuple[str, ...] = ()
    judge: Literal["agents", "all"] = "agents"
    """``agents``: judge only changes recognised as an agent's (``agents``), and every
    sandbox build of the forge; ``all``: judge every change, a person's too."""
    agents: AgentsConfig = Field(default_factory=AgentsConfig)


class HashPinConfig(_Strict):
    registry: str = "skills/registry.yaml"


class AttestationConfig(_Strict):
    """Signed promotions: who may promote, and (optionally) which key this user signs with."""

    allowed_signers: str = ".kavi/allowed_signers"
    """git's allowed-signers format, relative to the project root; commit it."""
    signing_key: str | None = None
    """An SSH private key (or a public key whose private half is in ssh-agent) for
    ``kavi promote``; unset: git's ``user.signingkey`` when ``gpg.format=ssh``, else the
    key ``kavi keygen`` made."""


class Contract(_Strict):
    source: str
    forbidden: tuple[str, ...]
    name: str | None = None


class InvariantsConfig(_Strict):
    contracts: tuple[Contract, ...] = ()
    base_class: str = "kavi_skills.BaseSkill"
    tests_dir: str = "tests/skills"


class StorageConfig(_Strict):
    """Per-project overrides of the XDG locations (relative paths are from the project root)."""

    data_dir: str | None = None
    config_dir: str | None = None
    cache_dir: str | None = None
    vault_dir: str | None = None


AGENT_ENV_DEFAULT = ("PATH", "LANG", "LC_ALL", "TERM", "TZ")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


class AgentPath(_Strict):
    """A path of the coding agent's own (its login, its settings) made visible in its sandbox.

    Written as ``"~/.claude"`` (read-write) or ``{path: "~/.claude.json", mode: ro}``.
    """

    path: str
    mode: Literal["rw", "ro"] = "rw"

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, value: Any) -> Any:
        return {"path": value} if isinstance(value, str) else value

    @field_validator("path")
    @classmethod
    def _absolute_or_home(cls, value: str) -> str:
        if not value.startswith(("/", "~/")) or "\0" in value:
            raise ValueError(f"{value!r} must be absolute or start with ~/")
        if ".." in value.split("/"):
            raise ValueError(f"{value!r} must not contain '..'")
        return value


class ForgeConfig(_Strict):
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

    @model_validator(mode="before")
    @classmethod
    def _renamed_keys(cls, value: Any) -> Any:
        if isinstance(value, dict) and "agent_env_allow" in value:
            raise ValueError(
                "forge.agent_env_allow was replaced by forge.agent_env, an allowlist built "
                "from nothing: list every variable the agent needs, e.g. "
                f"[{', '.join(AGENT_ENV_DEFAULT)}, ANTHROPIC_API_KEY]"
            )
        return value

    @field_validator("agent_env")
    @classmethod
    def _env_names(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for name in value:
            if not _ENV_NAME.match(name):
                raise ValueError(f"{name!r} is not an environment variable name")
        return value


class SandboxConfig(_Strict):
    """The OS sandbox every untrusted process runs in (the agent, its tests, skills)."""

    enabled: bool = True
    """False runs untrusted code unconfined: an explicit opt-out, recorded and reported
    (``--no-sandbox`` does the same for one command). Skills still run in a child process,
    without isolation; every execution record says so."""
    timeout: float = Field(default=300.0, gt=0)
    """Seconds a skill's process may run before everything in its sandbox is killed."""
    memory_mb: int = Field(default=2048, gt=0)
    """Address-space limit of a skill's process, in MiB (the forge's tools have their own
    timeouts under ``forge``)."""


TOOL_NAME = re.compile(r"[A-Za-z0-9._-]{1,128}\Z")
"""A name ``kavi serve`` can offer as an MCP tool (the spec's tool-name alphabet)."""
_HOST = re.compile(r"[A-Za-z0-9.:_-]{1,253}\Z")


class ServeConfig(_Strict):
    """``kavi serve``: trusted skills as MCP tools."""

    allow: tuple[str, ...] = ()
    """Skills with side effects that may run over MCP. A side effect needs a confirmation
    on the CLI; an MCP client's own confirmation is not Kavi's, so such a skill is refused
    over MCP unless it is named here. ``kavi serve`` refuses a name the registry lacks."""
    host: str | None = None
    """The one address other than loopback ``kavi serve --http`` may listen on (unset:
    loopback only)."""
    port: int = Field(default=8765, ge=1, le=65535)
    """The port of ``kavi serve --http`` (``--port`` overrides it)."""

    @field_validator("allow")
    @classmethod
    def _skill_names(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for name in value:
            if not TOOL_NAME.match(name):
                raise ValueError(f"{shorten(repr(name))} is not a skill name")
        return value

    @field_validator("host")
    @classmethod
    def _host(cls, value: str | None) -> str | None:
        if value is not None and not _HOST.match(value):
            raise ValueError(f"{shorten(repr(value))} is not a host name or IP address")
        return value


CODE_SELECTOR = re.compile(r"[A-Z][A-Z0-9]*\Z")
"""A finding code or a prefix of codes: ``KAV401``, ``KAV4``, ``KAV``."""


def _selectors(value: tuple[str, ...]) -> tuple[str, ...]:
    for item in value:
        if not CODE_SELECTOR.match(item):
            raise ValueError(f"{item!r} is not a finding code or code prefix (e.g. KAV401, KAV4)")
    return value


class KaviConfig(_Strict):
    include: tuple[str, ...] = ("skills/**/*.py",)
    exclude: tuple[str, ...] = ()
    select: tuple[str, ...] = ()
    """Codes or prefixes to report (empty: every code); ``kavi check --select`` replaces it."""
    ignore: tuple[str, ...] = ()
    """Codes or prefixes never reported; ``kavi check --ignore`` adds to it."""
    per_path_ignores: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    """Glob -> codes or prefixes ignored in the files it matches."""
    baseline: str | None = None
    """A baseline file (``kavi check --write-baseline``): its findings are accepted."""
    policy: PolicyConfig = Field(default_factory=PolicyConfig)
    overrides: tuple[PolicyOverride, ...] = ()
    diff_allowlist: DiffAllowlistConfig = Field(default_factory=DiffAllowlistConfig)
    hash_pin: HashPinConfig = Field(default_factory=HashPinConfig)
    attestation: AttestationConfig = Field(default_factory=AttestationConfig)
    invariants: InvariantsConfig = Field(default_factory=InvariantsConfig)
    storage: StorageConfig = Field(default_factory=StorageConfig)
    forge: ForgeConfig = Field(default_factory=ForgeConfig)
    sandbox: SandboxConfig = Field(default_factory=SandboxConfig)
    serve: ServeConfig = Field(default_factory=ServeConfig)

    @field_validator("select", "ignore")
    @classmethod
    def _code_selectors(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _selectors(value)

    @field_validator("per_path_ignores")
    @classmethod
    def _per_path(cls, value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        for codes in value.values():
            _selectors(codes)
        return value

    @field_validator("overrides")
    @classmethod
    def _overrides_apply(
        cls, value: tuple[PolicyOverride, ...], info: ValidationInfo
    ) -> tuple[PolicyOverride, ...]:
        """Each override applied to the base policy is a valid policy (an override alone is
        validated against the default policy when it is read)."""
        base = info.data.get("policy")
        if not isinstance(base, PolicyConfig):
            return value  # the policy itself is invalid: that error is reported
        for index, override in enumerate(value):
            try:
                PolicyConfig.model_validate({**base.model_dump(), **override.policy})
            except ValidationError as err:
                _, problem = validation_summary(err)
                raise ValueError(
                    f"override {index} on the base policy: {problem.removeprefix('Value error, ')}"
                ) from None
        return value


class LoadedConfig(BaseModel):
    """A validated config plus where it came from; ``root`` is the project root."""

    model_config = ConfigDict(frozen=True, defer_build=True)

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


def policy_key(policy: PolicyConfig) -> bytes:
    """The policy's values as canonical JSON, without ``NOT_POLICY`` (a cache key's part).

    Read field by field: pydantic's serializer would first build the validators of a
    model a warm run never validates."""
    values = {
        name: getattr(policy, name) for name in PolicyConfig.model_fields if name not in NOT_POLICY
    }
    return json.dumps(values, separators=(",", ":")).encode()


# Keys added after policies were first digested, with the value that means what a policy
# without them meant: left out of the digest at that value, so upgrading Kavi does not make
# every pinned skill's recorded policy digest stale.
_LATER_KEYS: dict[str, object] = {"imports": "deny", "allowed_imports": []}
_ABSENT = object()


def _digested(policy: PolicyConfig) -> dict[str, Any]:
    dumped = policy.model_dump(mode="json", exclude=set(NOT_POLICY))
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
    return "sha256:" + hashlib.sha256(blob).hexdigest()


def validation_summary(err: ValidationError) -> tuple[str, str]:
    """``(where, problem)`` of a validation error's first entry, each bounded: both can
    echo input (a key of any length, a validator's message quoting the value)."""
    first = err.errors(include_url=False, include_input=False)[0]
    where = ".".join(str(p) for p in first["loc"]) or "<root>"
    problem = "unknown key" if first["type"] == "extra_forbidden" else first["msg"]
    return shorten(where), shorten(problem)


def _format_validation_error(err: ValidationError, source: str) -> str:
    where, problem = validation_summary(err)
    if problem == "unknown key":
        return f"{source}: unknown config key '{where}'"
    return f"{source}: invalid value for '{where}': {problem.removeprefix('Value error, ')}"


def validate_config(data: Any, source: str) -> KaviConfig:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"{source}: expected a mapping at the top level, got {type(data).__name__}"
        )
    try:
        return KaviConfig.model_validate(data)
    except ValidationError as err:
        raise ConfigError(_format_validation_error(err, source)) from None


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
    # Its parts are validated already; validating them again would build every validator.
    return LoadedConfig.model_construct(config=config, root=root, source=source)


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
            try:
                policy = PolicyConfig.model_validate({**policy.model_dump(), **override.policy})
            except ValidationError as err:  # overrides that are valid alone, not together
                _, problem = validation_summary(err)
                raise ConfigError(
                    f"the overrides matching {rel_path} make an invalid policy: "
                    f"{problem.removeprefix('Value error, ')}"
                ) from None
    return policy
