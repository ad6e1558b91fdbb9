"""The sweep spec: the W&B parameter grammar, the blocks, validation into a typed `Sweep`.

Nothing here imports Ray or torch: a spec validates in a fraction of a second.
"""

from raysearch.spec.load import apply_sets, load_spec, read_yaml
from raysearch.spec.sweep import Sweep, parse_sweep

__all__ = ["Sweep", "load_spec", "parse_sweep", "read_yaml", "apply_sets"]
