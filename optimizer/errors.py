"""Typed errors of the optimizer.

Every error carries ``problems``: a list of one-line messages, each naming the
key, option or constraint family concerned, so the command line can print them
one per line and exit with status 2 (see ``grassroots/cli/__init__.py``).
"""

from __future__ import annotations


class OptimizerInputError(ValueError):
    """Invalid optimizer input or option; ``problems`` holds one line per problem.

    Each line names the key (``budget``, ``coverage_target``, ``inputs.col_cost[3]`` ...)
    and what is allowed, e.g. ``--budget: -5 is negative (allowed: a number >= 0, yuan per year)``.
    """

    def __init__(self, problems: list[str] | str):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


class SolverError(RuntimeError):
    """The solver did not return a usable solution (time limit, numerical trouble, missing solver)."""

    def __init__(self, message: str, status: str = "error", problems: list[str] | None = None):
        self.status = status
        self.problems = list(problems) if problems else [message]
        super().__init__(message)


class UnboundedError(SolverError):
    """The objective can improve without limit; ``columns`` names the variables that allow it."""

    def __init__(self, message: str, columns: list[str] | None = None):
        self.columns = list(columns or [])
        super().__init__(message, status="unbounded")


class InfeasibleError(RuntimeError):
    """No allocation satisfies every constraint.

    ``families`` maps each constraint family that needed slack in the elastic
    relaxation to ``{"rows": n, "slack": total, "unit": ..., "examples": [...]}``;
    ``problems`` holds one line per family, e.g.
    ``infeasible: coverage_target needs slack in 412 rows (21,300 persons), e.g. coverage_620101_agriculture``.
    """

    def __init__(self, families: dict[str, dict], objective: str = ""):
        self.families = dict(families)
        self.status = "infeasible"
        lines = []
        for fam, info in self.families.items():
            ex = ", ".join(info.get("examples", [])[:3])
            lines.append(
                f"infeasible{' (' + objective + ')' if objective else ''}: {fam} needs slack in {info['rows']} "
                f"{'row' if info['rows'] == 1 else 'rows'} ({info['slack']:,.6g} {info.get('unit', '')})".rstrip()
                + (f", e.g. {ex}" if ex else "")
            )
        if not lines:
            lines = ["infeasible: the solver reports no feasible allocation, but the elastic relaxation found none "
                     "of the constraint families violated (numerical trouble; try the other solver)"]
        self.problems = lines
        super().__init__("\n".join(lines))


__all__ = ["OptimizerInputError", "SolverError", "UnboundedError", "InfeasibleError"]
