"""The electrothermal solver gives up early on attempts that cannot converge, and still converges.

The monolithic Newton's full-step attempt ends once its residual stays above its start after
``_FULL_STEP_PATIENCE`` iterations, and the staggered solve ends once its changes stop shrinking
(:func:`~devicephys.filament.fem.solve.stalled`); both are then retried as before.
"""

import math

import pytest

from devicephys.filament import simulate as sim
from devicephys.filament.spec import FilamentSpec

solve = pytest.importorskip("devicephys.filament.fem.solve")


def test_stall_rule_on_known_sequences():
    # a contraction that falls into a 2-cycle, as the failing staggered solves of the fast preset's sweep do
    cycle = [1.6e4, 3.3e4, 2.2e4, 21.0, 1.5, 1.1, 1.4, 1.1, 1.4, 1.1]
    assert not solve.stalled(cycle[:7])  # too few sweeps to judge
    assert solve.stalled(cycle[:8])
    # a linear contraction at 0.8 per sweep (0.64 over two) keeps going; at 0.97 per sweep it is given up
    assert not any(solve.stalled([1e3 * 0.8 ** k for k in range(n)]) for n in range(1, 40))
    assert solve.stalled([1e3 * 0.97 ** k for k in range(8)])


def test_failed_attempts_end_early_and_the_step_converges():
    """A step of the default cell's fast sweep where the monolithic full-step Newton fails: the rising ramp
    just after the first set.  Every failed full-step attempt ends within the patience (or by SNES's own
    divergence test), and each staggered solve that fails ends within _STALL_AFTER sweeps."""
    spec = FilamentSpec.fast()
    model = sim.CellModel(spec)
    wave = sim.triangle(spec.sweep_voltage, spec.sweep_time)
    et = model.et
    attempts = []
    original = solve._snes_solve

    def record(problem):
        original(problem)
        if problem is et.problem:
            attempts.append((problem.solver.getLineSearch().getType(), list(et._norms),
                             problem.solver.getConvergedReason()))

    staggered = []
    plain = et._staggered

    def record_staggered(*args, **kwargs):
        ok = plain(*args, **kwargs)
        staggered.append((ok, len(et.sweep_changes)))
        return ok

    et._staggered = record_staggered
    solve._snes_solve = record
    try:
        trace = sim.run_drive(model, wave, 0.3 * spec.sweep_time, dt_max=spec.sweep_time * spec.max_step_fraction)
    finally:
        solve._snes_solve = original
    full_failed = [norms for kind, norms, reason in attempts if kind == "basic" and reason <= 0]
    assert full_failed, "the drive should reach states where full Newton steps fail"
    patience = solve._FULL_STEP_PATIENCE
    for norms in full_failed:  # ended at the patience, or ran on only while its residual stayed below its start
        if len(norms) - 1 > patience:
            assert max(norms[patience:-1]) <= norms[0]
    ended = sum(len(norms) - 1 <= patience for norms in full_failed)
    print(f"{len(full_failed)} failed full-step attempts, {ended} ended within {patience} iterations; "
          f"{et.stats['staggered_stalled']} staggered solves given up as stalled")
    # a staggered solve that fails has stopped by the stall rule (or earlier), not after max_sweeps
    assert all(n <= solve._STALL_AFTER for ok, n in staggered if not ok), staggered
    assert et.stats["failed_solves"] == 0
    assert math.isfinite(trace.array("current")[-1])
