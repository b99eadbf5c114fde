"""Code versions: each asset's version covers the code it runs and the versions of what it reads.

An asset's own version is the SHA-256 of the code its function uses: the function itself and the
helpers of its room module it calls (found in the module's syntax tree, recursively: comments and
layout do not count), and every other ``mglt_pipeline`` module it uses a name of, with that module's
own package imports, transitively.
Editing an Oura reader changes the versions of the assets whose functions read Oura files, not of
every ingest asset, though they share a room module.

Dagster marks an asset stale when its code version differs from the one it was last materialized
with, but it does not carry that downstream. So the version an asset carries folds in the versions of
its upstream assets: a code change shows on the assets that run the changed code and on everything
downstream of them, and on nothing else. A version set by hand in a room wins.
"""
from __future__ import annotations

import ast
import hashlib
import importlib
import importlib.util
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from types import ModuleType

import dagster as dg

PACKAGE = "mglt_pipeline"
VERSION_LENGTH = 16


def _module_file(name: str) -> Path | None:
    """The source file of module ``name``, or None when ``name`` is not a module."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    return Path(spec.origin) if spec and spec.origin and spec.origin.endswith(".py") else None


@lru_cache(maxsize=None)
def _tree(name: str) -> ast.Module:
    return ast.parse(_module_file(name).read_text(encoding="utf-8"))


@lru_cache(maxsize=None)
def imported_names(name: str) -> dict[str, str]:
    """Each name module ``name`` imports from the package, mapped to the module it comes from."""
    path = _module_file(name)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: dict[str, str] = {}
    for node in ast.walk(_tree(name)):
        if isinstance(node, ast.Import):
            found.update({(a.asname or a.name).split(".")[0]: a.name for a in node.names})
        elif isinstance(node, ast.ImportFrom):
            base = importlib.util.resolve_name("." * node.level + (node.module or ""), package) \
                if node.level else (node.module or "")
            for alias in node.names:
                full = f"{base}.{alias.name}"
                found[alias.asname or alias.name] = full if _module_file(full) else base
    return {k: v for k, v in found.items() if v.split(".")[0] == PACKAGE and _module_file(v)}


@lru_cache(maxsize=None)
def module_closure(name: str) -> frozenset[str]:
    """Module ``name`` and every ``mglt_pipeline`` module it imports, transitively."""
    seen, todo = set(), [name]
    while todo:
        current = todo.pop()
        if current not in seen:
            seen.add(current)
            todo.extend(set(imported_names(current).values()) - seen)
    return frozenset(seen)


def _top_level(name: str) -> dict[str, ast.AST]:
    """The module's top-level functions, classes and assignments, by the name they define."""
    out: dict[str, ast.AST] = {}
    for node in _tree(name).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out[node.name] = node
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            out.update({t.id: node for t in targets if isinstance(t, ast.Name)})
    return out


def _used_names(node: ast.AST) -> set[str]:
    """Names a definition reads; for a function, in its body only (decorators shape the asset, not
    what it computes), and not in annotations (a type named is not code run)."""
    parts = node.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) else [node]
    annotations = {id(n) for part in parts for a in ast.walk(part) if isinstance(a, ast.AnnAssign)
                   for n in ast.walk(a.annotation)}
    return {n.id for part in parts for n in ast.walk(part) if isinstance(n, ast.Name) and id(n) not in annotations}


def code_used(module: str, function: str) -> tuple[list[str], set[str]]:
    """The source of ``function`` and of the room helpers it uses (recursively), and the other
    package modules it uses names of."""
    definitions, imports = _top_level(module), imported_names(module)
    sources, modules, seen, todo = [], set(), set(), [function]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        if name in definitions:
            sources.append(ast.dump(definitions[name], include_attributes=False))
            todo.extend(_used_names(definitions[name]))
        elif name in imports:
            modules.add(imports[name])
    return sorted(sources), modules


def source_version(texts: Iterable[str], module_names: Iterable[str]) -> str:
    """SHA-256 (first 16 hex digits) of some source texts and of the named modules' source."""
    digest = hashlib.sha256()
    for text in texts:
        digest.update(text.encode() + b"\n")
    for name in sorted(set(module_names)):
        path = _module_file(name)
        digest.update(name.encode() + b"\n" + (path.read_bytes() if path else b"") + b"\n")
    return digest.hexdigest()[:VERSION_LENGTH]


def own_version(module: str, function: str) -> str:
    """The version of the code the asset function ``module.function`` runs."""
    sources, modules = code_used(module, function)
    return source_version(sources, set().union(*(module_closure(m) for m in modules)) if modules else ())


def _functions(rooms: Iterable[ModuleType]) -> dict[int, tuple[str, str]]:
    """Every asset of the rooms, by object id: (module, name of the function that defines it)."""
    return {id(obj): (room.__name__, name) for room in rooms for name, obj in vars(room).items()
            if isinstance(obj, dg.AssetsDefinition)}


def with_code_versions(assets: Sequence[dg.AssetsDefinition], rooms: Iterable[ModuleType]) -> list:
    """The assets with a ``code_version`` on every spec: the own version of its function folded with
    the versions of its upstream assets. Assets no room module defines get their module's closure."""
    functions = _functions(rooms)
    own, parents, by_hand = {}, {}, {}
    for item in assets:
        module, name = functions.get(id(item), (None, None))
        version = own_version(module, name) if module else None
        for key in item.keys:
            spec = item.get_asset_spec(key)
            own[key] = spec.code_version or version or source_version([key.to_user_string()], ())
            if spec.code_version:
                by_hand[key] = spec.code_version
            parents[key] = set(item.asset_deps.get(key, ()))
    folded: dict[dg.AssetKey, str] = {}

    def fold(key: dg.AssetKey) -> str:
        if key not in folded:
            upstream = sorted(fold(p) for p in parents[key] if p in own)
            folded[key] = by_hand.get(key) or source_version([own[key], *upstream], ())
        return folded[key]

    return [item.map_asset_specs(lambda spec: spec.replace_attributes(code_version=fold(spec.key)))
            for item in assets]
