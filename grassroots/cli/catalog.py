"""``grassroots scenarios``, ``validate`` and ``params``: what the bundled scenarios and the scenario schema hold."""

from __future__ import annotations

from .options import InputError


def list_scenarios(args) -> int:
    import scenarios
    rows = scenarios.bundled()
    width = max(len(n) for n, _ in rows)
    for name, desc in rows:
        print(f"{name:<{width}}  {desc}")
    return 0


def validate(args) -> int:
    import scenarios
    from .checks import select_table
    sc = scenarios.load(args.scenario)
    select_table(args, sc, args.scenario)    # region.counties must be in the bundled county table
    print(f"{args.scenario}: valid (scenario {sc.name!r}, sha256 {scenarios.sha256(sc)[:16]})")
    return 0


def params(args) -> int:
    import scenarios
    rows = [r for r in scenarios.describe_params() if not args.section or r["key"].startswith(args.section + ".")]
    if not rows:
        raise InputError([f"--section: no parameters under {args.section!r} (allowed: {', '.join(sorted({r['key'].split('.')[0] for r in scenarios.describe_params()}))})"])
    for r in rows:
        rng = f" [{r['range']}]" if r["range"] else ""
        print(f"{r['key']}: {r['type']}, {r['unit']}{rng} -- {r['source']}")
    return 0
