"""The web app without a browser: command options, token gate, paths confined to the results folder,
uploads, the scenario editor's validation, jobs (cache, cancel) and the language choice.

The server is the real ``grassroots app`` on a free 127.0.0.1 port (see ``app_server.py``).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

from app_server import ROOT, Server, wait_done  # noqa: E402

from grassroots.app import editor, folders, jobs  # noqa: E402
from grassroots.app.i18n import from_accept_language  # noqa: E402

TOKEN = "s3cret-token-for-tests"


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("app") / "results")
    yield s
    s.stop()


# ----------------------------------------------------------------------------- the command

def test_help_imports_no_pandas_solara_or_web_stack():
    code = ("import sys\nfrom grassroots.cli import main\n"
            "for argv in (['--help'], ['app', '--help']):\n"
            "    try:\n        main(argv)\n    except SystemExit:\n        pass\n"
            "print(sorted(m for m in ('pandas', 'solara', 'starlette', 'uvicorn', 'jinja2') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env(), timeout=60)
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_pages_offer_only_options_the_command_line_takes():
    from grassroots.app.server import cli_supports
    assert cli_supports("compare", "--province") and cli_supports("optimize", "--budget")
    assert not cli_supports("compare", "--no-such-option") and not cli_supports("no-such-command", "--province")


def test_parser_defaults_match_the_command_module():
    from grassroots.cli import build_parser
    from grassroots.cli import app as cmd
    args = build_parser().parse_args(["app"])
    assert (args.host, args.port, args.open, args.token) == (cmd.DEFAULT_HOST, cmd.DEFAULT_PORT, False, None)


@pytest.mark.parametrize("argv,needle", [
    (["app", "--host", "0.0.0.0"], "--token: required with --host 0.0.0.0"),
    (["app", "--port", "0"], "--port: 0"),
    (["app", "--token", "short"], "--token: too short"),
])
def test_bad_options_exit_2_with_one_line_and_bind_nothing(argv, needle):
    out = subprocess.run([sys.executable, "-m", "grassroots", *argv], capture_output=True, text=True, env=_env(),
                         timeout=60)
    assert out.returncode == 2
    assert needle in out.stderr and "Traceback" not in out.stderr


# ----------------------------------------------------------------------------- token

def test_requests_without_the_token_are_refused(tmp_path):
    s = Server(tmp_path / "results", token=TOKEN)
    try:
        for path in ("/", "/compare", "/results", "/api/jobs/0123456789abcdef0123", "/files/x/report.html"):
            status, _, body = s.request("GET", path)
            assert status == 403, path
            assert b"token" in body
        assert s.request("GET", "/compare", headers={"X-Grassroots-Token": "wrong-token-123"})[0] == 403
        assert s.request("POST", "/compare", body={"scenario": ["baseline", "policy-2016"]})[0] == 403
        assert not (tmp_path / "results" / ".jobs").exists()          # nothing was started
        assert s.request("GET", "/compare", headers={"X-Grassroots-Token": TOKEN})[0] == 200
        assert s.request("GET", "/compare", headers={"Authorization": f"Bearer {TOKEN}"})[0] == 200
        status, headers, _ = s.request("GET", f"/compare?token={TOKEN}")
        assert status == 200 and "grassroots_token=" in headers.get("set-cookie", "")
        assert "samesite=strict" in headers["set-cookie"].lower()
        assert s.request("GET", "/compare", headers={"Cookie": f"grassroots_token={TOKEN}"})[0] == 200
    finally:
        s.stop()


def test_other_web_sites_cannot_drive_a_local_app(server):
    # DNS rebinding: a page of another site resolving its own name to 127.0.0.1
    status, _, body = server.request("GET", "/results", headers={"Host": f"evil.example:{server.port}"})
    assert status == 403 and b"not this computer" in body
    # a cross-site form post from the planner's own browser
    form = {"scenario": ["baseline", "policy-2016"], "province": ["64"], "years": "1", "replications": "1"}
    status, _, body = server.request("POST", "/compare", body=form, headers={"Origin": "http://evil.example"})
    assert status == 403 and b"evil.example" in body
    assert server.request("GET", "/results", headers={"Host": f"localhost:{server.port}"})[0] == 200


def test_off_loopback_prints_a_warning_and_gates_by_token(monkeypatch, capsys, tmp_path):
    import uvicorn

    from grassroots.cli import main
    seen = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, host, port, **kw: seen.update(app=app, host=host, port=port))
    assert main(["app", "--host", "0.0.0.0", "--token", TOKEN, "--results", str(tmp_path / "r")]) == 0
    err = capsys.readouterr().err
    assert "WARNING" in err and "0.0.0.0" in err and f"?token={TOKEN}" in err
    assert seen["host"] == "0.0.0.0" and seen["app"].token == TOKEN and seen["app"].loopback is False


# ----------------------------------------------------------------------------- paths

def test_safe_path_keeps_inside_the_root(tmp_path):
    root = tmp_path / "results"
    (root / "a").mkdir(parents=True)
    (root / "a" / "f.csv").write_text("x\n")
    (root / "link").symlink_to("/etc")
    assert folders.safe_path(root, "a", "f.csv") == (root / "a" / "f.csv").resolve()
    for parts in [("..", "x"), ("a", "../../etc/passwd"), ("/etc/passwd",), ("a", "/etc/passwd"), (".jobs", "k"),
                  ("a", "..\\..\\x"), ("link", "passwd"), ("a\x00b",), ("",), ("a", "")]:
        assert folders.safe_path(root, *parts) is None, parts


@pytest.mark.parametrize("path", [
    "/files/../../../../etc/passwd", "/files/%2e%2e/%2e%2e/etc/passwd", "/files/x/..%2f..%2f..%2fetc%2fpasswd",
    "/files/%2fetc/passwd", "/files/.jobs/x/spec.json", "/results/..%2f..%2fetc", "/results/%2e%2e",
    "/scenario/file/..%2f..%2fetc%2fpasswd", "/files/scenarios/../../../etc/passwd",
])
def test_no_file_outside_the_results_folder_is_readable(server, path):
    status, _, body = server.request("GET", path)
    assert status in (400, 404)
    assert b"root:" not in body


def test_no_file_outside_the_results_folder_is_writable(server, tmp_path):
    outside = server.results.parent / "outside.toml"
    body = {"base": "baseline", "name": "../outside", "action": "save"}
    status, _, page = server.request("POST", "/scenario", body=body)
    assert status == 200 and b"name: " in page
    assert not outside.exists()
    body = {"base": "../../../etc/passwd", "name": "ok-name", "action": "save"}
    server.request("POST", "/scenario", body=body)
    saved = server.results / "scenarios" / "ok-name.toml"
    assert saved.exists() and 'extends = "baseline"' in saved.read_text()   # an unknown base falls back
    assert sorted(p.name for p in server.results.parent.iterdir() if p.suffix == ".toml") == []


# ----------------------------------------------------------------------------- uploads

def _upload(server, name: str, data: bytes):
    boundary = "----grassrootsTestBoundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
            f"Content-Type: application/toml\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return server.request("POST", "/scenario/upload", body=body,
                          headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})


def test_upload_goes_through_the_cli_validation(server):
    status, _, page = _upload(server, "up-ok.toml", b'name = "up-ok"\nextends = "baseline"\n[pay]\ntownship_subsidy = true\n')
    assert status == 200 and b"up-ok" in page
    saved = server.results / "scenarios" / "up-ok.toml"
    out = subprocess.run([sys.executable, "-m", "grassroots", "validate", str(saved)], capture_output=True, text=True,
                         env=_env(), timeout=60)
    assert out.returncode == 0, out.stderr

    status, _, page = _upload(server, "bad.toml", b'extends = "baseline"\n[pay]\nperformance_share = -1\n')
    assert status == 400 and b"pay.performance_share" in page and b"Traceback" not in page
    status, _, page = _upload(server, "bad2.toml", b"this is = not = toml\n")
    assert status == 400 and b"not valid TOML" in page
    status, _, page = _upload(server, "evil.toml", b'extends = "/etc/passwd"\n')
    assert status == 400 and b"extends" in page and b"root:" not in page
    status, _, page = _upload(server, "notes.txt", b"x")
    assert status == 400
    status, _, page = _upload(server, "big.toml", b"#" * (editor.MAX_UPLOAD_BYTES + 10))
    assert status == 400 and b"at most" in page
    status, _, _ = _upload(server, "huge.toml", b"#" * (2 * 1024 * 1024))
    assert status == 413
    left = sorted(p.name for p in (server.results / "scenarios").iterdir())
    assert "bad.toml" not in left and "evil.toml" not in left and not [n for n in left if n.startswith(".upload")]


# ----------------------------------------------------------------------------- scenario editor

def test_scenario_errors_beside_the_field_never_a_traceback(server):
    body = {"base": "baseline", "name": "edited", "action": "check", "pay.performance_share": "-3",
            "titles.apply_rate": "0.5", "horizon.years": "many"}
    status, _, page = server.request("POST", "/scenario", body=body)
    text = page.decode()
    assert status == 200 and "Traceback" not in text
    i = text.index('id="f-pay.performance_share"')
    assert "pay.performance_share: -3" in text[i:i + 600]          # the message sits in the field's cell
    assert 'id="invalid"' in text and 'id="diff"' in text


def test_diff_and_toml_round_trip(tmp_path):
    import scenarios
    base = scenarios.load("baseline")
    form = {"titles.apply_rate": "0.5", "pay.township_subsidy": "true", "pay.base_by_grade": editor.shown(base.pay.base_by_grade),
            "region.provinces": "64, 62"}
    d = editor.diff(base, form)
    assert set(d) == {"titles.apply_rate", "pay.township_subsidy", "region.provinces"}
    doc = editor.document("baseline", "rt", "", {k: new for k, (_, new) in d.items()})
    path = editor.save(tmp_path, "rt", editor.to_toml(doc))
    sc = scenarios.load(str(path))
    assert sc.titles.apply_rate == 0.5 and sc.pay.township_subsidy is True and set(sc.region.provinces) == {"64", "62"}


# ----------------------------------------------------------------------------- jobs

def test_progress_lines():
    log = "compare: a, b\nbaseline: run: 1/2 replications (1 s)\nbaseline: run: 2/2 replications (2 s)\nother: run: 1/2 replications (0 s)\n"
    frac, last = jobs.progress(log, 2)
    assert frac == pytest.approx(0.75) and last.startswith("other: run: 1/2")
    assert jobs.progress("frontier: 3/8 budget 1 yuan: coverage 0.9", 0)[0] == pytest.approx(3 / 8)
    assert jobs.progress("optimize: 10 pairs", 0)[0] is None


def test_progress_of_a_single_bar_off_a_terminal():
    log = "compare: a, b\ncompare: 40% (4/10 replications, 0.13/s, about 46 s left)\ncompare: 50% (5/10 replications"
    assert jobs.progress(log, 2)[0] == pytest.approx(0.5)
    assert jobs.problems_of(log + ")\ngrassroots compare: --years: 0 is not allowed\n") == \
        "compare: a, b\ngrassroots compare: --years: 0 is not allowed"


def _fake_result(folder: Path, with_parquet: bool = False) -> Path:
    import pandas as pd
    folder.mkdir(parents=True)
    rows = []
    for scen, staff in (("baseline", 80.0), ("policy-2016", 90.0)):
        for cid in ("640104", "640105"):
            for field in ("health", "education"):
                rows += [(scen, cid, "64", field, 2018, "staff", staff / 2), (scen, cid, "64", field, 2018, "demand", 50.0),
                         (scen, cid, "64", field, 2017, "staff", 1.0), (scen, cid, "64", field, 2017, "demand", 50.0)]
    df = pd.DataFrame(rows, columns=["scenario", "county_id", "province", "field", "year", "metric", "mean"])
    if with_parquet:
        df.to_parquet(folder / "counties.parquet")
    else:
        df.to_csv(folder / "counties.csv.gz", index=False)
    (folder / "manifest.json").write_text(json.dumps({"command": "compare", "base": "baseline"}))
    pd.DataFrame({"metric": ["coverage"], "year": [2018], "scenario": ["policy-2016"], "base": [0.8],
                  "mean_diff": [0.1], "ci_low": [0.08], "ci_high": [0.12]}).to_csv(folder / "comparison.csv", index=False)
    return folder


@pytest.mark.parametrize("with_parquet", [False, True])
def test_map_slot_takes_a_maps_module_when_there_is_one(tmp_path, monkeypatch, with_parquet):
    import types

    import matplotlib
    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    folder = _fake_result(tmp_path / "compare-x", with_parquet)
    values, text, center = folders.map_values(folder, "en")
    assert center == 0.0 and "percentage points" in text
    assert values.to_dict() == pytest.approx({"640104": 10.0, "640105": 10.0})   # 90% - 80% coverage
    for module in folders.MAPS_MODULES:
        monkeypatch.setitem(sys.modules, module, None)                          # no maps module: no map
    assert folders.county_map(folder, "en") is None
    seen = {}

    def county_map(values, *, label, **kw):
        seen.update(values=values, label=label, **kw)
        fig = Figure(figsize=(2, 2))
        fig.add_subplot().plot([0, 1])
        return fig
    monkeypatch.setitem(sys.modules, "grassroots.maps", types.SimpleNamespace(county_map=county_map))
    png = folders.county_map(folder, "en")
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and seen["center"] == 0.0 and len(seen["values"]) == 2
    rows = folders.headline(folder, "en")
    assert rows[0]["diff"] == "+10.0 pp" and rows[0]["interval"] == "+8.0 pp – +12.0 pp"


def test_cache_key_ignores_workers_only():
    k = jobs.JobStore.key
    assert k(["compare", "a", "b", "--workers", "2"], ["h"]) == k(["compare", "a", "b", "--workers", "1"], ["h"])
    assert k(["compare", "a", "b", "--years", "2"], ["h"]) != k(["compare", "a", "b", "--years", "3"], ["h"])
    assert k(["compare", "a", "b"], ["h1"]) != k(["compare", "a", "b"], ["h2"])


def test_cancel_stops_the_worker_and_leaves_no_folder(server):
    body = {"scenario": ["baseline", "policy-2016"], "province": ["64"], "years": "8", "replications": "40",
            "seed": "99", "workers": "1"}
    status, headers, _ = server.request("POST", "/compare", body=body)
    assert status == 303
    key = headers["location"].rsplit("/", 1)[1]
    spec = json.loads((server.results / ".jobs" / key / "spec.json").read_text())
    time.sleep(1.0)
    assert server.request("POST", f"/jobs/{key}/cancel")[0] == 303
    d = wait_done(server, key, limit=60)
    assert d["jobs"][0]["status"] == "cancelled"
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and list(server.results.glob(f".{spec['out']}.partial-*")):
        time.sleep(0.2)
    assert not (server.results / spec["out"]).exists()
    assert not list(server.results.glob(f".{spec['out']}.partial-*"))
    with pytest.raises(OSError):
        os.kill(spec["pid"], 0)   # the worker's process is gone (reaped by the server)


def test_a_run_survives_the_page_and_even_the_server(tmp_path):
    """The job's state is on disk: a new server over the same results folder follows it to its end."""
    first = Server(tmp_path / "results")
    try:
        body = {"scenario": ["baseline", "policy-2016"], "province": ["64"], "years": "2", "replications": "2",
                "seed": "7"}
        status, headers, _ = first.request("POST", "/compare", body=body)
        assert status == 303
        key = headers["location"].rsplit("/", 1)[1]
    finally:
        first.stop()
    second = Server(tmp_path / "results")
    try:
        d = wait_done(second, key)
        assert d["done"], d
        status, _, page = second.request("GET", d["result_url"])
        assert status == 200 and b'id="headline"' in page
        m = json.loads((second.results / d["jobs"][0]["out"] / "manifest.json").read_text())
        assert m["reproduce"].startswith("grassroots compare baseline policy-2016 --province 64 --years 2")
        status, headers, _ = second.request("POST", "/compare", body=body)      # asked again: the cache
        assert status == 303 and headers["location"] == f"/jobs/{key}"
    finally:
        second.stop()


def test_bad_compare_form_shows_problems_and_starts_nothing(server):
    before = set((server.results / ".jobs").glob("*")) if (server.results / ".jobs").exists() else set()
    body = {"scenario": ["baseline"], "province": ["99"], "years": "0", "replications": "x"}
    status, _, page = server.request("POST", "/compare", body=body)
    assert status == 400
    for needle in (b"scenario: choose at least two", b"province: 99", b"years: 0", b"replications: &#39;x&#39;"):
        assert needle in page
    after = set((server.results / ".jobs").glob("*")) if (server.results / ".jobs").exists() else set()
    assert after == before


# ----------------------------------------------------------------------------- language

@pytest.mark.parametrize("header,lang", [("zh-CN,zh;q=0.9,en;q=0.8", "zh"), ("en-US,en;q=0.9", "en"), (None, "en"),
                                         ("fr-FR,fr;q=0.9,zh;q=0.8", "zh"), ("en;q=0.5,zh-TW;q=0.8", "zh"), ("de", "en")])
def test_accept_language(header, lang):
    assert from_accept_language(header) == lang


def test_chinese_by_default_when_the_browser_asks(server):
    _, _, page = server.request("GET", "/compare", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert "比较".encode() in page and 'lang="zh-CN"'.encode() in page
    _, _, page = server.request("GET", "/compare", headers={"Accept-Language": "zh-CN", "Cookie": "lang=en"})
    assert b'lang="en"' in page


# ----------------------------------------------------------------------------- budget: money by year and payers

def test_budget_path_field_in_million_yuan_per_year():
    from grassroots.app import forms
    errors: dict = {}
    assert forms.budget_path("100, 150,200", errors) == [1e8, 1.5e8, 2e8] and not errors
    assert forms.budget_path("100，0 ,2.5", errors) == [1e8, 0.0, 2.5e6] and not errors    # a Chinese comma
    assert forms.budget_path("100 150", errors) == [1e8, 1.5e8] and not errors               # spaces
    assert forms.budget_path("", errors) is None and forms.budget_path(None, errors) is None and not errors
    for raw, needle in (("100, abc", "'abc' is not a number >= 0"), ("100,-5", "'-5' is not a number >= 0"),
                        ("100,,200", "'' is not a number >= 0"), ("inf", "'inf' is not a number >= 0"),
                        (",".join(["1"] * 51), "51 figures")):
        errors = {}
        assert forms.budget_path(raw, errors) is None
        assert list(errors) == ["budget_path"] and needle in errors["budget_path"], errors
        assert errors["budget_path"].startswith("budget_path: ") and "allowed: million yuan per year" in errors["budget_path"]
        assert "\n" not in errors["budget_path"]


def test_payer_limits_one_line_per_bad_field():
    from grassroots.app import forms
    errors: dict = {}
    assert forms.payer_limits({"payer_central": "50", "payer_county": " ", "payer_provincial": "0"}, errors) == \
        {"central": 5e7, "provincial": 0.0} and not errors
    assert forms.payer_limits(None, errors) == {} and not errors
    got = forms.payer_limits({"payer_central": "-1", "payer_provincial": "x", "payer_county": "nan"}, errors)
    assert got == {} and sorted(errors) == ["payer_central", "payer_county", "payer_provincial"]
    assert errors["payer_provincial"] == "payer_provincial: 'x' (allowed: empty, or million yuan per year, a number >= 0)"


def test_planning_argv_is_what_the_command_line_takes():
    from grassroots.app import forms
    from grassroots.cli import build_parser
    from grassroots.cli.options import check_planning
    argv = forms.planning_argv([1e8, 1.5e8], {"county": 2.5e7, "central": 5e7})
    assert argv == ["--budget-path", "100000000,150000000", "--years", "2",
                    "--payer-budget", "central=50000000", "--payer-budget", "county=25000000"]
    args = build_parser().parse_args(["optimize", "policy-2016", *argv])
    assert check_planning(args) == []           # the command line's own checks accept it
    assert forms.planning_argv(None, {}) == []


def test_bad_budget_form_names_each_field_and_starts_nothing(server):
    before = set((server.results / ".jobs").glob("*")) if (server.results / ".jobs").exists() else set()
    body = {"scenario": "policy-2016", "province": ["64"], "budget_million": "200", "objective": "shortfall",
            "budget_path": "100, lots", "payer_central": "-3", "payer_county": "abc", "payer_provincial": "10"}
    status, _, page = server.request("POST", "/budget", body=body)
    assert status == 400
    for needle in (b'id="error-budget_path"', b"budget_path: &#39;lots&#39; is not a number", b'id="error-payer_central"',
                   b"payer_central: &#39;-3&#39;", b'id="error-payer_county"', b"payer_county: &#39;abc&#39;"):
        assert needle in page, needle
    assert b'id="error-payer_provincial"' not in page and b'value="100, lots"' in page    # kept for correcting
    status, _, page = server.request("POST", "/budget", body={**body, "objective": "cost", "budget_path": "100",
                                                              "payer_central": "", "payer_county": ""})
    assert status == 400 and b"budget_path: not with the smallest-budget objective" in page
    after = set((server.results / ".jobs").glob("*")) if (server.results / ".jobs").exists() else set()
    assert after == before


def test_budget_form_passes_money_by_year_and_payers_to_the_optimizer(server):
    body = {"scenario": "policy-2016", "province": ["64"], "budget_million": "200", "objective": "shortfall",
            "budget_path": "100, 150", "payer_central": "50", "payer_provincial": "", "payer_county": ""}
    status, headers, _ = server.request("POST", "/budget", body=body)
    assert status == 303 and headers["location"].startswith("/jobs/")
    key = headers["location"].split("/")[-1].split("?")[0]
    spec = json.loads((server.results / ".jobs" / key / "spec.json").read_text())
    argv = spec["argv"]
    assert argv[:2] == ["optimize", "policy-2016"] and "--budget" not in argv    # the path replaces the budget
    at = argv.index("--budget-path")
    assert argv[at:at + 4] == ["--budget-path", "100000000,150000000", "--years", "2"]
    assert argv[argv.index("--payer-budget") + 1] == "central=50000000" and argv.count("--payer-budget") == 1
    server.request("POST", f"/jobs/{key}/cancel")     # the run itself is the browser test's


# ----------------------------------------------------------------------------- Excel download

def test_excel_download_of_a_result_folder(server):
    import openpyxl
    folder = _fake_result(server.results / "compare-fake-excel")
    status, headers, body = server.request("GET", "/results/compare-fake-excel")
    assert status == 200 and b'href="/results/compare-fake-excel/results.xlsx"' in body
    status, headers, body = server.request("GET", "/results/compare-fake-excel/results.xlsx")
    assert status == 200 and headers["content-type"].startswith("application/vnd.openxmlformats")
    assert 'attachment; filename="compare-fake-excel.xlsx"' in headers["content-disposition"]
    wb = openpyxl.load_workbook(io.BytesIO(body))
    assert {"about", "comparison"} <= set(wb.sheetnames)
    assert [c.value for c in wb["comparison"][1]][:3] == ["metric", "year", "scenario"]
    assert not (folder / "results.xlsx").exists()          # made on the fly: the folder stays as written
    for bad in ("/results/no-such-folder/results.xlsx", "/results/..%2F..%2Fetc/results.xlsx",
                "/results/.jobs/results.xlsx"):
        assert server.request("GET", bad)[0] == 404, bad
