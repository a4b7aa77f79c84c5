"""Spoken-word classification by the photonic network of blinking neurons.

Modules
-------
wav
    Reading 16 kHz mono WAV clips (one clear line for a bad file).
synth
    The four-word set synthesised with espeak-ng and flite, cached.
dataset
    Folders in the Speech Commands layout (label = folder name) and the
    speaker-disjoint split.
frontend
    Log-mel filter bank (NumPy/SciPy) and a fixed band x frame image per clip.
encode
    The rate code: band energy -> drive voltage of a blinking input neuron.
classify
    The stacked (3-D) photonic network of :mod:`devicephys.array.stack` on the
    spectro-temporal image (input, hidden and readout planes), the ideal
    network, the single-link network and a logistic-regression baseline.
"""
