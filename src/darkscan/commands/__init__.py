"""Sub-commands of the ``darkscan`` command line, one module per verb."""
