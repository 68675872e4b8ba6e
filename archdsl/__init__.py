r"""archdsl: an architecture-description language and compiler for convolutional networks.

    .arch text -> AST (syntax/) -> IR with static shapes (passes/) -> torch modules (lower/)
                                                                 \-> diagrams (viz/), summaries

The top level never imports torch, so `archdsl.check` and `archdsl check` stay fast and torch-free.
"""

from .api import build, check, load
from .diagnostics import ArchError, Diagnostic
from .ir import Network
from .reparam import reparameterize
from .sweep import Sweep, sweep

__version__ = "0.1.0"

__all__ = ["ArchError", "Diagnostic", "Network", "Sweep", "build", "check", "load", "reparameterize", "sweep",
           "__version__"]
