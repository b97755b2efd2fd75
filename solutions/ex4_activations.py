"""Ejercicio 4: red profunda en MNIST, sigmoide contra ReLU.

Con varias capas sigmoides el gradiente se achica en cada capa (la derivada de la
sigmoide no pasa de 0.25), y las primeras capas casi no aprenden: el problema del
*gradiente que se desvanece*. ReLU tiene derivada 1 donde está activa.

Tarea ``relu_net``: completar ``DeepMLPR``.
"""

from __future__ import annotations

import torch
import torch.nn as nn


class DeepMLP(nn.Module):
    """``depth`` capas ocultas sigmoides de ``width`` unidades y una salida lineal.

    in_dim -> width -> ... (depth capas ocultas) -> out_dim, con la inicialización
    por defecto de PyTorch.
    Entrada: ``(B, 1, 28, 28)`` o ``(B, in_dim)``. Salida: logits ``(B, out_dim)``.
    """

    def __init__(self, in_dim: int, out_dim: int, width: int = 64, depth: int = 4) -> None:
        super().__init__()
        sizes = [in_dim] + [width] * depth
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.output = nn.Linear(width, out_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.reshape(x.shape[0], -1)
        for layer in self.hidden:
            x = torch.sigmoid(layer(x))
        return self.output(x)


class DeepMLPR(nn.Module):
    """Como ``DeepMLP`` pero con ReLU en cada capa oculta.

    in_dim -> width -> ... (depth capas ocultas ReLU) -> out_dim (lineal), con la
    inicialización por defecto de PyTorch.
    Entrada: ``(B, 1, 28, 28)`` o ``(B, in_dim)``. Salida: logits ``(B, out_dim)``.
    """

    def __init__(self, in_dim: int, out_dim: int, width: int = 64, depth: int = 4) -> None:
        super().__init__()
        # BEGIN SOLUTION relu_net
        sizes = [in_dim] + [width] * depth
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.output = nn.Linear(width, out_dim)
        # END SOLUTION

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # BEGIN SOLUTION relu_net
        x = x.reshape(x.shape[0], -1)
        for layer in self.hidden:
            x = torch.relu(layer(x))
        return self.output(x)
        # END SOLUTION
