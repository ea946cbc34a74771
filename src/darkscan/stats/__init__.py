"""Statistics engine: limits, bands and significance over many hypotheses at once.

Modules (each vectorised over hypotheses: arrays in, arrays out):

* :mod:`~darkscan.stats.results` - typed, immutable result records shared by every method;
* :mod:`~darkscan.stats.counting` - counting-experiment likelihood with background/efficiency
  constraints (Gaussian, log-normal, Poisson auxiliary as pyhf's ``uncorrelated_background``),
  asymptotic CLs / CLs+b upper limits (Cowan, Cranmer, Gross, Vitells 2011), expected bands,
  discovery significance;
* :mod:`~darkscan.stats.toys` - the same with pseudo-experiments;
* :mod:`~darkscan.stats.bayes` - Bayesian upper limits (flat prior, nuisances marginalised);
* :mod:`~darkscan.stats.feldman_cousins` - unified intervals;
* :mod:`~darkscan.stats.pdfs`, :mod:`~darkscan.stats.fit` - extended unbinned ML fits;
* :mod:`~darkscan.stats.scan` - scan tables, global significance and combination.
"""
