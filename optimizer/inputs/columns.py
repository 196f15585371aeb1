"""Building lever columns and constraint groups: the shared machinery of the lever families.

:class:`ColumnBuilder` collects columns with their *age profiles* (effect on staff and
cost in each year after a unit is started, see :mod:`optimizer.inputs.response`);
:meth:`ColumnBuilder.finish` turns them into the arrays of
:class:`~optimizer.inputs.containers.AllocationInputs`, collapsing the profiles to one
effect per unit (the horizon average, or the value at the target year) for the
single-period model.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .containers import FIELDS, Groups

_LEVER_UNITS = {
    "special_post": "posts created",
    "purchased_post": "posts purchased",
    "direct_hire": "persons hired",
    "senior_post": "posts added",
    "intermediate_post": "posts added",
    "directed_senior_post": "posts added",
    "township_subsidy": "yuan/month per township staff member",
    "hardship_topup": "yuan/month per staff member",
}


def lever_unit(lever: str) -> str:
    return "recruits placed" if lever.startswith("place_") else _LEVER_UNITS.get(lever, "units")


def priority_weight(table, opt) -> np.ndarray:
    """1 + the scenario's extra weights for hardship class and the four area flags."""
    return (1.0 + opt.weight_per_hardship_class * table["hardship_class"].to_numpy(float)
            + opt.weight_formerly_poor * table["formerly_poor"].to_numpy(float)
            + opt.weight_border * table["border"].to_numpy(float)
            + opt.weight_ethnic_minority * table["ethnic_minority"].to_numpy(float)
            + opt.weight_old_revolutionary * table["old_revolutionary"].to_numpy(float))


class ColumnBuilder:
    """Collects lever columns: per-pair columns (one effect profile) and county-wide ones (one per field).

    ``H`` = years of the profiles.  Pair ``k = i * nf + j`` (county-major).
    """

    def __init__(self, cid, fields_arr, pair_county, pair_field, nf, H):
        self.cid, self.fields_arr, self.pc, self.pf, self.nf, self.H = cid, fields_arr, pair_county, pair_field, nf, H
        self.m = 0
        self.parts: dict[str, list] = {k: [] for k in ("lever", "key", "county", "cost", "upper", "integer", "payer",
                                                        "home", "stock")}
        self.er, self.ec, self.ev, self.sv = [], [], [], []

    def _common(self, m, lever, cost_prof, upper, integer, payer, stock):
        start = self.m
        self.parts["lever"].append(np.full(m, lever, dtype=object))
        self.parts["cost"].append(np.broadcast_to(np.asarray(cost_prof, float), (m, self.H)).copy())
        self.parts["upper"].append(np.broadcast_to(np.asarray(upper, float), (m,)).copy())
        self.parts["integer"].append(np.full(m, integer, dtype=bool))
        self.parts["payer"].append(np.asarray(payer, float).reshape(m, 3))
        self.parts["stock"].append(np.full(m, stock, dtype=bool))
        self.m += m
        return np.arange(start, start + m)

    def add_pairs(self, pairs, lever, cost_prof, eff_prof, upper, integer, payer, stock=False) -> np.ndarray:
        """One column per pair in ``pairs``; ``cost_prof`` yuan in years 1..H ([m, H] or [H]), ``eff_prof`` [m, H]."""
        pairs = np.asarray(pairs, dtype=np.int64)
        m = len(pairs)
        if m == 0:
            return np.zeros(0, dtype=np.int64)
        idx = self._common(m, lever, cost_prof, upper, integer, payer, stock)
        self.parts["key"].append(np.array([f"{c}_{f}" for c, f in zip(self.cid[self.pc[pairs]], self.fields_arr[self.pf[pairs]])], dtype=object))
        self.parts["county"].append(self.cid[self.pc[pairs]])
        self.parts["home"].append(pairs)
        self.er.append(pairs); self.ec.append(idx)
        self.ev.append(np.broadcast_to(np.asarray(eff_prof, float), (m, self.H)).copy()); self.sv.append(np.ones(m))
        return idx

    def add_counties(self, counties, lever, cost_prof, eff_prof, split_weight, upper, payer, stock=True) -> np.ndarray:
        """One column per county in ``counties``, acting on each of its fields (``eff_prof`` [c, nf, H])."""
        counties = np.asarray(counties, dtype=np.int64)
        m = len(counties)
        if m == 0:
            return np.zeros(0, dtype=np.int64)
        idx = self._common(m, lever, cost_prof, upper, False, payer, stock)
        self.parts["key"].append(np.array([f"{c}_all" for c in self.cid[counties]], dtype=object))
        self.parts["county"].append(self.cid[counties])
        self.parts["home"].append(np.full(m, -1, dtype=np.int64))
        wsum = split_weight.sum(axis=1, keepdims=True)
        share = np.where(wsum > 0, split_weight / np.where(wsum > 0, wsum, 1.0), 1.0 / self.nf)
        pairs = counties[:, None] * self.nf + np.arange(self.nf)[None, :]
        eff_prof = np.asarray(eff_prof, float)
        keep = (np.abs(eff_prof).sum(axis=-1) != 0) | (share != 0)
        self.er.append(pairs[keep]); self.ec.append(np.broadcast_to(idx[:, None], pairs.shape)[keep])
        self.ev.append(eff_prof[keep]); self.sv.append(share[keep])
        return idx

    def home_pair(self, cols) -> np.ndarray:
        return np.concatenate(self.parts["home"])[cols]

    def pair_rows(self, family, pairs, entry_group, entry_col, entry_coef, rhs, prov, name_prefix=None) -> Groups:
        """One ``<=`` row per pair in ``pairs`` (named ``<prefix>_<county>_<field>``)."""
        pairs = np.asarray(pairs, dtype=np.int64)
        c, f = self.cid[self.pc[pairs]], self.fields_arr[self.pf[pairs]]
        prefix = name_prefix or family
        return Groups(family=np.full(len(pairs), family, object),
                      name=np.array([f"{prefix}_{a}_{b}" for a, b in zip(c, f)], dtype=object),
                      sense=np.full(len(pairs), "<=", object), rhs=np.asarray(rhs, float), label_county=c.astype(object),
                      label_province=prov[self.pc[pairs]].astype(object), label_field=f.astype(object),
                      entry_group=np.asarray(entry_group, np.int64), entry_col=np.asarray(entry_col, np.int64),
                      entry_coef=np.asarray(entry_coef, float))

    def finish(self, K, at_age: int | None = None) -> dict:
        """Column arrays; ``effect`` is the profiles' mean over years 1..H, or their value at year ``at_age``.

        ``col_cost`` is always the mean yearly cost over years 1..H (yuan/year).
        """
        cat = lambda k, dt: np.concatenate(self.parts[k]) if self.parts[k] else np.zeros(0, dtype=dt)  # noqa: E731
        M, H = self.m, self.H
        lever = cat("lever", object)
        er, ec = np.concatenate(self.er), np.concatenate(self.ec)
        ev = np.concatenate(self.ev)                 # [nnz, H]
        cost_by_age = np.concatenate(self.parts["cost"]) if self.parts["cost"] else np.zeros((0, H))
        by_age = tuple(sp.csc_matrix((ev[:, a], (er, ec)), shape=(K, M)) for a in range(H))
        eff = ev.mean(axis=1) if at_age is None else ev[:, int(at_age) - 1]
        return dict(
            col_lever=lever, col_key=cat("key", object), col_county=cat("county", object),
            col_cost=cost_by_age.mean(axis=1), col_lower=np.zeros(M), col_upper=cat("upper", float),
            col_integer=cat("integer", bool).astype(bool),
            col_payer=np.concatenate(self.parts["payer"]) if self.parts["payer"] else np.zeros((0, 3)),
            col_unit=np.array([lever_unit(lv) for lv in lever], dtype=object),
            effect=sp.csc_matrix((eff, (er, ec)), shape=(K, M)),
            cost_split=sp.csc_matrix((np.concatenate(self.sv), (er, ec)), shape=(K, M)),
            effect_by_age=by_age, cost_by_age=cost_by_age, col_stock=cat("stock", bool).astype(bool),
        )


# ----------------------------------------------------------------------------- group helpers

def scope_share(table, regions) -> np.ndarray:
    """Share of the nation's eligible township demand per field that lies in ``table`` [F].

    National programme places are shared among counties by township demand in
    the programme's regions (as the simulator does), so a run on some provinces
    gets their share of the national quota, not all of it.  A user table that is
    not part of the bundled national table is treated as the nation (share 1).
    """
    import scenarios
    nat = scenarios.county_table()
    if not set(table["county_id"].astype(str)).issubset(set(nat["county_id"].astype(str))):
        return np.ones(len(FIELDS))
    regions = list(regions)
    out = np.zeros(len(FIELDS))
    for j, f in enumerate(FIELDS):
        col = f"demand_{f}_township"
        whole = float(nat.loc[nat["region"].isin(regions), col].sum())
        part = float(table.loc[table["region"].isin(regions), col].sum())
        out[j] = part / whole if whole > 0 else 0.0
    return out


def quota_rhs(key: str, prov: np.ndarray, per_county: np.ndarray) -> float:
    """A province x field quota ``per_county[field] x counties of the province`` (key ``"<prov>|<field>"``)."""
    p, f = key.split("|")
    return float(per_county[FIELDS.index(f)] * np.sum(prov == p))


def grouped(family, keys, cols, coefs, rhs_of, label_province, label_field, name_prefix=None) -> Groups:
    """One ``<=`` row per distinct key: sum of the given columns <= rhs_of(key)."""
    uk, inv = np.unique(np.asarray(keys, dtype=str), return_inverse=True)
    first = np.zeros(len(uk), dtype=np.int64)
    first[inv[::-1]] = np.arange(len(inv))[::-1]
    prefix = name_prefix or family
    names = np.array([f"{prefix}_{k.replace('|', '_')}" for k in uk], dtype=object)
    return Groups(
        family=np.full(len(uk), family, object), name=names, sense=np.full(len(uk), "<=", object),
        rhs=np.array([rhs_of(k) for k in uk], dtype=float), label_county=np.full(len(uk), "", object),
        label_province=np.asarray(label_province, dtype=object)[first], label_field=np.asarray(label_field, dtype=object)[first],
        entry_group=inv.astype(np.int64), entry_col=np.asarray(cols, np.int64), entry_coef=np.asarray(coefs, float))


__all__ = ["ColumnBuilder", "lever_unit", "priority_weight", "scope_share", "quota_rhs", "grouped"]
