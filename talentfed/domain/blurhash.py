"""BlurHash (https://blurha.sh): a few dozen characters that apps draw as a blurred placeholder
while a picture loads. Computed from a small copy of the picture, so it costs little."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

BASE83 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~"


def _base83(value: int, length: int) -> str:
    return "".join(BASE83[(value // 83 ** (length - 1 - i)) % 83] for i in range(length))


def _to_linear(srgb: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    value = srgb / 255.0
    return np.where(value <= 0.04045, value / 12.92, ((value + 0.055) / 1.055) ** 2.4)


def _to_srgb(linear: float) -> int:
    value = min(max(linear, 0.0), 1.0)
    if value <= 0.0031308:
        return int(value * 12.92 * 255 + 0.5)
    return int((1.055 * value ** (1 / 2.4) - 0.055) * 255 + 0.5)


def encode(pixels: npt.NDArray[np.uint8], x_components: int = 4, y_components: int = 4) -> str:
    """The BlurHash of an RGB picture given as a height × width × 3 array."""
    height, width = pixels.shape[:2]
    linear = _to_linear(pixels[:, :, :3].astype(np.float64))
    factors = []
    for j in range(y_components):
        for i in range(x_components):
            basis = np.outer(
                np.cos(np.pi * j * np.arange(height) / height), np.cos(np.pi * i * np.arange(width) / width)
            )
            scale = (1.0 if i == j == 0 else 2.0) / (width * height)
            factors.append(scale * np.einsum("hw,hwc->c", basis, linear))
    dc, ac = factors[0], np.array(factors[1:])
    quantised_max = int(max(0, min(82, np.floor(np.abs(ac).max() * 166 - 0.5)))) if len(ac) else 0
    maximum = (quantised_max + 1) / 166
    encoded = _base83(x_components - 1 + (y_components - 1) * 9, 1) + _base83(quantised_max, 1)
    encoded += _base83((_to_srgb(dc[0]) << 16) + (_to_srgb(dc[1]) << 8) + _to_srgb(dc[2]), 4)
    for factor in ac:
        r, g, b = (_quantise_ac(value / maximum) for value in factor)
        encoded += _base83(r * 19 * 19 + g * 19 + b, 2)
    return encoded


def _quantise_ac(value: float) -> int:
    signed_root = np.sign(value) * np.abs(value) ** 0.5
    return int(max(0, min(18, np.floor(signed_root * 9 + 9.5))))
