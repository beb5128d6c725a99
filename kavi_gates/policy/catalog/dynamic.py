"""``forbid_dynamic_exec``: code that runs code, namespaces and frames, deserialisers that
run code, native code."""

from __future__ import annotations

DYNAMIC_BUILTINS = frozenset(
    {
        "builtins.eval",
        "builtins.exec",
        "builtins.compile",
        "builtins.__import__",
        "builtins.breakpoint",
        "builtins.execfile",
        # Standard-library helpers that evaluate Python source given as a string:
        "typing.get_type_hints",
        "inspect.get_annotations",
        "timeit.timeit",
        "timeit.repeat",
        "timeit.Timer",
        "cProfile.run",
        "cProfile.runctx",
        "profile.run",
        "profile.runctx",
        "pdb.run",
        "pdb.runeval",
        "pdb.runctx",
        "pdb.runcall",
        "trace.Trace",
        "doctest",
        "logging.config.fileConfig",
        "logging.config.dictConfig",
        "logging.config.listen",
        "sys.breakpointhook",
        "sys.__breakpointhook__",
    }
)
IMPORT_MACHINERY_MODULES = frozenset(
    {
        "importlib",
        "imp",
        "runpy",
        "pkgutil",
        "zipimport",
        "code",
        "codeop",
        "pydoc",
        "pkg_resources",
        "stevedore",
    }
)
# Submodules of a module in a category table that do not share the category's capability:
# importlib.metadata and importlib.resources read package metadata and data files (their
# anchors and entry points are checked as imports by name instead), multiprocessing.dummy
# is threads. Config-named modules (forbidden_imports) take no exceptions.
SAFE_SUBMODULES = frozenset(
    {
        "importlib.metadata",
        "importlib.resources",
        "multiprocessing.dummy",
        # Constants and path arithmetic of the import system, which load nothing.
        *(
            f"importlib.machinery.{name}"
            for name in (
                "SOURCE_SUFFIXES",
                "BYTECODE_SUFFIXES",
                "DEBUG_BYTECODE_SUFFIXES",
                "OPTIMIZED_BYTECODE_SUFFIXES",
                "EXTENSION_SUFFIXES",
                "all_suffixes",
            )
        ),
        *(
            f"importlib.util.{name}"
            for name in (
                "MAGIC_NUMBER",
                "cache_from_source",
                "source_from_cache",
                "decode_source",
                "resolve_name",
                "source_hash",
            )
        ),
    }
)
IMPORT_MACHINERY_NAMES = frozenset(
    {
        "sys.modules",
        "sys.meta_path",
        "sys.path_hooks",
        "sys.path_importer_cache",
        "sys.__loader__",
        "logging.config.BaseConfigurator",
        "pydoc.locate",
        # Import by string from data (a field's value, a config's ``_target_``, an entry
        # point's ``module:attr``): what is imported is chosen at run time.
        "pydantic.ImportString",
        "pydantic.types.ImportString",
        "pydantic.PyObject",
        "pydantic.types.PyObject",
        "pydantic.v1.PyObject",
        "pydantic.v1.types.PyObject",
        "importlib.metadata.entry_points",
        "importlib.metadata.EntryPoint",
        "importlib.metadata.EntryPoints",
        "importlib_metadata.entry_points",
        "importlib_metadata.EntryPoint",
        "importlib_metadata.EntryPoints",
        "hydra.utils.instantiate",
        "hydra.utils.call",
    }
)
INTROSPECTION_NAMES = frozenset(
    {
        "builtins",
        "builtins.globals",
        "builtins.vars",
        "builtins.locals",
        "sys._getframe",
        "inspect.currentframe",
        "inspect.stack",
        "inspect.trace",
        "inspect.getouterframes",
        "types.FunctionType",
        "types.CodeType",
        "types.LambdaType",
        "gc.get_referrers",
        "gc.get_objects",
        "gc.get_referents",
        "inspect.getattr_static",
        "inspect.getmembers",
        "inspect.getmembers_static",
    }
)
ESCAPE_ATTRIBUTES = frozenset(
    {
        "__spec__",
        "__globals__",
        "__builtins__",
        "__subclasses__",
        "__code__",
        "__getattribute__",
        "f_globals",
        "f_locals",
        "f_builtins",
        "gi_frame",
        "cr_frame",
        "ag_frame",
        "func_globals",
        "__self__",
        "__loader__",
        "gi_code",
        "cr_code",
        "ag_code",
        "tb_frame",
        "f_back",
    }
)
DESERIALIZER_MODULES = frozenset(
    {
        "pickle",
        "cPickle",
        "_pickle",
        "marshal",
        "shelve",
        "dill",
        "cloudpickle",
        "jsonpickle",
        "joblib",
        "pickletools",
    }
)
DESERIALIZER_FUNCTIONS = frozenset(
    {
        "yaml.unsafe_load",
        "yaml.unsafe_load_all",
        "pandas.read_pickle",
        "torch.load",
        "numpy.load",
        "yaml.full_load",
        "yaml.full_load_all",
        "yaml.UnsafeLoader",
        "yaml.Loader",
        "yaml.CLoader",
        "yaml.CUnsafeLoader",
        "yaml.FullLoader",
        "yaml.CFullLoader",
    }
)
YAML_LOADERS = frozenset({"yaml.load", "yaml.load_all"})
YAML_SAFE_LOADERS = frozenset({"SafeLoader", "CSafeLoader", "BaseLoader", "CBaseLoader"})
# ctypes and cffi call any C function; CPython's test-only C modules read and write raw
# memory and run source in new interpreters.
NATIVE_MODULES = frozenset({"ctypes", "_ctypes", "cffi", "_testcapi", "_testinternalcapi"})

# Modules that host dangerous functions: passing one around as a value defeats name
# resolution (``def m(): return os`` → ``m().system``), so that is itself a finding.
MODULE_HOSTS = frozenset(
    {
        "os",
        "posix",
        "nt",
        "sys",
        "builtins",
        "shutil",
        "io",
        "_io",
        "codecs",
        "asyncio",
        "importlib",
        "subprocess",
        "socket",
        "pickle",
        "marshal",
        "ctypes",
        "pty",
        "multiprocessing",
        "runpy",
        "operator",
        "functools",
        "inspect",
        "gc",
        "types",
        "pathlib",
        "tempfile",
    }
)
# Functions that import the object named by their first argument (``a.b.c`` or
# ``a.b:c``) and return it.
RESOLVERS = frozenset(
    {
        "pkgutil.resolve_name",
        "pydoc.locate",
        "logging.config.BaseConfigurator.resolve",
        "werkzeug.utils.import_string",
        "django.utils.module_loading.import_string",
        "kombu.utils.imports.symbol_by_name",
        "celery.utils.imports.symbol_by_name",
        "zope.dottedname.resolve.resolve",
        "hydra.utils.get_class",
        "hydra.utils.get_method",
        "hydra.utils.get_object",
    }
)
# Functions that import the package named by their first argument (an *anchor*) to read its
# data files; a module object, ``__name__`` or ``__package__`` imports nothing new.
ANCHOR_IMPORTERS = frozenset(
    f"{module}.{name}"
    for module in ("importlib.resources", "importlib_resources")
    for name in (
        "files",
        "open_text",
        "open_binary",
        "read_text",
        "read_binary",
        "path",
        "contents",
        "is_resource",
    )
)
# Functions that import the module named by their first argument.
DYNAMIC_IMPORTERS = (
    frozenset(
        {
            "builtins.__import__",
            "importlib.__import__",
            "importlib.import_module",
            "importlib.util.find_spec",
            "importlib.util.spec_from_file_location",
            # mock.patch("a.b.c") imports a.b to replace c.
            "unittest.mock.patch",
            "unittest.mock.patch.dict",
            "unittest.mock.patch.multiple",
            "mock.patch",
        }
    )
    | RESOLVERS
    | ANCHOR_IMPORTERS
)
MODULE_TABLE_GETTERS = frozenset(
    {
        "sys.modules.get",
        "sys.modules.pop",
        "sys.modules.setdefault",
        "sys.modules.__getitem__",
    }
)

# Names a star import certainly binds, by module (their literal ``__all__``), where they
# shadow a builtin that matters: after ``from re import *``, ``compile`` is re.compile.
STAR_EXPORTS: dict[str, frozenset[str]] = {
    "re": frozenset({"compile"}),
    "py_compile": frozenset({"compile"}),
    **{
        module: frozenset({"open"})
        for module in (
            "aifc",
            "bz2",
            "codecs",
            "dbm",
            "gzip",
            "io",
            "lzma",
            "os",
            "shelve",
            "tarfile",
            "wave",
            "webbrowser",
        )
    },
}
