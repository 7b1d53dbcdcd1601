"""Where a setting of `environments:` is written, for errors found after the files loaded.

Read again with the exact reader, only when there is something to point at (errors are rare; a
load never pays for this).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any


def environment_position(
    files: Sequence[str], env: str | None, field: str | None, under: Sequence[str] = ()
) -> tuple[str, int, int]:
    """(file, line, column) of `environments.ENV.FIELD` (and of the keys `under` it, when
    written; or of the environment, or of the `environments:` key, whichever is written) in
    the first of `files` that declares environments; the first file at 1:1 when none does."""
    from reconcile.desired import parse_exact

    for file in files:
        try:
            text = Path(file).read_text(encoding="utf-8-sig")
            doc = parse_exact(file, text)
        except (OSError, UnicodeDecodeError):
            continue
        data: Any = doc.data
        envs = data.get("environments") if isinstance(data, dict) else None
        if not isinstance(envs, dict):
            continue
        if env is not None and isinstance(envs.get(env), dict):
            if field is not None and field in envs[env]:
                path: tuple[Any, ...] = ("environments", env, field)
                node = envs[env][field]
                for key in under:
                    if not isinstance(node, dict) or key not in node:
                        break
                    path, node = (*path, key), node[key]
                line, col = doc.position(path)
            else:
                line, col = doc.position(("environments", env), at_key=True)
        else:
            line, col = doc.position(("environments",), at_key=True)
        return file, line, col
    return (files[0] if files else "."), 1, 1
