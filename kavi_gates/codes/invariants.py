"""The invariants gate's codes: skill structure, declared side effects, tests, boundaries."""

from __future__ import annotations

from kavi_gates.codes import Code, codes_of

GATE = "invariants"

NO_SKILL_CLASS = Code(
    id="KAV601",
    gate=GATE,
    category="structure",
    title="skill module must define exactly one skill class",
    doc="""
        A skill module (a governed .py file whose name does not start with '_') must
        parse and define exactly one subclass of the configured base class
        (invariants.base_class, default kavi_skills.BaseSkill). The runtime loads that one
        class; a module with none, or with two, cannot be trusted to mean one thing.
        """,
    fix="""
        Define one BaseSkill subclass per module. Shared code goes into a helper module
        whose name starts with '_' (skills/_vault.py), which is pinned with the skills
        that import it.
        """,
)
METADATA_NOT_LITERAL = Code(
    id="KAV602",
    gate=GATE,
    category="structure",
    title="skill metadata must be literal and assigned once in the class body",
    doc="""
        name, description and side_effect_class must be string literals, and input_model
        and output_model must name classes, each assigned exactly once in the class body
        and never reassigned afterwards (Skill.name = ... outside the class). Kavi reads
        these statically: a computed value could say one thing to the gates and another
        at run time.
        """,
    fix="Write each attribute as a literal in the class body, once.",
)
UNKNOWN_SIDE_EFFECT_CLASS = Code(
    id="KAV603",
    gate=GATE,
    category="structure",
    title="unknown side_effect_class",
    doc="""
        side_effect_class must be one of READ_ONLY, FILE_WRITE, NETWORK, SECRET_READ,
        MONEY, MESSAGING: the runtime grants capabilities by this class, so an unknown one
        grants nothing anyone reviewed.
        """,
    fix="Use one of the six classes; pick the narrowest that covers what the skill does.",
)
UNDECLARED_SIDE_EFFECT = Code(
    id="KAV604",
    gate=GATE,
    category="side effects",
    title="code shows side effects its declared class does not allow",
    doc="""
        The policy analysis sees the skill write files, use the network, start a process or
        read secrets (the environment: ``os.environ``, ``os.getenv``, ``environb``,
        ``expandvars``; ``self.context.secrets``; dotenv, keyring, netrc), and the declared
        side_effect_class does not allow it (a READ_ONLY skill that writes, or that reads
        ``os.environ["API_KEY"]``). Reading secrets takes SECRET_READ, or a class that may
        hold secrets (NETWORK, MONEY, MESSAGING). Variables every shell sets (HOME, PATH,
        LANG, ...) are not secrets. The declaration is what a reviewer approves and what
        the runtime enforces, so it must cover what the code does. If the effects cannot be
        determined (the analysis failed), the skill fails too.
        """,
    fix="""
        Declare the class that matches (FILE_WRITE for guarded writes, NETWORK for HTTP,
        SECRET_READ for secrets), or remove the effect. Process starts are allowed by no
        class.
        """,
    suppressible=False,
)
UNDECLARED_SECRET = Code(
    id="KAV606",
    gate=GATE,
    category="side effects",
    title="secret read that required_secrets does not declare",
    doc="""
        A skill whose class may hold secrets reads one its ``required_secrets`` does not
        name (``os.environ["OTHER"]``, ``self.context.secrets["OTHER"]``), or reads by a
        computed name or the whole environment (``os.environ.get(name)``,
        ``dict(os.environ)``). Only declared secrets reach a skill, and the declaration is
        what a reviewer approves: it must name every secret the code reads.
        """,
    fix="""
        Add the name to required_secrets (it is signed at promotion), and read each secret
        by its literal name, preferably through self.context.secrets.
        """,
)
MISSING_TEST = Code(
    id="KAV605",
    gate=GATE,
    category="tests",
    title="skill has no test file",
    doc="""
        Every skill needs a test at {invariants.tests_dir}/test_<skill>.py (default
        tests/skills/). The forge runs it in the sandbox before a skill can be verified.
        """,
    fix="Add tests/skills/test_<skill>.py with at least one test of the skill's behaviour.",
)
CONTRACT_VIOLATED = Code(
    id="KAV610",
    gate=GATE,
    category="boundaries",
    title="import boundary contract violated",
    doc="""
        A module of a contract's source package imports (directly, or through other local
        modules) a package the contract forbids. Contracts keep layers apart: the engine
        pure, the runtime free of the forge. The finding names the shortest import chain.
        """,
    fix="""
        Move the code to the package allowed to depend on the other, or pass what it needs
        in from above. Change the contract in [tool.kavi.invariants] only when the
        architecture really changed.
        """,
)

CODES = codes_of(globals())
