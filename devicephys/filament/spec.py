"""FilamentSpec: the metal/insulator/metal cell, its physics and its drive (SI units).

The defaults describe the built-in default device, an Ag / PMMA / Ag cell with a
170 nm x 240 nm footprint (an equivalent-area disc in the axisymmetric model).
Kinetic parameters (hop distance, barriers, attempt frequencies) are
representative values for Ag in polymer/oxide matrices (Ag+ migration barriers
of 0.3-1 eV are reported, e.g. Menzel et al., Adv. Funct. Mater. 21, 4487
(2011); Wang et al., Nat. Mater. 16, 101 (2017)); they are not fitted to a
particular device.

The default cell is volatile, and driven as volatile switches are measured: a
source-measure unit's 10 uA compliance with 100 Ohm in series (volatile Ag
threshold switches are characterised under compliances in the uA range, e.g.
the diffusive memristors of Wang et al., Nat. Mater. 16, 101 (2017)).  Its
Ag+ transport is a lattice gas (at most one atom per site), the Ag that
dissolves from the filament stays in the cell and drifts back in the local
field, and the neck conducts on its percolating backbone (conductivity
exponent t = 2.0).  ``examples/dilute.yaml`` holds the
earlier default: the dilute transport, an immobile dissolved pool, a compact
neck, 1 mA behind 5 kOhm.
"""

from __future__ import annotations

import math
from typing import Literal, Optional

from pydantic import model_validator

from devicephys import materials
from devicephys.errors import SpecError
from devicephys.io import available_memory
from devicephys.spec import Spec, option, quantity
from devicephys.units import eV

#: The earlier default cell (``examples/dilute.yaml``) as overrides of the default's fields: the dilute
#: Nernst-Planck transport, the dissolved Ag an immobile pool, a compact neck, 1 mA behind 5 kOhm.  The
#: closed forms of the set (Mott-Gurney V0) and of the self-rupture ((1 - c_p)/k_d) are this cell's limits.
DILUTE_CELL = dict(site_exclusion=False, dissolved_return=False, contact_exponent=0.0,
                   compliance_current=1e-3, series_resistance=5e3, neck_drive="threshold")
#: The dilute cell's set voltages on the fast preset (its sweep sets near 2.1 V) and on the full one.
DILUTE_SET_VOLTAGES = {"fast": [3.0, 3.5, 4.0], "full": [2.5, 3.0, 3.5, 4.0]}
#: The fast preset's former step floor, at which the dilute cell's stated numbers were measured.
DILUTE_FAST_FLOOR = 2e-3
#: The fast preset's step control (and the dilute cell's on both presets, with which its numbers were measured):
#: the Ag change per step alone, at 0.05, not converged on the default cell (the set 3-4 % late, the ON lifetimes
#: under bias up to a third long; docs/limitations.md).  The full preset's defaults converge it (the local-error
#: estimate at 0.01 during growth, the change limit 0.01, the set's floor, the holds at 1/2000, the dissolved pool in
#: the change limit).
FAST_STEP_CONTROL = dict(max_concentration_change=0.05, step_error_tolerance=None, resolve_set=False,
                         hold_step_fraction=None, pool_change_limit=False)

#: Minimum number of mesh elements across the insulator along the axis.
MIN_ELEMENTS_ACROSS_INSULATOR = 8


class FilamentSpec(Spec):
    """Geometry, materials, kinetics, circuit, drive and numerics of stage 1."""

    kind = "filament"

    # -- geometry -------------------------------------------------------------
    footprint_x: float = quantity(170e-9, "m", "cell footprint along x", gt=0)
    footprint_y: float = quantity(240e-9, "m", "cell footprint along y", gt=0)
    insulator_thickness: float = quantity(10e-9, "m", "insulator (switching layer) thickness", gt=0)
    active_electrode_thickness: float = quantity(30e-9, "m", "active (Ag-supplying, biased) bottom electrode thickness", gt=0)
    counter_electrode_thickness: float = quantity(30e-9, "m", "counter (grounded) top electrode thickness", gt=0)
    seed_height: float = quantity(1e-9, "m", "height of the seed protrusion on the active electrode (0: none)", ge=0)
    seed_radius: float = quantity(2e-9, "m", "radius of the seed protrusion", gt=0)
    channel_radius: float = quantity(2e-9, "m", "radius of the axial channel in which Ag gathers into a filament", gt=0)
    channel_edge: Literal["smooth", "cut"] = option(
        "smooth", "the channel's edge in the FEM's conductivity, a logistic over a tenth of channel_radius: 'smooth' - "
                  "its tail too, under which the insulator beside a metallic body conducts as metal out to about 13 nm "
                  "on the default cell (the current path is unchanged to 2e-5, but the matrix beside the channel is "
                  "an equipotential with it); 'cut' - zero where it falls below 1 %, so that the insulator starts "
                  "at channel_radius x (1 + 0.1 ln 99) (devicephys.filament.fem.medium.channel_indicator)")

    # -- materials ------------------------------------------------------------
    active_electrode: str = option("Ag", "active electrode metal (name in devicephys.materials)")
    counter_electrode: str = option("Ag", "counter electrode metal (name in devicephys.materials)")
    insulator: str = option("PMMA", "switching-layer insulator (name in devicephys.materials)")

    # -- silver kinetics ------------------------------------------------------
    hop_distance: float = quantity(0.5e-9, "m", "Ag+ hopping distance a (Mott-Gurney)", gt=0)
    attempt_frequency: float = quantity(1e13, "Hz", "Ag+ hopping attempt frequency", gt=0)
    migration_barrier: float = quantity(0.44 * eV, "J", "Ag+ hopping activation energy", gt=0)
    dissolution_frequency: float = quantity(1e13, "Hz", "attempt frequency of Gibbs-Thomson dissolution", gt=0)
    dissolution_barrier: float = quantity(0.52 * eV, "J", "activation energy of filament dissolution into the matrix", gt=0)
    reduction_rate: float = quantity(1e7, "Hz", "rate of Ag+ reduction on a metal surface (filament front, cathode)", gt=0)
    source_concentration: float = quantity(0.2, "1", "Ag+ fraction c_src of the active electrode's interface layer "
                                                     "while the field drives ions off it (oxidation under forward "
                                                     "bias): against the electrode's rest equilibrium c_eq "
                                                     "(active_electrode_equilibrium; 1.4e-4 at 300 K) the layer of "
                                                     "an anodic overpotential k_B T ln(c_src/c_eq), 0.19 V for 0.2 "
                                                     "(Nernst)", gt=0, le=1)
    percolation_threshold: float = quantity(0.3, "1", "Ag volume fraction at which the channel turns metallic", gt=0, lt=1)
    percolation_width: float = quantity(0.03, "1", "width of the insulator-metal crossover in Ag volume fraction", gt=0)
    contact_exponent: float = quantity(2.0, "1", "exponent t of the conducting share ((c - c_p)/(1 - c_p))^t of the "
                                                 "neck's cross-section, the Landauer contact's area (a percolating "
                                                 "cluster carries current on its backbone, which vanishes at c_p; "
                                                 "t = 2.0 in 3-D: Stauffer & Aharony, Introduction to Percolation Theory, "
                                                 "1994; Gingold & Lobb, PRB 42, 8220 (1990): 2.003 +- 0.047).  0: the "
                                                 "compact neck of radius r_ch sqrt(c), at least r_ch sqrt(c_p)", ge=0)
    soret_scale: float = quantity(1.0, "1", "multiplier of the thermophoretic (Soret) coefficient -E_a/(k_B T^2); 0 disables", ge=0)
    site_exclusion: bool = option(True, "Ag+ transport as a lattice gas: an ion hops only onto a free site, so the "
                                         "channel's occupancy c_i + c_m stays <= 1 (Newton step).  False: the dilute "
                                         "Nernst-Planck, whose ions may pile up beyond one per site where they arrive "
                                         "faster than they reduce; the result records that peak (silver_occupancy_peak) "
                                         "and the run warns")

    ion_compensation: Optional[float] = quantity(
        None, "1", "fraction f of the channel's Ag+ charge compensated by charge of the other sign beside it (anions, "
        "the matrix's polarization; no value for Ag/PMMA is sourced): the ions then drift in the applied field plus "
        "(1 - f) times the field of their own charge, from the ions' Poisson solve with every conductor grounded, "
        "inside each step's Newton (Poisson-Nernst-Planck along the axis; 0: uncompensated).  Needs "
        "site_exclusion: true.  None: the applied field alone (the charge-free drift, the limit f -> 1)", ge=0, lt=1)
    neck_drive: Literal["threshold", "smooth"] = option(
        "smooth", "how the driven neck of a bridged filament splits it into anode and cathode: 'threshold' - the "
                     "metal from the neck to the cathode takes ions once the neck's forward field exceeds k_B T / (q a) "
                     "(all or nothing); 'smooth' - it takes them in proportion to the net forward share of the hops "
                     "across the neck, tanh(q a E / 2 k_B T), the same limits without the jump")
    dissolved_return: bool = option(True, "Ag dissolved from the filament into the matrix beside the channel is Ag+ "
                                           "that drifts back into the channel in the local field (rate |v(E, T)| / "
                                           "channel_radius), and a bridged filament takes ions on the cathode's side of "
                                           "its neck (dissolved Ag stays in the cell and can re-form the filament).  "
                                           "Use with site_exclusion: true; with the dilute transport the ions piled up "
                                           "beyond one per site keep refilling the bridged filament and it never "
                                           "relaxes.  False: the dissolved Ag is an immobile pool, lost to the filament")
    dissolved_return_diffusion: bool = option(False, "the dissolved Ag's return into the channel is the drift-"
                                                     "diffusion of the same hopping over the channel radius l (the "
                                                     "Scharfetter-Gummel coefficient (D/l^2) Pe/(1 - exp(-Pe)), Pe = "
                                                     "|v(E, T)| l/D): |v|/l in a strong field as with the drift "
                                                     "alone, D/l^2 at zero field (1/(39 us) at 300 K on the "
                                                     "default cell), where the drift alone leaves the pool in place; "
                                                     "the Einstein-consistent form of dissolved_return's law.  Needs "
                                                     "dissolved_return: true and dissolved_spread: false.  False: the "
                                                     "drift alone")
    dissolved_escape: bool = option(False, "the dissolved Ag beside the channel also diffuses away into the matrix, "
                                           "out of the return's reach, at D(T) / channel_radius^2 (D the ions' own "
                                           "diffusivity a^2 nu exp(-E_a / k_B T); 39 us at 300 K on the default cell): "
                                           "the cell's memory of dissolved Ag then fades at zero bias.  A one-"
                                           "compartment estimate of the radial diffusion (its rate uncertain by a "
                                           "factor of order 1, e.g. 2 or 4 for 1-D or radial spreading); needs "
                                           "dissolved_return: true")
    dissolved_spread: bool = option(False, "the dissolved Ag is followed as it spreads through the matrix in (r, z) "
                                           "by the ions' own diffusion D(T) (coaxial shells from the channel's wall "
                                           "out to the cell's radius, no flux there or at the electrodes unless "
                                           "counter_plating), and "
                                           "returns at the channel's wall at |v(E, T)| from the shell within one hop "
                                           "of it (devicephys.filament.spread): the resolved form of "
                                           "dissolved_escape's estimate.  Needs dissolved_return: true and "
                                           "dissolved_escape: false")
    spread_drift: bool = option(False, "with dissolved_spread: the dissolved Ag+ in the matrix also drifts in the "
                                       "matrix's own field and temperature (read from the FEM's potential and "
                                       "temperature beside every axis node: Mott-Gurney drift and thermophoresis with "
                                       "the channel's hopping law, Scharfetter-Gummel fluxes between the shells and "
                                       "the nodes), and the channel's wall returns it at the inward speed of the hop "
                                       "onto the channel's edge in the radial field there (read at the cut edge's "
                                       "outer radius; none where the field points outwards) instead of at |v(E, T)| "
                                       "in the axis node's field.  Needs channel_edge: cut.  False: it diffuses only")
    counter_plating: bool = option(False, "with dissolved_spread: the counter electrode's plane reduces the dissolved "
                                          "Ag+ beside it (the matrix's shells at the electrode's node) at the channel's "
                                          "reduction rate, where the channel's cathode node takes ions; what plates "
                                          "within one hop of the channel joins the filament's root, the rest stays on "
                                          "the electrode (counted in the cell's Ag).  False: the electrode planes are "
                                          "walls for the matrix's Ag+ (with spread_drift it piles up against the "
                                          "counter electrode)")
    bridged_supply: bool = option(False, "once the filament bridges, the channel's ions reduce on all of its metal "
                                         "(the active electrode's ions, which reach the body along the channel, "
                                         "reduce on it), not only from the driven neck to the counter electrode.  A "
                                         "premise to test what would hold the ON state under bias: the body on the "
                                         "active electrode's side of the neck is at that electrode's potential, "
                                         "anodic to the matrix beside it, and the transport has no back-reaction "
                                         "(ions reduce at the reduction rate whatever the overpotential; "
                                         "bridged_transfer derives it).  False: the active electrode's side of the "
                                         "neck takes no ions")
    bridged_transfer: bool = option(False, "once the filament bridges, its metal exchanges Ag with the electrolyte "
                                           "by Butler-Volmer charge transfer at each axis node's overpotential "
                                           "against the matrix one hop beyond the channel's wall (eta = phi_axis - "
                                           "phi_matrix, > 0 anodic): the channel's ions reduce at k_r exp(-alpha e "
                                           "eta/k_B T) on every node and the metal dissolves at k_d exp((1 - alpha) "
                                           "e eta/k_B T), alpha the transfer_coefficient, each rate at most the "
                                           "surface's attempt frequency dissolution_frequency; the derived form of "
                                           "what bridged_supply premises.  Needs spread_drift (the matrix's "
                                           "potential) and bridged_supply: false.  False: the neck's rule (ions "
                                           "reduce from the driven neck to the cathode)")
    gibbs_thomson_radius: bool = option(False, "the filament's dissolution depends on its radius by Gibbs-Thomson: a "
                                               "node's metal is a compact cylinder of radius rho = channel_radius "
                                               "sqrt(c_m) (c_m at least percolation_threshold), whose equilibrium ion "
                                               "fraction is the filled channel's times exp(gamma Omega (1/rho - "
                                               "1/channel_radius)/k_B T) (gamma the interface_energy, by default the "
                                               "active electrode's surface energy, Omega its atomic volume, from "
                                               "devicephys.materials), and it dissolves "
                                               "at that rate through its perimeter: k_d (rho/channel_radius) exp(...), "
                                               "at most dissolution_frequency (interface-controlled kinetics, Wagner; "
                                               "the reduction is unchanged).  k_d is then the filled channel's rate.  "
                                               "False: the zero-order k_d whatever the radius")
    active_electrode_equilibrium: bool = option(False, "at rest the active electrode is flat metal in equilibrium "
                                                       "with the channel's ions: its interface holds (k_d/k_r) "
                                                       "exp(-gamma Omega/(channel_radius k_B T)) (the filled "
                                                       "channel's equilibrium without its Gibbs-Thomson excess; "
                                                       "gamma as in gibbs_thomson_radius; 1.4e-4 at 300 K on the "
                                                       "default cell) and exchanges it with the first node by the "
                                                       "hopping's Scharfetter-Gummel flux, adding v c_eq to the "
                                                       "oxidation's v source_concentration under forward field.  "
                                                       "False: at zero and reverse field the electrode holds no "
                                                       "ions and takes every ion that reaches it")
    anode_nernst: bool = option(False, "the active electrode's interface layer is in Nernst equilibrium with the "
                                       "electrode at an overpotential eta_a of at most the gap voltage V: it holds "
                                       "c_L = min(c_src, c_eq exp(e V/k_B T)) (c_eq as in "
                                       "active_electrode_equilibrium, whose rest it extends), held on the first "
                                       "node (the electrode's surface), and the ions hop in the rest of the gap "
                                       "voltage, V - eta_a, eta_a = k_B T ln(c_L/c_eq) (an ion cannot gain more "
                                       "than e V between the electrodes, so the filled channel's metal can grow "
                                       "only above gamma Omega/(e r_ch), 0.067 V on the default cell; below "
                                       "k_B T ln(c_src/c_eq), 0.19 V, the insulator has no field, and the ions "
                                       "diffuse to the counter electrode and plate it flat).  Lifted once the "
                                       "filament bridges.  Needs active_electrode_equilibrium: true and "
                                       "no exchange_current_density.  False: the layer holds c_src under any "
                                       "forward field (0.19 V of overpotential whatever the gap voltage) and the "
                                       "ions hop in the whole of it")
    anode_nernst_split: Literal["layer", "hopping"] = option(
        "layer", "with anode_nernst, how the gap voltage V divides between the anode's layer and the hopping, the two "
                 "limits of a split that the model does not resolve (it has no Poisson equation for the ions' double "
                 "layer): 'layer' - the layer's overpotential first, eta_a = min(k_B T ln(c_src/c_eq), V+), the "
                 "ions hop in V - eta_a (a floor at 0.19 V on the default cell); 'hopping' - a double layer that "
                 "holds none of V (eta_a = 0): the layer holds the electrode's rest c_eq and the ions hop in all of "
                 "V, so that only the filled channel's gamma Omega/(e r_ch) bounds the set from below")
    interface_energy: Optional[float] = quantity(None, "J/m^2", "energy gamma of the filament's surface against the "
                                                 "matrix in gibbs_thomson_radius's excess; give your device's; None: "
                                                 "the active electrode metal's solid-vapour surface energy from "
                                                 "devicephys.materials (Ag 1.25 J/m^2, Tyson & Miller 1977), standing "
                                                 "in for the interface's gamma_metal + gamma_matrix - W_adh (Dupre), "
                                                 "which the sourced surface energies bracket at 0.838-1.291 J/m^2 for "
                                                 "Ag/PMMA (devicephys.materials.interface_energy_bounds)",
                                                 gt=0)
    spread_first_width: Optional[float] = quantity(None, "m", "width of the matrix's shell at the channel's wall "
                                                   "(dissolved_spread), whose Ag the wall returns; None: the hop "
                                                   "distance (the ions one hop from the channel)", gt=0)
    spread_growth: float = quantity(1.25, "1", "width ratio of neighbouring matrix shells (dissolved_spread); "
                                    "studies/14_dissolved_spread.py checks the default grid against a quarter-hop first "
                                    "shell and 1.12", ge=1.0, le=2.0)

    exchange_current_density: Optional[float] = quantity(
        None, "A/m^2", "exchange current density j0 of the Ag/Ag+ charge transfer (Butler-Volmer) at the active "
        "electrode and at the filament tip: the ions' series circuit (anode transfer, hopping, tip transfer) then "
        "shares the gap voltage, and only the hopping's share drives the ions through the insulator "
        "(devicephys.filament.electrochem).  Give your device's value (e.g. from cyclic voltammetry); None: no "
        "charge-transfer limit, the ions hop in the whole gap voltage", gt=0)
    transfer_coefficient: float = quantity(0.5, "1", "charge-transfer coefficient alpha of the reduction (the "
                                                     "oxidation's is 1 - alpha); 0.5 is the symmetric barrier "
                                                     "(Bard & Faulkner, Electrochemical Methods, 2nd ed. (2001), "
                                                     "sec. 3.3)", gt=0, lt=1)

    cathode_nucleation: bool = option(False, "the counter electrode is inert (not the filament's metal): Ag+ reduces "
                                             "on it only once a nucleus has formed, after t_nuc = t0 exp(dG/kT) "
                                             "exp(-(N_c + alpha) z e eta/kT) at the cathode's charge-transfer "
                                             "overpotential eta of the ionic circuit (devicephys.filament.electrochem."
                                             "Nucleation); the deposit stays a nucleus while the cathode's node holds at "
                                             "least N_c + 1 atoms.  Needs counter_electrode other than active_electrode "
                                             "and exchange_current_density.  False: the ions deposit on the counter "
                                             "electrode directly")
    nucleation_time_prefactor: Optional[float] = quantity(
        None, "s", "prefactor t0 of the nucleation time on the inert cathode; give your device's (with "
        "nucleation_barrier and critical_nucleus, from set times against voltage at low bias, where the nucleation "
        "limits the set)", gt=0)
    nucleation_barrier: Optional[float] = quantity(None, "J", "activation energy dG of nucleation at zero "
                                                   "overpotential; give your device's", ge=0)
    critical_nucleus: Optional[int] = option(None, "atoms N_c in the critical nucleus; give your device's", ge=0, le=100)
    nucleation_transfer_coefficient: float = quantity(0.5, "1", "transfer coefficient alpha of the step that adds "
                                                      "atom N_c + 1; 0.5 is the symmetric barrier (Bard & Faulkner, "
                                                      "Electrochemical Methods, 2nd ed. (2001), sec. 3.3)", gt=0, lt=1)

    # -- circuit and environment ---------------------------------------------
    series_resistance: float = quantity(100.0, "Ohm", "series resistor between source and active electrode", gt=0)
    compliance_current: float = quantity(1e-5, "A", "current compliance of the source (smooth limit)", gt=0)
    ambient_temperature: float = quantity(300.0, "K", "heat-sink temperature of both electrode contacts", gt=0)
    sink_conductance: Optional[float] = quantity(
        None, "W/(m^2 K)", "thermal boundary conductance h between the electrodes' outer contacts and the ambient "
        "bath (the electrode/substrate interface: the contacts lose h (T - ambient)); metal-dielectric interfaces "
        "measured by time-domain thermoreflectance lie near 1e7-1e9 W/(m^2 K) (Stevens, Smith & Norris, J. Heat "
        "Transfer 127, 315 (2005); Lyeo & Cahill, Phys. Rev. B 73, 144301 (2006)); give your stack's.  None: the "
        "contacts are held at ambient_temperature (an ideal sink)", gt=0)
    temperature_limits: Literal["warn", "error"] = option(
        "warn", "when the peak temperature reaches the filament metal's melting point or the insulator's thermal "
        "limit (materials.py): 'warn' prints it and records it in the result, 'error' stops the run (exit 3)")

    # -- drives ---------------------------------------------------------------
    drive: Literal["sweep", "pulse", "pulse_train"] = option("sweep", "main drive: triangular DC sweep up and down, one pulse, or a pulse train")
    sweep_voltage: float = quantity(3.0, "V", "peak source voltage of the triangular sweep", gt=0)
    sweep_time: float = quantity(200e-6, "s", "duration of the whole sweep (up and down)", gt=0)
    pulse_voltage: float = quantity(3.0, "V", "pulse amplitude (pulse drives)", gt=0)
    pulse_width: float = quantity(20e-6, "s", "pulse width (pulse drives)", gt=0)
    pulse_period: float = quantity(60e-6, "s", "pulse period (pulse train)", gt=0)
    pulse_count: int = option(3, "number of pulses in a pulse train", ge=1, le=1000)
    set_voltages: list[float] = quantity([1.0, 1.5, 2.0, 2.5], "V", "constant source voltages of the set-time study "
                                         "(the default cell's sweep sets near 1.4 V: the law is fitted around it)", min_length=2)
    set_time_limit: float = quantity(1e-3, "s", "longest wait for a set at one voltage", gt=0)
    relax_duration: float = quantity(100e-6, "s", "observation time after the bias is removed", gt=0)
    read_voltage: float = quantity(0.1, "V", "source voltage of the read of the relaxed cell's OFF resistance "
                                            "(silver frozen; 0.1 V, a usual read bias, far below the threshold)", gt=0)
    gap_on: float = quantity(0.25e-9, "m", "gap below which the filament counts as bridged (set)", gt=0)
    fire_voltages: list[float] = quantity([], "V", "pulse amplitudes of the pulse-integration study: pulses of "
                                                 "pulse_width from the pristine cell until the filament bridges, "
                                                 "counted (N_fire); empty: the study is not run")
    fire_intervals: list[float] = quantity([], "s", "pulse periods (start to start) of the pulse-integration study; "
                                                  "each longer than pulse_width")
    fire_pulse_limit: int = option(20, "most pulses of one pulse-integration run (N_fire is NaN beyond)", ge=1, le=1000)
    gap_rupture: float = quantity(1.0e-9, "m", "gap above which the filament counts as ruptured", gt=0)
    static_threshold: bool = option(False, "find the static threshold: the lowest constant source voltage that sets "
                                           "the pristine cell within set_time_limit, by bisection between 0 V and the "
                                           "lowest set voltage that set (one constant-voltage run per halving)")
    static_threshold_tolerance: float = quantity(0.05, "V", "half-width of the static threshold's final bracket", gt=0)
    relax_compliances: list[float] = quantity([], "A", "compliance currents of the retention study: at each, a set "
                                                     "at the highest set voltage from the pristine cell, held under "
                                                     "that bias for relax_hold after it bridges, then the bias "
                                                     "removed and the self-rupture time measured; empty: the study "
                                                     "is not run")
    hold_biases: list[float] = quantity([], "V", "constant source voltages of the ON-lifetime study: from the "
                                              "filament bridged at the highest set voltage (the relaxation's start), "
                                              "each held for relax_duration; the time to the first rupture (gap > "
                                              "gap_rupture) is the ON state's lifetime under that bias (NaN: held to "
                                              "the end); 0 V gives the self-rupture time; empty: the study is not run")
    sweep_hold_biases: list[float] = quantity([], "V", "source voltages of the hold-window study (drive: sweep): "
                                                    "the main sweep's state where its falling ramp passes each "
                                                    "voltage, then that voltage held for relax_duration; a bias at "
                                                    "which the filament starts ON and never ruptures (gap > "
                                                    "gap_rupture) is in the hold window; empty: the study is not run")
    sweep_hold_replicas: int = option(1, "runs of the hold-window study per bias: the first from the sweep's state "
                                         "as it is, each further one from that state with its metallic Ag moved "
                                         "between the channel's nodes by a random number of atoms (standard deviation "
                                         "one atom per node, total conserved, a seeded draw per bias and run); above "
                                         "1 the stage reads the hold from the runs' mean ON share "
                                         "(hold_voltage_ensemble)", ge=1, le=64)
    relax_hold: float = quantity(2e-6, "s", "time the retention study holds the bias after the filament bridges",
                                 gt=0)

    # -- numerics -------------------------------------------------------------
    axis_mesh_size: float = quantity(0.4e-9, "m", "element size along the axis and in the channel", gt=0)
    far_mesh_size: float = quantity(25e-9, "m", "element size far from the axis", gt=0)
    max_concentration_change: float = quantity(0.01, "1", "largest change of Ag fraction per time step (the fast "
                                               "preset's 0.05 leaves the default cell's set 3-4 % late and its ON "
                                               "lifetimes up to a third long; 0.01 converges them)", gt=0, le=0.5)
    pool_change_limit: bool = option(True, "max_concentration_change also limits the change of each node's "
                                           "dissolved pool (channel volumes, Ag per site as the metal's fraction) "
                                           "per step.  False (the fast preset, with which the documentation's numbers "
                                           "were measured): the metal's fraction alone; at the fast preset's 0.05 "
                                           "the pool beside the counter electrode then fills unresolved while its "
                                           "metal takes off, by the largest step (a 0.25 V set from the pristine "
                                           "cell: 587 us and a pool of 6.2 channel volumes at a largest step of "
                                           "125 us, 486 us and 1.29 at 12.5 us; with the pool limited 462 / 464 us "
                                           "and 0.66 / 0.67; docs/filament.md, The dissolved pool in the step control)")
    step_error_tolerance: float | None = quantity(0.01, "1", "largest local truncation error of a time step's "
                                                  "Ag fractions (mobile ions, metal, dissolved), relative to each "
                                                  "node's fraction down to one Ag atom per node, estimated from the "
                                                  "backward-Euler step against the linear extrapolation of the two "
                                                  "states before it (devicephys.filament.stepping); the next step is "
                                                  "chosen from the estimate, within max_concentration_change and the "
                                                  "largest step (None: not estimated; the change limit alone)",
                                                  gt=0, le=0.5)
    step_error_scope: Literal["growth", "all"] = option(
        "growth", "the steps step_error_tolerance applies to: growth, those of a cell whose channel has a gap (the "
                  "filament growing to the set, or dissolving after a rupture); all, every step, the bridged "
                  "neck's too (on the default cell the ON lifetimes then take 6-36 times the steps of "
                  "max_concentration_change 0.01 and are further off: the neck's flicker is stepped at the floor; "
                  "docs/filament.md, The step control's local-error estimate)")
    step_check: float | None = quantity(None, "1", "measure the step control's error in the run: the set-time "
                                        "study with the self-rupture from its bridged state and (drive: sweep) the "
                                        "sweep's rising ramp to its first set again, from the pristine cell, on a "
                                        "model of their own, with step_error_tolerance at this value, "
                                        "max_concentration_change at most this value and resolve_set (at 0.01: "
                                        "examples/converged_step.yaml's step control); their set times, set-time "
                                        "law, self-rupture time and threshold are written beside the main drive's "
                                        "(the *_step_check variables, and the main drive's deviation from each) "
                                        "(None: not run)", gt=0, le=0.5)
    coupling_tolerance: float | None = quantity(None, "1", "largest splitting error of a time step's Ag fraction: "
                                                "each step moves the Ag in the fields of its start, then solves the "
                                                "fields; with a tolerance the step is moved again in the fields of "
                                                "its end, and rejected (halved) when the two differ by more (None: "
                                                "not checked)", gt=0, le=0.5)
    coupling_iterations: int = option(0, "with coupling_tolerance: before a step is rejected for its splitting error, "
                                         "up to this many times its Ag is taken from the transport in the fields of "
                                         "its end and the fields are solved again (a fixed-point iteration towards the "
                                         "implicit coupling of Ag and fields; 0: reject at once)", ge=0, le=20)
    max_step_fraction: float = quantity(1 / 200, "1", "largest time step as a fraction of the drive duration", gt=0, le=0.5)
    hold_step_fraction: float | None = quantity(5e-4, "1", "largest time step of the holds of the ON-lifetime study "
                                                "(hold_biases) and of the hold window (sweep_hold_biases), as a fraction "
                                                "of relax_duration (None: max_step_fraction).  The holds must resolve "
                                                "the neck's thinning, with max_concentration_change: on the default cell "
                                                "the hold from the ON lifetime is 0.21-0.22 V at 1/2000 and 1/6000 with "
                                                "0.01, 0.19-0.21 V with the fast preset's 0.05 "
                                                "(studies/11_hold_lifetime.py)", gt=0, le=0.5)
    min_step_fraction: float = quantity(2e-5, "1", "steps shorter than this fraction of a drive (with resolve_set: of the time elapsed, until a drive that times the set has set) are accepted whenever Newton converges", gt=0, le=0.01)
    resolve_set: bool = option(True, "floor the time step of the drives that time the set (the set-time study, the "
                                      "static threshold and the main drive until its first set) at min_step_fraction "
                                      "of the elapsed time instead of the drive's duration: a step forced at the "
                                      "drive's floor damps the set's runaway and delays it (fast preset: set times "
                                      "at 3-4 V 4.1-5.0x too long, the sweep's set 26 % too high); see docs/limitations.md "
                                      "for what it changes downstream")
    min_time_step: float = quantity(1e-15, "s", "smallest time step before the solve is declared failed", gt=0)
    newton_rtol: float = quantity(1e-6, "1", "relative residual tolerance of the electrothermal Newton solves (their "
                                             "staggered fallback stops on steps below it times the source voltage "
                                             "and 100 K times it): lower it to check that a result does not "
                                             "depend on it (studies/09_solver_tolerance.py)", gt=0, le=1e-3)
    field_snapshots: int = option(4, "number of field snapshots (XDMF) along the main drive", ge=0, le=100)

    @model_validator(mode="after")
    def _check_physics(self) -> "FilamentSpec":
        _check_materials(self)
        _check_geometry(self)
        _check_mesh(self)
        _check_size(self)
        if self.gap_rupture <= self.gap_on:
            raise SpecError(f"FilamentSpec.gap_rupture = {self.gap_rupture:g} m must exceed gap_on = {self.gap_on:g} m; "
                            "raise gap_rupture", field="gap_rupture")
        _check_fire_study(self)
        if self.dissolved_escape and not self.dissolved_return:
            raise SpecError("FilamentSpec.dissolved_escape = true needs dissolved_return: true (the Ag that escapes is "
                            "the pool the field returns); set dissolved_return: true or dissolved_escape: false",
                            field="dissolved_escape")
        if self.dissolved_spread and (not self.dissolved_return or self.dissolved_escape):
            raise SpecError("FilamentSpec.dissolved_spread = true needs dissolved_return: true and dissolved_escape: "
                            "false (the spread returns the Ag at the channel's wall and resolves what the escape "
                            "estimates); set those, or dissolved_spread: false", field="dissolved_spread")
        if self.dissolved_return_diffusion and (not self.dissolved_return or self.dissolved_spread):
            raise SpecError("FilamentSpec.dissolved_return_diffusion = true needs dissolved_return: true and "
                            "dissolved_spread: false (it is the one-compartment pool's return; the spread diffuses "
                            "the pool itself); set those, or dissolved_return_diffusion: false",
                            field="dissolved_return_diffusion")
        if self.spread_drift and self.channel_edge != "cut":
            raise SpecError("FilamentSpec.spread_drift = true needs channel_edge: cut (with the smooth edge's tail the "
                            "matrix beside the channel conducts as metal out to about 13 nm, and the drift would read "
                            "that conductor's potential); set channel_edge: cut or spread_drift: false",
                            field="spread_drift")
        if self.spread_drift and not self.dissolved_spread:
            raise SpecError("FilamentSpec.spread_drift = true needs dissolved_spread: true (the drift moves the spread's "
                            "Ag); set dissolved_spread: true or spread_drift: false", field="spread_drift")
        if self.bridged_transfer and not self.spread_drift:
            raise SpecError("FilamentSpec.bridged_transfer = true needs spread_drift: true (the overpotential is read "
                            "from the matrix's potential beside the axis); set spread_drift: true (with "
                            "dissolved_spread and channel_edge: cut) or bridged_transfer: false",
                            field="bridged_transfer")
        if self.bridged_transfer and self.bridged_supply:
            raise SpecError("FilamentSpec.bridged_transfer = true replaces bridged_supply's premise with the charge "
                            "transfer it stands in for; set bridged_supply: false", field="bridged_supply")
        for name in ("gibbs_thomson_radius", "active_electrode_equilibrium"):
            if not getattr(self, name) or self.interface_energy is not None:
                continue
            if "surface_energy" not in materials.get(self.active_electrode).properties:
                raise SpecError(f"FilamentSpec.{name} = true needs the surface energy of the active "
                                f"electrode's metal, which devicephys.materials does not give for "
                                f"{self.active_electrode!r}; give interface_energy (J/m^2), use active_electrode: Ag "
                                f"or set {name}: false", field=name)
        if self.anode_nernst and (not self.active_electrode_equilibrium or self.exchange_current_density is not None):
            raise SpecError("FilamentSpec.anode_nernst = true needs active_electrode_equilibrium: true (its c_eq is "
                            "the layer's reference) and no exchange_current_density (the ionic circuit then divides "
                            "the gap voltage itself); set those or anode_nernst: false", field="anode_nernst")
        if self.anode_nernst_split != "layer" and not self.anode_nernst:
            raise SpecError(f"FilamentSpec.anode_nernst_split = {self.anode_nernst_split!r} divides the gap voltage "
                            "with the anode's Nernst layer; set anode_nernst: true or anode_nernst_split: layer",
                            field="anode_nernst_split")
        if self.counter_plating and not self.dissolved_spread:
            raise SpecError("FilamentSpec.counter_plating = true needs dissolved_spread: true (it plates the spread's "
                            "Ag); set dissolved_spread: true or counter_plating: false", field="counter_plating")
        if self.spread_first_width is not None and self.spread_first_width >= self.cell_radius - self.channel_radius:
            raise SpecError(f"FilamentSpec.spread_first_width = {self.spread_first_width:g} m must be below the "
                            f"matrix's width around the channel ({self.cell_radius - self.channel_radius:g} m); use "
                            "the hop distance (None) or a fraction of it", field="spread_first_width")
        if self.ion_compensation is not None and not self.site_exclusion:
            raise SpecError(f"FilamentSpec.ion_compensation = {self.ion_compensation:g} needs site_exclusion: true "
                            "(the ions' own field is coupled in the lattice gas's Newton); set site_exclusion: true "
                            "or ion_compensation: null", field="ion_compensation")
        if self.dissolved_return and not self.site_exclusion:
            raise SpecError("FilamentSpec.dissolved_return = true needs site_exclusion: true (with the dilute transport "
                            "the ions piled up beyond one per site refill the bridged filament and it never relaxes); "
                            "set site_exclusion: true or dissolved_return: false", field="dissolved_return")
        if self.cathode_nucleation:
            if self.counter_electrode == self.active_electrode:
                raise SpecError(f"FilamentSpec.cathode_nucleation = true needs an inert counter electrode, not the "
                                f"filament's own metal {self.active_electrode!r} (on it the ions deposit directly); set "
                                "counter_electrode (e.g. Pt) or cathode_nucleation: false", field="cathode_nucleation")
            if self.exchange_current_density is None:
                raise SpecError("FilamentSpec.cathode_nucleation = true needs exchange_current_density (the nucleation "
                                "runs on the cathode's charge-transfer overpotential of the ionic circuit); give j0 in "
                                "A/m^2 or set cathode_nucleation: false", field="cathode_nucleation")
            for name in ("nucleation_time_prefactor", "nucleation_barrier", "critical_nucleus"):
                if getattr(self, name) is None:
                    raise SpecError(f"FilamentSpec.cathode_nucleation = true needs {name} (no published value for this "
                                    "cell is built in); give your device's or set cathode_nucleation: false", field=name)
        if any(not math.isfinite(v) or v < 0 for v in self.hold_biases):
            raise SpecError(f"FilamentSpec.hold_biases = {self.hold_biases} must all be finite and >= 0 V; give "
                            "forward source voltages (0 V is the self-rupture at zero bias)", field="hold_biases")
        if self.sweep_hold_biases:
            if self.drive != "sweep":
                raise SpecError(f"FilamentSpec.sweep_hold_biases = {self.sweep_hold_biases} needs drive: sweep (the "
                                f"biases are taken on its falling ramp), not {self.drive!r}; set drive: sweep or "
                                "give hold_biases instead", field="sweep_hold_biases")
            if any(not math.isfinite(v) or v < 0 or v >= self.sweep_voltage for v in self.sweep_hold_biases):
                raise SpecError(f"FilamentSpec.sweep_hold_biases = {self.sweep_hold_biases} must all lie in "
                                f"[0, sweep_voltage = {self.sweep_voltage:g}) V; give source voltages that the "
                                "sweep's falling ramp passes", field="sweep_hold_biases")
        if self.coupling_iterations > 0 and self.coupling_tolerance is None:
            raise SpecError(f"FilamentSpec.coupling_iterations = {self.coupling_iterations} needs coupling_tolerance (the "
                            "splitting error the iterations reduce); set coupling_tolerance, e.g. 0.01, or "
                            "coupling_iterations: 0", field="coupling_iterations")
        if self.sweep_hold_replicas > 1 and not self.sweep_hold_biases:
            raise SpecError(f"FilamentSpec.sweep_hold_replicas = {self.sweep_hold_replicas} needs sweep_hold_biases (the "
                            "replicas repeat the hold-window study's holds); give the biases, e.g. [0.2, 0.3, 0.4], or "
                            "set sweep_hold_replicas: 1", field="sweep_hold_replicas")
        if any(i <= 0 for i in self.relax_compliances):
            raise SpecError(f"FilamentSpec.relax_compliances = {self.relax_compliances} must all be > 0 A; give "
                            "positive compliance currents", field="relax_compliances")
        if any(v <= 0 for v in self.set_voltages):
            raise SpecError(f"FilamentSpec.set_voltages = {self.set_voltages} must all be > 0 V; give positive voltages",
                            field="set_voltages")
        return self

    @property
    def fire_study(self) -> bool:
        """True when the pulse-integration study (N_fire) is asked for."""
        return bool(self.fire_voltages)

    @property
    def hold_step(self) -> float:
        """Largest time step [s] of the studies' holds: ``relax_duration`` x ``hold_step_fraction`` (by default x
        ``max_step_fraction``)."""
        fraction = self.max_step_fraction if self.hold_step_fraction is None else self.hold_step_fraction
        return self.relax_duration * fraction

    @property
    def cell_radius(self) -> float:
        """Radius [m] of the disc with the footprint's area."""
        return math.sqrt(self.footprint_x * self.footprint_y / math.pi)

    @classmethod
    def fast(cls) -> "FilamentSpec":
        """Quick preset: coarser far field, longer largest steps (1/80 of a drive), the Ag change per step alone
        (:data:`FAST_STEP_CONTROL`, not converged in the step), two field snapshots."""
        return cls(far_mesh_size=40e-9, axis_mesh_size=0.5e-9,
                   max_step_fraction=1 / 80, field_snapshots=2, **FAST_STEP_CONTROL)

    @classmethod
    def dilute(cls, fast: bool = True) -> "FilamentSpec":
        """The earlier default cell (``examples/dilute.yaml``) on the fast or the full preset: :data:`DILUTE_CELL`,
        its set voltages, the step control it was measured with (:data:`FAST_STEP_CONTROL`, on both presets), and
        on the fast preset its step floor :data:`DILUTE_FAST_FLOOR`."""
        base = cls.fast() if fast else cls(**FAST_STEP_CONTROL)
        extra = {"min_step_fraction": DILUTE_FAST_FLOOR} if fast else {}
        return base.model_copy(update={**DILUTE_CELL, **extra,
                                       "set_voltages": DILUTE_SET_VOLTAGES["fast" if fast else "full"]})

    @classmethod
    def diffusive_memristor(cls, **overrides) -> "FilamentSpec":
        """Ag / SiO2 / Pt diffusive-memristor preset (Wang et al., Nat. Mater. 16, 101 (2017))."""
        base = dict(insulator="SiO2", counter_electrode="Pt", insulator_thickness=15e-9, footprint_x=100e-9,
                    footprint_y=100e-9, sweep_voltage=4.0, set_voltages=[3.5, 4.0, 4.5, 5.0])
        return cls(**{**base, **overrides})


def _check_materials(spec: FilamentSpec) -> None:
    for name in ("active_electrode", "counter_electrode", "insulator"):
        value = getattr(spec, name)
        want = "insulator" if name == "insulator" else "metal"
        allowed = materials.names(want)
        if value not in allowed:
            raise SpecError(f"FilamentSpec.{name} = {value!r} must be a {want} of devicephys.materials; "
                            f"choose one of {allowed}", field=name)
    active = materials.get(spec.active_electrode)
    needs = ("fermi_wavevector", "mean_free_path", "reference_temperature", "molar_mass")
    if any(key not in active.properties for key in needs):
        usable = [n for n in materials.names("metal") if all(k in materials.get(n).properties for k in needs)]
        raise SpecError(f"FilamentSpec.active_electrode = {spec.active_electrode!r} has no Fermi wavevector or mean "
                        f"free path or molar mass in devicephys.materials (the filament is made of it); choose one of {usable}",
                        field="active_electrode")


def _check_geometry(spec: FilamentSpec) -> None:
    if spec.seed_height >= spec.insulator_thickness:
        raise SpecError(f"FilamentSpec.seed_height = {spec.seed_height:g} m overlaps the counter electrode "
                        f"(insulator_thickness = {spec.insulator_thickness:g} m); make it smaller than the insulator",
                        field="seed_height")
    for name in ("seed_radius", "channel_radius"):
        value = getattr(spec, name)
        if value >= 0.5 * spec.cell_radius:
            raise SpecError(f"FilamentSpec.{name} = {value:g} m must be < half the cell radius "
                            f"({0.5 * spec.cell_radius:g} m); reduce it or enlarge the footprint", field=name)


def _check_mesh(spec: FilamentSpec) -> None:
    gap = spec.insulator_thickness - spec.seed_height
    if spec.axis_mesh_size > gap / MIN_ELEMENTS_ACROSS_INSULATOR:
        raise SpecError(f"FilamentSpec.axis_mesh_size = {spec.axis_mesh_size:g} m is too coarse to resolve the insulator "
                        f"gap of {gap:g} m; use <= {gap / MIN_ELEMENTS_ACROSS_INSULATOR:g} m "
                        f"({MIN_ELEMENTS_ACROSS_INSULATOR} elements across)", field="axis_mesh_size")
    if spec.axis_mesh_size > spec.channel_radius / 2:
        raise SpecError(f"FilamentSpec.axis_mesh_size = {spec.axis_mesh_size:g} m cannot resolve the channel radius "
                        f"{spec.channel_radius:g} m; use <= {spec.channel_radius / 2:g} m", field="axis_mesh_size")
    if spec.far_mesh_size < spec.axis_mesh_size:
        raise SpecError(f"FilamentSpec.far_mesh_size = {spec.far_mesh_size:g} m must be >= axis_mesh_size "
                        f"({spec.axis_mesh_size:g} m); raise it", field="far_mesh_size")


#: Fields that set the size of the mesh, tried one at a time at their defaults to name the cause of a refusal.
_SIZE_FIELDS = ("insulator_thickness", "footprint_x", "footprint_y", "active_electrode_thickness",
                "counter_electrode_thickness", "axis_mesh_size", "far_mesh_size", "channel_radius", "seed_radius")


def _check_size(spec: FilamentSpec) -> None:
    """Refuse, before meshing, a cell whose mesh and solve would not fit in the memory available now."""
    from devicephys.filament import mesh

    def size(s: FilamentSpec) -> mesh.SizeEstimate:
        return mesh.estimate_size(mesh.CellGeometry.from_spec(s))

    est, have = size(spec), available_memory()
    if est.memory <= have:
        return
    defaults = {name: FilamentSpec.model_fields[name].default for name in _SIZE_FIELDS}
    changed = [name for name in _SIZE_FIELDS if getattr(spec, name) != defaults[name]] or ["insulator_thickness"]
    cause = min(changed, key=lambda name: size(spec.model_copy(update={name: defaults[name]})).memory)
    raise SpecError(f"FilamentSpec.{cause} = {getattr(spec, cause):g} m makes the mesh too large: about {est.triangles:.3g} "
                    f"triangles and {est.unknowns:.3g} unknowns, {est.memory / 2**30:.3g} GiB, but only "
                    f"{have / 2**30:.3g} GiB is available; bring {cause} towards its default ({defaults[cause]:g} m)",
                    field=cause)


def _check_fire_study(spec: FilamentSpec) -> None:
    """The pulse-integration study needs amplitudes and periods together, each physical."""
    if bool(spec.fire_voltages) != bool(spec.fire_intervals):
        given, other = ("fire_voltages", "fire_intervals") if spec.fire_voltages else ("fire_intervals", "fire_voltages")
        raise SpecError(f"FilamentSpec.{other} is empty while {given} is not; give both (or neither) for the "
                        "pulse-integration study", field=other)
    if any(v <= 0 for v in spec.fire_voltages):
        raise SpecError(f"FilamentSpec.fire_voltages = {spec.fire_voltages} must all be > 0 V; give positive "
                        "amplitudes", field="fire_voltages")
    short = [t for t in spec.fire_intervals if t <= 1.02 * spec.pulse_width]
    if short:
        raise SpecError(f"FilamentSpec.fire_intervals = {short} s do not leave the pulses (pulse_width = "
                        f"{spec.pulse_width:g} s, edges 2 % of it) apart; use periods above "
                        f"{1.02 * spec.pulse_width:g} s", field="fire_intervals")
