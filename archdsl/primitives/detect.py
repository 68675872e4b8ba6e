"""Detection decoding: `yolo_decode`, Ultralytics' YOLOv8 inference step (DFL, anchor points, strides), which
turns the three per-scale head maps into one tensor of detections. See `archdsl/nn/yolo_decode.py`."""

from __future__ import annotations

from .base import ParamModel, PositiveInt, Primitive, ShapeError, register, require_rank
from ..types import TensorType


class YoloDecodeParams(ParamModel):
    classes: PositiveInt
    reg_max: PositiveInt = 16
    strides: tuple[PositiveInt, PositiveInt, PositiveInt] = (8, 16, 32)


@register
class YoloDecode(Primitive):
    """`yolo_decode(@p4, @p5, classes=80)` on the stride-8 map: three maps of 4 * reg_max + classes channels ->
    (4 + classes) x anchors, boxes in pixels (cx, cy, w, h) then class probabilities, anchors = the sum of the
    maps' H*W. Holds the fixed DFL convolution (`reg_max` weights that do not train) when reg_max > 1."""

    name = "yolo_decode"
    family = "reshape"
    Params = YoloDecodeParams
    tensor_params = ("p4", "p5")

    def infer(self, p, x, p4: TensorType | None = None, p5: TensorType | None = None):
        if p4 is None or p5 is None:
            raise ShapeError("E0207", "`yolo_decode` needs the maps of the other two scales",
                             help="name them with `-> name` and write `yolo_decode(@p4, @p5, classes=...)`")
        channels = 4 * p.reg_max + p.classes
        for which, t in (("its input", x), ("`@p4`", p4), ("`@p5`", p5)):
            require_rank(self.name, t, 3)
            if t.c != channels:
                raise ShapeError("E0204", f"`yolo_decode` needs maps of 4 * reg_max + classes = {channels} channels, "
                                 f"{which} has {t.c}", help="each scale's map is cat(box branch, class branch)")
        return TensorType.of(4 + p.classes, sum(t.h * t.w for t in (x, p4, p5)))

    def build(self, p, x, y):
        from ..nn.yolo_decode import YoloDecode as YoloDecodeModule

        return YoloDecodeModule(p.classes, p.reg_max, p.strides)

    def label(self, p):
        return f"YOLO decode, DFL {p.reg_max} bins"

    def param_count(self, p, x, y):
        return p.reg_max if p.reg_max > 1 else 0

    def macs(self, p, x, y):
        return 4 * p.reg_max * y.dims[1] if p.reg_max > 1 else 0
