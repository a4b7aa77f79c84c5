"""Time integration of the coupled cell: 2-D electrothermal FEM + 1-D channel transport.

Each time step (staggered): the channel transport advances c with the axial
field and temperature of the previous step; c is mapped onto the 2-D mesh
(c(z); the medium confines it to the channel radius); then φ and T are
solved together by Newton at the new time.  With c, the channel's lumped gap
conductance is updated once per step from the filament's shape
(:class:`~devicephys.filament.conduction.ChannelConduction`: Simmons tunnelling
across the gap, in series with the Landauer contact of the narrowest
cross-section); the gap's voltage is the last solution's, scaled by the change of
the source voltage.  Every accepted step checks the peak temperature against the
filament metal's melting point and the insulator's thermal limit
(``FilamentSpec.temperature_limits``: warn or stop).  The step is adaptive: it is
rejected and halved when c would change by more than
``max_concentration_change`` or the temperature by more than 200 K, or when
Newton fails; it grows by 1.5x after easy steps.  With ``step_error_tolerance``
each step's local truncation error is estimated as well (:mod:`devicephys.filament.stepping`):
a step above the tolerance is rejected and the next step is chosen from the estimate (while
the channel has a gap, or always with ``step_error_scope: all``).  Steps shorter than
``min_step_fraction`` of the drive are accepted whenever Newton converges: the
ON state flickers (the neck dissolves and is refilled) on time scales far
below the drive's, and resolving each flicker is not affordable; the traces
then show the flicker averaged over that step.  The set is the exception
(:func:`set_floor`): it is a runaway (a shorter gap takes a larger field and
grows faster), which backward Euler at a forced step damps, so drives that time
the set may floor the step at ``min_step_fraction`` of the time elapsed instead
(``FilamentSpec.resolve_set``).  Below ``min_time_step`` a
:class:`~devicephys.errors.ConvergenceError` is raised (the caller saves what
was reached first).
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from scipy.constants import N_A
from scipy.optimize import brentq

from devicephys import materials
from devicephys.errors import ConvergenceError, SpecError
from devicephys.filament import electrochem, kinetics, stepping
from devicephys.filament.conduction import ChannelConduction
from devicephys.filament.mesh import CellGeometry

_MAX_DT_GROWTH = 1.5
_MAX_TEMPERATURE_JUMP = 200.0  # K per step
_GAP_VOLTAGE_TOL = 1e-12  # [V] the gap voltage consistent with the series circuit, to this accuracy
#: Occupancy above 1 by more than this counts as over-filled (rounding of the lattice-gas step) [1].
_OCCUPANCY_TOL = 1e-6
_NUCLEATION_OVERSHOOT = 0.02  # [1] the step that nucleates ends within this share of t_nuc after the nucleation


def _over_capacity(pool: float, capacity: float | None) -> bool:
    """Whether a dissolved pool ``pool`` [1 per channel volume] exceeds ``capacity`` (None: no capacity)."""
    return capacity is not None and pool > capacity * (1.0 + _OCCUPANCY_TOL)


TRACE_NAMES = ("time", "source_voltage", "voltage", "current", "temperature_max", "gap", "filament_radius", "energy")


@dataclass
class Trace:
    """Samples of one drive (SI): lists named as in :data:`TRACE_NAMES`."""

    data: dict[str, list[float]] = field(default_factory=lambda: {n: [] for n in TRACE_NAMES})
    #: (gap [m], cell voltage [V], current [A]) of a read at the drive's end (the stage's relaxation), or None
    read: tuple[float, float, float] | None = None

    def append(self, **values: float) -> None:
        for name in TRACE_NAMES:
            self.data[name].append(float(values[name]))

    def array(self, name: str) -> np.ndarray:
        return np.asarray(self.data[name])

    def __len__(self) -> int:
        return len(self.data["time"])


def _capillary(spec) -> tuple[float, float] | None:
    """(γΩ [J m], channel radius [m]) of the dissolution's Gibbs–Thomson radius dependence
    (``gibbs_thomson_radius``): the filament's interface energy γ [J/m²] (the spec's ``interface_energy``, else the
    active electrode's metal's surface energy) times the metal's atomic volume Ω = M / (ρ N_A) [m³]; None when the
    option is off."""
    if not spec.gibbs_thomson_radius:
        return None
    return _capillary_energy(spec), spec.channel_radius


def _capillary_energy(spec) -> float:
    """γΩ [J m]: the filament's interface energy γ [J/m²] (the spec's ``interface_energy``, else the active
    electrode's metal's surface energy) times the metal's atomic volume Ω = M / (ρ N_A) [m³]."""
    metal = materials.get(spec.active_electrode)
    gamma = spec.interface_energy if spec.interface_energy is not None else metal["surface_energy"]
    return gamma * metal["molar_mass"] / (metal["density"] * N_A)


def _electrode_rest(spec) -> float | None:
    """γΩ / r_ch [J], the channel's Gibbs–Thomson excess over the flat active electrode at rest
    (``active_electrode_equilibrium``); None when the option is off."""
    return _capillary_energy(spec) / spec.channel_radius if spec.active_electrode_equilibrium else None


class CellModel:
    """The default-device cell: mesh, electrothermal problem and channel transport.

    Parameters
    ----------
    spec
        A :class:`~devicephys.filament.spec.FilamentSpec`.
    comm
        MPI communicator (default: COMM_WORLD).
    """

    def __init__(self, spec, comm=None):
        from mpi4py import MPI

        from devicephys.filament.fem import medium, solve

        self.spec = spec
        self.geometry = CellGeometry.from_spec(spec)
        self.data = solve.cell_mesh(self.geometry, comm=comm or MPI.COMM_WORLD)
        self.et = solve.ElectroThermal(self.data, solve.CellMedium(self.data, spec), ambient=spec.ambient_temperature,
                                       series_resistance=spec.series_resistance,
                                       compliance_current=spec.compliance_current,
                                       current_window=(spec.seed_height, spec.insulator_thickness),
                                       newton_rtol=spec.newton_rtol, sink_conductance=spec.sink_conductance)
        self.z_lo, self.z_hi = spec.seed_height, spec.insulator_thickness
        z, _, _ = self.et.axis_values(self.z_lo, self.z_hi)
        self.transport = kinetics.ChannelTransport(z, kinetics.HoppingLaw.from_spec(spec), spec.source_concentration,
                                                   spec.percolation_threshold, exclusion=spec.site_exclusion,
                                                   smooth_neck=spec.neck_drive == "smooth",
                                                   bridged_supply=spec.bridged_supply,
                                                   transfer=(spec.transfer_coefficient if spec.bridged_transfer
                                                             else None),
                                                   capillary=_capillary(spec), electrode_rest=_electrode_rest(spec),
                                                   spread=dict(channel_radius=spec.channel_radius,
                                                               outer_radius=spec.cell_radius,
                                                               first_width=spec.spread_first_width or spec.hop_distance,
                                                               growth=spec.spread_growth,
                                                               plating=spec.counter_plating)
                                                   if spec.dissolved_spread else None)
        #: the points (r, z) [m] beside every axis node at which the matrix's φ and T are read when the dissolved Ag
        #: drifts in the matrix (``spread_drift``; the wall's return field where the FEM's matrix begins, at the cut
        #: edge's outer radius); None: it diffuses only
        self._matrix_points = (np.meshgrid(self.transport.matrix_radii(medium.channel_edge_radius(spec.channel_radius)),
                                           z)
                               if spec.dissolved_spread and spec.spread_drift else None)
        self.peak_occupancy = 0.0  # largest c_i + c_m on the axis over every accepted step [1]
        self.occupancy_time = math.nan  # model time [s] the occupancy first exceeded 1
        #: sites [1 per channel volume] of the matrix's annulus within the return's length ℓ of the channel's wall,
        #: ((r_ch + ℓ)² − r_ch²) / r_ch² (3 for ℓ = r_ch): the one-compartment pool's premise (its Ag returns from
        #: within ℓ) holds while each node's pool fits there at one atom per site; None where no pool returns
        self.pool_capacity = (None if self.transport.spread is not None or self.transport.law.return_length is None
                              else ((spec.channel_radius + self.transport.law.return_length) ** 2
                                    - spec.channel_radius ** 2) / spec.channel_radius ** 2)
        self.peak_pool = 0.0  # largest dissolved pool beside one node over every accepted step [1 per channel volume]
        self.pool_time = math.nan  # model time [s] the pool first exceeded its capacity
        self.conduction = ChannelConduction.from_spec(spec, area=self.et.medium.channel_area)
        self.ionic = electrochem.SeriesCell.from_spec(spec, self.et.medium.channel_area)  # None: no charge transfer
        self.hopping_share = 1.0  # η_hop / V_gap of the last step [1] (1 without charge transfer)
        self.cathode_overpotential = 0.0  # η_fc [V] of the ionic circuit at the last step (0 without it)
        self.anode_overpotential = 0.0  # η_a [V] of the anode's Nernst layer at the last step (anode_nernst; else 0)
        #: the gap voltage is divided between an interface and the hopping (the ionic circuit, or anode_nernst)
        self.divides_gap = self.ionic is not None or spec.anode_nernst
        if spec.anode_nernst and (self.ionic is not None or self.transport.electrode_rest is None):
            raise SpecError("FilamentSpec.anode_nernst = true needs active_electrode_equilibrium: true and no "
                            "exchange_current_density; set those or anode_nernst: false", field="anode_nernst")
        self.nucleation = electrochem.Nucleation.from_spec(spec)  # None: the counter electrode takes ions directly
        self.nucleation_progress = 0.0  # ∫ dt / t_nuc since the cathode last lost its nucleus [1]
        self.nucleated = self.nucleation is None  # the cathode takes ions
        self.nucleus_stable = False  # the cathode's node has held the N_c + 1 atoms of a stable cluster
        self.nucleation_time = math.nan  # model time [s] of the last nucleation
        if self.nucleation is not None:
            metal = materials.get(spec.active_electrode)
            atom = metal["molar_mass"] / (metal["density"] * N_A)  # [m³]
            self.cluster_fraction = self.nucleation.cluster_fraction(
                self.transport.volume[-1] * self.et.medium.channel_area, atom)
        self._source = 0.0  # source voltage [V] of the last accepted step (predicts the gap's voltage)
        self._field_source: float | None = 0.0  # source voltage [V] that φ was solved at (None: unknown)
        self.limits = temperature_limits(spec)
        self.peak_temperature = spec.ambient_temperature  # over every accepted step of every drive [K]
        self.limits_reached: dict[str, float] = {}        # limit name -> model time [s] it was first reached
        self.c_i = np.zeros_like(z)  # mobile Ag+ fraction on the axis nodes
        self.c = np.zeros_like(z)    # metallic Ag fraction (sets σ) on the axis nodes
        self.c_s = self.transport.empty_pool()  # Ag dissolved sideways into the matrix (per node, or node x shell)
        self.time = 0.0
        self.energy = 0.0
        self._power: float | None = None  # Joule power [W] of the last accepted state (None: not yet evaluated)
        self.forced_steps = 0  # steps taken at the step floor although c changed by more than allowed
        self.rejected_steps = 0
        self.rejection = ""  # why the last step was rejected: solve, temperature, concentration, transport, nucleation,
        #                      coupling
        self.split_error = 0.0  # splitting error [1] of the last step (coupling_tolerance; 0 when not checked)
        self.step_error = 0.0  # estimated relative local error [1] of the last step's Ag fractions
        #                        (step_error_tolerance; 0: not estimated)
        #: ((c_i, c, c_s) [1] of the accepted state before this one, joined, and the step [s] from it to this one): the
        #: local error's predictor; None after a restore, a perturbation or a frozen step (the next step is not estimated)
        self._history: tuple[np.ndarray, float] | None = None
        #: one Ag atom per node [1], for c_i, c and c_s joined: the local error is relative to each fraction down to it
        atom = self.atom_fraction()
        self._error_floor = np.concatenate((atom, atom, np.repeat(atom, self.c_s.size // atom.size)))
        self.et.stats["error_rejected_steps"] = 0  # steps rejected for their local error (step_error_tolerance)
        self.et.stats["coupling_rejected_steps"] = 0  # steps rejected for their splitting error (coupling_tolerance)
        self.et.stats["coupling_iterations"] = 0  # the fields solved again on the Ag of the step's end
        self.min_time_step = math.inf  # smallest accepted step [s]
        self.warnings: dict[str, str] = {}  # the warning printed when a limit (or occupancy > 1) was first reached
        self._ion_potential = None  # the ions' Poisson problem (ion_potential), built on first use
        self._green: tuple[bytes, np.ndarray] | None = None  # (grounded metal's key, ion_green) last computed
        self._sync_concentration()

    # -- state ------------------------------------------------------------------
    @property
    def unknowns(self) -> int:
        """Number of global unknowns (φ and T on the mesh, c on the axis)."""
        return 2 * self.et.V.dofmap.index_map.size_global + 2 * self.c.size

    def solver_statistics(self) -> dict[str, float]:
        """Counts over every drive of this model: Newton work, fallbacks, forced and rejected steps, smallest step [s].

        ``forced_steps``, ``unconverged_accepted`` and ``staggered_fallbacks`` are the fallbacks that
        replace the physics' own acceptance test; the joint audit reports them.  ``staggered_first``
        counts the solves that took the staggered path first because the step before needed the
        fallback (the same equations to the same tolerance; not a fallback); ``staggered_sweeps`` the
        staggered solves' sweeps (one Newton step for φ and one for T each); ``staggered_stalled`` the staggered solves
        given up before their last sweep because their changes stopped shrinking; ``circuit_starts`` the solves that
        converged only from the source circuit's operating point (a sharp compliance; the same acceptance);
        ``newton_iterations_failed`` the monolithic Newton iterations spent in attempts that did not converge and
        were retried (backtracking, then the staggered solve): the work the fallbacks cost; ``coupling_rejected_steps``
        the steps rejected for their splitting error and ``coupling_iterations`` the fields solved again on the Ag
        of a step's end (``coupling_tolerance``, ``coupling_iterations``).
        """
        stats = {f"solver_{k}": int(v) for k, v in self.et.stats.items()}
        stats.update(solver_forced_steps=int(self.forced_steps), solver_rejected_steps=int(self.rejected_steps),
                     solver_min_time_step=float(self.min_time_step))
        return stats

    def counters(self) -> dict:
        """What the model accumulates over its drives (solver counts, forced and rejected steps, smallest step,
        peak temperature and the limits reached, peak occupancy), for :meth:`absorb` into another model."""
        return {"stats": dict(self.et.stats), "forced_steps": self.forced_steps, "rejected_steps": self.rejected_steps,
                "min_time_step": self.min_time_step, "peak_temperature": self.peak_temperature,
                "limits_reached": dict(self.limits_reached), "peak_occupancy": self.peak_occupancy,
                "occupancy_time": self.occupancy_time, "peak_pool": self.peak_pool, "pool_time": self.pool_time,
                "warnings": dict(self.warnings)}

    def reset_counters(self) -> None:
        """Start the accumulations of :meth:`counters` afresh (the state is kept)."""
        self.et.stats = dict.fromkeys(self.et.stats, 0)
        self.forced_steps = self.rejected_steps = 0
        self.min_time_step = math.inf
        self.peak_temperature = self.spec.ambient_temperature
        self.limits_reached, self.warnings = {}, {}
        self.peak_occupancy, self.occupancy_time = 0.0, math.nan
        self.peak_pool, self.pool_time = 0.0, math.nan

    def absorb(self, other: dict) -> None:
        """Add the :meth:`counters` of drives run elsewhere (another process, the same spec) as if they had
        run on this model now: counts add up, extremes combine, a limit or the occupancy's excess keeps the
        time it was first reached here, and the warnings of what is newly reached are printed as then."""
        for k, v in other["stats"].items():
            self.et.stats[k] = self.et.stats.get(k, 0) + v
        self.forced_steps += other["forced_steps"]
        self.rejected_steps += other["rejected_steps"]
        self.min_time_step = min(self.min_time_step, other["min_time_step"])
        self.peak_temperature = max(self.peak_temperature, other["peak_temperature"])
        fresh = [n for n in other["limits_reached"] if n not in self.limits_reached]
        over = self.peak_occupancy > 1.0 + _OCCUPANCY_TOL
        if other["peak_occupancy"] > 1.0 + _OCCUPANCY_TOL and not over:
            self.occupancy_time = other["occupancy_time"]
            fresh.append("occupancy")
        self.peak_occupancy = max(self.peak_occupancy, other["peak_occupancy"])
        capacity = self.pool_capacity
        if _over_capacity(other["peak_pool"], capacity) and not _over_capacity(self.peak_pool, capacity):
            self.pool_time = other["pool_time"]
            fresh.append("pool")
        self.peak_pool = max(self.peak_pool, other["peak_pool"])
        for name in fresh:
            if name not in ("occupancy", "pool"):
                self.limits_reached[name] = other["limits_reached"][name]
            self._warn(name, other["warnings"][name])

    def _warn(self, key: str, text: str) -> None:
        """Keep ``text`` under ``key`` (a limit's name, "occupancy" or "pool") and print it on rank 0."""
        self.warnings[key] = text
        if self.data.domain.comm.rank == 0:
            print(f"warning: {text}", file=sys.stderr, flush=True)

    def state(self) -> tuple:
        """A copy of everything that evolves (for restarts)."""
        return (self.c_i.copy(), self.c.copy(), self.c_s.copy(), self.et.phi.x.array.copy(),
                self.et.T.x.array.copy(), self.time, self.energy,
                (self.nucleation_progress, self.nucleated, self.nucleus_stable, self.nucleation_time))

    def restore(self, state: tuple) -> None:
        c_i, c, c_s, phi, T, self.time, self.energy, nucleus = state
        self.nucleation_progress, self.nucleated, self.nucleus_stable, self.nucleation_time = nucleus
        self.c_i, self.c, self.c_s = c_i.copy(), c.copy(), c_s.copy()
        self.et.phi.x.array[:] = phi
        self.et.T.x.array[:] = T
        self.et.accept()
        self.et.forget_fallback()  # a restored state starts on the monolithic Newton path
        self._history = None
        self._source = 0.0
        self._field_source = None  # the stored φ's bias is not known: the next drive solves it at its own
        self._power = None
        self._sync_concentration()

    def _ion_poisson(self):
        """The ions' Poisson problem (:class:`~devicephys.filament.fem.space_charge.IonPotential`), built on first
        use, and Ω [m³], the active electrode's atomic volume."""
        if self._ion_potential is None:
            from devicephys.filament.fem import space_charge

            eps_r = materials.get(self.spec.insulator)["relative_permittivity"]
            self._ion_potential = space_charge.IonPotential(self.data, eps_r, self.et.medium.in_channel,
                                                            (self.z_lo, self.z_hi), self.spec.channel_radius)
        metal = materials.get(self.spec.active_electrode)
        return self._ion_potential, metal["molar_mass"] / (metal["density"] * N_A)

    def ion_green(self, c_m: np.ndarray | None = None) -> np.ndarray:
        """G [V per unit fraction] (nodes × nodes): ψ on the axis nodes of a unit ion fraction at each node (its hat
        in z, the channel's radial profile), all conductors grounded, the filament's metal of ``c_m`` (default: the
        state's) among them.  One Poisson solve per node; kept until the grounded metal changes."""
        poisson, atom = self._ion_poisson()
        c_m = self.c if c_m is None else c_m
        metal = np.asarray(c_m >= self.spec.percolation_threshold)
        key = metal.tobytes()
        if self._green is not None and self._green[0] == key:
            return self._green[1]
        z = self.transport.z
        G = np.empty((z.size, z.size))
        for j in range(z.size):
            unit = np.zeros(z.size)
            unit[j] = 1.0
            z_axis, psi = poisson.solve(z, unit, atom, metal)
            G[:, j] = np.interp(z, z_axis, psi)
        self._green = (key, G)
        return G

    def _set_ion_field(self) -> None:
        """The transport's :attr:`~devicephys.filament.kinetics.ChannelTransport.green` for the step from the
        state: the ions' own potential times the uncompensated share (1 − ``ion_compensation``); None without it."""
        f = self.spec.ion_compensation
        self.transport.green = None if f is None else (1.0 - f) * self.ion_green()

    def ion_potential(self) -> tuple[np.ndarray, np.ndarray]:
        """(z [m], ψ [V]) along the channel's axis: the potential of the mobile ions' own charge, all conductors
        (electrodes, and the filament's metal that touches one) at 0 V (:mod:`~devicephys.filament.fem.space_charge`).

        The transport drifts its ions in the applied bias's field alone; ψ is what their charge, taken uncompensated,
        adds to it.  Compare it with :meth:`channel_voltage`: the charge-free drift holds where ψ is small against
        it.  One linear solve (the operator refactored when the filament's metal moves).
        """
        poisson, atom = self._ion_poisson()
        return poisson.solve(self.transport.z, self.c_i, atom, self.c >= self.spec.percolation_threshold)

    def channel_voltage(self) -> float:
        """|φ(seed tip) − φ(counter electrode)| [V] along the channel's axis: the voltage the ions' drift crosses
        (the ionic interfaces' share included where the gap is divided)."""
        _, phi, _ = self.et.axis_values(self.z_lo, self.z_hi)
        return float(abs(phi[0] - phi[-1]))

    def atom_fraction(self) -> np.ndarray:
        """Change [1] of each axis node's Ag fraction by one Ag atom: Ω / (A_ψ ℓ_k), with Ω the atomic volume of
        the active electrode's metal, A_ψ the channel's cross-section and ℓ_k the node's share of the axis."""
        metal = materials.get(self.spec.active_electrode)
        atom = metal["molar_mass"] / (metal["density"] * N_A)  # [m³]
        return atom / (self.et.medium.channel_area * self.transport.volume)

    def perturb_silver(self, rng: np.random.Generator, atoms: float = 1.0) -> float:
        """Move metallic Ag between the channel's nodes by a random number of atoms; returns the largest change of c.

        Each node's metal c changes by ξ_k ``atoms`` atoms (ξ standard normal, cut at ±3), less the volume-weighted
        mean over the nodes changed, so the total Ag is conserved to rounding.  Only nodes whose metal and free
        fraction both exceed eight times the change are moved (no bound is touched).  The continuum state stands
        for a discrete one known to about an atom per node: replicas of a drive from such states show how far
        trajectories from states that close part (the hold-window study's replicas).  ``rng`` draws
        identically on every rank (the axis fields are replicated), so the ranks stay in step.
        """
        step = atoms * self.atom_fraction()
        movable = (self.c >= 8 * step) & (1.0 - self.c_i - self.c >= 8 * step)
        xi = np.clip(rng.standard_normal(self.c.size), -3.0, 3.0)
        if np.count_nonzero(movable) < 2:
            return 0.0
        vol = self.transport.volume
        delta = np.where(movable, xi * step, 0.0)
        delta[movable] -= np.dot(vol[movable], delta[movable]) / vol[movable].sum()
        self.c = self.c + delta
        self._history = None
        self._sync_concentration()
        return float(np.max(np.abs(delta)))

    def _sync_concentration(self, c: np.ndarray | None = None, source_voltage: float | None = None) -> None:
        c = self.c if c is None else c
        zn, zaxis = self.transport.z, self.data.domain.geometry.dim - 1
        self.et.set_concentration(lambda x: np.interp(x[zaxis], zn, c))  # c(z); the medium confines it to r < r_ch
        self._sync_gap(c, source_voltage)

    def _sync_gap(self, c: np.ndarray, source_voltage: float | None) -> None:
        """σ_t of the medium from the profile ``c`` [1] at the gap voltage predicted for ``source_voltage`` [V]."""
        gap = kinetics.gap_length(self.transport.z, c, self.spec.percolation_threshold)
        voltage = 0.0
        if gap > 0.0 and source_voltage is not None and source_voltage != 0.0 and self._source != 0.0:
            voltage = self._consistent_gap_voltage(c, gap, abs(source_voltage))
        elif gap > 0.0:
            _, phi, _ = self.et.axis_values(self.z_lo, self.z_hi)
            voltage = abs(phi[0] - phi[-1])  # across the channel at the last solution (the gap's share in OFF)
            if source_voltage is not None and self._source != 0.0:
                voltage *= abs(source_voltage / self._source)
            elif source_voltage is not None:
                voltage = abs(source_voltage)  # from rest: an open gap takes the source voltage
            if source_voltage is not None:
                voltage = min(voltage, abs(source_voltage))
        self.et.medium.gap_conductivity.value = self.conduction.gap_conductivity(self.transport.z, c, gap, voltage)

    def _consistent_gap_voltage(self, c: np.ndarray, gap: float, source: float) -> float:
        """Gap voltage [V] consistent with the gap's own conductance in the lumped series circuit.

        The source (``source`` [V]) drives, through R_s and the compliance I_cc, the cell's resistance
        outside the channel (from the last solution) in series with the gap, G_gap(V) V = I.  The
        current drawn by the gap rises with V while the current the circuit supplies falls, so the
        root in [0, source] is unique and bracketed; Brent's method finds it to 1e-12 V in about ten
        Simmons integrals (bisection to double precision took 60 per time step).
        """
        _, phi, _ = self.et.axis_values(self.z_lo, self.z_hi)
        v_ch, i_last, v_cell = abs(phi[0] - phi[-1]), abs(self.et.current()), abs(self.et.cell_voltage())
        r_other = max(v_cell - v_ch, 0.0) / i_last if i_last > 0.0 else 0.0
        r_s, i_cc = self.spec.series_resistance, self.spec.compliance_current

        def supplied(v_cell_now: float) -> float:
            if not math.isfinite(i_cc):
                return (source - v_cell_now) / r_s
            x = (source - v_cell_now) / (i_cc * r_s)
            return i_cc * x / math.sqrt(1.0 + x * x)

        def excess(v: float) -> float:  # < 0 at v = 0 (the circuit supplies current), > 0 at v = source
            i = self.conduction.gap_conductance(gap, v, c)[0] * v
            return i - supplied(v + i * r_other)

        hi = excess(source)
        if hi <= 0.0:
            return source
        return float(brentq(excess, 0.0, source, xtol=_GAP_VOLTAGE_TOL, rtol=4 * np.finfo(float).eps))

    def _weight(self, c: np.ndarray, E: np.ndarray | None = None, T: np.ndarray | None = None,
                nucleated: bool = True) -> np.ndarray:
        return self.transport.reduction_weight(c, self.spec.percolation_threshold, E, T, nucleated=nucleated)

    def _rates(self, c: np.ndarray, E: np.ndarray, phi: np.ndarray, T: np.ndarray, nucleated: bool,
               matrix: tuple[np.ndarray, np.ndarray] | None) -> tuple[np.ndarray, np.ndarray | None]:
        """(reduction weight [1], dissolution factor [1] or None) of the channel's step: with ``bridged_transfer`` a
        bridged filament's Butler–Volmer charge transfer at each node's overpotential against the matrix one hop
        beyond the wall (``matrix``'s second radius), else :meth:`_weight` and None."""
        factors = None
        if matrix is not None:
            factors = self.transport.transfer_factors(c, self.spec.percolation_threshold, phi, matrix[0][:, 1], T)
        if factors is None:
            return self._weight(c, E, T, nucleated), None
        w, f = factors
        if not nucleated:
            w = w.copy()
            w[-1] = 0.0
        return w, f

    def _nucleation_step(self, dt: float, T_cathode: float) -> tuple[tuple[float, bool, bool, float], bool]:
        """The cathode's nucleus after a step of ``dt`` [s]: ((progress, nucleated, stable, nucleation time [s]),
        overshoot), overshoot True when the step carries the progress more than ``_NUCLEATION_OVERSHOOT``
        past 1 (a step that nucleates should end within that share of t_nuc after the nucleation).

        Before nucleation the progress ∫ dt / t_nuc(η_fc, T) grows at the cathode overpotential of the
        last solution and the cathode node's temperature ``T_cathode`` [K]; it nucleates in the step
        where it reaches 1, at the time interpolated in the step.  A nucleus whose deposit has reached
        the cluster of N_c + 1 atoms and then dissolved below it is lost: the progress starts again.
        """
        progress, nucleated, stable, when = (self.nucleation_progress, self.nucleated, self.nucleus_stable,
                                             self.nucleation_time)
        if nucleated:
            held = self.c[-1] >= self.cluster_fraction
            if stable and not held:
                return (0.0, False, False, when), False
            return (progress, True, stable or held, when), False
        rate = 1.0 / self.nucleation.time(self.cathode_overpotential, T_cathode)
        progress += dt * rate
        if progress < 1.0:
            return (progress, False, False, when), False
        return ((progress, True, False, self.time + dt - (progress - 1.0) / rate),
                progress > 1.0 + _NUCLEATION_OVERSHOOT)

    # -- observables ----------------------------------------------------------
    def gap(self) -> float:
        """Length [m] of the channel below the percolation threshold."""
        return kinetics.gap_length(self.transport.z, self.c, self.spec.percolation_threshold)

    def sample(self, source_voltage: float) -> dict[str, float]:
        et = self.et
        return dict(time=self.time, source_voltage=source_voltage, voltage=et.cell_voltage(), current=et.current(),
                    temperature_max=et.max_temperature(), gap=self.gap(), energy=self.energy,
                    filament_radius=kinetics.filament_radius(self.c, self.spec.percolation_threshold,
                                                             self.spec.channel_radius))

    # -- stepping -------------------------------------------------------------
    def start_drive(self, source_voltage: float) -> None:
        """Solve φ at a drive's starting bias ``source_voltage`` [V] before its first step (silver and T held).

        The channel's step from t_n to t_n+1 drives the ions in the field of the accepted state at t_n.
        A drive that starts with a jump of the source (a constant-voltage set run from rest, a bias
        removed for the relaxation) would otherwise move its ions for the whole first step in the last
        drive's field: at zero field from rest, so every set and nucleation came one first step late.
        The potential is quasi-static (the cell's RC time is below a picosecond), so it is solved at
        the new bias with T as it is.  Nothing is done when φ already belongs to that bias; a failed
        solve keeps the old φ (the first step then lags, as before).
        """
        if self._field_source is not None and source_voltage == self._field_source:
            return
        self._sync_gap(self.c, source_voltage)
        if self.et.solve_potential(source_voltage):
            self._source = self._field_source = source_voltage
            self._power = None
        else:
            self._sync_gap(self.c, None)

    def try_step(self, dt: float, source_voltage: float, *, frozen: bool = False,
                 force: bool = False) -> tuple[bool, float]:
        """Attempt one step of ``dt`` [s]; returns (accepted, largest change of c).

        ``force`` accepts the step whatever the change of c (Newton must still converge).
        """
        if self._power is None:  # the accepted state's power, before its Ag profile changes
            self._power = self.et.joule_power()
        _, phi, T = self.et.axis_values(self.z_lo, self.z_hi)
        E = -np.diff(phi) / self.transport.h
        if self.divides_gap and not frozen:
            E = E * self._gap_share(phi, T)
        nucleus = (self.nucleation_progress, self.nucleated, self.nucleus_stable, self.nucleation_time)
        if self.nucleation is not None and not frozen:
            nucleus, overshoot = self._nucleation_step(dt, float(T[-1]))
            if overshoot and not force:  # at the step floor the cathode takes ions from the step's start
                self.rejection = "nucleation"
                return False, 0.0
        self.step_error = 0.0
        if frozen:
            ci_new, c_new, cs_new, dc = self.c_i, self.c, self.c_s, 0.0
            self._sync_gap(self.c, source_voltage)
        else:
            try:
                matrix = self.matrix_fields()
                w, dissolve = self._rates(self.c, E, phi, T, nucleus[1], matrix)
                self._set_ion_field()
                ci_new, c_new, cs_new = self.transport.step(self.c_i, self.c, self.c_s, E, T, dt, w,
                                                            matrix=matrix, dissolve=dissolve)
            except kinetics.TransportError:  # the channel's Newton did not converge: a shorter step
                self.rejection = "transport"
                return False, math.inf
            dc = self._change(c_new, cs_new)
            if dc > self.spec.max_concentration_change and not force:
                self.rejection = "concentration"
                return False, dc
            # the estimate is the transport's in the fields of the step's start (before any coupling iteration)
            if (self.spec.step_error_tolerance is not None and self._history is not None
                    and (self.spec.step_error_scope == "all" or self.gap() > 0.0)):
                now = _joined(self.c_i, self.c, self.c_s)
                self.step_error = stepping.local_error(_joined(ci_new, c_new, cs_new), now,
                                                       self._history[0], dt, self._history[1], self._error_floor)
                if self.step_error > self.spec.step_error_tolerance and not force:
                    self.rejection = "error"
                    self.et.stats["error_rejected_steps"] += 1
                    return False, dc
            if dc > self.spec.max_concentration_change:  # at the step floor: taken although c changed too much
                self.forced_steps += 1
            self._sync_concentration(c_new, source_voltage)
        t_before = self.et.T.x.array.copy()
        phi_before, p_before = self.et.phi.x.array.copy(), self.et._p_last
        ok = self.et.solve(source_voltage, dt)
        reason = "solve"
        self.split_error = 0.0
        if ok and not force and self.et.temperature_change(t_before) > _MAX_TEMPERATURE_JUMP:
            self.et.T.x.array[:] = t_before
            ok, reason = False, "temperature"
        if ok and not frozen and self.spec.coupling_tolerance is not None:
            end = self._transport_at_end(dt, nucleus[1])
            self.split_error = _split_error(end, c_new)
            last = None  # (iterate, its image) of the iteration before
            for _ in range(self.spec.coupling_iterations):
                if self.split_error <= self.spec.coupling_tolerance or end is None:
                    break
                # the next iterate: the Ag moved in the fields of the step's end, mixed with the iteration before
                now = ((ci_new, c_new, cs_new), end)
                ci_new, c_new, cs_new = _secant_mix(last, now)
                last = now
                self._sync_concentration(c_new, source_voltage)
                self.et.stats["coupling_iterations"] += 1
                ok = self.et.solve(source_voltage, dt)
                if not ok or (not force and self.et.temperature_change(t_before) > _MAX_TEMPERATURE_JUMP):
                    ok, reason = False, "solve" if not ok else "temperature"
                    break
                end = self._transport_at_end(dt, nucleus[1])
                self.split_error = _split_error(end, c_new)
            if ok and self.spec.coupling_iterations:
                dc = self._change(c_new, cs_new)
                if dc > self.spec.max_concentration_change and not force:
                    ok, reason = False, "concentration"
            if ok and self.split_error > self.spec.coupling_tolerance and not force:
                ok, reason = False, "coupling"
                self.et.stats["coupling_rejected_steps"] += 1
            if not ok:  # an iterate failed, moved c too far, or the error stayed above the tolerance: back to the start
                self.et.phi.x.array[:], self.et.T.x.array[:], self.et._p_last = phi_before, t_before, p_before
                self.et.phi.x.scatter_forward()
                self.et.T.x.scatter_forward()
        if not ok:
            self.rejection = reason
            self._sync_concentration()
            return False, dc
        self.et.accept()
        self._history = None if frozen else (_joined(self.c_i, self.c, self.c_s), dt)
        self.c_i, self.c, self.c_s = ci_new, c_new, cs_new
        self.nucleation_progress, self.nucleated, self.nucleus_stable, self.nucleation_time = nucleus
        self.time += dt
        self.min_time_step = min(self.min_time_step, dt)
        power = self.et.joule_power()
        self.energy += 0.5 * dt * (self._power + power)  # trapezoid between the accepted states t_n and t_n+1
        self._power = power
        self._source = self._field_source = source_voltage
        self._check_temperature()
        self._check_occupancy()
        self._check_pool()
        return True, dc

    def _change(self, c_new: np.ndarray, cs_new: np.ndarray) -> float:
        """The step's change [1] that ``max_concentration_change`` limits: :func:`step_change` from the accepted
        state to (``c_new``, ``cs_new``)."""
        pool = self.transport.pool_total if self.spec.pool_change_limit else None
        return step_change(self.c, c_new, self.c_s, cs_new, pool)

    def _transport_at_end(self, dt: float, nucleated: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """The step's channel transport from the accepted state in the fields now held (the step's end): (c_i,
        c, c_s) [1], or None when the channel's Newton does not converge.  The ionic circuit's diagnostics are
        left as they were."""
        _, phi, T = self.et.axis_values(self.z_lo, self.z_hi)
        E = -np.diff(phi) / self.transport.h
        # the gap's share (and the anode's layer) of the step's end serve this transport only
        kept = (self.hopping_share, self.cathode_overpotential, self.anode_overpotential, self.transport.layer)
        try:
            if self.divides_gap:
                E = E * self._gap_share(phi, T)
            matrix = self.matrix_fields()  # in the share of the step's end
            w, dissolve = self._rates(self.c, E, phi, T, nucleated, matrix)
            self._set_ion_field()
            return self.transport.step(self.c_i, self.c, self.c_s, E, T, dt, w, matrix=matrix, dissolve=dissolve)
        except kinetics.TransportError:
            return None
        finally:
            self.hopping_share, self.cathode_overpotential, self.anode_overpotential, self.transport.layer = kept

    def matrix_fields(self) -> tuple[np.ndarray, np.ndarray] | None:
        """(φ [V], T [K]) of the last solution in the matrix beside every axis node (nodes × the transport's
        ``matrix_radii``), φ scaled by the ionic circuit's hopping share as the channel's field is (the rest of the
        gap's voltage drops across the interfaces); None when the dissolved Ag does not drift (``spread_drift``)."""
        if self._matrix_points is None:
            return None
        phi, T = self.et.point_values(*self._matrix_points)
        return phi * (self.hopping_share if self.divides_gap else 1.0), T

    def _gap_share(self, phi: np.ndarray, T: np.ndarray) -> float:
        """The share [1] of the gap voltage that drives the ions through the insulator: the ionic circuit's
        (:meth:`_hopping_share`) or the anode's Nernst layer's (:meth:`_anode_share`)."""
        return self._hopping_share(phi, T) if self.ionic is not None else self._anode_share(phi, T)

    def _anode_share(self, phi: np.ndarray, T: np.ndarray) -> float:
        """(V − η_a) / V [1] with the active electrode's layer in Nernst equilibrium (the spec's ``anode_nernst``).

        The layer's overpotential is c_src's, η_src = k_B T ln(c_src / c_eq) (c_eq the flat electrode's rest
        fraction at the first node's temperature), but at most the gap voltage V = φ_0 − φ_N along the axis: η_a =
        min(η_src, V⁺), and the layer holds c_L = c_eq exp(e η_a / k_B T) (``transport.layer``); the ions hop in
        the rest, V − η_a.  So an ion gains at most e V between the electrodes, drift and layer together: in a
        uniform field the dilute steady state at the cathode is Boltzmann's c_eq exp(e V / k_B T), exactly where the
        layer takes all of V, and with drift to the Mott–Gurney sinh's excess (the first node, on the electrode's
        surface, holds c_L: the ions hop the gap's nodes from there).  Once the filament bridges the bound is lifted
        (share 1, the layer c_src), as the ionic circuit's.  With ``anode_nernst_split`` 'hopping' (the other limit
        of the split) the layer holds none of V: η_a = 0, c_L = c_eq and the share is 1.
        """
        gap = self.gap()
        insulating = self.c < self.spec.percolation_threshold
        voltage = float(phi[0] - phi[-1])
        if gap <= 0.0 or not insulating.any():
            self.transport.layer, self.anode_overpotential, self.hopping_share = None, 0.0, 1.0
            return 1.0
        if self.spec.anode_nernst_split == "hopping":  # a double layer that holds none of V: the electrode's rest
            self.transport.layer, self.anode_overpotential = float(self.transport.rest_fraction(T[0])), 0.0
            self.hopping_share = 1.0
            return 1.0
        self.transport.layer, self.anode_overpotential = kinetics.nernst_layer(
            self.spec.source_concentration, float(self.transport.rest_fraction(T[0])), voltage, float(T[0]))
        eta = self.anode_overpotential
        self.hopping_share = (voltage - eta) / voltage if voltage > 0.0 else 1.0
        return self.hopping_share

    def _hopping_share(self, phi: np.ndarray, T: np.ndarray) -> float:
        """η_hop / V_gap [1] of the ionic series circuit at the last solution (1 once bridged).

        V_gap is the electronic potential across the channel (the metal's own drop is negligible
        against the gap's); the circuit is evaluated at the mean temperature of the channel's
        insulating nodes.  The ions' field in the insulator is the FEM field times this share: the
        rest of V_gap drops across the two interfaces' double layers and drives their charge transfer.
        """
        gap = self.gap()
        insulating = self.c < self.spec.percolation_threshold
        voltage = abs(phi[0] - phi[-1])
        if gap <= 0.0 or not insulating.any() or voltage <= 0.0:
            self.hopping_share, self.cathode_overpotential = 1.0, 0.0
        else:
            _, (_, drop, tip) = self.ionic.solve(voltage, gap, float(np.mean(T[insulating])))
            self.hopping_share, self.cathode_overpotential = drop / voltage, tip
        return self.hopping_share

    def _check_occupancy(self) -> None:
        """Record the channel's peak occupancy c_i + c_m; warn once when it first exceeds one atom per site."""
        peak = float(np.max(self.c_i + self.c))
        if peak > 1.0 + _OCCUPANCY_TOL and self.peak_occupancy <= 1.0 + _OCCUPANCY_TOL:
            self.occupancy_time = self.time
            self._warn("occupancy", f"Ag occupancy c_i + c_m = {peak:.3g} > 1 at t = {self.time:.3g} s of the model: "
                       f"ions pile up beyond one per site, {self._occupancy_cause()}")
        self.peak_occupancy = max(self.peak_occupancy, peak)

    def occupancy_flags(self) -> dict[str, float | str]:
        """Attributes for the result: peak Ag occupancy [1], the model time [s] it first exceeded 1, a warning."""
        over = self.peak_occupancy > 1.0 + _OCCUPANCY_TOL
        return {"silver_occupancy_peak": float(self.peak_occupancy),
                "silver_occupancy_over_one_time_s": float(self.occupancy_time) if over else -1.0,
                "silver_occupancy_warning": (f"Ag occupancy reached {self.peak_occupancy:.3g} > 1: "
                                             f"{self._occupancy_cause()}" if over else "")}

    def _check_pool(self) -> None:
        """Record the largest dissolved pool beside one node; warn once when it first exceeds its capacity."""
        if self.pool_capacity is None:
            return
        node = int(np.argmax(self.c_s))
        peak = float(self.c_s[node])
        capacity = self.pool_capacity
        if _over_capacity(peak, capacity) and not _over_capacity(self.peak_pool, capacity):
            self.pool_time = self.time
            self._warn("pool", f"dissolved Ag beside the axis node at z = {self.transport.z[node]:.3g} m = {peak:.3g} "
                       f"channel volumes at t = {self.time:.3g} s of the model, {self._pool_cause()}")
        self.peak_pool = max(self.peak_pool, peak)

    def _pool_cause(self) -> str:
        """What a pool beyond its capacity means, and what to do."""
        return (f"more than the {self.pool_capacity:.3g} the matrix holds within the return's length of the "
                "channel's wall at one atom per site: the one-compartment pool's premise (its Ag stays within reach "
                "of the return) no longer holds and the result is outside its validity; set dissolved_spread: true "
                "to follow the dissolved Ag through the matrix")

    def pool_flags(self) -> dict[str, float | str]:
        """Attributes for the result: the largest dissolved pool beside one node [1 per channel volume], its
        capacity (NaN without a one-compartment pool), the model time [s] it was first exceeded, a warning."""
        over = _over_capacity(self.peak_pool, self.pool_capacity)
        capacity = math.nan if self.pool_capacity is None else float(self.pool_capacity)
        return {"silver_pool_peak": float(self.peak_pool), "silver_pool_capacity": capacity,
                "silver_pool_over_capacity_time_s": float(self.pool_time) if over else -1.0,
                "silver_pool_warning": (f"dissolved Ag beside one axis node reached {self.peak_pool:.3g} channel "
                                        f"volumes, {self._pool_cause()}" if over else "")}

    def _occupancy_cause(self) -> str:
        """What an occupancy above one atom per site means for this spec's transport, and what to do."""
        if not self.spec.site_exclusion:
            return "outside the dilute transport's validity; set site_exclusion: true for the lattice-gas transport"
        return ("which the lattice gas (site_exclusion: true) should not allow: a node held or fed beyond its free "
                "sites; the result is outside the transport's validity")

    def _check_temperature(self) -> None:
        """Record (and print, once per limit) a peak temperature at a material's limit; stop if the spec says so."""
        t_max = self.et.max_temperature()
        self.peak_temperature = max(self.peak_temperature, t_max)
        for name, (limit, what) in self.limits.items():
            if t_max < limit or name in self.limits_reached:
                continue
            self.limits_reached[name] = self.time
            text = (f"peak temperature {t_max:.0f} K reached {what} ({limit:.0f} K) at t = {self.time:.3g} s of the "
                    "model; its materials are no longer valid there: lower the drive (voltage, compliance_current)")
            if self.spec.temperature_limits == "error":
                raise ConvergenceError(f"{text}, or set temperature_limits: warn to continue")
            self._warn(name, text)

    def temperature_flags(self) -> dict[str, float | int | str]:
        """Attributes for the result: peak temperature [K], 1/0 per limit reached, and the warning text."""
        flags: dict[str, float | int | str] = {"temperature_peak_K": float(self.peak_temperature)}
        for name in self.limits:
            flags[f"reached_{name}"] = int(name in self.limits_reached)
        reached = [f"{self.limits[n][1]} ({self.limits[n][0]:.0f} K)" for n in self.limits_reached]
        flags["temperature_warning"] = (f"peak temperature {self.peak_temperature:.0f} K reached " + " and ".join(reached)
                                        if reached else "")
        return flags


def temperature_limits(spec) -> dict[str, tuple[float, str]]:
    """{name: (limit [K], description)}: the filament metal's melting point and the insulator's thermal limit."""
    from devicephys import materials

    metal, ins = materials.get(spec.active_electrode), materials.get(spec.insulator)
    return {"melting_point": (metal["melting_point"], f"the melting point of {metal.name}"),
            "insulator_limit": (ins["thermal_limit"],
                                f"the thermal limit of {ins.name} ({ins.source('thermal_limit')})")}


def step_change(c: np.ndarray, c_new: np.ndarray, c_s: np.ndarray, cs_new: np.ndarray,
                pool: Callable[[np.ndarray], np.ndarray] | None) -> float:
    """Largest change [1] of a node's metal fraction ``c`` -> ``c_new`` and, with ``pool`` (the dissolved pool's
    per-node total [channel volumes] of a state ``c_s``), of its dissolved pool ``c_s`` -> ``cs_new``: both are Ag
    per site of the channel, and a step the change limit admits must resolve both (the pool fills where the
    metal barely changes, at a counter electrode whose arriving ions dissolve again as they deposit)."""
    dc = float(np.max(np.abs(c_new - c)))
    if pool is not None:
        dc = max(dc, float(np.max(np.abs(pool(cs_new) - pool(c_s)))))
    return dc


def _joined(c_i: np.ndarray, c: np.ndarray, c_s: np.ndarray) -> np.ndarray:
    """The Ag fractions [1] as one vector (the pool's node x shell values row by row with the matrix spread)."""
    return np.concatenate((c_i, c, np.ravel(c_s)))


def _split_error(end: tuple[np.ndarray, np.ndarray, np.ndarray] | None, c_new: np.ndarray) -> float:
    """The splitting error [1] of a step: largest |c_end − c_new|, the step's Ag moved in the fields of its end
    (``end`` from :meth:`CellModel._transport_at_end`) against that moved in the fields of its start (``c_new``,
    the step taken); the local error of the sequential coupling, second order in dt (the fields change by O(dt)
    over the step, and the Ag moved in them by dt times that).  Where the Ag and the fields feed back on each other
    faster than the step (the neck of a filament held at its compliance), the two differ by much more than c
    changes in a resolved step.  Infinite when the channel's Newton did not converge in the end fields (None)."""
    return math.inf if end is None else float(np.max(np.abs(end[1] - c_new)))


def _secant_mix(last, now):
    """The next iterate of the fixed-point iteration c -> G(c) of the step's coupling: from two iterations
    (x, G(x)) the depth-1 Anderson (secant) mix G_now − γ (G_now − G_last), γ = ⟨ΔF, F_now⟩ / ⟨ΔF, ΔF⟩ with F = G(x) − x
    taken on the metallic fraction c and applied alike to c_i, c and c_s (weights summing to 1, so the Ag is
    conserved); the plain image G_now for the first iteration, or where γ is not finite, beyond ±10, or the mix
    leaves [0, 1] (c_i and c, fractions of the channel) or turns negative (c_s: Ag per channel volume, which may
    exceed 1, as the Ag plated onto the counter electrode beside its node does).  A smooth map's 2-cycle (gain −1) is
    resolved in one secant step; the 2-cycle of a neck held on the threshold of ``neck_drive: threshold``, whose map
    jumps, is not (``neck_drive: smooth`` removes the jump)."""
    x_now, g_now = now
    if last is None:
        return g_now
    x_last, g_last = last
    f_now, f_last = g_now[1] - x_now[1], g_last[1] - x_last[1]
    d_f = f_now - f_last
    den = float(np.dot(d_f, d_f))
    gamma = float(np.dot(d_f, f_now)) / den if den > 0 else math.nan
    if not (math.isfinite(gamma) and abs(gamma) <= 10.0):
        return g_now
    mixed = tuple(gn - gamma * (gn - gl) for gn, gl in zip(g_now, g_last))
    if not all(np.all(np.isfinite(m)) and m.min(initial=0.0) >= 0.0 for m in mixed) or \
            any(m.max(initial=0.0) > 1.0 for m in mixed[:2]):
        return g_now
    return mixed


def run_drive(model: CellModel, source: Callable[[float], float], duration: float, *, dt_max: float,
              breakpoints: tuple[float, ...] = (), stop: Callable[[dict], bool] | None = None,
              frozen: bool = False, dt_first: float | None = None, progress=None,
              observer: Callable[[CellModel, dict], None] | None = None, dt_floor: float | None = None) -> Trace:
    """Integrate ``duration`` [s] of the source waveform ``source(t)`` [V] from the model's state.

    Time in the trace starts at 0 for this drive.  ``stop(sample)`` ends the
    drive early when it returns True.  ``progress`` is an optional tqdm bar
    updated in seconds of simulated time; ``observer(model, sample)`` is
    called after every accepted step.  On failure the ConvergenceError
    carries the partial trace as ``exc.trace``, and so does a KeyboardInterrupt (Ctrl-C, or SIGTERM under the
    command line).  Steps at or below ``dt_floor``
    [s] (default: ``min_step_fraction`` of ``duration``) are accepted whenever
    Newton converges; ``dt_floor`` may also be a function of the drive's elapsed
    time [s] (:func:`set_floor`).
    """
    spec = model.spec
    tol = spec.step_error_tolerance
    trace = Trace()
    t0 = model.time
    model.start_drive(source(0.0))
    trace.append(**{**model.sample(source(0.0)), "time": 0.0})
    dt = dt_first or dt_max / 100
    stops = sorted(b for b in breakpoints if 0 < b < duration) + [duration]
    dt_floor = spec.min_step_fraction * duration if dt_floor is None else dt_floor
    floor = dt_floor if callable(dt_floor) else (lambda elapsed, value=dt_floor: value)
    try:
        while not _drive_done(model.time, t0, duration):
            local = model.time - t0
            reach = local * (1 + 1e-12) + 1e-30
            if t0 != 0.0:  # local carries the rounding of the model's clock: a breakpoint within it is reached
                reach = max(reach, local + 1e-12 * abs(model.time))
            nxt = next((b for b in stops if b > reach), duration)
            step = min(dt, dt_max, nxt - local)
            try:
                ok, dc = model.try_step(step, source(local + step), frozen=frozen, force=step <= floor(local))
            except ConvergenceError as err:  # a temperature limit under temperature_limits: error
                err.trace = trace
                raise
            if not ok:
                model.rejected_steps += 1
                dt = step * stepping.step_factor(model.step_error, tol) if model.rejection == "error" else step / 2
                if dt < spec.min_time_step:
                    if model.rejection == "coupling":
                        fix = ("the Ag and the fields change faster than the step resolves: raise coupling_tolerance "
                               "or remove it")
                    elif model.rejection == "error":
                        fix = ("the Ag fractions change faster than the step resolves to step_error_tolerance = "
                               f"{spec.step_error_tolerance:g}: raise it or remove it")
                    elif model.rejection == "solve":
                        fix = (f"the electrothermal Newton did not converge at a source of {source(local + step):.4g} V: "
                               "lower the drive (source voltage, compliance_current) or the ambient_temperature")
                    else:
                        fix = "lower max_concentration_change or refine the mesh (axis_mesh_size)"
                    err = ConvergenceError(f"time step fell below min_time_step = {spec.min_time_step:g} s at "
                                           f"t = {local:.4g} s; {fix}")
                    err.trace = trace
                    raise err
                continue
            sample = model.sample(source(local + step))
            trace.append(**{**sample, "time": local + step})
            if progress is not None:
                progress.update(step)
            if observer is not None:
                observer(model, sample)
            easy = dc < spec.max_concentration_change / 3 and (spec.coupling_tolerance is None
                                                               or model.split_error < spec.coupling_tolerance / 3)
            dt = step * _MAX_DT_GROWTH if easy else step
            if tol is not None and model.step_error > 0.0:
                # the error's own choice, within the change limit's, and never below the floor: a step at the floor is
                # taken whatever its error (a state that flips between two branches, such as a neck on its threshold,
                # has an error that no step removes), and shrinking on from there would stall the drive
                dt = min(dt, max(step * stepping.step_factor(model.step_error, tol), floor(local + step)))
            if stop is not None and stop(sample):
                break
    except KeyboardInterrupt as exc:  # Ctrl-C or SIGTERM: the samples reached go with it (filament_partial.nc)
        exc.trace = trace
        raise
    return trace


def _drive_done(time: float, start: float, duration: float) -> bool:
    """Whether a drive of ``duration`` [s] begun at the model's clock ``start`` [s] has reached its end at
    ``time`` [s]: within 1e-12 of the duration, or within the clock's own rounding (8 ulp of ``time``).  A drive
    of a nanosecond read at a clock of microseconds ends 1e-21 s short, below the clock's resolution: a step of
    that size leaves the clock where it is, and the drive would step forever."""
    return time - start >= duration * (1 - 1e-12) - 8 * np.spacing(abs(time))


def set_floor(spec, duration: float, bridged: Callable[[], bool] = lambda: False) -> Callable[[float], float]:
    """Step floor [s] of a drive that times the set: ``min_step_fraction`` of the elapsed time, then of ``duration``.

    Below the floor a step is accepted whatever the change of c.  At the set the filament runs away
    (the shorter the gap, the larger the field across it and the faster it grows), and a backward-Euler
    step forced far beyond ``max_concentration_change`` damps that runaway and delays the set.  Measured
    on the fast preset (3 / 3.5 / 4 V from the pristine cell): with the floor at min_step_fraction of the
    1 ms set_time_limit (2 µs) the set times were 10.3 / 6.50 / 4.06 µs, where steps held to the tolerance
    throughout (no floor) give 2.189 / 1.431 / 1.113 µs (2.182 / 1.429 / 1.112 µs at half the tolerance).
    A floor of min_step_fraction of the elapsed time lets the step shrink with the event's own time scale:
    2.205 / 1.444 / 1.121 µs (within 1.1 % of the finest) in 130 steps each, against 250 without a floor.
    ``bridged()`` True switches to the drive's floor (the flicker of a bridged filament, which no affordable
    step resolves).
    """
    fraction = spec.min_step_fraction
    return lambda elapsed: fraction * (duration if bridged() else elapsed)


def triangle(peak: float, duration: float) -> Callable[[float], float]:
    """Source waveform [V]: 0 → ``peak`` → 0, linear, over ``duration`` [s]."""
    return lambda t: peak * max(0.0, 1.0 - abs(2.0 * t / duration - 1.0))


def run_sweep(model: CellModel, **kw) -> Trace:
    """The stage's DC sweep on ``model``: the triangle 0 → ``sweep_voltage`` → 0 over ``sweep_time``, steps up to
    ``max_step_fraction`` of it, a breakpoint at the peak; ``kw`` goes to :func:`run_drive` (progress, observer,
    dt_floor)."""
    spec = model.spec
    duration = spec.sweep_time
    return run_drive(model, triangle(spec.sweep_voltage, duration), duration, dt_max=duration * spec.max_step_fraction,
                     breakpoints=(duration / 2,), **kw)


def pulses(amplitude: float, width: float, period: float, count: int, edge: float) -> Callable[[float], float]:
    """Trapezoidal pulse train [V] with rise/fall time ``edge`` [s]."""
    def wave(t: float) -> float:
        k = math.floor(t / period)
        if k >= count or t < 0:
            return 0.0
        u = t - k * period
        return amplitude * float(np.clip(min(u / edge, (width - u) / edge + 1.0), 0.0, 1.0))
    return wave


def pulse_breakpoints(width: float, period: float, count: int, edge: float) -> tuple[float, ...]:
    """Corner times [s] of :func:`pulses`."""
    pts = []
    for k in range(count):
        t = k * period
        pts += [t + edge, t + width, t + width + edge]
    return tuple(pts)
