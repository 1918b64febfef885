"""The networks in ``configs/`` written by hand in plain ``torch.nn``.

Each builder mirrors one config file layer for layer, so a test can compare cnncalc's
figures with what PyTorch itself counts. The classic architectures follow torchvision's
definitions (0.2x) exactly, without importing torchvision.

The published figures live in ``published.py`` so that tests can use them without torch.

Merges follow the model format: a residual is ``merge(body(x), shortcut(x))`` and a
``concat`` merge joins ``[body, shortcut]`` along the channel dimension.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from published import PUBLISHED, gigas  # re-exported: the figures these builders reproduce
from torch import nn

Shape = tuple[int, ...]


# ---- blocks shared by several networks ---------------------------------------------------
class Residual(nn.Module):
    """``merge(body(x), shortcut(x))``; the shortcut is the identity when left out."""

    def __init__(
        self, body: nn.Module, shortcut: nn.Module | None = None, merge: str = "add"
    ) -> None:
        super().__init__()
        self.body = body
        self.shortcut = shortcut if shortcut is not None else nn.Identity()
        self.merge = merge

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, skip = self.body(x), self.shortcut(x)
        if self.merge == "concat":
            return torch.cat([out, skip], dim=1)
        return out + skip


def conv_bn(
    in_channels: int,
    out_channels: int,
    kernel_size: int,
    stride: int = 1,
    groups: int = 1,
) -> list[nn.Module]:
    """Conv without bias, then BatchNorm; ``padding = (kernel_size - 1) // 2``."""
    padding = (kernel_size - 1) // 2
    return [
        nn.Conv2d(
            in_channels, out_channels, kernel_size, stride, padding, groups=groups, bias=False
        ),
        nn.BatchNorm2d(out_channels),
    ]


# ---- small seed networks -----------------------------------------------------------------
def seed_lenet() -> nn.Module:
    """The LeNet example of the model format: tanh and average pooling, 1x32x32."""
    return nn.Sequential(
        nn.Conv2d(1, 6, 5),
        nn.Tanh(),
        nn.AvgPool2d(2),
        nn.Conv2d(6, 16, 5),
        nn.Tanh(),
        nn.AvgPool2d(2),
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120),
        nn.Tanh(),
        nn.Linear(120, 84),
        nn.Tanh(),
        nn.Linear(84, 10),
    )


def seed_keras() -> nn.Module:
    """The Keras-style network of the seed notes, 1x28x28."""
    return nn.Sequential(
        nn.Conv2d(1, 4, 5),  # 28 -> 24
        nn.Tanh(),
        nn.Conv2d(4, 8, 3),  # 24 -> 22
        nn.Tanh(),
        nn.MaxPool2d(2),  # 22 -> 11
        nn.Conv2d(8, 16, 3),  # 11 -> 9
        nn.ReLU(),
        nn.MaxPool2d(2),  # 9 -> 4 (floor of 4.5)
        nn.Flatten(),
        nn.Linear(16 * 4 * 4, 128),
        nn.Tanh(),
        nn.Linear(128, 10),
        nn.Softmax(dim=1),
    )


def lenet5() -> nn.Module:
    """LeNet-5 as PyTorch courses write it for 28x28 MNIST: padding 2 on the first conv."""
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2),
        nn.Sigmoid(),
        nn.AvgPool2d(2, stride=2),
        nn.Conv2d(6, 16, 5),
        nn.Sigmoid(),
        nn.AvgPool2d(2, stride=2),
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120),
        nn.Sigmoid(),
        nn.Linear(120, 84),
        nn.Sigmoid(),
        nn.Linear(84, 10),
    )


# ---- torchvision's classics, with torchvision's attribute names ---------------------------
# The modules hold the attributes torchvision gives them, so ``named_parameters()`` has
# torchvision's names (``layer1.0.conv1``, ``features.0.0``). Where torchvision calls a
# function in ``forward`` (``torch.flatten``), these hold a parameterless module instead,
# so every step of the run is a leaf module a test can hook.
class AlexNet(nn.Module):
    """torchvision ``AlexNet``."""

    def __init__(self, num_classes: int = 1000) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(64, 192, kernel_size=5, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(192, 384, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.flatten = nn.Flatten()
        self.classifier = nn.Sequential(
            nn.Dropout(0.5),
            nn.Linear(256 * 6 * 6, 4096),
            nn.ReLU(inplace=True),
            nn.Dropout(0.5),
            nn.Linear(4096, 4096),
            nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.flatten(self.avgpool(self.features(x))))


def alexnet() -> nn.Module:
    return AlexNet()


# (output channels, 3x3 convs) per stage; each stage ends with a 2x2 max-pool
VGG16_STAGES = ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3))


class VGG(nn.Module):
    """torchvision ``VGG`` in configuration D (``vgg16``, no batch norm)."""

    def __init__(self, num_classes: int = 1000) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        in_channels = 3
        for channels, convs in VGG16_STAGES:
            for _ in range(convs):
                layers += [nn.Conv2d(in_channels, channels, 3, padding=1), nn.ReLU(inplace=True)]
                in_channels = channels
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.flatten = nn.Flatten()
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096),
            nn.ReLU(inplace=True),
            nn.Dropout(0.5),
            nn.Linear(4096, 4096),
            nn.ReLU(inplace=True),
            nn.Dropout(0.5),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.flatten(self.avgpool(self.features(x))))


def vgg16() -> nn.Module:
    return VGG()


# ---- ResNet v1.5 -------------------------------------------------------------------------
def downsample(in_channels: int, out_channels: int, stride: int) -> nn.Module | None:
    """The projection shortcut where the shape changes: 1x1 conv with the stride, then BN."""
    if stride == 1 and in_channels == out_channels:
        return None
    return nn.Sequential(*conv_bn(in_channels, out_channels, 1, stride))


class BasicBlock(nn.Module):
    """torchvision ``BasicBlock``: two 3x3 convs; ReLU after the addition."""

    expansion = 1

    def __init__(self, in_channels: int, planes: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1, self.bn1 = conv_bn(in_channels, planes, 3, stride)
        self.relu = nn.ReLU(inplace=True)
        self.conv2, self.bn2 = conv_bn(planes, planes, 3)
        self.downsample = downsample(in_channels, planes, stride)
        self.relu_out = nn.ReLU(inplace=True)  # torchvision calls self.relu again

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu_out(out + identity)


class Bottleneck(nn.Module):
    """torchvision ``Bottleneck`` (v1.5: the stride is on the 3x3 conv); expansion 4."""

    expansion = 4

    def __init__(self, in_channels: int, width: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1, self.bn1 = conv_bn(in_channels, width, 1)
        self.conv2, self.bn2 = conv_bn(width, width, 3, stride)
        self.conv3, self.bn3 = conv_bn(width, width * 4, 1)
        self.relu1, self.relu2 = nn.ReLU(inplace=True), nn.ReLU(inplace=True)
        self.downsample = downsample(in_channels, width * 4, stride)
        self.relu_out = nn.ReLU(inplace=True)  # torchvision calls one self.relu three times

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu1(self.bn1(self.conv1(x)))
        out = self.relu2(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu_out(out + identity)


class ResNet(nn.Module):
    """torchvision ``ResNet``: a 7x7 stem, four stages of 64/128/256/512 planes, ``fc``."""

    def __init__(
        self, block: type[BasicBlock] | type[Bottleneck], layers: tuple[int, int, int, int],
        num_classes: int = 1000,
    ) -> None:  # fmt: skip
        super().__init__()
        self.conv1, self.bn1 = conv_bn(3, 64, 7, stride=2)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        in_channels = 64
        for stage, (planes, count) in enumerate(zip((64, 128, 256, 512), layers, strict=True)):
            blocks = []
            for index in range(count):
                stride = 2 if stage > 0 and index == 0 else 1
                blocks.append(block(in_channels, planes, stride))
                in_channels = planes * block.expansion
            setattr(self, f"layer{stage + 1}", nn.Sequential(*blocks))
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(512 * block.expansion, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(self.flatten(self.avgpool(x)))


def resnet18() -> nn.Module:
    return ResNet(BasicBlock, (2, 2, 2, 2))


def resnet50() -> nn.Module:
    return ResNet(Bottleneck, (3, 4, 6, 3))


# ---- MobileNetV2 -------------------------------------------------------------------------
def conv_bn_relu6(
    in_channels: int, out_channels: int, kernel_size: int = 3, stride: int = 1, groups: int = 1
) -> nn.Sequential:
    """torchvision ``Conv2dNormActivation`` with ReLU6: a Sequential of conv, BN, ReLU6."""
    return nn.Sequential(
        *conv_bn(in_channels, out_channels, kernel_size, stride, groups),
        nn.ReLU6(inplace=True),
    )


class InvertedResidual(nn.Module):
    """torchvision ``InvertedResidual``: expand 1x1, depthwise 3x3, project 1x1 (linear),
    held in ``conv``; the input is added back where stride is 1 and channels unchanged."""

    def __init__(self, in_channels: int, out_channels: int, stride: int, expand_ratio: int) -> None:
        super().__init__()
        hidden = in_channels * expand_ratio
        layers: list[nn.Module] = []
        if expand_ratio != 1:
            layers.append(conv_bn_relu6(in_channels, hidden, kernel_size=1))
        layers.append(conv_bn_relu6(hidden, hidden, stride=stride, groups=hidden))
        layers += conv_bn(hidden, out_channels, 1)
        self.conv = nn.Sequential(*layers)
        self.use_res_connect = stride == 1 and in_channels == out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv(x) if self.use_res_connect else self.conv(x)


# (expand ratio t, output channels c, repeats n, first stride s), width multiplier 1.0
MOBILENETV2_SETTINGS = [
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
]


class MobileNetV2(nn.Module):
    """torchvision ``MobileNetV2`` (width 1.0, last channel 1280)."""

    def __init__(self, num_classes: int = 1000) -> None:
        super().__init__()
        features: list[nn.Module] = [conv_bn_relu6(3, 32, stride=2)]
        in_channels = 32
        for t, c, n, s in MOBILENETV2_SETTINGS:
            for index in range(n):
                features.append(InvertedResidual(in_channels, c, s if index == 0 else 1, t))
                in_channels = c
        features.append(conv_bn_relu6(in_channels, 1280, kernel_size=1))
        self.features = nn.Sequential(*features)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.flatten = nn.Flatten()
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(1280, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.flatten(self.avgpool(self.features(x))))


def mobilenet_v2() -> nn.Module:
    return MobileNetV2()


# ---- U-Net -------------------------------------------------------------------------------
def double_conv(in_channels: int, out_channels: int) -> nn.Sequential:
    """Two 3x3 convs with padding 1 (sizes preserved), each followed by ReLU."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, padding=1),
        nn.ReLU(inplace=True),
        nn.Conv2d(out_channels, out_channels, 3, padding=1),
        nn.ReLU(inplace=True),
    )


class Down(nn.Module):
    """2x2 max-pool, then the level's double conv."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.pool = nn.MaxPool2d(2)
        self.conv = double_conv(in_channels, out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(self.pool(x))


class Up(nn.Module):
    """Transposed conv up, joined with the skip connection as ``cat([skip, up])``."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.up = nn.ConvTranspose2d(in_channels, out_channels, kernel_size=2, stride=2)
        self.conv = double_conv(out_channels * 2, out_channels)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        return self.conv(torch.cat([skip, self.up(x)], dim=1))


class UNet(nn.Module):
    """U-Net (Ronneberger et al. 2015) with padded convs: 4 down and 4 up levels."""

    def __init__(self, in_channels: int = 1, num_classes: int = 2, base: int = 64) -> None:
        super().__init__()
        self.inc = double_conv(in_channels, base)
        for level in range(1, 5):
            setattr(self, f"down{level}", Down(base * 2 ** (level - 1), base * 2**level))
        for level in range(1, 5):
            channels = base * 2 ** (4 - level)
            setattr(self, f"up{level}", Up(channels * 2, channels))
        self.outc = nn.Conv2d(base, num_classes, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = [self.inc(x)]
        for level in range(1, 5):
            skips.append(getattr(self, f"down{level}")(skips[-1]))
        x = skips.pop()
        for level in range(1, 5):
            x = getattr(self, f"up{level}")(x, skips.pop())
        return self.outc(x)


def unet() -> nn.Module:
    return UNet()


# ---- ConvNeXt ----------------------------------------------------------------------------
class Permute(nn.Module):
    """torchvision ``ops.misc.Permute``."""

    def __init__(self, dims: list[int]) -> None:
        super().__init__()
        self.dims = dims

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.permute(x, self.dims)


class LayerNorm2d(nn.LayerNorm):
    """torchvision ``convnext.LayerNorm2d``: LayerNorm over the channels of (N, C, H, W)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.permute(0, 2, 3, 1)
        x = nn.functional.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)


class StochasticDepth(nn.Module):
    """torchvision ``ops.StochasticDepth``: drops a sample's (``row``) or the batch's
    (``batch``) residual branch with probability p in training; the identity in eval."""

    def __init__(self, p: float, mode: str) -> None:
        super().__init__()
        if p < 0.0 or p > 1.0:
            raise ValueError(f"drop probability has to be between 0 and 1, but got {p}")
        if mode not in ["batch", "row"]:
            raise ValueError(f"mode has to be either 'batch' or 'row', but got {mode}")
        self.p = p
        self.mode = mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        survival_rate = 1.0 - self.p
        size = [x.shape[0]] + [1] * (x.ndim - 1) if self.mode == "row" else [1] * x.ndim
        noise = torch.empty(size, dtype=x.dtype, device=x.device).bernoulli_(survival_rate)
        if survival_rate > 0.0:
            noise.div_(survival_rate)
        return x * noise


class CNBlock(nn.Module):
    """torchvision ``CNBlock``; ``layer_scale`` is a parameter of the block itself."""

    def __init__(self, dim: int, layer_scale: float, stochastic_depth_prob: float) -> None:
        super().__init__()
        self.block = nn.Sequential(
            nn.Conv2d(dim, dim, kernel_size=7, padding=3, groups=dim, bias=True),
            Permute([0, 2, 3, 1]),
            nn.LayerNorm(dim, eps=1e-6),
            nn.Linear(in_features=dim, out_features=4 * dim, bias=True),
            nn.GELU(),
            nn.Linear(in_features=4 * dim, out_features=dim, bias=True),
            Permute([0, 3, 1, 2]),
        )
        self.layer_scale = nn.Parameter(torch.ones(dim, 1, 1) * layer_scale)
        self.stochastic_depth = StochasticDepth(stochastic_depth_prob, "row")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        result = self.layer_scale * self.block(x)
        result = self.stochastic_depth(result)
        result += x
        return result


class ConvNeXt(nn.Module):
    """torchvision ``ConvNeXt``: stem, stages of CNBlocks with downsampling between them,
    average pool and a LayerNorm2d + Linear head."""

    def __init__(
        self,
        widths: tuple[int, ...] = (96, 192, 384, 768),
        depths: tuple[int, ...] = (3, 3, 9, 3),
        stochastic_depth_prob: float = 0.1,
        layer_scale: float = 1e-6,
        num_classes: int = 1000,
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = [
            nn.Sequential(
                nn.Conv2d(3, widths[0], kernel_size=4, stride=4, padding=0, bias=True),
                LayerNorm2d(widths[0], eps=1e-6),
            )
        ]
        total_blocks, block_id = sum(depths), 0
        for stage, (width, depth) in enumerate(zip(widths, depths, strict=True)):
            blocks = []
            for _ in range(depth):
                p = stochastic_depth_prob * block_id / (total_blocks - 1.0)
                blocks.append(CNBlock(width, layer_scale, p))
                block_id += 1
            layers.append(nn.Sequential(*blocks))
            if stage + 1 < len(widths):
                layers.append(
                    nn.Sequential(
                        LayerNorm2d(width, eps=1e-6),
                        nn.Conv2d(width, widths[stage + 1], kernel_size=2, stride=2),
                    )
                )
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(
            LayerNorm2d(widths[-1], eps=1e-6), nn.Flatten(1), nn.Linear(widths[-1], num_classes)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.avgpool(self.features(x)))


def convnext_tiny() -> nn.Module:
    return ConvNeXt()


# ---- the table the tests use -------------------------------------------------------------
REFERENCE: dict[str, tuple[Callable[[], nn.Module], Shape]] = {
    "seed-lenet.yaml": (seed_lenet, (1, 32, 32)),
    "seed-keras.yaml": (seed_keras, (1, 28, 28)),
    "lenet5.yaml": (lenet5, (1, 28, 28)),
    "alexnet.yaml": (alexnet, (3, 224, 224)),
    "vgg16.yaml": (vgg16, (3, 224, 224)),
    "resnet18.yaml": (resnet18, (3, 224, 224)),
    "resnet50.yaml": (resnet50, (3, 224, 224)),
    "mobilenetv2.yaml": (mobilenet_v2, (3, 224, 224)),
    "unet.yaml": (unet, (1, 256, 256)),
    "convnext_tiny.yaml": (convnext_tiny, (3, 224, 224)),
}


# ---- counting as PyTorch sees it ---------------------------------------------------------
def count_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def parameter_prefixes(module: nn.Module) -> list[str]:
    """The modules that hold parameters, as ``named_parameters()`` names them, in order:
    ``layer1.0.conv1`` for ``layer1.0.conv1.weight``."""
    return list(dict.fromkeys(name.rpartition(".")[0] for name, _ in module.named_parameters()))


def run(module: nn.Module, input_shape: Shape) -> tuple[Shape, int]:
    """Output shape and MACs of a batch-1 forward pass.

    FlopCounterMode counts 2 FLOPs per multiply-accumulate of conv and linear layers and
    ignores bias additions, so half its total is the MAC count cnncalc reports.
    """
    from torch.utils.flop_counter import FlopCounterMode

    module.eval()
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        out = module(torch.randn(1, *input_shape))
    return tuple(out.shape), counter.get_total_flops() // 2


def main() -> None:
    """Print every builder's figures and check the classic ones against the published ones."""
    for name, (build, shape) in REFERENCE.items():
        model = build()
        params = count_params(model)
        out_shape, macs = run(model, shape)
        print(f"{name:18} output {out_shape}  params {params:,}  MACs {macs:,}")
        if name in PUBLISHED:
            published = PUBLISHED[name]
            assert params == published["params"], (name, params)
            assert macs == published["macs"], (name, macs)
            assert gigas(macs, str(published["gmacs"])) == published["gmacs"], (name, macs)


if __name__ == "__main__":
    main()
