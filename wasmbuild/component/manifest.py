"""A starting manifest for a set of components (`wasmbuild manifest A.wasm B.wasm ...`).

`starting_manifest(paths, manifest_dir)` reads the component binaries at `paths` and gives the text
of a manifest (docs/manifest.md, "Components") that instantiates each once, in an order where every
provider comes before its consumers, and wires each import to the one export of another component
that matches it (by name, as `compose.find_export` matches). The rest is left to the host, with a
TOML comment saying why where that is a choice: several components export a match (an ambiguity:
the candidates are listed), or wiring it would make a cycle. The exports of the graph are the
instances' exports that no other instance consumes (the first one of each name; a later one of the
same name gets a comment). Paths in the manifest are relative to `manifest_dir`.

Each step is written by `toml.dumps` (as a one-element `[[step]]` array, so the concatenation is
one array of tables) with comment lines before it; the text loads back with `tomllib`.
"""

from __future__ import annotations

import os
import re

import toml

from ..errors import WasmbuildError
from .compose import find_export, read_component


def _step_name(path: str, taken: set[str]) -> str:
    stem = os.path.basename(path)
    for suffix in (".wasm", ".component"):
        if stem.endswith(suffix):
            stem = stem[:-len(suffix)]
    name = re.sub(r"[^A-Za-z0-9_-]", "_", stem) or "component"
    unique, n = name, 1
    while unique in taken:
        n += 1
        unique = f"{name}_{n}"
    taken.add(unique)
    return unique


def starting_manifest(paths: list[str], manifest_dir: str) -> str:
    if not paths:
        raise WasmbuildError("give the component binaries to compose")
    taken: set[str] = set()
    names, types = [], []
    for path in paths:
        _component, ctype = read_component(path)
        names.append(_step_name(path, taken))
        types.append(ctype)
    export_names = [[n for n, _ in t.exports] for t in types]

    # For each import of each component: the one (provider, export) it can be wired to, or why not.
    wiring: list[dict[str, tuple[int, str]]] = []
    maybe: list[set[int]] = []  # the candidates of ambiguous imports: placed before, if they can be
    notes: list[list[str]] = []
    for i, t in enumerate(types):
        wired, candidates_of, note = {}, set(), []
        for name, _extern in t.imports:
            candidates = [(j, e) for j in range(len(types)) if j != i for e in find_export(export_names[j], name)]
            if len(candidates) == 1:
                wired[name] = candidates[0]
            elif candidates:
                candidates_of.update(j for j, _ in candidates)
                listed = ", ".join(f"{names[j]}.{e}" for j, e in candidates)
                note.append(f"import {name}: ambiguous, {len(candidates)} candidates: {listed}; left to the "
                            f"host (to wire one: imports = {{ \"{name}\" = \"<instance>.<export>\" }})")
        wiring.append(wired)
        maybe.append(candidates_of)
        notes.append(note)

    # Providers before consumers, in the order given where the wiring allows; a wire that would
    # close a cycle is dropped (left to the host) with a note.
    order: list[int] = []
    placed: set[int] = set()
    while len(order) < len(types):
        waiting = [i for i in range(len(types)) if i not in placed]
        hard_ready = [i for i in waiting if all(j in placed for j, _ in wiring[i].values())]
        ready = [i for i in hard_ready if maybe[i] <= placed] or hard_ready
        if not ready:
            i = waiting[0]
            for name, (j, e) in list(wiring[i].items()):
                if j not in placed:
                    del wiring[i][name]
                    notes[i].append(f"import {name}: {names[j]}.{e} matches, but wiring it would make a cycle; "
                                    f"left to the host")
            ready = [i]
        order.append(ready[0])
        placed.add(ready[0])

    blocks = []
    for i in range(len(types)):
        path = _manifest_path(paths[i], manifest_dir)
        blocks.append(_block([], {"component": names[i], "path": path}))
    consumed = {(j, e) for w in wiring for j, e in w.values()}
    for i in order:
        table = {"instance": names[i], "of": names[i]}
        if wiring[i]:
            table["imports"] = {name: (names[j] if e == name else f"{names[j]}.{e}")
                                for name, (j, e) in wiring[i].items()}
        host = [name for name, _ in types[i].imports if name not in wiring[i]]
        comments = list(notes[i])
        if host:
            comments.append("from the host: " + ", ".join(host))
        blocks.append(_block(comments, table))
    exported: dict[str, str] = {}
    for i in order:
        for e in export_names[i]:
            if (i, e) in consumed:
                continue
            if e in exported:
                blocks.append(f"# export {e} of {names[i]}: not exported, the graph already exports {exported[e]}'s\n")
                continue
            exported[e] = names[i]
            blocks.append(_block([], {"export": e, "from": names[i]}))
    header = ("# A starting manifest made by `wasmbuild manifest` from "
              + ", ".join(os.path.basename(p) for p in paths) + " (docs/manifest.md, \"Components\").\n")
    return header + "\n" + "\n".join(blocks)


def _manifest_path(path: str, manifest_dir: str) -> str:
    """`path` relative to the manifest's directory when they share more than the root, else absolute."""
    path, manifest_dir = os.path.abspath(path), os.path.abspath(manifest_dir)
    if os.path.commonpath([path, manifest_dir]) == os.path.dirname(os.sep):
        return path
    return os.path.relpath(path, manifest_dir)


def _block(comments: list[str], table: dict) -> str:
    return "".join(f"# {c}\n" for c in comments) + toml.dumps({"step": [table]}).rstrip("\n") + "\n"
