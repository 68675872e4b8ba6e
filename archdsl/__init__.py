r"""archdsl: an architecture-description language and compiler for convolutional networks.

    .arch text -> AST (syntax/) -> IR with static shapes (passes/) -> torch modules (lower/)
                                                                 \-> diagrams (viz/), summaries

The stages, in order, are the functions of `archdsl.pipeline`; the API below and every CLI command go
through them. The top level never imports torch, so `archdsl.check` and `archdsl check` stay fast.
"""

from .api import build, check, load, reparameterize
from .diagnostics import ArchError, Diagnostic
from .ir import Network
from .sweep import Sweep, sweep
from . import viz  # noqa: F401  (draws a Network inline in Jupyter: the IR itself does not import viz)

__version__ = "0.1.0"

__all__ = ["ArchError", "Diagnostic", "Network", "Sweep", "build", "check", "load", "reparameterize", "sweep",
           "__version__"]
