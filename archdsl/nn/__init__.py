"""The few torch modules that `torch.nn` lacks, at the bottom of the layers.

The primitives' builders and the reparameterization pass both name them, so they live below both; everything
else lowers to stock `torch.nn` modules. `network_of` gives the IR a lowered module was built from. Importing
this package imports torch.
"""

from .channels import ChannelShuffle, ChannelSlice
from .drop_path import DropPath
from .network_ref import attach_network, network_of

#: the `torch.fx` node meta key that names the primitive behind a module call (`"dropout"`): where a graph
#: records it, the fx reparameterization pass asks the primitive registry instead of guessing from classes
PRIMITIVE = "archdsl_primitive"

__all__ = ["PRIMITIVE", "ChannelShuffle", "ChannelSlice", "DropPath", "attach_network", "network_of"]
