"""National calibration targets of the bundled county table, with units and sources.

``NATIONAL_TARGETS`` (staff per field and tier, persons; population) and the province populations of
the 2020 census, used by :mod:`.generate` to scale demand and staff; see its docstring, "Calibration".
"""
from __future__ import annotations

from .columns import FIELDS, TIERS

#: National coverage (staff / demand) the demand scaling aims at, every field and tier.
TARGET_COVERAGE = 0.90  # assumption: the design asks for 0.85-0.95

_FACTS = "FACTS.md"


def _target(value: int, source: str, assumption: bool) -> dict:
    return {"value": value, "unit": "persons", "source": source, "assumption": assumption}


_TIER_TARGETS = {
    ("education", "township"): _target(2_900_000, f"{_FACTS} Scale: rural teachers 2.9 million (end-2018)", False),
    ("education", "county"): _target(1_200_000, "assumption: county-level teaching posts in the policy's scope (7 M total minus the other cells)", True),
    ("health", "township"): _target(1_360_000, f"{_FACTS} Scale: rural health workers 1.36 million (2023)", False),
    ("health", "county"): _target(690_000, "assumption: county hospital and public-health posts in scope (7 M total minus the other cells)", True),
    ("agriculture", "county"): _target(200_000, "assumption (FACTS: agricultural extension staff numbers not verified)", True),
    ("agriculture", "township"): _target(300_000, "assumption (FACTS: agricultural extension staff numbers not verified)", True),
    ("engineering", "county"): _target(200_000, "assumption: no verified figure", True),
    ("engineering", "township"): _target(100_000, "assumption: no verified figure", True),
    ("science", "county"): _target(40_000, "assumption: no verified figure", True),
    ("science", "township"): _target(10_000, "assumption: no verified figure", True),
}

#: Resident population by province, Seventh National Population Census (1 Nov 2020),
#: NBS communiqué of 2021-05-11.  Not in FACTS.md; 31 provinces sum to 1,409,778,724
#: (the national 1,411,778,724 adds 2 million active servicemen).
PROVINCE_POPULATION_2020 = {
    "11": 21_893_095, "12": 13_866_009, "13": 74_610_235, "14": 34_915_616, "15": 24_049_155,
    "21": 42_591_407, "22": 24_073_453, "23": 31_850_088, "31": 24_870_895, "32": 84_748_016,
    "33": 64_567_588, "34": 61_027_171, "35": 41_540_086, "36": 45_188_635, "37": 101_527_453,
    "41": 99_365_519, "42": 57_752_557, "43": 66_444_864, "44": 126_012_510, "45": 50_126_804,
    "46": 10_081_232, "50": 32_054_159, "51": 83_674_866, "52": 38_562_148, "53": 47_209_277,
    "54": 3_648_100, "61": 39_528_999, "62": 25_019_831, "63": 5_923_957, "64": 7_202_654,
    "65": 25_852_345,
}


def _build_targets() -> dict[str, dict]:
    out: dict[str, dict] = {}
    for (f, t), spec in _TIER_TARGETS.items():
        out[f"staff_{f}_{t}"] = spec
    for f in FIELDS:
        parts = [_TIER_TARGETS[(f, t)] for t in TIERS]
        out[f"staff_{f}"] = _target(
            sum(p["value"] for p in parts),
            "sum of the county and township targets",
            any(p["assumption"] for p in parts),
        )
    out["staff_total"] = _target(
        sum(s["value"] for s in _TIER_TARGETS.values()),
        "assumption: ~7 million grassroots professionals over all fields and tiers (sum of the cells)",
        True,
    )
    out["population"] = {
        "value": sum(PROVINCE_POPULATION_2020.values()), "unit": "persons",
        "source": "Seventh National Population Census 2020 (NBS, 2021-05-11), 31 provinces", "assumption": False,
    }
    return out


#: National calibration targets keyed by column name (plus ``staff_total``):
#: ``{"value": ..., "unit": "persons", "source": "...", "assumption": bool}``.
NATIONAL_TARGETS: dict[str, dict] = _build_targets()
