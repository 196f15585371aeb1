"""Executors: serial, local processes and a Dask LocalCluster give identical results, in input order."""

from __future__ import annotations

import math
import sys

import numpy as np
import pandas as pd
import pytest

from grassroots.studies import executors
from grassroots.studies.executors import ExecutorError, ProcessExecutor, SerialExecutor, make_executor


def noisy_mean(item):
    """Seeded from the item only: the same answer whoever runs it."""
    seed, n = item
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    return float(rng.normal(size=n).mean())


def fails_on_three(x):
    if x == 3:
        raise ZeroDivisionError("three")
    return x


ITEMS = [(s, 1000 + 10 * s) for s in range(12)]


def test_make_executor_picks_the_kind():
    with make_executor(1) as ex:
        assert isinstance(ex, SerialExecutor) and ex.describe() == {"kind": "serial", "workers": 1}
    with make_executor(None) as ex:
        assert isinstance(ex, SerialExecutor)
    with make_executor(2) as ex:
        assert isinstance(ex, ProcessExecutor) and ex.describe()["workers"] == 2


@pytest.mark.parametrize("bad", [-1, 1.5, "2", True])
def test_bad_worker_count_is_one_line(bad):
    with pytest.raises(ExecutorError) as e:
        make_executor(bad)
    assert len(e.value.problems) == 1 and e.value.problems[0].startswith("--workers:")


def test_processes_equal_serial_in_input_order():
    expected = [noisy_mean(i) for i in ITEMS]
    with SerialExecutor() as ex:
        assert ex.map(noisy_mean, ITEMS) == expected
    with ProcessExecutor(2, max_in_flight=3) as ex:
        assert ex.map(noisy_mean, ITEMS) == expected
        got = dict(ex.iter_completed(noisy_mean, ITEMS))
        assert sorted(got) == list(range(len(ITEMS)))
        assert [got[i] for i in range(len(ITEMS))] == expected


def test_a_borrowed_pool_gives_the_same_results_and_is_left_running():
    """``ProcessExecutor(pool=...)`` (the decomposition borrows the simulator's kept pool) does not shut it down."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    expected = [noisy_mean(i) for i in ITEMS]
    pool = ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context("spawn"))
    try:
        with ProcessExecutor(2, pool=pool) as ex:
            assert ex.map(noisy_mean, ITEMS) == expected
        assert pool.submit(noisy_mean, ITEMS[0]).result() == expected[0]
    finally:
        pool.shutdown()


def test_an_error_in_a_task_propagates_unchanged():
    with pytest.raises(ZeroDivisionError, match="three"):
        SerialExecutor().map(fails_on_three, range(6))
    with ProcessExecutor(2) as ex:
        with pytest.raises(ZeroDivisionError, match="three"):
            ex.map(fails_on_three, range(6))


def test_unreachable_scheduler_is_one_clear_line():
    pytest.importorskip("distributed")
    with pytest.raises(ExecutorError) as e:
        executors.DaskExecutor("tcp://127.0.0.1:9", timeout=1.0)
    assert len(e.value.problems) == 1
    assert e.value.problems[0].startswith("--scheduler: cannot reach a Dask scheduler at 'tcp://127.0.0.1:9'")


def test_missing_dask_extra_is_one_clear_line(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)   # import distributed -> ImportError
    with pytest.raises(ExecutorError) as e:
        make_executor(scheduler="tcp://127.0.0.1:8786")
    assert len(e.value.problems) == 1
    assert "dask.distributed is not installed" in e.value.problems[0]
    assert 'pip install "grassroots-talent[dask]"' in e.value.problems[0]


@pytest.fixture(scope="module")
def dask_cluster():
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       host="127.0.0.1", dashboard_address=None)
    try:
        yield cluster
    finally:
        cluster.close()


def test_dask_equals_serial_and_processes(dask_cluster):
    expected = [noisy_mean(i) for i in ITEMS]
    with make_executor(scheduler=dask_cluster.scheduler_address) as ex:
        assert ex.describe()["kind"] == "dask" and ex.describe()["workers"] == 2
        assert ex.map(noisy_mean, ITEMS) == expected
        with pytest.raises(ZeroDivisionError, match="three"):
            ex.map(fails_on_three, range(6))


def test_sensitivity_study_identical_on_every_executor(dask_cluster):
    pytest.importorskip("SALib")
    from grassroots.studies import sensitivity as sa
    params = [sa.Parameter(f"x{i}", -math.pi, math.pi) for i in (1, 2, 3)]

    def study(ex):
        return sa.Study(params, "sobol", 64, model=sa.ishigami, seed=11).run(executor=ex)

    serial = study(SerialExecutor())
    with ProcessExecutor(2) as ex:
        local = study(ex)
    with make_executor(scheduler=dask_cluster.scheduler_address) as ex:
        dask = study(ex)
    for other in (local, dask):
        pd.testing.assert_frame_equal(serial.samples_, other.samples_, check_exact=True)
        pd.testing.assert_frame_equal(serial.indices_, other.indices_, check_exact=True)


def test_simulator_study_identical_on_dask_and_serial(dask_cluster):
    pytest.importorskip("SALib")
    pytest.importorskip("simulator")
    import scenarios
    from grassroots.studies import sensitivity as sa
    sc = scenarios.load("baseline")
    params = sa.parse_params(["behaviour.income_coef=0.2:0.5", "behaviour.breach_rate=0.01:0.05"], sc)

    def study(ex):
        return sa.Study(params, "morris", 2, base=scenarios.to_dict(sc), seed=3,
                        options=sa.sim_options(provinces=["64"], years=2, replications=1, seed=3)).run(executor=ex)

    serial = study(SerialExecutor())
    with make_executor(scheduler=dask_cluster.scheduler_address) as ex:
        dask = study(ex)
    pd.testing.assert_frame_equal(serial.samples_, dask.samples_, check_exact=True)
    pd.testing.assert_frame_equal(serial.indices_, dask.indices_, check_exact=True)
