"""The graph models in ``configs/`` written by hand in plain ``torch.nn``, with the attribute
names torchvision gives them (ShuffleNetV2, DeepLabV3) or that the config uses (the FPN
detector, the Siamese network), so ``named_parameters()`` prefixes can be compared with the
rows' names. Each ``forward`` returns every model output, in the config's order."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from reference_nets import conv_bn
from torch import nn

Shape = tuple[int, ...]


# ---- ShuffleNetV2 x1.0 (torchvision ``shufflenet_v2_x1_0``) -------------------------------
def channel_shuffle(x: torch.Tensor, groups: int) -> torch.Tensor:
    n, c, h, w = x.shape
    return x.view(n, groups, c // groups, h, w).transpose(1, 2).reshape(n, c, h, w)


class ShuffleBlock(nn.Module):
    """torchvision's ShuffleNetV2 ``InvertedResidual``."""

    def __init__(self, inp: int, oup: int, stride: int) -> None:
        super().__init__()
        self.stride = stride
        c = oup // 2
        if stride > 1:
            self.branch1 = nn.Sequential(
                nn.Conv2d(inp, inp, 3, stride, 1, groups=inp, bias=False), nn.BatchNorm2d(inp),
                nn.Conv2d(inp, c, 1, bias=False), nn.BatchNorm2d(c), nn.ReLU(inplace=True),
            )  # fmt: skip
        else:
            self.branch1 = nn.Sequential()
        self.branch2 = nn.Sequential(
            nn.Conv2d(inp if stride > 1 else c, c, 1, bias=False), nn.BatchNorm2d(c),
            nn.ReLU(inplace=True), nn.Conv2d(c, c, 3, stride, 1, groups=c, bias=False),
            nn.BatchNorm2d(c), nn.Conv2d(c, c, 1, bias=False), nn.BatchNorm2d(c),
            nn.ReLU(inplace=True),
        )  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride == 1:
            x1, x2 = x.chunk(2, dim=1)
            out = torch.cat((x1, self.branch2(x2)), dim=1)
        else:
            out = torch.cat((self.branch1(x), self.branch2(x)), dim=1)
        return channel_shuffle(out, 2)


class ShuffleNetV2(nn.Module):
    def __init__(self, repeats: tuple[int, ...] = (4, 8, 4),
                 channels: tuple[int, ...] = (24, 116, 232, 464, 1024)) -> None:  # fmt: skip
        super().__init__()
        self.conv1 = nn.Sequential(
            nn.Conv2d(3, channels[0], 3, 2, 1, bias=False), nn.BatchNorm2d(channels[0]),
            nn.ReLU(inplace=True),
        )  # fmt: skip
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        inp = channels[0]
        for stage, (count, oup) in enumerate(zip(repeats, channels[1:4], strict=True), 2):
            blocks = [ShuffleBlock(inp, oup, 2)] + [ShuffleBlock(oup, oup, 1) for _ in range(count - 1)]
            setattr(self, f"stage{stage}", nn.Sequential(*blocks))
            inp = oup
        self.conv5 = nn.Sequential(
            nn.Conv2d(inp, channels[4], 1, bias=False), nn.BatchNorm2d(channels[4]),
            nn.ReLU(inplace=True),
        )  # fmt: skip
        self.fc = nn.Linear(channels[4], 1000)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        x = self.maxpool(self.conv1(x))
        x = self.conv5(self.stage4(self.stage3(self.stage2(x))))
        return (self.fc(x.mean([2, 3])),)


# ---- DeepLabV3-ResNet50 with its aux head (torchvision ``deeplabv3_resnet50``) -----------
class Bottleneck(nn.Module):
    def __init__(self, inp: int, width: int, stride: int, dilation: int, downsample: bool) -> None:
        super().__init__()
        self.conv1, self.bn1 = conv_bn(inp, width, 1)
        self.conv2 = nn.Conv2d(width, width, 3, stride, dilation, dilation=dilation, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3, self.bn3 = conv_bn(width, width * 4, 1)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = (
            nn.Sequential(*conv_bn(inp, width * 4, 1, stride)) if downsample else None
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


class DilatedResNet50(nn.Module):
    """ResNet-50 with ``replace_stride_with_dilation=[False, True, True]``, without the
    pooling and fc it loses in torchvision's IntermediateLayerGetter."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1, self.bn1 = conv_bn(3, 64, 7, stride=2)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        inp, dilation = 64, 1
        for stage, (width, count, stride, dilate) in enumerate(
            ((64, 3, 1, False), (128, 4, 2, False), (256, 6, 2, True), (512, 3, 2, True)), 1
        ):
            previous = dilation
            if dilate:
                dilation, stride = dilation * stride, 1
            blocks = [Bottleneck(inp, width, stride, previous, True)]
            inp = width * 4
            blocks += [Bottleneck(inp, width, 1, dilation, False) for _ in range(count - 1)]
            setattr(self, f"layer{stage}", nn.Sequential(*blocks))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        aux = self.layer3(self.layer2(self.layer1(x)))
        return self.layer4(aux), aux


def conv_bn_relu(inp: int, out: int, kernel: int = 3, dilation: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(inp, out, kernel, padding=dilation * (kernel // 2), dilation=dilation, bias=False),
        nn.BatchNorm2d(out), nn.ReLU(inplace=True),
    )  # fmt: skip


class ASPPPooling(nn.Sequential):
    def __init__(self, inp: int, out: int) -> None:
        super().__init__(
            nn.AdaptiveAvgPool2d(1), nn.Conv2d(inp, out, 1, bias=False), nn.BatchNorm2d(out),
            nn.ReLU(inplace=True),
        )  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        size = x.shape[-2:]
        for module in self:
            x = module(x)
        return F.interpolate(x, size=size, mode="bilinear", align_corners=False)


class ASPP(nn.Module):
    def __init__(self, inp: int, rates: tuple[int, ...] = (12, 24, 36), out: int = 256) -> None:
        super().__init__()
        self.convs = nn.ModuleList(
            [conv_bn_relu(inp, out, 1), *(conv_bn_relu(inp, out, 3, r) for r in rates), ASPPPooling(inp, out)]
        )
        self.project = nn.Sequential(
            nn.Conv2d(len(self.convs) * out, out, 1, bias=False), nn.BatchNorm2d(out),
            nn.ReLU(inplace=True), nn.Dropout(0.5),
        )  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.project(torch.cat([conv(x) for conv in self.convs], dim=1))


class DeepLabV3(nn.Module):
    def __init__(self, num_classes: int = 21) -> None:
        super().__init__()
        self.backbone = DilatedResNet50()
        self.classifier = nn.Sequential(
            ASPP(2048), nn.Conv2d(256, 256, 3, padding=1, bias=False), nn.BatchNorm2d(256),
            nn.ReLU(inplace=True), nn.Conv2d(256, num_classes, 1),
        )  # fmt: skip
        self.aux_classifier = nn.Sequential(
            nn.Conv2d(1024, 256, 3, padding=1, bias=False), nn.BatchNorm2d(256),
            nn.ReLU(inplace=True), nn.Dropout(0.1), nn.Conv2d(256, num_classes, 1),
        )  # fmt: skip

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        size = x.shape[-2:]
        out, aux = self.backbone(x)
        up = {"size": size, "mode": "bilinear", "align_corners": False}
        return (
            F.interpolate(self.classifier(out), **up),  # type: ignore[arg-type]
            F.interpolate(self.aux_classifier(aux), **up),  # type: ignore[arg-type]
        )


# ---- the small FPN detector --------------------------------------------------------------
def stage(inp: int, out: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(inp, out, 3, 2, 1, bias=False), nn.BatchNorm2d(out), nn.ReLU(inplace=True)
    )


class Body(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem, self.layer1 = stage(3, 32), stage(32, 64)
        self.layer2, self.layer3 = stage(64, 128), stage(128, 256)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        c1 = self.layer1(self.stem(x))
        c2 = self.layer2(c1)
        return c1, c2, self.layer3(c2)


class FPNDetector(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.body = Body()
        self.inner3, self.inner2 = nn.Conv2d(256, 64, 1), nn.Conv2d(128, 64, 1)
        self.inner1 = nn.Conv2d(64, 64, 1)
        self.p1, self.p2, self.p3 = (nn.Conv2d(64, 64, 3, padding=1) for _ in range(3))
        self.head = nn.Sequential(
            nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(inplace=True), nn.Conv2d(64, 18, 3, padding=1)
        )

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        c1, c2, c3 = self.body(x)
        i3 = self.inner3(c3)
        i2 = self.inner2(c2)
        m2 = i2 + F.interpolate(i3, size=i2.shape[-2:], mode="nearest")
        i1 = self.inner1(c1)
        m1 = i1 + F.interpolate(m2, size=i1.shape[-2:], mode="nearest")
        return self.head(self.p1(m1)), self.head(self.p2(m2)), self.head(self.p3(i3))


# ---- the Siamese network -----------------------------------------------------------------
class Siamese(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.tower = nn.Sequential(
            nn.Conv2d(1, 32, 5), nn.ReLU(inplace=True), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3),
            nn.ReLU(inplace=True), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(64 * 14 * 14, 128),
            nn.ReLU(inplace=True),
        )  # fmt: skip
        self.score = nn.Linear(128, 1)

    def forward(self, left: torch.Tensor, right: torch.Tensor) -> tuple[torch.Tensor]:
        return (torch.sigmoid(self.score(self.tower(left) * self.tower(right))),)


# config -> (builder, the inputs it is compared on, one sample each)
GRAPHS: dict[str, tuple[Callable[[], nn.Module], tuple[Shape, ...]]] = {
    "shufflenetv2.yaml": (ShuffleNetV2, ((3, 224, 224),)),
    "deeplabv3_resnet50.yaml": (DeepLabV3, ((3, 72, 88),)),
    "fpn_detector.yaml": (FPNDetector, ((3, 128, 128),)),
    "siamese.yaml": (Siamese, ((1, 64, 64), (1, 64, 64))),
}


def run(module: nn.Module, inputs: tuple[Shape, ...]) -> tuple[tuple[Shape, ...], int]:
    """The output shapes and MACs of a batch-1 forward pass (half the conv and linear FLOPs
    ``torch.utils.flop_counter`` counts)."""
    from torch.utils.flop_counter import FlopCounterMode

    module.eval()
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        outputs = module(*(torch.randn(1, *shape) for shape in inputs))
    return tuple(tuple(o.shape) for o in outputs), counter.get_total_flops() // 2
