"""specs/unet.arch against a U-Net written by hand in PyTorch: the same parameter count, state_dict (keys and shapes,
in order) and outputs, in eval and training mode, for the transposed-conv and the bilinear variants.

The reference is the padded U-Net most used in PyTorch (the layout of milesial/Pytorch-UNet, written anew here):
3x3 convolutions padded by 1 and without bias, each followed by BatchNorm and ReLU; 2x2 max pooling down; up by a
2x2 transposed convolution that halves the channels (or bilinear interpolation with aligned corners); the skip
tensor concatenated first; a 1x1 convolution to the classes.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

import archdsl
from archdsl.weights import load_weights

from conftest import SPECS, randomize_batchnorm_stats

SPEC = SPECS / "unet.arch"


class DoubleConv(nn.Module):
    def __init__(self, c_in: int, c_out: int, c_mid: int | None = None):
        super().__init__()
        c_mid = c_mid or c_out
        layers = []
        for a, b in ((c_in, c_mid), (c_mid, c_out)):
            layers += [nn.Conv2d(a, b, 3, padding=1, bias=False), nn.BatchNorm2d(b), nn.ReLU(inplace=True)]
        self.double_conv = nn.Sequential(*layers)

    def forward(self, x):
        return self.double_conv(x)


class Down(nn.Module):
    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.maxpool_conv = nn.Sequential(nn.MaxPool2d(2), DoubleConv(c_in, c_out))

    def forward(self, x):
        return self.maxpool_conv(x)


class Up(nn.Module):
    def __init__(self, c_in: int, c_out: int, bilinear: bool):
        super().__init__()
        if bilinear:
            self.up = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True)
            self.conv = DoubleConv(c_in, c_out, c_in // 2)
        else:
            self.up = nn.ConvTranspose2d(c_in, c_in // 2, 2, stride=2)
            self.conv = DoubleConv(c_in, c_out)

    def forward(self, x, skip):
        return self.conv(torch.cat([skip, self.up(x)], dim=1))


class OutConv(nn.Module):
    def __init__(self, c_in: int, classes: int):
        super().__init__()
        self.conv = nn.Conv2d(c_in, classes, 1)

    def forward(self, x):
        return self.conv(x)


class UNet(nn.Module):
    def __init__(self, channels: int = 3, classes: int = 2, bilinear: bool = False):
        super().__init__()
        factor = 2 if bilinear else 1
        self.inc = DoubleConv(channels, 64)
        self.down1, self.down2, self.down3 = Down(64, 128), Down(128, 256), Down(256, 512)
        self.down4 = Down(512, 1024 // factor)
        self.up1 = Up(1024, 512 // factor, bilinear)
        self.up2 = Up(512, 256 // factor, bilinear)
        self.up3 = Up(256, 128 // factor, bilinear)
        self.up4 = Up(128, 64, bilinear)
        self.outc = OutConv(64, classes)

    def forward(self, x):
        x1 = self.inc(x)
        x2 = self.down1(x1)
        x3 = self.down2(x2)
        x4 = self.down3(x3)
        x = self.down4(x4)
        for up, skip in ((self.up1, x4), (self.up2, x3), (self.up3, x2), (self.up4, x1)):
            x = up(x, skip)
        return self.outc(x)


#: (bilinear, parameters): the counts the spec's comment gives
VARIANTS = [(False, 31_037_698), (True, 17_263_042)]


@pytest.mark.parametrize("bilinear, params", VARIANTS)
def test_parameter_count_is_static_and_equals_the_reference(bilinear, params):
    net = archdsl.check(SPEC, bilinear=bilinear)
    assert net.param_count == params == sum(p.numel() for p in UNet(bilinear=bilinear).parameters())
    assert net.output.dims == (2, 512, 512)


def test_input_sizes_that_are_not_multiples_of_16_are_refused_statically():
    with pytest.raises(archdsl.ArchError, match="E0202"):
        archdsl.check(SPEC, input=[3, 520, 520])


@pytest.mark.slow
@pytest.mark.parametrize("bilinear", [False, True])
def test_same_state_dict_and_outputs_as_the_hand_written_unet(bilinear):
    torch.manual_seed(0)
    ref = UNet(bilinear=bilinear)
    randomize_batchnorm_stats(ref, affine=True)
    ours = archdsl.load(SPEC, bilinear=bilinear, input=[3, 32, 48])
    assert [(k, v.shape) for k, v in ours.state_dict().items()] == [(k, v.shape) for k, v in ref.state_dict().items()]
    # loaded by order, as a checkpoint whose names differ is (the names are the same here anyway)
    ours = load_weights(ours, {f"unet.{k}": v for k, v in ref.state_dict().items()})
    x = torch.randn(2, 3, 32, 48)
    for training in (False, True):
        ref.train(training), ours.train(training)
        with torch.no_grad():
            torch.testing.assert_close(ours(x), ref(x), rtol=1e-4, atol=1e-5)
    # training mode updated both models' running statistics alike
    torch.testing.assert_close(ours.state_dict(), ref.state_dict())
