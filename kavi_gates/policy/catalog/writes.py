"""``allowed_write_paths``: what writes or deletes files, and where its path argument is.

Argument places are ``(position, keyword)`` pairs; position 99 means keyword-only.
"""

from __future__ import annotations

ArgPlace = tuple[int, str]

# qualified name → (path argument positions/keywords, mode position, mode keyword, default mode)
OPENERS: dict[str, tuple[tuple[ArgPlace, ...], int, str, str]] = {
    "builtins.open": (((0, "file"),), 1, "mode", "r"),
    "io.open": (((0, "file"),), 1, "mode", "r"),
    "io.FileIO": (((0, "file"),), 1, "mode", "r"),
    "_io.open": (((0, "file"),), 1, "mode", "r"),
    "_io.FileIO": (((0, "file"),), 1, "mode", "r"),
    "tarfile.TarFile": (((0, "name"),), 1, "mode", "r"),
    "zipfile.PyZipFile": (((0, "file"),), 1, "mode", "r"),
    "codecs.open": (((0, "filename"),), 1, "mode", "r"),
    "gzip.open": (((0, "filename"),), 1, "mode", "rb"),
    "gzip.GzipFile": (((0, "filename"),), 1, "mode", "rb"),
    "bz2.open": (((0, "filename"),), 1, "mode", "rb"),
    "bz2.BZ2File": (((0, "filename"),), 1, "mode", "r"),
    "lzma.open": (((0, "filename"),), 1, "mode", "rb"),
    "lzma.LZMAFile": (((0, "filename"),), 1, "mode", "r"),
    "tarfile.open": (((0, "name"),), 1, "mode", "r"),
    "zipfile.ZipFile": (((0, "file"),), 1, "mode", "r"),
    "dbm.open": (((0, "file"),), 1, "flag", "r"),
}
_P0, _P1 = ((0, "path"),), ((1, "dst"),)
WRITERS: dict[str, tuple[ArgPlace, ...]] = {
    **{
        f"os.{n}": _P0
        for n in (
            "remove",
            "unlink",
            "rmdir",
            "removedirs",
            "mkdir",
            "makedirs",
            "truncate",
            "chmod",
            "lchmod",
            "chown",
            "lchown",
            "utime",
            "mkfifo",
            "mknod",
            "chflags",
            "lchflags",
            "setxattr",
            "removexattr",
        )
    },
    **{
        f"os.{n}": ((0, "src"), (1, "dst"))
        for n in ("rename", "renames", "replace", "link", "symlink")
    },
    **{
        f"shutil.{n}": _P1
        for n in ("copy", "copy2", "copyfile", "copytree", "copymode", "copystat")
    },
    "shutil.move": ((0, "src"), (1, "dst")),
    "shutil.rmtree": _P0,
    "shutil.chown": _P0,
    "shutil.make_archive": ((0, "base_name"),),
    "shutil.unpack_archive": ((1, "extract_dir"),),
    "sqlite3.connect": ((0, "database"),),
    "os.chdir": _P0,
    "logging.basicConfig": ((99, "filename"),),
    "logging.FileHandler": ((0, "filename"),),
    "logging.handlers.RotatingFileHandler": ((0, "filename"),),
    "logging.handlers.TimedRotatingFileHandler": ((0, "filename"),),
    "logging.handlers.WatchedFileHandler": ((0, "filename"),),
    "numpy.save": ((0, "file"),),
    "numpy.savez": ((0, "file"),),
    "numpy.savez_compressed": ((0, "file"),),
    "numpy.savetxt": ((0, "fname"),),
    **{
        f"tempfile.{n}": ((99, "dir"),)
        for n in (
            "mkstemp",
            "mkdtemp",
            "NamedTemporaryFile",
            "TemporaryFile",
            "TemporaryDirectory",
            "SpooledTemporaryFile",
        )
    },
}
# Methods of path objects that write or delete (receiver is the path).
PATH_METHODS = frozenset(
    {
        "write_text",
        "write_bytes",
        "touch",
        "mkdir",
        "unlink",
        "rmdir",
        "rename",
        "replace",
        "symlink_to",
        "hardlink_to",
        "link_to",
        "chmod",
        "lchmod",
    }
)
TWO_PATH_METHODS = frozenset({"rename", "replace", "symlink_to", "hardlink_to", "link_to"})
# Methods of data objects that write to the path given as first argument.
SAVE_METHODS = frozenset(
    {
        "to_csv",
        "to_json",
        "to_parquet",
        "to_excel",
        "to_pickle",
        "to_feather",
        "to_hdf",
        "to_stata",
        "savefig",
        "tofile",
    }
)
# Archive methods that write into a directory (default: the working directory).
EXTRACT_METHODS = frozenset({"extractall", "extract"})
PATH_CTORS = frozenset(
    {
        "pathlib.Path",
        "pathlib.PurePath",
        "pathlib.PosixPath",
        "pathlib.PurePosixPath",
        "pathlib.WindowsPath",
        "pathlib.PureWindowsPath",
    }
)
SAFE_TARGETS = frozenset({":memory:", ""})
