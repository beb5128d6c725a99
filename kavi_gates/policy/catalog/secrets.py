"""Where secrets come from (the environment, secret stores) and where printing or logging
sends them; and the runtime's own packages, which skills reach only through their API."""

from __future__ import annotations

# Reading the process environment, by qualified name (a value, a mapping or a getter).
ENV_SOURCES = frozenset(
    {
        "os.environ",
        "os.environb",
        "os.getenv",
        "os.getenvb",
        "posix.environ",
        "nt.environ",
        "os.path.expandvars",
        "posixpath.expandvars",
        "ntpath.expandvars",
    }
)
# Other stores of secrets: .env files, the system keyring, ~/.netrc, settings classes that
# fill their fields from the environment.
SECRET_STORES = frozenset(
    {
        "dotenv",
        "keyring",
        "netrc.netrc",
        "pydantic_settings",
        "pydantic.BaseSettings",
        "pydantic.v1.BaseSettings",
        "environs",
        "decouple",
    }
)
# The runtime's declared secrets (``self.context.secrets``).
CONTEXT_SECRETS = "<context>.secrets"
# Variables every shell sets that hold no secret: reading or printing them leaks nothing.
STANDARD_ENV = frozenset(
    {
        "HOME",
        "PATH",
        "USER",
        "LOGNAME",
        "USERNAME",
        "SHELL",
        "LANG",
        "LANGUAGE",
        "LC_ALL",
        "LC_CTYPE",
        "LC_MESSAGES",
        "TERM",
        "TZ",
        "PWD",
        "OLDPWD",
        "TMPDIR",
        "TEMP",
        "TMP",
        "EDITOR",
        "VISUAL",
        "PAGER",
        "HOSTNAME",
        "COLUMNS",
        "LINES",
        "DISPLAY",
        "SHLVL",
        "CI",
        "NO_COLOR",
        "FORCE_COLOR",
        "VIRTUAL_ENV",
        "PYTHONPATH",
        "PYTHONHOME",
        "XDG_CONFIG_HOME",
        "XDG_DATA_HOME",
        "XDG_CACHE_HOME",
        "XDG_STATE_HOME",
        "XDG_RUNTIME_DIR",
    }
)
# Where printing or logging sends a value.
PRINTERS = frozenset(
    {
        "builtins.print",
        "sys.stdout.write",
        "sys.stderr.write",
        "sys.stdout.writelines",
        "sys.stderr.writelines",
        "sys.__stdout__.write",
        "sys.__stderr__.write",
        "pprint.pprint",
        "pprint.pp",
        "warnings.warn",
        "click.echo",
        "click.secho",
        "typer.echo",
        "rich.print",
        "tqdm.tqdm.write",
        *(
            f"logging.{name}"
            for name in (
                "debug",
                "info",
                "warning",
                "warn",
                "error",
                "critical",
                "exception",
                "log",
                "fatal",
            )
        ),
    }
)
# Logger methods called on objects the analysis cannot type (``log.info(...)``).
LOG_METHODS = frozenset(
    {"debug", "info", "warning", "warn", "error", "critical", "exception", "log", "fatal"}
)

# The runtime's packages. A skill uses the runtime only through what it hands the skill
# (``self.context``) and the names below; building a capability itself (``GuardedFiles``,
# ``GuardedHTTP``, an ``LLMClient`` with its own endpoint) or reaching the ledger, the forge
# or the sandbox layer goes around every grant.
RUNTIME_PACKAGES = frozenset(
    {
        "kavi_skills",
        "kavi_ledger",
        "kavi_forge",
        "kavi_sandbox",
        "kavi_hooks",
        "kavi_gates",
        "kavi_plugin",
    }
)
SKILL_API = frozenset(
    {
        "kavi_skills.BaseSkill",
        "kavi_skills.SkillContext",
        "kavi_skills.base.BaseSkill",
        "kavi_skills.base.SkillContext",
        "kavi_skills.base.FileAPI",
        "kavi_skills.base.HTTPAPI",
        "kavi_skills.base.LLMAPI",
        "kavi_skills.llm.LLMError",
        "kavi_skills.llm.LLMUnavailable",
        "kavi_skills.llm.bound_prompt",
        "kavi_skills.vectors.VectorStoreError",
        "kavi_skills.vectors.VectorHit",
        "kavi_skills.vectors.content_hash",
        "kavi_skills.vectors.cosine_distances",
        "kavi_skills.vectors.ordered_hits",
        "kavi_skills.vectors.rank_in_memory",
    }
)
"""The skill API: what a skill is written against, and nothing of the runtime's machinery
(KAV121 allows only these; ``allowed_imports: [kavi_skills]`` allows only these)."""
SKILL_API_MODULES = frozenset({"kavi_skills.errors", "kavi_skills.hosts", "kavi_skills.validation"})
"""Modules whose every name is skill API (exceptions and pure helpers)."""
