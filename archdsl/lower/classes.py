"""Generated module classes: one plain `nn.Module` subclass per block structure, its forward compiled from source.

A spec repeats structures (ResNet's basic blocks, GoogLeNet's inceptions), so a class is made once per
(name, source) and shared by every module of that structure. The source is registered with `linecache`, so
tracebacks, `inspect.getsource(type(m).forward)` and debuggers show the generated lines. A class made at run
time cannot be found by name, so each instance pickles (and deep-copies) as `restore(name, code, ...)` plus its
state: the receiving process regenerates the class from the source it carries.
"""

from __future__ import annotations

import builtins
import collections
import hashlib
import importlib
import linecache
from typing import Any, ClassVar

import torch
from torch import nn

from .codegen import ForwardCode


class Block(nn.Module):
    """A lowered block: its children in spec order and a generated `forward` (shown by `.code`)."""

    _archdsl_code: ClassVar[ForwardCode]

    @property
    def code(self) -> str:
        """The Python source of this module's forward."""
        return type(self)._archdsl_code.source

    def __reduce_ex__(self, protocol: int):
        cls = type(self)
        return restore, (cls.__name__, cls._archdsl_code, issubclass(cls, CheckpointedBlock)), self.__dict__


class CheckpointedBlock(Block):
    """`checkpoint block(...)`: while training, the block's activations are recomputed in the backward pass
    instead of stored (torch.utils.checkpoint), trading compute for memory as torchvision's
    `memory_efficient` DenseNet does. In eval mode or without gradients it is an ordinary call."""

    def __call__(self, *args, **kwargs):
        if self.training and torch.is_grad_enabled():
            from torch.utils.checkpoint import checkpoint

            return checkpoint(super().__call__, *args, use_reentrant=False, **kwargs)
        return super().__call__(*args, **kwargs)


def restore(class_name: str, code: ForwardCode, checkpointed: bool) -> Block:
    """An empty instance of the generated class (pickle then sets its state): what `Block.__reduce_ex__` names."""
    cls = generated_class(class_name, code, checkpointed)
    return cls.__new__(cls)


_CLASSES: dict[tuple, type[Block]] = {}
_CLASSES_LIMIT = 4096  # a process that builds many specs (a search loop) starts over rather than grow


def generated_class(class_name: str, code: ForwardCode, checkpointed: bool = False) -> type[Block]:
    """The class of blocks called `class_name` whose forward is `code` (made once per process)."""
    # what the class depends on (a str caches its hash; `code.inplace` is for the builder, not the class)
    key = (class_name, code.source, code.outputs, code.eval_outputs, checkpointed)
    cls = _CLASSES.get(key)
    if cls is None:
        if len(_CLASSES) >= _CLASSES_LIMIT:
            _CLASSES.clear()
        base = CheckpointedBlock if checkpointed else Block
        namespace = {"forward": _compile(code, class_name), "_archdsl_code": code, "__module__": __name__,
                     "__qualname__": class_name}
        cls = _CLASSES[key] = type(class_name, (base,), namespace)
    return cls


def _compile(code: ForwardCode, class_name: str):
    """The forward function of `code`, its source registered with linecache under a name unique to it."""
    digest = hashlib.sha1(f"{class_name}\0{code.source}".encode()).hexdigest()[:12]
    filename = f"<archdsl {class_name} {digest}>"
    namespace: dict[str, Any] = {"__builtins__": builtins, "OrderedDict": collections.OrderedDict}
    for module in code.modules:
        importlib.import_module(module)
        top = module.split(".")[0]
        namespace[top] = importlib.import_module(top)
    if code.outputs:  # `rename`: a tensor name that Python refuses as a field (a keyword) becomes `_<index>`
        namespace["Outputs"] = collections.namedtuple(f"{class_name}Outputs", code.outputs, rename=True,
                                                      module=__name__)
    if code.eval_outputs:
        namespace["EvalOutputs"] = collections.namedtuple(f"{class_name}EvalOutputs", code.eval_outputs,
                                                          rename=True, module=__name__)
    exec(compile(code.source, filename, "exec"), namespace)
    linecache.cache[filename] = (len(code.source), None, code.source.splitlines(True), filename)
    forward = namespace["forward"]
    forward.__qualname__ = f"{class_name}.forward"
    forward.__module__ = __name__
    return forward
