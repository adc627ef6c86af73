"""What a run has finished, kept in its --out folder so that ``--resume`` can go on from there.

While a command runs, its folder holds ``run.json`` with ``"status": "running"``,
the settings that define the run (``resume``: the resolved spec, replications,
format...) and how many of its tasks are finished; and a hidden folder
``.dcsim-partial/`` with one file per finished task and the tables being
streamed. A run killed at any point (SIGKILL included) leaves these behind;
``--resume`` with the same settings loads the finished tasks, runs the rest,
and writes the same bytes an uninterrupted run writes. At the end the final
files replace them and ``.dcsim-partial/`` is removed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pickle
import shutil
import sys
from pathlib import Path
from typing import Any

from dcsim.errors import DcsimError
from dcsim.output.folders import PARTIAL_FOLDER, prepare_folder
from dcsim.output.run_folder import read_run_info

RUNNING, COMPLETE = "running", "complete"
_COUNT = "<tasks finished>"  # where the count goes in run.json's text
# The form of what a command's store keeps of a finished task, recorded in run.json while
# it runs (none recorded: 1). Each command that keeps tasks passes its own, raised whenever
# what it keeps changes shape, so that a run interrupted under another version of dcsim is
# refused with a word, not read into objects this one no longer understands.
FIRST_FORMAT = 1


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM stopped a run; ``finished`` of its ``total`` tasks are kept
    (``unit``: what a task is, to the user: replications for ``dcsim run``)."""

    def __init__(self, folder: Path, finished: int, total: int, unit: str = "tasks") -> None:
        super().__init__(folder, finished, total)
        self.folder, self.finished, self.total, self.unit = folder, finished, total, unit


class Checkpoint:
    """The finished tasks of the run into ``folder`` defined by ``identity``.

    With ``resume``, an unfinished run there with the same identity is taken up
    (:attr:`known` holds its finished tasks); a folder that is empty, new, or
    holds no run starts afresh. Otherwise the folder is prepared as for any run
    (refused if it holds files, unless ``force``).
    """

    def __init__(
        self, folder: Path, identity: dict[str, Any], *, resume: bool, force: bool, total: int,
        form: int = FIRST_FORMAT,
    ) -> None:  # fmt: skip
        """``form``: the form of what this command keeps (see FIRST_FORMAT)."""
        self.folder = folder
        self.form = form
        self.store = folder / PARTIAL_FOLDER
        self.identity = _plain(identity)
        self.total = total
        self.known: dict[str, Any] = {}  # what the interrupted run had finished
        self._finished: set[str] = set()  # keys of every finished task (not their results)
        self.already_complete = False
        self.started_here = False
        self._progress: list[str] | None = None  # run.json's text around the count
        info = read_run_info(folder) if resume and folder.is_dir() else {}
        status = info.get("status")
        if resume and status in (RUNNING, COMPLETE) and info.get("resume") is not None:
            # An unfinished run's kept tasks first: another version may also have recorded
            # its settings in another shape, and "other settings" would be the wrong word.
            _check_command(folder, info["resume"], self.identity)
            if status == RUNNING and info.get("checkpoint_format", FIRST_FORMAT) != form:
                raise DcsimError(
                    f"{folder}: the run there was interrupted under another version of dcsim,"
                    " which kept its finished tasks in a form this one does not read;"
                    " --resume cannot go on from them. Run the same command with --force"
                    " (without --resume) to start again."
                )
            _check_same(folder, info["resume"], self.identity)
            if status == COMPLETE:
                self.already_complete = True
                return
            if self.store.is_dir():
                self.known = self._load()
                self._finished = set(self.known)
                self._write_progress()
                return
        prepare_folder(folder, force or (resume and status == RUNNING))
        self.store.mkdir()
        self.started_here = True  # this run made the folder's run.json and store
        self._write_progress()

    def _path(self, key: str) -> Path:
        return self.store / f"task-{hashlib.sha256(key.encode()).hexdigest()[:20]}.pickle"

    def _load(self) -> dict[str, Any]:
        known = {}
        for path in sorted(self.store.glob("task-*.pickle")):
            try:
                with path.open("rb") as handle:
                    key, value = pickle.load(handle)
            except Exception:  # cut short by the kill, or unreadable: that task runs again
                continue
            known[key] = value
        return known

    def save(self, key: str, value: Any) -> None:
        """Keep one finished task. Written in place, not renamed into place (one file
        operation less a task in the parent, which shares the cores with the workers): a
        file cut short by a kill does not load, and that task runs again (see _load)."""
        try:
            with self._path(key).open("wb") as handle:
                pickle.dump((key, value), handle, protocol=pickle.HIGHEST_PROTOCOL)
            self._finished.add(key)  # not the value: memory must not grow with the tasks
            self._write_progress()
        except OSError as exc:
            raise DcsimError(
                f"{self.store}: could not keep a finished task ({exc.strerror or exc}); the"
                f" {len(self._finished)} kept before it are safe: make room, then run the same"
                " command with --resume."
            ) from None

    @property
    def finished(self) -> int:
        """Tasks finished so far, those of the interrupted run included."""
        return len(self._finished)

    def _write_progress(self) -> None:
        path = self.folder / "run.json"
        partial = self.folder / ".run.json.partial"
        partial.write_text(self._progress_text(len(self._finished)), encoding="utf-8")
        os.replace(partial, path)

    def _progress_text(self, finished: int) -> str:
        """run.json while the run goes on. All but the count of finished tasks is the same
        at every task, so its text is made once (the settings are the whole resolved
        spec, tens of KB of JSON) and the count put in its place."""
        if self._progress is None:
            from dcsim.output.export import version

            record = {
                "dcsim_version": version(),
                "status": RUNNING,
                "command_line": sys.argv,
                "tasks": self.total,
                "tasks_finished": _COUNT,
                "checkpoint_format": self.form,
                "resume": self.identity,
            }
            self._progress = json.dumps(record, indent=2).split(json.dumps(_COUNT))
        if len(self._progress) != 2:  # the settings hold the marker's own text
            record = json.loads(json.dumps(_COUNT).join(self._progress))
            record["tasks_finished"] = finished
            return json.dumps(record, indent=2) + "\n"
        return str(finished).join(self._progress) + "\n"

    def abandon(self) -> None:
        """The run was refused before it finished a task (a bad --site, --grid, ...): take
        back the run.json and store it made, so that the corrected command finds the
        folder as it was, not "a run that did not finish"."""
        if not self.started_here or self._finished:
            return
        with contextlib.suppress(FileNotFoundError):
            shutil.rmtree(self.store)
        with contextlib.suppress(FileNotFoundError):
            (self.folder / "run.json").unlink()

    def close(self) -> None:
        """The run's final files are written: forget its finished tasks."""
        with contextlib.suppress(FileNotFoundError):
            shutil.rmtree(self.store)


def resume_record(identity: dict[str, Any]) -> dict[str, Any]:
    """What the final run.json keeps so that a later --resume recognises a finished run."""
    return {"status": COMPLETE, "resume": _plain(identity)}


def _plain(value: Any) -> Any:
    """``value`` as JSON gives it back (tuples as lists, dates as text), for comparing."""
    return json.loads(json.dumps(value, default=str))


def _check_same(folder: Path, recorded: Any, wanted: dict[str, Any]) -> None:
    if recorded == wanted:
        return
    _check_command(folder, recorded, wanted)
    differences = _setting_differences(recorded, wanted) if isinstance(recorded, dict) else []
    differences = list(dict.fromkeys(differences))  # a base setting its variants share: once
    differences.sort(key=lambda text: not text.startswith("scenario."))  # seed, horizon first
    shown = "; ".join(differences[:_SHOWN]) or "recorded in a form this dcsim does not name"
    if len(differences) > _SHOWN:
        shown += f"; and {len(differences) - _SHOWN} more"
    raise DcsimError(
        f"{folder}: the run there was made with other settings ({shown}); --resume goes on"
        " only with the same file, overrides, replications, seed, horizon and output"
        " options. Give those, or pass --force (without --resume) to start again."
    )


def _check_command(folder: Path, recorded: Any, wanted: dict[str, Any]) -> None:
    """A run of another command there: say so, before anything about its settings or
    the form of its kept tasks (which differ between commands too)."""
    there = recorded.get("command") if isinstance(recorded, dict) else None
    here = wanted.get("command")
    if isinstance(there, str) and there != here:
        made = f"`dcsim {there}`"
        raise DcsimError(
            f"{folder}: the run there was made by {made}, not `dcsim {here}`; --resume goes"
            f" on only with the command that started it. Run {made} again with --resume,"
            " or pass --force (without --resume) to start this one afresh."
        )


_SHOWN = 4  # differences named in the message; the rest are counted
_FROM_SPECS = ("scenario", "seed", "horizon_days")  # a what-if's run.json, from its specs
_ABSENT = object()  # a setting one of the two runs does not record
# run.json's names for what a command line sets, as the user gives them.
_OPTION_NAMES = {
    "replications": "--reps",
    "format": "--format",
    "background_events": "background events (--no-background)",
    "events_format": "--events-format",
    "ocel": "--ocel",
    "overrides": "--set",
    "sites": "--site",
    "grid": "--grid",
    "variants": "--variant",
    "source_file": "FILE",
    "dcsim_version": "dcsim's version",
}


def _setting_differences(recorded: dict[str, Any], wanted: dict[str, Any]) -> list[str]:
    """Each setting that differs, as ``name: value there, value here``: the command line's
    options by their flags (a --variant or --grid by its name), then the scenario's
    settings (``spec``; a what-if's ``specs``, the base and each variant) by their dotted
    keys in the file."""
    found: list[str] = []
    specs = "specs" in recorded and "specs" in wanted
    for key in sorted(_keys(recorded, wanted), key=lambda k: k in ("spec", "specs")):
        there, here = recorded.get(key, _ABSENT), wanted.get(key, _ABSENT)
        if there == here or (specs and key in _FROM_SPECS):  # those: named from the specs
            continue
        if key == "spec":
            found += _differences(there, here, "")
        elif key == "specs" and isinstance(there, list) and isinstance(here, list):
            if len(there) != len(here):
                found.append(f"scenarios compared: {len(there)} there, {len(here)} here")
            for one, other in zip(there, here, strict=False):
                found += _differences(one, other, "")
        elif isinstance(there, dict) and isinstance(here, dict):  # --variant, --grid
            flag = _OPTION_NAMES.get(key, key)
            for name in _keys(there, here):
                one, other = there.get(name, _ABSENT), here.get(name, _ABSENT)
                if one != other:
                    found.append(_pair(f"{flag} {name}", one, other))
        else:
            found.append(_pair(_OPTION_NAMES.get(key, key), there, here))
    return found


def _differences(recorded: Any, wanted: Any, path: str) -> list[str]:
    """The settings of a scenario that differ, by their dotted keys in the file."""
    if isinstance(recorded, dict) and isinstance(wanted, dict):
        found: list[str] = []
        for key in _keys(recorded, wanted):
            there, here = recorded.get(key, _ABSENT), wanted.get(key, _ABSENT)
            if there != here:
                found += _differences(there, here, f"{path}.{key}" if path else key)
        return found
    return [_pair(path or "the scenario", recorded, wanted)]


def _keys(recorded: dict[str, Any], wanted: dict[str, Any]) -> list[str]:
    """The keys of both, in the order this command gives them, then the others'."""
    return list(dict.fromkeys([*wanted, *recorded]))


def _pair(name: str, there: Any, here: Any) -> str:
    return f"{name}: {_shown(there)} there, {_shown(here)} here"


def _shown(value: Any) -> str:
    if value is _ABSENT:
        return "(absent)"
    if isinstance(value, dict):
        return "(a table)"
    text = repr(value) if isinstance(value, str) else json.dumps(value)
    if len(text) <= 40:
        return text
    if isinstance(value, list):
        return f"(a list of {len(value)})"
    return text[:14] + "..." + text[-23:]  # the end too: where two paths differ
