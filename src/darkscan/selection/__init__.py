"""Selection optimisation: Punzi figure of merit, hand-made cuts per mass, Punzi-net.

* :mod:`~darkscan.selection.punzi` - the event-table and mass-window conventions,
  ``punzi_fom``, ``punzi_sensitivity``, vectorised ``window_yields`` (hard or soft selection);
* :mod:`~darkscan.selection.cuts` - ``optimise_cuts``: a grid scan of rectangular cuts per
  mass hypothesis maximising the Punzi FOM (``CutResult``);
* :mod:`~darkscan.selection.punzi_net` - ``train_punzi_net`` (needs the optional ``ml`` extra,
  torch), ``compare_fom`` and ``optimise_selection`` (falls back to the cuts without torch).

Importing this package never imports torch.
"""

from darkscan.selection.cuts import CutResult, optimise_cuts
from darkscan.selection.punzi import (
    punzi_fom,
    punzi_sensitivity,
    split_table,
    toy_table,
    window_yields,
)
from darkscan.selection.punzi_net import (
    PunziNetFallbackWarning,
    PunziNetResult,
    SelectionOutcome,
    TorchUnavailableError,
    compare_fom,
    load_punzi_net,
    optimise_selection,
    torch_available,
    train_punzi_net,
)

__all__ = [
    "CutResult",
    "PunziNetFallbackWarning",
    "PunziNetResult",
    "SelectionOutcome",
    "TorchUnavailableError",
    "compare_fom",
    "load_punzi_net",
    "optimise_cuts",
    "optimise_selection",
    "punzi_fom",
    "punzi_sensitivity",
    "split_table",
    "toy_table",
    "torch_available",
    "train_punzi_net",
    "window_yields",
]
