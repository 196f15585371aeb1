"""The optimizer's input containers: :class:`Groups` (resource constraints) and :class:`AllocationInputs`.

:mod:`optimizer.model` works from these arrays only, so tests can hand-build tiny
instances with :meth:`AllocationInputs.build`; :func:`optimizer.inputs.from_scenario`
derives them from a scenario and the county table.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import scipy.sparse as sp

from ..errors import OptimizerInputError

FIELDS = ("science", "education", "engineering", "agriculture", "health")
PAYERS = ("central", "provincial", "county")
SENSES = ("<=", ">=")


@dataclass(frozen=True)
class Groups:
    """Resource constraints over lever columns, as sparse arrays.

    Group ``g`` reads ``sum_e[entry_group == g] entry_coef * x[entry_col] (sense) rhs``.
    ``family`` names the kind of constraint (``supply``, ``senior_cap`` ...), ``name``
    the row (``supply_62_agriculture``); the ``label_*`` arrays say what it is about
    ("" where not applicable).
    """

    family: np.ndarray
    name: np.ndarray
    sense: np.ndarray
    rhs: np.ndarray
    label_county: np.ndarray
    label_province: np.ndarray
    label_field: np.ndarray
    entry_group: np.ndarray
    entry_col: np.ndarray
    entry_coef: np.ndarray

    def __len__(self) -> int:
        return len(self.name)

    @classmethod
    def from_rows(cls, rows: Iterable[Mapping[str, Any]]) -> "Groups":
        """Groups from dicts: ``family, name, coefs ({col: coef}), rhs[, sense, county, province, field]``."""
        fam, nam, sen, rhs, lc, lp, lf, eg, ec, ev = ([] for _ in range(10))
        for g, r in enumerate(rows):
            fam.append(r["family"])
            nam.append(r["name"])
            sen.append(r.get("sense", "<="))
            rhs.append(float(r["rhs"]))
            lc.append(r.get("county", ""))
            lp.append(r.get("province", ""))
            lf.append(r.get("field", ""))
            for col, coef in r["coefs"].items():
                eg.append(g)
                ec.append(int(col))
                ev.append(float(coef))
        return cls(np.array(fam, dtype=object), np.array(nam, dtype=object), np.array(sen, dtype=object),
                   np.array(rhs, dtype=float), np.array(lc, dtype=object), np.array(lp, dtype=object),
                   np.array(lf, dtype=object), np.array(eg, dtype=np.int64), np.array(ec, dtype=np.int64),
                   np.array(ev, dtype=float))

    @classmethod
    def empty(cls) -> "Groups":
        return cls.from_rows([])

    @classmethod
    def concat(cls, parts: Sequence["Groups"]) -> "Groups":
        parts = [p for p in parts if len(p)]
        if not parts:
            return cls.empty()
        offsets = np.cumsum([0] + [len(p) for p in parts[:-1]])
        cat = lambda a: np.concatenate([getattr(p, a) for p in parts])  # noqa: E731
        return cls(cat("family"), cat("name"), cat("sense"), cat("rhs"), cat("label_county"),
                   cat("label_province"), cat("label_field"),
                   np.concatenate([p.entry_group + o for p, o in zip(parts, offsets)]),
                   cat("entry_col"), cat("entry_coef"))


@dataclass(frozen=True)
class AllocationInputs:
    """Everything the allocation model needs, as plain arrays.

    Pairs (length K, one per county x field): ``county_id, province, region, field,
    demand, baseline_staff`` (status-quo staff P), ``weight`` (priority weight).

    Lever columns (length M): ``col_lever`` (lever name), ``col_key`` (what the column
    is about, for its name: ``<county>_<field>`` or ``<county>_all`` for a county-wide
    lever), ``col_county``, ``col_cost`` (yuan/year per unit), ``col_lower``/``col_upper``
    (per-county bounds; ``inf`` = none), ``col_integer`` (a whole person or post),
    ``col_payer`` (M x 3 cost shares of central, provincial, county), ``col_unit``.
    ``effect`` (K x M, sparse): staff gained in pair k per unit of column j;
    ``cost_split`` (K x M, sparse, columns sum to 1): the share of column j's cost
    reported under pair k.  Most columns act on one pair; the subsidies act on
    every field of a county.

    ``groups``: resource constraints.  ``budget_yuan``: the fund; ``payer_budget_yuan``:
    per-payer limits (``None`` = only the total; ``inf`` = no limit for that payer),
    ``payer_budget_share``: the same as shares of the fund (they scale with it in
    :meth:`with_budget`); ``payer_budget_fixed``: the limits were given explicitly (they
    do not scale with the fund and apply to the cost objective too).

    Optional, for the year-indexed model (:mod:`optimizer.years`) and targets:

    * ``effect_by_age`` (H sparse K x M matrices): staff gained at the end of year a of a
      unit started in year 1; ``cost_by_age`` (M x H): yuan paid in year a;
      ``col_stock`` (M bools): a standing commitment (promotion posts, subsidy levels),
      whose bounds hold for the cumulative amount, rather than a yearly flow;
    * ``demand_by_year``/``baseline_by_year`` (K x H): demand and status-quo staff at the
      end of each year (the simulated status quo when injected);
    * ``coverage_target`` (K): per-pair coverage target of the cost objective (NaN = the
      allocator's target; <= 0 = no target: a field outside ``--field``, a year other than
      the target year);
    * set by the expansion: ``pair_year``/``col_year`` (year of a pair, start year of a
      column), ``col_cost_by_year`` (M x Y yuan in each budget year), ``budget_by_year`` (Y),
      ``payer_budget_by_year`` (Y x 3).
    """

    county_id: np.ndarray
    province: np.ndarray
    region: np.ndarray
    field: np.ndarray
    demand: np.ndarray
    baseline_staff: np.ndarray
    weight: np.ndarray
    col_lever: np.ndarray
    col_key: np.ndarray
    col_county: np.ndarray
    col_cost: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    col_integer: np.ndarray
    col_payer: np.ndarray
    col_unit: np.ndarray
    effect: sp.csc_matrix
    cost_split: sp.csc_matrix
    groups: Groups
    budget_yuan: float
    payer_budget_yuan: np.ndarray | None = None
    payer_budget_share: np.ndarray | None = None
    notes: Mapping[str, Any] = field(default_factory=dict)
    payer_budget_fixed: bool = False
    effect_by_age: tuple | None = None
    cost_by_age: np.ndarray | None = None
    col_stock: np.ndarray | None = None
    demand_by_year: np.ndarray | None = None
    baseline_by_year: np.ndarray | None = None
    coverage_target: np.ndarray | None = None
    pair_year: np.ndarray | None = None
    col_year: np.ndarray | None = None
    col_cost_by_year: np.ndarray | None = None
    budget_by_year: np.ndarray | None = None
    payer_budget_by_year: np.ndarray | None = None

    # -- sizes
    @property
    def n_pairs(self) -> int:
        return len(self.demand)

    @property
    def n_columns(self) -> int:
        return len(self.col_cost)

    @property
    def gap(self) -> np.ndarray:
        """Status-quo gap ``demand - baseline_staff`` per pair (may be negative)."""
        return self.demand - self.baseline_staff

    @property
    def n_years(self) -> int:
        """Budget years of the model (1 unless expanded by :func:`optimizer.years.expand`)."""
        return 1 if self.budget_by_year is None else len(self.budget_by_year)

    def with_budget(self, budget_yuan: float) -> "AllocationInputs":
        """A copy with another fund; derived per-payer limits keep their shares of it, explicit ones stay.

        A year-indexed instance scales its budget path so that its mean is ``budget_yuan``.
        """
        pb = self.payer_budget_yuan
        if self.payer_budget_share is not None and not self.payer_budget_fixed:
            pb = self.payer_budget_share * float(budget_yuan)
        out = replace(self, budget_yuan=float(budget_yuan), payer_budget_yuan=pb)
        if self.budget_by_year is not None:
            path = np.asarray(self.budget_by_year, float)
            scale = float(budget_yuan) / path.mean() if path.mean() > 0 else 0.0
            by = path * scale if path.mean() > 0 else np.full(len(path), float(budget_yuan))
            pby = self.payer_budget_by_year
            if pby is not None and not self.payer_budget_fixed and self.payer_budget_share is not None:
                pby = by[:, None] * np.asarray(self.payer_budget_share)[None, :]
            out = replace(out, budget_by_year=by, payer_budget_by_year=pby)
        return out

    def with_effects(self, effect) -> "AllocationInputs":
        """A copy with another effect matrix (K x M, same meaning as :attr:`effect`).

        Used by ``grassroots plan`` to optimize with lever effects re-estimated by simulation.
        """
        eff = sp.csc_matrix(effect, dtype=float)
        if eff.shape != self.effect.shape:
            raise OptimizerInputError([f"effect: shape {eff.shape} (allowed: {self.effect.shape}, pairs x columns)"])
        if eff.nnz and not np.all(np.isfinite(eff.data)):
            raise OptimizerInputError(["effect: values must be finite"])
        return replace(self, effect=eff)

    # -- construction for tests and scripts
    @classmethod
    def build(cls, pairs: Sequence[Mapping[str, Any]], columns: Sequence[Mapping[str, Any]],
              groups: Sequence[Mapping[str, Any]] = (), budget_yuan: float = 0.0,
              payer_budget_yuan: Sequence[float] | None = None, notes: Mapping | None = None,
              payer_budget_fixed: bool = False) -> "AllocationInputs":
        """A validated instance from plain dicts (hand-built test cases).

        ``pairs``: ``county_id, field, demand, baseline_staff[, province, region, weight]``.
        ``columns``: ``lever, cost`` and either ``pair`` (index) with ``effect``, or ``pairs``
        (``{pair: effect}``) with an optional ``split`` (``{pair: cost share}``, default equal);
        optional ``lower``, ``upper``, ``integer``, ``payer`` (3 shares; default all central), ``unit``.
        ``groups``: see :meth:`Groups.from_rows`.

        Year profiles (all or none of the columns): ``effect_profile`` (staff at the end of
        years 1..H after a start in year 1; with ``pairs``: ``{pair: [..]}``), ``cost_profile``
        (yuan in years 1..H), ``stock`` (bounds are cumulative); pairs may then give
        ``demand_by_year``/``baseline_by_year`` (H values).  ``effect``/``cost`` default to the
        profiles' means.
        """
        s = lambda rows, k, d: np.array([r.get(k, d) for r in rows], dtype=object)  # noqa: E731
        f = lambda rows, k, d=None: np.array([float(r[k]) if d is None else float(r.get(k, d)) for r in rows], dtype=float)  # noqa: E731
        er, ec, ev, sr, sv = [], [], [], [], []
        for j, col in enumerate(columns):
            eff = col["pairs"] if "pairs" in col else {col["pair"]: col.get("effect", 0.0)}
            split = col.get("split") or {k: 1.0 / len(eff) for k in eff}
            for k, e in eff.items():
                er.append(int(k)); ec.append(j); ev.append(float(e))
            for k, sh in split.items():
                sr.append((int(k), j)); sv.append(float(sh))
        K, M = len(pairs), len(columns)
        key = lambda k: f"{pairs[k]['county_id']}_{pairs[k].get('field', 'education')}"  # noqa: E731
        col_key, col_county = [], []
        for col in columns:
            ks = list(col["pairs"]) if "pairs" in col else [col["pair"]]
            col_key.append(key(ks[0]) if len(ks) == 1 else f"{pairs[ks[0]]['county_id']}_all")
            col_county.append(pairs[ks[0]]["county_id"])
        payer = np.array([r.get("payer", (1.0, 0.0, 0.0)) for r in columns], dtype=float).reshape(M, 3)
        extra: dict[str, Any] = {}
        if columns and all("effect_profile" in c for c in columns):
            H = len(np.atleast_1d(next(iter(columns[0]["effect_profile"].values())) if isinstance(
                columns[0]["effect_profile"], Mapping) else columns[0]["effect_profile"]))
            mats = []
            for a in range(H):
                r_, c_, v_ = [], [], []
                for j, col in enumerate(columns):
                    prof = col["effect_profile"]
                    prof = prof if isinstance(prof, Mapping) else {col["pair"]: prof}
                    for k, pr in prof.items():
                        r_.append(int(k)); c_.append(j); v_.append(float(pr[a]))
                mats.append(sp.csc_matrix((v_, (r_, c_)), shape=(len(pairs), len(columns))))
            extra["effect_by_age"] = tuple(mats)
            cba = np.array([np.broadcast_to(np.asarray(c.get("cost_profile", c.get("cost", 0.0)), float), (H,))
                            for c in columns], dtype=float)
            extra["cost_by_age"] = cba
            extra["col_stock"] = np.array([bool(c.get("stock", False)) for c in columns], dtype=bool)
            mean_eff = sum(mats) / H
            er, ec, ev = [], [], []
            coo = mean_eff.tocoo()
            er, ec, ev = coo.row.tolist(), coo.col.tolist(), coo.data.tolist()
            columns = [dict(c, cost=c.get("cost", float(cba[j].mean()))) for j, c in enumerate(columns)]
            for name in ("demand_by_year", "baseline_by_year"):
                if all(name in p_ for p_ in pairs):
                    extra[name] = np.array([p_[name] for p_ in pairs], dtype=float).reshape(len(pairs), H)
        inp = cls(
            county_id=s(pairs, "county_id", ""), province=s(pairs, "province", "00"), region=s(pairs, "region", "west"),
            field=s(pairs, "field", "education"), demand=f(pairs, "demand"), baseline_staff=f(pairs, "baseline_staff"),
            weight=f(pairs, "weight", 1.0),
            col_lever=s(columns, "lever", ""), col_key=np.array(col_key, dtype=object), col_county=np.array(col_county, dtype=object),
            col_cost=f(columns, "cost"), col_lower=f(columns, "lower", 0.0), col_upper=f(columns, "upper", math.inf),
            col_integer=np.array([bool(r.get("integer", False)) for r in columns], dtype=bool),
            col_payer=payer, col_unit=s(columns, "unit", "units"),
            effect=sp.csc_matrix((ev, (er, ec)), shape=(K, M)),
            cost_split=sp.csc_matrix((sv, ([r for r, _ in sr], [c for _, c in sr])), shape=(K, M)),
            groups=Groups.from_rows(groups), budget_yuan=float(budget_yuan),
            payer_budget_yuan=None if payer_budget_yuan is None else np.asarray(payer_budget_yuan, dtype=float),
            notes=dict(notes or {}), payer_budget_fixed=bool(payer_budget_fixed), **extra,
        )
        inp.validate()
        return inp

    # -- validation
    def validate(self) -> None:
        """Raise :class:`OptimizerInputError` listing every inconsistency (one line each)."""
        p: list[str] = []
        K, M = len(self.demand), len(self.col_cost)
        for name in ("county_id", "province", "region", "field", "baseline_staff", "weight"):
            if len(getattr(self, name)) != K:
                p.append(f"inputs.{name}: length {len(getattr(self, name))} (allowed: one value per pair, {K})")
        for name in ("col_lever", "col_key", "col_county", "col_lower", "col_upper", "col_integer", "col_unit"):
            if len(getattr(self, name)) != M:
                p.append(f"inputs.{name}: length {len(getattr(self, name))} (allowed: one value per column, {M})")
        if self.col_payer.shape != (M, 3):
            p.append(f"inputs.col_payer: shape {self.col_payer.shape} (allowed: ({M}, 3) shares of {', '.join(PAYERS)})")
        for name in ("effect", "cost_split"):
            if getattr(self, name).shape != (K, M):
                p.append(f"inputs.{name}: shape {getattr(self, name).shape} (allowed: ({K}, {M}), pairs x columns)")
        if p:
            raise OptimizerInputError(p)

        def finite(name, arr, lo=None):
            arr = np.asarray(arr, dtype=float)
            bad = np.flatnonzero(~np.isfinite(arr) | ((arr < lo) if lo is not None else False))
            for i in bad[:5]:
                p.append(f"inputs.{name}[{i}]: {arr[i]!r} (allowed: a finite number{'' if lo is None else f' >= {lo}'})")
            if len(bad) > 5:
                p.append(f"inputs.{name}: {len(bad) - 5} more values out of range")

        finite("demand", self.demand, 0.0)
        finite("baseline_staff", self.baseline_staff)
        finite("weight", self.weight, 0.0)
        finite("col_cost", self.col_cost)
        finite("effect", self.effect.data)
        finite("cost_split", self.cost_split.data, 0.0)
        finite("col_lower", self.col_lower)
        finite("col_payer", self.col_payer, 0.0)
        up = np.asarray(self.col_upper, dtype=float)
        bad = np.flatnonzero(np.isnan(up) | (up < self.col_lower))
        for i in bad[:5]:
            p.append(f"inputs.col_upper[{i}]: {up[i]!r} is below the lower bound {self.col_lower[i]!r} (allowed: >= lower, or inf)")
        if M:
            s = self.col_payer.sum(axis=1)
            bad = np.flatnonzero(np.abs(s - 1.0) > 1e-6)
            for i in bad[:5]:
                p.append(f"inputs.col_payer[{i}]: shares sum to {s[i]:.6g} (allowed: they must sum to 1)")
            cs = np.asarray(self.cost_split.sum(axis=0)).ravel()
            bad = np.flatnonzero(np.abs(cs - 1.0) > 1e-6)
            for i in bad[:5]:
                p.append(f"inputs.cost_split[:, {i}]: shares sum to {cs[i]:.6g} (allowed: each column's shares sum to 1)")
        if not (math.isfinite(self.budget_yuan) and self.budget_yuan >= 0):
            p.append(f"budget: {self.budget_yuan!r} (allowed: a number >= 0, yuan per year)")
        if self.payer_budget_yuan is not None:
            pb = np.asarray(self.payer_budget_yuan, dtype=float)
            if pb.shape != (3,) or np.any(np.isnan(pb)) or np.any(pb < 0):
                p.append(f"payer_budget_yuan: {pb.tolist()} (allowed: 3 numbers >= 0 for {', '.join(PAYERS)}, inf = no limit)")
        g = self.groups
        G = len(g)
        for name in ("family", "sense", "rhs", "label_county", "label_province", "label_field"):
            if len(getattr(g, name)) != G:
                p.append(f"groups.{name}: length {len(getattr(g, name))} (allowed: one per group, {G})")
        if len(g.entry_col) and (g.entry_col.min() < 0 or g.entry_col.max() >= M):
            p.append(f"groups.entry_col: column index out of range (allowed: 0..{M - 1})")
        if len(g.entry_group) and (g.entry_group.min() < 0 or g.entry_group.max() >= G):
            p.append(f"groups.entry_group: group index out of range (allowed: 0..{G - 1})")
        for i, sense in enumerate(g.sense):
            if sense not in SENSES:
                p.append(f"groups.sense[{i}] ({g.name[i]}): {sense!r} (allowed: {', '.join(SENSES)})")
        finite("groups.rhs", g.rhs)
        finite("groups.entry_coef", g.entry_coef)
        names = list(g.name)
        if len(set(names)) != len(names):
            dup = sorted({n for n in names if names.count(n) > 1})[:3]
            p.append(f"groups.name: duplicate row names {dup} (allowed: unique names)")
        if p:
            raise OptimizerInputError(p)

