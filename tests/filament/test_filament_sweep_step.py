"""The stage's note on a sweep whose largest step is longer than the Gibbs-Thomson dissolution time."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from devicephys.filament.kinetics import HoppingLaw
from devicephys.filament.spec import FilamentSpec
from devicephys.filament.stage import SWEEP_STEP_DISSOLUTIONS, sweep_step_note

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _k_d(spec) -> float:
    # k_d = nu_d exp(-E_d / k_B T) at the ambient temperature, from the spec's own numbers
    k_b = 1.380649e-23
    return spec.dissolution_frequency * math.exp(-spec.dissolution_barrier / (k_b * spec.ambient_temperature))


def test_the_dissolution_time_is_the_hopping_laws():
    spec = FilamentSpec.fast()
    assert float(HoppingLaw.from_spec(spec).dissolution_rate(spec.ambient_temperature)) == pytest.approx(_k_d(spec),
                                                                                                        rel=1e-12)
    assert 1 / _k_d(spec) == pytest.approx(54.4e-6, rel=1e-2)  # docs/limitations.md's 54 us at 300 K


def test_the_fast_sweep_and_the_slow_sweep_example_are_not_noted():
    fast = FilamentSpec.fast()
    assert _k_d(fast) * fast.sweep_time * fast.max_step_fraction < SWEEP_STEP_DISSOLUTIONS  # 0.046
    assert sweep_step_note(fast) is None
    assert sweep_step_note(FilamentSpec()) is None  # the full preset: 1/200 of 200 us
    slow = FilamentSpec.fast().model_copy(update=FilamentSpec.from_file(EXAMPLES / "slow_sweep.yaml")
                                          .model_dump(exclude_unset=True))
    assert slow.sweep_time == 2e-2 and slow.max_step_fraction == 1.25e-3
    assert sweep_step_note(slow) is None  # 25 us: k_d dt = 0.46


def test_a_slow_sweep_on_the_fast_presets_step_is_noted_with_its_fix():
    spec = FilamentSpec.fast().model_copy(update={"sweep_time": 2e-2})  # 250 us steps
    note = sweep_step_note(spec)
    k_dt = _k_d(spec) * 2e-2 / 80
    assert k_dt == pytest.approx(4.6, rel=0.01)
    assert note is not None and f"{k_dt:.3g} Gibbs-Thomson" in note
    fix = float(note.rsplit("<= ", 1)[1])
    assert fix == pytest.approx(1 / (_k_d(spec) * 2e-2), rel=1e-2)
    assert sweep_step_note(spec.model_copy(update={"max_step_fraction": fix * 0.99})) is None


def test_the_rising_ramp_warns_before_it_runs_a_coarsely_stepped_sweep(monkeypatch, capsys):
    """``stage.rising_ramp_threshold`` (studies 12, 13, 17) gives the same note as a warning line, before the
    ramp's model is built; a ramp within the bound gives none."""
    from devicephys.filament import simulate, stage

    class Built(Exception):
        pass

    def built(spec):
        raise Built

    monkeypatch.setattr(simulate, "CellModel", built)
    coarse = FilamentSpec.fast().model_copy(update={"sweep_time": 2e-3, "max_step_fraction": 0.05})
    for spec, noted in ((coarse, True), (FilamentSpec.fast(), False)):
        with pytest.raises(Built):
            stage.rising_ramp_threshold(spec, desc="ramp")
        err = capsys.readouterr().err
        assert (f"warning: ramp: {sweep_step_note(spec)}" in err) if noted else ("warning" not in err)
