"""Result I/O: Parquet tables and export, progress display, checkpoints, claims on --out (in-process parts).

The real-process tests (Ctrl-C, SIGKILL, two commands at once) are in ``test_interrupts.py``.
"""

from __future__ import annotations

import gzip
import io
import json
import os

import numpy as np
import pandas as pd
import pytest

from grassroots import cli
from grassroots.checkpoints import CheckpointStore, run_key
from grassroots.progress import Progress, kept
from grassroots.results import ResultFolder, read_table, remove_stale_partials, write_parquet


def _table(n_counties=7, years=(2016, 2017, 2018), metrics=("staff", "coverage", "cost_yuan")) -> pd.DataFrame:
    """A county table shaped like ``simulator.replicate.county_table_long``'s (categorical text)."""
    rng = np.random.default_rng(4)
    rows = [(f"6201{c:02d}", "62", f, y, m) for c in range(n_counties) for f in ("education", "health")
            for y in years for m in metrics]
    df = pd.DataFrame(rows, columns=["county_id", "province", "field", "year", "metric"])
    df.insert(0, "scenario", "baseline")
    for c in ("scenario", "county_id", "province", "field", "metric"):
        df[c] = df[c].astype("category")
    df["year"] = df["year"].astype("int32")
    df["mean"] = rng.normal(100, 20, len(df))
    df["p05"] = df["mean"] - 1.5
    df["p95"] = df["mean"] + 1.5
    df.loc[3, "p05"] = np.nan
    return df


# ----------------------------------------------------------------------------- Parquet

def test_parquet_keeps_every_value_exactly_with_types_and_is_deterministic(tmp_path):
    import pyarrow.parquet as pq
    df = _table()
    write_parquet(tmp_path / "a.parquet", df, rows_per_group=50)
    write_parquet(tmp_path / "b.parquet", df, rows_per_group=50)
    assert (tmp_path / "a.parquet").read_bytes() == (tmp_path / "b.parquet").read_bytes()
    meta = pq.ParquetFile(tmp_path / "a.parquet").metadata
    assert meta.num_rows == len(df) and meta.num_row_groups == -(-len(df) // 50)
    assert meta.row_group(0).column(0).compression == "ZSTD"
    back = pd.read_parquet(tmp_path / "a.parquet")
    assert list(back.columns) == list(df.columns)
    assert isinstance(back["metric"].dtype, pd.CategoricalDtype) and back["year"].dtype == np.int32
    assert back["mean"].dtype == np.float64
    # rows are grouped by metric, in the order they had within each metric
    cats = list(df["metric"].cat.categories)
    assert list(back["metric"].astype(str)) == sorted(back["metric"].astype(str), key=cats.index)
    order = np.argsort(df["metric"].cat.codes.to_numpy(), kind="stable")
    expect = df.take(order).reset_index(drop=True)
    pd.testing.assert_frame_equal(back.astype({c: str for c in ("scenario", "county_id", "province", "field", "metric")}),
                                  expect.astype({c: str for c in ("scenario", "county_id", "province", "field", "metric")}),
                                  check_exact=True)


def test_progress_is_reported_per_row_group(tmp_path):
    seen = []
    write_parquet(tmp_path / "t.parquet", _table(), progress=lambda d, t: seen.append((d, t)), rows_per_group=40)
    n = len(_table())
    assert seen[-1] == (n, n) and [d for d, _ in seen] == sorted(d for d, _ in seen) and len(seen) == -(-n // 40)


def test_read_table_prefers_parquet_and_falls_back_to_csv(tmp_path):
    df = _table()
    df.to_csv(tmp_path / "counties.csv.gz", index=False)
    assert read_table(tmp_path, "counties")["county_id"].iloc[0] == "620100"   # text, not a number
    write_parquet(tmp_path / "counties.parquet", df)
    assert isinstance(read_table(tmp_path, "counties")["county_id"].dtype, pd.CategoricalDtype)
    assert read_table(tmp_path, "nothing") is None


def test_export_writes_the_csv_text_of_the_parquet_table(tmp_path, capsys):
    folder = tmp_path / "r"
    folder.mkdir()
    write_parquet(folder / "counties.parquet", _table())
    assert cli.main(["export", str(folder), "--csv", "--quiet"]) == 0
    text = gzip.decompress((folder / "counties.csv.gz").read_bytes()).decode()
    assert text == pd.read_parquet(folder / "counties.parquet").to_csv(index=False, lineterminator="\n")
    back = pd.read_csv(folder / "counties.csv.gz", dtype={"county_id": str, "province": str})
    assert back["county_id"].iloc[0].startswith("6201") and len(back) == len(_table())
    assert capsys.readouterr().out.strip() == str(folder / "counties.csv.gz")
    # nothing is overwritten, a format must be named, the folder must hold Parquet tables
    assert cli.main(["export", str(folder), "--csv"]) == 2
    assert cli.main(["export", str(folder)]) == 2
    assert cli.main(["export", str(tmp_path / "none"), "--csv"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and "exists already" in err[0] and "--csv" in err[1] and "not a folder" in err[2]
    assert sorted(p.name for p in folder.iterdir()) == ["counties.csv.gz", "counties.parquet"]
    # into another folder
    assert cli.main(["export", str(folder), "--csv", "--out", str(tmp_path / "csv"), "--quiet"]) == 0
    assert (tmp_path / "csv" / "counties.csv.gz").read_bytes() == (folder / "counties.csv.gz").read_bytes()


# ----------------------------------------------------------------------------- progress

class _Stream(io.StringIO):
    def __init__(self, tty: bool):
        super().__init__()
        self._tty = tty

    def isatty(self):
        return self._tty


def test_without_a_terminal_at_most_one_line_per_ten_percent():
    s = _Stream(False)
    bar = Progress("run", total=200, unit="replications", stream=s)
    for _ in range(200):
        bar.update(1)
    bar.close()
    lines = s.getvalue().splitlines()
    assert len(lines) == 10 and lines[-1].startswith("run: 100% (200/200 replications")
    assert "left" in lines[0] and "/s" in lines[0]
    assert kept() == (200, 200, "replications")


def test_quiet_prints_nothing_but_still_counts():
    s = _Stream(True)
    bar = Progress("run", total=5, stream=s, quiet=True)
    bar.skip(2)
    bar.update(1)
    bar.write("hello")
    assert s.getvalue() == "" and kept() == (3, 5, "replications")


def test_on_a_terminal_one_bar_with_total_rate_and_time_left():
    s = _Stream(True)
    bar = Progress("compare", total=6, unit="replications", stream=s)
    cb_a, cb_b = bar.replications_callback(), bar.replications_callback()
    for d in (1, 2, 3):
        cb_a(d, 3)
    cb_b(2, 3)          # two found in the checkpoints
    cb_b(3, 3)
    bar.close()
    out = s.getvalue()
    assert "\r" in out and "6/6 replications" in out and "100%" in out and "<" in out   # elapsed<remaining
    assert bar.reused == 2 and out.count("\n") == 1


def test_points_printer_counts_cached_points_once():
    from grassroots.cli.options import points_printer
    s = _Stream(False)
    report = points_printer("sensitivity", stream=s)
    report(4, 10, 4)
    for d in range(5, 11):
        report(d, 10, 4)
    assert kept() == (10, 10, "points")
    assert s.getvalue().splitlines()[-1].startswith("sensitivity: 100% (10/10 points")
    assert "4 from checkpoints" in s.getvalue()


def test_headline_lines_have_intervals():
    from grassroots.cli.options import headline, headline_differences
    summary = pd.DataFrame({"scenario": "b", "year": [2026] * 4,
                            "metric": ["coverage", "vacancies", "turnover_rate", "cost_yuan"],
                            "mean": [0.9, 1234.0, 0.05, 2.5e9], "p05": [0.89, 1200.0, 0.049, 2.4e9],
                            "p95": [0.91, 1300.0, 0.051, 2.6e9]})
    (line,) = headline(summary, "b")
    assert line == ("b, 2026 (mean [5%, 95% across replications]): coverage 0.900 [0.890, 0.910]; "
                    "vacancies 1,234 [1,200, 1,300]; turnover 5.00% [4.90%, 5.10%]; cost 2.500 [2.400, 2.600] bn yuan/year")
    comp = summary.rename(columns={"mean": "mean_diff", "p05": "ci_low", "p95": "ci_high"}).assign(scenario="p")
    (line,) = headline_differences(comp)
    assert line.startswith("p minus base, 2026 (mean paired difference [90% t-interval]): coverage +0.900 [+0.890, +0.910]")


# ----------------------------------------------------------------------------- checkpoints

def _key(**kw):
    base = dict(provinces=["64"], seed=1, years=3, replications=2)
    base.update(kw)
    return run_key("run", "abc", **base)


def test_every_input_that_changes_results_changes_the_folder(tmp_path):
    table = tmp_path / "t.csv"
    table.write_text("a\n1\n")
    folders = {CheckpointStore(tmp_path, "run", k).folder for k in (
        _key(), _key(seed=2), _key(years=4), _key(replications=150), _key(provinces=["62"]),
        _key(county_table=table), run_key("run", "abd", provinces=["64"], seed=1, years=3, replications=2))}
    assert len(folders) == 7
    same = tmp_path / "same.csv"
    same.write_text("a\n1\n")   # another file with the same content: the same results, the same folder
    assert CheckpointStore(tmp_path, "run", _key(county_table=same)).folder == \
        CheckpointStore(tmp_path, "run", _key(county_table=table)).folder


def test_a_run_never_deletes_another_runs_checkpoints(tmp_path):
    long = CheckpointStore(tmp_path, "run", _key(replications=150)).open()
    (long.sub("replications") / "1.npz").write_bytes(b"x")
    short = CheckpointStore(tmp_path, "run", _key(replications=2))
    with short:
        (short.sub("replications") / "1.npz").write_bytes(b"y")
        short.finished()
    assert not short.folder.exists()
    assert (long.folder / "replications" / "1.npz").read_bytes() == b"x"
    # an identical run that finishes first leaves the folder to the one still using it
    twin = CheckpointStore(tmp_path, "run", _key(replications=150))
    with twin:
        twin.finished()
    assert (long.folder / "replications" / "1.npz").exists()
    long.finished()
    long.close()
    assert not (tmp_path / ".cache").exists()       # no empty .cache/ left behind


def test_an_interrupted_run_keeps_its_checkpoints_and_a_dead_users_lock_does_not_block(tmp_path):
    st = CheckpointStore(tmp_path, "run", _key())
    with pytest.raises(KeyboardInterrupt):
        with st:
            (st.sub("replications") / "1.npz").write_bytes(b"x")
            raise KeyboardInterrupt
    assert (st.folder / "replications" / "1.npz").exists()
    assert json.loads((st.folder / "key.json").read_text())["replications"] == 2
    (st.folder / "users" / "999999999.lock").write_text("")   # left by a killed run: nobody holds it
    with CheckpointStore(tmp_path, "run", _key()) as again:
        again.finished()
    assert not (tmp_path / ".cache").exists()


def test_replication_cache_keeps_other_keys_files(tmp_path):
    from simulator.replicate import ReplicationCache
    ReplicationCache(tmp_path, {"a": 1}).open()
    (tmp_path / "5.npz").write_bytes(b"kept")
    other = ReplicationCache(tmp_path, {"a": 2}).open()
    assert (tmp_path / "5.npz").read_bytes() == b"kept" and other.folder.parent == tmp_path


# ----------------------------------------------------------------------------- claims on --out

def test_a_second_claim_on_the_same_out_is_refused_in_one_line(tmp_path):
    out = tmp_path / "r"
    first = ResultFolder("run", "baseline", out=out, argv=["grassroots"])
    with pytest.raises(FileExistsError) as e:
        ResultFolder("run", "baseline", out=out, argv=["grassroots"])
    assert "another grassroots command is writing" in str(e.value) and "\n" not in str(e.value)
    with first:
        first.write_text("a.txt", "x")
    assert out.is_dir() and sorted(p.name for p in tmp_path.iterdir()) == ["r"]      # no lock file left
    with pytest.raises(FileExistsError):
        ResultFolder("run", "baseline", out=out, argv=["grassroots"])
    # default names: two folders made in the same second get different names
    a = ResultFolder("run", "baseline", root=tmp_path / "res", argv=["grassroots"])
    b = ResultFolder("run", "baseline", root=tmp_path / "res", argv=["grassroots"])
    assert a.final_path != b.final_path
    b.release()
    a.release()
    assert not (tmp_path / "res").exists()      # made for nothing: removed again


def test_a_killed_runs_partial_folder_is_removed_by_the_next_run(tmp_path):
    stale = tmp_path / ".old.partial-12345"
    stale.mkdir()
    (stale / "half.csv").write_text("x")
    (tmp_path / ".cache").mkdir()
    (tmp_path / ".cache" / "old.lock").write_text("")
    with ResultFolder("run", "baseline", out=tmp_path / "new", argv=["grassroots"]):
        pass
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new"]
    assert remove_stale_partials(tmp_path) == []


def test_bad_input_after_the_claim_leaves_nothing(tmp_path, capsys):
    bad_table = tmp_path / "t.csv"
    bad_table.write_text("county_id\n")
    out = tmp_path / "deep" / "er" / "r"
    assert cli.main(["run", "baseline", "--province", "64", "--years", "2", "--replications", "1", "--quiet",
                     "--county-table", str(bad_table), "--out", str(out)]) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.csv"]
    assert "Traceback" not in capsys.readouterr().err


def test_run_prints_its_headline_numbers(tmp_path, capsys):
    out = tmp_path / "r"
    assert cli.main(["run", "baseline", "--province", "64", "--years", "2", "--replications", "2", "--seed", "5",
                     "--out", str(out)]) == 0
    cap = capsys.readouterr()
    assert cap.out.strip() == str(out)
    last = cap.err.strip().splitlines()[-1]
    assert last.startswith("baseline, 2018 (mean [5%, 95% across replications]): coverage ")
    assert "turnover" in last and "bn yuan/year" in last
    assert "run: 100% (2/2 replications" in cap.err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"]
    assert {"counties.parquet", "replications.parquet", "summary.csv"} <= set(os.listdir(out))


def test_an_error_raised_by_a_ctrl_c_inside_compiled_code_counts_as_the_interruption():
    from grassroots import interrupts
    interrupts.install()   # resets the flag (and installs the handler in this main thread)
    try:
        try:
            try:
                raise KeyboardInterrupt
            except KeyboardInterrupt as e:   # as numba reports it: "returned a result with an exception set"
                raise SystemError("<function> returned a result with an exception set") from e
        except SystemError as err:
            assert interrupts.happened(err)
        assert not interrupts.happened(ValueError("x"))
        assert interrupts.message("run").startswith("grassroots run: interrupted; ")
    finally:
        import signal
        interrupts.restore(signal.default_int_handler)
