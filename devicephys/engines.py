"""Checks that the external engines (DOLFINx/PETSc, MEEP, ngspice, Brian2) work.

Each ``check_*`` function runs a tiny real computation in the calling process
and returns a dict with ``version`` and ``detail``; it raises on failure.
:func:`report` runs each check in a subprocess so that one broken engine
cannot take the others down, and is what ``devicephys info`` prints.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path


def check_dolfinx() -> dict:
    """Solve -Δu = 1 on a 4x4 unit square with u = 0 on the boundary."""
    import dolfinx_solver  # noqa: F401  (loads MPI before dolfinx and petsc4py)
    import dolfinx
    import numpy as np
    import ufl
    from dolfinx import fem, mesh
    from dolfinx.fem.petsc import LinearProblem
    from mpi4py import MPI
    from petsc4py import PETSc

    domain = mesh.create_unit_square(MPI.COMM_SELF, 4, 4)
    V = fem.functionspace(domain, ("Lagrange", 1))
    u, v = ufl.TrialFunction(V), ufl.TestFunction(V)
    facets = mesh.locate_entities_boundary(domain, 1, lambda x: np.full(x.shape[1], True))
    bc = fem.dirichletbc(0.0, fem.locate_dofs_topological(V, 1, facets), V)
    problem = LinearProblem(ufl.inner(ufl.grad(u), ufl.grad(v)) * ufl.dx, 1.0 * v * ufl.dx, bcs=[bc],
                            petsc_options_prefix="dp_check_", petsc_options={"ksp_type": "preonly", "pc_type": "lu"})
    uh = problem.solve()
    peak = float(uh.x.array.max())
    version = ".".join(str(x) for x in PETSc.Sys.getVersion())
    return {"version": dolfinx.__version__, "petsc": version, "detail": f"Poisson on 4x4 mesh, max u = {peak:.4f}"}


def check_meep() -> dict:
    """A 1-D vacuum cell with a Gaussian source, run for 10 time units."""
    import meep as mp

    mp.verbosity(0)
    sim = mp.Simulation(cell_size=mp.Vector3(0, 0, 4), resolution=10, dimensions=1,
                        boundary_layers=[mp.PML(1)],
                        sources=[mp.Source(mp.GaussianSource(1.0, fwidth=0.5), mp.Ex, mp.Vector3())])
    sim.run(until=10)
    field = abs(sim.get_field_point(mp.Ex, mp.Vector3(0, 0, 0.5)))
    return {"version": mp.__version__, "detail": f"1-D pulse, |Ex| at 0.5 = {field:.3e}"}


def ngspice_executable() -> str | None:
    return shutil.which("ngspice")


def check_ngspice() -> dict:
    """A 1 V source over a 1 kΩ / 1 kΩ divider: the midpoint must read 0.5 V."""
    exe = ngspice_executable()
    if exe is None:
        raise RuntimeError("ngspice not found on PATH; install the Debian package 'ngspice' (make setup)")
    netlist = "divider\nV1 a 0 1\nR1 a b 1k\nR2 b 0 1k\n.op\n.control\nop\nprint v(b)\n.endc\n.end\n"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "divider.cir"
        path.write_text(netlist)
        out = subprocess.run([exe, "-b", str(path)], capture_output=True, text=True, timeout=60)
    match = re.search(r"v\(b\)\s*=\s*([-+0-9.eE]+)", out.stdout)
    if not match:
        raise RuntimeError(f"ngspice ran but printed no v(b): {out.stdout[-300:]} {out.stderr[-300:]}")
    banner = subprocess.run([exe, "-v"], capture_output=True, text=True, timeout=30)
    version = re.search(r"ngspice-(\S+)", banner.stdout + banner.stderr)
    return {"version": version.group(1) if version else "?", "detail": f"divider v(b) = {float(match.group(1)):.4f} V"}


def check_brian2() -> dict:
    """Integrate one leaky neuron for 1 ms with Brian2's numpy target."""
    import brian2 as b2

    b2.prefs.codegen.target = "numpy"
    b2.start_scope()
    group = b2.NeuronGroup(1, "dv/dt = (1 - v)/(10*ms) : 1", method="exact")
    b2.run(1 * b2.ms)
    return {"version": b2.__version__, "detail": f"LIF v(1 ms) = {float(group.v[0]):.4f}"}


CHECKS = {"dolfinx": check_dolfinx, "meep": check_meep, "ngspice": check_ngspice, "brian2": check_brian2}


def report(timeout: float = 120.0) -> dict[str, dict]:
    """Run every check in its own subprocess; return {engine: {ok, version, detail}}."""
    out = {}
    for name in CHECKS:
        code = f"import json, devicephys.engines as e; print('@@' + json.dumps(e.CHECKS[{name!r}]()))"
        try:
            proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            out[name] = {"ok": False, "detail": f"check timed out after {timeout:.0f} s"}
            continue
        line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("@@")), None)
        if proc.returncode == 0 and line:
            out[name] = {"ok": True, **json.loads(line[2:])}
        else:
            last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            out[name] = {"ok": False, "detail": last}
    return out
