"""darkscan: dark-sector searches at e+e- B-factories (Belle II, Belle, BaBar).

Units everywhere: GeV for energies, momenta and masses; cm for lengths; fb for cross sections
and fb^-1 for integrated luminosities; natural units (hbar = c = 1) inside formulas.
"""

__version__ = "0.1.0"
