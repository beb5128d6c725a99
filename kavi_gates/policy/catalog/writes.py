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
    "dbm.gnu.open": (((0, "filename"),), 1, "flag", "r"),
    "dbm.ndbm.open": (((0, "filename"),), 1, "flag", "r"),
    "dbm.dumb.open": (((0, "file"),), 1, "flag", "c"),
    "wave.open": (((0, "f"),), 1, "mode", "rb"),
    "aifc.open": (((0, "f"),), 1, "mode", "rb"),
    "sunau.open": (((0, "f"),), 1, "mode", "rb"),
    "h5py.File": (((0, "name"),), 1, "mode", "r"),
}
FLAG_STYLE_OPENERS = frozenset({"dbm.open", "dbm.gnu.open", "dbm.ndbm.open", "dbm.dumb.open"})
"""Openers whose mode is a dbm flag (r, w, c, n) rather than an ``open`` mode."""
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
    # Writers that take the path as an argument (and build or rewrite files there).
    "torch.save": ((1, "f"),),
    "torch.jit.save": ((1, "f"),),
    "safetensors.torch.save_file": ((1, "filename"),),
    "safetensors.numpy.save_file": ((1, "filename"),),
    "pandas.to_pickle": ((1, "filepath_or_buffer"),),
    "scipy.io.savemat": ((0, "file_name"),),
    "scipy.io.wavfile.write": ((0, "filename"),),
    "soundfile.write": ((0, "file"),),
    "imageio.imwrite": ((0, "uri"),),
    "imageio.v3.imwrite": ((0, "uri"),),
    "cv2.imwrite": ((0, "filename"),),
    **{f"mailbox.{n}": ((0, "path"),) for n in ("mbox", "MH", "Babyl", "MMDF")},
    "mailbox.Maildir": ((0, "dirname"),),
    "compileall.compile_dir": ((0, "dir"),),
    "compileall.compile_file": ((0, "fullname"),),
    "compileall.compile_path": (),
    "py_compile.compile": ((0, "file"), (1, "cfile")),
    "zipapp.create_archive": ((0, "source"), (1, "target")),
    **{
        f"http.cookiejar.{n}": ((0, "filename"),)
        for n in ("FileCookieJar", "MozillaCookieJar", "LWPCookieJar")
    },
    "uu.decode": ((1, "out_file"),),
    "uu.encode": ((1, "out_file"),),
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
# Places in WRITERS that may be left out: then the writer picks a place next to another
# argument (``py_compile.compile(file)`` writes ``__pycache__/`` beside ``file``), which is
# checked already.
OPTIONAL_PLACES: dict[str, frozenset[ArgPlace]] = {
    "py_compile.compile": frozenset({(1, "cfile")}),
    "zipapp.create_archive": frozenset({(1, "target")}),
}
# Writers that write their places only when a flag argument is true (``(position,
# keyword)`` of the flag; absent or a literal false: no write).
CONDITIONAL_WRITERS: dict[str, tuple[tuple[ArgPlace, ...], ArgPlace]] = {
    "fileinput.input": (((0, "files"),), (1, "inplace")),
    "fileinput.FileInput": (((0, "files"),), (1, "inplace")),
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
        "dump_stats",
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
