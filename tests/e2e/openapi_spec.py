"""proto/openapi.yaml, loaded, and a small JSON Schema checker for the subset
the document uses (type, const, enum, properties, required,
additionalProperties, items, $ref, oneOf, anyOf, allOf, pattern, minLength,
maxLength, minimum, maximum). Needs PyYAML (Debian's python3-yaml).
"""

import os
import re

import harness

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


def spec_path():
    return os.path.join(harness.source_dir(), "proto", "openapi.yaml")


def load():
    import yaml  # python3-yaml

    with open(spec_path(), encoding="utf-8") as f:
        return yaml.safe_load(f)


def operations(doc):
    """Yields (METHOD, path, operation)."""
    for path, item in (doc.get("paths") or {}).items():
        for method in HTTP_METHODS:
            if method in item:
                yield method.upper(), path, item[method]


def resolve(doc, node):
    """Follows $ref chains inside the document."""
    seen = set()
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        if ref in seen:
            raise ValueError(f"$ref cycle at {ref}")
        seen.add(ref)
        if not ref.startswith("#/"):
            raise ValueError(f"external $ref not supported: {ref}")
        target = doc
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(target, dict) or part not in target:
                raise KeyError(f"$ref {ref} does not resolve")
            target = target[part]
        node = target
    return node


def all_refs(node, path="#"):
    """Yields (where, ref) for every $ref in the document."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref" and isinstance(v, str):
                yield path, v
            else:
                yield from all_refs(v, f"{path}/{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from all_refs(v, f"{path}/{i}")


def response_schema(doc, operation, status, media="application/json"):
    """The schema of ``status`` of an operation, or None when not declared."""
    responses = operation.get("responses") or {}
    resp = responses.get(str(status))
    if resp is None:
        resp = responses.get(f"{str(status)[0]}XX") or responses.get("default")
    if resp is None:
        return None
    resp = resolve(doc, resp)
    content = resp.get("content") or {}
    if media not in content:
        return None
    return content[media].get("schema")


def find_operation(doc, method, path):
    item = (doc.get("paths") or {}).get(path)
    if not item:
        return None
    return item.get(method.lower())


def _type_ok(value, t):
    if t == "null":
        return value is None
    if t == "boolean":
        return isinstance(value, bool)
    if t == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if t == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if t == "string":
        return isinstance(value, str)
    if t == "array":
        return isinstance(value, list)
    if t == "object":
        return isinstance(value, dict)
    raise ValueError(f"unknown type {t}")


def validate(doc, value, schema, where="$"):
    """Returns a list of problems ("$.items[0].id: ..."); empty when valid."""
    schema = resolve(doc, schema)
    problems = []
    if schema is True or schema == {}:
        return problems
    if "allOf" in schema:
        for s in schema["allOf"]:
            problems += validate(doc, value, s, where)
    if "oneOf" in schema:
        matches = [s for s in schema["oneOf"] if not validate(doc, value, s, where)]
        if len(matches) != 1:
            detail = "; ".join("|".join(validate(doc, value, s, where)[:2]) for s in schema["oneOf"])
            problems.append(f"{where}: matches {len(matches)} of oneOf, expected exactly 1 ({detail})")
            return problems
    if "anyOf" in schema:
        if not any(not validate(doc, value, s, where) for s in schema["anyOf"]):
            problems.append(f"{where}: matches none of anyOf")
            return problems
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_type_ok(value, t) for t in types):
            problems.append(f"{where}: expected type {'|'.join(types)}, got {value!r:.80}")
            return problems
    if "const" in schema and value != schema["const"]:
        problems.append(f"{where}: expected {schema['const']!r}, got {value!r:.80}")
    if "enum" in schema and value not in schema["enum"]:
        problems.append(f"{where}: {value!r:.80} is not one of {schema['enum']}")
    if isinstance(value, str):
        if "pattern" in schema and not re.search(schema["pattern"], value):
            problems.append(f"{where}: {value!r:.80} does not match {schema['pattern']}")
        if "minLength" in schema and len(value) < schema["minLength"]:
            problems.append(f"{where}: shorter than {schema['minLength']}")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            problems.append(f"{where}: longer than {schema['maxLength']}")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            problems.append(f"{where}: {value} < minimum {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            problems.append(f"{where}: {value} > maximum {schema['maximum']}")
    if isinstance(value, dict):
        props = schema.get("properties") or {}
        for name in schema.get("required") or []:
            if name not in value:
                problems.append(f"{where}: missing required property {name!r}")
        for name, v in value.items():
            if name in props:
                problems += validate(doc, v, props[name], f"{where}.{name}")
            elif schema.get("additionalProperties") is False:
                problems.append(f"{where}: unexpected property {name!r}")
    if isinstance(value, list) and "items" in schema:
        for i, v in enumerate(value):
            problems += validate(doc, v, schema["items"], f"{where}[{i}]")
    return problems
