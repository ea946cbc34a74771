"""Fast detector simulation of Belle II, Belle and BaBar (one parameter file per experiment)."""
