"""Brian2 versions of the reference networks (the peer; imported by tests and benchmarks only)."""

from __future__ import annotations

import numpy as np


def brian2_coba(wiring, duration: float, dt: float = 1e-4, *, target: str = "numpy", method: str = "exponential_euler",
                standalone_dir: str | None = None, weight_scale: float = 1.0):
    """Run the COBA network ``wiring`` in Brian2; returns (spike times [s], indices, wall time [s] of run()).

    ``weight_scale`` multiplies both weights (w_e, w_i): pass ``COBA['p'] * 4000 / out_degree`` for a
    network built by ``coba(n, out_degree=...)``, which scales its weights so.  With ``standalone_dir``
    the wall time is the run loop's of the compiled project (``device._last_run_time``).
    """
    import time

    import brian2 as b2
    from devicephys.array.reference import COBA as c

    b2.start_scope()
    if standalone_dir:
        b2.set_device("cpp_standalone", directory=standalone_dir, build_on_run=False)
        b2.prefs.devices.cpp_standalone.openmp_threads = 0
    else:
        b2.prefs.codegen.target = target
    b2.defaultclock.dt = dt * b2.second
    ns = {k: v for k, v in c.items()}
    eqs = """dv/dt = (v_rest - v + ge*(E_e - v) + gi*(E_i - v))/tau_m : volt (unless refractory)
             dge/dt = -ge/tau_e : 1
             dgi/dt = -gi/tau_i : 1"""
    n = wiring.v_init.size
    ns_units = {"tau_m": ns["tau_m"] * b2.second, "v_rest": ns["v_rest"] * b2.volt, "E_e": ns["E_e"] * b2.volt,
                "E_i": ns["E_i"] * b2.volt, "tau_e": ns["tau_e"] * b2.second, "tau_i": ns["tau_i"] * b2.second,
                "v_th": ns["v_th"] * b2.volt, "v_reset": ns["v_reset"] * b2.volt}
    g = b2.NeuronGroup(n, eqs, threshold="v > v_th", reset="v = v_reset", refractory=ns["t_ref"] * b2.second,
                       method=method, namespace=ns_units)
    g.v = wiring.v_init * b2.volt
    exc = wiring.pre < wiring.n_excitatory
    se = b2.Synapses(g, g, on_pre=f"ge += {ns['w_e'] * weight_scale}")
    se.connect(i=wiring.pre[exc], j=wiring.post[exc])
    si = b2.Synapses(g, g, on_pre=f"gi += {ns['w_i'] * weight_scale}")
    si.connect(i=wiring.pre[~exc], j=wiring.post[~exc])
    mon = b2.SpikeMonitor(g)
    net = b2.Network(g, se, si, mon)
    t0 = time.perf_counter()
    net.run(duration * b2.second)
    if standalone_dir:
        b2.device.build(directory=standalone_dir, compile=True, run=True)
        wall = float(b2.device._last_run_time)
    else:
        wall = time.perf_counter() - t0
    times, idx = np.asarray(mon.t / b2.second), np.asarray(mon.i)
    if standalone_dir:
        b2.device.reinit()
        b2.device.activate()
        b2.set_device("runtime")
    return times, idx, wall


def brian2_small(d: dict, duration: float, dt: float):
    """Run :func:`devicephys.array.reference.small_deterministic` in Brian2 (numpy target, exact method)."""
    import brian2 as b2

    b2.start_scope()
    b2.prefs.codegen.target = "numpy"
    b2.defaultclock.dt = dt * b2.second
    eqs = """dv/dt = (v_rest - v + ge + gi)/tau_m : volt (unless refractory)
             dge/dt = -ge/tau_e : volt
             dgi/dt = -gi/tau_i : volt
             v_rest : volt"""
    ns = {"tau_m": d["tau_m"] * b2.second, "tau_e": d["tau_e"] * b2.second, "tau_i": d["tau_i"] * b2.second,
          "v_th": d["v_th"] * b2.volt, "v_reset": d["v_reset"] * b2.volt}
    g = b2.NeuronGroup(5, eqs, threshold="v > v_th", reset="v = v_reset", refractory=d["t_ref"] * b2.second,
                       method="exact", namespace=ns)
    g.v = d["v_init"] * b2.volt
    g.v_rest = d["v_rest"] * b2.volt
    groups = []
    for ch, var in (("e", "ge"), ("i", "gi")):
        sel = d["channel"] == ch
        s = b2.Synapses(g, g, model="w : volt", on_pre=f"{var} += w")
        s.connect(i=d["pre"][sel], j=d["post"][sel])
        s.w = d["weight"][sel] * b2.volt
        s.delay = d["delay"][sel] * b2.second
        groups.append(s)
    mon = b2.SpikeMonitor(g)
    net = b2.Network(g, *groups, mon)
    net.run(duration * b2.second)
    return np.asarray(mon.t / b2.second), np.asarray(mon.i)


def brian2_stdp(d: dict, duration: float, dt: float):
    """The STDP network of the test in Brian2 (numpy target, exact method, event-driven traces).

    Returns (spike times [s], spike indices, final weights [V] in the order of d['pre'], d['post']).
    """
    import brian2 as b2

    b2.start_scope()
    b2.prefs.codegen.target = "numpy"
    b2.defaultclock.dt = dt * b2.second
    eqs = """dv/dt = (v_rest - v + ge)/tau_m : volt (unless refractory)
             dge/dt = -ge/tau_e : volt
             v_rest : volt"""
    n = d["v_rest"].size
    ns = {"tau_m": d["tau_m"] * b2.second, "tau_e": d["tau_e"] * b2.second, "v_th": d["v_th"] * b2.volt,
          "v_reset": d["v_reset"] * b2.volt, "taupre": d["tau_pre"] * b2.second, "taupost": d["tau_post"] * b2.second,
          "dApre": d["d_pre"] * b2.volt, "dApost": d["d_post"] * b2.volt, "wmax": d["w_max"] * b2.volt}
    g = b2.NeuronGroup(n, eqs, threshold="v > v_th", reset="v = v_reset", refractory=d["t_ref"] * b2.second,
                       method="exact", namespace=ns)
    g.v = d["v_init"] * b2.volt
    g.v_rest = d["v_rest"] * b2.volt
    s = b2.Synapses(g, g, model="""w : volt
                                   dApre/dt = -Apre/taupre : volt (event-driven)
                                   dApost/dt = -Apost/taupost : volt (event-driven)""",
                    on_pre="""ge += w
                              Apre += dApre
                              w = clip(w + Apost, 0*volt, wmax)""",
                    on_post="""Apost += dApost
                               w = clip(w + Apre, 0*volt, wmax)""", namespace=ns)
    s.connect(i=d["pre"], j=d["post"])
    s.w = d["w_init"] * b2.volt
    mon = b2.SpikeMonitor(g)
    net = b2.Network(g, s, mon)
    net.run(duration * b2.second)
    w = np.asarray(s.w / b2.volt)
    order = np.lexsort((np.asarray(s.j), np.asarray(s.i)))
    return np.asarray(mon.t / b2.second), np.asarray(mon.i), w[order]


def brian2_coba_euler(wiring, gen: dict, duration: float, dt: float, traced=()):
    """COBA ``wiring`` with forward Euler and a spike-generator drive in Brian2 (numpy target, float64).

    ``gen`` holds ``size``, ``indices``, ``times`` [s] of the generator and its synapses
    ``pre``, ``post``, ``weight`` onto g_e.  Weights are given as the float64 values
    the simulator holds (its weights are float32).  The synapse groups are ordered
    (recurrent excitation, inhibition, then the drive), the order in which the
    simulator adds the same step's inputs.  Returns (spike steps, indices, traces):
    ``traces`` maps v [V], ge, gi [1] to (steps, len(traced)) arrays recorded at
    the start of each step (StateMonitor's default).
    """
    import brian2 as b2
    from devicephys.array.reference import COBA as c

    b2.start_scope()
    b2.prefs.codegen.target = "numpy"
    b2.defaultclock.dt = dt * b2.second
    eqs = """dv/dt = (v_rest - v + ge*(E_e - v) + gi*(E_i - v))/tau_m : volt (unless refractory)
             dge/dt = -ge/tau_e : 1
             dgi/dt = -gi/tau_i : 1"""
    ns = {"tau_m": c["tau_m"] * b2.second, "v_rest": c["v_rest"] * b2.volt, "E_e": c["E_e"] * b2.volt,
          "E_i": c["E_i"] * b2.volt, "tau_e": c["tau_e"] * b2.second, "tau_i": c["tau_i"] * b2.second,
          "v_th": c["v_th"] * b2.volt, "v_reset": c["v_reset"] * b2.volt}
    g = b2.NeuronGroup(wiring.v_init.size, eqs, threshold="v > v_th", reset="v = v_reset",
                       refractory=c["t_ref"] * b2.second, method="euler", namespace=ns)
    g.v = wiring.v_init * b2.volt
    src = b2.SpikeGeneratorGroup(gen["size"], gen["indices"], gen["times"] * b2.second)
    exc = wiring.pre < wiring.n_excitatory
    groups = []
    for k, (pre, post, weight, var, source) in enumerate((
            (wiring.pre[exc], wiring.post[exc], gen["w_e"], "ge", g),
            (wiring.pre[~exc], wiring.post[~exc], gen["w_i"], "gi", g),
            (gen["pre"], gen["post"], gen["weight"], "ge", src))):
        syn = b2.Synapses(source, g, model="w : 1", on_pre=f"{var} += w", order=k)
        syn.connect(i=pre, j=post)
        syn.w = weight
        groups.append(syn)
    mon = b2.SpikeMonitor(g)
    state = b2.StateMonitor(g, ["v", "ge", "gi"], record=np.asarray(traced, dtype=int))
    net = b2.Network(g, src, *groups, mon, state)
    net.run(duration * b2.second)
    steps = np.asarray(np.rint(np.asarray(mon.t / b2.second) / dt), dtype=np.int64)
    traces = {"v": np.asarray(state.v / b2.volt).T, "ge": np.asarray(state.ge).T, "gi": np.asarray(state.gi).T}
    return steps, np.asarray(mon.i), traces


def brian2_refractory(d: dict, t_ref: np.ndarray, duration: float, dt: float):
    """Driven current-based neurons (forward Euler), neuron k with refractory period ``t_ref[k]`` [s].

    ``d`` holds tau_m, tau_e, tau_i [s], v_rest, v_th, v_reset [V].  Returns (spike steps, indices).
    """
    import brian2 as b2

    b2.start_scope()
    b2.prefs.codegen.target = "numpy"
    b2.defaultclock.dt = dt * b2.second
    eqs = """dv/dt = (v_rest - v + ge + gi)/tau_m : volt (unless refractory)
             dge/dt = -ge/tau_e : volt
             dgi/dt = -gi/tau_i : volt
             v_rest : volt
             ref : second"""
    ns = {"tau_m": d["tau_m"] * b2.second, "tau_e": d["tau_e"] * b2.second, "tau_i": d["tau_i"] * b2.second,
          "v_th": d["v_th"] * b2.volt, "v_reset": d["v_reset"] * b2.volt}
    g = b2.NeuronGroup(t_ref.size, eqs, threshold="v > v_th", reset="v = v_reset", refractory="ref",
                       method="euler", namespace=ns)
    g.v = d["v_reset"] * b2.volt
    g.v_rest = d["v_rest"] * b2.volt
    g.ref = t_ref * b2.second
    mon = b2.SpikeMonitor(g)
    net = b2.Network(g, mon)
    net.run(duration * b2.second)
    return np.asarray(np.rint(np.asarray(mon.t / b2.second) / dt), dtype=np.int64), np.asarray(mon.i)
