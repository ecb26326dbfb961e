"""The Prometheus text exposition format (0.0.4), parsed and checked:
``Exposition(text)`` lists every syntax or structure problem, with its line
number, and answers questions about the samples; ``scrape(http)`` is a live
server's /metrics, parsed."""

import math
import re

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL_NAME = r"[a-zA-Z_][a-zA-Z0-9_]*"
LABEL_VALUE = r'"(?:[^"\\\n]|\\[\\"n])*"'
VALUE = r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?|[-+]?Inf|NaN"
SAMPLE_RE = re.compile(
    rf"^({NAME})(?:\{{((?:{LABEL_NAME}={LABEL_VALUE})(?:,{LABEL_NAME}={LABEL_VALUE})*)?\}})? ({VALUE})$")
LABEL_RE = re.compile(rf"({LABEL_NAME})=({LABEL_VALUE})")
HELP_RE = re.compile(rf"^# HELP ({NAME}) ((?:[^\\\n]|\\[\\n])*)$")
TYPE_RE = re.compile(rf"^# TYPE ({NAME}) (counter|gauge|histogram|summary|untyped)$")


def unescape_label(v):
    out, i = [], 0
    v = v[1:-1]
    while i < len(v):
        if v[i] == "\\":
            out.append({"\\": "\\", '"': '"', "n": "\n"}[v[i + 1]])
            i += 2
        else:
            out.append(v[i])
            i += 1
    return "".join(out)


def to_float(v):
    return {"+Inf": math.inf, "-Inf": -math.inf, "Inf": math.inf}.get(v, None) or float(v)


class Exposition:
    """A parsed /metrics body; ``problems`` lists every syntax or structure
    violation, with its line number."""

    def __init__(self, text):
        self.problems = []
        self.types, self.helps = {}, {}
        self.samples = []  # (name, {label: value}, float)
        if text and not text.endswith("\n"):
            self.problems.append("the body does not end with a newline")
        finished, current = set(), None
        for n, line in enumerate(text.split("\n")[:-1] if text else [], 1):
            if line.startswith("# HELP "):
                m = HELP_RE.match(line)
                if not m:
                    self.problems.append(f"line {n}: malformed HELP: {line!r}")
                    continue
                name = m.group(1)
                if name in self.helps:
                    self.problems.append(f"line {n}: second HELP for {name}")
                if name in finished:
                    self.problems.append(f"line {n}: HELP for {name} after its samples ended")
                if current and current != name:
                    finished.add(current)
                current = name
                self.helps[name] = m.group(2)
            elif line.startswith("# TYPE "):
                m = TYPE_RE.match(line)
                if not m:
                    self.problems.append(f"line {n}: malformed TYPE: {line!r}")
                    continue
                if m.group(1) in self.types:
                    self.problems.append(f"line {n}: second TYPE for {m.group(1)}")
                if m.group(1) != current:
                    self.problems.append(f"line {n}: TYPE for {m.group(1)} does not follow its HELP")
                self.types[m.group(1)] = m.group(2)
            elif line.startswith("#") or not line:
                self.problems.append(f"line {n}: unexpected line {line!r}")
            else:
                m = SAMPLE_RE.match(line)
                if not m:
                    self.problems.append(f"line {n}: not `name{{labels}} value`: {line!r}")
                    continue
                name, label_text, value = m.groups()
                labels = {}
                for k, v in LABEL_RE.findall(label_text or ""):
                    if k in labels:
                        self.problems.append(f"line {n}: label {k} twice")
                    labels[k] = unescape_label(v)
                family = self.family_of(name)
                if family is None:
                    self.problems.append(f"line {n}: sample {name} before its TYPE")
                elif family != current:
                    self.problems.append(f"line {n}: sample {name} outside the block of {family}")
                self.samples.append((name, labels, to_float(value)))

    def family_of(self, name):
        if name in self.types:
            return name
        for suffix in ("_bucket", "_sum", "_count"):
            base = name[: -len(suffix)]
            if name.endswith(suffix) and self.types.get(base) == "histogram":
                return base
        return None

    def series(self, name, **match):
        return [(labels, v) for n, labels, v in self.samples
                if n == name and all(labels.get(k) == w for k, w in match.items())]

    def value(self, name, **match):
        found = self.series(name, **match)
        if len(found) != 1:
            raise AssertionError(f"expected one {name}{match}, found {found}")
        return found[0][1]

    def total(self, name, **match):
        return sum(v for _, v in self.series(name, **match))

    def histogram_problems(self):
        out = []
        for family, kind in self.types.items():
            if kind != "histogram":
                continue
            groups = {}
            for labels, v in self.series(family + "_bucket"):
                if "le" not in labels:
                    out.append(f"{family}_bucket without le: {labels}")
                    continue
                key = tuple(sorted((k, w) for k, w in labels.items() if k != "le"))
                groups.setdefault(key, []).append((to_float(labels["le"]), v))
            if not groups:
                out.append(f"histogram {family} has no buckets")
            for key, buckets in groups.items():
                les = [le for le, _ in buckets]
                if les != sorted(les) or len(set(les)) != len(les):
                    out.append(f"{family}{dict(key)}: le bounds not strictly increasing: {les}")
                counts = [c for _, c in buckets]
                if any(b < a for a, b in zip(counts, counts[1:])):
                    out.append(f"{family}{dict(key)}: buckets not cumulative: {counts}")
                if les[-1] != math.inf:
                    out.append(f"{family}{dict(key)}: no +Inf bucket")
                count = self.series(family + "_count", **dict(key))
                total = self.series(family + "_sum", **dict(key))
                if len(count) != 1 or len(total) != 1:
                    out.append(f"{family}{dict(key)}: expected one _count and one _sum")
                elif counts[-1] != count[0][1]:
                    out.append(f"{family}{dict(key)}: +Inf bucket {counts[-1]} != _count {count[0][1]}")
        return out


def scrape(http):
    """GET /metrics through ``http`` (a harness.Http), parsed."""
    r = http.get("/metrics")
    if r.status != 200:
        raise AssertionError(f"GET /metrics: expected 200, got {r!r}")
    return Exposition(r.body.decode("utf-8"))
