"""Run the commands README.md shows and check the outputs it prints beside them.

Why: the project's rule is "every number in the README must come from the command it shows".  Refreshing
the README by hand (run each command, copy its lines, find which numbers moved) is slow and error-prone;
this script does the running and the comparing, so the README editor only has to paste.

What it does, in README order:

1. finds every *command block*: a fenced block (```` ``` ```` with no language tag) whose non-empty lines are
   ``grassroots COMMAND ...`` or ``pip install ... && grassroots COMMAND ...`` (the ``pip install`` part is not
   run: the current interpreter and this checkout are used);  ``# comments`` are dropped.  ``grassroots app``
   (a web server) and ``$ grassroots ...`` transcripts (illustrations of files the README does not provide,
   like ``bad.toml``) are listed but not run;
2. pairs a command with the *output block* the README shows for it: the next untagged fenced block that is
   not a command, when nothing but prose (or a non-``grassroots`` shell block such as the test command)
   lies between them;
3. runs each command as ``python -m grassroots ...`` with this interpreter, cwd = the repository root
   (``PYTHONPATH`` = the root, so this checkout is imported), stdout and stderr together (unbuffered, so in
   the order they were written), measuring wall time;
4. writes ``DIR/NN-<slug>.txt`` (the whole output) and ``DIR/index.md``: command, README line, exit status,
   wall time, the time the README states for it, the result folder it wrote (the ``results/...`` line, so
   the tables the prose builds from its CSVs can be checked by hand), and whether the README's output
   block matches; for a mismatch, a compact word/number diff (``coverage +0.082 -> +0.083``) and the new
   line to paste.  The same summary is printed.

Matching.  Volatile parts are normalised on both sides first: result-folder timestamps (``-20261205-130228``),
elapsed times (``(54 s)``, ``1 min 11 s``, ``194 s each``, ``about 10 min left``), rates (``0.13/s``) and
checkpoint digests (``results/.cache/run-62f5d8967d2c209b``).  An output block is an excerpt of the output:
its lines must appear in the output in order and next to each other; a line ``...`` stands for any number of
omitted lines, ``...`` inside a line for any text; lines before the first and after the last shown line, and
progress lines (``plan: 27% (3/11 rounds, ...)``), may be omitted.

How the README editor uses it (after the branches are merged; results go to ``results/`` as usual)::

    python docs/readme_examples.py --list                      # what would run, and the times the README states
    python docs/readme_examples.py --only 'plan policy-2016'   # one example (a regular expression; repeatable;
                                                               # --only=--static for a pattern starting with -)
    python docs/readme_examples.py                             # everything, in README order
    python docs/readme_examples.py --readme other/README.md    # check another copy of the guide

then, for each ``MISMATCH`` in ``DIR/index.md``, paste the new output block it gives, update the prose
numbers that come from the listed result folder (its README lines are given), and the stated time from the
measured wall time (say the load).  Everything takes as long as the README says its examples take (16 min
25 s for the 9 of 19 commands it gives a time for, on a loaded 2-core machine) plus the others (the
``--static`` size-budget, ``calibrate``, the Gansu ``compare`` and ``optimize``, the ``run`` on an edited county
table: a few minutes).  ``--jobs N`` runs N README blocks at once (the commands of one block, such as
``template`` and the ``run`` that reads its workbook, stay in order); each wall time is then measured under
the others' load, so use it to check outputs, not times.  Files a command writes into the repository root
(``grassroots template counties.xlsx``) are moved into ``DIR/created/`` at the end, so the next run starts
clean.

Exit status: 0 when every command run exited 0 (or with a status its ``# comment`` names, as in
``validate my.toml  # ... else exit 2``) and every output block matched; 1 otherwise; 2 for bad options; 130
when interrupted (Ctrl-C stops the running commands and starts no more; index.md lists those that finished).
Same seed, same numbers on one machine; across CPUs the last printed digit may differ (compiled code), which
shows here as a mismatch of one digit.

Only the standard library and the project itself (for the list of command names) are used.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import difflib
import os
import re
import shlex
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DEFAULT_OUT = ROOT / "build" / "readme-examples"     # build/ is not tracked (.gitignore)

FENCE = re.compile(r"^(```+|~~~+)\s*(\S*)\s*$")
HEADING = re.compile(r"^#{1,6} ")
PIP_PREFIX = re.compile(r"^pip install\s+.*?&&\s*(?=grassroots\b)")
SKIP_COMMANDS = {"app": "starts a web server (needs a browser)"}

# volatile parts of an output line -> a fixed text (applied to README and actual output alike)
_TIME = r"\d+(?:\.\d+)? (?:h|min|s)(?: \d+(?:\.\d+)? (?:min|s))?"
VOLATILE = [
    (re.compile(r"-\d{8}-\d{6}\b"), "-YYYYMMDD-HHMMSS"),                      # result-folder timestamps
    (re.compile(r"(\.cache/[\w.\-]+?-)[0-9a-f]{8,}\b"), r"\1<digest>"),         # checkpoint folders
    (re.compile(r"\d+(?:\.\d+)?/s\b"), "<rate>"),                              # progress rates: 0.13/s
    (re.compile(r"(?<![\w.,])" + _TIME + r" each\b"), "<rate>"),              # or 194 s each (slow work)
    (re.compile(r"(?<![\w.,])" + _TIME + r"(?![\w])"), "<time>"),               # elapsed, each, left
]
# a time the README's prose states for a command: "5 min 33 s", "(44 s)", "1 min 5 s"
STATED_TIME = re.compile(r"(?<![\w.,])(?:(\d+) min(?: (\d+) s)?|(\d+(?:\.\d+)?) s)\b")
RESULT_FOLDER = re.compile(r"(?:^|\s)(results/(?!\.)[\w.\-]+)")


@dataclass
class Block:
    """A fenced block of README.md: its first content line (1-based), tag, lines and the heading above it."""
    start: int
    end: int                # line number of the closing fence
    tag: str
    lines: list[str]
    heading: str
    kind: str = "output"    # command | transcript | shell | options | code | output


@dataclass
class Example:
    """One command the README shows (``argv`` starts with ``grassroots``)."""
    number: int
    line: int               # README line of the command
    text: str               # the command as shown (without a pip prefix or comment)
    argv: list[str]
    block: Block
    output: Block | None = None
    skip: str | None = None
    expected: tuple[int, ...] = (0,)   # exit statuses the README expects (0, plus "exit N" in its # comment)
    stated: str | None = None          # the time the README states, as written
    stated_seconds: float | None = None
    prose: tuple[int, int] = (0, 0)    # README lines of the prose after the command (and its output block)

    @property
    def kind(self) -> str:
        return self.argv[1] if len(self.argv) > 1 else ""

    @property
    def slug(self) -> str:
        words = re.sub(r"[^\w]+", "-", " ".join(self.argv[1:]), flags=re.ASCII).strip("-").lower()
        return f"{self.number:02d}-{words[:60].rstrip('-') or 'help'}"


# ----------------------------------------------------------------------------- parsing README.md

def command_names() -> set[str]:
    """The CLI's command names (from the real parser's table)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from grassroots.cli import COMMANDS
    return set(COMMANDS)


def command_argv(line: str, names: set[str] | None = None) -> list[str] | None:
    """``['grassroots', ...]`` for a README command line (pip prefix and ``# comment`` dropped), else None.

    The word after ``grassroots`` must be a command name or an option (``--help``), so an output line such
    as ``grassroots compare: interrupted; ...`` is not taken for a command."""
    names = command_names() if names is None else names
    line = PIP_PREFIX.sub("", line.strip())
    if not line.startswith("grassroots "):
        return None
    try:
        argv = shlex.split(line, comments=True)
    except ValueError:
        return None
    if len(argv) < 2 or not (argv[1] in names or argv[1].startswith("-")):
        return None
    return argv


def fenced_blocks(text: str, names: set[str] | None = None) -> list[Block]:
    """Every fenced block of ``text``, classified: ``command`` (every non-empty line a grassroots command),
    ``transcript`` (``$ grassroots ...`` prompts with output), ``code`` (a language tag), ``shell`` (other
    command lines: ``pip install ... && pytest``), ``options`` (every line an option, like the list of
    ``--province`` forms), else ``output``."""
    names = command_names() if names is None else names
    blocks, heading, lines = [], "", text.splitlines()
    i = 0
    while i < len(lines):
        if HEADING.match(lines[i]):
            heading = lines[i].lstrip("#").strip()
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        fence, tag, body, j = m.group(1), m.group(2), [], i + 1
        while j < len(lines) and not lines[j].startswith(fence[:3]):
            body.append(lines[j])
            j += 1
        b = Block(i + 2, j + 1, tag, body, heading)
        content = [s for s in body if s.strip()]
        if tag:
            b.kind = "code"
        elif content and all(command_argv(s, names) for s in content):
            b.kind = "command"
        elif any(s.startswith("$ ") and command_argv(s[2:], names) for s in content):
            b.kind = "transcript"
        elif content and all(re.match(r"(pip|python3?|pytest|dask|\. )\b", s.strip()) for s in content):
            b.kind = "shell"
        elif content and all(s.lstrip().startswith("-") for s in content):
            b.kind = "options"     # a list of options (--province 62 --province 甘肃 ...), not an output
        blocks.append(b)
        i = j + 1
    return blocks


def _paragraphs(lines: list[str]) -> list[str]:
    text = "\n".join(lines)
    return [p for p in re.split(r"\n\s*\n", text) if p.strip()]


def _first_time(text: str) -> tuple[str, float] | None:
    m = STATED_TIME.search(text)
    if not m:
        return None
    if m.group(1):
        return m.group(0), int(m.group(1)) * 60 + int(m.group(2) or 0)
    return m.group(0), float(m.group(3))


def _prose(lines: list[str], start: int, end: int) -> list[str]:
    """README lines start..end-1 (0-based), cut at a heading (when going forward)."""
    out = []
    for s in lines[start:end]:
        if HEADING.match(s):
            break
        out.append(s)
    return out


def examples(text: str | None = None) -> list[Example]:
    """The README's commands in order, each with its output block and the time the prose states for it."""
    text = README.read_text(encoding="utf-8") if text is None else text
    names = command_names()
    blocks = fenced_blocks(text, names)
    lines = text.splitlines()
    found: list[Example] = []
    for k, b in enumerate(blocks):
        if b.kind not in ("command", "transcript"):
            continue
        for offset, s in enumerate(b.lines):
            shown = s[2:] if b.kind == "transcript" else s
            if b.kind == "transcript" and not s.startswith("$ "):
                continue
            argv = command_argv(shown, names)
            if not argv:
                continue
            ex = Example(len(found) + 1, b.start + offset, PIP_PREFIX.sub("", shown.strip()).split(" #")[0].rstrip(),
                         argv, b)
            ex.expected = (0, *(int(n) for n in re.findall(r"\bexit (\d+)", s.partition(" #")[2])))
            if b.kind == "transcript":
                ex.skip = "a $ transcript: an illustration with files the README does not provide"
            elif ex.kind in SKIP_COMMANDS:
                ex.skip = SKIP_COMMANDS[ex.kind]
            found.append(ex)
        if b.kind != "command":
            continue
        # the output block of a one-command block: the next untagged non-command block, across prose and
        # shell blocks only (a block of several commands, like the tour, shows no output)
        for nxt in blocks[k + 1:] if len([s for s in b.lines if s.strip()]) == 1 else []:
            if nxt.heading != b.heading or nxt.kind != "shell":
                if nxt.kind == "output" and nxt.heading == b.heading:
                    found[-1].output = nxt
                break
        # the time the prose states: in the paragraph introducing the block, else after the output block
        # (up to the next block or heading; without the paragraph introducing the next command)
        prev_end = max([p.end for p in blocks[:k]], default=0)
        before = _paragraphs(lines[prev_end:b.start - 2])
        last = found[-1].output or b
        after_blocks = [n for n in blocks if n.start > last.end]
        stop = after_blocks[0].start - 2 if after_blocks else len(lines)
        prose = _prose(lines, last.end, stop)
        next_command = next((n.start - 2 for n in after_blocks if n.kind in ("command", "transcript")), len(lines))
        found[-1].prose = (last.end + 1, last.end + len(_prose(lines, last.end, next_command)))
        after = _paragraphs(prose)
        if after_blocks and after_blocks[0].kind == "command" and len(prose) == stop - last.end:
            after = after[:-1]     # not cut by a heading: its last paragraph introduces the next command
        stated = (_first_time(before[-1]) if before else None) or _first_time("\n".join(after))
        if stated:
            found[-1].stated, found[-1].stated_seconds = stated
    return found


# ----------------------------------------------------------------------------- comparing outputs

def normalise(line: str) -> str:
    """``line`` with its volatile parts replaced (timestamps, elapsed times, rates, digests), right-stripped."""
    for pattern, repl in VOLATILE:
        line = pattern.sub(repl, line)
    return line.rstrip()


def _pattern(line: str) -> re.Pattern:
    """A README output line as a pattern: ``...`` inside the line matches any text."""
    parts = re.split(r"(?:(?<=\s)|^)\.\.\.(?=\s|$|[;:,)])", normalise(line))
    return re.compile(".*?".join(re.escape(p) for p in parts) + r"\s*")


TOKEN = re.compile(r"\.\.\.|[-+]?\d(?:[\d,]*\d)?(?:\.\d+)?(?:%| pp)?|\w[\w.\-/]*|[^\w\s]")


def _tokens(s: str) -> list[str]:
    return TOKEN.findall(s)


def rewrite(old: str, new: str) -> str:
    """``old`` (a README line) with the words and numbers of ``new`` (the output line) put in, keeping the
    README's ``...`` elisions: the line to paste."""
    a, b = list(TOKEN.finditer(old)), list(TOKEN.finditer(new))
    a_at = [m.start() for m in a] + [len(old.rstrip())]
    b_at = [m.start() for m in b] + [len(new.rstrip())]
    pieces = [old[:a_at[0]]]
    ops = difflib.SequenceMatcher(None, [m.group() for m in a], [m.group() for m in b], autojunk=False).get_opcodes()
    for op, i1, i2, j1, j2 in ops:
        keep = op == "equal" or [m.group() for m in a[i1:i2]] == ["..."]
        pieces.append(old[a_at[i1]:a_at[i2]] if keep else new[b_at[j1]:b_at[j2]])
    return "".join(pieces).rstrip()


def word_diff(old: str, new: str) -> str:
    """The changed words and numbers of two lines, each with the word before it:
    ``coverage +0.082 -> +0.083; vacancies -10,686 -> -10,700``."""
    a, b = _tokens(normalise(old)), _tokens(normalise(new))
    changes = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal" or a[i1:i2] == ["..."]:     # what the README elides may be anything
            continue
        context = next((t for t in reversed(a[:i1]) if re.match(r"[^\W\d]", t)), "")
        was, now = " ".join(a[i1:i2]) or "(nothing)", " ".join(b[j1:j2]) or "(nothing)"
        changes.append(f"{context + ' ' if context else ''}{was} -> {now}")
    return "; ".join(changes) or "(same words)"


@dataclass
class Comparison:
    matched: bool
    problems: list[str] = field(default_factory=list)   # one compact line per README line that did not match
    new_lines: list[str] = field(default_factory=list)   # the output lines to paste instead


PROGRESS = re.compile(r"^[\w\- ]+: \d+% \(")


def is_progress(line: str) -> bool:
    """A progress line (``run: 40% (4/10 replications, ...)``): the README may always leave these out."""
    return bool(PROGRESS.match(line))


def compare_output(shown: list[str], actual: list[str], first_line: int = 0) -> Comparison:
    """Does the README excerpt ``shown`` match the output ``actual``?  (see the module docstring)."""
    got = [normalise(s) for s in actual]
    raw = [s.rstrip() for s in actual]
    pos, gap, result = 0, True, Comparison(True)
    for n, line in enumerate(shown):
        where = f"README.md:{first_line + n}" if first_line else f"line {n + 1}"
        if not line.strip():
            continue
        if line.strip() == "...":
            gap = True
            result.new_lines.append("...")
            continue
        pat = _pattern(line)
        nxt = pos                            # the next line that is not a progress line
        while nxt < len(got) and is_progress(got[nxt]):
            nxt += 1
        window = range(pos, len(got)) if gap else range(pos, min(nxt + 1, len(got)))
        hit = next((i for i in window if pat.fullmatch(got[i])), None)
        if hit is not None:
            pos, gap = hit + 1, False
            result.new_lines.append(rewrite(line, raw[hit]))
            continue
        result.matched = False
        literal = normalise(line).replace("...", " ")
        scores = [(difflib.SequenceMatcher(None, literal, got[i], autojunk=False).ratio(), i)
                  for i in range(pos, len(got))]
        best = max(scores, default=(0.0, -1))
        if best[0] >= 0.6:
            i = best[1]
            hidden = sum(not is_progress(g) for g in got[pos:i])
            extra = "" if gap or not hidden else f" (after {hidden} line(s) the README does not show: add '...'?)"
            result.problems.append(f"{where}: {word_diff(line, raw[i])}{extra}")
            result.new_lines.append(rewrite(line, raw[i]))
            pos, gap = i + 1, False
        else:
            result.problems.append(f"{where}: not in the output: {line.strip()[:100]}")
            result.new_lines.append(line.rstrip())
    return result


def result_folder(output: str) -> str | None:
    """The last ``results/...`` folder named in a command's output (not a ``results/.cache`` one)."""
    found = RESULT_FOLDER.findall(output)
    return found[-1].rstrip(".;,") if found else None


# ----------------------------------------------------------------------------- running

@dataclass
class Outcome:
    example: Example
    status: int | None = None
    seconds: float = 0.0
    output: str = ""
    folder: str | None = None
    comparison: Comparison | None = None


def run_one(ex: Example, out: Path) -> Outcome:
    """Run one example (cwd = the repository root) and compare its output with the README's."""
    env = dict(os.environ, PYTHONUNBUFFERED="1", PYTHONIOENCODING="utf-8",
               PYTHONPATH=os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]))
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "grassroots", *ex.argv[1:]], cwd=ROOT, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, encoding="utf-8",
                          errors="replace")
    o = Outcome(ex, proc.returncode, time.monotonic() - started, proc.stdout)
    (out / f"{ex.slug}.txt").write_text(f"$ {ex.text}\n{o.output}", encoding="utf-8")
    o.folder = result_folder(o.output)
    if ex.output is not None:
        o.comparison = compare_output(ex.output.lines, o.output.splitlines(), ex.output.start)
    return o


def duration(seconds: float | None) -> str:
    """``5 min 33 s``, ``44 s``, ``0.8 s`` (the README's way of writing times)."""
    if seconds is None:
        return "-"
    s = int(round(seconds))
    return f"{s // 60} min {s % 60} s" if s >= 60 else (f"{seconds:.1f} s" if seconds < 10 else f"{s} s")


def _status(o: Outcome) -> str:
    if o.example.skip:
        return "skipped"
    if o.comparison is None:
        return "no output block"
    return "match" if o.comparison.matched else "MISMATCH"


def write_index(out: Path, outcomes: list[Outcome], created: list[str], readme: Path = README) -> str:
    """``DIR/index.md``: one row per example, then every mismatch with its diff and the lines to paste."""
    rows = ["# README examples", "", f"README: {readme}  ", f"interpreter: {sys.executable}", "",
            "| # | command | README line | exit | wall | README says | output block | result folder |",
            "|---|---|---|---|---|---|---|---|"]
    for o in outcomes:
        ex = o.example
        exit_ = "-" if ex.skip else str(o.status)
        wall = "-" if ex.skip else duration(o.seconds)
        rows.append(f"| {ex.number} | `{ex.text}` | {ex.line} | {exit_} | {wall} | {ex.stated or '-'} | "
                    f"{_status(o)}{': ' + ex.skip if ex.skip else ''} | {o.folder or '-'} |")
    ran = [o for o in outcomes if not o.example.skip]
    timed = [o for o in ran if o.example.stated_seconds is not None]
    rows += ["", f"Wall time of the {len(ran)} command(s) run: {duration(sum(o.seconds for o in ran))}; "
             + (f"for the {len(timed)} the README gives a time for: {duration(sum(o.seconds for o in timed))} "
                f"measured, {duration(sum(o.example.stated_seconds for o in timed))} stated." if timed
                else "the README states no time for them.")]
    if created:
        rows += ["", "Files the commands wrote into the repository root, moved to `created/`: "
                 + ", ".join(f"`{c}`" for c in created)]
    folders = [o for o in outcomes if o.folder]
    if folders:
        rows += ["", "## Result folders", "",
                 "The prose after each command (README lines given) may quote numbers from these files:", ""]
    for o in folders:
        path = ROOT / o.folder
        files = sorted(p.name for p in path.iterdir() if p.suffix in (".csv", ".json", ".toml")) if path.is_dir() else []
        rows.append(f"- {o.example.number}. `{o.folder}` (README.md:{o.example.prose[0]}-{o.example.prose[1]}): "
                    + (", ".join(f"`{f}`" for f in files) or "(not found)"))
    for o in outcomes:
        c = o.comparison
        if c is None or c.matched:
            continue
        ex = o.example
        rows += ["", f"## {ex.number}. `{ex.text}` (README.md:{ex.line}; output `{ex.slug}.txt`)", ""]
        rows += [f"- {p}" for p in c.problems]
        rows += ["", "New output block:", "", "```", *c.new_lines, "```"]
    text = "\n".join(rows) + "\n"
    (out / "index.md").write_text(text, encoding="utf-8")
    return text


def listing(chosen: list[Example]) -> str:
    lines = []
    for ex in chosen:
        out = "-" if ex.output is None else (f"{len(ex.output.lines)} lines"
                                             + (" with ..." if any("..." in s for s in ex.output.lines) else ""))
        lines.append(f"{ex.number:2d}  README.md:{ex.line:<4} {ex.stated or '-':>10}  output {out:<16} {ex.text}"
                     + (f"   [not run: {ex.skip}]" if ex.skip else ""))
    run = [e for e in chosen if not e.skip]
    timed = [e for e in run if e.stated_seconds is not None]
    lines.append(f"{len(run)} command(s) to run; the README states a time for {len(timed)}, together "
                 f"{duration(sum(e.stated_seconds for e in timed))}; no time stated for: "
                 + (", ".join(str(e.number) for e in run if e.stated_seconds is None) or "none"))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 epilog="See the module docstring (python -m pydoc docs/readme_examples.py).")
    ap.add_argument("--only", action="append", metavar="PATTERN",
                    help="only the commands matching this regular expression (repeatable: any of them)")
    ap.add_argument("--list", action="store_true", help="list the commands, their output blocks and stated times; run nothing")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, metavar="DIR",
                    help=f"where the outputs and index.md go (default {DEFAULT_OUT.relative_to(ROOT)}; emptied of old outputs)")
    ap.add_argument("--readme", type=Path, default=README, metavar="FILE",
                    help="the guide to check (default README.md of this checkout; commands still run in its root)")
    ap.add_argument("--jobs", type=int, default=1, metavar="N",
                    help="run up to N README blocks at once (default 1; >1 measures every wall time under the others' load)")
    args = ap.parse_args(argv)
    if args.jobs < 1:
        ap.error("--jobs: a whole number >= 1")
    try:
        patterns = [re.compile(p) for p in args.only or []]
    except re.error as e:
        ap.error(f"--only: not a regular expression: {e}")
    if not args.readme.is_file():
        ap.error(f"--readme: {args.readme}: no such file")
    chosen = [e for e in examples(args.readme.read_text(encoding="utf-8")) if not patterns or any(p.search(e.text) for p in patterns)]
    if not chosen:
        ap.error("--only: no README command matches")
    if args.list:
        print(listing(chosen))
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    for old in list(args.out.glob("[0-9][0-9]-*.txt")) + [args.out / "index.md"]:
        old.unlink(missing_ok=True)
    before = {p.name for p in ROOT.iterdir()}
    groups: dict[int, list[Example]] = {}
    for e in chosen:                     # commands of one block run in order (a template, then its use)
        groups.setdefault(e.block.start, []).append(e)
    outcomes: dict[int, Outcome] = {}

    stop = threading.Event()             # Ctrl-C: the running commands stop (they get the signal), no new one starts

    def run_group(group: list[Example]) -> None:
        for e in group:
            if stop.is_set():
                return
            if e.skip:
                outcomes[e.number] = Outcome(e)
                continue
            print(f"[{e.number}] {e.text}", flush=True)
            o = outcomes[e.number] = run_one(e, args.out)
            print(f"[{e.number}] exit {o.status}, {duration(o.seconds)} (README: {e.stated or '-'}); "
                  f"{_status(o)}{'; ' + o.folder if o.folder else ''}", flush=True)
            for p in (o.comparison.problems if o.comparison else []):
                print(f"    {p}", flush=True)

    pool, interrupted = concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs), False
    try:
        for f in [pool.submit(run_group, g) for g in groups.values()]:
            f.result()
    except KeyboardInterrupt:
        interrupted = True
        stop.set()
        print("interrupted; index.md lists the commands that finished", file=sys.stderr)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    created = sorted({p.name for p in ROOT.iterdir()} - before - {"results", "build"})
    if created:
        (args.out / "created").mkdir(exist_ok=True)
        for name in created:
            os.replace(ROOT / name, args.out / "created" / name)
    done = [outcomes[e.number] for e in chosen if e.number in outcomes]
    write_index(args.out, done, created, args.readme)
    print(f"wrote {args.out / 'index.md'}")
    bad = [o for o in done if not o.example.skip and (o.status not in o.example.expected or (o.comparison and not o.comparison.matched))]
    return 130 if interrupted else (1 if bad or len(done) < len(chosen) else 0)


if __name__ == "__main__":
    sys.exit(main())
