"""A dropped cell model gives back what it holds: its mesh and the MPI communicators DOLFINx made for it.

MPI offers a process a fixed number of communicators (MPICH: 2048 context ids); a mesh and its function spaces take
about twenty.  A model kept alive after its last use (a PETSc callback holding it: PETSc keeps its callbacks where
Python's garbage collector cannot see them) would exhaust them after about a hundred models in one process, and
the next mesh would abort the process (MPI_ERR_OTHER).  Counted here by duplicating the world communicator until
MPI refuses.
"""

from __future__ import annotations

import gc

import pytest

pytest.importorskip("dolfinx_solver")

from devicephys.filament import simulate as sim  # noqa: E402  (loads MPI, then DOLFINx)
from devicephys.filament import stage  # noqa: E402
from devicephys.filament.spec import FilamentSpec  # noqa: E402

pytestmark = pytest.mark.fem


def free_communicators() -> int:
    """How many more communicators this process can make now."""
    from mpi4py import MPI

    world = MPI.COMM_WORLD
    previous = world.Get_errhandler()
    world.Set_errhandler(MPI.ERRORS_RETURN)
    made = []
    try:
        while len(made) < 100000:
            made.append(world.Dup())
    except MPI.Exception:
        pass
    finally:
        for c in made:
            c.Free()
        world.Set_errhandler(previous)
        previous.Free()
    return len(made)


def test_a_dropped_cell_model_gives_back_its_communicators():
    spec = FilamentSpec.fast().model_copy(update={"field_snapshots": 0, "set_time_limit": 2e-6,
                                                  "ion_compensation": 0.99})
    gc.collect()
    before = free_communicators()
    model = sim.CellModel(spec)
    stage._constant_set(model, spec, 1.0, "", False)  # Newton solves, the ions' Poisson solves, the coupled transport
    held = free_communicators()
    assert held < before  # the model's mesh holds some while it lives
    del model
    gc.collect()
    assert free_communicators() == before
