"""dcsim compile: the model compiled by mypyc writes the same bytes as the pure-Python
model, and is used only while it was compiled from the sources as they are now."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dcsim import native
from tests.support import REPO, SITES, run_in_process

# Every bundled site, two replications each: a hash of what a worker sends back (event
# and timeseries CSV rows, summary parts), and whether the compiled modules ran.
_HASHES = """
import hashlib, json, pickle, sys
from pathlib import Path
import dcsim
from dcsim.input.overrides import with_run_settings
from dcsim.native import is_compiled
from dcsim.output.export import Layout
from dcsim.output.streamed_run import replication_task
hashes = {}
for path in sorted(Path(sys.argv[1]).glob("*.toml")):
    scenario = with_run_settings(dcsim.load(path), years=10, seed=None)
    for replication in (0, 1):
        sent = replication_task((scenario, replication, Layout(), None))
        hashes[f"{path.name}:{replication}"] = hashlib.sha256(pickle.dumps(sent)).hexdigest()
print(json.dumps({"compiled": is_compiled(), "hashes": hashes}))
"""


def _environment(folder: Path | None) -> dict[str, str]:
    """This environment, running the modules compiled into ``folder`` (None: pure Python)."""
    env = dict(os.environ)
    env.pop(native.PURE_VARIABLE, None)
    if folder is None:
        env[native.PURE_VARIABLE] = "1"
    else:
        env[native.FOLDER_VARIABLE] = str(folder)
    return env


def _python(code: str, *args: str, folder: Path | None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=_environment(folder),
        timeout=300,
        check=True,
    )


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The model compiled by `dcsim compile` into a folder of the test's own."""
    pytest.importorskip("mypyc", reason="the fast extra (mypy) is not installed")
    if shutil.which(os.environ.get("CC", "cc")) is None:
        pytest.skip("no C compiler")
    folder = tmp_path_factory.mktemp("native") / "_native"
    leftover = folder.with_name("_native.new")  # as an interrupted compile leaves it
    leftover.mkdir(parents=True)
    (leftover / "half.so").write_bytes(b"")
    env = _environment(folder)
    done = subprocess.run(
        [sys.executable, "-m", "dcsim", "compile"],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    said = f"compiled {len(native.compiled_modules())} model modules into {folder}/"
    assert done.stdout.splitlines()[-1:] == [said], done.stdout
    assert "warning" not in done.stdout  # mypyc's notes are kept back when it succeeds
    assert (folder / native.MANIFEST).is_file()
    assert not leftover.exists() and not (folder / "half.so").exists()
    return folder


def test_every_bundled_site_sends_the_same_rows_compiled(compiled: Path) -> None:
    pure = json.loads(_python(_HASHES, str(SITES), folder=None).stdout)
    fast = json.loads(_python(_HASHES, str(SITES), folder=compiled).stdout)
    assert (pure["compiled"], fast["compiled"]) == (False, True)
    assert len(pure["hashes"]) >= 10
    assert fast["hashes"] == pure["hashes"]


def test_a_run_on_two_workers_writes_the_same_bytes_compiled(
    compiled: Path, tmp_path: Path
) -> None:
    outputs = {}
    for name, folder in (("pure", None), ("compiled", compiled)):
        out = tmp_path / name
        subprocess.run(
            [sys.executable, "-m", "dcsim", "run", "sites/portfolio.toml", "--years", "10",
             "--reps", "4", "--workers", "2", "--out", str(out), "--quiet"],
            cwd=REPO, env=_environment(folder), timeout=300, check=True,
        )  # fmt: skip
        outputs[name] = {p.name: p.read_bytes() for p in sorted(out.glob("*.csv"))}
    assert len(outputs["pure"]) >= 5
    assert outputs["compiled"] == outputs["pure"]


# ---------------------------------------------------- which modules run (no compile needed)
def _manifest(folder: Path, **changes: object) -> Path:
    """A manifest in ``folder`` as `dcsim compile` writes it for the sources as they are."""
    manifest: dict[str, object] = {
        "suffix": native._extension_suffix(),
        "modules": native.compiled_modules(),
        "sources": native.package_sources(),
    }
    manifest.update(changes)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / native.MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    return folder


def test_a_compile_of_the_sources_as_they_are_goes_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv(native.PURE_VARIABLE)
    folder = _manifest(tmp_path / "n")
    path = ["dcsim/model"]
    assert native.use_compiled(path, folder)
    assert path == [str(folder), "dcsim/model"]
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    "edit",
    ["a compiled module", "a module left in Python", "a spec it reads", "one added", "one gone"],
)
def test_an_edit_anywhere_in_dcsim_runs_every_module_pure_and_says_so(
    edit: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Compiled code has the types of what it imports built in (the event rows, the specs):
    # an edit to any module of dcsim, not only to a compiled one, makes the compile stale.
    monkeypatch.delenv(native.PURE_VARIABLE)
    sources = native.package_sources()
    changed = {
        "a compiled module": "model/clock.py",
        "a module left in Python": "model/events.py",
        "a spec it reads": "input/spec.py",
        "one added": "model/new.py",
        "one gone": "model/clock.py",
    }[edit]
    if edit == "one added":
        sources.pop(changed, None)  # the compile did not know it: as if added since
        monkeypatch.setattr(native, "package_sources", lambda: {**sources, changed: "0" * 64})
    elif edit == "one gone":
        monkeypatch.setattr(
            native, "package_sources", lambda: {k: v for k, v in sources.items() if k != changed}
        )
    else:
        sources[changed] = "0" * 64  # as if edited after the compile
    path = ["dcsim/model"]
    assert not native.use_compiled(path, _manifest(tmp_path / "n", sources=sources))
    assert path == ["dcsim/model"]
    err = capsys.readouterr().err
    assert f"other sources ({changed})" in err and "dcsim compile" in err


def test_a_changed_set_of_compiled_modules_runs_every_module_pure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv(native.PURE_VARIABLE)
    modules = [m for m in native.compiled_modules() if m != "clock"]
    path = ["dcsim/model"]
    assert not native.use_compiled(path, _manifest(tmp_path / "n", modules=modules))
    assert path == ["dcsim/model"]
    assert "another set of modules" in capsys.readouterr().err


@pytest.mark.parametrize(
    "case", ["another Python", "no manifest", "broken manifest", "sources a list", "DCSIM_PURE=1"]
)
def test_nothing_usable_compiled_runs_pure_without_a_word(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv(native.PURE_VARIABLE)
    folder = _manifest(tmp_path / "n")
    if case == "another Python":
        _manifest(folder, suffix=".cpython-399-x86_64-linux-gnu.so")
    elif case == "no manifest":
        (folder / native.MANIFEST).unlink()
    elif case == "broken manifest":
        (folder / native.MANIFEST).write_text("{", encoding="utf-8")
    elif case == "sources a list":
        _manifest(folder, sources=["model/clock.py"])
    else:
        monkeypatch.setenv(native.PURE_VARIABLE, "1")
    path = ["dcsim/model"]
    assert not native.use_compiled(path, folder)
    assert path == ["dcsim/model"]
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    ("failure", "said"),
    [
        (ImportError("No module named 'mypyc'", name="mypyc"), "mypyc is not installed"),
        (SystemExit(1), "mypyc's type errors are above"),  # how mypyc stops on a type error
        (OSError("no C compiler"), "OSError: no C compiler"),
    ],
)
def test_a_compile_that_cannot_run_says_why_and_dcsim_still_runs(
    failure: BaseException, said: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fails(folder: Path | None = None) -> Path:
        raise failure

    monkeypatch.setattr(native, "compile_model", fails)
    done = run_in_process("compile")
    assert done.returncode == 1
    assert said in done.stderr and "keeps running in pure Python" in done.stderr
    assert "Traceback" not in done.stderr
