"""Ejercicio 5: inicialización de pesos y cómo se propagan las señales.

En una red profunda, la escala de las activaciones (hacia adelante) y la de los
gradientes (hacia atrás) se multiplica capa a capa. Si cada capa la achica un poco,
tras 15 capas no queda nada; si la agranda, explota. Xavier/Glorot elige la
varianza de los pesos pensando en activaciones lineales o tanh; con ReLU, que
anula la mitad de la señal, hace falta el doble de varianza: eso hace He/Kaiming.
Una matriz ortogonal escalada por sqrt(2) logra lo mismo conservando normas.

Tareas ``init_schemes`` (``DeepMLP_i``), ``probe_stats`` (``probe_stats``) y
``he_init`` (``DeepMLPI``).
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn

#: Los esquemas de inicialización que acepta ``DeepMLP_i``.
INIT_TYPES = ("xavier", "he", "orthogonal")


class DeepMLP_i(nn.Module):
    """MLP ReLU profunda con inicialización elegible, que reporta sus activaciones.

    Arquitectura: ``depth`` capas ocultas ``nn.Linear`` (in_dim -> width, luego
    width -> width) con ReLU, y una capa de salida ``nn.Linear(width, out_dim)`` lineal.

    Inicialización de **todas** las capas lineales (también la de salida), con bias en 0:
    - ``"xavier"``: ``nn.init.xavier_uniform_``;
    - ``"he"``: ``nn.init.kaiming_uniform_`` con ``nonlinearity="relu"``;
    - ``"orthogonal"``: ``nn.init.orthogonal_`` con ganancia ``sqrt(2)``.

    ``forward(x)`` con ``x`` float ``(B, in_dim)`` devuelve ``(out, stds)``:
    - out: ``(B, out_dim)``;
    - stds: lista de ``depth`` floats, el desvío estándar (``.std()`` sobre todo el
      lote) de la salida de cada capa oculta *después* de la ReLU, primera capa primero.
    """

    def __init__(
        self,
        init_type: str = "xavier",
        depth: int = 15,
        width: int = 128,
        in_dim: int = 100,
        out_dim: int = 10,
    ) -> None:
        super().__init__()
        if init_type not in INIT_TYPES:
            raise ValueError(f"init_type debe ser uno de {INIT_TYPES}, no {init_type!r}")
        self.init_type = init_type
        # BEGIN SOLUTION init_schemes
        sizes = [in_dim] + [width] * depth
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.output = nn.Linear(width, out_dim)
        for layer in [*self.hidden, self.output]:
            if init_type == "xavier":
                nn.init.xavier_uniform_(layer.weight)
            elif init_type == "he":
                nn.init.kaiming_uniform_(layer.weight, nonlinearity="relu")
            else:
                nn.init.orthogonal_(layer.weight, gain=math.sqrt(2.0))
            nn.init.zeros_(layer.bias)
        # END SOLUTION

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, list[float]]:
        # BEGIN SOLUTION init_schemes
        stds: list[float] = []
        for layer in self.hidden:
            x = torch.relu(layer(x))
            stds.append(x.detach().std().item())
        return self.output(x), stds
        # END SOLUTION


def probe_stats(
    net: nn.Module, batch_size: int = 64, in_dim: int = 100
) -> tuple[list[float], list[float]]:
    """Mide cómo se propagan las señales en ``net`` (una ``DeepMLP_i``) con datos al azar.

    Pasos: ``x ~ N(0, 1)`` de forma ``(batch_size, in_dim)``; ``out, activation_stds =
    net(x)``; pérdida = promedio de ``out ** 2``; backward.

    Devuelve:
    - activation_stds: la lista que devuelve ``net`` (``depth`` floats).
    - grad_stds: ``depth + 1`` floats, el desvío estándar del gradiente del **peso** de
      cada capa ``nn.Linear`` de ``net``, de la capa de entrada a la de salida.
    """
    # BEGIN SOLUTION probe_stats
    # reference-canary-5e1f09c4: only the reference holds this line; the sandbox tests
    # prove it never reaches any output of grading.
    net.zero_grad()
    x = torch.randn(batch_size, in_dim)
    out, activation_stds = net(x)
    out.pow(2).mean().backward()
    grad_stds = [m.weight.grad.std().item() for m in net.modules() if isinstance(m, nn.Linear)]
    return list(activation_stds), grad_stds
    # END SOLUTION


class DeepMLPI(nn.Module):
    """MLP ReLU como ``DeepMLPR`` pero con inicialización de He.

    in_dim -> width -> ... (depth capas ocultas ReLU) -> out_dim (lineal). Cada
    ``nn.Linear`` con ``nn.init.kaiming_uniform_(peso, nonlinearity="relu")`` y bias en 0.
    Entrada: ``(B, 1, 28, 28)`` o ``(B, in_dim)``. Salida: logits ``(B, out_dim)``.
    """

    def __init__(self, in_dim: int, out_dim: int, width: int = 64, depth: int = 4) -> None:
        super().__init__()
        # BEGIN SOLUTION he_init
        sizes = [in_dim] + [width] * depth
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.output = nn.Linear(width, out_dim)
        for layer in [*self.hidden, self.output]:
            nn.init.kaiming_uniform_(layer.weight, nonlinearity="relu")
            nn.init.zeros_(layer.bias)
        # END SOLUTION

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # BEGIN SOLUTION he_init
        x = x.reshape(x.shape[0], -1)
        for layer in self.hidden:
            x = torch.relu(layer(x))
        return self.output(x)
        # END SOLUTION
