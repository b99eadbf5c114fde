"""Code versions: every asset's ``code_version`` is a hash of the source code it runs.

The version of an asset is the SHA-256 of the source of the module that defines its function and of
every ``mglt_pipeline`` module that module imports, transitively (its room's pure package, the
registry, the resources). Editing any of them changes the version, and the Dagster UI marks the
asset (and what depends on it) stale until it is rematerialized. A version set by hand in a room wins.
"""
from __future__ import annotations

import ast
import hashlib
import importlib.util
import inspect
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path

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


def imported_package_modules(name: str) -> set[str]:
    """The ``mglt_pipeline`` modules that module ``name`` imports directly (absolute or relative)."""
    path = _module_file(name)
    if path is None:
        return set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = importlib.util.resolve_name("." * node.level + (node.module or ""), package) \
                if node.level else (node.module or "")
            candidates = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        found.update(c for c in candidates
                     if c.split(".")[0] == PACKAGE and _module_file(c) is not None)
    return found


@lru_cache(maxsize=None)
def module_closure(name: str) -> frozenset[str]:
    """Module ``name`` and every ``mglt_pipeline`` module it imports, transitively."""
    seen, todo = set(), [name]
    while todo:
        current = todo.pop()
        if current not in seen:
            seen.add(current)
            todo.extend(imported_package_modules(current) - seen)
    return frozenset(seen)


def source_version(module_names: Iterable[str]) -> str:
    """SHA-256 (first 16 hex digits) of the named modules' source, in name order."""
    digest = hashlib.sha256()
    for name in sorted(set(module_names)):
        path = _module_file(name)
        digest.update(name.encode() + b"\n" + (path.read_bytes() if path else b"") + b"\n")
    return digest.hexdigest()[:VERSION_LENGTH]


def defining_modules(assets_def: dg.AssetsDefinition) -> set[str]:
    """The modules that define the functions an asset runs (one op, or every op of a graph)."""
    modules = set()
    for op_def in assets_def.node_def.iterate_op_defs():
        fn = getattr(op_def.compute_fn, "decorated_fn", op_def.compute_fn)
        module = inspect.getmodule(fn)
        if module is not None and module.__name__.split(".")[0] == PACKAGE:
            modules.add(module.__name__)
    return modules


def asset_code_version(assets_def: dg.AssetsDefinition) -> str | None:
    """The code version of an asset from its source closure; None when no package module defines it."""
    modules = defining_modules(assets_def)
    if not modules:
        return None
    return source_version(set().union(*(module_closure(m) for m in modules)))


def with_code_versions(assets: Sequence[dg.AssetsDefinition | dg.AssetSpec]) -> list:
    """The assets with a source-derived ``code_version`` on every spec that has none.

    Specs without a function (external assets) and assets of other packages are passed through.
    """
    versioned = []
    for item in assets:
        version = asset_code_version(item) if isinstance(item, dg.AssetsDefinition) and item.is_executable else None
        if version is None:
            versioned.append(item)
            continue
        versioned.append(item.map_asset_specs(
            lambda spec, v=version: spec if spec.code_version else spec.replace_attributes(code_version=v)))
    return versioned
