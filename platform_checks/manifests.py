"""Every manifest validates against its exact schema (the profile's CRD facts or Kubernetes release), else errors."""

from __future__ import annotations

import copy
import importlib.metadata
import importlib.resources
import json
import re
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from referencing import Registry, Resource

from platform_checks.upstream_facts import facts_dir, load_fact
from platform_config import yaml_load
from platform_config.versions import PROFILES


def k8s_schema_dir(profile: str) -> str:
    """kubernetes-validate's schema directory for the profile's Kubernetes minor (v1.36.0-local-strict).

    One directory per minor release; "-strict" forbids unknown fields, matching `kubectl apply
    --validate=strict` (the default since kubectl 1.25 is server-side strict).
    """
    return f"v{kubernetes_version(profile)}.0-local-strict"


def kubernetes_version(profile: str) -> str:
    """The profile's Kubernetes minor version (built-in kinds are validated against it)."""
    facts_dir(profile)  # one clear error for an unknown profile
    return PROFILES[profile].kubernetes.version


# Loose ObjectMeta as the API server applies to custom resources: a map with string labels/annotations.
_LOOSE_METADATA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "maxLength": 253, "pattern": r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$"},
        "namespace": {"type": "string", "maxLength": 63, "pattern": r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"},
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def crd_to_jsonschema(node: Any, root: bool = False) -> Any:
    """Translate a structural OpenAPI v3 CRD schema into JSON Schema with API-server semantics.

    - properties without x-kubernetes-preserve-unknown-fields: unknown fields are errors (strict validation)
    - x-kubernetes-int-or-string: integer or string (a pattern then only constrains the string form)
    - x-kubernetes-embedded-resource: apiVersion/kind/metadata are allowed as in any object
    - nullable: null allowed; otherwise null is an error (our manifests never rely on null pruning)
    - CEL x-kubernetes-validations are not evaluated here; platform_checks/crd_rules.py evaluates them.
    """
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("properties", "patternProperties"):
            out[key] = {name: crd_to_jsonschema(sub) for name, sub in value.items()}
        elif key in ("items", "additionalProperties", "not"):
            out[key] = crd_to_jsonschema(value) if isinstance(value, dict) else value
        elif key in ("allOf", "anyOf", "oneOf"):
            out[key] = [crd_to_jsonschema(sub) for sub in value]
        elif key.startswith("x-kubernetes-") or key in ("nullable", "default", "format"):
            continue  # handled below, or not a validation keyword (format is advisory in the API server too)
        else:
            out[key] = value
    if node.get("x-kubernetes-int-or-string"):
        out.pop("type", None)
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    preserve = node.get("x-kubernetes-preserve-unknown-fields", False)
    if node.get("x-kubernetes-embedded-resource"):
        props = out.setdefault("properties", {})
        props.setdefault("apiVersion", {"type": "string"})
        props.setdefault("kind", {"type": "string"})
        props.setdefault("metadata", copy.deepcopy(_LOOSE_METADATA))
    if "properties" in out and "additionalProperties" not in out and not preserve:
        out["additionalProperties"] = False
    if root:
        out.setdefault("properties", {})["metadata"] = copy.deepcopy(_LOOSE_METADATA)
        out["required"] = sorted(set(out.get("required", [])) | {"apiVersion", "kind", "metadata"})
    if node.get("nullable"):
        return _nullable(out)
    return out


@cache
def _crd_index(profile: str) -> dict[tuple[str, str, str], tuple[str, str]]:
    """(group, version, kind) -> (facts file, version) for every served version of the profile's derived CRDs."""
    index = {}
    for path in sorted((facts_dir(profile) / "crds").glob("*.json")):
        fact = json.loads(path.read_text())
        for version in fact["versions"]:
            index[(fact["group"], version, fact["kind"])] = (f"crds/{path.name}", version)
    return index


def crd_validator(schema: dict[str, Any], group: str, version: str, kind: str) -> jsonschema.protocols.Validator:
    """A strict validator of one served version of a CRD from its openAPIV3Schema (e.g. a CRD a render ships)."""
    out = crd_to_jsonschema(schema, root=True)
    out["properties"]["apiVersion"] = {"const": f"{group}/{version}"}
    out["properties"]["kind"] = {"const": kind}
    return jsonschema.Draft202012Validator(out)


@cache
def _crd_validator(group: str, version: str, kind: str, profile: str) -> jsonschema.protocols.Validator:
    rel, served = _crd_index(profile)[(group, version, kind)]
    return crd_validator(load_fact(rel, profile)["versions"][served]["schema"], group, version, kind)


def _k8s_schema_root(profile: str) -> Any:
    schema_dir = k8s_schema_dir(profile)
    root = importlib.resources.files("kubernetes_validate").joinpath("kubernetes-json-schema", schema_dir)
    if not root.joinpath("_definitions.json").is_file():
        installed = importlib.metadata.version("kubernetes-validate")
        wanted = f"Kubernetes {kubernetes_version(profile)}"
        raise RuntimeError(f"kubernetes-validate {installed} ships no {wanted} schemas ({schema_dir})")
    return root


@cache
def _k8s_registry(profile: str) -> Registry:
    definitions = json.loads(_k8s_schema_root(profile).joinpath("_definitions.json").read_text())
    return Resource.from_contents(definitions) @ Registry()


@cache
def _k8s_validator(api_version: str, kind: str, profile: str) -> jsonschema.protocols.Validator | None:
    # Same file naming as kubernetes-validate: rbac.authorization.k8s.io/v1 -> rbac-v1, v1 -> v1.
    short = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    path = _k8s_schema_root(profile).joinpath(f"{kind.lower()}-{short}.json")
    if not path.is_file():
        return None
    schema = json.loads(path.read_text())
    return jsonschema.Draft202012Validator(schema, registry=_k8s_registry(profile))


def _is_builtin_group(group: str) -> bool:
    # Core ("") and the upstream API groups are dot-free (apps, batch) or end in .k8s.io; a CRD group such as
    # apps.example.com must never be mistaken for a built-in one (the schema file names drop the domain).
    return "." not in group or group.endswith(".k8s.io")


def _path(error: jsonschema.ValidationError) -> str:
    out = ""
    for part in error.absolute_path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(root)"


def _message(error: jsonschema.ValidationError) -> str:
    if error.context:
        # anyOf/oneOf: the branch that got furthest says the most (e.g. the typo inside the object branch)
        best = jsonschema.exceptions.best_match(error.context)
        if best is not None and best.message != error.message:
            return f"{error.message[:200]} ({_path(best)}: {best.message[:200]})"
    return error.message[:300]


CrdValidators = Mapping[tuple[str, str, str], jsonschema.protocols.Validator]


def validate_manifest(obj: dict[str, Any], *, profile: str, crds: CrdValidators | None = None) -> list[str]:
    """Human-readable errors, each prefixed `<kind>/<name>: `; an empty list means valid.

    Custom resources are checked against the profile's derived CRD schema of that served version; built-in
    kinds against the strict schemas of the profile's Kubernetes release (kubernetes-validate). Anything else
    is an error, never a pass.
    """
    if not isinstance(obj, dict):
        return [f"<not an object>: a manifest must be a mapping, got {type(obj).__name__}"]
    kind = obj.get("kind")
    api_version = obj.get("apiVersion")
    meta = obj.get("metadata")
    name = meta.get("name") if isinstance(meta, dict) else None
    prefix = f"{kind or '<no kind>'}/{name or '<no name>'}"
    if not isinstance(kind, str) or not isinstance(api_version, str):
        return [f"{prefix}: apiVersion and kind must both be set to strings"]
    group, _, version = api_version.rpartition("/")
    validator = None
    if crds and (group, version, kind) in crds:  # the CRDs a render ships come first
        validator = crds[(group, version, kind)]
    elif (group, version, kind) in _crd_index(profile):
        validator = _crd_validator(group, version, kind, profile)
    elif _is_builtin_group(group):
        validator = _k8s_validator(api_version, kind, profile)
    if validator is None:
        known = sorted(f"{g}/{v} {k}" for g, v, k in _crd_index(profile) if g == group or k == kind)
        hint = f"; known for this group/kind: {', '.join(known)}" if known else ""
        return [
            f"{prefix}: unknown apiVersion/kind {api_version} {kind} (neither a Kubernetes "
            f"{kubernetes_version(profile)} built-in nor a CRD derived for the {profile} profile){hint}"
        ]
    errors = sorted(validator.iter_errors(obj), key=lambda e: (_path(e), e.message))
    if not isinstance(meta, dict) or not isinstance(name, str) or not name:
        errors_out = [f"{prefix}: metadata.name must be set"]
    else:
        errors_out = []
    errors_out += [f"{prefix}: {_path(e)}: {_message(e)}" for e in errors]
    return list(dict.fromkeys(errors_out))


def validate_documents(docs: Iterable[Any], *, profile: str) -> list[str]:
    """Errors of every document; empty YAML documents (None) are skipped, `kind: List` items are expanded."""
    errors: list[str] = []
    for doc in docs:
        if doc is None:
            continue
        if isinstance(doc, dict) and doc.get("kind") == "List" and doc.get("apiVersion") == "v1":
            errors += validate_documents(doc.get("items") or [], profile=profile)
            continue
        errors += validate_manifest(doc, profile=profile)
    return errors


def load_yaml_documents(path_or_text: str | Path) -> list[dict[str, Any]]:
    """All non-empty documents of a multi-document YAML file (a Path, or a str path) or of YAML text."""
    if isinstance(path_or_text, Path):
        text = path_or_text.read_text()
    elif "\n" not in path_or_text and (
        Path(path_or_text).is_file() or path_or_text.endswith((".yaml", ".yml", ".json"))
    ):
        text = Path(path_or_text).read_text()  # a missing *.yaml path raises instead of parsing as text
    else:
        text = path_or_text
    return [doc for doc in yaml_load.safe_load_all(text) if doc is not None]


def is_builtin_kind(api_version: str, kind: str, profile: str) -> bool:
    """Whether the profile's Kubernetes serves this built-in apiVersion/kind (per its strict schemas)."""
    return _is_builtin_group(api_version.rpartition("/")[0]) and _k8s_validator(api_version, kind, profile) is not None


def crd_fact_schema(group: str, version: str, kind: str, profile: str) -> dict[str, Any] | None:
    """The derived CRD schema of one served version for the profile, or None when no fact covers it."""
    found = _crd_index(profile).get((group, version, kind))
    if found is None:
        return None
    rel, served = found
    schema: dict[str, Any] = load_fact(rel, profile)["versions"][served]["schema"]
    return schema
