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
NATIVE_MODULES = frozenset({"ctypes", "_ctypes", "cffi"})

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
# Functions that import the module named by their first argument.
DYNAMIC_IMPORTERS = frozenset(
    {
        "builtins.__import__",
        "importlib.__import__",
        "importlib.import_module",
        "pkgutil.resolve_name",
        "importlib.util.find_spec",
        "importlib.util.spec_from_file_location",
        "pydoc.locate",
        "logging.config.BaseConfigurator.resolve",
    }
)
MODULE_TABLE_GETTERS = frozenset(
    {
        "sys.modules.get",
        "sys.modules.pop",
        "sys.modules.setdefault",
        "sys.modules.__getitem__",
    }
)
