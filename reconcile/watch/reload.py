"""The desired files as the watch uses them: re-read as a whole on SIGHUP or when they change.

An invalid file keeps the last good state in use and says why (in the log and in /status); the
next valid version is taken as it is. A change is noticed by polling each file's size, mtime and
inode (and a directory's listing), which works on every filesystem a container may mount.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from reconcile.desired import InvalidInput, load
from reconcile.environments import for_environment
from reconcile.escape import text as escaped
from reconcile.model import DesiredState

Stamp = tuple[tuple[str, int, int, int], ...]
MAX_SHOWN_PROBLEMS = 20


@dataclass(frozen=True)
class Reloaded:
    """The outcome of one reload: `changed` when a new state is in use, `error` when the files
    on disk are invalid (the last good state stays)."""

    changed: bool
    error: str | None = None


class DesiredFiles:
    def __init__(self, paths: Sequence[Path], state: DesiredState) -> None:
        self.paths = tuple(paths)
        self.state = state
        self.error: str | None = None
        self._stamp = stamp(self.paths)

    def changed_on_disk(self) -> bool:
        return stamp(self.paths) != self._stamp

    def reload(self) -> Reloaded:
        self._stamp = stamp(self.paths)
        try:
            state = self._resolved(load(list(self.paths)))
        except _EnvironmentChanged as exc:
            self.error = str(exc)
            return Reloaded(changed=False, error=self.error)
        except InvalidInput as exc:
            shown = [escaped(str(p)) for p in exc.problems[:MAX_SHOWN_PROBLEMS]]
            more = len(exc.problems) - len(shown)
            if more > 0:
                shown.append(f"... and {more} more")
            self.error = "; ".join(shown)
            return Reloaded(changed=False, error=self.error)
        self.error = None
        changed = state != self.state
        self.state = state
        return Reloaded(changed=changed)

    def _resolved(self, state: DesiredState) -> DesiredState:
        """`state` for the watched environment. Its key, base URL and account are those the
        watch started with: a file that changes them (or drops the environment) is not taken."""
        name = self.state.environment
        if name is None:
            if state.environments:
                raise _EnvironmentChanged("the files now declare environments: restart with --env")
            return state
        if state.environments.get(name) != self.state.environments.get(name):
            raise _EnvironmentChanged(
                f"environment {escaped(name)} is no longer declared as the watch started with it"
                " (its account, key or base URL): restart the watch to use the new declaration"
            )
        return for_environment(state, name)


class _EnvironmentChanged(Exception):
    pass


def stamp(paths: Sequence[Path]) -> Stamp:
    """What changes when any file (or a directory's set of files) changes."""
    seen: list[tuple[str, int, int, int]] = []
    for path in paths:
        candidates = [path]
        if path.is_dir():
            candidates = sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml"))
        for file in candidates:
            try:
                st = os.stat(file)
            except OSError:
                seen.append((str(file), -1, -1, -1))
                continue
            seen.append((str(file), st.st_size, st.st_mtime_ns, st.st_ino))
    return tuple(seen)
