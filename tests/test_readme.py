"""README.md's examples are real commands (fast: nothing is simulated).

* every command the README shows (``grassroots ...`` blocks, found by ``docs/readme_examples.py``, the
  script that runs them) parses with the CLI's own parser, takes only options its command takes, names
  places that exist, and passes the CLI's pre-checks (:func:`grassroots.cli.checks.preflight`: ranges,
  ``--out``, scenarios, county selection, memory), in the order :func:`grassroots.cli.main` applies them;
* every output block the README pairs with a command names that command (its ``cmd:`` lines and its
  ``results/<cmd>-<scenario>-...`` folder), and the folder names the command's scenario;
* the ``## Two commands`` section exists and holds the test command ``.ci/run`` reads from the README
  (with ``.ci/run``'s own ``awk`` program), installing an extra that pyproject.toml defines;
* the script's output matching (normalising times and timestamps, ``...`` elisions, word diffs) on known
  answers.

Each check is a function returning one line per problem; the tests run them on the README and on
deliberately broken copies of README strings, so each test can fail.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README_TEXT = (ROOT / "README.md").read_text(encoding="utf-8")


def _load_script():
    spec = importlib.util.spec_from_file_location("readme_examples", ROOT / "docs" / "readme_examples.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["readme_examples"] = module      # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


rx = _load_script()
EXAMPLES = rx.examples(README_TEXT)
RUN_FOR_REAL = {"template"}     # writes only a file a later README command reads (counties.xlsx)


# ----------------------------------------------------------------------------- the checks

def parse(ex):
    """(args, problems) as :func:`grassroots.cli.main` parses the command: parser, options the command does
    not take, place names."""
    from grassroots.cli import _not_taken, build_parser
    from grassroots.cli.options import resolve_places
    where = f"README.md:{ex.line}: {ex.text}"
    err = io.StringIO()
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
            args, extra = build_parser().parse_known_args(ex.argv[1:])
    except SystemExit as e:
        return None, ([] if e.code == 0 else [f"{where}: {err.getvalue().strip()} (exit {e.code})"])
    if extra:
        return None, [f"{where}: {line}" for line in _not_taken(args.command, extra)]
    if args.command is None:
        return None, [f"{where}: no command"]
    return args, [f"{where}: {line}" for line in resolve_places(args)]


def _absolute(argv: list[str]) -> list[str]:
    """README paths into the repository (``grassroots/data/targets-facts.toml``) are relative to its root, where
    the script runs them; a bare file name (``counties.xlsx``) is one the README's commands write."""
    return [str(ROOT / a) if "/" in a and not a.startswith("-") and (ROOT / a).exists() else a for a in argv]


def precheck(ex) -> list[str]:
    """The problems :func:`grassroots.cli.checks.preflight` finds (run in the current folder)."""
    from grassroots.cli.checks import preflight
    args, problems = parse(ex)
    if problems or args is None:
        return problems
    where = f"README.md:{ex.line}: {ex.text}"
    try:
        preflight(args)
    except (ValueError, OSError) as e:
        return [f"{where}: {line}" for line in (getattr(e, "problems", None) or [str(e)])]
    return []


def readme_command_problems(examples, folder: Path, monkeypatch) -> list[str]:
    """Parse and pre-check every command in ``folder`` (a scratch cwd); ``template`` is run for real there."""
    from grassroots.cli import main
    monkeypatch.chdir(folder)
    problems = []
    for ex in examples:
        ex = rx.Example(ex.number, ex.line, ex.text, _absolute(ex.argv), ex.block, ex.output, ex.skip)
        found = precheck(ex)
        problems += found
        if not found and ex.kind in RUN_FOR_REAL:
            with contextlib.redirect_stdout(io.StringIO()):
                status = main(ex.argv[1:])
            if status != 0:
                problems.append(f"README.md:{ex.line}: {ex.text}: exit {status}")
    return problems


def _kinds(block) -> tuple[set[str], list[tuple[str, str]]]:
    """The commands an output block names (``cmd:`` line prefixes, ``results/<cmd>-`` folders) and its
    folders as (command, scenario)."""
    from grassroots.cli import COMMANDS
    names = sorted(COMMANDS, key=len, reverse=True)
    kinds, folders = set(), []
    for line in block.lines:
        m = re.match(r"([\w-]+):", line)
        if m and m.group(1) in COMMANDS:
            kinds.add(m.group(1))
        for folder in re.findall(r"results/([\w.\-]+)-\d{8}-\d{6}", line):
            cmd = next((n for n in names if folder.startswith(n + "-")), None)
            kinds.add(cmd or folder)
            folders.append((cmd or folder, folder[len(cmd) + 1:] if cmd else ""))
    return kinds, folders


def output_problems(examples) -> list[str]:
    """Every output block names its command, and its result folder the command's scenario."""
    problems = []
    for ex in examples:
        if ex.output is None:
            continue
        where = f"README.md:{ex.output.start}: the output of {ex.text}"
        kinds, folders = _kinds(ex.output)
        if not kinds:
            problems.append(f"{where} names no command (no 'cmd:' line, no results/cmd-... folder)")
        elif kinds != {ex.kind}:
            problems.append(f"{where} names {', '.join(sorted(kinds))}, not {ex.kind}")
        args, _ = parse(ex)
        scenario = getattr(args, "scenario", None)
        for cmd, sc in folders:
            if scenario and cmd == ex.kind and sc != scenario:
                problems.append(f"{where}: folder results/{cmd}-{sc}-... is not of scenario {scenario}")
    return problems


def ci_test_command(readme: str, ci: str) -> str:
    """The test command ``.ci/run`` takes from the README: its own awk program when awk is here, else the
    same rule in Python (the line after ``<!-- test-command -->``, skipping fences and blank lines)."""
    m = re.search(r"awk '([^']*)' README\.md", ci)
    assert m, ".ci/run no longer reads the test command from README.md with awk"
    if shutil.which("awk"):
        return subprocess.run(["awk", m.group(1)], input=readme, capture_output=True, text=True,
                              check=True).stdout.strip()
    lines = readme.splitlines()
    for i, line in enumerate(lines):
        if "<!-- test-command -->" in line:
            return next((s for s in lines[i + 1:] if s.strip() and not s.startswith("```")), "")
    return ""


def two_commands_problems(readme: str, ci: str, pyproject: dict) -> list[str]:
    m = re.search(r"^## Two commands\n(.*?)(?=^## )", readme, re.M | re.S)
    if not m:
        return ["README.md has no '## Two commands' section"]
    section, problems = m.group(1), []
    cmd = ci_test_command(readme, ci)
    if not cmd:
        problems.append(".ci/run finds no test command in README.md")
    elif cmd not in section:
        problems.append(f"the test command .ci/run runs ({cmd!r}) is not in the '## Two commands' section")
    elif not re.search(r"\bpytest\b", cmd):
        problems.append(f"the test command .ci/run runs ({cmd!r}) does not run pytest")
    extras = pyproject["project"].get("optional-dependencies", {})
    for extra in re.findall(r"\.\[([\w,-]+)\]", cmd):
        problems += [f"the test command installs the extra {e!r}, which pyproject.toml does not define "
                     f"(it has {', '.join(extras)})" for e in extra.split(",") if e not in extras]
    main = re.search(r"<!-- main-command -->\s*```\n(.*?)\n```", section, re.S)
    if not main or not rx.command_argv(main.group(1)):
        problems.append("the '## Two commands' section has no grassroots command after <!-- main-command -->")
    return problems


CI = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


# ----------------------------------------------------------------------------- the README as it is

def test_readme_has_the_commands_it_is_known_to_show():
    kinds = [e.kind for e in EXAMPLES if not e.skip]
    assert len(kinds) >= 15
    assert {"run", "compare", "size-budget", "optimize", "plan", "sensitivity", "calibrate", "backtest",
            "template"} <= set(kinds)
    assert [e.text for e in EXAMPLES if e.kind == "app"] and all(e.skip for e in EXAMPLES if e.kind == "app")
    paired = [e for e in EXAMPLES if e.output is not None]
    assert len(paired) >= 10
    assert EXAMPLES[0].text == "grassroots run policy-2016 --replications 4 --workers 2"   # pip prefix dropped
    assert EXAMPLES[0].output is not None and "results/run-policy-2016" in "\n".join(EXAMPLES[0].output.lines)


def test_every_readme_command_parses_and_passes_the_prechecks(tmp_path, monkeypatch):
    assert readme_command_problems(EXAMPLES, tmp_path, monkeypatch) == []


def test_every_output_block_names_its_command():
    assert output_problems(EXAMPLES) == []


def test_two_commands_section_holds_the_ci_test_command():
    assert two_commands_problems(README_TEXT, CI, PYPROJECT) == []
    assert ci_test_command(README_TEXT, CI) == 'pip install ".[test]" && pytest'


# ----------------------------------------------------------------------------- broken copies must fail

def _broken(old: str, new: str) -> str:
    assert old in README_TEXT, f"the README changed: update this test's string {old!r}"
    return README_TEXT.replace(old, new, 1)


@pytest.mark.parametrize("old, new, expected", [
    ("--province 62 --replications 4 --workers 2\n", "--province 62 --replicatons 4 --workers 2\n",
     "--replicatons: not an option"),
    ("--budget 2e8 --replications 10", "--budget 2e8 --static --replications 10", "--static: not an option"),
    ("--province 62 --years 5 --replications 2 --workers 2 --decompose",
     "--province 甘宁 --years 5 --replications 2 --workers 2 --decompose", "甘宁"),
    ("--target 0.85 --confidence 0.9 --replications 20", "--target 0.85 --confidence 0.9 --replications 0",
     "--replications: 0 is not allowed"),
    ("grassroots run baseline --province 36", "grassroots run baseline-2016 --province 36", "baseline-2016"),
    ("--method morris --samples 6", "--method morris-sobol --samples 6", "invalid choice"),
])
def test_a_broken_command_fails(old, new, expected, tmp_path, monkeypatch):
    broken = [e for e in rx.examples(_broken(old, new)) if new.strip() in e.text + "\n" or new in e.text]
    assert len(broken) == 1
    problems = readme_command_problems(broken, tmp_path, monkeypatch)
    assert problems and expected in "\n".join(problems)


def _shown_folder(command: str, scenario: str) -> str:
    """The first result folder of ``command`` on ``scenario`` that the README shows (its stamp changes with
    every refresh of the guide, so the broken copies below are built from whatever it is now)."""
    found = re.search(rf"results/{command}-{scenario}-\d{{8}}-\d{{6}}", README_TEXT)
    assert found, f"the README shows no results/{command}-{scenario}-... folder: update this test"
    return found.group(0)


_COMPARE = _shown_folder("compare", "baseline")
_SIZE = _shown_folder("size-budget", "baseline")


@pytest.mark.parametrize("old, new", [
    (_COMPARE, _COMPARE.replace("results/compare-", "results/run-")),
    (_SIZE, _SIZE.replace("-baseline-", "-policy-2016-")),
    ("calibrate: 7 parameter(s)", "calibration: 7 parameter(s)\nrun: 7 parameter(s)"),
])
def test_a_broken_output_block_fails(old, new):
    assert output_problems(rx.examples(_broken(old, new)))


@pytest.mark.parametrize("old, new", [
    ("## Two commands", "## Two tasks"),
    ('pip install ".[test]" && pytest', 'pip install ".[tests]" && pytest'),
    ('pip install ".[test]" && pytest', 'pip install ".[test]" && python -m unittest'),
    ("<!-- test-command -->", "<!-- tests -->"),
    ("<!-- main-command -->\n```\npip install . && grassroots run", "<!-- main-command -->\n```\npip install . && grassroot run"),
])
def test_a_broken_two_commands_section_fails(old, new):
    assert two_commands_problems(_broken(old, new), CI, PYPROJECT)


# ----------------------------------------------------------------------------- the script's matching

def test_volatile_parts_are_normalised():
    n = rx.normalise
    assert n("results/compare-baseline-20261205-130228") == n("results/compare-baseline-20270101-000000")
    assert n("backtest: 21 of 28 figures within tolerance (54 s); wrote x") == n("backtest: 21 of 28 figures within tolerance (1 min 2 s); wrote x")
    assert n("run: 25% (1/4 replications, 194 s each, about 10 min left)") == n("run: 25% (1/4 replications, 12 s each, about 36 s left)")
    assert n("run: 25% (1/4 replications, 194 s each, about 10 min left)") == n("run: 25% (1/4 replications, 0.13/s, about 36 s left)")
    assert n("checkpoints in results/.cache/run-62f5d8967d2c209b") == n("checkpoints in results/.cache/run-0123456789abcdef")
    assert n("coverage 0.965; 5 years") != n("coverage 0.966; 5 years")     # numbers are not volatile
    assert n("vacancies 406,608") != n("vacancies 406,609")


ACTUAL = """compare: baseline, policy-2016; 10 years, 4 replication(s), seed 20160701; checkpoints in results/.cache/compare-ab12cd34ef56
compare: 25% (2/8 replications, 0.10/s, about 60 s left)
compare: 100% (8/8 replications, 0.11/s, about 0 s left)
baseline, 2026: coverage 0.905 [0.904, 0.906]; vacancies 17,064
policy-2016 minus base, 2026: coverage +0.082 [+0.081, +0.083]; vacancies -10,686
results/compare-baseline-20270101-090000""".splitlines()


def test_an_excerpt_matches_with_elisions_and_progress_lines_left_out():
    shown = ["compare: baseline, policy-2016; ...", "...", "baseline, 2026: coverage 0.905 [0.904, 0.906]; ...",
             "policy-2016 minus base, 2026: coverage +0.082 [+0.081, +0.083]; vacancies -10,686",
             "results/compare-baseline-20261205-130228"]
    c = rx.compare_output(shown, ACTUAL)
    assert c.matched and c.problems == []
    assert c.new_lines[-1] == "results/compare-baseline-20270101-090000"     # the new folder, to paste
    assert c.new_lines[2] == "baseline, 2026: coverage 0.905 [0.904, 0.906]; ..."    # the elision kept
    assert rx.compare_output(ACTUAL[3:], ACTUAL).matched        # a tail, progress lines omitted


def test_a_moved_number_is_reported_with_its_word():
    shown = ["baseline, 2026: coverage 0.905 [0.904, 0.906]; vacancies 17,064",
             "policy-2016 minus base, 2026: coverage +0.081 [+0.081, +0.083]; vacancies -10,700"]
    c = rx.compare_output(shown, ACTUAL, first_line=100)
    assert not c.matched
    assert c.problems == ["README.md:101: coverage +0.081 -> +0.082; vacancies -10,700 -> -10,686"]
    assert c.new_lines[1] == ACTUAL[4]


def test_lines_missing_between_shown_lines_need_an_elision():
    shown = [ACTUAL[0], ACTUAL[3]]          # the progress lines may go, but not without '...' a real line
    assert rx.compare_output(shown, ACTUAL).matched
    c = rx.compare_output([ACTUAL[0], ACTUAL[4]], ACTUAL)
    assert not c.matched and "add '...'" in c.problems[0]
    c = rx.compare_output(["no such line at all 1 2 3"], ACTUAL)
    assert not c.matched and "not in the output" in c.problems[0]


def test_result_folder_and_stated_times():
    assert rx.result_folder(ACTUAL[0] + "\n" + ACTUAL[-1]) == "results/compare-baseline-20270101-090000"
    assert rx.result_folder("calibrate: loss 6.4 -> 0.001; wrote results/calibrate-baseline-20261205-130739") \
        == "results/calibrate-baseline-20261205-130739"
    assert rx.result_folder("nothing written") is None
    stated = {e.text.split(" --")[0]: e.stated_seconds for e in EXAMPLES if e.stated_seconds}
    assert stated["grassroots run policy-2016"] == 2 * 60 + 22       # "It took 2 min 22 s"
    assert stated["grassroots backtest"] == 61                        # "(1 min 1 s in all.)", not the (49 s) output
