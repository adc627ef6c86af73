"""The model's modules compiled to C by mypyc: the same code, run about a third faster.

``dcsim compile`` compiles the modules of ``dcsim.model`` listed below into
``dcsim/model/_native/`` (it needs the ``fast`` extra, for mypyc, and a C compiler), with
a manifest of the SHA-256 of every module of dcsim as it was then. At import,
:func:`use_compiled` puts that folder ahead of the sources only while the manifest matches
this Python and every module as it is now: edit any of them and the pure-Python modules
run again, all of them (compiled modules call one another directly, so half a set is
never used), until the next compile. ``DCSIM_PURE=1`` runs the pure-Python modules
whatever is compiled.

The compiled modules give the same results, bit for bit: they do the same float
operations in the same order (the tests compare every bundled site's outputs).
Modules left out: ``events`` (an Enum with its own ``__new__``) and ``site_api`` (a
Protocol, nothing to run).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.machinery
import io
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
MODEL = PACKAGE / "model"
MANIFEST = "manifest.json"
PURE_VARIABLE = "DCSIM_PURE"  # set (not 0): the pure-Python modules, whatever is compiled
FOLDER_VARIABLE = "DCSIM_NATIVE_DIR"  # where compiled modules are kept, if not dcsim/model/_native
LEFT_OUT = frozenset({"__init__", "events", "site_api"})
_GROUP = "dcsim.model.compiled"  # the shared library's module name: found in _native too
# mypy's settings for the compile: the project's own (strict, as `mypy dcsim` checks it),
# and what the compile reads of the rest: the modules the model imports for their types
# only (silent); Dask and what its dashboard draws with not at all: dcsim imports them only
# to run on a cluster, and with bokeh installed (the dask extra) following them kept a
# compile busy for over seven minutes of CPU (stopped there) instead of about one.
_MYPY_CONFIG = """\
[mypy]
strict = True
ignore_missing_imports = True
follow_imports = silent
[mypy-dask.*,distributed.*,bokeh.*]
follow_imports = skip
"""


def compiled_modules() -> list[str]:
    """The short names of the model modules that are compiled."""
    return sorted(p.stem for p in MODEL.glob("*.py") if p.stem not in LEFT_OUT)


def native_folder() -> Path:
    """Where the compiled modules are kept: $DCSIM_NATIVE_DIR, else dcsim/model/_native."""
    return Path(os.environ.get(FOLDER_VARIABLE) or MODEL / "_native")


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def package_sources() -> dict[str, str]:
    """The SHA-256 of every module of dcsim, by path from the package's folder. All of them,
    not the compiled ones alone: compiled code has the types of what it imports built in
    (the specs, the event rows), so an edit anywhere makes a compile stale."""
    return {
        path.relative_to(PACKAGE).as_posix(): _digest(path)
        for path in sorted(PACKAGE.rglob("*.py"))
    }


def _extension_suffix() -> str:
    return importlib.machinery.EXTENSION_SUFFIXES[0]


def use_compiled(model_path: list[str], native: Path | None = None) -> bool:
    """Put ``native`` first on ``dcsim.model``'s search path if what it holds was
    compiled by this Python from the sources as they are now; True if it was put."""
    if os.environ.get(PURE_VARIABLE, "") not in ("", "0"):
        return False
    native = native or native_folder()
    try:
        manifest = json.loads((native / MANIFEST).read_text(encoding="utf-8"))
        if manifest["suffix"] != _extension_suffix():
            return False  # compiled by another Python: its files would not load
        compiled_from: dict[str, str] = dict(manifest["sources"])
        modules = list(manifest["modules"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False  # nothing compiled (the usual case), or a broken manifest
    now = package_sources()
    stale = sorted(n for n in {*compiled_from, *now} if compiled_from.get(n) != now.get(n))
    if stale or modules != compiled_modules():
        shown = ", ".join(stale[:3]) + (f" and {len(stale) - 3} more" if len(stale) > 3 else "")
        print(
            f"dcsim: the compiled model in {native} was compiled from other sources"
            f" ({shown or 'another set of modules'}); running the pure-Python modules."
            " `dcsim compile` compiles them again.",
            file=sys.stderr,
        )
        return False
    model_path.insert(0, str(native))
    return True


def is_compiled() -> bool:
    """Whether the model modules running in this process are the compiled ones."""
    import dcsim.model.site_core as probe

    return not (probe.__file__ or "").endswith(".py")


def compile_model(native: Path | None = None) -> Path:
    """Compile the model modules into ``native`` (replaced whole, only once the build has
    succeeded) with their manifest; mypyc's and the C compiler's errors are raised."""
    from mypyc.build import mypycify  # the fast extra: only this command needs it
    from setuptools import Distribution

    native = native or native_folder()
    names = compiled_modules()
    sources = package_sources()
    root = MODEL.parent.parent  # the folder dcsim/ is in: module names follow from it
    with tempfile.TemporaryDirectory(prefix="dcsim-native-") as work:
        here, cache = os.getcwd(), os.environ.get("MYPY_CACHE_DIR")
        os.chdir(root)  # mypyc names a module after its path from the working folder
        os.environ["MYPY_CACHE_DIR"] = os.path.join(work, "mypy")  # nothing left beside dcsim/
        try:
            # Type errors count in the compiled modules only: what they import is read for
            # its types (pandas without its stubs is Any), not held to mypy's strict rules.
            # mypyc prints its notes and errors: kept back, and shown only if it fails.
            said = io.StringIO()
            config = Path(work, "mypy.ini")
            config.write_text(_MYPY_CONFIG, encoding="utf-8")
            try:
                with contextlib.redirect_stdout(said):
                    extensions = mypycify(
                        ["--config-file", str(config), *(f"dcsim/model/{n}.py" for n in names)],
                        opt_level="3",
                        group_name=_GROUP,
                        target_dir=os.path.join(work, "c"),
                    )
            except BaseException:
                sys.stderr.write(said.getvalue())
                raise
            build = Distribution({"name": "dcsim-native", "ext_modules": extensions})
            command = build.get_command_obj("build_ext")
            command.build_lib = os.path.join(work, "lib")
            command.build_temp = os.path.join(work, "tmp")
            command.parallel = os.cpu_count() or 1
            command.ensure_finalized()
            command.run()
        finally:
            os.chdir(here)
            if cache is None:
                os.environ.pop("MYPY_CACHE_DIR", None)
            else:
                os.environ["MYPY_CACHE_DIR"] = cache
        built = Path(work, "lib", "dcsim", "model")
        staged = Path(work, "staged")
        staged.mkdir()
        for library in built.glob(f"*{_extension_suffix()}"):
            shutil.copy2(library, staged / library.name)
        manifest = {"suffix": _extension_suffix(), "modules": names, "sources": sources}
        (staged / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
        # Into place: copied whole beside the folder first (left over by an interrupted
        # compile? replaced), then two renames, so the old compile is in use until then.
        new, old = (native.with_name(native.name + suffix) for suffix in (".new", ".old"))
        for leftover in (new, old):
            shutil.rmtree(leftover, ignore_errors=True)
        shutil.copytree(staged, new)
        if native.exists():
            native.rename(old)
        new.rename(native)
        shutil.rmtree(old, ignore_errors=True)
    return native
