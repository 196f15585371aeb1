"""The parameters of a sensitivity study: the default set with reasons, ``KEY=LOW:HIGH`` parsing against the
scenario schema, corner checks, and how a sample row becomes scenario changes."""

from __future__ import annotations

import dataclasses
import difflib
import math
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence



class SensitivityInputError(ValueError):
    """Bad input for a sensitivity study; ``problems`` holds one line per problem."""

    def __init__(self, problems: Sequence[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


# ----------------------------------------------------------------------------- parameters

@dataclass(frozen=True)
class Parameter:
    """One uncertain input: a dotted scenario key (or a free name for analytic models) and its range.

    ``shift`` parameters (keys ending in ``.*``) add the sampled value to every
    leaf under the table; ``integer`` parameters are rounded at each point.
    """

    key: str
    low: float
    high: float
    shift: bool = False
    integer: bool = False
    why: str = ""

    @property
    def name(self) -> str:
        return self.key

    @property
    def prefix(self) -> str:
        """For a shift parameter, the table whose leaves move together."""
        return self.key[:-2] if self.shift else self.key

    def spec(self) -> str:
        """The ``KEY=LOW:HIGH`` text that reproduces this parameter."""
        return f"{self.key}={self.low!r}:{self.high!r}"


# The default set: the behaviour assumptions that FACTS.md leaves least pinned
# down and that act directly on staffing.  Ranges bracket the baseline value.
DEFAULT_PARAMETERS: tuple[Parameter, ...] = (
    Parameter("behaviour.income_coef", 0.2, 0.5,
              why="utility per 1,000 yuan/month; baseline 0.35 is an assumption anchored on one nursing-student DCE "
                  "(HRH 2019); +-40% covers the spread of income weights across Chinese health-worker DCEs"),
    Parameter("behaviour.exit_intercept.*", -0.5, 0.5, shift=True,
              why="logit shift of every field's exit intercept together: the level of turnover; only health (8.1%/yr, "
                  "HRH 2009) is observed, the other fields' targets are assumptions; +-0.5 logit is about x0.6 to x1.6 on exit rates"),
    # not wtp_city_vs_township: the simulator folds the fixed attributes of the outside option (city location)
    # into the calibrated intercepts, so that key has no effect on results (behaviour.py)
    Parameter("behaviour.wtp_hardship_per_class", 165.0, 660.0,
              why="yuan/month per hardship class, baseline 330 a pure assumption (a tenth of the city-vs-township WTP); "
                  "half to double; acts on exits and applicants in the hardship counties the policy targets"),
    Parameter("behaviour.outside_income_ratio.west", 1.05, 1.45,
              why="outside income / own pay in the west, baseline 1.25 an assumption; the west is where programmes recruit"),
    Parameter("behaviour.breach_rate", 0.01, 0.05,
              why="share/yr of obligated staff who breach; baseline 0.025 from 86.1% service among medical graduates "
                  "(Front. Public Health 2023); 0.01-0.05 is 94% to 74% completing a 6-year obligation"),
    Parameter("programmes.special_post_teachers.post_term_stay", 0.65, 0.95,
              why="share of special-post teachers staying after the 3-year term; baseline 0.85 an assumption near the 83.5% "
                  "of rural teachers willing to stay (2019); the largest programme"),
    Parameter("recruitment.applicants_per_vacancy.health", 0.3, 1.3,
              why="applicants per township health vacancy, baseline 0.65 an assumption; health has the highest observed turnover"),
    Parameter("titles.pass_rate.senior.township", 0.03, 0.2,
              why="senior-title pass rate in townships, baseline 0.08 an assumption (FACTS.md: not verified); drives senior share and careers"),
)


def _numeric_leaves() -> dict[str, tuple[Any, Mapping]]:
    import scenarios
    return {k: (tp, meta) for k, (tp, meta) in scenarios.leaf_paths().items() if tp in (int, float)}


def _range_text(meta: Mapping) -> str:
    lo, hi = meta.get("lo"), meta.get("hi")
    unit = meta.get("unit", "")
    return f"{'-inf' if lo is None else lo} to {'inf' if hi is None else hi}" + (f", {unit}" if unit else "")


def _inside(x: float, meta: Mapping) -> bool:
    lo, hi = meta.get("lo"), meta.get("hi")
    return (lo is None or x >= lo) and (hi is None or x <= hi)


def _parse_number(text: str) -> float | None:
    try:
        x = float(text)
    except ValueError:
        return None
    return x if math.isfinite(x) else None


def parse_param(text: str, scenario=None, check_schema: bool = True) -> Parameter:
    """One ``KEY=LOW:HIGH`` string as a :class:`Parameter`, checked against the scenario schema.

    Raises :class:`SensitivityInputError` with one line naming the key and what is allowed.
    ``scenario`` (a loaded Scenario) is needed to check shift parameters (``KEY.*``)
    against each leaf's range; ``check_schema=False`` accepts free names (analytic models).
    """
    where = f"--param {text}"
    if "=" not in text:
        raise SensitivityInputError([f"{where}: expected KEY=LOW:HIGH (allowed: e.g. behaviour.income_coef=0.2:0.5)"])
    key, _, rng = text.partition("=")
    key = key.strip()
    parts = rng.split(":")
    if len(parts) != 2:
        raise SensitivityInputError([f"{where}: range {rng!r} is not LOW:HIGH (allowed: two numbers separated by ':', e.g. 0.2:0.5)"])
    low, high = (_parse_number(p.strip()) for p in parts)
    if low is None or high is None:
        raise SensitivityInputError([f"{where}: range {rng!r} is not LOW:HIGH (allowed: two finite numbers separated by ':')"])
    if not low < high:
        raise SensitivityInputError([f"{where}: LOW must be below HIGH (got {low!r}:{high!r})"])
    if not key:
        raise SensitivityInputError([f"{where}: empty key (allowed: a numeric scenario key, see `grassroots params`)"])
    shift = key.endswith(".*")
    if not check_schema:
        return Parameter(key, low, high, shift=shift)
    leaves = _numeric_leaves()
    if shift:
        prefix = key[:-2]
        members = [k for k in leaves if k.startswith(prefix + ".")]
        if not members:
            raise SensitivityInputError([f"--param {key}: no numeric keys under {prefix!r} "
                                         f"(allowed: a table of numbers, e.g. behaviour.exit_intercept.*)"])
        integer = any(leaves[k][0] is int for k in members)
        if scenario is not None:
            import scenarios
            for k in members:
                base = scenarios.get_path(scenario, k)
                meta = leaves[k][1]
                for s in (low, high):
                    if not _inside(base + s, meta):
                        raise SensitivityInputError([
                            f"--param {key}: shift {s!r} takes {k} from {base!r} to {base + s!r}, out of range "
                            f"(allowed: {k} within {_range_text(meta)})"])
        return Parameter(key, low, high, shift=True, integer=integer)
    if key not in leaves:
        import scenarios
        all_leaves = scenarios.leaf_paths()
        if key in all_leaves:
            tp = all_leaves[key][0]
            raise SensitivityInputError([f"--param {key}: not a numeric parameter ({getattr(tp, '__name__', str(tp))}) "
                                         f"(allowed: a key of type number or integer, see `grassroots params`)"])
        close = difflib.get_close_matches(key, list(leaves), n=3, cutoff=0.8)
        hint = f"did you mean {', '.join(close)}? " if close else ""
        raise SensitivityInputError([f"--param {key}: unknown key ({hint}allowed: a numeric scenario key, "
                                     f"listed by `grassroots params`; KEY.* shifts a whole table)"])
    tp, meta = leaves[key]
    for s in (low, high):
        if not _inside(s, meta):
            raise SensitivityInputError([f"--param {key}: {s!r} is out of range (allowed: {_range_text(meta)})"])
    if tp is int and math.floor(high + 0.5) == math.floor(low + 0.5):
        raise SensitivityInputError([f"--param {key}: integer key with a range {low!r}:{high!r} that rounds to one value "
                                     f"(allowed: a range spanning at least two whole numbers)"])
    return Parameter(key, low, high, integer=tp is int)


def parse_params(texts: Iterable[str] | None, scenario=None, check_schema: bool = True) -> list[Parameter]:
    """Every ``--param`` string parsed; all problems reported together.  ``None`` or empty: the default set."""
    texts = list(texts or [])
    if not texts:
        params = list(DEFAULT_PARAMETERS)
        if scenario is not None and check_schema:
            # the defaults must fit the scenario too (a shift is relative to its values)
            params = [parse_param(p.spec(), scenario) for p in params]
            params = [dataclasses.replace(p, why=d.why) for p, d in zip(params, DEFAULT_PARAMETERS)]
        return params
    problems: list[str] = []
    params: list[Parameter] = []
    for t in texts:
        try:
            params.append(parse_param(t, scenario, check_schema))
        except SensitivityInputError as e:
            problems += e.problems
    for j, p in enumerate(params):
        for q in params[:j]:
            if p.key == q.key:
                problems.append(f"--param {p.key}: given twice (allowed: each key once)")
            elif _covers(p, q) or _covers(q, p):
                problems.append(f"--param {p.key}: overlaps --param {q.key} (allowed: a key or its table's shift, not both)")
    if problems:
        raise SensitivityInputError(problems)
    return params


def _covers(shift: Parameter, other: Parameter) -> bool:
    """Whether shift parameter ``shift`` moves a leaf that ``other`` also sets."""
    if not shift.shift:
        return False
    a, b = shift.prefix, other.prefix
    return b == a or b.startswith(a + ".") or a.startswith(b + ".")


def check_corners(params: Sequence[Parameter], scenario) -> None:
    """Apply each parameter's LOW and HIGH (others at the scenario's values), then all LOWs and all HIGHs.

    Catches, before any model run, ranges that break a rule spanning several
    keys (shares that must sum to 1, caps that must fit): raises
    :class:`SensitivityInputError`, one line per offending parameter.
    """
    import scenarios
    base = scenarios.to_dict(scenario)
    mid = [None] * len(params)
    problems: list[str] = []

    def try_apply(row, who: str):
        changes = {}
        for p, x in zip(params, row):
            if x is not None:
                changes.update(changes_for_point([p], [x], base))
        try:
            scenarios.apply(scenario, changes, label=who)
        except scenarios.ScenarioError as e:
            first = e.problems[0].split(": ", 1)[-1]
            problems.append(f"{who}: the scenario is invalid there: {first}")

    for j, p in enumerate(params):
        for x in (p.low, p.high):
            row = list(mid)
            row[j] = x
            try_apply(row, f"--param {p.key} at {x!r}")
    if not problems and len(params) > 1:
        try_apply([p.low for p in params], "--param (all at LOW)")
        try_apply([p.high for p in params], "--param (all at HIGH)")
    if problems:
        raise SensitivityInputError(problems)


def problem_spec(params: Sequence[Parameter]) -> dict:
    """The SALib problem dictionary."""
    return {"num_vars": len(params), "names": [p.name for p in params],
            "bounds": [[float(p.low), float(p.high)] for p in params]}


def changes_for_point(params: Sequence[Parameter], row: Sequence[float], base: Mapping | None = None) -> dict[str, Any]:
    """The scenario changes ``{dotted.key: value}`` at one sample point.

    Shift parameters need ``base`` (the scenario as a plain dict) to add to.
    """
    changes: dict[str, Any] = {}
    for p, x in zip(params, row):
        x = float(x)
        if p.shift:
            if base is None:
                raise ValueError(f"{p.key}: a shift parameter needs the base scenario")
            for k, v in _leaves_under(base, p.prefix).items():
                y = v + x
                changes[k] = int(round(y)) if isinstance(v, int) and not isinstance(v, bool) else y
        else:
            changes[p.key] = int(round(x)) if p.integer else x
    return changes


def _leaves_under(doc: Mapping, prefix: str) -> dict[str, Any]:
    node: Any = doc
    for part in prefix.split("."):
        node = node[part]
    out: dict[str, Any] = {}

    def walk(n, path):
        if isinstance(n, Mapping):
            for k, v in n.items():
                walk(v, f"{path}.{k}")
        elif isinstance(n, (int, float)) and not isinstance(n, bool):
            out[path] = n

    walk(node, prefix)
    return out
